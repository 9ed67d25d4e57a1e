// 智方便 passkeys over HTTP against the real server, with the software authenticator in
// lib/soft-authenticator.mjs: enrol a demo resident (code from the demo route), sign in again
// from a fresh cookie jar, add a second passkey, list, remove one, refuse removing the last,
// sign out; and the refusals: wrong challenge, wrong origin, replayed assertion, no session.
// Demo residents used here: CHAN Tai Man (A123456(3)) and WONG Siu Ling (second in the list).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, url } from './support.mjs';
import { SoftAuthenticator, cbor, fromB64url } from './lib/soft-authenticator.mjs';

const CHAN = 'A123456(3)';

/** A client with its own cookie jar (one "browser"). */
function client() {
  const jar = new Map();
  async function call(method, path, body) {
    const headers = {};
    if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = pair.split('=');
      if (/Max-Age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    const text = await response.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, json, text };
  }
  return { call, jar };
}

function assertProblem(answer, status, code, what) {
  assert.equal(answer.status, status, `${what}: status (${answer.text})`);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/, `${what}: problem+json`);
  assert.equal(answer.json.code, code, `${what}: code`);
}

async function demoCode(browser, hkid) {
  const answer = await browser.call('POST', '/app/demo/enrolment-code', { hkid });
  assert.equal(answer.status, 200, `demo code for ${hkid}: ${answer.text}`);
  assert.match(answer.json.code, /^\d{8}$/);
  return answer.json;
}

async function enrol(browser, device, hkid, name) {
  const { code } = await demoCode(browser, hkid);
  const started = await browser.call('POST', '/api/identity/v1/enrolment/start', { hkid, code });
  assert.equal(started.status, 200, `enrolment start: ${started.text}`);
  const credential = device.create(started.json.publicKey);
  const finished = await browser.call('POST', '/api/identity/v1/enrolment/finish', {
    ceremony_id: started.json.ceremony_id,
    credential,
    name,
  });
  assert.equal(finished.status, 200, `enrolment finish: ${finished.text}`);
  return finished;
}

async function signIn(browser, device) {
  const started = await browser.call('POST', '/api/identity/v1/passkeys/login/start');
  assert.equal(started.status, 200, `login start: ${started.text}`);
  const credential = device.get(started.json.publicKey);
  return browser.call('POST', '/api/identity/v1/passkeys/login/finish', {
    ceremony_id: started.json.ceremony_id,
    credential,
  });
}

test('the software authenticator writes what WebAuthn says', () => {
  const device = new SoftAuthenticator({ origin: BASE_URL });
  const challenge = 'AAECAwQFBgcICQoLDA0ODw';
  const created = device.create({
    rp: { id: 'localhost', name: 'x' },
    user: { id: 'AQID', name: 'u', displayName: 'U' },
    challenge,
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
  });
  const attestation = cbor.decode(fromB64url(created.response.attestationObject));
  assert.equal(attestation.get('fmt'), 'none');
  const authData = Buffer.from(attestation.get('authData'));
  assert.equal(authData[32], 0x01 | 0x04 | 0x40, 'flags UP|UV|AT');
  assert.equal(authData.readUInt32BE(33), 0, 'signCount');
  const idLength = authData.readUInt16BE(53);
  assert.equal(authData.subarray(55, 55 + idLength).toString('base64url'), created.rawId);
  const key = cbor.decode(authData.subarray(55 + idLength));
  assert.deepEqual([key.get(1), key.get(3), key.get(-1)], [2, -7, 1], 'COSE EC2 ES256 P-256');
  const clientData = JSON.parse(Buffer.from(fromB64url(created.response.clientDataJSON)).toString());
  assert.deepEqual(clientData, { type: 'webauthn.create', challenge, origin: BASE_URL, crossOrigin: false });
  const assertion = device.get({ rpId: 'localhost', challenge, allowCredentials: [] });
  assert.equal(assertion.response.userHandle, 'AQID');
  assert.equal(Buffer.from(fromB64url(assertion.response.authenticatorData)).readUInt32BE(33), 1);
  assert.throws(() => device.get({ rpId: 'example.com', challenge }), /NotAllowedError/);
  for (const value of [0, 23, 24, 255, 256, 65535, 65536, -1, -24, -25, -1000, 'ä', new Uint8Array([1, 2])]) {
    assert.deepEqual(cbor.decode(cbor.encode(value)), value, `CBOR round trip of ${value}`);
  }
  assert.throws(() => cbor.decode(Buffer.from([0x5f])), RangeError, 'indefinite lengths are refused');
});

