// The OpenID Provider's negative security suite: each case sends one request an attacker (or a
// broken service) would send, and checks the exact OAuth/OIDC error and that no token (nor
// code, nor request_uri) came back. Where a refusal could be a side effect of something else
// being wrong, the case then sends the corrected request and shows it succeeds. Requests are
// made raw, with client assertions and DPoP proofs signed by `jose`; the tampered ID tokens are
// caught by `openid-client` itself (a changed claim by its signature check against the JWKS,
// which it makes only when asked to, as OIDC Core 3.1.3.7 lets a client trust the token
// endpoint's TLS; a changed audience by its claim checks, which it always makes).
//
// Cases run concurrently: the two expiry cases wait out the code's (60 s) and the pushed
// request's (90 s) lifetimes while the others run, so the file takes about 95 s.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import {
  BASE_URL,
  ISSUER,
  PROFILE_FIELDS,
  assertOAuthError,
  assertUserinfoRefused,
  authorizationUrlFor,
  backChannel,
  b64url,
  clientAssertion,
  clientKey,
  dpopKey,
  dpopProof,
  endpointUrl,
  hs256Jwt,
  introspect,
  now,
  push,
  randomValue,
  registerService,
  s256,
  sleep,
  unsignedJwt,
  userinfo,
} from './lib/oidc.mjs';
import { Resident, callbackParams, consentForm, hiddenInputs, unescapeHtml } from './lib/front-channel.mjs';

const CODE_TTL_S = 60;
const PAR_TTL_S = 90;

// A resident of this test's own (registered through the admin API; see lib/residents.mjs).
let resident;
let fapi; // FAPI 2.0 service: scopes profile + email; fields profile, email, mobile (not hkid)
let otherFapi; // a second FAPI 2.0 service
let basic; // a basic service (client_secret_basic)

/** Pushes (with DPoP), walks the front channel, and returns the code and what redeems it. */
async function codeFor(service, { dpop, params = {}, uncheck = [] } = {}) {
  dpop ??= await dpopKey();
  const pushed = await push(service, { dpop, params });
  assert.equal(pushed.answer.status, 201, `PAR: 201 (body ${pushed.answer.text.slice(0, 300)})`);
  const url = await authorizationUrlFor(service, pushed.answer.body.request_uri);
  const { callback } = await resident.authorize(url, { uncheck });
  const { code, state, iss } = callbackParams(callback);
  assert.equal(state, pushed.state, 'the callback carries our state');
  assert.equal(iss, ISSUER, 'the callback carries iss');
  return { service, code, callback, dpop, verifier: pushed.verifier, nonce: pushed.nonce, state: pushed.state, redirectUri: pushed.redirectUri };
}

/** The token request redeeming `flow`'s code; `proof: null` sends no DPoP header. */
async function redeem(flow, { service = flow.service, dpop = flow.dpop, proof, params = {}, assertion } = {}) {
  const all = {
    grant_type: 'authorization_code',
    code: flow.code,
    redirect_uri: flow.redirectUri,
    code_verifier: flow.verifier,
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v === undefined) delete all[k];
  if (proof === undefined) proof = await dpopProof(dpop, { htu: await endpointUrl('token_endpoint') });
  return backChannel('token_endpoint', service, all, { dpop: proof ?? undefined, assertion });
}

async function refresh(service, refreshToken, { dpop, proof, assertion } = {}) {
  if (proof === undefined && dpop) proof = await dpopProof(dpop, { htu: await endpointUrl('token_endpoint') });
  return backChannel(
    'token_endpoint',
    service,
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    { dpop: proof ?? undefined, assertion },
  );
}

function assertTokens(answer, what) {
  assert.equal(answer.status, 200, `${what}: 200 (body ${answer.text.slice(0, 300)})`);
  assert.ok(answer.body.access_token, `${what}: an access token`);
  assert.ok(answer.body.refresh_token, `${what}: a refresh token`);
  return answer.body;
}

