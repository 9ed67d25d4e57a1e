// (vi) The HTTP contract, with plain fetch(): JSON API, problem+json errors,
// health and readiness, Prometheus metrics, request ids, preference redirects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { url, BASE_URL, MANUFACTURER, SCHEME_ELIGIBLE, SCHEME_INELIGIBLE, manufacturerQuery } from './support.mjs';

const TIMEOUT_MS = 15_000;

function get(path, init = {}) {
  return fetch(url(path), { redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS), ...init });
}

function postJson(path, body, headers = { 'content-type': 'application/json' }) {
  return get(path, {
    method: 'POST',
    headers: { accept: 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Ids of match entries, whatever their shape: "id", {id}, {scheme_id} or {scheme: {id}}. */
function idsOf(entries) {
  return entries.map((e) => (typeof e === 'string' ? e : (e?.scheme_id ?? e?.id ?? e?.scheme?.id)));
}

async function expectProblem(res, status, what) {
  const body = await res.text();
  assert.equal(res.status, status, `${what}: HTTP status (body: ${body.slice(0, 300)})`);
  assert.match(
    res.headers.get('content-type') ?? '',
    /^application\/problem\+json\b/,
    `${what}: content-type is application/problem+json`,
  );
  const problem = JSON.parse(body);
  assert.equal(typeof problem.code, 'string', `${what}: problem has a string "code"`);
  assert.ok(problem.code.length > 0, `${what}: problem "code" is not empty`);
  if ('status' in problem) assert.equal(problem.status, status, `${what}: problem "status" matches`);
  assert.ok(res.headers.get('x-request-id'), `${what}: x-request-id header`);
  return problem;
}

test('GET /api/v1/funding/schemes lists the schemes', async () => {
  const res = await get('/api/v1/funding/schemes');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
  const body = await res.json();
  assert.ok(Array.isArray(body.schemes), '"schemes" is an array');
  assert.ok(body.schemes.length >= 2, 'at least two schemes');
  const text = JSON.stringify(body.schemes);
  assert.ok(text.includes(SCHEME_ELIGIBLE), `${SCHEME_ELIGIBLE} is listed`);
  assert.ok(text.includes(SCHEME_INELIGIBLE), `${SCHEME_INELIGIBLE} is listed`);
});

test('POST /api/v1/funding/match for the 30-person manufacturer', async () => {
  const res = await postJson('/api/v1/funding/match', MANUFACTURER);
  const text = await res.text();
  assert.equal(res.status, 200, `status (body: ${text.slice(0, 300)})`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
  const body = JSON.parse(text);
  assert.ok(Array.isArray(body.eligible), '"eligible" is an array');
  assert.ok(Array.isArray(body.ineligible), '"ineligible" is an array');
  const eligible = idsOf(body.eligible);
  const ineligible = idsOf(body.ineligible);
  assert.ok(eligible.includes(SCHEME_ELIGIBLE), `${SCHEME_ELIGIBLE} eligible (got ${eligible})`);
  assert.ok(ineligible.includes(SCHEME_INELIGIBLE), `${SCHEME_INELIGIBLE} ineligible (got ${ineligible})`);
  assert.ok(!ineligible.includes(SCHEME_ELIGIBLE), `${SCHEME_ELIGIBLE} is not also ineligible`);
  assert.ok(!eligible.includes(SCHEME_INELIGIBLE), `${SCHEME_INELIGIBLE} is not also eligible`);
  assert.ok(
    eligible.concat(ineligible).every((id) => typeof id === 'string' && id.length > 0),
    'every match entry names its scheme',
  );
});

test('the API answers the same as the HTML results page', async () => {
  const res = await get(`/funding/results?${manufacturerQuery()}`);
  assert.equal(res.status, 200);
  const html = await res.text();
  for (const id of [SCHEME_ELIGIBLE, SCHEME_INELIGIBLE]) {
    assert.ok(html.includes(`data-scheme-id="${id}"`), `results page lists ${id}`);
  }
});

test('malformed JSON is a 400 application/problem+json with a code', async () => {
  await expectProblem(await postJson('/api/v1/funding/match', '{"applicant_type": "manufact'), 400, 'malformed JSON');
  await expectProblem(await postJson('/api/v1/funding/match', ''), 400, 'empty body');
});

test('well-formed but invalid input is a 4xx problem+json, never a 5xx', async () => {
  const cases = {
    'negative employees': { ...MANUFACTURER, employees: -5 },
    'unknown applicant type': { ...MANUFACTURER, applicant_type: 'dragon' },
    'non-decimal project cost': { ...MANUFACTURER, project_cost_hkd: 'twenty million' },
    'wrong type for employees': { ...MANUFACTURER, employees: 'thirty' },
    'JSON array instead of object': [1, 2, 3],
  };
  for (const [what, body] of Object.entries(cases)) {
    const res = await postJson('/api/v1/funding/match', body);
    assert.ok([400, 422].includes(res.status), `${what}: 400 or 422, got ${res.status}`);
    await expectProblem(res, res.status, what);
  }
});

test('a body that is not JSON at all is refused with problem+json', async () => {
  const res = await postJson('/api/v1/funding/match', JSON.stringify(MANUFACTURER), { 'content-type': 'text/plain' });
  assert.ok(res.status >= 400 && res.status < 500, `4xx for text/plain, got ${res.status}`);
  await expectProblem(res, res.status, 'text/plain body');
});

test('/healthz and /readyz are 200', async () => {
  for (const p of ['/healthz', '/readyz']) {
    const res = await get(p);
    assert.equal(res.status, 200, `${p} status`);
    assert.ok(res.headers.get('x-request-id'), `${p} has x-request-id`);
    await res.arrayBuffer();
  }
});

test('/metrics is Prometheus text exposition', async () => {
  // Make sure there has been some traffic to count.
  await (await get('/api/v1/funding/schemes')).arrayBuffer();
  const res = await get('/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain\b/, 'text/plain content type');
  const body = await res.text();
  const lines = body.split('\n').filter((l) => l.trim() !== '');
  assert.ok(lines.some((l) => l.startsWith('# TYPE ')), 'has # TYPE lines');
  const sample =
    /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+]?([0-9.eE+-]+|NaN|[+-]?Inf)( -?[0-9]+)?$/;
  const bad = lines.filter((l) => !l.startsWith('#') && !sample.test(l));
  assert.deepEqual(bad, [], 'every non-comment line is a valid sample');
  assert.ok(lines.filter((l) => !l.startsWith('#')).length > 0, 'has at least one sample');
});

test('every response carries an x-request-id, different per request', async () => {
  const paths = ['/', '/funding', '/healthz', '/readyz', '/metrics', '/openapi.json', '/api/v1/funding/schemes', '/no-such-page'];
  const ids = [];
  for (const p of paths) {
    const res = await get(p);
    const id = res.headers.get('x-request-id');
    assert.ok(id && id.trim().length > 0, `${p} (HTTP ${res.status}) has x-request-id`);
    ids.push(id);
    await res.arrayBuffer();
  }
  const bad = await postJson('/api/v1/funding/match', '{');
  ids.push(bad.headers.get('x-request-id'));
  assert.ok(ids.at(-1), 'a 400 response has x-request-id');
  assert.equal(new Set(ids).size, ids.length, 'request ids are unique');
});

test('unknown paths are 404, not 5xx', async () => {
  for (const p of ['/no-such-page', '/api/v1/no-such-thing', '/funding/results/extra']) {
    const res = await get(p);
    assert.equal(res.status, 404, `${p}`);
    await res.arrayBuffer();
  }
});

test('GET /openapi.json serves an OpenAPI 3.1 document', async () => {
  const res = await get('/openapi.json');
  assert.equal(res.status, 200);
  const doc = await res.json();
  assert.match(String(doc.openapi), /^3\.1\./);
  assert.ok(doc.paths && Object.keys(doc.paths).some((p) => p.includes('/funding/match')), 'documents the match API');
});

test('/prefs sets a cookie and redirects back to next', async () => {
  const res = await get('/prefs?lang=en&next=%2Ffunding');
  assert.ok([302, 303, 307].includes(res.status), `redirect status, got ${res.status}`);
  const location = new URL(res.headers.get('location'), BASE_URL + '/');
  assert.equal(location.origin, new URL(BASE_URL).origin, 'redirects within the site');
  assert.equal(location.pathname, '/funding', 'redirects to next');
  assert.ok(res.headers.get('set-cookie'), 'sets a cookie');

  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const page = await get('/funding', { headers: { cookie } });
  assert.match(await page.text(), /<html[^>]*\slang="en"/, 'the cookie makes /funding English');
});

test('/prefs never redirects off the site', async () => {
  const origin = new URL(BASE_URL).origin;
  for (const next of ['https://evil.example/', '//evil.example/', '/\\evil.example/', 'javascript:alert(1)']) {
    const res = await get(`/prefs?lang=en&next=${encodeURIComponent(next)}`);
    assert.ok(res.status < 500, `next=${next}: no server error (got ${res.status})`);
    if (res.status >= 300 && res.status < 400) {
      const location = new URL(res.headers.get('location'), origin + '/');
      assert.equal(location.origin, origin, `next=${next} must not redirect to ${location.href}`);
    }
  }
});

test('an invalid questionnaire is an HTML 422, not a 5xx', async () => {
  const res = await get(`/funding/results?${manufacturerQuery({ employees: '-5' })}`);
  assert.equal(res.status, 422);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await res.text(), /id="error-employees"/);
});
