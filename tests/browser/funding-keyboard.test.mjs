// (ii) The funding questionnaire can be filled in and submitted with the
// keyboard alone (Tab, Space, arrow keys, typing, Enter). A 30-person Hong Kong
// manufacturer planning a smart production line qualifies for the New
// Industrialisation Funding Scheme but not for the Acceleration Scheme.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser,
  newContext,
  visit,
  screenshot,
  MANUFACTURER,
  SCHEME_ELIGIBLE,
  SCHEME_INELIGIBLE,
} from './support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// What to put in each field, by name.
const SELECTS = { applicant_type: MANUFACTURER.applicant_type, university: 'none' };
const TEXTS = {
  employees: String(MANUFACTURER.employees),
  years_operating: String(MANUFACTURER.years_operating),
  project_cost_hkd: MANUFACTURER.project_cost_hkd,
};
const CHECKED = {
  sectors: new Set(MANUFACTURER.sectors),
  locations: new Set(MANUFACTURER.locations),
  purposes: new Set(MANUFACTURER.purposes),
  operates_production_line_in_hk: new Set(['true']),
};
const REQUIRED_FIELDS = [...Object.keys(SELECTS), ...Object.keys(TEXTS), ...Object.keys(CHECKED)];

function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    return {
      tag: el.tagName.toLowerCase(),
      type: (el.getAttribute('type') || '').toLowerCase(),
      name: el.getAttribute('name') || '',
      value: el.value ?? '',
      checked: !!el.checked,
      inForm: !!el.closest('form#funding-form'),
      options: el.tagName === 'SELECT' ? [...el.options].map((o) => o.value) : null,
      selectedIndex: el.tagName === 'SELECT' ? el.selectedIndex : null,
      describe: el.outerHTML.slice(0, 120),
    };
  });
}

const activeValue = (page) => page.evaluate(() => document.activeElement.value);
const activeChecked = (page) => page.evaluate(() => document.activeElement.checked);