/** Asserts an authorization request refused without a redirect (the client or redirect URI cannot be trusted). */
async function expectAuthorizeRefused(url, error, what) {
  const res = await resident.jar.fetch(url);
  const text = await res.text();
  assert.equal(res.status, 400, `${what}: HTTP status (body ${text.slice(0, 300)})`);
  assert.equal(res.headers.get('location'), null, `${what}: not redirected to the service`);
  assert.ok(
    !res.headers.getSetCookie().some((c) => c.startsWith('bauhinia_interaction=')),
    `${what}: no interaction started`,
  );
  if (/^application\/json\b/.test(res.headers.get('content-type') ?? '')) {
    const body = JSON.parse(text);
    assert.equal(body.error, error, `${what}: error code`);
    return `${body.error}: ${body.error_description}`;
  }
  const shown = text.match(new RegExp(`${error}\\b[^<]*`));
  assert.ok(shown, `${what}: the error page names the error ${error} (page ${text.slice(0, 300)})`);
  return unescapeHtml(shown[0]);
}

async function pushRefused(service, params, error, what, options = {}) {
  const bad = await push(service, { params, ...options });
  const description = assertOAuthError(bad.answer, error, error === 'invalid_client' ? 401 : 400, what);
  return description;
}

async function pushAccepted(service, params = {}, options = {}) {
  const good = await push(service, { params, ...options });
  assert.equal(good.answer.status, 201, `control: the corrected request is accepted (body ${good.answer.text.slice(0, 300)})`);
  assert.match(good.answer.body.request_uri, /^urn:ietf:params:oauth:request_uri:/);
}

