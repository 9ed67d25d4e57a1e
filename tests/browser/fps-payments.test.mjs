// 轉數快 FPS end to end, in Chromium: two residents of the test's own, each signed in to the
// portal with a passkey (智方便), open accounts at two different hosted banks (HSBC, 004, and
// ZA Bank, 387 — a digital bank). The payee registers her mobile number for FPS; the payer
// sends money to that mobile number — the review page shows the payee's bank and masked name —
// and both histories show the payment, with both balances moved. Then the payee makes a QR
// code with an amount, and the payer pays it by pasting its payload; and a payment beyond the
// balance fails with the reason and moves nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, visit, screenshot, clickAndWait, BASE_URL } from './support.mjs';
import { enrolledPhone } from './lib/phone.mjs';
import { randomMobile, openAccount, deposit, balanceOf, registerMobile } from './lib/bank.mjs';

const ADMIN_TOKEN = process.env.BAUHINIA_TEST_ADMIN_TOKEN;
let browser;

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** A phone with a new resident of the test's own enrolled and signed in on it. */
function signedInPhone(names, mobile) {
  return enrolledPhone(browser, { ...names, mobile: mobile.registration });
}

/** Fills the send form, goes to the review page and returns what it shows. */
async function review(page, from, fields) {
  await visit(page, '/pay/send');
  await page.selectOption('#field-from', from);
  if (fields.payload) {
    await page.locator('#send-form details summary').click();
    await page.fill('#field-payload', fields.payload);
  } else {
    await page.selectOption('#field-kind', fields.kind);
    await page.fill('#field-payee', fields.payee);
    await page.fill('#field-amount', fields.amount);
    await page.fill('#field-reference', fields.reference ?? '');
  }
  await clickAndWait(page, page.locator('#review-button'));
  const errors = await page.locator('#send-errors').count();
  assert.equal(errors, 0, errors ? await page.locator('#send-errors').innerText() : '');
  return {
    name: await page.locator('#review-name').innerText(),
    bank: await page.locator('#review-bank').innerText(),
    amount: await page.locator('#review-amount').innerText(),
    address: await page.locator('#review-address').innerText(),
  };
}

