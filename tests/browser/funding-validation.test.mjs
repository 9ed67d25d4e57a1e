// (iii) Invalid questionnaire input re-renders the form with HTTP 422 and an
// error message tied to the field (#error-<field>, aria-describedby).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newContext, visit, screenshot, manufacturerQuery, LANGS, switchLanguage } from './support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// Navigate straight to the results URL: the form itself may (rightly) stop
// the browser from submitting a negative number, and the server must still
// refuse it.
for (const lang of LANGS) {
  test(`employees=-5 gives a 422 form with #error-employees (${lang})`, async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      if (lang !== 'zh-Hant') {
        await visit(page, '/funding');
        await switchLanguage(page, lang);
      }
      const response = await visit(page, `/funding/results?${manufacturerQuery({ employees: '-5' })}`, 422);
      assert.match(response.headers()['content-type'] ?? '', /^text\/html/, 'the 422 page is HTML');
      assert.equal(
        await page.evaluate(() => document.documentElement.getAttribute('lang')),
        lang,
        'the error page keeps the chosen language',
      );

      assert.equal(await page.locator('form#funding-form').count(), 1, 'the form is shown again');
      const error = page.locator('#error-employees');
      assert.equal(await error.count(), 1, '#error-employees exists');
      assert.ok(await error.isVisible(), '#error-employees is visible');
      assert.ok((await error.innerText()).trim().length > 0, '#error-employees says what is wrong');

      const input = page.locator('form#funding-form input[name="employees"]');
      assert.equal(await input.count(), 1, 'the employees input is shown again');
      const describedBy = ((await input.getAttribute('aria-describedby')) ?? '').split(/\s+/);
      assert.ok(
        describedBy.includes('error-employees'),
        `input[name=employees] aria-describedby includes error-employees (got ${JSON.stringify(describedBy)})`,
      );

      // The error message can take focus (e.g. tabindex="-1", for focus
      // management), and so can the field it describes.
      await error.focus();
      assert.ok(
        await error.evaluate((el) => document.activeElement === el),
        '#error-employees is focusable',
      );
      await input.focus();
      assert.ok(
        await input.evaluate((el) => document.activeElement === el),
        'input[name=employees] is focusable',
      );

      // No results are shown for invalid input.
      assert.equal(await page.locator('li.scheme-result').count(), 0, 'no scheme results on the error page');

      // Other fields are not flagged.
      assert.equal(await page.locator('#error-years_operating').count(), 0, 'no error for a valid field');
      await screenshot(page, `funding-invalid-${lang}.png`);
    } finally {
      await context.close();
    }
  });
}

test('several invalid fields each get their own #error-<field>', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await visit(
      page,
      `/funding/results?${manufacturerQuery({ employees: 'many', years_operating: '-1', project_cost_hkd: 'abc' })}`,
      422,
    );
    for (const field of ['employees', 'years_operating', 'project_cost_hkd']) {
      const error = page.locator(`#error-${field}`);
      assert.equal(await error.count(), 1, `#error-${field} exists`);
      assert.ok(await error.isVisible(), `#error-${field} is visible`);
      const describedBy = (
        (await page.locator(`form#funding-form [name="${field}"]`).first().getAttribute('aria-describedby')) ?? ''
      ).split(/\s+/);
      assert.ok(describedBy.includes(`error-${field}`), `${field} aria-describedby includes error-${field}`);
    }
  } finally {
    await context.close();
  }
});