describe('OpenID Provider: negative security suite', { concurrency: true }, () => {
  before(async () => {
    [fapi, otherFapi, basic] = await Promise.all([
      registerService({ profile: 'fapi2', scopes: ['openid', 'profile', 'email'], fields: [...PROFILE_FIELDS, 'email', 'mobile'] }),
      registerService({ profile: 'fapi2', name: 'Another FAPI service' }),
      registerService({ profile: 'basic', name: 'Basic service' }),
    ]);
    resident = await Resident.fresh({ english_name: 'WONG, Siu Ling', chinese_name: '黃小玲', date_of_birth: '1992-07-15' });
    await resident.enrol();
    await resident.signIn();
  });

  // ---- lifetimes (these two wait; everything else runs meanwhile) -----------------------------

  test('PAR request_uri expired → invalid_request_uri', async (t) => {
    const pushed = await push(fapi, { dpop: await dpopKey() });
    assert.equal(pushed.answer.status, 201);
    assert.equal(pushed.answer.body.expires_in, PAR_TTL_S, 'the request URI lives 90 s');
    await sleep((PAR_TTL_S + 2) * 1000);
    const shown = await expectAuthorizeRefused(await authorizationUrlFor(fapi, pushed.answer.body.request_uri), 'invalid_request_uri', 'expired request_uri');
    t.diagnostic(`${PAR_TTL_S + 2} s after the push: ${shown}`);
  });

  test('authorization code expired → invalid_grant', async (t) => {
    const flow = await codeFor(fapi);
    await sleep((CODE_TTL_S + 2) * 1000);
    const description = assertOAuthError(await redeem(flow), 'invalid_grant', 400, 'expired code');
    t.diagnostic(`${CODE_TTL_S + 2} s later: ${description}`);
  });

  // ---- redirect URI -----------------------------------------------------------------------------

  test('PAR with an unregistered redirect_uri → invalid_request', async (t) => {
    t.diagnostic(await pushRefused(fapi, { redirect_uri: 'https://attacker.example/callback' }, 'invalid_request', 'redirect_uri mismatch'));
    await pushAccepted(fapi);
  });

  test('authorize (basic service) with an unregistered redirect_uri → invalid_request, shown, not redirected', async (t) => {
    const url = new URL(await endpointUrl('authorization_endpoint'));
    for (const [k, v] of Object.entries({
      client_id: basic.id,
      redirect_uri: 'https://attacker.example/callback',
      response_type: 'code',
      scope: 'openid profile',
      code_challenge: s256(randomValue()),
      code_challenge_method: 'S256',
      state: randomValue(),
    })) url.searchParams.set(k, v);
    t.diagnostic(await expectAuthorizeRefused(url, 'invalid_request', 'redirect_uri mismatch at authorize'));
  });

  test('token request with another redirect_uri than the authorization request → invalid_grant', async (t) => {
    const flow = await codeFor(fapi);
    const bad = await redeem(flow, { params: { redirect_uri: flow.service.registration.redirect_uris[1] } });
    t.diagnostic(assertOAuthError(bad, 'invalid_grant', 400, 'redirect_uri mismatch at the token endpoint'));
    assertTokens(await redeem(flow), 'control');
  });

  // ---- PKCE -------------------------------------------------------------------------------------

  test('PAR without PKCE → invalid_request', async (t) => {
    t.diagnostic(await pushRefused(fapi, { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request', 'PKCE missing'));
  });

  test('PAR with PKCE method plain → invalid_request', async (t) => {
    const verifier = randomValue();
    t.diagnostic(await pushRefused(fapi, { code_challenge: verifier, code_challenge_method: 'plain' }, 'invalid_request', 'PKCE plain'));
  });

  test('token request with the wrong code_verifier → invalid_grant', async (t) => {
    const flow = await codeFor(fapi);
    t.diagnostic(assertOAuthError(await redeem(flow, { params: { code_verifier: randomValue() } }), 'invalid_grant', 400, 'wrong verifier'));
    assertTokens(await redeem(flow), 'control: the right verifier');
  });

  test('token request without code_verifier → invalid_grant', async (t) => {
    const flow = await codeFor(fapi);
    t.diagnostic(assertOAuthError(await redeem(flow, { params: { code_verifier: undefined } }), 'invalid_grant', 400, 'missing verifier'));
    assertTokens(await redeem(flow), 'control: with the verifier');
  });

  // ---- codes ------------------------------------------------------------------------------------

  test('authorization code reused → invalid_grant, and the tokens issued from it are revoked', async (t) => {
    const flow = await codeFor(fapi);
    const first = assertTokens(await redeem(flow), 'first redemption');
    assert.equal((await introspect(fapi, first.access_token)).active, true, 'active before the reuse');
    assert.equal((await userinfo(first.access_token, { key: flow.dpop })).status, 200, 'userinfo works before the reuse');

    t.diagnostic(assertOAuthError(await redeem(flow), 'invalid_grant', 400, 'code reuse'));

    assert.equal((await introspect(fapi, first.access_token)).active, false, 'the access token is revoked');
    assert.equal((await introspect(fapi, first.refresh_token)).active, false, 'the refresh token is revoked');
    assertUserinfoRefused(await userinfo(first.access_token, { key: flow.dpop }), 'invalid_token', 'userinfo after code reuse');
    assertOAuthError(await refresh(fapi, first.refresh_token, { dpop: flow.dpop }), 'invalid_grant', 400, 'refresh after code reuse');
  });

  test('authorization code redeemed by another client → invalid_grant', async (t) => {
    const flow = await codeFor(fapi);
    const stolen = await redeem(flow, { service: otherFapi, dpop: await dpopKey() });
    t.diagnostic(assertOAuthError(stolen, 'invalid_grant', 400, 'code of another client'));
  });

  // ---- client authentication ----------------------------------------------------------------------

  test('client assertion with alg none → invalid_client', async (t) => {
    const flow = await codeFor(fapi);
    const at = now();
    const assertion = unsignedJwt({ iss: fapi.id, sub: fapi.id, aud: ISSUER, jti: randomValue(), iat: at, exp: at + 60 }, { kid: fapi.key.kid });
    t.diagnostic(assertOAuthError(await redeem(flow, { assertion }), 'invalid_client', 401, 'alg none'));
    assertTokens(await redeem(flow), 'control: a signed assertion');
  });

  test('client assertion HS256-signed with the public key as secret → invalid_client', async (t) => {
    const flow = await codeFor(fapi);
    const at = now();
    const claims = () => ({ iss: fapi.id, sub: fapi.id, aud: ISSUER, jti: randomValue(), iat: at, exp: at + 60 });
    const pem = new TextEncoder().encode(await jose.exportSPKI(fapi.key.publicKey));
    const jwkBytes = new TextEncoder().encode(JSON.stringify(fapi.key.publicJwk));
    for (const [name, secret] of [['PEM', pem], ['JWK', jwkBytes]]) {
      const assertion = await hs256Jwt(claims(), secret, { kid: fapi.key.kid });
      t.diagnostic(`${name}: ${assertOAuthError(await redeem(flow, { assertion }), 'invalid_client', 401, `HS256 keyed with the public ${name}`)}`);
    }
    assertTokens(await redeem(flow), 'control: an ES256 assertion');
  });

  test('client assertion for the wrong audience → invalid_client', async (t) => {
    const flow = await codeFor(fapi);
    for (const aud of ['https://another-provider.example', await endpointUrl('pushed_authorization_request_endpoint')]) {
      const assertion = await clientAssertion(fapi, { claims: { aud } });
      t.diagnostic(`aud ${aud}: ${assertOAuthError(await redeem(flow, { assertion }), 'invalid_client', 401, `aud ${aud}`)}`);
    }
    assertTokens(await redeem(flow), 'control: aud = the issuer');
  });

  test('client assertion expired → invalid_client', async (t) => {
    const flow = await codeFor(fapi);
    const at = now();
    const assertion = await clientAssertion(fapi, { claims: { iat: at - 400, exp: at - 100 } });
    t.diagnostic(assertOAuthError(await redeem(flow, { assertion }), 'invalid_client', 401, 'expired assertion'));
    assertTokens(await redeem(flow), 'control: a fresh assertion');
  });

  test('client assertion living longer than 300 s → invalid_client', async (t) => {
    const flow = await codeFor(fapi);
    const at = now();
    const assertion = await clientAssertion(fapi, { claims: { iat: at, exp: at + 3600 } });
    t.diagnostic(assertOAuthError(await redeem(flow, { assertion }), 'invalid_client', 401, 'hour-long assertion'));
    assertTokens(await redeem(flow), 'control: a 60 s assertion');
  });

  test('client assertion with a replayed jti → invalid_client', async (t) => {
    const flow = await codeFor(fapi);
    const assertion = await clientAssertion(fapi);
    const first = assertTokens(await redeem(flow, { assertion }), 'first use of the assertion');
    const replay = await refresh(fapi, first.refresh_token, { dpop: flow.dpop, assertion });
    t.diagnostic(assertOAuthError(replay, 'invalid_client', 401, 'replayed assertion'));
    assertTokens(await refresh(fapi, first.refresh_token, { dpop: flow.dpop }), 'control: a fresh assertion');
  });

  test('client assertion signed by an unregistered key → invalid_client', async (t) => {
    const flow = await codeFor(fapi);
    const stranger = await clientKey('ES256');
    const assertion = await clientAssertion(fapi, { key: { ...stranger, kid: fapi.key.kid } });
    t.diagnostic(assertOAuthError(await redeem(flow, { assertion }), 'invalid_client', 401, 'unregistered key'));
    assertTokens(await redeem(flow), 'control: the registered key');
  });

  test('FAPI 2.0 service authenticating with client_secret_basic → invalid_client', async (t) => {
    const flow = await codeFor(fapi);
    const bad = await backChannel(
      'token_endpoint',
      { ...fapi, profile: 'basic' },
      { grant_type: 'authorization_code', code: flow.code, redirect_uri: flow.redirectUri, code_verifier: flow.verifier },
      { basic: [fapi.id, randomValue()], dpop: await dpopProof(flow.dpop, { htu: await endpointUrl('token_endpoint') }) },
    );
    t.diagnostic(assertOAuthError(bad, 'invalid_client', 401, 'Basic credentials for a FAPI client'));
    assertTokens(await redeem(flow), 'control: private_key_jwt');
  });

  test('basic service with the wrong secret → invalid_client', async (t) => {
    const bad = await backChannel(
      'token_endpoint',
      basic,
      { grant_type: 'refresh_token', refresh_token: randomValue() },
      { basic: [basic.id, randomValue()] },
    );
    t.diagnostic(assertOAuthError(bad, 'invalid_client', 401, 'wrong client secret'));
    assert.match(bad.headers.get('www-authenticate') ?? '', /^Basic\b/, 'a Basic challenge comes with the 401');
  });

  // ---- DPoP ---------------------------------------------------------------------------------------

  test('DPoP proof replayed at the token endpoint → invalid_dpop_proof', async (t) => {
    const flow = await codeFor(fapi);
    const first = assertTokens(await redeem(flow), 'code redemption');
    const proof = await dpopProof(flow.dpop, { htu: await endpointUrl('token_endpoint') });
    const second = assertTokens(await refresh(fapi, first.refresh_token, { proof }), 'refresh with the proof');
    const replay = await refresh(fapi, second.refresh_token, { proof });
    t.diagnostic(assertOAuthError(replay, 'invalid_dpop_proof', 400, 'replayed proof'));
    assertTokens(await refresh(fapi, second.refresh_token, { dpop: flow.dpop }), 'control: a fresh proof');
  });

  test('DPoP proof replayed at userinfo → invalid_dpop_proof', async (t) => {
    const flow = await codeFor(fapi);
    const tokens = assertTokens(await redeem(flow), 'code redemption');
    const proof = await dpopProof(flow.dpop, { htm: 'GET', htu: await endpointUrl('userinfo_endpoint'), accessToken: tokens.access_token });
    assert.equal((await userinfo(tokens.access_token, { proof, scheme: 'DPoP' })).status, 200, 'first use of the proof');
    t.diagnostic(assertUserinfoRefused(await userinfo(tokens.access_token, { proof, scheme: 'DPoP' }), 'invalid_dpop_proof', 'replayed proof at userinfo'));
  });

  test('DPoP proof for the wrong htm → invalid_dpop_proof', async (t) => {
    const flow = await codeFor(fapi);
    const proof = await dpopProof(flow.dpop, { htm: 'GET', htu: await endpointUrl('token_endpoint') });
    t.diagnostic(assertOAuthError(await redeem(flow, { proof }), 'invalid_dpop_proof', 400, 'htm GET at the token endpoint'));
    assertTokens(await redeem(flow), 'control: htm POST');
  });

  test('DPoP proof for the wrong htu → invalid_dpop_proof', async (t) => {
    const flow = await codeFor(fapi);
    const proof = await dpopProof(flow.dpop, { htu: await endpointUrl('pushed_authorization_request_endpoint') });
    t.diagnostic(assertOAuthError(await redeem(flow, { proof }), 'invalid_dpop_proof', 400, 'htu of the PAR endpoint'));
    assertTokens(await redeem(flow), 'control: htu of the token endpoint');
  });

  test('DPoP proof too old → invalid_dpop_proof', async (t) => {
    const flow = await codeFor(fapi);
    const proof = await dpopProof(flow.dpop, { htu: await endpointUrl('token_endpoint'), iat: now() - 300 });
    t.diagnostic(assertOAuthError(await redeem(flow, { proof }), 'invalid_dpop_proof', 400, 'proof made 300 s ago'));
    assertTokens(await redeem(flow), 'control: a fresh proof');
  });

  test('DPoP proof missing for a FAPI 2.0 service → invalid_dpop_proof', async (t) => {
    const flow = await codeFor(fapi);
    t.diagnostic(assertOAuthError(await redeem(flow, { proof: null }), 'invalid_dpop_proof', 400, 'no DPoP header'));
    assertTokens(await redeem(flow), 'control: with a proof');
  });

  test('DPoP proof by another key than the access token is bound to (userinfo) → invalid_dpop_proof', async (t) => {
    const flow = await codeFor(fapi);
    const tokens = assertTokens(await redeem(flow), 'code redemption');
    const thief = await dpopKey();
    t.diagnostic(assertUserinfoRefused(await userinfo(tokens.access_token, { key: thief }), 'invalid_dpop_proof', 'proof by another key'));
    assert.equal((await userinfo(tokens.access_token, { key: flow.dpop })).status, 200, 'control: the bound key');
  });

  test('DPoP proof by another key than the code is bound to (dpop_jkt at PAR) → invalid_dpop_proof', async (t) => {
    const flow = await codeFor(fapi);
    t.diagnostic(assertOAuthError(await redeem(flow, { dpop: await dpopKey() }), 'invalid_dpop_proof', 400, 'code bound to another key'));
    assertTokens(await redeem(flow), 'control: the bound key');
  });

  test('DPoP proof by another key than the refresh token is bound to → invalid_dpop_proof', async (t) => {
    const flow = await codeFor(fapi);
    const tokens = assertTokens(await redeem(flow), 'code redemption');
    t.diagnostic(assertOAuthError(await refresh(fapi, tokens.refresh_token, { dpop: await dpopKey() }), 'invalid_dpop_proof', 400, 'refresh with another key'));
    assertTokens(await refresh(fapi, tokens.refresh_token, { dpop: flow.dpop }), 'control: the bound key');
  });

  test('DPoP-bound access token presented as a Bearer token → invalid_token', async (t) => {
    const flow = await codeFor(fapi);
    const tokens = assertTokens(await redeem(flow), 'code redemption');
    assert.equal(tokens.token_type, 'DPoP');
    t.diagnostic(assertUserinfoRefused(await userinfo(tokens.access_token, { scheme: 'Bearer' }), 'invalid_token', 'Bearer use of a DPoP token'));
  });

  // ---- pushed requests ------------------------------------------------------------------------------

  test('PAR request_uri reused → invalid_request_uri', async (t) => {
    const pushed = await push(fapi, { dpop: await dpopKey() });
    assert.equal(pushed.answer.status, 201);
    const url = await authorizationUrlFor(fapi, pushed.answer.body.request_uri);
    await resident.startAuthorization(url);
    t.diagnostic(await expectAuthorizeRefused(url, 'invalid_request_uri', 'request_uri used twice'));
  });

  test("PAR request_uri presented with another client's client_id → invalid_request_uri", async (t) => {
    const pushed = await push(otherFapi, { dpop: await dpopKey() });
    assert.equal(pushed.answer.status, 201);
    t.diagnostic(await expectAuthorizeRefused(await authorizationUrlFor(fapi, pushed.answer.body.request_uri), 'invalid_request_uri', 'request_uri of another client'));
  });

  test('authorization request without PAR from a FAPI 2.0 service → invalid_request (redirected, no code)', async (t) => {
    const state = randomValue();
    const url = new URL(await endpointUrl('authorization_endpoint'));
    for (const [k, v] of Object.entries({
      client_id: fapi.id,
      redirect_uri: fapi.redirectUri,
      response_type: 'code',
      scope: 'openid profile',
      code_challenge: s256(randomValue()),
      code_challenge_method: 'S256',
      state,
    })) url.searchParams.set(k, v);
    const res = await resident.jar.fetch(url);
    await res.text();
    assert.equal(res.status, 303, 'the error goes back to the (registered) redirect URI');
    const back = new URL(res.headers.get('location'));
    assert.equal(back.origin + back.pathname, fapi.redirectUri);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.equal(back.searchParams.get('state'), state);
    assert.equal(back.searchParams.get('iss'), ISSUER);
    assert.equal(back.searchParams.get('code'), null, 'no code');
    assert.ok(!res.headers.getSetCookie().some((c) => c.startsWith('bauhinia_interaction=')), 'no interaction started');
    t.diagnostic(`303 to the service: error=${back.searchParams.get('error')}: ${back.searchParams.get('error_description')}`);
  });

  test('PAR with response_type token → unsupported_response_type', async (t) => {
    t.diagnostic(await pushRefused(fapi, { response_type: 'token' }, 'unsupported_response_type', 'implicit flow'));
  });

  // ---- escalation beyond registration --------------------------------------------------------------

  test('scope beyond registration → invalid_scope', async (t) => {
    t.diagnostic(await pushRefused(fapi, { scope: 'openid profile phone' }, 'invalid_scope', 'phone scope not registered'));
    await pushAccepted(fapi, { scope: 'openid profile email' });
  });

  test('field beyond registration (claims parameter) → invalid_request', async (t) => {
    const claims = JSON.stringify({ userinfo: { hkid: { essential: true } } });
    t.diagnostic(await pushRefused(fapi, { claims }, 'invalid_request', 'hkid not registered'));
    await pushAccepted(fapi, { claims: JSON.stringify({ userinfo: { mobile: { essential: true } } }) });
  });

  // ---- refresh tokens -------------------------------------------------------------------------------

  test('refresh token reused → invalid_grant, and the whole grant is revoked', async (t) => {
    const flow = await codeFor(fapi);
    const first = assertTokens(await redeem(flow), 'code redemption');
    const second = assertTokens(await refresh(fapi, first.refresh_token, { dpop: flow.dpop }), 'rotation');
    assert.equal((await introspect(fapi, second.access_token)).active, true, 'the rotated access token is active');

    t.diagnostic(assertOAuthError(await refresh(fapi, first.refresh_token, { dpop: flow.dpop }), 'invalid_grant', 400, 'refresh reuse'));

    for (const [name, token] of Object.entries({ first_access: first.access_token, second_access: second.access_token, second_refresh: second.refresh_token })) {
      assert.equal((await introspect(fapi, token)).active, false, `${name} is revoked`);
    }
    assertUserinfoRefused(await userinfo(second.access_token, { key: flow.dpop }), 'invalid_token', 'userinfo after refresh reuse');
    assertOAuthError(await refresh(fapi, second.refresh_token, { dpop: flow.dpop }), 'invalid_grant', 400, 'the rotated refresh token is dead too');
  });

  // ---- the relying party's own checks ------------------------------------------------------------------

  /**
   * Runs openid-client's code grant for `flow` with the token response's ID token claims changed
   * by `tamper` in flight (the signature stays the provider's), and returns what it threw.
   */
  async function grantWithTamperedIdToken(flow, tamper, { checkSignature }) {
    const execute = [client.allowInsecureRequests];
    if (checkSignature) execute.push(client.enableNonRepudiationChecks);
    const config = await client.discovery(
      new URL(BASE_URL),
      fapi.id,
      {},
      client.PrivateKeyJwt({ key: fapi.key.privateKey, kid: fapi.key.kid }),
      { execute },
    );
    const tokenEndpoint = config.serverMetadata().token_endpoint;
    let tampered = false;
    config[client.customFetch] = async (url, options) => {
      const res = await fetch(url, options);
      if (url !== tokenEndpoint || res.status !== 200) return res;
      const body = await res.json();
      const [header, payload, signature] = body.id_token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      tamper(claims);
      body.id_token = [header, b64url(JSON.stringify(claims)), signature].join('.');
      tampered = true;
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    let thrown;
    let tokens;
    try {
      tokens = await client.authorizationCodeGrant(
        config,
        flow.callback,
        { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true },
        undefined,
        { DPoP: client.getDPoPHandle(config, { publicKey: flow.dpop.publicKey, privateKey: flow.dpop.privateKey }) },
      );
    } catch (e) {
      thrown = e;
    }
    assert.ok(tampered, 'the token response passed through the tampering fetch');
    assert.equal(tokens, undefined, 'the relying party obtained no tokens');
    assert.ok(thrown instanceof client.ClientError, `openid-client threw a ClientError (got ${thrown})`);
    return thrown;
  }

  test('tampered ID token (one character of sub changed) rejected by openid-client: bad signature', async (t) => {
    const flow = await codeFor(fapi);
    const error = await grantWithTamperedIdToken(
      flow,
      (claims) => {
        claims.sub = claims.sub.slice(0, -1) + (claims.sub.at(-1) === 'A' ? 'B' : 'A');
      },
      { checkSignature: true },
    );
    assert.equal(error.code, 'OAUTH_INVALID_RESPONSE');
    assert.equal(error.cause?.message, 'JWT signature verification failed');
    t.diagnostic(`${error.message}: ${error.cause.message}`);
  });

  test('tampered ID token (aud changed) rejected by openid-client even without signature checks', async (t) => {
    const flow = await codeFor(fapi);
    const error = await grantWithTamperedIdToken(flow, (claims) => { claims.aud = otherFapi.id; }, { checkSignature: false });
    assert.equal(error.code, 'OAUTH_JWT_CLAIM_COMPARISON_FAILED');
    assert.match(error.cause?.message ?? '', /"aud"/);
    t.diagnostic(`${error.message}: ${error.cause.message}`);
  });

  // ---- form filling -----------------------------------------------------------------------------------

  test('form filling: posting a field the service did not ask for is refused and releases nothing', async (t) => {
    const service = await registerService({ profile: 'fapi2', scopes: ['openid', 'profile', 'email'], fields: [...PROFILE_FIELDS, 'email'], name: 'Form-filling service A' });
    const dpop = await dpopKey();
    const pushed = await push(service, { dpop, params: { scope: 'openid profile' } });
    assert.equal(pushed.answer.status, 201);
    const id = await resident.startAuthorization(await authorizationUrlFor(service, pushed.answer.body.request_uri));
    const { res, html } = await resident.consentPage(id);
    assert.equal(res.status, 200, 'a new service: the consent page is shown');
    const form = consentForm(html, id);
    assert.ok(form, 'the consent form');
    const offered = form.inputs.filter((i) => i.name === 'field').map((i) => i.value);
    assert.deepEqual(offered.sort(), [...PROFILE_FIELDS].sort());
    const forged = await resident.decide(id, [...offered, 'email'], 'approve', hiddenInputs(form));
    const text = await forged.text();
    assert.ok(forged.status >= 400 && forged.status < 500, `a forged field is refused with 4xx (got ${forged.status}: ${text.slice(0, 200)})`);
    assert.ok(!new URL(forged.headers.get('location') ?? '/', BASE_URL).searchParams.get('code'), 'no code');
    assert.equal(await resident.status(id), 'pending', 'the interaction is not approved');
    t.diagnostic(`forged post answered ${forged.status}`);

    // The resident then approves what was asked: email is still not released.
    const approved = await resident.decide(id, offered, 'approve', hiddenInputs(form));
    assert.equal(approved.status, 303);
    const callback = await resident.followToService(approved, id);
    const flow = { service, dpop, verifier: pushed.verifier, redirectUri: pushed.redirectUri, code: callbackParams(callback).code };
    const tokens = assertTokens(await redeem(flow), 'redemption');
    const info = await userinfo(tokens.access_token, { key: dpop });
    assert.equal(info.status, 200);
    assert.equal('email' in info.body, false, 'email is not released');
    assert.equal(info.body.english_name, 'WONG, Siu Ling', 'the approved fields are');
  });

  test('form filling: a field the resident unticks is not released', async (t) => {
    const service = await registerService({ profile: 'fapi2', scopes: ['openid', 'profile', 'email'], fields: [...PROFILE_FIELDS, 'email'], name: 'Form-filling service B' });
    const claims = JSON.stringify({ id_token: { email: null } });
    const flow = await codeFor(service, { params: { scope: 'openid profile email', claims }, uncheck: ['email', 'gender'] });
    const tokens = assertTokens(await redeem(flow), 'redemption');
    const idClaims = jose.decodeJwt(tokens.id_token);
    assert.equal('email' in idClaims, false, 'email is not in the ID token');
    const info = await userinfo(tokens.access_token, { key: flow.dpop });
    assert.equal(info.status, 200);
    assert.equal('email' in info.body, false, 'email is not in userinfo');
    assert.equal('gender' in info.body, false, 'gender is not in userinfo');
    assert.equal(info.body.english_name, 'WONG, Siu Ling', 'the ticked fields are');
    assert.equal(info.body.date_of_birth, '1992-07-15');
    t.diagnostic(`released: ${Object.keys(info.body).sort().join(' ')}`);
  });
});
