// A software WebAuthn authenticator for tests that sign in without a browser (Node 20, built-in
// `crypto` only). It plays both the authenticator and the browser's part: it answers
// `navigator.credentials.create`-style options with a new P-256 (ES256) discoverable credential
// and a `none` or packed self attestation, and `navigator.credentials.get`-style options with an
// assertion signed over authenticatorData ‖ SHA-256(clientDataJSON), giving the user handle so
// sign-in can be usernameless. Its answers are JSON in the shape webauthn-rs reads: binary
// members in unpadded base64url.
//
//   import { SoftAuthenticator } from './lib/soft-authenticator.mjs';
//   const device = new SoftAuthenticator({ origin: 'http://localhost:8080' });
//   const credential = device.create(started.publicKey);   // options as the server sent them
//   const assertion = device.get(started.publicKey);
//
// Options may be the JSON the server sends (base64url strings) or browser-style objects
// (ArrayBuffer / typed arrays), bare or wrapped as `{ publicKey }`. Constructor options let a test
// misbehave on purpose: another origin, no user verification, a counter that does not move.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;
const ES256 = -7;

// ---- base64url ---------------------------------------------------------------------------

export function toB64url(bytes) {
  return Buffer.from(bytes).toString('base64url');
}

export function fromB64url(text) {
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

/** Bytes from base64url text, an ArrayBuffer or a typed array. */
function bytesOf(value, what) {
  if (typeof value === 'string') return fromB64url(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`${what} must be base64url text or bytes`);
}

const sha256 = (data) => createHash('sha256').update(data).digest();

// ---- CBOR (RFC 8949): the subset WebAuthn uses --------------------------------------------

function head(major, value) {
  const m = major << 5;
  if (value < 24) return Buffer.from([m | value]);
  if (value < 0x100) return Buffer.from([m | 24, value]);
  if (value < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = m | 25;
    b.writeUInt16BE(value, 1);
    return b;
  }
  if (value < 0x100000000) {
    const b = Buffer.alloc(5);
    b[0] = m | 26;
    b.writeUInt32BE(value, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = m | 27;
  b.writeBigUInt64BE(BigInt(value), 1);
  return b;
}

/**
 * Encodes integers, byte strings (Uint8Array/Buffer), text, arrays, booleans, null and maps
 * (a `Map`, whose keys may be integers, or a plain object with text keys), in the order given.
 */
function encode(value) {
  if (value === null) return Buffer.from([0xf6]);
  if (value === false) return Buffer.from([0xf4]);
  if (value === true) return Buffer.from([0xf5]);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`CBOR: only integers, not ${value}`);
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, text.length), text]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(encode)]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}

/** Decodes one item; maps become `Map`s (WebAuthn keys are text or integers). */
function decode(bytes) {
  const data = Buffer.from(bytes);
  let at = 0;
  const need = (n) => {
    if (at + n > data.length) throw new RangeError('CBOR: truncated');
  };
  const argument = (info) => {
    if (info < 24) return info;
    const size = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
    if (!size) throw new RangeError(`CBOR: unsupported additional information ${info}`);
    need(size);
    const v = size === 8 ? Number(data.readBigUInt64BE(at)) : data.readUIntBE(at, size);
    at += size;
    return v;
  };
  const item = () => {
    need(1);
    const first = data[at++];
    const major = first >> 5;
    const info = first & 0x1f;
    if (major === 7) {
      const simple = { 20: false, 21: true, 22: null }[info];
      if (simple === undefined) throw new RangeError(`CBOR: unsupported simple value ${info}`);
      return simple;
    }
    const n = argument(info);
    switch (major) {
      case 0:
        return n;
      case 1:
        return -1 - n;
      case 2:
        need(n);
        return new Uint8Array(data.subarray(at, (at += n)));
      case 3:
        need(n);
        return data.subarray(at, (at += n)).toString('utf8');
      case 4:
        return Array.from({ length: n }, item);
      case 5: {
        const map = new Map();
        for (let i = 0; i < n; i++) map.set(item(), item());
        return map;
      }
      default:
        throw new RangeError(`CBOR: unsupported major type ${major}`);
    }
  };
  const value = item();
  if (at !== data.length) throw new RangeError('CBOR: trailing bytes');
  return value;
}

export const cbor = { encode, decode };

// ---- the authenticator --------------------------------------------------------------------

