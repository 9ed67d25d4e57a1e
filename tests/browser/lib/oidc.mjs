// Helpers for the 智方便 OpenID Provider tests (not a test file itself): the server's address
// and administrator token, service registration through the admin API, client keys, and raw
// back-channel requests (client assertions and DPoP proofs made with panva's `jose`) for the
// negative cases, where a well-behaved relying party library cannot be made to misbehave.
//
// Environment (set by scripts/browser-test):
//   BAUHINIA_TEST_URL          the server's public URL (the issuer), e.g. http://localhost:41234
//   BAUHINIA_TEST_ADMIN_TOKEN  the administrator token the server was started with
import assert from 'node:assert/strict';
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import * as jose from 'jose';

const TIMEOUT_MS = 15_000;

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run these tests through scripts/browser-test, which starts the server and sets it`);
  }
  return value;
}

export const BASE_URL = required('BAUHINIA_TEST_URL').replace(/\/+$/, '');
export const ADMIN_TOKEN = required('BAUHINIA_TEST_ADMIN_TOKEN');
/** The issuer is the public URL without a trailing slash. */
export const ISSUER = BASE_URL;
export const ACR_PASSKEY = 'urn:bauhinia:acr:passkey';
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Where services are sent back to; never fetched (the tests read the redirect's Location). */
export const REDIRECT_URI = 'https://service.example.hk/callback';
export const OTHER_REDIRECT_URI = 'https://service.example.hk/other-callback';

export const PROFILE_FIELDS = ['english_name', 'chinese_name', 'date_of_birth', 'gender'];

export const now = () => Math.floor(Date.now() / 1000);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
export const randomValue = () => b64url(randomBytes(32));

/** RFC 7636 S256. */
export function s256(verifier) {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** fetch against the server, never following redirects. */
export function http(pathOrUrl, init = {}) {
  const target = new URL(pathOrUrl, BASE_URL + '/');
  return fetch(target, { redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS), ...init });
}

let discovered;
/** The provider's metadata (fetched once). */
export async function metadata() {
  if (!discovered) {
    const res = await http('/.well-known/openid-configuration');
    assert.equal(res.status, 200, 'discovery answers 200');
    discovered = await res.json();
    assert.equal(discovered.issuer, ISSUER, 'discovery: issuer is the public URL');
  }
  return discovered;
}

// ---- services ---------------------------------------------------------------------------------

/** An ES256 (or PS256) key pair for private_key_jwt, with its public JWK. */
export async function clientKey(alg = 'ES256') {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, publicKey, privateKey, publicJwk };
}

const text3 = (en, zh) => ({ 'zh-Hant': zh, 'zh-Hans': zh, en });

/**
 * Registers a service through the admin API and returns a client object the helpers below
 * understand: {id, profile, secret, key, redirectUri, registration}.
 */
export async function registerService({
  profile = 'fapi2',
  scopes = ['openid', 'profile'],
  fields = PROFILE_FIELDS,
  redirectUris = [REDIRECT_URI, OTHER_REDIRECT_URI],
  idTokenAlg,
  key,
  name = 'Test service',
} = {}) {
  const registration = {
    name: text3(name, '測試服務'),
    profile,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: ['https://service.example.hk/signed-out'],
    scopes,
    fields,
    purpose: text3('To test the OpenID Provider', '測試身份提供者'),
  };
  if (idTokenAlg) registration.id_token_signed_response_alg = idTokenAlg;
  if (profile === 'fapi2') {
    key ??= await clientKey();
    registration.jwks = { keys: [key.publicJwk] };
  }
  const res = await http('/api/identity/v1/admin/services', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(registration),
  });
  const body = await res.text();
  assert.equal(res.status, 201, `registering a ${profile} service: status (body: ${body.slice(0, 500)})`);
  const created = JSON.parse(body);
  assert.match(created.client_id ?? '', /\S/, 'the registration answer carries a client_id');
  if (profile === 'basic') assert.match(created.client_secret ?? '', /\S{20,}/, 'a basic service gets a secret');
  else assert.equal(created.client_secret, undefined, 'a FAPI 2.0 service gets no secret');
  return {
    id: created.client_id,
    profile,
    secret: created.client_secret,
    key,
    redirectUri: redirectUris[0],
    registration,
  };
}

// ---- client authentication and DPoP -----------------------------------------------------------

/**
 * A private_key_jwt client assertion (RFC 7523) for `client`, audience the issuer. `claims`
 * overrides or removes (undefined) claims; `header` overrides the protected header; `key`
 * signs instead of the client's registered key.
 */
export async function clientAssertion(client, { claims = {}, header = {}, key = client.key } = {}) {
  const at = now();
  const payload = { iss: client.id, sub: client.id, aud: ISSUER, jti: randomUUID(), iat: at, exp: at + 60, ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new jose.SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

/** An unsigned JWT (`alg: none`), as an attacker without the key would send. */
export function unsignedJwt(payload, header = {}) {
  const part = (o) => b64url(JSON.stringify(o));
  return `${part({ alg: 'none', typ: 'JWT', ...header })}.${part(payload)}.`;
}

/** An HS256 JWT keyed with `secret` bytes (e.g. the client's public key, which anyone has). */
export async function hs256Jwt(payload, secret, header = {}) {
  return new jose.SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(secret);
}

/** A DPoP key pair (ES256) with its public JWK and RFC 7638 thumbprint. */
export async function dpopKey() {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const { kty, crv, x, y } = await jose.exportJWK(publicKey);
  const publicJwk = { kty, crv, x, y };
  return { publicKey, privateKey, publicJwk, jkt: await jose.calculateJwkThumbprint(publicJwk) };
}

/** A DPoP proof (RFC 9449) for `htm` `htu`; `ath` is the access token it accompanies. */
export async function dpopProof(key, { htm = 'POST', htu, accessToken, iat = now(), jti = randomUUID(), claims = {} } = {}) {
  assert.ok(htu, 'dpopProof needs htu');
  const payload = { jti, htm, htu, iat, ...claims };
  if (accessToken) payload.ath = s256(accessToken);
  return new jose.SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk })
    .sign(key.privateKey);
}

/**
 * A form POST to a back-channel endpoint (`par`, `token`, `revoke`, `introspect`, named by its
 * metadata key), authenticated as `client`: a fresh client assertion (or `assertion`) for FAPI
 * services, HTTP Basic for basic ones. Returns {status, headers, body}.
 */
export async function backChannel(endpoint, client, params, { assertion, dpop, basic, headers = {} } = {}) {
  const meta = await metadata();
  const url = meta[endpoint];
  assert.ok(url, `metadata has ${endpoint}`);
  const form = new URLSearchParams(params);
  const h = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers };
  if (client.profile === 'fapi2' || assertion) {
    form.set('client_id', client.id);
    form.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
    form.set('client_assertion', assertion ?? (await clientAssertion(client)));
  } else {
    const [id, secret] = basic ?? [client.id, client.secret];
    h.authorization = `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  }
  if (dpop) h.dpop = dpop;
  const res = await http(url, { method: 'POST', headers: h, body: form.toString() });
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { unparsed: text };
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** The token endpoint's URL (for DPoP `htu`). */
export async function endpointUrl(endpoint) {
  return (await metadata())[endpoint];
}

