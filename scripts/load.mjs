#!/usr/bin/env node
// Bounded load and soak on loopback with wrk, one and two instances, SQLite and PostgreSQL.
//
// For each configuration: the award page (HTML), `/verify` (a Cairn credential, JSON answer),
// the catalog search (HTML) and sign-in (POST /api/v1/session with the right password) each get
// `--connections` connections (default 64) for `--seconds` (default 30); with two instances the
// connections are split between them by two wrk processes running at once (no balancer in the
// way). Every response's status is counted; any 5xx, or a socket error other than a timeout,
// fails the run (exit status 1). Then, with `--soak-minutes N` (default 0), a mixed workload runs
// for N minutes on the last configuration while each instance's resident memory is sampled every
// 30 seconds.
//
//   node scripts/load.mjs [--seconds 30] [--connections 64] [--configs sqlite-1,sqlite-2,postgres-1,postgres-2]
//                         [--soak-minutes 10] [--database-url postgres://postgres@127.0.0.1:5432/test]
//
// Two instances on SQLite share one data directory (one database file, WAL, and one blob
// directory); on PostgreSQL each database is made fresh (createdb through psql) and the instances
// share a blob directory. Needs wrk (scripts/install-test-tools.sh) and Node.js 20+. Prints
// Markdown for BENCHMARKS.md; nothing here asserts speed.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO, earnAward } from '../tests/browser/lib/api.mjs';
import { freePort } from '../tests/interop/lib/cairn.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const options = { seconds: 30, connections: 64, configs: ['sqlite-1', 'sqlite-2', 'postgres-1', 'postgres-2'], soakMinutes: 0, databaseUrl: 'postgres://postgres@127.0.0.1:5432/test', bin: process.env.CAIRN_BIN || path.join(root, 'target/release/cairn') };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const value = () => argv[++i];
  switch (argv[i]) {
    case '--seconds': options.seconds = Number(value()); break;
    case '--connections': options.connections = Number(value()); break;
    case '--configs': options.configs = value().split(','); break;
    case '--soak-minutes': options.soakMinutes = Number(value()); break;
    case '--database-url': options.databaseUrl = value(); break;
    default: throw new Error(`unknown argument ${argv[i]}`);
  }
}
for (const config of options.configs) {
  if (!/^(sqlite|postgres)-[12]$/.test(config)) throw new Error(`configuration ${config} is not sqlite-1, sqlite-2, postgres-1 or postgres-2`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function startInstance({ data, databaseUrl, blobs, name, masterKey, demo }) {
  const port = await freePort();
  const flags = ['serve', '--addr', `127.0.0.1:${port}`, '--data', data, '--blob-store', blobs];
  if (demo) flags.push('--demo');
  if (databaseUrl) flags.push('--database-url', databaseUrl);
  const child = spawn(options.bin, flags, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CAIRN_LOG: 'warn', CAIRN_INSTANCE: name, CAIRN_MASTER_KEY: masterKey },
  });
  let log = '';
  child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-8000); });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return { child, base, name, log: () => log };
    } catch { /* not up yet */ }
    if (child.exitCode !== null) break;
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not start:\n${log}`);
}

function psql(url, sql) {
  return execFileSync('psql', [url, '-qtAX', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
}

/** Starts a configuration: `{ nodes, stop() }`. */
async function startConfig(config) {
  const [engine, count] = config.split('-');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cairn-load-${config}-`));
  const masterKey = crypto.randomBytes(32).toString('hex');
  let databaseUrl = null;
  let database = null;
  if (engine === 'postgres') {
    database = `cairn_load_${process.pid}_${Date.now()}`;
    psql(options.databaseUrl, `CREATE DATABASE ${database}`);
    const url = new URL(options.databaseUrl);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
  }
  const blobs = path.join(dir, 'blobs');
  const nodes = [];
  try {
    for (let i = 0; i < Number(count); i++) {
      // On SQLite the instances share the data directory (the database file); on PostgreSQL each
      // has its own, and all share the blob directory.
      const data = engine === 'sqlite' ? path.join(dir, 'data') : path.join(dir, `data-${i + 1}`);
      nodes.push(await startInstance({ data, databaseUrl, blobs, name: `load-${i + 1}`, masterKey, demo: i === 0 }));
    }
  } catch (error) {
    for (const node of nodes) node.child.kill('SIGKILL');
    throw error;
  }
  const stop = async () => {
    for (const node of nodes) {
      const gone = new Promise((resolve) => node.child.once('exit', resolve));
      node.child.kill('SIGTERM');
      const timer = setTimeout(() => node.child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    }
    if (database) psql(options.databaseUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { nodes, stop };
}

const lua = (s) => JSON.stringify(s);

// Counts 5xx answers in every thread and prints them once at the end.
const COUNT_5XX = [
  'local threads = {}',
  'function setup(thread) table.insert(threads, thread) end',
  'function init(args) fivexx = 0 end',
  'function response(status, headers, body) if status >= 500 then fivexx = fivexx + 1 end end',
  'function done(summary, latency, requests)',
  '  local n = 0',
  '  for _, t in ipairs(threads) do n = n + t:get("fivexx") end',
  '  io.write(string.format("5xx: %d\\n", n))',
  'end',
];

function luaFile(name, lines) {
  const file = path.join(os.tmpdir(), `cairn-load-${process.pid}-${name}.lua`);
  fs.writeFileSync(file, [...lines, ...COUNT_5XX].join('\n'));
  return file;
}

function parseWrk(out) {
  const latency = (label) => {
    const match = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return match ? Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2]] : NaN;
  };
  const sockets = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    total: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50: latency(50),
    p99: latency(99),
    fivexx: Number(/5xx: (\d+)/.exec(out)?.[1] ?? NaN),
    socketErrors: sockets ? Number(sockets[1]) + Number(sockets[2]) + Number(sockets[3]) : 0,
    timeouts: sockets ? Number(sockets[4]) : 0,
  };
}

