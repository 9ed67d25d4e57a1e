// 智方便 digital signing end to end over HTTP: a service that knows a resident by their pairwise
// `sub` (from a login) asks them to sign a document hash; the resident sees it in the app and
// signs; the service collects the JWS and anyone verifies it (and a changed hash fails). Then
// anonymous signing: the request names an HKID, and only its holder can sign.
// Residents of the test's own (registered through the admin API; see lib/residents.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BASE_URL, registerService, backChannel, http, s256, randomValue } from './lib/oidc.mjs';
import { Resident, callbackParams } from './lib/front-channel.mjs';


function basic(service) {
  return `Basic ${Buffer.from(`${encodeURIComponent(service.id)}:${encodeURIComponent(service.secret)}`).toString('base64')}`;
}

async function signingCall(service, path, params) {
  const res = await http(path, {
    method: 'POST',
    headers: { authorization: basic(service), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.json() };
}

/** Logs the resident in to the service (basic client, PKCE); returns their pairwise sub. */
async function login(service, resident) {
  const verifier = randomValue();
  const url = new URL('/oauth2/authorize', BASE_URL);
  url.search = new URLSearchParams({
    client_id: service.id,
    response_type: 'code',
    redirect_uri: service.redirectUri,
    scope: 'openid',
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
    state: randomValue(),
  }).toString();
  const { callback } = await resident.authorize(url.href);
  const { code } = callbackParams(callback);
  const tokens = await backChannel('token_endpoint', service, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: service.redirectUri,
    code_verifier: verifier,
  });
  assert.equal(tokens.status, 200, tokens.text);
  return JSON.parse(Buffer.from(tokens.body.id_token.split('.')[1], 'base64url')).sub;
}

async function signInApp(resident, requestId) {
  const app = await resident.jar.fetch('/app');
  const html = await app.text();
  assert.ok(html.includes(`/app/sign/${requestId}`), 'the app lists the signing request');
  const page = await resident.jar.fetch(`/app/sign/${requestId}`);
  assert.equal(page.status, 200);
  return page.text();
}

async function approveInApp(resident, requestId) {
  const res = await resident.jar.fetch(`/app/sign/${requestId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'decision=approve',
  });
  assert.equal(res.status, 200, await res.clone().text());
}

async function verify(signature, documentHash) {
  const res = await http('/api/signing/v1/verify', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(documentHash ? { signature, document_hash: documentHash } : { signature }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

test('a service has a resident sign a document hash; the signature verifies and fails for another hash', async () => {
  const service = await registerService({ profile: 'basic', scopes: ['openid'], fields: [], name: 'Lands Department e-Conveyancing' });
  const resident = await Resident.fresh();
  await resident.enrol();
  await resident.signIn();
  const sub = await login(service, resident);

  const document = Buffer.from('Assignment of Flat B, 12/F, 8 Sai Yee Street, Mong Kok\n');
  const hash = createHash('sha256').update(document).digest('hex');
  const created = await signingCall(service, '/oauth2/signing/requests', { document_name: 'Assignment.pdf', document_hash: hash, sub });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.status, 'pending');
  const id = created.body.request_id;

  const page = await signInApp(resident, id);
  assert.ok(page.includes(hash), 'the app shows the document fingerprint');
  assert.ok(page.includes('Assignment.pdf'));
  await approveInApp(resident, id);

  const done = await signingCall(service, `/oauth2/signing/requests/${id}`, {});
  assert.equal(done.status, 200);
  assert.equal(done.body.status, 'approved');
  const signature = done.body.signature;
  assert.match(signature, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const header = JSON.parse(Buffer.from(signature.split('.')[0], 'base64url'));
  assert.equal(header.alg, 'ES256');
  assert.equal(header.x5c.length, 2, 'the signer and issuing CA certificates');

  const report = await verify(signature, hash);
  assert.equal(report.valid, true, JSON.stringify(report));
  const other = hash.slice(0, -2) + (hash.endsWith('00') ? '01' : '00');
  assert.equal((await verify(signature, other)).valid, false, 'another hash does not verify');

  // The request is decided once; another service cannot read it.
  const again = await resident.jar.fetch(`/app/sign/${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'decision=approve',
  });
  assert.equal(again.status, 409);
  const stranger = await registerService({ profile: 'basic', scopes: ['openid'], fields: [] });
  assert.equal((await signingCall(stranger, `/oauth2/signing/requests/${id}`, {})).status, 404);
});

test('anonymous signing: a request for an HKID is signed only by its holder', async () => {
  const service = await registerService({ profile: 'basic', scopes: ['openid'], fields: [], name: 'Inland Revenue e-Tax' });
  const resident = await Resident.fresh();
  const HKID = resident.hkid;
  await resident.enrol();
  await resident.signIn();
  const hash = createHash('sha256').update('Tax return 2025/26').digest('base64');
  const created = await signingCall(service, '/oauth2/signing/requests', { document_name: 'BIR60 2025-26', document_hash: hash, hkid: HKID });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.anonymous, true);
  const id = created.body.request_id;
  await signInApp(resident, id);
  await approveInApp(resident, id);
  const done = await signingCall(service, `/oauth2/signing/requests/${id}`, {});
  assert.equal(done.body.status, 'approved');
  const payload = JSON.parse(Buffer.from(done.body.signature.split('.')[1], 'base64url'));
  assert.ok(payload.hkid_hash, 'an anonymous signature is bound to a hash of the HKID');
  assert.ok(!JSON.stringify(payload).includes(HKID.slice(0, 8)), 'never the HKID itself');
  assert.equal((await verify(done.body.signature)).valid, true);
});

test('bad signing requests are refused and create nothing', async () => {
  const HKID = (await Resident.fresh()).hkid;
  const service = await registerService({ profile: 'basic', scopes: ['openid'], fields: [] });
  const hash = createHash('sha256').update('x').digest('hex');
  const unknown = await signingCall(service, '/oauth2/signing/requests', { document_name: 'x.pdf', document_hash: hash, sub: 'nobody' });
  assert.equal(unknown.status, 422);
  assert.equal(unknown.body.code, 'signing.request_invalid');
  const short = await signingCall(service, '/oauth2/signing/requests', { document_name: 'x.pdf', document_hash: 'abcd', hkid: HKID });
  assert.equal(short.status, 422);
  const both = await signingCall(service, '/oauth2/signing/requests', { document_name: 'x.pdf', document_hash: hash, hkid: HKID, sub: 'x' });
  assert.equal(both.status, 422);
  const anonymous = await http('/oauth2/signing/requests', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ document_name: 'x.pdf', document_hash: hash, hkid: HKID }).toString(),
  });
  assert.equal(anonymous.status, 401);
  assert.equal((await anonymous.json()).error, 'invalid_client');
});
