// The load driver of the token endpoint benchmark, the same for Bauhinia and the peer.
//
// Reads a fixture (JSON lines, one authorization code each):
//   {"issuer", "token_endpoint", "userinfo_endpoint", "introspection_endpoint", "client_id",
//    "client_private_jwk" (EC P-256 private JWK), "redirect_uri", "code", "code_verifier"}
// and an optional "dpop_private_jwk" (when the codes were bound to a DPoP key with dpop_jkt).
//
// Three timed phases, each preceded by an untimed one that signs every JWT the phase needs, so
// that signing stays out of the timed loop (the driver shares the machine's cores with the
// server under test):
//   token          POST token_endpoint: authorization_code + PKCE verifier + private_key_jwt
//                  client assertion (ES256, aud = issuer) + DPoP proof (ES256)
//   userinfo       GET userinfo_endpoint with `Authorization: DPoP <access token>` and a proof
//                  carrying `ath`
//   introspection  POST introspection_endpoint with the access token and a client assertion
// One DPoP key (P-256) per run, the same for both servers. Requests go out on keep-alive
// connections (undici Pool) with at most --concurrency in flight. The first --warmup codes (and
// their tokens) run first in each phase, untimed.
//
// Prints a human summary and one line `RESULT {json}` for scripts/bench-oidc. Exits non-zero if
// any answer was not the expected 200 (printing the first failure).
//
// Usage: node driver.mjs --fixture FILE [--label NAME] [--concurrency 32] [--warmup 500]
//                        [--server-pid PID] [--max-seconds 300]

import { randomUUID, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import * as jose from 'jose';
import { Pool } from 'undici';

const { values: args } = parseArgs({
  options: {
    fixture: { type: 'string' },
    label: { type: 'string', default: 'server' },
    concurrency: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '500' },
    'server-pid': { type: 'string' },
    'max-seconds': { type: 'string', default: '300' },
  },
});

function fail(message) {
  process.stderr.write(`driver: ${message}\n`);
  process.exit(1);
}

const intArg = (name, min, max) => {
  const value = Number.parseInt(args[name], 10);
  if (!Number.isInteger(value) || value < min || value > max) fail(`--${name} must be ${min}..${max}`);
  return value;
};
if (!args.fixture) fail('--fixture FILE is required');
const concurrency = intArg('concurrency', 1, 1024);
const warmupWanted = intArg('warmup', 0, 100_000);
const maxSeconds = intArg('max-seconds', 1, 3600);
const serverPid = args['server-pid'] ? intArg('server-pid', 1, 2 ** 31) : undefined;

// ---- fixture ------------------------------------------------------------------------------

const REQUIRED = ['issuer', 'token_endpoint', 'userinfo_endpoint', 'introspection_endpoint',
  'client_id', 'client_private_jwk', 'redirect_uri', 'code', 'code_verifier'];
const fixture = readFileSync(args.fixture, 'utf8').split('\n').filter((l) => l.trim() !== '')
  .map((line, i) => {
    let row;
    try {
      row = JSON.parse(line);
    } catch (error) {
      fail(`fixture line ${i + 1} is not JSON: ${error.message}`);
    }
    for (const key of REQUIRED) {
      if (row[key] === undefined) fail(`fixture line ${i + 1} has no ${key}`);
    }
    return row;
  });
if (fixture.length === 0) fail('the fixture has no codes');
if (fixture.length <= warmupWanted) fail(`the fixture has ${fixture.length} codes, not more than --warmup ${warmupWanted}`);

