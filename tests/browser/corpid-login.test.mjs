// 数码企业身份 CorpID: corporate login seen by a real relying party, panva's `openid-client`, on a
// FAPI 2.0 service registered for the `corpid` scope (PAR + PKCE + private_key_jwt + DPoP).
//   1. A representative of one business logs in for it: the ID token, userinfo and
//      introspection carry its BRN, names and the person's role; `sub` is the person's
//      pairwise identifier.
//   2. A representative of two businesses must choose one; the tokens carry the chosen one.
//   3. Corporate form filling: a service registered for `corpid.particulars` and
//      `corpid.licences` receives the business's form, status, registered address and date in
//      userinfo (and in the ID token where its `claims` parameter asks), and only the licences
//      the business marked shared; the consent page lists that data in three languages.
//   4. After the business's administrator revokes the representative, the refresh token is
//      refused (invalid_grant), userinfo refuses the access token, and a new login for the
//      business ends with access_denied.
// Businesses and residents are this test's own: registered through the operator APIs with
// random BRNs and HKIDs, so the test never depends on the demo data.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import * as client from 'openid-client';
import { ADMIN_TOKEN, BASE_URL, REDIRECT_URI, clientKey, http, registerService } from './lib/oidc.mjs';
import { Resident, consentForm, hiddenInputs } from './lib/front-channel.mjs';
import { launchBrowser, newContext, screenshot } from './support.mjs';

let chan; // administrator of both businesses
let lee; // a user of the first business only
const businesses = []; // the registered business documents, in order

/** A BRN no other test run uses (8 digits, starting 7: the demo directory's start with 9). */
function randomBrn() {
  return `7${String(randomInt(10_000_000)).padStart(7, '0')}`;
}

async function registerBusiness(fields) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const brn = randomBrn();
    const res = await http('/api/v1/admin/corpid/businesses', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ brn, ...fields }),
    });
    const text = await res.text();
    if (res.status === 409 && text.includes('corpid.business_exists')) continue;
    assert.equal(res.status, 201, `registering business ${brn}: ${text.slice(0, 400)}`);
    const doc = JSON.parse(text);
    businesses.push(doc);
    return doc;
  }
  throw new Error('could not draw a free BRN in 5 attempts');
}

