// The CorpID business dashboard (/business) in Chromium. An administrator and a business of
// the test's own (registered through the operator APIs, so the test never depends on the demo
// data): the administrator enrols a passkey on a virtual authenticator, signs in to the portal
// through the OpenID Provider, opens the business's dashboard (a screenshot), adds a second
// resident as authorised signatory by HKID — first with an HKID that is not registered,
// refused with corpid.resident_not_found in the error summary and not echoed — and the new
// representative, on a phone, signs in and finds the business in their list and on a
// read-only dashboard (screenshots). The representative then signs a document for the business:
// chooses a file on the dashboard (its SHA-256 computed in the browser, the file never sent),
// approves the request in the 智方便 app, finds the signature in the signing history, downloads
// it, and the public verification API says it is valid for that document (screenshots of the
// approval page and of the history in three languages).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { launchBrowser, screenshot, clickAndWait, visit, url, LANGS, DEFAULT_LANG } from './support.mjs';
import { enrolledBrowser, logInThroughProvider } from './lib/phone.mjs';
import { hkidWithCheck } from './lib/residents.mjs';

const ADMIN_TOKEN = process.env.BAUHINIA_TEST_ADMIN_TOKEN;
const DESKTOP = { viewport: { width: 1280, height: 900 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** Registers a business administered by the resident with `hkid`; its BRN (7…, not the demo's 9…). */
async function registerBusiness(hkid) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const brn = `7${String(randomInt(10_000_000)).padStart(7, '0')}`;
    const res = await fetch(url('/api/v1/admin/corpid/businesses'), {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        brn,
        form: 'private_limited_by_shares',
        name_en: 'Kowloon Bay Lanterns Limited (SYNTHETIC)',
        name_zh: '九龍灣燈籠有限公司',
        address: ['Unit 12, 8/F, Harbour Centre', '8 Wang Chiu Road, Kowloon Bay'],
        registered_on: '2019-03-14',
        directors: [{ name_en: 'TAM, Chi Keung', name_zh: '譚志強', appointed_on: '2019-03-14' }],
        administrator_hkid: hkid,
      }),
    });
    const text = await res.text();
    if (res.status === 409 && text.includes('corpid.business_exists')) continue;
    assert.equal(res.status, 201, `registering a business: ${text.slice(0, 400)}`);
    return brn;
  }
  throw new Error('could not draw a free BRN in 5 attempts');
}

/** Shows `path` in each language, with a screenshot `${name}-${lang}.png`; ends in the default language. */
async function inEveryLanguage(page, path, name, check) {
  for (const lang of [...LANGS.filter((l) => l !== DEFAULT_LANG), DEFAULT_LANG]) {
    await visit(page, `/prefs?lang=${lang}&next=${encodeURIComponent(path)}`);
    assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
    await check(lang);
    await screenshot(page, `${name}-${lang}.png`);
  }
}

/** The representative signs `document` for the business `brn` from its dashboard; its SHA-256 (hex). */
async function signFromTheDashboard(page, brn, document) {
  const dashboard = `/business/${brn}`;
  await visit(page, dashboard);
  assert.ok(await page.locator('#sign-form').isVisible(), 'an authorised signatory may sign');
  await page.setInputFiles('#sign-file', { name: 'tenancy-agreement.pdf', mimeType: 'application/pdf', buffer: document });
  await page.locator('#sign-file[data-hashed="true"]').waitFor();
  const expected = createHash('sha256').update(document).digest('hex');
  assert.equal(await page.locator('#sign-hash').inputValue(), expected, 'WebCrypto computed the SHA-256');
  assert.equal(await page.locator('#sign-name').inputValue(), 'tenancy-agreement.pdf');
  await page.selectOption('#sign-type', 'corporate');
  await clickAndWait(page, page.locator('#sign-submit'));
  return expected;
}