test('a resident pays another by mobile number, from one bank to another; both histories show it', async () => {
  const payerMobile = randomMobile();
  const payeeMobile = randomMobile();
  const payer = await signedInPhone({ english_name: 'HO, Ka Yan', chinese_name: '何嘉欣' }, payerMobile);
  const payee = await signedInPhone({ english_name: 'TAM, Chi Keung', chinese_name: '譚志強' }, payeeMobile);
  try {
    // Accounts at two banks, and money in the payer's.
    const from = await openAccount(payer.page, '004');
    const to = await openAccount(payee.page, '387');
    await deposit(from, '1000.00');
    assert.equal(await balanceOf(payer.page, from), 'HKD 1000.00');

    // The payee registers her mobile number for FPS at her bank, with consent.
    await registerMobile(payee.page, to);
    assert.match(await payee.page.locator('#pay-notice').innerText(), new RegExp(`\\+852-\\*\\*\\*\\*${payeeMobile.last4}`));
    assert.match(await payee.page.locator('.proxy').first().innerText(), new RegExp(to));
    await screenshot(payee.page, 'fps-payee-registered.png');

    // The payer sends HK$123.45 to that mobile number: the review shows who will be paid.
    const shown = await review(payer.page, from, { kind: 'mobile', payee: payeeMobile.typed, amount: '123.45', reference: 'Dinner 晚飯' });
    assert.equal(shown.bank, '眾安銀行');
    assert.equal(shown.name, 'TAM C** K**');
    assert.equal(shown.amount, 'HKD 123.45');
    await screenshot(payer.page, 'fps-send-review.png');
    const confirmed = await payer.page.locator('#confirm-form input[type="hidden"]').evaluateAll((inputs) => inputs.map((i) => [i.name, i.value]));
    await clickAndWait(payer.page, payer.page.locator('#confirm'));
    assert.match(new URL(payer.page.url()).pathname, /^\/pay\/payments\//);
    assert.equal(await payer.page.locator('#receipt-state').innerText(), '已完成');
    assert.equal(await payer.page.locator('#receipt-amount').innerText(), '−HKD 123.45');
    const transfer = await payer.page.locator('#receipt-transfer').innerText();
    assert.match(transfer, /^[0-9a-f-]{36}$/);
    await screenshot(payer.page, 'fps-send-receipt.png');

    // Sending the same confirmed form again (a double click, a resubmission) pays nothing more.
    await Promise.all([
      payer.page.waitForNavigation({ waitUntil: 'load' }),
      payer.page.evaluate((fields) => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = '/pay/send';
        for (const [name, value] of fields) {
          const input = document.createElement('input');
          Object.assign(input, { type: 'hidden', name, value });
          form.append(input);
        }
        document.body.append(form);
        form.submit();
      }, confirmed),
    ]);
    assert.equal(await payer.page.locator('#receipt-transfer').innerText(), transfer);

    // Both histories show it; both balances moved.
    assert.equal(await balanceOf(payer.page, from), 'HKD 876.55');
    const out = payer.page.locator('.payment.out').first();
    assert.match(await out.locator('.payment-amount').innerText(), /−HKD 123\.45/);
    assert.match(await out.innerText(), /TAM C\*\* K\*\*/);
    assert.match(await out.innerText(), /眾安銀行/);
    assert.equal(await payer.page.locator('.payment').count(), 1);
    await screenshot(payer.page, 'fps-payer-history.png');

    assert.equal(await balanceOf(payee.page, to), 'HKD 123.45');
    const incoming = payee.page.locator('.payment.in').first();
    assert.match(await incoming.locator('.payment-amount').innerText(), /\+HKD 123\.45/);
    assert.match(await incoming.innerText(), /HO K\*\* Y\*\*/);
    assert.match(await incoming.innerText(), /香港上海滙豐銀行/);
    assert.match(await incoming.innerText(), /Dinner 晚飯/);
    await screenshot(payee.page, 'fps-payee-history.png');

    // The participant console: the payer's bank (004) signs in with its API token, sees its
    // HKD position and finds the transfer among those it paid to ZA Bank (387).
    const console = await browser.newContext({ locale: 'en-GB' });
    try {
      const res = await fetch(`${BASE_URL}/api/v1/fps/participants/004/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ label: 'console test' }),
      });
      assert.equal(res.status, 201);
      const { token } = await res.json();
      const desk = await console.newPage();
      await visit(desk, '/fps/console?lang=en');
      await desk.fill('#console-token', 'not-a-token');
      await clickAndWait(desk, desk.locator('#console-login button[type="submit"]'));
      assert.equal(await desk.locator('#console-refused').count(), 1, 'a wrong token is refused');
      await desk.fill('#console-token', token);
      await clickAndWait(desk, desk.locator('#console-login button[type="submit"]'));
      assert.match(await desk.locator('#console-participant').innerText(), /\(004\)/);
      assert.match(await desk.locator('#positions tr[data-currency="HKD"] .position-balance').innerText(), /^\d+\.\d{2}$/);
      await desk.selectOption('#search-counterparty', '387');
      await desk.selectOption('#search-direction', 'out');
      await clickAndWait(desk, desk.locator('#transfer-search button[type="submit"]'));
      const found = await desk.locator('tr.transfer').evaluateAll((rows) => rows.map((r) => r.dataset.transfer));
      assert.ok(found.includes(transfer), `the payment's transfer is found: ${found}`);
      await desk.fill('#search-id', transfer);
      await clickAndWait(desk, desk.locator('#transfer-search button[type="submit"]'));
      assert.equal(await desk.locator('tr.transfer').count(), 1);
      assert.match(await desk.locator('tr.transfer .transfer-amount').innerText(), /−HKD 123\.45/);
      await screenshot(desk, 'fps-participant-console.png');
    } finally {
      await console.close();
    }

    // The payee makes a QR code for HK$20 with a reference; the payer pays it by its payload.
    await visit(payee.page, `/pay/receive?account=${to}&amount=20&reference=INV-42`);
    assert.equal(await payee.page.locator('#receive-qr svg').count(), 1, 'the QR code is drawn');
    const payload = await payee.page.locator('#receive-payload').innerText();
    assert.match(payload, /^000201/);
    await screenshot(payee.page, 'fps-receive-qr.png');
    const byQr = await review(payer.page, from, { payload });
    assert.equal(byQr.amount, 'HKD 20.00');
    assert.equal(byQr.name, 'TAM C** K**');
    await clickAndWait(payer.page, payer.page.locator('#confirm'));
    assert.equal(await payer.page.locator('#receipt-state').innerText(), '已完成');
    assert.equal(await balanceOf(payee.page, to), 'HKD 143.45');
    assert.match(await payee.page.locator('.payment.in').first().innerText(), /INV-42/);

    // More than the balance: refused with the reason, and nothing moves.
    await review(payer.page, from, { kind: 'mobile', payee: payeeMobile.typed, amount: '5000' });
    await clickAndWait(payer.page, payer.page.locator('#confirm'));
    assert.equal(await payer.page.locator('#receipt-state').innerText(), '未能完成');
    assert.match(await payer.page.locator('#receipt-reason').innerText(), /結餘不足/);
    assert.equal(await balanceOf(payer.page, from), 'HKD 856.55');
    assert.equal(await balanceOf(payee.page, to), 'HKD 143.45');
  } finally {
    await payer.context.close();
    await payee.context.close();
  }
});

test('the payments pages ask for 智方便 sign-in, and an unknown mobile number is named as such', async () => {
  const context = await browser.newContext({ locale: 'zh-HK' });
  const page = await context.newPage();
  try {
    await visit(page, '/pay');
    assert.equal(await page.locator('#pay-sign-in').getAttribute('href'), '/app');
    const send = await page.request.get(`${BASE_URL}/pay/send`, { maxRedirects: 0 });
    assert.equal(send.status(), 303);
    assert.equal(send.headers().location, '/pay');
  } finally {
    await context.close();
  }
  const mobile = randomMobile();
  const phone = await signedInPhone({ english_name: 'YIP, Man', chinese_name: '葉文' }, mobile);
  try {
    const from = await openAccount(phone.page, '024');
    await visit(phone.page, '/pay/send');
    await phone.page.selectOption('#field-from', from);
    await phone.page.fill('#field-payee', '4000 0000');
    await phone.page.fill('#field-amount', '1');
    await clickAndWait(phone.page, phone.page.locator('#review-button'));
    assert.match(await phone.page.locator('#send-errors').innerText(), /沒有人以此登記轉數快/);
    await phone.page.fill('#field-amount', '1.234');
    await clickAndWait(phone.page, phone.page.locator('#review-button'));
    assert.match(await phone.page.locator('#send-errors').innerText(), /最多兩位小數/);
    // A payload that is not a valid code is named, with what is wrong.
    await phone.page.locator('#send-form details summary').click();
    await phone.page.fill('#field-payload', '00020101021126');
    await clickAndWait(phone.page, phone.page.locator('#review-button'));
    assert.match(await phone.page.locator('#send-errors').innerText(), /不是有效的轉數快二維碼/);
  } finally {
    await phone.context.close();
  }
});