/** A call to the business administrator's API with the resident's signed-in session. */
async function asRepresentative(resident, method, path, body) {
  const res = await resident.jar.fetch(path, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
}

function discover(clientId, key) {
  return client.discovery(new URL(BASE_URL), clientId, {}, client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
}

/** A corporate service and what a relying party keeps for one login. */
const BUSINESS_FIELDS = ['corp_form', 'corp_status', 'corp_address', 'corp_registered_on', 'corp_licences'];

async function corporateService({ formFilling = false } = {}) {
  const key = await clientKey('ES256');
  const scopes = formFilling ? ['openid', 'corpid', 'corpid.particulars', 'corpid.licences'] : ['openid', 'corpid'];
  const fields = formFilling ? BUSINESS_FIELDS : [];
  const service = await registerService({ profile: 'fapi2', key, scopes, fields, name: 'Corporate service' });
  const config = await discover(service.id, key);
  return { service, config };
}

async function login(config, resident, { business, scope = 'openid corpid', claims, uncheck } = {}) {
  const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(
    config,
    {
      redirect_uri: REDIRECT_URI,
      scope,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(claims ? { claims: JSON.stringify(claims) } : {}),
    },
    { DPoP },
  );
  const walked = await resident.authorize(url, { business, uncheck });
  return { ...walked, DPoP, verifier, state, nonce };
}

async function redeem(config, flow) {
  return client.authorizationCodeGrant(
    config,
    flow.callback,
    { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true },
    undefined,
    { DPoP: flow.DPoP },
  );
}

function assertCorporateClaims(claims, business, role, what) {
  assert.equal(claims.corp_brn, business.brn, `${what}: corp_brn`);
  assert.equal(claims.corp_name_en, business.name_en, `${what}: corp_name_en`);
  assert.equal(claims.corp_name_zh, business.name_zh, `${what}: corp_name_zh`);
  assert.equal(claims.corp_role, role, `${what}: corp_role`);
  assert.equal('corp_agent_brn' in claims, false, `${what}: no agent`);
}

before(async () => {
  chan = await Resident.fresh({ english_name: 'CHAN, Tai Man', chinese_name: '陳大文' });
  lee = await Resident.fresh({ english_name: 'LEE, Ka Chun', chinese_name: '李家俊' });
  await chan.enrol();
  await lee.enrol();
  const common = { address: ['Unit 1203, 12/F, 8 Science Park West Avenue', 'Sha Tin, New Territories'], registered_on: '2019-04-01' };
  await registerBusiness({
    ...common,
    form: 'private_limited_by_shares',
    name_en: 'Harbour Lantern Trading Limited (synthetic)',
    name_zh: '港燈貿易有限公司（合成）',
    administrator_hkid: chan.hkid,
  });
  await registerBusiness({
    ...common,
    form: 'sole_proprietorship',
    name_en: 'Kowloon Tong Bakery (synthetic)',
    name_zh: '九龍塘餅店（合成）',
    administrator_hkid: chan.hkid,
  });
  // The administrator signs in to the portal and grants the first business a user.
  await chan.signIn();
  const [first] = businesses;
  const granted = await asRepresentative(chan, 'POST', `/api/v1/corpid/businesses/${first.brn}/representatives`, {
    hkid: lee.hkid,
    role: 'user',
  });
  assert.equal(granted.status, 204, `granting a user: ${granted.status} ${granted.text.slice(0, 300)}`);
});

test('corpid with openid-client: a representative of one business logs in for it and the claims are right', async (t) => {
  const { service, config } = await corporateService();
  assert.ok(config.serverMetadata().scopes_supported.includes('corpid'), 'discovery lists corpid');
  const [first] = businesses;

  const flow = await login(config, lee);
  assert.deepEqual(flow.businesses, [first.id], 'the one business is shown, already chosen');
  const tokens = await redeem(config, flow);
  const id = tokens.claims();
  assertCorporateClaims(id, first, 'user', 'ID token');
  assert.notEqual(id.sub, lee.residentId, 'sub is pairwise, not the resident id');
  assert.equal(id.aud, service.id);

  const info = await client.fetchUserInfo(config, tokens.access_token, id.sub, { DPoP: flow.DPoP });
  assertCorporateClaims(info, first, 'user', 'userinfo');
  const live = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(live.active, true);
  assert.equal(live.corp_brn, first.brn, 'introspection: corp_brn');
  t.diagnostic(`lee logged in for ${first.brn} as user; sub ${id.sub.slice(0, 8)}…`);
});

test('corpid with openid-client: a representative of two businesses must choose, and gets the chosen one', async (t) => {
  const { config } = await corporateService();
  const [first, second] = businesses;
  const flow = await login(config, chan, { business: second.id });
  assert.deepEqual([...flow.businesses].sort(), [first.id, second.id].sort(), 'both businesses offered');
  const tokens = await redeem(config, flow);
  assertCorporateClaims(tokens.claims(), second, 'administrator', 'ID token');
  const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub, { DPoP: flow.DPoP });
  assertCorporateClaims(info, second, 'administrator', 'userinfo');

  // A consent form sent without a choice approves nothing.
  const pending = await client.buildAuthorizationUrlWithPAR(
    config,
    {
      redirect_uri: REDIRECT_URI,
      scope: 'openid corpid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: client.randomState(),
    },
    { DPoP: client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256')) },
  );
  const id = await chan.startAuthorization(pending);
  const { html } = await chan.consentPage(id);
  const form = consentForm(html, id);
  const radios = form.inputs.filter((i) => i.name === 'business' && i.type === 'radio');
  assert.equal(radios.length, 2, 'two businesses to choose from');
  assert.ok(radios.every((r) => !('checked' in r) && 'required' in r), 'neither is chosen for the resident; a choice is required');
  // The same page in Chromium, with the resident's cookies: the choice in three languages.
  const browser = await launchBrowser();
  try {
    const context = await newContext(browser);
    await context.addCookies(chan.jar.forBrowser());
    const page = await context.newPage();
    for (const lang of ['zh-Hant', 'zh-Hans', 'en']) {
      await page.goto(`${BASE_URL}/prefs?lang=${lang}&next=${encodeURIComponent(`/oauth2/interaction/${id}`)}`);
      assert.equal(await page.locator('input[name="business"]').count(), 2, `${lang}: two choices`);
      for (const b of [first, second]) {
        const name = lang === 'en' ? b.name_en : b.name_zh;
        assert.ok(await page.getByText(name).isVisible(), `${lang}: ${name} is shown`);
      }
      await screenshot(page, `corpid-choose-business-${lang}`);
    }
  } finally {
    await browser.close();
  }
  const unchosen = await chan.decide(id, [], 'approve', hiddenInputs(form));
  await unchosen.text();
  assert.equal(unchosen.status, 400, 'an approval naming no business is refused');
  assert.equal(await chan.status(id), 'pending', 'and nothing was approved');

  // The next login, the same person chooses the other business.
  const again = await login(config, chan, { business: first.id });
  const other = await redeem(config, again);
  assertCorporateClaims(other.claims(), first, 'administrator', 'the other choice');
  assert.equal(other.claims().sub, tokens.claims().sub, 'the same person for the same service, whichever business');
  t.diagnostic(`chan chose ${second.brn}, then ${first.brn}`);
});

test('corpid with openid-client: corporate form filling releases the particulars and only shared licences', async (t) => {
  const { config } = await corporateService({ formFilling: true });
  const discovered = config.serverMetadata();
  for (const scope of ['corpid.particulars', 'corpid.licences']) {
    assert.ok(discovered.scopes_supported.includes(scope), `discovery lists ${scope}`);
  }
  for (const claim of BUSINESS_FIELDS) assert.ok(discovered.claims_supported.includes(claim), `discovery lists ${claim}`);
  const [first] = businesses;
  // The administrator keeps two licences: one shared with services, one not.
  for (const [number, shared] of [['SHARED-LIC-1', true], ['PRIVATE-LIC-1', false]]) {
    const added = await asRepresentative(chan, 'POST', `/api/v1/corpid/businesses/${first.brn}/licences`, {
      licence_type: 'Restricted Food Permit',
      number,
      issuer: 'Food and Environmental Hygiene Department',
      valid_from: '2025-09-01',
      valid_until: '2026-08-31',
      status: 'valid',
      shared,
    });
    assert.equal(added.status, 201, `adding licence ${number}: ${added.status} ${added.text.slice(0, 300)}`);
  }

  const flow = await login(config, lee, {
    scope: 'openid corpid corpid.particulars corpid.licences',
    claims: { id_token: { corp_form: null, corp_status: null } },
    uncheck: ['corp_registered_on'],
  });
  assert.deepEqual([...flow.offered].sort(), [...BUSINESS_FIELDS].sort(), 'the consent page offers every field asked for');
  const tokens = await redeem(config, flow);
  const id = tokens.claims();
  assertCorporateClaims(id, first, 'user', 'ID token');
  assert.equal(id.corp_form, 'private_limited_by_shares', 'ID token: corp_form (asked through claims)');
  assert.equal(id.corp_status, 'active', 'ID token: corp_status');
  assert.equal('corp_licences' in id, false, 'ID token: licences only where asked');

  const info = await client.fetchUserInfo(config, tokens.access_token, id.sub, { DPoP: flow.DPoP });
  assertCorporateClaims(info, first, 'user', 'userinfo');
  assert.equal(info.corp_form, 'private_limited_by_shares');
  assert.deepEqual(info.corp_address, first.address, 'userinfo: the registered address, line by line');
  assert.equal('corp_registered_on' in info, false, 'an unticked field is not released');
  assert.deepEqual(
    info.corp_licences.map((l) => [l.type, l.number, l.issuer, l.valid_from, l.valid_until, l.status]),
    [['Restricted Food Permit', 'SHARED-LIC-1', 'Food and Environmental Hygiene Department', '2025-09-01', '2026-08-31', 'valid']],
    'userinfo: only the shared licence',
  );
  assert.ok(!JSON.stringify(info).includes('PRIVATE-LIC-1'), 'the licence kept private is never released');

  // The consent page in Chromium: the business's data under its own legend, in three languages.
  const pending = await client.buildAuthorizationUrlWithPAR(
    config,
    {
      redirect_uri: REDIRECT_URI,
      scope: 'openid corpid corpid.particulars corpid.licences',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: client.randomState(),
      prompt: 'consent',
    },
    { DPoP: client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256')) },
  );
  const interaction = await lee.startAuthorization(pending);
  const browser = await launchBrowser();
  try {
    const context = await newContext(browser);
    await context.addCookies(lee.jar.forBrowser());
    const page = await context.newPage();
    for (const [lang, legend] of [
      ['zh-Hant', '選擇要提供的企業資料'],
      ['zh-Hans', '选择要提供的企业资料'],
      ['en', "Choose the business's data to provide"],
    ]) {
      await page.goto(`${BASE_URL}/prefs?lang=${lang}&next=${encodeURIComponent(`/oauth2/interaction/${interaction}`)}`);
      assert.ok(await page.getByText(legend).isVisible(), `${lang}: the business's data has its legend`);
      assert.equal(await page.locator('#business-fields input[name="field"]').count(), BUSINESS_FIELDS.length, `${lang}: every field listed`);
      await screenshot(page, `corpid-form-filling-${lang}`);
    }
  } finally {
    await browser.close();
  }
  t.diagnostic(`lee released ${first.brn}'s particulars and 1 of 2 licences`);
});

test('corpid with openid-client: after revocation, the business is refused at refresh, userinfo and login', async (t) => {
  const { config } = await corporateService();
  const [first] = businesses;
  const flow = await login(config, lee);
  const tokens = await redeem(config, flow);
  assert.equal(tokens.claims().corp_brn, first.brn);

  const revoked = await asRepresentative(chan, 'DELETE', `/api/v1/corpid/businesses/${first.brn}/representatives/${lee.residentId}`);
  assert.equal(revoked.status, 204, `revoking: ${revoked.status} ${revoked.text.slice(0, 300)}`);

  await assert.rejects(
    client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub, { DPoP: flow.DPoP }),
    (e) => e instanceof client.WWWAuthenticateChallengeError && e.cause?.[0]?.parameters?.error === 'invalid_token',
    'userinfo refuses the token of a revoked representative',
  );
  await assert.rejects(
    client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: flow.DPoP }),
    (e) => e instanceof client.ResponseBodyError && e.error === 'invalid_grant',
    'refresh is refused with invalid_grant',
  );
  assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false, 'the grant is revoked');

  const refused = await login(config, lee);
  assert.equal(refused.callback.searchParams.get('error'), 'access_denied', 'a new corporate login ends with access_denied');
  assert.match(refused.callback.searchParams.get('error_description') ?? '', /representative/);
  t.diagnostic(`lee revoked from ${first.brn}: userinfo invalid_token, refresh invalid_grant, login access_denied`);
});