// Load goes to this machine only.
function loopback(address) {
  const { hostname } = new URL(address);
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
const first = fixture[0];
for (const key of ['issuer', 'token_endpoint', 'userinfo_endpoint', 'introspection_endpoint']) {
  if (!loopback(first[key])) fail(`refusing to load ${first[key]}: loopback addresses only`);
}
const origin = new URL(first.token_endpoint).origin;
for (const row of fixture) {
  for (const key of ['issuer', 'token_endpoint', 'userinfo_endpoint', 'introspection_endpoint', 'client_id']) {
    if (row[key] !== first[key]) fail(`every fixture line must have the same ${key}`);
  }
}
for (const key of ['userinfo_endpoint', 'introspection_endpoint']) {
  if (new URL(first[key]).origin !== origin) fail(`${key} is on another origin than the token endpoint`);
}

// ---- signing ------------------------------------------------------------------------------

const clientKeys = new Map();
async function clientKey(jwk) {
  const id = JSON.stringify(jwk);
  if (!clientKeys.has(id)) clientKeys.set(id, await jose.importJWK(jwk, 'ES256'));
  return clientKeys.get(id);
}

let dpopPrivate;
let dpopPublicJwk;
if (first.dpop_private_jwk) {
  dpopPrivate = await jose.importJWK(first.dpop_private_jwk, 'ES256');
  const { d: _d, ...pub } = first.dpop_private_jwk;
  dpopPublicJwk = pub;
} else {
  const pair = await jose.generateKeyPair('ES256', { extractable: true });
  dpopPrivate = pair.privateKey;
  dpopPublicJwk = await jose.exportJWK(pair.publicKey);
}
const dpopHeader = { alg: 'ES256', typ: 'dpop+jwt', jwk: dpopPublicJwk };

const now = () => Math.floor(Date.now() / 1000);

async function clientAssertion(row) {
  const iat = now();
  return new jose.SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: row.client_private_jwk.kid })
    .setIssuer(row.client_id)
    .setSubject(row.client_id)
    .setAudience(row.issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 120)
    .sign(await clientKey(row.client_private_jwk));
}

