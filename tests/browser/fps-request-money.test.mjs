// 轉數快 request money end to end, in Chromium: two residents of the test's own, each signed in
// to the portal with a passkey (智方便), with accounts at two hosted banks (HSBC, 004, and ZA
// Bank, 387). The payer registers her mobile number for FPS; the payee asks that mobile number
// for HK$50 — the request goes through the switch's request-to-pay flow — and the payer sees
// it on /pay and pays it (a second submission pays nothing more); both histories and balances
// show it. A second request is declined, and the payee sees it so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, visit, screenshot, clickAndWait } from './support.mjs';
import { enrolledPhone } from './lib/phone.mjs';
import { randomMobile, openAccount, deposit, balanceOf, registerMobile } from './lib/bank.mjs';

let browser;

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** Fills the request form and sends it; returns the errors shown, if any. */
async function requestMoney(page, to, fields) {
  await visit(page, '/pay/request');
  await page.selectOption('#request-to', to);
  await page.selectOption('#request-kind', 'mobile');
  await page.fill('#request-payer', fields.payer);
  await page.fill('#request-amount', fields.amount);
  await page.fill('#request-reference', fields.reference ?? '');
  await clickAndWait(page, page.locator('#request-button'));
  const errors = page.locator('#request-errors');
  return (await errors.count()) ? errors.innerText() : null;
}

test('a resident asks another for money by mobile number; the payer pays one request and declines another', async () => {
  const payerMobile = randomMobile();
  const payer = await enrolledPhone(browser, { english_name: 'CHOW, Wing Yan', chinese_name: '周詠欣', mobile: payerMobile.registration });
  const payee = await enrolledPhone(browser, { english_name: 'LAI, Chun Hei', chinese_name: '黎俊希', mobile: randomMobile().registration });
  try {
    const from = await openAccount(payer.page, '004');
    const to = await openAccount(payee.page, '387');
    await deposit(from, '1000.00');

    // The payer registers her mobile number for FPS at her bank.
    await registerMobile(payer.page, from);

    // A number no one registered is named as such, and nothing is asked.
    const unknown = await requestMoney(payee.page, to, { payer: '4000 0000', amount: '50' });
    assert.match(unknown ?? '', /沒有人以此登記轉數快/);

    // The payee asks the payer's mobile number for HK$50.
    assert.equal(await requestMoney(payee.page, to, { payer: payerMobile.typed, amount: '50', reference: 'Concert 演唱會' }), null);
    assert.equal(new URL(payee.page.url()).pathname, '/pay');
    assert.match(await payee.page.locator('#pay-notice').innerText(), new RegExp(`\\+852-\\*\\*\\*\\*${payerMobile.last4}`));
    const made = payee.page.locator('.request-out').first();
    assert.match(await made.innerText(), /CHOW W\*\* Y\*\*/);
    assert.equal(await made.locator('.request-amount').innerText(), 'HKD 50.00');
    assert.equal(await made.locator('.request-status').getAttribute('data-status'), 'pending');
    assert.equal(await made.locator('.request-status').innerText(), '待付款');
    await screenshot(payee.page, 'fps-request-made.png');

    // The payer sees it on /pay and pays it.
    await visit(payer.page, '/pay');
    const asked = payer.page.locator('.request-in');
    assert.equal(await asked.count(), 1);
    assert.match(await asked.first().innerText(), /LAI C\*\* H\*\*/);
    assert.match(await asked.first().innerText(), /眾安銀行/);
    assert.equal(await asked.first().locator('.request-amount').innerText(), 'HKD 50.00');
    const requestId = await asked.first().getAttribute('data-request');
    await screenshot(payer.page, 'fps-request-to-pay.png');
    await asked.first().locator('.request-pay select[name="from"]').selectOption(from);
    await clickAndWait(payer.page, asked.first().locator('.request-pay button[type="submit"]'));
    assert.match(new URL(payer.page.url()).pathname, /^\/pay\/payments\//);
    assert.equal(await payer.page.locator('#receipt-state').innerText(), '已完成');
    assert.equal(await payer.page.locator('#receipt-amount').innerText(), '−HKD 50.00');
    const transfer = await payer.page.locator('#receipt-transfer').innerText();

    // The same form sent again (a double click, a resubmission) pays nothing more.
    await Promise.all([
      payer.page.waitForNavigation({ waitUntil: 'load' }),
      payer.page.evaluate(({ id, account }) => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = `/pay/requests/${id}/pay`;
        const input = document.createElement('input');
        Object.assign(input, { type: 'hidden', name: 'from', value: account });
        form.append(input);
        document.body.append(form);
        form.submit();
      }, { id: requestId, account: from }),
    ]);
    assert.equal(await payer.page.locator('#receipt-transfer').innerText(), transfer);

    // Both balances and histories show it; the request is paid and no longer asks.
    assert.equal(await balanceOf(payer.page, from), 'HKD 950.00');
    assert.equal(await payer.page.locator('.payment').count(), 1);
    assert.match(await payer.page.locator('.payment.out .payment-amount').first().innerText(), /−HKD 50\.00/);
    assert.match(await payer.page.locator('.payment.out').first().innerText(), /LAI C\*\* H\*\*/);
    assert.equal(await payer.page.locator('.request-in').count(), 0);
    assert.equal(await balanceOf(payee.page, to), 'HKD 50.00');
    const incoming = payee.page.locator('.payment.in').first();
    assert.match(await incoming.locator('.payment-amount').innerText(), /\+HKD 50\.00/);
    assert.match(await incoming.innerText(), /CHOW W\*\* Y\*\*/);
    assert.match(await incoming.innerText(), /Concert 演唱會/);
    assert.equal(await payee.page.locator('.request-out .request-status').first().getAttribute('data-status'), 'paid');
    assert.equal(await payee.page.locator('.request-out .request-status').first().innerText(), '已付款');
    await screenshot(payee.page, 'fps-request-paid.png');

    // A second request, declined: the payee sees it so, and no money moves.
    assert.equal(await requestMoney(payee.page, to, { payer: payerMobile.typed, amount: '20' }), null);
    await visit(payer.page, '/pay');
    assert.equal(await payer.page.locator('.request-in').count(), 1);
    await clickAndWait(payer.page, payer.page.locator('.request-in .request-decline button[type="submit"]').first());
    assert.equal(await payer.page.locator('#pay-notice').innerText(), '已拒絕付款要求。');
    assert.equal(await payer.page.locator('.request-in').count(), 0);
    await visit(payee.page, '/pay');
    const declined = payee.page.locator('.request-out').first();
    assert.equal(await declined.locator('.request-status').getAttribute('data-status'), 'declined');
    assert.equal(await declined.locator('.request-status').innerText(), '已拒絕');
    assert.equal(await balanceOf(payer.page, from), 'HKD 950.00');
    assert.equal(await balanceOf(payee.page, to), 'HKD 50.00');
  } finally {
    await payer.context.close();
    await payee.context.close();
  }
});
