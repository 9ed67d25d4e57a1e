// Shared helpers for the browser and HTTP tests (not a test file itself).
//
// Environment (set by scripts/browser-test):
//   BAUHINIA_TEST_URL             base URL of the live server, e.g. http://127.0.0.1:41234
//   CHROMIUM_PATH                 browser executable (default /usr/bin/chromium)
//   BAUHINIA_TEST_SCREENSHOT_DIR  where screenshots go (default <repo>/target/screenshots)
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

if (!process.env.BAUHINIA_TEST_URL) {
  throw new Error(
    'BAUHINIA_TEST_URL is not set: run these tests through scripts/browser-test, ' +
      'which starts the server and sets it',
  );
}
export const BASE_URL = process.env.BAUHINIA_TEST_URL.replace(/\/+$/, '');

export const LANGS = ['zh-Hant', 'zh-Hans', 'en'];
export const DEFAULT_LANG = 'zh-Hant';

export const SCREENSHOT_DIR =
  process.env.BAUHINIA_TEST_SCREENSHOT_DIR ?? path.resolve(here, '../../target/screenshots');

/** Absolute URL on the server under test for a path like "/funding?x=1". */
export function url(p = '/') {
  return new URL(p, BASE_URL + '/').href;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh context (no cookies) with a fixed viewport and locale. */
export async function newContext(browser) {
  return browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-HK' });
}

/**
 * Gives a page Chromium's virtual platform authenticator (CDP WebAuthn: CTAP2, resident keys,
 * user verification, presence simulated). Returns the CDP session and the authenticator's id.
 */
export async function addVirtualAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, name.endsWith('.png') ? name : `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** page.goto that also asserts the HTTP status (default 200). */
export async function visit(page, p, expectedStatus = 200) {
  const response = await page.goto(url(p), { waitUntil: 'load' });
  assert.ok(response, `no response for ${p}`);
  assert.equal(response.status(), expectedStatus, `GET ${p}: HTTP status`);
  return response;
}

export async function htmlLang(page) {
  return page.evaluate(() => document.documentElement.getAttribute('lang'));
}

/** Path + query of the page's current URL, e.g. "/funding". */
export function currentPath(page) {
  const u = new URL(page.url());
  return u.pathname + u.search;
}

/**
 * Checks the language switcher on the current page: one link per language,
 * pointing to /prefs?lang=<lang>&next=<current path>. Returns {lang: href}.
 */
export async function checkLanguageSwitcher(page) {
  // `next` is the current path; a server may also keep the query string.
  const here = new URL(page.url());
  const acceptedNext = [here.pathname, here.pathname + here.search];
  const hrefs = {};
  for (const lang of LANGS) {
    const link = page.locator(`a[hreflang="${lang}"]`);
    assert.equal(await link.count(), 1, `exactly one a[hreflang="${lang}"] on ${page.url()}`);
    const href = await link.getAttribute('href');
    assert.ok(href, `a[hreflang="${lang}"] has an href`);
    const target = new URL(href, page.url());
    assert.equal(target.origin, new URL(BASE_URL).origin, `switcher link ${href} stays on the site`);
    assert.equal(target.pathname, '/prefs', `switcher link ${href} goes to /prefs`);
    assert.equal(target.searchParams.get('lang'), lang, `switcher link ${href}: lang`);
    assert.ok(
      acceptedNext.includes(target.searchParams.get('next')),
      `switcher link ${href}: next should be ${acceptedNext[0]}`,
    );
    hrefs[lang] = href;
  }
  return hrefs;
}

/** Clicks a link and waits for the resulting navigation (following redirects). */
export async function clickAndWait(page, locator) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
}

/** Switches the UI language with the switcher on the current page. */
export async function switchLanguage(page, lang) {
  const before = new URL(page.url()).pathname;
  await clickAndWait(page, page.locator(`a[hreflang="${lang}"]`));
  assert.equal(new URL(page.url()).pathname, before, `switching to ${lang} returns to ${before}`);
  assert.equal(await htmlLang(page), lang, `html[lang] after switching to ${lang}`);
}

/** The 30-person Hong Kong manufacturer used by the questionnaire and API tests. */
export const MANUFACTURER = Object.freeze({
  applicant_type: 'manufacturer',
  sectors: ['manufacturing'],
  employees: 30,
  years_operating: 12,
  locations: ['hong_kong'],
  purposes: ['smart_production_line'],
  project_cost_hkd: '20000000',
  operates_production_line_in_hk: true,
});

/** The same applicant as a /funding/results query string. */
export function manufacturerQuery(overrides = {}) {
  const a = { ...MANUFACTURER, university: 'none', ...overrides };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(a)) {
    if (Array.isArray(v)) for (const item of v) q.append(k, item);
    else if (v === true) q.append(k, 'true');
    else if (v === false || v === undefined || v === null) continue;
    else q.append(k, String(v));
  }
  return q.toString();
}

export const SCHEME_ELIGIBLE = 'new-industrialisation-funding';
export const SCHEME_INELIGIBLE = 'new-industrialisation-acceleration';
