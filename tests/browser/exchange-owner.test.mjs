// The owner's journey of the consented data exchange in Chromium, approve then revoke: a fresh
// resident (registered through the administrator's API) enrols a passkey on this browser's
// virtual authenticator (CDP WebAuthn), and their 智方便 session is dropped, so the portal's
// login is a real one: /exchange/consents/{id} → /exchange/login → the OpenID Provider's login
// page → passkey → the one-time consent to the portal → back to the consent. A bank (a data
// consumer registered for the test, lib/exchange.mjs) asks for the resident's data by HKID
// through the signed consumer API; the resident reviews the request (a
// screenshot in each language), agrees, is sent back to the bank's page with the answer, opens
// the dashboard, revokes, and sees it revoked — and so does the bank. Then IADS end to end: a
// resident approves through the same login, the bank fetches balance and transactions and opens
// them with its one-time key (this file's own X25519/HKDF/AES-GCM and ES256, not the server's),
// no other key opens them, and the server's database files hold none of the plaintext.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { launchBrowser, visit, screenshot, clickAndWait, htmlLang, url, LANGS } from './support.mjs';
import { newResident } from './lib/residents.mjs';
import { enrolledBrowser, logInThroughProvider } from './lib/phone.mjs';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  Bank,
  canonicalAad,
  iadsRequest,
  oneTimeKeys,
  openEnvelope,
  verifyDetached,
} from './lib/exchange.mjs';

let browser;
let returnPage;
const returned = [];
before(async () => {
  browser = await launchBrowser();
  // The bank's page the owner is sent back to (http on loopback is allowed for development).
  returnPage = createServer((req, res) => {
    returned.push(new URL(req.url, 'http://127.0.0.1'));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!DOCTYPE html><html lang="en"><title>Bank</title><h1>Thank you</h1></html>');
  });
  await new Promise((resolve) => returnPage.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => returnPage?.close(resolve));
});

const DESKTOP = { viewport: { width: 1280, height: 900 } };

test('an owner signs in through iAM Smart, approves a consent, returns to the bank, revokes it', async () => {
  const bank = await Bank.register();
  const { context, page, resident, cdp, authenticatorId } = await enrolledBrowser(
    browser,
    { english_name: 'HO, Ka Yan', chinese_name: '何嘉欣' },
    DESKTOP,
  );
  try {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1, 'the passkey lives on the virtual authenticator');
    // Forget the 智方便 session: the portal's login must ask for the passkey.
    await context.clearCookies();

    // The bank asks for the resident's balances and transactions, and where to send them back.
    const returnUrl = `http://127.0.0.1:${returnPage.address().port}/consent-done`;
    const asked = await bank.requestConsent(iadsRequest({ hkid: resident.hkid }, 'bank-003', { returnUrl }));
    assert.equal(asked.status, 'PENDING');
    assert.ok(asked.approval_url.endsWith(`/exchange/consents/${asked.id}`), asked.approval_url);
    const reviewPath = new URL(asked.approval_url).pathname;

    // The approval page needs a portal session: the OpenID Provider's login page, a passkey.
    await logInThroughProvider(page, reviewPath, 'exchange-login.png');
    const session = (await context.cookies()).find((c) => c.name === 'bauhinia_portal');
    assert.ok(session?.httpOnly && session.sameSite === 'Lax', 'an HttpOnly, SameSite=Lax portal session');

    // The review page in each language: who, what, why, how long, from whom.
    for (const lang of LANGS) {
      await visit(page, `/prefs?lang=${lang}&next=${encodeURIComponent(reviewPath)}`);
      assert.equal(new URL(page.url()).pathname, reviewPath);
      assert.equal(await htmlLang(page), lang);
      for (const term of ['consumer', 'products', 'purpose', 'providers', 'validity', 'range', 'frequency', 'mode']) {
        assert.ok((await page.locator(`#term-${term}`).innerText()).trim().length > 0, `${lang}: #term-${term}`);
      }
      assert.equal(await page.locator('#consent-status').getAttribute('data-status'), 'pending');
      await screenshot(page, `exchange-review-${lang}.png`);
    }

    // Agree (in English), then back to the bank with the answer.
    await clickAndWait(page, page.locator('#approve'));
    assert.equal(new URL(page.url()).pathname, `${reviewPath}/done`);
    assert.equal(await page.locator('#consent-status').getAttribute('data-status'), 'active');
    await screenshot(page, 'exchange-approved-en.png');
    await clickAndWait(page, page.locator('#return'));
    const back = new URL(page.url());
    assert.equal(`${back.origin}${back.pathname}`, returnUrl, 'returned to the bank');
    assert.equal(back.searchParams.get('consent_id'), asked.id);
    assert.equal(back.searchParams.get('status'), 'ACTIVE');
    assert.equal((await bank.consent(asked.id)).status, 'ACTIVE', 'the bank sees it active');

    // The dashboard: revoke, and it says so.
    await visit(page, '/exchange/consents');
    const item = page.locator(`#consent-${asked.id}`);
    assert.equal(await item.getAttribute('data-status'), 'active');
    await screenshot(page, 'exchange-dashboard-active-en.png');
    await clickAndWait(page, item.locator('button[value="revoke"]'));
    assert.equal(await page.locator(`#consent-${asked.id}`).getAttribute('data-status'), 'revoked');
    assert.match(await page.locator(`#consent-${asked.id} .status`).innerText(), /Revoked/);
    assert.equal(await page.locator(`#consent-${asked.id} button[value="revoke"]`).count(), 0, 'nothing left to revoke');
    await screenshot(page, 'exchange-dashboard-revoked-en.png');
    assert.equal((await bank.consent(asked.id)).status, 'REVOKED', 'the bank sees it revoked');

    // The receipt, as a page and as JSON.
    await visit(page, `${reviewPath}/receipt`);
    assert.match(await page.locator('#receipt-status').innerText(), /REVOKED/);
    const json = await context.request.get(url(`${reviewPath}/receipt.json`));
    assert.equal(json.status(), 200);
    assert.equal((await json.json()).status, 'REVOKED');
  } finally {
    await context.close();
  }
});

