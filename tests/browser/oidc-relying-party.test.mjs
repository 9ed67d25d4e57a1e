// 智方便 as an OpenID Provider, seen by a real relying party: panva's `openid-client` (an
// OpenID-certified client library) runs the whole flow against the live server.
//   1. A FAPI 2.0 service: PAR + PKCE S256 + private_key_jwt + DPoP + authorization code, the
//      resident signing in with a passkey (software authenticator) and approving on the consent
//      page; then userinfo, refresh, introspection and revocation.
//   2. A basic service: client_secret_basic, no PAR, no DPoP, RS256 ID tokens; the same steps.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import {
  ACR_PASSKEY,
  BASE_URL,
  ISSUER,
  PROFILE_FIELDS,
  REDIRECT_URI,
  clientKey,
  introspect,
  registerService,
} from './lib/oidc.mjs';
import { Resident } from './lib/front-channel.mjs';

// A resident of this test's own (registered through the admin API with a random valid HKID,
// filled in before the tests), with these particulars.
const RESIDENT = {
  hkid: undefined,
  english_name: 'CHAN, Tai Man',
  chinese_name: '陳大文',
  date_of_birth: '1980-02-29',
  gender: 'M',
  mobile: '+85291234567', // stored normalised (E.164)
  email: 'taiman.chan@example.hk',
  residential_address: ['Flat A, 10/F, Harbour View Court', "1 Queen's Road Central", 'Central, Hong Kong'],
};

let resident;

before(async () => {
  const { hkid: _, mobile: __, ...fields } = RESIDENT;
  resident = await Resident.fresh({ ...fields, mobile: '+852 9123 4567' });
  RESIDENT.hkid = resident.hkid;
  await resident.enrol();
});

/**
 * openid-client's discovery, over http://localhost (allowed for this test server only), with
 * the ID token's signature checked against the provider's JWKS (openid-client skips that by
 * default for a token received straight from the token endpoint).
 */
function discover(clientId, metadata, auth) {
  return client.discovery(new URL(BASE_URL), clientId, metadata, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
}

test('discovery: the metadata a FAPI 2.0 relying party needs', async () => {
  const config = await discover('probe', {}, client.None());
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, ISSUER);
  for (const [key, path] of Object.entries({
    authorization_endpoint: '/oauth2/authorize',
    pushed_authorization_request_endpoint: '/oauth2/par',
    token_endpoint: '/oauth2/token',
    userinfo_endpoint: '/oauth2/userinfo',
    revocation_endpoint: '/oauth2/revoke',
    introspection_endpoint: '/oauth2/introspect',
    end_session_endpoint: '/oauth2/logout',
    jwks_uri: '/oauth2/jwks',
  })) {
    assert.equal(meta[key], ISSUER + path, key);
  }
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(meta.response_types_supported, ['code']);
  assert.equal(meta.authorization_response_iss_parameter_supported, true);
  assert.ok(meta.dpop_signing_alg_values_supported.includes('ES256'));
  assert.ok(meta.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  assert.ok(meta.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
  assert.deepEqual(meta.subject_types_supported, ['pairwise']);
});

test('FAPI 2.0 service with openid-client: PAR + PKCE + private_key_jwt + DPoP + code, passkey login, userinfo, refresh, revoke', async (t) => {
  const key = await clientKey('ES256');
  const service = await registerService({
    profile: 'fapi2',
    key,
    scopes: ['openid', 'profile'],
    fields: [...PROFILE_FIELDS, 'hkid'],
    name: 'FAPI relying party',
  });
  const config = await discover(service.id, {}, client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));

  const dpopKeys = await client.randomDPoPKeyPair('ES256');
  const dpopJkt = await jose.calculateJwkThumbprint(await jose.exportJWK(dpopKeys.publicKey));
  const DPoP = client.getDPoPHandle(config, dpopKeys);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const claims = { userinfo: { hkid: { essential: true } }, id_token: { english_name: null } };
  const authorizationUrl = await client.buildAuthorizationUrlWithPAR(
    config,
    {
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      claims: JSON.stringify(claims),
    },
    { DPoP },
  );
  assert.equal(authorizationUrl.origin + authorizationUrl.pathname, ISSUER + '/oauth2/authorize');
  assert.match(authorizationUrl.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:/);

  // The resident: not signed in yet, so the interaction page offers sign-in; the passkey signs in.
  const { callback, offered } = await resident.authorize(authorizationUrl);
  assert.equal(resident.sawLoginPage, true, 'the first interaction showed the sign-in choices');
  assert.deepEqual(offered.sort(), [...PROFILE_FIELDS, 'hkid'].sort(), 'the consent page offers every requested field');
  assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
  assert.equal(callback.searchParams.get('iss'), ISSUER, 'iss in the authorization response (RFC 9207)');

  const tokens = await client.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true },
    undefined,
    { DPoP },
  );
  assert.equal(tokens.token_type, 'dpop', 'a DPoP-bound access token');
  assert.ok(tokens.refresh_token, 'a refresh token');
  const idClaims = tokens.claims();
  assert.equal(idClaims.iss, ISSUER);
  assert.equal(idClaims.aud, service.id);
  assert.equal(idClaims.acr, ACR_PASSKEY);
  assert.equal(idClaims.nonce, nonce);
  assert.equal(typeof idClaims.auth_time, 'number');
  assert.equal(idClaims.english_name, RESIDENT.english_name, 'the field asked for in the ID token is in it');
  assert.equal('hkid' in idClaims, false, 'hkid was asked for userinfo only');
  assert.equal(jose.decodeProtectedHeader(tokens.id_token).alg, 'ES256');
  assert.notEqual(idClaims.sub, resident.residentId, 'sub is pairwise, not the resident id');

  const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub, { DPoP });
  assert.equal(info.sub, idClaims.sub);
  assert.equal(info.hkid, RESIDENT.hkid);
  assert.equal(info.english_name, RESIDENT.english_name);
  assert.equal(info.chinese_name, RESIDENT.chinese_name);
  assert.equal(info.date_of_birth, RESIDENT.date_of_birth);
  assert.equal(info.gender, RESIDENT.gender);
  assert.equal('email' in info, false, 'email was not asked for');

  const live = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(live.active, true);
  assert.equal(live.client_id, service.id);
  assert.equal(live.sub, idClaims.sub);
  assert.equal(live.cnf?.jkt, dpopJkt, 'the access token is bound to the DPoP key');

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
  assert.equal(refreshed.token_type, 'dpop');
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotates');
  assert.notEqual(refreshed.access_token, tokens.access_token);
  const again = await client.fetchUserInfo(config, refreshed.access_token, idClaims.sub, { DPoP });
  assert.equal(again.hkid, RESIDENT.hkid, 'the refreshed token releases the same fields');
  assert.equal((await introspect(service, tokens.refresh_token)).active, false, 'the used refresh token is spent');

  await client.tokenRevocation(config, refreshed.refresh_token);
  assert.equal((await client.tokenIntrospection(config, refreshed.refresh_token)).active, false, 'revoked refresh token');
  assert.equal(
    (await client.tokenIntrospection(config, refreshed.access_token)).active,
    false,
    'revoking the refresh token ends its grant: the access token too',
  );
  await assert.rejects(
    client.fetchUserInfo(config, refreshed.access_token, idClaims.sub, { DPoP }),
    (e) => e instanceof client.WWWAuthenticateChallengeError && e.cause?.[0]?.parameters?.error === 'invalid_token',
    'userinfo refuses the revoked access token',
  );
  t.diagnostic(`service ${service.id}: token_type ${tokens.token_type}, sub ${idClaims.sub.slice(0, 8)}…, released ${Object.keys(info).join(' ')}`);
});

