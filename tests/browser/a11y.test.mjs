// (v) Basic accessibility checks in the spirit of axe, without extra
// dependencies, on every HTML page in every language: a valid html[lang], a
// title, exactly one <h1>, a skip link to <main id="main">, every form control
// labelled, images with alt, links and buttons with names, unique ids.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser,
  newContext,
  visit,
  switchLanguage,
  checkLanguageSwitcher,
  manufacturerQuery,
  url,
  LANGS,
} from './support.mjs';

const PAGES = [
  { name: 'home', path: '/', status: 200 },
  { name: 'funding form', path: '/funding', status: 200 },
  { name: 'funding results', path: `/funding/results?${manufacturerQuery()}`, status: 200 },
  { name: 'funding 422', path: `/funding/results?${manufacturerQuery({ employees: '-5' })}`, status: 422 },
  { name: 'iAM Smart app', path: '/app', status: 200 },
  { name: 'iAM Smart enrolment', path: '/app/enrol', status: 200 },
  { name: 'FPS (signed out)', path: '/pay', status: 200 },
  { name: 'data exchange', path: '/exchange', status: 200 },
  { name: 'not found', path: '/no-such-page', status: 404, htmlOnly: true },
];

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** Runs in the page: returns a list of problems (empty when all is well). */
function auditPage(langs) {
  const problems = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const describe = (el) => el.outerHTML.replace(/\s+/g, ' ').slice(0, 140);
  const text = (el) => (el.innerText ?? el.textContent ?? '').trim();
  const nameOf = (el) =>
    text(el) ||
    (el.getAttribute('aria-label') ?? '').trim() ||
    (el.getAttribute('aria-labelledby') ?? '')
      .split(/\s+/)
      .map((id) => (id && document.getElementById(id)?.textContent.trim()) || '')
      .join(' ')
      .trim() ||
    [...el.querySelectorAll('img[alt]')].map((img) => img.alt.trim()).join(' ').trim() ||
    (el.getAttribute('title') ?? '').trim();

  const lang = document.documentElement.getAttribute('lang');
  if (!langs.includes(lang)) problems.push(`html[lang]=${JSON.stringify(lang)} is not one of ${langs}`);
  if (!document.title.trim()) problems.push('the page has no <title>');

  const h1s = document.querySelectorAll('h1');
  if (h1s.length !== 1) problems.push(`expected exactly one <h1>, found ${h1s.length}`);
  else if (!text(h1s[0])) problems.push('the <h1> is empty');

  const mains = document.querySelectorAll('main');
  if (mains.length !== 1 || mains[0].id !== 'main') problems.push('expected exactly one <main id="main">');
  if (!document.querySelector('a.skip-link[href="#main"]')) problems.push('no skip link a.skip-link[href="#main"]');
  if (!document.querySelector('#text-size-toggle')) problems.push('no #text-size-toggle');

  // Every form control has an associated <label> with text.
  const controls = document.querySelectorAll(
    'input:not([type="hidden"]):not([type="submit"]):not([type="button"]):not([type="reset"]):not([type="image"]), select, textarea',
  );
  for (const el of controls) {
    const labels = [...(el.labels ?? [])];
    if (labels.length === 0) problems.push(`form control without a <label>: ${describe(el)}`);
    else if (!labels.some((l) => text(l))) problems.push(`form control whose <label> is empty: ${describe(el)}`);
  }

  // Images have alt (empty alt is fine for decoration).
  for (const img of document.querySelectorAll('img, input[type="image"]')) {
    if (!img.hasAttribute('alt')) problems.push(`image without alt: ${describe(img)}`);
  }
  for (const svg of document.querySelectorAll('svg')) {
    const hidden = svg.closest('[aria-hidden="true"]') || svg.getAttribute('role') === 'presentation';
    const named = svg.getAttribute('aria-label') || svg.querySelector('title') || svg.getAttribute('aria-labelledby');
    if (!hidden && !named) problems.push(`svg neither hidden nor named: ${describe(svg)}`);
  }

  // Links and buttons have an accessible name.
  for (const a of document.querySelectorAll('a[href]')) {
    if (visible(a) && !nameOf(a)) problems.push(`link without a name: ${describe(a)}`);
  }
  for (const b of document.querySelectorAll('button, input[type="submit"], input[type="button"]')) {
    const name = b.tagName === 'INPUT' ? (b.value || b.getAttribute('aria-label') || '').trim() : nameOf(b);
    if (!name) problems.push(`button without a name: ${describe(b)}`);
  }

  // Ids are unique, and ARIA id references point at something.
  const seen = new Map();
  for (const el of document.querySelectorAll('[id]')) seen.set(el.id, (seen.get(el.id) ?? 0) + 1);
  for (const [id, n] of seen) if (n > 1) problems.push(`duplicate id "${id}" (${n} times)`);
  for (const attr of ['aria-describedby', 'aria-labelledby', 'aria-controls']) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      for (const id of el.getAttribute(attr).split(/\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) problems.push(`${attr}="${id}" points at no element: ${describe(el)}`);
      }
    }
  }
  for (const label of document.querySelectorAll('label[for]')) {
    if (!document.getElementById(label.htmlFor)) problems.push(`label for="${label.htmlFor}" points at no element`);
  }
  return problems;
}