/**
 * Asserts an OAuth error answer: the exact `error`, its HTTP status, and that it carries no
 * token of any kind (and no request_uri).
 */
export function assertOAuthError(answer, error, status, what) {
  const shown = JSON.stringify(answer.body).slice(0, 400);
  assert.equal(answer.body.error, error, `${what}: error code (HTTP ${answer.status}, body ${shown})`);
  assert.equal(answer.status, status, `${what}: HTTP status (body ${shown})`);
  assert.equal(typeof answer.body.error_description, 'string', `${what}: error_description`);
  for (const key of ['access_token', 'refresh_token', 'id_token', 'request_uri', 'code']) {
    assert.equal(key in answer.body, false, `${what}: no ${key} in an error answer`);
  }
  return answer.body.error_description;
}

/** Pushes an authorization request (RFC 9126) with sensible defaults. */
export async function push(client, { params = {}, dpop, assertion } = {}) {
  const verifier = randomValue();
  const state = randomValue();
  const nonce = randomValue();
  const all = {
    response_type: 'code',
    client_id: client.id,
    redirect_uri: client.redirectUri,
    scope: 'openid profile',
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v === undefined) delete all[k];
  let proof;
  if (dpop) proof = await dpopProof(dpop, { htu: await endpointUrl('pushed_authorization_request_endpoint') });
  const answer = await backChannel('pushed_authorization_request_endpoint', client, all, { dpop: proof, assertion });
  return { answer, verifier, state, nonce, redirectUri: all.redirect_uri };
}

/** The front-channel URL for a pushed request. */
export async function authorizationUrlFor(client, requestUri) {
  const url = new URL((await metadata()).authorization_endpoint);
  url.searchParams.set('client_id', client.id);
  url.searchParams.set('request_uri', requestUri);
  return url;
}

/**
 * Introspects `token` as `client` (RFC 7662) and returns the answer's body.
 */
export async function introspect(client, token) {
  const answer = await backChannel('introspection_endpoint', client, { token });
  assert.equal(answer.status, 200, `introspection answers 200 (body ${answer.text.slice(0, 300)})`);
  return answer.body;
}

/** Calls userinfo with `accessToken`; DPoP-bound tokens with a proof by `key` (if given). */
export async function userinfo(accessToken, { key, scheme = key ? 'DPoP' : 'Bearer', proof } = {}) {
  const url = await endpointUrl('userinfo_endpoint');
  const headers = { authorization: `${scheme} ${accessToken}`, accept: 'application/json' };
  if (proof) headers.dpop = proof;
  else if (key) headers.dpop = await dpopProof(key, { htm: 'GET', htu: url, accessToken });
  const res = await http(url, { headers });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { unparsed: text };
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** Asserts a refused userinfo call: 401, the exact error, and a WWW-Authenticate challenge. */
export function assertUserinfoRefused(answer, error, what) {
  const shown = answer.text.slice(0, 300);
  assert.equal(answer.status, 401, `${what}: HTTP status (body ${shown})`);
  assert.equal(answer.body.error, error, `${what}: error code (body ${shown})`);
  const challenge = answer.headers.get('www-authenticate') ?? '';
  assert.match(challenge, new RegExp(`error="${error}"`), `${what}: WWW-Authenticate names the error (got ${challenge})`);
  for (const claim of ['sub', ...PROFILE_FIELDS, 'hkid', 'email', 'mobile']) {
    assert.equal(claim in answer.body, false, `${what}: no ${claim} released`);
  }
  return answer.body.error_description;
}
