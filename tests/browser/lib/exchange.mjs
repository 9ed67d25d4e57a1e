// A data consumer of the consented data exchange, written independently of the server's Rust
// code (not a test file itself): `jose` for the detached ES256 signatures, node:crypto for the
// data-blind envelope (X25519, HKDF-SHA256, AES-256-GCM as docs/exchange-encryption.md lays it
// out). Registered through the operator's admin API with a fresh key.
import assert from 'node:assert/strict';
import {
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import * as jose from 'jose';
import { BASE_URL } from '../support.mjs';

const ADMIN_TOKEN = process.env.BAUHINIA_TEST_ADMIN_TOKEN;
const SCHEME = 'X25519-HKDF-SHA256-A256GCM';
const HKDF_INFO = Buffer.from('bauhinia-exchange/v1 aes-256-gcm key', 'ascii');
const AAD_LABEL = Buffer.from('bauhinia-exchange/v1 aad', 'ascii');

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** RFC 3339 (UTC) of a Date. */
export const rfc3339 = (date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** One-time X25519 keys and a 32-byte nonce: what a data request carries. */
export function oneTimeKeys() {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const nonce = randomBytes(32);
  return {
    privateKey,
    nonce,
    material: { version: 1, scheme: SCHEME, key: publicKey.export({ format: 'jwk' }).x, nonce: b64url(nonce) },
  };
}

/** The envelope's associated data: the label, then each id with a 4-byte big-endian length. */
export function canonicalAad(consent, session) {
  const parts = [AAD_LABEL];
  for (const id of [consent, session]) {
    const bytes = Buffer.from(id, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    parts.push(len, bytes);
  }
  return Buffer.concat(parts);
}

/** Opens an envelope with the consumer's one-time keys; throws if it does not open. */
export function openEnvelope(keys, envelope, aad) {
  assert.equal(envelope.scheme, SCHEME);
  const sender = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: envelope.key }, format: 'jwk' });
  const shared = diffieHellman({ privateKey: keys.privateKey, publicKey: sender });
  assert.ok(shared.some((b) => b !== 0), 'an all-zero shared secret');
  const theirs = Buffer.from(envelope.nonce, 'base64url');
  const xor = Buffer.from(keys.nonce.map((b, i) => b ^ theirs[i]));
  const key = Buffer.from(hkdfSync('sha256', shared, xor.subarray(0, 20), HKDF_INFO, 32));
  const sealed = Buffer.from(envelope.ciphertext, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, xor.subarray(20, 32));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}

/** A detached JWS (RFC 7515 Appendix F): the compact form without its payload. */
async function detached(key, header, body) {
  const jws = await new jose.CompactSign(body).setProtectedHeader(header).sign(key);
  const [h, , s] = jws.split('.');
  return `${h}..${s}`;
}

/** Verifies a provider's detached signature over `body` against its published JWKS. */
export async function verifyDetached(signature, body, jwks, expect) {
  const [h, , s] = signature.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `the provider published key ${header.kid}`);
  await jose.compactVerify(`${h}.${b64url(body)}.${s}`, await jose.importJWK(jwk, 'ES256'), { algorithms: ['ES256'] });
  for (const [k, v] of Object.entries(expect)) assert.equal(header[k], v, `header ${k}`);
  return header;
}

export class Bank {
  constructor(id, kid, privateKey) {
    Object.assign(this, { id, kid, privateKey });
  }

  /** Registers a new data consumer with a fresh P-256 key through the admin API. */
  static async register(id = `test-${randomUUID().slice(0, 8)}`) {
    const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
    const kid = `${id}-k1`;
    const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    const response = await fetch(`${BASE_URL}/api/v1/admin/exchange/participants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id,
        name: { en: `Test bank ${id}`, zh_hant: '測試銀行', zh_hans: '测试银行' },
        roles: 'consumer',
        licence: 'bank',
        jwks: { keys: [jwk] },
      }),
    });
    assert.equal(response.status, 201, await response.text());
    return new Bank(id, kid, privateKey);
  }

  /** Sends a signed request; the response, its body bytes and the request's jti. */
  async call(method, path, body = undefined) {
    const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const jti = randomUUID();
    const header = { alg: 'ES256', kid: this.kid, iat: Math.floor(Date.now() / 1000), jti, htm: method, htu: path.split('?')[0] };
    const signature = await detached(this.privateKey, header, bytes);
    const response = await fetch(`${BASE_URL}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-participant-id': this.id, 'x-jws-signature': signature },
      body: method === 'GET' ? undefined : bytes,
    });
    return { response, bytes: Buffer.from(await response.arrayBuffer()), jti };
  }

  /** Asks for a consent; the consent document (PENDING, with approval_url). */
  async requestConsent(request) {
    const { response, bytes } = await this.call('POST', '/api/v1/exchange/consents', request);
    assert.equal(response.status, 201, bytes.toString());
    return JSON.parse(bytes);
  }

  async consent(id) {
    const { response, bytes } = await this.call('GET', `/api/v1/exchange/consents/${id}`);
    assert.equal(response.status, 200, bytes.toString());
    return JSON.parse(bytes);
  }

  /** A data request under `consent`: the raw answer and the one-time keys to open it. */
  async fetchData(consent, provider, products, from, to) {
    const keys = oneTimeKeys();
    const { response, bytes, jti } = await this.call('POST', `/api/v1/exchange/consents/${consent}/fetch`, {
      provider,
      products,
      from: rfc3339(from),
      to: rfc3339(to),
      key_material: keys.material,
    });
    return { response, bytes, jti, keys };
  }
}

/** A consent request for an IADS consent of `owner` at `provider`. */
export function iadsRequest(owner, provider, { returnUrl, products = ['iads.balance', 'iads.transactions'] } = {}) {
  const now = Date.now();
  const day = 86_400_000;
  return {
    purpose: { code: '101', text: "To open your account with us using your existing bank's records." },
    products,
    owner,
    providers: [provider],
    data_range: { from: rfc3339(new Date(now - 180 * day)), to: rfc3339(new Date(now)) },
    frequency: { unit: 'DAY', value: 4 },
    validity: { from: rfc3339(new Date(now - 60_000)), until: rfc3339(new Date(now + 30 * day)) },
    mode: 'VIEW',
    fetch_type: 'PERIODIC',
    ...(returnUrl ? { return_url: returnUrl } : {}),
  };
}