for (const lang of LANGS) {
  test(`basic accessibility of every page (${lang})`, async (t) => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await visit(page, '/');
      if (lang !== 'zh-Hant') await switchLanguage(page, lang);
      for (const p of PAGES) {
        await t.test(p.name, async () => {
          const response = await page.goto(url(p.path), { waitUntil: 'load' });
          assert.equal(response.status(), p.status, `GET ${p.path}: HTTP status`);
          const type = response.headers()['content-type'] ?? '';
          if (p.htmlOnly && !type.startsWith('text/html')) return; // a non-HTML 404 has nothing to audit
          assert.match(type, /^text\/html/, `${p.path} is HTML`);
          assert.equal(
            await page.evaluate(() => document.documentElement.getAttribute('lang')),
            lang,
            `${p.path} is in the chosen language`,
          );
          const problems = await page.evaluate(auditPage, LANGS);
          assert.deepEqual(problems, [], `accessibility problems on ${p.path}:\n  ${problems.join('\n  ')}`);
          await checkLanguageSwitcher(page);
        });
      }
    } finally {
      await context.close();
    }
  });
}

test('the skip link is the first thing Tab reaches, and it moves focus to <main>', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    for (const p of ['/', '/funding']) {
      await visit(page, p);
      await page.keyboard.press('Tab');
      const first = await page.evaluate(() => {
        const el = document.activeElement;
        const r = el.getBoundingClientRect();
        return {
          isSkip: el.matches('a.skip-link[href="#main"]'),
          // Shown on screen while focused (it may be hidden off-screen otherwise).
          visible: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight,
        };
      });
      assert.ok(first.isSkip, `on ${p} the first Tab focuses a.skip-link`);
      assert.ok(first.visible, `on ${p} the focused skip link is visible`);
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => location.hash === '#main');
      // After following the skip link, the next Tab lands inside <main>.
      await page.keyboard.press('Tab');
      assert.ok(
        await page.evaluate(() => !!document.activeElement?.closest('main#main')),
        `on ${p} Tab after the skip link lands inside <main>`,
      );
    }
  } finally {
    await context.close();
  }
});

test('every HTML page linked from the site passes the same audit (crawl)', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    const origin = new URL(url('/')).origin;
    const queue = ['/', '/funding'];
    const seen = new Set(queue);
    const failures = [];
    let audited = 0;
    while (queue.length > 0 && audited < 40) {
      const p = queue.shift();
      // Look before navigating: links may lead to downloads (CSV, JSON).
      const head = await context.request.get(url(p));
      const type = head.headers()['content-type'] ?? '';
      if (head.status() >= 500) {
        failures.push(`${p}: HTTP ${head.status()}`);
        continue;
      }
      if (!type.startsWith('text/html') || head.headers()['content-disposition']?.startsWith('attachment')) continue;
      const response = await page.goto(url(p), { waitUntil: 'load' });
      assert.ok(response, `no response for ${p}`);
      audited++;
      const problems = await page.evaluate(auditPage, LANGS);
      if (problems.length > 0) failures.push(`${p}:\n    ${problems.join('\n    ')}`);
      const links = await page.evaluate(() => [...document.querySelectorAll('a[href]')].map((a) => a.href));
      for (const href of links) {
        const u = new URL(href);
        if (u.origin !== origin || u.pathname === '/prefs') continue; // /prefs only redirects
        const key = u.pathname + u.search;
        if (!seen.has(key)) {
          seen.add(key);
          queue.push(key);
        }
      }
    }
    assert.ok(audited >= 2, `audited at least / and /funding (audited ${audited})`);
    assert.deepEqual(failures, [], `pages with problems:\n  ${failures.join('\n  ')}`);
  } finally {
    await context.close();
  }
});
