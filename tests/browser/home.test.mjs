// The home page (一網通辦 style): one entry per platform service; funding is
// available and links to /funding, iAM Smart to /app, FPS to /pay, the consented data exchange
// to /exchange, CorpID to /business, open data to /opendata; the others are visibly marked as coming.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newContext, visit, switchLanguage, url, LANGS } from './support.mjs';

const SERVICES = ['funding', 'identity', 'corpid', 'exchange', 'fps', 'bank-api', 'opendata'];
const AVAILABLE = new Set(['funding', 'identity', 'corpid', 'exchange', 'fps', 'opendata']);

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/**
 * Some visible text (2+ characters) that every "coming" entry shows and the
 * available entry does not: the "coming soon" marker, whatever its wording.
 */
function commonMarker(comingTexts, availableText) {
  const [first, ...rest] = comingTexts;
  for (let len = Math.min(first.length, 40); len >= 2; len--) {
    for (let i = 0; i + len <= first.length; i++) {
      const s = first.slice(i, i + len);
      if (!s.trim()) continue;
      if (rest.every((t) => t.includes(s)) && !availableText.includes(s)) return s;
    }
  }
  return null;
}

for (const lang of LANGS) {
  test(`home lists the platform services (${lang})`, async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await visit(page, '/');
      if (lang !== 'zh-Hant') await switchLanguage(page, lang);

      assert.equal(await page.locator('h1').count(), 1, 'one <h1>');
      const items = page.locator('li.service');
      const found = await items.evaluateAll((lis) =>
        lis.map((li) => ({
          service: li.dataset.service,
          status: li.dataset.status,
          text: li.innerText.trim(),
          visible: !!(li.offsetWidth || li.offsetHeight || li.getClientRects().length),
          links: [...li.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
        })),
      );
      assert.deepEqual(
        found.map((f) => f.service).sort(),
        [...SERVICES].sort(),
        'one li.service per platform service (data-service)',
      );
      for (const f of found) {
        assert.ok(f.visible, `${f.service} is visible`);
        assert.ok(f.text.length > 0, `${f.service} has visible text`);
        const expected = AVAILABLE.has(f.service) ? 'available' : 'coming';
        assert.equal(f.status, expected, `${f.service}: data-status`);
      }

      const funding = found.find((f) => f.service === 'funding');
      assert.ok(
        funding.links.some((h) => new URL(h, url('/')).pathname === '/funding'),
        `funding links to /funding (links: ${JSON.stringify(funding.links)})`,
      );
      const exchange = found.find((f) => f.service === 'exchange');
      assert.ok(
        exchange.links.some((h) => new URL(h, url('/')).pathname === '/exchange'),
        `the data exchange links to /exchange (links: ${JSON.stringify(exchange.links)})`,
      );
      const corpid = found.find((f) => f.service === 'corpid');
      assert.ok(
        corpid.links.some((h) => new URL(h, url('/')).pathname === '/business'),
        `CorpID links to /business (links: ${JSON.stringify(corpid.links)})`,
      );
      const identity = found.find((f) => f.service === 'identity');
      assert.ok(
        identity.links.some((h) => new URL(h, url('/')).pathname === '/app'),
        `iAM Smart links to the app (links: ${JSON.stringify(identity.links)})`,
      );
      const fps = found.find((f) => f.service === 'fps');
      assert.ok(
        fps.links.some((h) => new URL(h, url('/')).pathname === '/pay'),
        `FPS links to /pay (links: ${JSON.stringify(fps.links)})`,
      );
      const coming = found.filter((f) => f.status === 'coming');
      const marker = commonMarker(
        coming.map((f) => f.text),
        funding.text + identity.text + fps.text,
      );
      assert.ok(
        marker,
        'every "coming" service shows a common visible marker (e.g. "coming soon") that funding does not: ' +
          JSON.stringify(coming.map((f) => f.text)),
      );

      // The funding link works.
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.locator('li.service[data-service="funding"] a[href$="/funding"]').first().click(),
      ]);
      assert.equal(new URL(page.url()).pathname, '/funding');
      assert.equal(await page.locator('form#funding-form').count(), 1);
    } finally {
      await context.close();
    }
  });
}