function runWrk(url, script, connections, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '--latency', '-s', script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.stderr.on('data', (chunk) => { out += chunk; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(parseWrk(out)) : reject(new Error(`wrk exited ${code}: ${out}`))));
  });
}

/** Runs one endpoint on every node at once, the connections split between them. */
async function load(nodes, target, seconds = options.seconds, connections = options.connections) {
  const share = Math.max(1, Math.floor(connections / nodes.length));
  const results = await Promise.all(nodes.map((node) => runWrk(node.base + target.path(node), target.script, share, seconds)));
  const sum = (key) => results.reduce((total, r) => total + r[key], 0);
  return { rps: sum('rps'), total: sum('total'), fivexx: sum('fivexx'), socketErrors: sum('socketErrors'), timeouts: sum('timeouts'), p50: Math.max(...results.map((r) => r.p50)), p99: Math.max(...results.map((r) => r.p99)) };
}

function rssMb(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rss: Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024, peak: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** The award, the verify request and the scripts each endpoint needs, made on the first node. */
async function prepare(nodes) {
  const base = nodes[0].base;
  const { award } = await earnAward(base, { privacy: 'public' });
  const credential = await (await fetch(`${base}/awards/${award.id}/credential`)).text();
  const form = await fetch(`${base}/verify`, { headers: { accept: 'text/html' } });
  const csrf = /cairn_csrf=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')?.[1] ?? '';
  const verifyBody = `csrf=${encodeURIComponent(csrf)}&text=${encodeURIComponent(credential)}`;
  const check = await fetch(`${base}/verify`, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', cookie: `cairn_csrf=${csrf}` }, body: verifyBody });
  const verdict = (await check.json()).verdict;
  if (check.status !== 200 || verdict !== 'valid') throw new Error(`/verify answered ${check.status} ${verdict}`);
  for (const node of nodes) await (await fetch(`${node.base}/awards/${award.id}`, { headers: { accept: 'text/html' } })).arrayBuffer();
  const loginBody = JSON.stringify({ email: DEMO.learner.email, password: DEMO.learner.password });
  return {
    award,
    targets: [
      { name: 'award page', path: () => `/awards/${award.id}`, script: luaFile('page', ['wrk.headers["Accept"] = "text/html"']) },
      {
        name: '/verify',
        path: () => '/verify',
        script: luaFile('verify', [
          'wrk.method = "POST"',
          `wrk.body = ${lua(verifyBody)}`,
          'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"',
          'wrk.headers["Accept"] = "application/json"',
          `wrk.headers["Cookie"] = ${lua(`cairn_csrf=${csrf}`)}`,
        ]),
      },
      { name: 'catalog search', path: () => '/catalog?q=sql', script: luaFile('search', ['wrk.headers["Accept"] = "text/html"']) },
      {
        name: 'sign-in',
        path: () => '/api/v1/session',
        script: luaFile('login', ['wrk.method = "POST"', `wrk.body = ${lua(loginBody)}`, 'wrk.headers["Content-Type"] = "application/json"', 'wrk.headers["Accept"] = "application/json"']),
      },
    ],
    mixed: luaFile('mixed', [
      'local requests = {}',
      'local i = 0',
      'function init_requests()',
      `  requests[1] = wrk.format("GET", ${lua(`/awards/${award.id}`)}, { ["Accept"] = "text/html" })`,
      '  requests[2] = wrk.format("GET", "/catalog?q=sql", { ["Accept"] = "text/html" })',
      `  requests[3] = wrk.format("POST", "/verify", { ["Content-Type"] = "application/x-www-form-urlencoded", ["Accept"] = "application/json", ["Cookie"] = ${lua(`cairn_csrf=${csrf}`)} }, ${lua(verifyBody)})`,
      `  requests[4] = wrk.format("GET", ${lua(`/awards/${award.id}/credential`)})`,
      '  requests[5] = wrk.format("GET", "/api/v1/achievements")',
      `  requests[6] = wrk.format("POST", "/api/v1/session", { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }, ${lua(loginBody)})`,
      'end',
      'function request()',
      '  if #requests == 0 then init_requests() end',
      '  i = i + 1',
      // Sign-in (argon2) one request in 20, the rest spread evenly.
      '  if i % 20 == 0 then return requests[6] end',
      '  return requests[(i % 5) + 1]',
      'end',
    ]),
  };
}

const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-GB') : '–');
const ms = (n) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : Math.round(n)} ms` : '–');

let failed = false;
const table = [];
let soak = null;
for (const [index, config] of options.configs.entries()) {
  const started = await startConfig(config);
  try {
    const prepared = await prepare(started.nodes);
    for (const target of prepared.targets) {
      const result = await load(started.nodes, target);
      const bad = result.fivexx !== 0 || Number.isNaN(result.fivexx) || result.socketErrors !== 0;
      failed ||= bad;
      table.push({ config, target: target.name, ...result, bad });
      console.error(`${config} ${target.name}: ${fmt(result.rps)}/s, p99 ${ms(result.p99)}, 5xx ${result.fivexx}, socket errors ${result.socketErrors}, timeouts ${result.timeouts}`);
    }
    for (const node of started.nodes) table.push({ config, memory: node.name, ...rssMb(node.child.pid) });
    if (options.soakMinutes > 0 && index === options.configs.length - 1) {
      const seconds = Math.round(options.soakMinutes * 60);
      const samples = [];
      const sampler = setInterval(() => samples.push({ at: samples.length * 30, rss: started.nodes.map((node) => rssMb(node.child.pid).rss) }), 30_000);
      samples.push({ at: 0, rss: started.nodes.map((node) => rssMb(node.child.pid).rss) });
      const result = await load(started.nodes, { path: () => '/', script: prepared.mixed }, seconds, 16);
      clearInterval(sampler);
      samples.push({ at: seconds, rss: started.nodes.map((node) => rssMb(node.child.pid).rss) });
      const bad = result.fivexx !== 0 || result.socketErrors !== 0;
      failed ||= bad;
      soak = { config, seconds, result, samples };
      console.error(`soak ${config}: ${fmt(result.total)} requests, 5xx ${result.fivexx}, RSS ${samples.map((s) => s.rss.map((r) => r.toFixed(0)).join('/')).join(' → ')} MB`);
    }
  } finally {
    await started.stop();
  }
}

console.log(`\n| configuration | request | requests/s | p50 | p99 | 5xx | socket errors | timeouts |`);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const row of table.filter((r) => r.target)) {
  console.log(`| ${row.config} | ${row.target} | ${fmt(row.rps)} | ${ms(row.p50)} | ${ms(row.p99)} | ${row.fivexx} | ${row.socketErrors} | ${row.timeouts} |`);
}
console.log('\n| configuration | instance | resident memory after the runs | peak |');
console.log('| --- | --- | --- | --- |');
for (const row of table.filter((r) => r.memory)) console.log(`| ${row.config} | ${row.memory} | ${row.rss.toFixed(0)} MB | ${row.peak.toFixed(0)} MB |`);
if (soak) {
  console.log(`\nSoak, ${soak.config}, ${soak.seconds / 60} minutes, 16 connections, mixed workload: ${fmt(soak.result.total)} requests (${fmt(soak.result.rps)}/s), ${soak.result.fivexx} 5xx, ${soak.result.socketErrors} socket errors, p99 ${ms(soak.result.p99)}.`);
  console.log('\n| minute | ' + soak.samples[0].rss.map((_, i) => `instance ${i + 1} RSS`).join(' | ') + ' |');
  console.log('| --- | ' + soak.samples[0].rss.map(() => '---').join(' | ') + ' |');
  for (const sample of soak.samples) console.log(`| ${(sample.at / 60).toFixed(1)} | ${sample.rss.map((r) => `${r.toFixed(0)} MB`).join(' | ')} |`);
}
if (failed) {
  console.error('FAILED: some requests answered 5xx or failed at the socket (see above)');
  process.exit(1);
}