test('enrol, sign in again, add, list, remove, keep the last, sign out', async () => {
  const phone = new SoftAuthenticator({ origin: BASE_URL });
  const first = client();
  const enrolled = await enrol(first, phone, CHAN, 'Phone');
  assert.equal(enrolled.json.resident.hkid_masked, 'A123***(*)');
  assert.equal(enrolled.json.session.acr, 'urn:bauhinia:acr:passkey');
  const cookie = enrolled.headers.getSetCookie().find((c) => c.startsWith('bauhinia_session='));
  assert.ok(cookie, 'the session cookie is set');
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Lax/);
  assert.match(cookie, /; Path=\//);
  assert.doesNotMatch(cookie, /; Secure/, 'not Secure on http://localhost');
  assert.ok(!enrolled.text.includes(CHAN), 'the HKID never comes back in clear');

  // A fresh browser signs in with the passkey alone (no HKID, no username).
  const second = client();
  assertProblem(await second.call('GET', '/api/identity/v1/me'), 401, 'identity.unauthenticated', 'before sign-in');
  const signedIn = await signIn(second, phone);
  assert.equal(signedIn.status, 200, signedIn.text);
  assert.equal(signedIn.json.resident.english_name, 'CHAN, Tai Man');
  const me = await second.call('GET', '/api/identity/v1/me');
  assert.equal(me.status, 200);
  assert.equal(me.json.resident.id, enrolled.json.resident.id);

  // A second passkey, from a laptop with packed self attestation.
  const laptop = new SoftAuthenticator({ origin: BASE_URL, attestation: 'packed' });
  const started = await second.call('POST', '/api/identity/v1/me/passkeys/register/start');
  assert.equal(started.status, 200, started.text);
  assert.equal(started.json.publicKey.excludeCredentials.length, 1, 'the phone is excluded');
  assert.throws(() => phone.create(started.json.publicKey), /InvalidStateError/);
  const added = await second.call('POST', '/api/identity/v1/me/passkeys/register/finish', {
    ceremony_id: started.json.ceremony_id,
    credential: laptop.create(started.json.publicKey),
    name: 'Laptop',
  });
  assert.equal(added.status, 201, added.text);

  const listed = await second.call('GET', '/api/identity/v1/me/passkeys');
  assert.deepEqual(
    listed.json.passkeys.map((p) => p.name),
    ['Phone', 'Laptop'],
  );
  const [phoneKey, laptopKey] = listed.json.passkeys;
  assert.ok(phoneKey.last_used_at, 'the phone signed in');
  assert.equal(laptopKey.last_used_at, null);

  // The laptop signs in too; then the phone's passkey is removed and stops working.
  const third = client();
  assert.equal((await signIn(third, laptop)).status, 200);
  const removed = await third.call('DELETE', `/api/identity/v1/me/passkeys/${phoneKey.id}`);
  assert.equal(removed.status, 204, removed.text);
  assertProblem(await signIn(client(), phone), 403, 'identity.passkey_invalid', 'a removed passkey');

  // The last passkey stays.
  assertProblem(
    await third.call('DELETE', `/api/identity/v1/me/passkeys/${laptopKey.id}`),
    409,
    'identity.last_passkey',
    'removing the last passkey',
  );
  assert.equal((await third.call('GET', '/api/identity/v1/me/passkeys')).json.passkeys.length, 1);

  // Sign-out ends that session only.
  const out = await third.call('POST', '/api/identity/v1/me/logout');
  assert.equal(out.status, 204);
  assertProblem(await third.call('GET', '/api/identity/v1/me/passkeys'), 401, 'identity.unauthenticated', 'after sign-out');
  assert.equal((await second.call('GET', '/api/identity/v1/me')).status, 200, 'other sessions live on');
});

test('wrong challenge, wrong origin and replayed assertions are refused', async () => {
  const wongHkid = (await demoCode(client(), 'Y523187(4)')).hkid;
  const device = new SoftAuthenticator({ origin: BASE_URL });
  await enrol(client(), device, wongHkid, 'Phone');
  const browser = client();

  // Wrong challenge: the answer to one ceremony, sent to another.
  const a = await browser.call('POST', '/api/identity/v1/passkeys/login/start');
  const b = await browser.call('POST', '/api/identity/v1/passkeys/login/start');
  const forA = device.get(a.json.publicKey);
  assertProblem(
    await browser.call('POST', '/api/identity/v1/passkeys/login/finish', { ceremony_id: b.json.ceremony_id, credential: forA }),
    403,
    'identity.passkey_invalid',
    'wrong challenge',
  );

  // Wrong origin: what a phishing page at another origin would obtain.
  const phished = new SoftAuthenticator({ origin: BASE_URL.replace(/:(\d+)$/, (_, port) => `:${Number(port) + 1}`) });
  phished.credentials = device.credentials;
  const c = await browser.call('POST', '/api/identity/v1/passkeys/login/start');
  assertProblem(
    await browser.call('POST', '/api/identity/v1/passkeys/login/finish', {
      ceremony_id: c.json.ceremony_id,
      credential: phished.get(c.json.publicKey),
    }),
    403,
    'identity.passkey_invalid',
    'wrong origin',
  );

  // Replay: a good answer works once; again, its ceremony is gone.
  const d = await browser.call('POST', '/api/identity/v1/passkeys/login/start');
  const good = { ceremony_id: d.json.ceremony_id, credential: device.get(d.json.publicKey) };
  assert.equal((await browser.call('POST', '/api/identity/v1/passkeys/login/finish', good)).status, 200);
  assertProblem(
    await client().call('POST', '/api/identity/v1/passkeys/login/finish', good),
    410,
    'identity.ceremony_expired',
    'replayed assertion',
  );

  // A registration answer without user verification is refused.
  const careless = new SoftAuthenticator({ origin: BASE_URL, userVerified: false });
  const e = await browser.call('POST', '/api/identity/v1/me/passkeys/register/start');
  assertProblem(
    await browser.call('POST', '/api/identity/v1/me/passkeys/register/finish', {
      ceremony_id: e.json.ceremony_id,
      credential: careless.create(e.json.publicKey),
    }),
    403,
    'identity.passkey_invalid',
    'no user verification',
  );

  // Bad input: named fields, nothing changed.
  const bad = await client().call('POST', '/api/identity/v1/enrolment/start', { hkid: 'A123456(4)', code: '1' });
  assertProblem(bad, 422, 'identity.field_invalid', 'bad HKID and code');
  assert.deepEqual(
    bad.json.errors.map((e) => e.pointer),
    ['/hkid'],
  );
});