test('another resident gets exchange.consent_not_owner; the landing page in three languages', async () => {
  const owner = await newResident({ english_name: 'YIP, Chi Kin', chinese_name: '葉志堅' });
  const bank = await Bank.register();
  const asked = await bank.requestConsent(iadsRequest({ resident: owner.id }, 'bank-003'));
  // Another resident, enrolled on this browser and then signed out of 智方便.
  const { context, page } = await enrolledBrowser(browser, { english_name: 'TSE, Mei Ling', chinese_name: '謝美玲' }, DESKTOP);
  try {
    await context.clearCookies();
    for (const lang of LANGS) {
      await visit(page, `/prefs?lang=${lang}&next=/exchange`);
      assert.equal(await htmlLang(page), lang);
      assert.equal(await page.locator('#sign-in').count(), 1, 'signed out: the sign-in button');
      await screenshot(page, `exchange-landing-${lang}.png`);
    }
    const reviewPath = new URL(asked.approval_url).pathname;
    await logInThroughProvider(page, reviewPath);
    const response = await page.goto(url(reviewPath), { waitUntil: 'load' });
    assert.equal(response.status(), 403);
    assert.equal(await page.locator('#error-code').getAttribute('data-code'), 'exchange.consent_not_owner');
    await screenshot(page, 'exchange-not-owner.png');
  } finally {
    await context.close();
  }
});

/** Every byte of the server's data directory (the database, its write-ahead log, the rest). */
function dataDirectoryBytes(dir = process.env.BAUHINIA_TEST_DATA_DIR) {
  assert.ok(dir, 'BAUHINIA_TEST_DATA_DIR names the server\'s data directory');
  const chunks = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) chunks.push(dataDirectoryBytes(path));
    else if (stat.isFile()) chunks.push(readFileSync(path));
  }
  return Buffer.concat(chunks);
}

test('IADS end to end: approved through iAM Smart, fetched data-blind, opened only by the bank', async () => {
  const provider = 'bank-003';
  const bank = await Bank.register();
  const { context, page, resident } = await enrolledBrowser(browser, { english_name: 'LAU, Wing Sze', chinese_name: '劉詠詩' }, DESKTOP);
  try {
    await context.clearCookies();
    const asked = await bank.requestConsent(iadsRequest({ hkid: resident.hkid }, provider));
    const reviewPath = new URL(asked.approval_url).pathname;
    await logInThroughProvider(page, reviewPath);
    await clickAndWait(page, page.locator('#approve'));
    assert.equal(await page.locator('#consent-status').getAttribute('data-status'), 'active');

    // The bank fetches balance and 30 days of transactions with a one-time key of its own.
    const to = Date.parse(asked.data_range.to);
    const { response, bytes, jti, keys } = await bank.fetchData(
      asked.id, provider, ['iads.balance', 'iads.transactions'], new Date(to - 30 * 86_400_000), new Date(to),
    );
    assert.equal(response.status, 200, bytes.toString());
    // The provider signed exactly these bytes, in answer to this request (its published key).
    const directory = await (await fetch(url(`/api/v1/exchange/participants/${provider}`))).json();
    await verifyDetached(response.headers.get('x-jws-signature'), bytes, directory.jwks, { irt: jti, alg: 'ES256' });
    const answer = JSON.parse(bytes);
    assert.equal(answer.consent, asked.id);
    assert.equal(answer.session, response.headers.get('x-exchange-session'));
    const aad = canonicalAad(asked.id, answer.session);
    const data = JSON.parse(openEnvelope(keys, answer.envelope, aad));
    const balance = data.products['iads.balance'];
    const transactions = data.products['iads.transactions'];
    assert.ok(balance.accounts.length > 0, JSON.stringify(balance));
    const entries = transactions.accounts.flatMap((a) => a.transactions);
    assert.ok(entries.length > 0, JSON.stringify(transactions));

    // The same ciphertext opens with no other key, nor with this key bound to anything else.
    for (let i = 0; i < 10; i += 1) {
      assert.throws(() => openEnvelope(oneTimeKeys(), answer.envelope, aad), `another key ${i}`);
    }
    assert.throws(() => openEnvelope(keys, answer.envelope, canonicalAad(asked.id, 'another-session')));
    assert.throws(() => openEnvelope(keys, answer.envelope, canonicalAad('another-consent', answer.session)));

    // The gateway kept none of it: no payload plaintext anywhere in its database's files.
    const stored = dataDirectoryBytes();
    const needles = [
      JSON.stringify(balance),
      JSON.stringify(transactions),
      ...balance.accounts.map((a) => a.account_number),
      ...entries.slice(0, 50).flatMap((e) => [e.transaction_id, e.fps_reference].filter(Boolean)),
    ];
    assert.ok(needles.length > 10, `enough to look for: ${needles.length}`);
    for (const needle of needles) {
      assert.equal(stored.indexOf(Buffer.from(needle, 'utf8')), -1, `the database holds payload plaintext: ${needle}`);
    }
    // …while the fetch itself is on record (the owner's dashboard shows the use).
    await visit(page, '/exchange/consents');
    assert.equal(await page.locator(`#consent-${asked.id} table.uses tbody tr`).count(), 1, 'the use is listed');
  } finally {
    await context.close();
  }
});
