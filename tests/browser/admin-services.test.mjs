// The administrator's page for 智方便 services: a wrong token is refused; the right one signs
// in; a registration with a bad redirect URI names the problem; a good one shows the client id
// and, once, the secret; the service is listed and can be disabled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newContext, visit, screenshot, clickAndWait } from './support.mjs';

const ADMIN_TOKEN = process.env.BAUHINIA_TEST_ADMIN_TOKEN;
let browser;
before(async () => {
  assert.ok(ADMIN_TOKEN, 'BAUHINIA_TEST_ADMIN_TOKEN is set by scripts/browser-test');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function fillService(page, redirect) {
  await page.fill('input[name="name_zh_hant"]', '運輸署牌照服務');
  await page.fill('input[name="name_zh_hans"]', '运输署牌照服务');
  await page.fill('input[name="name_en"]', 'Transport Department Licensing');
  await page.fill('#redirect_uris', redirect);
  await page.check('input[name="scope"][value="email"]');
  await page.check('input[name="field"][value="email"]');
  await page.fill('input[name="purpose_zh_hant"]', '續領駕駛執照');
  await page.fill('input[name="purpose_zh_hans"]', '续领驾驶执照');
  await page.fill('input[name="purpose_en"]', 'To renew a driving licence');
}

test('an administrator registers and disables a service on the portal', async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  try {
    await visit(page, '/admin');
    await page.fill('#admin-token', 'not-the-token-not-the-token');
    await clickAndWait(page, page.locator('form.admin-login button[type="submit"]'));
    assert.ok(await page.locator('#admin-error').isVisible(), 'a wrong token is refused');
    await page.fill('#admin-token', ADMIN_TOKEN);
    await clickAndWait(page, page.locator('form.admin-login button[type="submit"]'));
    const cookie = (await context.cookies()).find((c) => c.name === 'bauhinia_admin');
    assert.equal(cookie?.sameSite, 'Strict');
    assert.ok(cookie.httpOnly);

    await fillService(page, 'ftp://example.hk/callback');
    await clickAndWait(page, page.locator('#register-service'));
    assert.match(await page.locator('#admin-errors').innerText(), /redirect_uris\/0/);

    await fillService(page, 'https://licensing.example.hk/callback');
    await clickAndWait(page, page.locator('#register-service'));
    const clientId = await page.locator('#new-client-id').innerText();
    assert.match(clientId, /^svc_[0-9a-f]{32}$/);
    assert.match(await page.locator('#new-client-secret').innerText(), /^[A-Za-z0-9_-]{43}$/);
    await screenshot(page, 'admin-service-registered.png');

    const row = page.locator('table.admin-services tr', { hasText: clientId });
    assert.equal(await row.count(), 1, 'listed');
    await clickAndWait(page, row.locator('button[type="submit"]'));
    assert.equal(await page.locator('table.admin-services tr', { hasText: clientId }).locator('button').count(), 0, 'disabled');
    // Reloading shows no secret again.
    await visit(page, '/admin');
    assert.equal(await page.locator('#new-client-secret').count(), 0);
  } finally {
    await context.close();
  }
});
