// The 智方便 app pages in Chromium with its virtual authenticator (CDP WebAuthn domain: a
// CTAP2 platform authenticator with resident keys and user verification): a demo resident
// gets an enrolment code on /app/enrol, creates a passkey and lands signed in on /app; signs
// out; signs in again with the passkey alone. Phone-sized screenshots in target/screenshots.
// Demo resident used here: LEE Ka Chun (李家俊).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, visit, screenshot, clickAndWait, addVirtualAuthenticator } from './support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** A phone-sized context in Hong Kong Chinese, with a virtual passkey authenticator. */
async function phone() {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-HK',
  });
  const page = await context.newPage();
  const { cdp, authenticatorId } = await addVirtualAuthenticator(context, page);
  return { context, page, cdp, authenticatorId };
}

/** Submits a passkey form and waits for the page the script goes to afterwards. */
async function runCeremony(page, form, expectedPath) {
  await Promise.all([
    page.waitForURL((u) => u.pathname === expectedPath, { timeout: 20_000 }),
    page.locator(`${form} button[type="submit"]`).click(),
  ]).catch(async (error) => {
    const status = await page.locator('#passkey-status').innerText().catch(() => '');
    throw new Error(`${form}: ${error.message}; status shown: ${status}`);
  });
  await page.waitForLoadState('load');
}

test('enrol with a passkey, sign out, sign in again (virtual authenticator)', async () => {
  const { context, page, cdp, authenticatorId } = await phone();
  try {
    // Signed out, the app offers sign-in and enrolment.
    await visit(page, '/app');
    assert.ok(await page.locator('#passkey-login').isVisible(), 'the sign-in button is shown (the script ran)');
    await screenshot(page, 'app-signed-out.png');

    // Enrolment: a demo code fills in the form; the passkey is created on the device.
    await clickAndWait(page, page.locator('a[href="/app/enrol"]').first());
    const lee = page.locator('li.demo-resident', { hasText: '李家俊' });
    assert.equal(await lee.count(), 1, 'LEE Ka Chun is a demo resident');
    await clickAndWait(page, lee.locator('button[type="submit"]'));
    assert.match(await page.locator('#demo-code').innerText(), /^\d{8}$/);
    assert.match(await page.locator('#field-hkid').inputValue(), /^K704291\(.\)$/);
    await page.locator('#field-passkey-name').fill('我的手機');
    await screenshot(page, 'app-enrol-filled.png');
    await runCeremony(page, '#enrol-form', '/app');

    assert.match(await page.locator('#greeting').innerText(), /李家俊/);
    assert.deepEqual(await page.locator('.passkey-name').allInnerTexts(), ['我的手機']);
    assert.equal(await page.locator('#requests').count(), 1, 'the place for pending requests');
    await screenshot(page, 'app-signed-in.png');

    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1, 'one credential on the device');
    assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential');

    // Sign out (a plain form), then sign in with the passkey alone.
    await clickAndWait(page, page.locator('#sign-out'));
    assert.equal(new URL(page.url()).searchParams.get('notice'), 'signed_out');
    assert.ok(await page.locator('#passkey-login').isVisible());
    assert.deepEqual(
      (await context.cookies()).filter((c) => c.name === 'bauhinia_session'),
      [],
      'the session cookie is gone',
    );
    await runCeremony(page, '#passkey-login', '/app');
    assert.match(await page.locator('#greeting').innerText(), /李家俊/);
    const session = (await context.cookies()).find((c) => c.name === 'bauhinia_session');
    assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(session.sameSite, 'Lax');
    const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.ok(after.credentials[0].signCount >= 1, 'the device counted the signature');
    assert.match(await page.locator('.passkey .meta').first().innerText(), /最後使用/);
    await screenshot(page, 'app-signed-in-again.png');
  } finally {
    await context.close();
  }
});

test('a device without user verification cannot enrol', async () => {
  const { context, page, cdp, authenticatorId } = await phone();
  try {
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    await visit(page, '/app/enrol');
    const cheung = page.locator('li.demo-resident', { hasText: '張美娟' });
    await clickAndWait(page, cheung.locator('button[type="submit"]'));
    const before = page.url();
    await page.locator('#enrol-form button[type="submit"]').click();
    const status = page.locator('#passkey-status.error');
    await status.waitFor({ timeout: 20_000 });
    assert.ok((await status.innerText()).trim().length > 0, 'the failure is shown');
    assert.equal(page.url(), before, 'still on the enrol page');
    assert.equal(await page.locator('#greeting').count(), 0, 'not signed in');
    await screenshot(page, 'app-enrol-refused.png');
  } finally {
    await context.close();
  }
});
