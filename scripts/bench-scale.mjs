#!/usr/bin/env node
// Latency of catalog search, talent search and issuer insight on a platform seeded with
// `cairn synthetic`, served by `cairn serve` at --base. Each scenario rotates through realistic
// variants (different words, filters and periods), so no single cached answer is measured, and
// reports p50 / p95 / p99 and the slowest, per scenario, as a table or JSON.
//
//   node scripts/bench-scale.mjs --base http://127.0.0.1:8080 [--requests 200] [--concurrency 1] [--json] [--variants]
//
// --variants also prints each variant's median and slowest time, to find what the tail is made of.
//
// It signs in as the synthetic platform's first employer and as the owner of its largest issuer
// (password "synthetic-platform").

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const base = option('base', 'http://127.0.0.1:8080').replace(/\/$/, '');
const requests = Number(option('requests', '200'));
const concurrency = Number(option('concurrency', '1'));
const json = args.includes('--json');
const byVariant = args.includes('--variants');
const password = 'synthetic-platform';

async function call(path, token, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body) headers['content-type'] = 'application/json';
  const response = await fetch(base + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return text.startsWith('{') ? JSON.parse(text) : text;
}

async function signIn(email) {
  const session = await call('/api/v1/session', null, { method: 'POST', body: { email, password } });
  return session.token;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

async function measure(name, variants, token) {
  // One pass to warm caches and check every variant answers.
  for (const path of variants) await call(path, token);
  const times = [];
  const perVariant = new Map(variants.map((v) => [v, []]));
  let next = 0;
  async function worker() {
    while (next < requests) {
      const path = variants[next % variants.length];
      next += 1;
      const started = process.hrtime.bigint();
      await call(path, token);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      times.push(ms);
      perVariant.get(path).push(ms);
    }
  }
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return {
    name,
    variants: variants.length,
    requests: times.length,
    per_second: times.length / seconds,
    p50_ms: percentile(times, 50),
    p95_ms: percentile(times, 95),
    p99_ms: percentile(times, 99),
    max_ms: times[times.length - 1],
    variant_ms: [...perVariant].map(([path, list]) => {
      list.sort((a, b) => a - b);
      return { path, p50_ms: percentile(list, 50), max_ms: list[list.length - 1] };
    }),
  };
}

const words = ['data', 'python', 'safety', 'leadership', 'design', 'cloud', 'writing', 'care', 'security', 'finance', 'teaching', 'energy', 'testing', 'marketing', 'statistics', 'robotics'];
const employer = await signIn('talent@employer-1.synthetic.cairn.test');
const owner = await signIn('owner@issuer-1.synthetic.cairn.test');
const me = await call('/api/v1/me', owner);
const issuer = me.memberships.find((m) => m.role === 'owner').organisation_id;

// Real ids and codes to filter by, from the catalog.
const catalog = await call('/api/v1/achievements?q=data&limit=50', null);
const entries = catalog.items;
const achievement = entries.find((a) => a.kind === 'micro-badge') ?? entries[0];
const detail = await call(`/api/v1/achievements/${achievement.id}`, null);
const criterion = detail.rubric?.criteria?.[0]?.id;
const codes = [...new Set(entries.flatMap((a) => (a.alignments ?? a.competencies ?? []).map((c) => c.target_code)).filter(Boolean))].slice(0, 6);
if (codes.length === 0) codes.push('ESCO-001');
const today = new Date();
const day = (offset) => new Date(today.getTime() - offset * 86_400_000).toISOString().slice(0, 10);

const scenarios = [
  ['catalog search, JSON (`GET /api/v1/achievements?q=`)', words.map((w) => `/api/v1/achievements?q=${w}`), null],
  ['catalog search, HTML page (`GET /catalog?q=`)', words.map((w) => `/catalog?q=${w}`), null],
  [
    'talent search, JSON (`GET /api/v1/talent`, mixed filters)',
    [
      '/api/v1/talent',
      ...words.slice(0, 6).map((w) => `/api/v1/talent?q=${w}`),
      ...words.slice(6, 9).map((w) => `/api/v1/talent?q=${w}&unexpired=true`),
      ...codes.map((c) => `/api/v1/talent?code=${encodeURIComponent(c)}`),
      '/api/v1/talent?competency=analysis',
      `/api/v1/talent?issuer=${issuer}`,
      '/api/v1/talent?recent_days=90',
      '/api/v1/talent?unexpired=true',
      '/api/v1/talent?unexpired=true&recent_days=365',
      ...(criterion ? [`/api/v1/talent?achievement=${achievement.id}&criterion=${criterion}&min_level=3`] : []),
    ],
    employer,
  ],
  [
    'insight, JSON (`GET /api/v1/organisations/{id}/insights`, largest issuer)',
    [
      `/api/v1/organisations/${issuer}/insights`,
      `/api/v1/organisations/${issuer}/insights?from=${day(365)}&to=${day(0)}`,
      `/api/v1/organisations/${issuer}/insights?from=${day(30)}&to=${day(0)}`,
      `/api/v1/organisations/${issuer}/insights?from=${day(730)}&to=${day(365)}`,
    ],
    owner,
  ],
];

const results = [];
for (const [name, variants, token] of scenarios) {
  results.push(await measure(name, variants, token));
}
if (json) {
  console.log(JSON.stringify({ base, requests, concurrency, results }, null, 2));
} else {
  console.log(`${requests} requests per scenario, ${concurrency} at a time, against ${base}`);
  console.log('| scenario | variants | req/s | p50 | p95 | p99 | max |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const ms = (v) => `${v.toFixed(1)} ms`;
  for (const r of results) {
    console.log(`| ${r.name} | ${r.variants} | ${r.per_second.toFixed(0)} | ${ms(r.p50_ms)} | ${ms(r.p95_ms)} | ${ms(r.p99_ms)} | ${ms(r.max_ms)} |`);
  }
  if (byVariant) {
    for (const r of results) {
      console.log(`\n${r.name}`);
      for (const v of r.variant_ms) console.log(`  ${ms(v.p50_ms).padStart(10)} ${ms(v.max_ms).padStart(10)}  ${v.path}`);
    }
  }
}