async function dpopProof(method, url, accessToken) {
  const claims = { jti: randomUUID(), htm: method, htu: url, iat: now() };
  if (accessToken !== undefined) {
    claims.ath = createHash('sha256').update(accessToken).digest('base64url');
  }
  return new jose.SignJWT(claims).setProtectedHeader(dpopHeader).sign(dpopPrivate);
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FORM = 'application/x-www-form-urlencoded';

// ---- load ---------------------------------------------------------------------------------

const pool = new Pool(origin, {
  connections: concurrency,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  headersTimeout: 30_000,
  bodyTimeout: 30_000,
});

const CLK_TCK = 100; // Linux USER_HZ on every architecture this runs on
// The server's CPU time so far (all its threads), user and system, in seconds.
function serverCpu() {
  if (serverPid === undefined) return undefined;
  const stat = readFileSync(`/proc/${serverPid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

// Sends requests[i] for every i with at most `concurrency` in flight; for a 200, `check(text, i)`
// returns undefined when the answer is right, or why it is not.
async function fire(requests, check, deadline) {
  const latenciesMs = new Float64Array(requests.length);
  let next = 0;
  let failures = 0;
  let firstFailure;
  async function worker() {
    while (next < requests.length) {
      if (Date.now() > deadline) throw new Error(`phase ran past --max-seconds ${maxSeconds}`);
      const i = next;
      next += 1;
      const started = process.hrtime.bigint();
      let status;
      let text;
      try {
        const response = await pool.request(requests[i]);
        status = response.statusCode;
        text = await response.body.text();
      } catch (error) {
        status = 0;
        text = `transport error: ${error.message}`;
      }
      latenciesMs[i] = Number(process.hrtime.bigint() - started) / 1e6;
      const why = status === 200 ? check(text, i) : `HTTP ${status}`;
      if (why !== undefined) {
        failures += 1;
        firstFailure ??= `request ${i}: ${why}: ${text.slice(0, 2000)}`;
      }
    }
  }
  const workers = Array.from({ length: Math.min(concurrency, requests.length) }, worker);
  await Promise.all(workers);
  return { latenciesMs, failures, firstFailure };
}

async function phase(name, count, prepare, check) {
  const warm = Math.min(warmupWanted, count - 1);
  const signStarted = performance.now();
  const requests = [];
  for (let i = 0; i < count; i += 1) requests.push(await prepare(i));
  const signS = (performance.now() - signStarted) / 1000;
  const deadline = Date.now() + maxSeconds * 1000;

  const warmRun = await fire(requests.slice(0, warm), (text, i) => check(text, i), deadline);
  const timed = requests.slice(warm);
  const cpu = process.cpuUsage();
  const server0 = serverCpu();
  const started = performance.now();
  const run = await fire(timed, (text, i) => check(text, i + warm), deadline);
  const wallS = (performance.now() - started) / 1000;
  const driverCpu = process.cpuUsage(cpu);
  const server1 = serverCpu();

  const sorted = Array.from(run.latenciesMs).sort((a, b) => a - b);
  const result = {
    phase: name,
    requests: timed.length,
    warmup: warm,
    seconds: wallS,
    per_s: timed.length / wallS,
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    max_ms: sorted[sorted.length - 1],
    non_200: run.failures + warmRun.failures,
    sign_s: signS,
    driver_cpu_s: (driverCpu.user + driverCpu.system) / 1e6,
    server_cpu_s: server1 === undefined ? undefined
      : server1.user + server1.system - server0.user - server0.system,
    server_system_cpu_s: server1 === undefined ? undefined : server1.system - server0.system,
  };
  const failure = warmRun.firstFailure ?? run.firstFailure;
  const serverCpuText = result.server_cpu_s === undefined ? ''
    : `, server CPU ${result.server_cpu_s.toFixed(2)} s (${((result.server_cpu_s * 1e6) / timed.length).toFixed(0)} µs/request,`
      + ` ${((result.server_system_cpu_s * 1e6) / timed.length).toFixed(0)} of them in the kernel)`;
  process.stdout.write(
    `${args.label} ${name}: ${timed.length} in ${wallS.toFixed(2)} s = ${result.per_s.toFixed(0)}/s, `
    + `p50 ${result.p50_ms.toFixed(2)} ms, p99 ${result.p99_ms.toFixed(2)} ms, non-200 ${result.non_200}; `
    + `signing beforehand ${signS.toFixed(2)} s; driver CPU ${result.driver_cpu_s.toFixed(2)} s`
    + ` (${((result.driver_cpu_s / wallS) * 100).toFixed(0)}% of one core)${serverCpuText}\n`,
  );
  if (failure) process.stdout.write(`${args.label} ${name}: first failure: ${failure}\n`);
  return result;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const accessTokens = new Array(fixture.length);
let firstIdToken;

const token = await phase('token', fixture.length, async (i) => {
  const row = fixture[i];
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: row.code,
    redirect_uri: row.redirect_uri,
    code_verifier: row.code_verifier,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await clientAssertion(row),
  }).toString();
  return {
    path: new URL(row.token_endpoint).pathname,
    method: 'POST',
    headers: { 'content-type': FORM, dpop: await dpopProof('POST', row.token_endpoint) },
    body,
  };
}, (text, i) => {
  const answer = parseJson(text);
  if (!answer?.access_token) return 'no access_token';
  if (answer.token_type !== 'DPoP') return `token_type ${answer.token_type}, not DPoP`;
  if (!answer.id_token) return 'no id_token';
  if (!answer.refresh_token) return 'no refresh_token';
  accessTokens[i] = answer.access_token;
  firstIdToken ??= answer.id_token;
  return undefined;
});

if (token.non_200 > 0) fail(`${token.non_200} token requests failed; not measuring the rest`);
const idHeader = jose.decodeProtectedHeader(firstIdToken);
const idClaims = jose.decodeJwt(firstIdToken);
if (idHeader.alg !== 'ES256') fail(`the ID token is signed with ${idHeader.alg}, not ES256`);
if (idClaims.iss !== first.issuer || idClaims.aud !== first.client_id) {
  fail(`the ID token has iss ${idClaims.iss} and aud ${idClaims.aud}`);
}

const userinfo = await phase('userinfo', accessTokens.length, async (i) => ({
  path: new URL(first.userinfo_endpoint).pathname,
  method: 'GET',
  headers: {
    authorization: `DPoP ${accessTokens[i]}`,
    dpop: await dpopProof('GET', first.userinfo_endpoint, accessTokens[i]),
  },
}), (text) => (parseJson(text)?.sub ? undefined : 'no sub'));

const introspection = await phase('introspection', accessTokens.length, async (i) => ({
  path: new URL(first.introspection_endpoint).pathname,
  method: 'POST',
  headers: { 'content-type': FORM },
  body: new URLSearchParams({
    token: accessTokens[i],
    token_type_hint: 'access_token',
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await clientAssertion(fixture[i]),
  }).toString(),
}), (text) => {
  const answer = parseJson(text);
  if (answer?.active !== true) return 'not active';
  if (answer.cnf?.jkt === undefined) return 'no cnf.jkt (not DPoP-bound)';
  return undefined;
});

await pool.close();
const results = [token, userinfo, introspection];
process.stdout.write(`RESULT ${JSON.stringify({ label: args.label, concurrency, node: process.version, results })}\n`);
if (results.some((r) => r.non_200 > 0)) fail('some requests failed');
