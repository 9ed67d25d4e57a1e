// Open data in the portal: a resident searches 交通 (typed into the search box, submitted with
// Enter), opens the dataset found, and sees its table previewed from the datastore — in each
// of the three languages, with the language switcher keeping the page. Then a category filter
// from the facets narrows the results and can be removed again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser,
  newContext,
  visit,
  screenshot,
  clickAndWait,
  switchLanguage,
  htmlLang,
  LANGS,
} from './support.mjs';

const DATASET = 'hk-td-smart-traffic-fund';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('search 交通, open the dataset, preview its table', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await visit(page, '/opendata');
    assert.equal(await htmlLang(page), 'zh-Hant', 'Traditional Chinese by default');
    await page.locator('#opendata-q').fill('交通');
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
    assert.equal(new URL(page.url()).searchParams.get('q'), '交通');
    const result = page.locator(`li.dataset-result[data-dataset="${DATASET}"]`);
    assert.equal(await result.count(), 1, 'the Smart Traffic Fund is found');
    assert.match(await result.locator('h3').innerText(), /智慧交通基金/);
    await screenshot(page, 'opendata-search');

    await clickAndWait(page, result.locator('h3 a'));
    assert.equal(new URL(page.url()).pathname, `/opendata/dataset/${DATASET}`);
    assert.equal(await page.locator('#dataset-title').innerText(), '智慧交通基金');
    const preview = page.locator('table.preview').first();
    assert.ok(await preview.isVisible(), 'the table is previewed');
    const headers = await preview.locator('thead th').allInnerTexts();
    assert.ok(headers.includes('value'), `the table's columns: ${headers}`);
    const firstRow = await preview.locator('tbody tr').first().allInnerTexts();
    assert.match(firstRow.join(' '), /1000000000/, 'HK$1 billion, as the fact sheet says');
    assert.match(await preview.locator('caption').innerText(), /共 1 行/);
    await screenshot(page, 'opendata-dataset');

    for (const lang of LANGS.filter((l) => l !== 'zh-Hant')) {
      await switchLanguage(page, lang);
      assert.equal(new URL(page.url()).pathname, `/opendata/dataset/${DATASET}`);
      assert.ok(await page.locator('table.preview').first().isVisible(), `preview in ${lang}`);
    }
    assert.equal(await page.locator('#dataset-title').innerText(), 'Smart Traffic Fund');
  } finally {
    await context.close();
  }
});

test('a category from the facets narrows the results, and is removed again', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await visit(page, '/opendata');
    const all = Number((await page.locator('li.dataset-result').count()));
    assert.ok(all > 1, 'the catalogue lists its datasets');
    const transport = page.locator('[data-facet="groups"] a[href*="groups=transport"]');
    assert.equal(await transport.count(), 1, 'the transport category is a facet');
    await clickAndWait(page, transport);
    const narrowed = page.locator('li.dataset-result');
    assert.ok((await narrowed.count()) >= 1 && (await narrowed.count()) < all);
    assert.equal(await page.locator(`li.dataset-result[data-dataset="${DATASET}"]`).count(), 1);
    await clickAndWait(page, page.locator('ul.chosen a').first());
    assert.equal(await page.locator('li.dataset-result').count(), all);
  } finally {
    await context.close();
  }
});