test('keyboard-only questionnaire for a 30-person manufacturer', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await visit(page, '/funding');
    assert.equal(await page.locator('form#funding-form').count(), 1, 'form#funding-form exists');
    const form = page.locator('form#funding-form');
    assert.equal((await form.getAttribute('method'))?.toLowerCase(), 'get', 'form method is GET');
    assert.equal(
      new URL(await form.getAttribute('action'), page.url()).pathname,
      '/funding/results',
      'form action is /funding/results',
    );

    const visited = new Set();
    let reachedSubmit = false;
    let wasInForm = false;
    const trail = [];
    for (let presses = 0; presses < 400 && !reachedSubmit; presses++) {
      await page.keyboard.press('Tab');
      const el = await focused(page);
      trail.push(el ? el.describe : '(body)');
      if (!el || !el.inForm) {
        assert.ok(
          !wasInForm,
          `Tab left form#funding-form before reaching its submit button; visited ${[...visited]}`,
        );
        continue;
      }
      wasInForm = true;

      if (el.tag === 'button' && (el.type === 'submit' || el.type === '')) {
        reachedSubmit = true;
      } else if (el.tag === 'select' && el.name in SELECTS) {
        const target = el.options.indexOf(SELECTS[el.name]);
        assert.ok(target >= 0, `select[name=${el.name}] offers ${SELECTS[el.name]}: ${el.options}`);
        const delta = target - el.selectedIndex;
        for (let i = 0; i < Math.abs(delta); i++) {
          await page.keyboard.press(delta > 0 ? 'ArrowDown' : 'ArrowUp');
        }
        assert.equal(await activeValue(page), SELECTS[el.name], `chose ${el.name} with arrow keys`);
        visited.add(el.name);
      } else if (el.tag === 'input' && el.type === 'checkbox' && el.name in CHECKED) {
        const want = CHECKED[el.name].has(el.value);
        if (el.checked !== want) await page.keyboard.press('Space');
        assert.equal(await activeChecked(page), want, `checkbox ${el.name}=${el.value}`);
        if (want) visited.add(el.name);
      } else if (el.tag === 'input' && el.name in TEXTS) {
        await page.keyboard.press('Control+A');
        await page.keyboard.type(TEXTS[el.name]);
        assert.equal(await activeValue(page), TEXTS[el.name], `typed ${el.name}`);
        visited.add(el.name);
      }
      // Anything else (other selects, unchecked checkboxes, ...) keeps its default.
    }
    assert.ok(reachedSubmit, `Tab reached the submit button; focus trail:\n${trail.join('\n')}`);
    assert.deepEqual(
      [...visited].sort(),
      [...REQUIRED_FIELDS].sort(),
      'every field of the questionnaire was reached with Tab',
    );
    await screenshot(page, 'funding-form-filled.png');

    const [response] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.keyboard.press('Enter'),
    ]);
    assert.equal(response?.status(), 200, 'results page HTTP status');
    const results = new URL(page.url());
    assert.equal(results.pathname, '/funding/results');
    const q = results.searchParams;
    assert.equal(q.get('applicant_type'), 'manufacturer');
    assert.equal(q.get('employees'), '30');
    assert.equal(q.get('years_operating'), '12');
    assert.equal(q.get('project_cost_hkd'), '20000000');
    assert.equal(q.get('operates_production_line_in_hk'), 'true');
    assert.deepEqual(q.getAll('sectors'), ['manufacturing']);
    assert.deepEqual(q.getAll('locations'), ['hong_kong']);
    assert.deepEqual(q.getAll('purposes'), ['smart_production_line']);

    const eligible = page.locator(`section#eligible li.scheme-result[data-scheme-id="${SCHEME_ELIGIBLE}"]`);
    assert.equal(await eligible.count(), 1, `${SCHEME_ELIGIBLE} is listed as eligible`);
    assert.ok(await eligible.isVisible(), `${SCHEME_ELIGIBLE} result is visible`);
    const maxGrant = (await eligible.locator('.max-grant').first().innerText()).trim();
    assert.match(maxGrant, /\d/, `${SCHEME_ELIGIBLE} shows its maximum grant (got "${maxGrant}")`);

    const ineligible = page.locator(
      `section#ineligible li.scheme-result[data-scheme-id="${SCHEME_INELIGIBLE}"]`,
    );
    assert.equal(await ineligible.count(), 1, `${SCHEME_INELIGIBLE} is listed as ineligible`);
    assert.ok((await ineligible.innerText()).trim().length > 0, 'ineligible entry explains itself');

    assert.equal(
      await page.locator(`section#ineligible li.scheme-result[data-scheme-id="${SCHEME_ELIGIBLE}"]`).count(),
      0,
      `${SCHEME_ELIGIBLE} is not also listed as ineligible`,
    );
    assert.equal(
      await page.locator(`section#eligible li.scheme-result[data-scheme-id="${SCHEME_INELIGIBLE}"]`).count(),
      0,
      `${SCHEME_INELIGIBLE} is not also listed as eligible`,
    );
    // Every result carries its scheme id, and every eligible one a maximum grant.
    const ids = await page
      .locator('li.scheme-result')
      .evaluateAll((lis) => lis.map((li) => li.dataset.schemeId));
    assert.ok(ids.every((id) => id && id.length > 0), 'every li.scheme-result has data-scheme-id');
    assert.equal(new Set(ids).size, ids.length, 'no scheme is listed twice');
    const missingGrant = await page
      .locator('section#eligible li.scheme-result')
      .evaluateAll((lis) => lis.filter((li) => !li.querySelector('.max-grant')).map((li) => li.dataset.schemeId));
    assert.deepEqual(missingGrant, [], 'every eligible scheme shows .max-grant');

    await screenshot(page, 'funding-results.png');
  } finally {
    await context.close();
  }
});
