// Summarises the `RESULT {json}` lines that driver.mjs printed over several rounds (one file of
// them, any order) into medians per server and phase, and the ratio Bauhinia / peer.
//
// Usage: node summary.mjs RESULTS_FILE

import { readFileSync } from 'node:fs';

const GOAL_EXCHANGES_PER_S = 3000;
const GOAL_RATIO = 5;

const file = process.argv[2];
if (!file) throw new Error('usage: node summary.mjs RESULTS_FILE');
const runs = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('RESULT '))
  .map((l) => JSON.parse(l.slice('RESULT '.length)));

const median = (values) => {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const figures = (label, phase) => runs.filter((r) => r.label === label)
  .map((r) => r.results.find((x) => x.phase === phase)).filter(Boolean);
const num = (v, digits = 0) => (Number.isFinite(v)
  ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');

const rounds = Math.max(figures('bauhinia', 'token').length, figures('peer', 'token').length);
const lines = [
  `rounds: bauhinia ${figures('bauhinia', 'token').length}, peer ${figures('peer', 'token').length}; `
  + `requests per phase and round: ${figures('bauhinia', 'token')[0]?.requests ?? figures('peer', 'token')[0]?.requests}; `
  + `concurrency ${runs[0]?.concurrency}; driver node ${runs[0]?.node}`,
  '',
  '| phase | Bauhinia /s (median; min–max) | peer /s (median; min–max) | ratio | Bauhinia p50 / p99 ms | peer p50 / p99 ms | server CPU µs/request (of it kernel), Bauhinia / peer |',
  '|---|---|---|---|---|---|---|',
];
const summary = {};
for (const phase of ['token', 'userinfo', 'introspection']) {
  const b = figures('bauhinia', phase);
  const p = figures('peer', phase);
  const rate = (xs) => xs.map((x) => x.per_s);
  const perRequest = (xs, key) => median(xs.map((x) => (x[key] === undefined ? NaN : (x[key] * 1e6) / x.requests)));
  const cpu = (xs) => `${num(perRequest(xs, 'server_cpu_s'))} (${num(perRequest(xs, 'server_system_cpu_s'))})`;
  const range = (xs) => (xs.length ? `${num(Math.min(...rate(xs)))}–${num(Math.max(...rate(xs)))}` : 'n/a');
  const bRate = median(rate(b));
  const pRate = median(rate(p));
  const ratio = bRate / pRate;
  summary[phase] = { bRate, pRate, ratio };
  lines.push(`| ${phase} | **${num(bRate)}** (${range(b)}) | ${num(pRate)} (${range(p)}) | `
    + `${Number.isFinite(ratio) ? `${ratio.toFixed(1)}×` : 'n/a'} | `
    + `${num(median(b.map((x) => x.p50_ms)), 2)} / ${num(median(b.map((x) => x.p99_ms)), 2)} | `
    + `${num(median(p.map((x) => x.p50_ms)), 2)} / ${num(median(p.map((x) => x.p99_ms)), 2)} | `
    + `${cpu(b)} / ${cpu(p)} |`);
}
const driverShare = (label) => median(runs.filter((r) => r.label === label)
  .flatMap((r) => r.results.map((x) => x.driver_cpu_s / x.seconds)));
lines.push('');
lines.push(`driver CPU while timed (median share of one core): against Bauhinia ${num(driverShare('bauhinia') * 100)}%, against the peer ${num(driverShare('peer') * 100)}%`);
const perRoundRatios = [];
for (let i = 0; i < rounds; i += 1) {
  const b = figures('bauhinia', 'token')[i];
  const p = figures('peer', 'token')[i];
  if (b && p) perRoundRatios.push(b.per_s / p.per_s);
}
if (perRoundRatios.length) {
  lines.push(`token ratio per round: ${perRoundRatios.map((r) => `${r.toFixed(1)}×`).join(' ')}`);
}
const t = summary.token;
lines.push(`goal exchanges/s ≥ ${num(GOAL_EXCHANGES_PER_S)}: ${Number.isFinite(t.bRate) ? (t.bRate >= GOAL_EXCHANGES_PER_S ? 'met' : 'NOT met') : 'not measured'}; `
  + `goal ≥ ${GOAL_RATIO}× the peer: ${Number.isFinite(t.ratio) ? (t.ratio >= GOAL_RATIO ? 'met' : 'NOT met') : 'not measured'}`);
process.stdout.write(`${lines.join('\n')}\n`);
