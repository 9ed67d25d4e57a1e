// (i) The home page renders in all three languages; the choice made with the
// language switcher is remembered (cookie) on later pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser,
  newContext,
  visit,
  htmlLang,
  checkLanguageSwitcher,
  switchLanguage,
  screenshot,
  DEFAULT_LANG,
} from './support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('a new visitor gets Traditional Chinese by default', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await visit(page, '/');
    assert.equal(await htmlLang(page), DEFAULT_LANG);
    await checkLanguageSwitcher(page);
  } finally {
    await context.close();
  }
});

test('home and funding pages in every language, switched with the links and remembered', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await visit(page, '/');
    const h1 = {};
    // Away from the default first, then back to it, so every switch is a change.
    for (const lang of ['en', 'zh-Hans', 'zh-Hant']) {
      await visit(page, '/');
      await switchLanguage(page, lang);
      await checkLanguageSwitcher(page);
      const cookies = await context.cookies();
      assert.ok(cookies.length > 0, `switching to ${lang} set a cookie`);
      h1[lang] = (await page.locator('h1').first().innerText()).trim();
      assert.ok(h1[lang].length > 0, `home <h1> has text in ${lang}`);
      await screenshot(page, `home-${lang}.png`);

      // A fresh navigation (not a link) still uses the chosen language.
      await visit(page, '/funding');
      assert.equal(await htmlLang(page), lang, `/funding remembers ${lang}`);
      await checkLanguageSwitcher(page);
      await screenshot(page, `funding-${lang}.png`);

      // And so does a reload of the home page.
      await visit(page, '/');
      assert.equal(await htmlLang(page), lang, `/ remembers ${lang}`);
    }
    assert.notEqual(h1.en, h1['zh-Hant'], 'the English home <h1> is translated');
  } finally {
    await context.close();
  }
});

test('switching language on /funding returns to /funding', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await visit(page, '/funding');
    await switchLanguage(page, 'en');
    await switchLanguage(page, 'zh-Hans');
    await visit(page, '/');
    assert.equal(await htmlLang(page), 'zh-Hans');
  } finally {
    await context.close();
  }
});
