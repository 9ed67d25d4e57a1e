// Residents of one's own for a test, so tests running side by side on one server never share
// a resident: registered through the administrator's API with a random valid HKID, and given a
// one-time enrolment code the same way (what a registration counter does).
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';

const BASE_URL = process.env.BAUHINIA_TEST_URL.replace(/\/+$/, '');
const ADMIN_TOKEN = process.env.BAUHINIA_TEST_ADMIN_TOKEN;

/** The HKID check character (space = 36, A–Z = 10–35, weights 9..2, mod 11). */
export function hkidWithCheck(prefix, digits) {
  const padded = prefix.length === 1 ? ` ${prefix}` : prefix;
  const values = [...padded].map((c) => (c === ' ' ? 36 : c.charCodeAt(0) - 55)).concat([...digits].map(Number));
  const sum = values.reduce((acc, v, i) => acc + v * (9 - i), 0);
  const r = sum % 11;
  const check = r === 0 ? '0' : r === 1 ? 'A' : String(11 - r);
  return `${prefix}${digits}(${check})`;
}

function admin(path, body) {
  return fetch(`${BASE_URL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/**
 * Registers a new resident with a random HKID; `fields` override the registration's other
 * members (snake_case, as the API takes them). Returns `{ id, hkid, ...registration }`.
 */
export async function newResident(fields = {}) {
  assert.ok(ADMIN_TOKEN, 'BAUHINIA_TEST_ADMIN_TOKEN is set by scripts/browser-test');
  for (let attempt = 0; attempt < 5; attempt++) {
    const letters = 'ABCDEGHKMPRTVWYZ';
    const prefix = letters[randomInt(letters.length)] + letters[randomInt(letters.length)];
    const digits = String(randomInt(1_000_000)).padStart(6, '0');
    const hkid = hkidWithCheck(prefix, digits);
    const registration = {
      english_name: 'LAW, Wing Sze',
      chinese_name: '羅詠詩',
      date_of_birth: '1990-05-17',
      gender: 'F',
      mobile: '+852 6123 4567',
      email: 'wingsze.law@example.hk',
      residential_address: ['Flat 3, 5/F, Block B, Kwai Chung Estate', 'Kwai Chung, New Territories'],
      ...fields,
      hkid,
    };
    const res = await admin('/api/identity/v1/admin/residents', registration);
    if (res.status === 409) continue; // that HKID is taken: draw another
    const text = await res.text();
    assert.equal(res.status, 201, `registering a resident: ${text}`);
    const created = JSON.parse(text);
    return { ...registration, id: created.id, hkid };
  }
  throw new Error('could not draw a free HKID in 5 attempts');
}

/** A one-time enrolment code for a registered resident. */
export async function enrolmentCode(residentId) {
  const res = await admin(`/api/identity/v1/admin/residents/${residentId}/enrolment-code`);
  const text = await res.text();
  assert.equal(res.status, 200, `issuing an enrolment code: ${text}`);
  return JSON.parse(text).code;
}
