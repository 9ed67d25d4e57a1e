// eDDA in the portal, end to end in Chromium: a resident (the debtor, at HSBC, 004) sets up a
// direct debit authorisation on /pay/mandates for a merchant's account at ZA Bank (387) with a
// limit per debit and per month; the merchant's bank collects through the operator's API —
// within the limits, once per id — and both histories and balances show it; suspended, the
// mandate collects nothing; cancelled, it is gone for good. A simplified mandate the merchant's
// bank proposes waits for the debtor, who confirms one and rejects another.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { launchBrowser, visit, screenshot, clickAndWait, BASE_URL } from './support.mjs';
import { enrolledPhone } from './lib/phone.mjs';
import { randomMobile, openAccount, deposit, balanceOf } from './lib/bank.mjs';

const ADMIN_TOKEN = process.env.BAUHINIA_TEST_ADMIN_TOKEN;
let browser;

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** The merchant's bank collects `amount` under `mandate`; returns the status and body. */
async function collect(mandate, amount, id = randomUUID()) {
  const res = await fetch(`${BASE_URL}/api/v1/banks/mandates/${mandate}/collections`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id, amount, currency: 'HKD', reference: 'Bill 2026-11' }),
  });
  return { status: res.status, body: await res.json() };
}

/** The merchant's bank proposes a simplified mandate of HK$50 a debit and a month. */
async function propose(debtor, creditor) {
  const res = await fetch(`${BASE_URL}/api/v1/banks/mandates`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: randomUUID(), debtor_account: debtor, creditor_account: creditor, currency: 'HKD', per_debit_limit: '50.00', monthly_limit: '50.00' }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

async function setUp(page, debtor, fields) {
  await visit(page, '/pay/mandates');
  await page.selectOption('#mandate-debtor', debtor);
  await page.fill('#mandate-creditor', fields.creditor);
  await page.fill('#mandate-per-debit', fields.perDebit);
  await page.fill('#mandate-monthly', fields.monthly);
  await clickAndWait(page, page.locator('#mandate-button'));
}

async function act(page, mandate, action) {
  await visit(page, '/pay/mandates');
  await clickAndWait(page, page.locator(`.mandate[data-mandate="${mandate}"] .mandate-action[data-action="${action}"] button`));
  assert.equal(await page.locator('#mandate-errors').count(), 0);
  return page.locator(`.mandate[data-mandate="${mandate}"] .mandate-status`).getAttribute('data-status');
}

test('a resident authorises direct debits within limits; the merchant collects; suspend, resume, cancel; confirm, reject', async () => {
  const debtor = await enrolledPhone(browser, { english_name: 'MAK, Ho Yin', chinese_name: '麥浩賢', mobile: randomMobile().registration });
  const merchant = await enrolledPhone(browser, { english_name: 'KWOK, Lai Ping', chinese_name: '郭麗萍', mobile: randomMobile().registration });
  try {
    const from = await openAccount(debtor.page, '004');
    const to = await openAccount(merchant.page, '387');
    await deposit(from, '1000.00');

    // Bad forms are named, and set up nothing.
    await setUp(debtor.page, from, { creditor: from, perDebit: '100', monthly: '150' });
    assert.match(await debtor.page.locator('#mandate-errors').innerText(), /同一銀行/);
    await setUp(debtor.page, from, { creditor: to, perDebit: '200', monthly: '150' });
    assert.match(await debtor.page.locator('#mandate-errors').innerText(), /每月上限不少於每次上限/);
    assert.equal(await debtor.page.locator('.mandate').count(), 0);

    // A mandate of HK$100 a debit, HK$150 a month: active at once.
    await setUp(debtor.page, from, { creditor: to, perDebit: '100', monthly: '150' });
    assert.equal(await debtor.page.locator('#mandates-notice').innerText(), '已設立直接付款授權。');
    const item = debtor.page.locator('.mandate').first();
    const mandate = await item.getAttribute('data-mandate');
    assert.match(await item.innerText(), /KWOK L\*\* P\*\*/);
    assert.equal(await item.locator('.mandate-status').getAttribute('data-status'), 'active');
    assert.equal(await item.locator('.mandate-per-debit').innerText(), 'HKD 100.00');
    await screenshot(debtor.page, 'fps-mandate-active.png');

    // The merchant's bank collects HK$80, once however often sent.
    const id = randomUUID();
    const first = await collect(mandate, '80.00', id);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.state, 'settled');
    assert.equal((await collect(mandate, '80.00', id)).body.fps_transfer, first.body.fps_transfer);
    // Beyond the limit per debit: refused, nothing changes; beyond the month's: failed.
    const over = await collect(mandate, '120.00');
    assert.equal(over.status, 422);
    assert.equal(over.body.code, 'bank.invalid');
    const month = await collect(mandate, '80.00');
    assert.equal(month.body.state, 'failed');
    assert.equal(month.body.reason, 'mandate_limit_exceeded');

    assert.equal(await balanceOf(debtor.page, from), 'HKD 920.00');
    assert.match(await debtor.page.locator('.payment.out').first().innerText(), /KWOK L\*\* P\*\*/);
    assert.equal(await balanceOf(merchant.page, to), 'HKD 80.00');
    const incoming = merchant.page.locator('.payment.in').first();
    assert.match(await incoming.locator('.payment-amount').innerText(), /\+HKD 80\.00/);
    assert.match(await incoming.innerText(), /Bill 2026-11/);

    // Suspended: nothing is collected. Resumed, then cancelled for good.
    assert.equal(await act(debtor.page, mandate, 'suspend'), 'suspended');
    const held = await collect(mandate, '10.00');
    assert.equal(held.status, 409);
    assert.equal(held.body.code, 'bank.mandate_state');
    assert.equal(await act(debtor.page, mandate, 'resume'), 'active');
    assert.equal(await act(debtor.page, mandate, 'cancel'), 'cancelled');
    assert.equal(await debtor.page.locator(`.mandate[data-mandate="${mandate}"] .mandate-action`).count(), 0);
    assert.equal((await collect(mandate, '10.00')).status, 409);
    assert.equal(await balanceOf(debtor.page, from), 'HKD 920.00');

    // Simplified: the merchant's bank proposes; pending until the debtor confirms (or rejects).
    const proposed = await propose(from, to);
    assert.equal(proposed.status, 'pending');
    assert.equal((await collect(proposed.id, '10.00')).status, 409);
    await visit(debtor.page, '/pay/mandates');
    const pending = debtor.page.locator(`.mandate[data-mandate="${proposed.id}"]`);
    assert.equal(await pending.locator('.mandate-status').innerText(), '待確認');
    await screenshot(debtor.page, 'fps-mandate-pending.png');
    assert.equal(await act(debtor.page, proposed.id, 'confirm'), 'active');
    assert.equal((await collect(proposed.id, '10.00')).body.state, 'settled');
    const unwanted = await propose(from, to);
    assert.equal(await act(debtor.page, unwanted.id, 'reject'), 'rejected');
    assert.equal((await collect(unwanted.id, '10.00')).status, 409);
    assert.equal(await balanceOf(debtor.page, from), 'HKD 910.00');
    assert.equal(await balanceOf(merchant.page, to), 'HKD 90.00');
  } finally {
    await debtor.context.close();
    await merchant.context.close();
  }
});
