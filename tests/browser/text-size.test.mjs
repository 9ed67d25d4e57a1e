// (iv) The text-size toggle switches body.text-large on and off, makes the
// text bigger, and is remembered across pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newContext, visit, clickAndWait, screenshot, url, BASE_URL } from './support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const isLarge = (page) => page.evaluate(() => document.body.classList.contains('text-large'));
const mainFontPx = (page) =>
  page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('main#main')).fontSize));

async function checkToggle(page, want) {
  const toggle = page.locator('#text-size-toggle');
  assert.equal(await toggle.count(), 1, '#text-size-toggle exists');
  assert.ok(await toggle.isVisible(), '#text-size-toggle is visible');
  const href = await toggle.getAttribute('href');
  const target = new URL(href, page.url());
  assert.equal(target.origin, new URL(BASE_URL).origin);
  assert.equal(target.pathname, '/prefs', `toggle ${href} goes to /prefs`);
  assert.equal(target.searchParams.get('text'), want, `toggle ${href}: text=${want}`);
  assert.equal(target.searchParams.get('next'), new URL(page.url()).pathname, `toggle ${href}: next`);
}

test('text-size toggle adds body.text-large and it persists', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await visit(page, '/');
    assert.equal(await isLarge(page), false, 'normal text by default');
    await checkToggle(page, 'large');
    const normalPx = await mainFontPx(page);

    await clickAndWait(page, page.locator('#text-size-toggle'));
    assert.equal(page.url(), url('/'), 'the toggle returns to the same page');
    assert.equal(await isLarge(page), true, 'body.text-large after the toggle');
    assert.ok((await mainFontPx(page)) > normalPx, 'the text in <main> is bigger');
    await checkToggle(page, 'normal');
    await screenshot(page, 'home-text-large.png');

    await visit(page, '/funding');
    assert.equal(await isLarge(page), true, 'large text is remembered on /funding');
    await checkToggle(page, 'normal');
    await screenshot(page, 'funding-text-large.png');

    await clickAndWait(page, page.locator('#text-size-toggle'));
    assert.equal(page.url(), url('/funding'), 'the toggle returns to /funding');
    assert.equal(await isLarge(page), false, 'back to normal text');
    await checkToggle(page, 'large');

    await visit(page, '/');
    assert.equal(await isLarge(page), false, 'normal text is remembered on /');
  } finally {
    await context.close();
  }
});

test('the toggle works from the keyboard', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await visit(page, '/');
    await page.locator('#text-size-toggle').focus();
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
    assert.equal(await isLarge(page), true, 'Enter on the focused toggle makes the text large');
  } finally {
    await context.close();
  }
});