test('an administrator adds a representative on the dashboard, who then signs in, sees the business and signs a document for it', async () => {
  const admin = await enrolledBrowser(browser, { english_name: 'TAM, Chi Keung', chinese_name: '譚志強' }, DESKTOP);
  const rep = await enrolledBrowser(browser, { english_name: 'NG, Mei Ling', chinese_name: '吳美玲' }, PHONE);
  try {
    const brn = await registerBusiness(admin.resident.hkid);
    const dashboard = `/business/${brn}`;
    // Forget both 智方便 sessions: the portal's login must ask for the passkey.
    await admin.context.clearCookies();
    await rep.context.clearCookies();

    const page = admin.page;
    await logInThroughProvider(page, dashboard);
    assert.equal(await page.locator('h1#business-name').innerText(), '九龍灣燈籠有限公司');
    assert.equal(await page.locator('#business-brn').innerText(), brn);
    assert.equal(await page.locator('#read-only').count(), 0, 'the administrator may change');
    assert.equal(await page.locator('#history-none').count(), 1, 'no signatures yet');
    await screenshot(page, 'business-dashboard.png');

    // An HKID nobody registered: refused in the error summary, nothing echoed or changed.
    const nobody = hkidWithCheck('ZZ', String(randomInt(1_000_000)).padStart(6, '0'));
    await page.fill('#grant-hkid', nobody);
    await page.selectOption('#grant-role', 'authorised_signatory');
    await clickAndWait(page, page.locator('#grant-submit'));
    const summary = page.locator('#error-summary');
    assert.ok(await summary.isVisible(), 'an error summary');
    assert.equal(await summary.locator('#error-code').getAttribute('data-code'), 'corpid.resident_not_found');
    assert.equal(await page.locator('#grant-hkid').inputValue(), '', 'the HKID is not shown again');
    assert.ok(!(await page.content()).includes(nobody.slice(0, 7)));
    assert.equal(await page.locator('table.representatives tbody tr').count(), 1);
    await screenshot(page, 'business-grant-refused.png');

    // The representative's HKID: added.
    await page.fill('#grant-hkid', rep.resident.hkid);
    await page.selectOption('#grant-role', 'authorised_signatory');
    await clickAndWait(page, page.locator('#grant-submit'));
    assert.ok(await page.locator('#notice').isVisible(), 'a notice says it is done');
    const row = page.locator(`tr[data-resident="${rep.resident.id}"]`);
    assert.equal(await row.getAttribute('data-role'), 'authorised_signatory');
    assert.match(await row.innerText(), /吳美玲/);
    assert.ok(!(await page.content()).includes(rep.resident.hkid), 'the HKID is only ever shown masked');
    await screenshot(page, 'business-dashboard-granted.png');

    // The representative signs in on their phone and finds the business, read-only.
    await logInThroughProvider(rep.page, dashboard);
    assert.ok(await rep.page.locator('#read-only').isVisible());
    assert.equal(await rep.page.locator('#grant-form').count(), 0);
    assert.equal(await rep.page.locator('#my-role').innerText(), '獲授權簽署人');
    await screenshot(rep.page, 'business-dashboard-representative.png');
    await visit(rep.page, '/business');
    const listed = rep.page.locator(`li[data-brn="${brn}"]`);
    assert.equal(await listed.count(), 1, 'the business is in their list');
    assert.match(await listed.innerText(), /九龍灣燈籠有限公司/);
    await screenshot(rep.page, 'business-list.png');

    // The representative signs a document for the business and approves it in the app.
    const document = Buffer.from(`Tenancy agreement for ${brn}: Unit 12, 8/F, two years.\n`);
    const hash = await signFromTheDashboard(rep.page, brn, document);
    let approvalPath = new URL(rep.page.url()).pathname;
    if (approvalPath === '/app') {
      // The portal's login did not leave an app session on this phone: sign in to the app.
      await Promise.all([
        rep.page.waitForNavigation({ waitUntil: 'load', timeout: 20_000 }),
        rep.page.locator('#passkey-login button[type="submit"]').click(),
      ]);
      const listedRequest = rep.page.locator('li.company-signing-request a');
      assert.equal(await listedRequest.count(), 1, 'the app lists the request');
      await clickAndWait(rep.page, listedRequest);
      approvalPath = new URL(rep.page.url()).pathname;
    }
    assert.match(approvalPath, /^\/app\/company-sign\/[0-9a-f-]{36}$/);
    await inEveryLanguage(rep.page, approvalPath, 'business-signing-approval', async () => {
      assert.equal(await rep.page.locator('#business-brn').innerText(), brn);
      assert.equal(await rep.page.locator('#document-hash').innerText(), hash);
      assert.equal(await rep.page.locator('#signing-kind').getAttribute('data-kind'), 'corporate');
      assert.equal(await rep.page.locator('#approvals').getAttribute('data-required'), '1');
    });
    assert.equal(await rep.page.locator('#business-name').innerText(), '九龍灣燈籠有限公司');
    await clickAndWait(rep.page, rep.page.locator('#approve'));
    assert.equal(await rep.page.locator('#company-signing-outcome').getAttribute('data-outcome'), 'approved');
    await screenshot(rep.page, 'business-signing-signed.png');

    // The history shows it signed by the representative; the signature downloads and verifies.
    await clickAndWait(rep.page, rep.page.locator('#outcome-link'));
    const signed = rep.page.locator('table.signing-history tbody tr').first();
    assert.equal(await signed.getAttribute('data-status'), 'approved');
    assert.match(await signed.locator('.signers').innerText(), /吳美玲/);
    await inEveryLanguage(rep.page, dashboard, 'business-signing-history', async (lang) => {
      const words = { 'zh-Hant': '已簽署', 'zh-Hans': '已签署', en: 'Signed' }[lang];
      assert.match(await rep.page.locator('table.signing-history tbody tr').first().innerText(), new RegExp(words));
    });
    await rep.page.locator('#signing-history').scrollIntoViewIfNeeded();
    const [download] = await Promise.all([
      rep.page.waitForEvent('download'),
      rep.page.locator('table.signing-history tbody tr').first().locator('a.download-signature').click(),
    ]);
    const signature = await readFile(await download.path(), 'utf8');
    const res = await fetch(url('/api/corpid/v1/signing/verify'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ signature, document_hash: hash }),
    });
    const report = await res.json();
    assert.equal(res.status, 200, JSON.stringify(report));
    assert.equal(report.valid, true, JSON.stringify(report.errors));
    assert.equal(report.business.brn, brn);
    assert.equal(report.approvals[0].role, 'authorised_signatory');

    // The administrator sees the same signature in the business's history.
    await visit(page, dashboard);
    assert.equal(await page.locator('table.signing-history tbody tr[data-status="approved"]').count(), 1);
    await screenshot(page, 'business-signing-history-administrator.png');
  } finally {
    await admin.context.close();
    await rep.context.close();
  }
});
