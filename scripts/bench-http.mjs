#!/usr/bin/env node
// Cairn's public surface under load, measured with wrk: the award page against the credential
// JSON it shows, `/verify` with a valid Cairn credential, the catalog search, and log-in with
// wrong passwords under its concurrency bound (with `/healthz` latency and the server's peak
// memory meanwhile). Each binary given is measured in turn in the same run, so a "before" and an
// "after" build are compared on the same machine under the same conditions.
//
//   node scripts/bench-http.mjs [--seconds 8] [--database-url postgres://…] \
//        [--label before=/path/to/old/cairn] [--label after=target/release/cairn]
//
// Needs wrk (scripts/install-test-tools.sh installs it) and Node.js 20+. Prints a Markdown table
// for BENCHMARKS.md. Nothing here asserts speed: it measures.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO, earnAward } from '../tests/browser/lib/api.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let seconds = 8;
let databaseUrl = null;
const builds = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seconds') seconds = Number(args[++i]);
  else if (args[i] === '--database-url') databaseUrl = args[++i];
  else if (args[i] === '--label') {
    const [label, bin] = args[++i].split('=');
    builds.push({ label, bin: path.resolve(bin) });
  } else throw new Error(`unknown argument ${args[i]}`);
}
if (builds.length === 0) builds.push({ label: 'this build', bin: path.join(root, 'target/release/cairn') });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function start(bin, port) {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-'));
  const flags = ['serve', '--demo', '--addr', `127.0.0.1:${port}`, '--data', data];
  if (databaseUrl) flags.push('--database-url', databaseUrl);
  const child = spawn(bin, flags, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CAIRN_LOG: 'warn' } });
  let log = '';
  child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-4000); });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { child, base, data };
    } catch { /* not up yet */ }
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(`${bin} did not start:\n${log}`);
}

// One public award of the demo learner, earned through the API as a learner would.
async function earnPublicAward(base) {
  const { award } = await earnAward(base, { privacy: 'public' });
  const credential = await (await fetch(`${base}/awards/${award.id}/credential`)).text();
  return { id: award.id, credential };
}

function luaFile(name, lines) {
  const file = path.join(os.tmpdir(), `cairn-bench-${process.pid}-${name}.lua`);
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}
const lua = (s) => JSON.stringify(s); // a Lua string literal: only \" \\ \n escapes occur here

function wrk(url, { connections = 16, script = null, duration = seconds } = {}) {
  const argv = ['-t2', `-c${connections}`, `-d${duration}s`, '--latency'];
  if (script) argv.push('-s', script);
  argv.push(url);
  const out = execFileSync('wrk', argv, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const ms = p99 ? Number(p99[1]) * { us: 0.001, ms: 1, s: 1000 }[p99[2]] : NaN;
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return { rps, p99: ms, non2xx, total };
}

function rssPeakMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function measure({ label, bin }, port) {
  const server = await start(bin, port);
  try {
    const award = await earnPublicAward(server.base);
    // The verify form carries a CSRF token (double-submit: the cookie and the field agree).
    const form = await fetch(`${server.base}/verify`, { headers: { accept: 'text/html' } });
    const csrf = /cairn_csrf=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const verifyBody = `csrf=${encodeURIComponent(csrf)}&text=${encodeURIComponent(award.credential)}`;
    const check = await fetch(`${server.base}/verify`, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', cookie: `cairn_csrf=${csrf}` }, body: verifyBody });
    const verdict = (await check.json()).verdict;
    if (check.status !== 200 || verdict !== 'valid') throw new Error(`/verify answered ${check.status} ${verdict}`);
    const verifyScript = luaFile('verify', [
      'wrk.method = "POST"',
      `wrk.body = ${lua(verifyBody)}`,
      'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"',
      'wrk.headers["Accept"] = "application/json"',
      `wrk.headers["Cookie"] = ${lua(`cairn_csrf=${csrf}`)}`,
    ]);
    const pageScript = luaFile('page', ['wrk.headers["Accept"] = "text/html"']);
    const loginScript = luaFile('login', [
      'wrk.method = "POST"',
      `wrk.body = ${lua(JSON.stringify({ email: DEMO.learner.email, password: 'not the password at all' }))}`,
      'wrk.headers["Content-Type"] = "application/json"',
      'wrk.headers["Accept"] = "application/json"',
    ]);
    // Warm up: the first view verifies and signs the status list.
    await fetch(`${server.base}/awards/${award.id}`, { headers: { accept: 'text/html' } });
    const rows = {};
    rows.credential = wrk(`${server.base}/awards/${award.id}/credential`);
    rows.page = wrk(`${server.base}/awards/${award.id}`, { script: pageScript });
    rows.verify = wrk(`${server.base}/verify`, { script: verifyScript });
    rows.search = wrk(`${server.base}/catalog?q=sql`);
    // 200 clients with wrong passwords while /healthz is measured beside them.
    const login = spawn('wrk', ['-t2', '-c200', `-d${seconds + 2}s`, '--latency', '-s', loginScript, `${server.base}/api/v1/session`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let loginOut = '';
    login.stdout.on('data', (chunk) => { loginOut += chunk; });
    await sleep(1000);
    rows.healthz = wrk(`${server.base}/healthz`, { connections: 4, duration: seconds });
    await new Promise((resolve) => login.on('close', resolve));
    rows.login = {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(loginOut)?.[1] ?? NaN),
      non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(loginOut)?.[1] ?? 0),
    };
    rows.rss = rssPeakMb(server.child.pid);
    return { label, rows };
  } finally {
    server.child.kill('SIGKILL');
    fs.rmSync(server.data, { recursive: true, force: true });
  }
}

const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-GB') : '–');
const ms = (n) => (Number.isFinite(n) ? `${n.toFixed(2)} ms` : '–');
const results = [];
let port = 18700 + Math.floor(Math.random() * 500);
for (const build of builds) results.push(await measure(build, port++));

console.log(`\n${databaseUrl ? 'PostgreSQL' : 'SQLite'}, wrk -t2 -c16 -d${seconds}s unless noted; requests per second (p99 latency).\n`);
console.log(`| request | ${results.map((r) => r.label).join(' | ')} |`);
console.log(`| --- | ${results.map(() => '---').join(' | ')} |`);
const line = (name, pick) => console.log(`| ${name} | ${results.map((r) => pick(r.rows)).join(' | ')} |`);
line('`GET /awards/{id}/credential` (credential JSON)', (r) => `${fmt(r.credential.rps)} /s (${ms(r.credential.p99)})`);
line('`GET /awards/{id}` (award page, HTML)', (r) => `${fmt(r.page.rps)} /s (${ms(r.page.p99)})`);
line('award page ÷ credential JSON', (r) => `${Math.round((100 * r.page.rps) / r.credential.rps)} %`);
line('`POST /verify` (valid Cairn credential, JSON report)', (r) => `${fmt(r.verify.rps)} /s (${ms(r.verify.p99)})${r.verify.non2xx ? `, ${fmt(r.verify.non2xx)} not 2xx` : ''}`);
line('`GET /catalog?q=sql` (search page)', (r) => `${fmt(r.search.rps)} /s (${ms(r.search.p99)})`);
line('`POST /api/v1/session`, wrong password, 200 connections', (r) => `${fmt(r.login.rps)} /s (${fmt(r.login.non2xx)} refusals)`);
line('`GET /healthz` meanwhile, 4 connections', (r) => `${fmt(r.healthz.rps)} /s (${ms(r.healthz.p99)})`);
line('server peak resident memory', (r) => `${fmt(r.rss)} MB`);
