// The phone: a phone-sized context with a virtual platform authenticator (CDP WebAuthn), and a
// resident of the test's own (registered through the admin API) enrolled on it with a one-time
// code, typed in as a resident would. The page ends on /app, signed in. `enrolledBrowser` is
// the same in a context of the caller's choosing (a desktop, say).
import assert from 'node:assert/strict';
import { visit, addVirtualAuthenticator, url, screenshot, clickAndWait } from '../support.mjs';
import { newResident, enrolmentCode } from './residents.mjs';

export async function enrolledPhone(browser, fields = {}) {
  return enrolledBrowser(browser, fields, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
}

export async function enrolledBrowser(browser, fields = {}, contextOptions = {}) {
  const resident = await newResident(fields);
  const code = await enrolmentCode(resident.id);
  const context = await browser.newContext({ locale: 'zh-HK', ...contextOptions });
  const page = await context.newPage();
  const { cdp, authenticatorId } = await addVirtualAuthenticator(context, page);
  await visit(page, '/app/enrol');
  await page.fill('#field-hkid', resident.hkid);
  await page.fill('#field-code', code);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/app', { timeout: 20_000 }),
    page.locator('#enrol-form button[type="submit"]').click(),
  ]);
  return { context, page, resident, cdp, authenticatorId };
}

/**
 * Opens `path` (a portal page that needs a session) signed out of the portal: the OpenID Provider's login page,
 * the passkey on this device, the one-time consent to the portal, and back to `path`.
 */
export async function logInThroughProvider(page, path, shot) {
  await page.goto(url(path), { waitUntil: 'load' });
  assert.match(new URL(page.url()).pathname, /^\/oauth2\/interaction\//, 'sent to the OpenID Provider');
  if (shot) await screenshot(page, shot);
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load', timeout: 20_000 }),
    page.locator('#passkey-login button[type="submit"]').click(),
  ]);
  if (await page.locator('form.consent #approve').count()) {
    await clickAndWait(page, page.locator('form.consent #approve'));
  }
  assert.equal(new URL(page.url()).pathname, path, 'back where the login began');
}
