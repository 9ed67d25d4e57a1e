// The hosted banks for the FPS tests: random mobile numbers no other test uses, accounts
// opened from /pay, cash deposits through the operator's API, and balances as /pay shows them.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { visit, clickAndWait, BASE_URL } from '../support.mjs';

const ADMIN_TOKEN = process.env.BAUHINIA_TEST_ADMIN_TOKEN;

/** A random Hong Kong mobile number no other test uses: `9` and seven digits. */
export function randomMobile() {
  const digits = `9${String(randomInt(10_000_000)).padStart(7, '0')}`;
  return { typed: `${digits.slice(0, 4)} ${digits.slice(4)}`, registration: `+852 ${digits.slice(0, 4)} ${digits.slice(4)}`, last4: digits.slice(4) };
}

/** Opens an HKD account at `bank` from the /pay page; returns its number. */
export async function openAccount(page, bank) {
  await visit(page, '/pay');
  await page.selectOption('#open-account select[name="bank"]', bank);
  await page.selectOption('#open-account select[name="currency"]', 'HKD');
  await clickAndWait(page, page.locator('#open-account button[type="submit"]'));
  const numbers = await page.locator('.account').evaluateAll((els) => els.map((e) => e.dataset.account));
  const number = numbers.find((n) => n.startsWith(`${bank}-`));
  assert.ok(number, `an account at ${bank} is listed: ${numbers}`);
  return number;
}

/** A cash deposit at the counter, through the operator's API. */
export async function deposit(number, amount) {
  const res = await fetch(`${BASE_URL}/api/v1/banks/accounts/${number}/deposits`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: randomUUID(), amount, currency: 'HKD' }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  assert.equal(body.status, 'accepted');
}

/** The account's balance as /pay shows it. */
export async function balanceOf(page, number) {
  await visit(page, '/pay');
  return page.locator(`.account[data-account="${number}"] .account-balance`).innerText();
}

/** Registers the resident's mobile number for FPS for `account`, with consent, from /pay. */
export async function registerMobile(page, account) {
  await visit(page, '/pay');
  await page.selectOption('#proxy-kind', 'mobile');
  await page.selectOption('#proxy-account', account);
  await page.check('#proxy-consent');
  await clickAndWait(page, page.locator('#register-proxy button[type="submit"]'));
  const refused = await page.locator('#pay-errors').count();
  assert.equal(refused, 0, refused ? await page.locator('#pay-errors').innerText() : '');
}
