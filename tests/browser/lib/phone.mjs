// The phone: a phone-sized context with a virtual platform authenticator (CDP WebAuthn), and a
// resident of the test's own (registered through the admin API) enrolled on it with a one-time
// code, typed in as a resident would. The page ends on /app, signed in.
import { visit } from '../support.mjs';
import { newResident, enrolmentCode } from './residents.mjs';

export async function enrolledPhone(browser, fields = {}) {
  const resident = await newResident(fields);
  const code = await enrolmentCode(resident.id);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-HK' });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  await visit(page, '/app/enrol');
  await page.fill('#field-hkid', resident.hkid);
  await page.fill('#field-code', code);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/app', { timeout: 20_000 }),
    page.locator('#enrol-form button[type="submit"]').click(),
  ]);
  return { context, page, resident };
}