test('basic service with openid-client: client_secret_basic, no PAR, no DPoP, RS256 ID token; userinfo, refresh, revoke', async (t) => {
  const service = await registerService({
    profile: 'basic',
    scopes: ['openid', 'email', 'phone', 'address'],
    fields: ['email', 'mobile', 'residential_address', 'postal_address'],
    idTokenAlg: 'RS256',
    name: 'Basic relying party',
  });
  const config = await discover(service.id, { id_token_signed_response_alg: 'RS256' }, client.ClientSecretBasic(service.secret));
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email phone address',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  assert.equal(authorizationUrl.searchParams.get('request_uri'), null, 'no PAR');

  const { callback } = await resident.authorize(authorizationUrl);
  assert.equal(callback.searchParams.get('iss'), ISSUER);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  assert.equal(tokens.token_type, 'bearer', 'no DPoP proof, so a Bearer token');
  assert.equal(jose.decodeProtectedHeader(tokens.id_token).alg, 'RS256', 'RS256 as registered');
  const idClaims = tokens.claims();
  assert.equal(idClaims.acr, ACR_PASSKEY);
  assert.equal(idClaims.aud, service.id);

  const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
  assert.equal(info.email, RESIDENT.email);
  assert.equal(info.mobile, RESIDENT.mobile);
  assert.deepEqual(info.residential_address, RESIDENT.residential_address, 'addresses come as arrays of lines');
  assert.equal('english_name' in info, false, 'profile was not asked for');
  assert.equal('hkid' in info, false, 'hkid was not asked for');

  const live = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(live.active, true);
  assert.equal(live.token_type, 'Bearer');
  assert.equal(live.cnf, undefined, 'not sender-constrained');

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.equal(refreshed.token_type, 'bearer');
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotates');
  assert.equal((await client.fetchUserInfo(config, refreshed.access_token, idClaims.sub)).email, RESIDENT.email);

  await client.tokenRevocation(config, refreshed.access_token);
  assert.equal((await client.tokenIntrospection(config, refreshed.access_token)).active, false, 'revoked access token');
  await assert.rejects(
    client.fetchUserInfo(config, refreshed.access_token, idClaims.sub),
    (e) => e instanceof client.WWWAuthenticateChallengeError && e.cause?.[0]?.parameters?.error === 'invalid_token',
    'userinfo refuses the revoked access token',
  );
  assert.equal((await client.tokenIntrospection(config, refreshed.refresh_token)).active, true, 'revoking the access token leaves the refresh token');
  await client.tokenRevocation(config, refreshed.refresh_token);
  assert.equal((await client.tokenIntrospection(config, refreshed.refresh_token)).active, false, 'revoked refresh token');
  t.diagnostic(`service ${service.id}: token_type ${tokens.token_type}, ID token RS256, released ${Object.keys(info).join(' ')}`);
});