export class SoftAuthenticator {
  /**
   * @param {object} options
   * @param {string} options.origin         the page origin written into clientDataJSON
   * @param {boolean} [options.userVerified] set the UV flag (a PIN or biometric was checked)
   * @param {boolean} [options.backedUp]     claim a synced passkey (flags BE and BS)
   * @param {boolean} [options.counting]     raise the signature counter on every assertion
   * @param {'none'|'packed'} [options.attestation] `packed` is self attestation
   */
  constructor({ origin, userVerified = true, backedUp = false, counting = true, attestation = 'none' } = {}) {
    if (!origin) throw new TypeError('SoftAuthenticator needs the origin of the pages it answers');
    this.origin = origin.replace(/\/+$/, '');
    this.userVerified = userVerified;
    this.backedUp = backedUp;
    this.counting = counting;
    this.attestation = attestation;
    this.aaguid = Buffer.from('bauhinia-soft-au', 'latin1');
    /** @type {{id: Buffer, rpId: string, userHandle: Uint8Array, privateKey: import('node:crypto').KeyObject, counter: number}[]} */
    this.credentials = [];
  }

  flags() {
    return FLAG_UP | (this.userVerified ? FLAG_UV : 0) | (this.backedUp ? FLAG_BE | FLAG_BS : 0);
  }

  clientData(type, challenge) {
    const json = JSON.stringify({
      type,
      challenge: toB64url(bytesOf(challenge, 'challenge')),
      origin: this.origin,
      crossOrigin: false,
    });
    return Buffer.from(json, 'utf8');
  }

  /** `navigator.credentials.create({ publicKey })`: a new discoverable credential. */
  create(options) {
    const publicKey = options.publicKey ?? options;
    const rpId = publicKey.rp?.id;
    if (!rpId) throw new TypeError('the options have no rp.id');
    if (!publicKey.pubKeyCredParams?.some((p) => p.alg === ES256)) {
      throw new Error('NotSupportedError: the relying party does not accept ES256');
    }
    const excluded = (publicKey.excludeCredentials ?? []).map((c) => Buffer.from(bytesOf(c.id, 'excludeCredentials.id')));
    if (this.credentials.some((c) => c.rpId === rpId && excluded.some((id) => id.equals(c.id)))) {
      throw new Error('InvalidStateError: this authenticator already holds an excluded credential');
    }
    const clientDataJSON = this.clientData('webauthn.create', publicKey.challenge);
    const { privateKey, publicKey: key } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = key.export({ format: 'jwk' });
    const coseKey = encode(
      new Map([
        [1, 2], // kty: EC2
        [3, ES256], // alg
        [-1, 1], // crv: P-256
        [-2, fromB64url(jwk.x)],
        [-3, fromB64url(jwk.y)],
      ]),
    );
    const id = randomBytes(32);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(id.length);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([this.flags() | FLAG_AT]),
      Buffer.alloc(4), // signCount 0
      this.aaguid,
      length,
      id,
      coseKey,
    ]);
    const attStmt =
      this.attestation === 'packed'
        ? { alg: ES256, sig: new Uint8Array(sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), privateKey)) }
        : {};
    const attestationObject = encode({ fmt: this.attestation, attStmt, authData: new Uint8Array(authData) });
    this.credentials.push({
      id,
      rpId,
      userHandle: bytesOf(publicKey.user.id, 'user.id'),
      privateKey,
      counter: 0,
    });
    return {
      id: toB64url(id),
      rawId: toB64url(id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      response: {
        attestationObject: toB64url(attestationObject),
        clientDataJSON: toB64url(clientDataJSON),
        transports: ['internal'],
      },
      clientExtensionResults: { credProps: { rk: true } },
    };
  }

  /**
   * `navigator.credentials.get({ publicKey })`: an assertion from the newest credential for the
   * RP (among `allowCredentials` when the options list any, or the one `credentialId` names).
   */
  get(options, { credentialId } = {}) {
    const publicKey = options.publicKey ?? options;
    const rpId = publicKey.rpId;
    if (!rpId) throw new TypeError('the options have no rpId');
    const allowed = (publicKey.allowCredentials ?? []).map((c) => Buffer.from(bytesOf(c.id, 'allowCredentials.id')));
    const wanted = credentialId === undefined ? undefined : Buffer.from(bytesOf(credentialId, 'credentialId'));
    const credential = [...this.credentials]
      .reverse()
      .find(
        (c) =>
          c.rpId === rpId &&
          (allowed.length === 0 || allowed.some((id) => id.equals(c.id))) &&
          (!wanted || wanted.equals(c.id)),
      );
    if (!credential) throw new Error('NotAllowedError: no credential for this relying party');
    if (this.counting) credential.counter += 1;
    const clientDataJSON = this.clientData('webauthn.get', publicKey.challenge);
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(credential.counter);
    const authenticatorData = Buffer.concat([sha256(rpId), Buffer.from([this.flags()]), counter]);
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), credential.privateKey);
    return {
      id: toB64url(credential.id),
      rawId: toB64url(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      response: {
        authenticatorData: toB64url(authenticatorData),
        clientDataJSON: toB64url(clientDataJSON),
        signature: toB64url(signature),
        userHandle: toB64url(credential.userHandle),
      },
      clientExtensionResults: {},
    };
  }
}
