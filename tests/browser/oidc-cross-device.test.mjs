// Cross-device login in Chromium, with two pages: a service's desktop page (a real relying
// party built with openid-client, served by this test on localhost) that sends the browser to
// 智方便 and shows the QR code, and the 智方便 app on a phone-sized page holding a passkey in
// Chromium's virtual authenticator. The phone opens the request, approves (or rejects), and the
// desktop page continues on its own. Screenshots in target/screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as client from 'openid-client';
import { BASE_URL, launchBrowser, visit, screenshot } from './support.mjs';
import { enrolledPhone as enrolledPhoneIn } from './lib/phone.mjs';

const ADMIN_TOKEN = process.env.BAUHINIA_TEST_ADMIN_TOKEN;
let browser;
let rp;

/** A basic relying party on a free localhost port: /login starts, /cb finishes. */
async function startRelyingParty() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://localhost:${server.address().port}`;
  const registration = await fetch(`${BASE_URL}/api/identity/v1/admin/services`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: { 'zh-Hant': '差餉物業估價署網上服務', 'zh-Hans': '差饷物业估价署网上服务', en: 'Rating and Valuation e-Services' },
      profile: 'basic',
      redirect_uris: [`${base}/cb`],
      scopes: ['openid', 'profile', 'email'],
      fields: ['english_name', 'chinese_name', 'date_of_birth', 'gender', 'email'],
      purpose: { 'zh-Hant': '核實業主身份', 'zh-Hans': '核实业主身份', en: "To verify the owner's identity" },
    }),
  });
  assert.equal(registration.status, 201, await registration.clone().text());
  const { client_id, client_secret } = await registration.json();
  const config = await client.discovery(new URL(BASE_URL), client_id, undefined, client.ClientSecretBasic(client_secret), {
    execute: [client.allowInsecureRequests],
  });
  const pending = new Map();
  server.on('request', async (req, res) => {
    const url = new URL(req.url, base);
    try {
      if (url.pathname === '/login') {
        const verifier = client.randomPKCECodeVerifier();
        const state = client.randomState();
        const nonce = client.randomNonce();
        pending.set(state, { verifier, nonce });
        const target = client.buildAuthorizationUrl(config, {
          redirect_uri: `${base}/cb`,
          scope: 'openid profile email',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        });
        res.writeHead(302, { location: target.href }).end();
      } else if (url.pathname === '/cb') {
        const error = url.searchParams.get('error');
        if (error) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(`<h1 id="result">error: ${error}</h1><p id="detail">${url.searchParams.get('error_description')}</p>`);
          return;
        }
        const { verifier, nonce } = pending.get(url.searchParams.get('state')) ?? {};
        const tokens = await client.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: verifier,
          expectedState: url.searchParams.get('state'),
          expectedNonce: nonce,
        });
        const claims = tokens.claims();
        const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<h1 id="result">welcome ${info.english_name}</h1><p id="acr">${claims.acr}</p><p id="chinese">${info.chinese_name}</p>`);
      } else {
        res.writeHead(404).end();
      }
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e?.stack ?? e));
    }
  });
  return { server, base };
}

before(async () => {
  assert.ok(ADMIN_TOKEN, 'BAUHINIA_TEST_ADMIN_TOKEN is set by scripts/browser-test');
  browser = await launchBrowser();
  rp = await startRelyingParty();
});
after(async () => {
  await browser?.close();
  rp?.server.close();
});

/** The phone, with a resident of the test's own enrolled on it. */
function enrolledPhone(names) {
  return enrolledPhoneIn(browser, names);
}

/** The desktop: opens the service and is sent to 智方便's login page with the QR code. */
async function desktopAtLogin() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-HK' });
  const page = await context.newPage();
  await page.goto(`${rp.base}/login`);
  await page.waitForURL((u) => u.pathname.startsWith('/oauth2/interaction/'));
  assert.equal(await page.locator('.qr svg').count(), 1, 'a QR code is shown');
  const appLink = await page.locator('#app-link').getAttribute('href');
  assert.ok(appLink.startsWith(`${BASE_URL}/app/approve/`), appLink);
  return { context, page, appLink };
}

test('cross-device login: the app approves, the desktop page continues to the service', async () => {
  const phone = await enrolledPhone({ english_name: 'WONG, Siu Ling', chinese_name: '黃小玲' });
  const desktop = await desktopAtLogin();
  try {
    await screenshot(desktop.page, 'cross-device-desktop-qr.png');
    await visit(phone.page, new URL(desktop.appLink).pathname);
    assert.match(await phone.page.locator('#service-name').innerText(), /差餉物業估價署/);
    const fields = await phone.page.locator('input[name="field"]').evaluateAll((inputs) => inputs.map((i) => i.value));
    assert.deepEqual(fields.sort(), ['chinese_name', 'date_of_birth', 'email', 'english_name', 'gender']);
    await screenshot(phone.page, 'cross-device-app-approve.png');
    await Promise.all([phone.page.waitForLoadState('load'), phone.page.locator('#approve').click()]);
    await phone.page.waitForSelector('#message-title');
    assert.match(await phone.page.locator('#message-title').innerText(), /已確認/);
    // The desktop page was polling: it goes on to the service by itself.
    await desktop.page.waitForURL((u) => u.href.startsWith(`${rp.base}/cb`), { timeout: 20_000 });
    assert.equal(await desktop.page.locator('#result').innerText(), 'welcome WONG, Siu Ling');
    assert.equal(await desktop.page.locator('#acr').innerText(), 'urn:bauhinia:acr:passkey');
    assert.equal(await desktop.page.locator('#chinese').innerText(), '黃小玲');
    await screenshot(desktop.page, 'cross-device-desktop-done.png');
  } finally {
    await phone.context.close();
    await desktop.context.close();
  }
});

test('cross-device login: a rejection in the app ends the desktop login with access_denied', async () => {
  const phone = await enrolledPhone({ english_name: 'CHAN, Tai Man', chinese_name: '陳大文' });
  const desktop = await desktopAtLogin();
  try {
    await visit(phone.page, new URL(desktop.appLink).pathname);
    await Promise.all([phone.page.waitForLoadState('load'), phone.page.locator('#reject').click()]);
    await phone.page.waitForSelector('#message-title');
    assert.match(await phone.page.locator('#message-title').innerText(), /已拒絕/);
    await desktop.page.waitForURL((u) => u.href.startsWith(`${rp.base}/cb`), { timeout: 20_000 });
    assert.equal(await desktop.page.locator('#result').innerText(), 'error: access_denied');
    assert.match(await desktop.page.locator('#detail').innerText(), /rejected/);
    // The app link is now spent.
    await visit(phone.page, new URL(desktop.appLink).pathname);
    assert.match(await phone.page.locator('#message-title').innerText(), /已拒絕/);
  } finally {
    await phone.context.close();
    await desktop.context.close();
  }
});

test('cross-device login: cancelling on the desktop ends it, and the app can no longer approve', async () => {
  const phone = await enrolledPhone({ english_name: 'CHEUNG, Mei Kuen', chinese_name: '張美娟' });
  const desktop = await desktopAtLogin();
  try {
    await desktop.page.locator('#cancel').click();
    await desktop.page.waitForURL((u) => u.href.startsWith(`${rp.base}/cb`), { timeout: 20_000 });
    assert.equal(await desktop.page.locator('#result').innerText(), 'error: access_denied');
    assert.match(await desktop.page.locator('#detail').innerText(), /cancelled/);
    const response = await phone.page.goto(desktop.appLink);
    assert.equal(response.status(), 409);
    assert.ok((await phone.page.locator('#message-title').innerText()).length > 0, 'a clear message');
  } finally {
    await phone.context.close();
    await desktop.context.close();
  }
});
