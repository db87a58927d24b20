// What the interop tests of several Cairn instances share: an S3-compatible object store (moto's
// standalone server, `moto_server` from PyPI, pinned in tests/interop/peers/requirements-s3.txt,
// in .venv-s3) read back with boto3 (the AWS SDK for Python, a client independent of Cairn's), a
// fresh PostgreSQL database per run (the server at 127.0.0.1:5432, trust authentication, user
// postgres, driven with psql), `cairn serve` instances sharing both, an SMTP sink (the npm
// package smtp-server, nodemailer's SMTP server, pinned in tests/interop/peers) that keeps every
// message it is given, and a cookie session that a browser would have if one site answered from
// several instances (the sign-in cookie made on one is sent to every other).
//
// Every instance of a cluster gets the same CAIRN_MASTER_KEY (the second refuses to start with
// another), its own --data directory, port and CAIRN_INSTANCE name, the same public URL (the
// first instance's address, standing for the load balancer an installation puts in front: an
// award names one site whichever instance issued it) and the same configuration file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cairnBin, freePort, importPeer, peers } from './cairn.mjs';

/** The venv with moto_server, boto3 and prometheus-client. */
const s3Venv = path.join(peers, '.venv-s3');
export const s3Python = path.join(s3Venv, 'bin/python');
const motoServer = path.join(s3Venv, 'bin/moto_server');
/** The PostgreSQL server the tests create their databases on (trust authentication). */
const POSTGRES = process.env.CAIRN_INTEROP_POSTGRES || 'postgres://postgres@127.0.0.1:5432';
const HEALTH_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 45_000; // a graceful stop lets the background run under way finish (30 s)

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const randomHex = (bytes) => crypto.randomBytes(bytes).toString('hex');

/** Runs a child to completion (with `env` added, `input` on its stdin); rejects with its output unless it exits 0. */
function run(what, command, args, { cwd = os.tmpdir(), env = {}, input = '', timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status === 0) resolve(stdout);
      else reject(new Error(`${what}: exit ${status}\n${stderr}${stdout}`));
    });
    child.stdin.end(input);
  });
}

/** A child process whose last output is kept, whose exit is known, and that stops on request. */
function watch(child) {
  const state = { output: '', exited: null };
  const keep = (chunk) => { state.output = (state.output + chunk).slice(-64_000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const gone = new Promise((resolve) => {
    child.on('exit', (code, signal) => { state.exited = { code, signal }; resolve(state.exited); });
    child.on('error', (error) => { state.output += `\n${error.stack}`; state.exited ??= { code: null, signal: null, error: error.message }; resolve(state.exited); });
  });
  const end = async (signal, graceMs) => {
    if (state.exited !== null) return state.exited;
    child.kill(signal);
    const timer = graceMs ? setTimeout(() => child.kill('SIGKILL'), graceMs) : null;
    await gone;
    if (timer) clearTimeout(timer);
    return state.exited;
  };
  return { state, gone, end };
}

// ---------------------------------------------------------------------------------------------
// S3: moto_server.

/**
 * Starts moto's standalone server on a free loopback port (state in memory, gone when it stops)
 * and waits until it answers. Returns `{ endpoint, port, env, createBucket, listKeys, getObject,
 * stop }`: `env` is what Cairn (or any AWS SDK) needs to reach it (AWS_ENDPOINT_URL, test
 * credentials, AWS_REGION, AWS_ALLOW_HTTP); `createBucket(name)` creates a bucket with a plain
 * `PUT /{name}` (moto accepts unsigned requests); `listKeys(bucket)` lists every key with boto3
 * (paginated), sorted; `getObject(bucket, key)` reads an object's bytes with boto3.
 */
export async function startS3() {
  assert.ok(fs.existsSync(motoServer), `${motoServer} is missing: bash tests/interop/peers/install.sh`);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(motoServer, ['-H', '127.0.0.1', '-p', String(port)], { cwd: peers, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = watch(child);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.state.exited !== null) throw new Error(`moto_server exited early (${JSON.stringify(server.state.exited)}):\n${server.state.output}`);
    try {
      const answer = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
      await answer.arrayBuffer();
      if (answer.status === 200) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      await server.end('SIGKILL');
      throw new Error(`moto_server did not answer within 30 s:\n${server.state.output}`);
    }
    await sleep(200);
  }
  const env = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'cairn-interop',
    AWS_SECRET_ACCESS_KEY: 'cairn-interop-secret',
    AWS_REGION: 'us-east-1',
    AWS_ALLOW_HTTP: 'true',
  };
  // boto3, configured by the same variables, path-style like Cairn.
  const boto = (script, args, input) => run('boto3', s3Python, ['-c', `
import json, sys, boto3
from botocore.config import Config
s3 = boto3.client('s3', config=Config(s3={'addressing_style': 'path'}))
${script}`, ...args], { cwd: peers, input, env });
  return {
    endpoint,
    port,
    env,
    async createBucket(name) {
      const answer = await fetch(`${endpoint}/${encodeURIComponent(name)}`, { method: 'PUT', signal: AbortSignal.timeout(15_000) });
      const text = await answer.text();
      assert.equal(answer.status, 200, `create bucket ${name}: HTTP ${answer.status} ${text}`);
    },
    async listKeys(bucket) {
      const out = await boto(`
keys = []
for page in s3.get_paginator('list_objects_v2').paginate(Bucket=sys.argv[1]):
    keys += [o['Key'] for o in page.get('Contents', [])]
print(json.dumps(sorted(keys)))`, [bucket]);
      return JSON.parse(out);
    },
    async getObject(bucket, key) {
      const out = await boto(`
body = s3.get_object(Bucket=sys.argv[1], Key=sys.argv[2])['Body'].read()
sys.stdout.write(body.hex())`, [bucket, key]);
      return Buffer.from(out, 'hex');
    },
    /** moto_server's last output (its request log). */
    log: () => server.state.output,
    stop: () => server.end('SIGTERM', 5_000),
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL.

/**
 * Creates a fresh database `cairn_cluster_<random>` on the test PostgreSQL server. Returns
 * `{ url, name, query, drop }`: `query(sql)` runs it with `psql -tAX` (unaligned, tuples only,
 * no psqlrc; stops at the first error) and resolves with psql's output; `drop()` drops the
 * database, closing the connections still open to it.
 */
export async function createDatabase() {
  const name = `cairn_cluster_${randomHex(6)}`;
  const psql = (database, sql) => run(`psql ${database}`, 'psql', ['-tAX', '-v', 'ON_ERROR_STOP=1', '-d', `${POSTGRES}/${database}`, '-c', sql]);
  await psql('postgres', `CREATE DATABASE ${name}`);
  let dropped = false;
  return {
    url: `${POSTGRES}/${name}`,
    name,
    query: (sql) => psql(name, sql),
    async drop() {
      if (dropped) return;
      dropped = true;
      await psql('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Cairn instances.

/**
 * Starts `cairn serve` with its data under `dir`, on the database `databaseUrl`, with blobs at
 * `blobStore` (an `s3://BUCKET[/PREFIX]`; none: the default under `dir`), the master key
 * `masterKey` (64 hex digits) and the instance name `name` (CAIRN_INSTANCE); `env` adds to (or
 * overrides) the child's environment; `demo` seeds the demo accounts; `port` (default: a free
 * one). Waits for /healthz 200 (60 s; fails with the server's output if it exits first).
 * Returns `{ base, port, name, dir, pid, log, stop, kill, restart, exited }`: `stop()` sends
 * SIGTERM and waits for the exit (SIGKILL after 45 s), `kill()` sends SIGKILL and waits,
 * `restart()` starts it again as it was (same port, name, data, database, environment) and waits
 * for /healthz, `exited()` is null while it runs, else `{ code, signal }`; `pid` is the running
 * process's.
 */
export async function startInstance({ dir, databaseUrl, blobStore, env = {}, masterKey, name, demo = true, port }) {
  assert.ok(fs.existsSync(cairnBin), `${cairnBin} is missing: cargo build --release -p cairn-cli`);
  assert.ok(dir, 'startInstance: dir is required');
  assert.match(masterKey ?? '', /^[0-9a-f]{64}$/i, 'startInstance: masterKey is 64 hex digits');
  fs.mkdirSync(dir, { recursive: true });
  const chosen = port ?? await freePort();
  const base = `http://127.0.0.1:${chosen}`;
  const args = ['serve', '--addr', `127.0.0.1:${chosen}`, '--data', dir];
  if (demo) args.push('--demo');
  if (databaseUrl) args.push('--database-url', databaseUrl);
  if (blobStore) args.push('--blob-store', blobStore);
  const childEnv = { ...process.env, CAIRN_LOG: 'warn', ...env, CAIRN_MASTER_KEY: masterKey };
  if (name) childEnv.CAIRN_INSTANCE = name;

  let current;
  const launch = async () => {
    const child = spawn(cairnBin, args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    current = { child, ...watch(child) };
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    for (;;) {
      assert.equal(current.state.exited, null, `cairn serve ${name ?? base} exited early (${JSON.stringify(current.state.exited)}):\n${current.state.output}`);
      try {
        const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) });
        await health.arrayBuffer();
        if (health.status === 200) return;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) {
        await current.end('SIGKILL');
        assert.fail(`cairn serve ${name ?? base} did not answer /healthz within 60 s:\n${current.state.output}`);
      }
      await sleep(200);
    }
  };
  await launch();
  return {
    base,
    port: chosen,
    name,
    dir,
    get pid() { return current.child.pid; },
    log: () => current.state.output,
    exited: () => current.state.exited,
    stop: () => current.end('SIGTERM', STOP_TIMEOUT_MS),
    kill: () => current.end('SIGKILL'),
    async restart() {
      await current.end('SIGTERM', STOP_TIMEOUT_MS);
      await launch();
    },
  };
}

/**
 * A cluster in a fresh temp dir: moto_server with one bucket, a fresh PostgreSQL database, a
 * configuration file holding `config` (TOML text; CAIRN_CONFIG), one master key, and `instances`
 * instances (`a`, `b`, …; CAIRN_INSTANCE `cluster-a`, …) started one after the other, each with
 * `--demo` (the first is up before the next starts), blobs at `s3://BUCKET/cluster`, and `env`
 * added to each one's environment. They share the public URL (CAIRN_PUBLIC_URL, unless `env`
 * sets one): the first instance's address. Returns `{ s3, db, bucket, prefix, nodes,
 * masterKey, configPath, dir, publicUrl, stop }`; `stop()` stops the instances, moto_server,
 * drops the database and removes the dir. Whatever was started is stopped when starting fails.
 */
export async function startCluster({ instances = 2, env = {}, config = '' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-cluster-'));
  const cluster = {
    s3: null, db: null, bucket: `cairn-cluster-${randomHex(4)}`, prefix: 'cluster', nodes: [],
    masterKey: randomHex(32), configPath: path.join(dir, 'cairn.toml'), dir, publicUrl: null,
  };
  let stopped;
  cluster.stop = () => {
    stopped ??= (async () => {
      const problems = [];
      const attempt = async (what, action) => {
        try { await action(); } catch (error) { problems.push(`${what}: ${error.message}`); }
      };
      await Promise.all(cluster.nodes.map((node) => attempt(`stop ${node.name}`, () => node.stop())));
      if (cluster.s3) await attempt('stop moto_server', () => cluster.s3.stop());
      if (cluster.db) await attempt('drop the database', () => cluster.db.drop());
      fs.rmSync(dir, { recursive: true, force: true });
      if (problems.length > 0) throw new Error(`stopping the cluster: ${problems.join('; ')}`);
    })();
    return stopped;
  };
  try {
    fs.writeFileSync(cluster.configPath, config);
    cluster.s3 = await startS3();
    await cluster.s3.createBucket(cluster.bucket);
    cluster.db = await createDatabase();
    const ports = [];
    while (ports.length < instances) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    cluster.publicUrl = env.CAIRN_PUBLIC_URL ?? `http://127.0.0.1:${ports[0]}`;
    const shared = { ...cluster.s3.env, CAIRN_CONFIG: cluster.configPath, CAIRN_PUBLIC_URL: cluster.publicUrl, ...env };
    for (const [i, port] of ports.entries()) {
      const letter = String.fromCharCode(97 + i);
      cluster.nodes.push(await startInstance({
        dir: path.join(dir, letter),
        databaseUrl: cluster.db.url,
        blobStore: `s3://${cluster.bucket}/${cluster.prefix}`,
        env: shared,
        masterKey: cluster.masterKey,
        name: `cluster-${letter}`,
        demo: true,
        port,
      }));
    }
  } catch (error) {
    await cluster.stop().catch(() => {});
    throw error;
  }
  return cluster;
}

// ---------------------------------------------------------------------------------------------
// Mail.

/** An RFC 2047 encoded-word header value decoded (B and Q encodings, UTF-8 and Latin-1). */
function decodeWords(value) {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1') // space between encoded words is not text
    .replace(/=\?([^?*]+)(?:\*[^?]*)?\?([BbQq])\?([^?]*)\?=/g, (_, charset, encoding, text) => {
      const bytes = encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (__, hex) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
      return new TextDecoder(/^(utf-?8)$/i.test(charset) ? 'utf-8' : charset).decode(bytes);
    });
}

/** The value of header `name` in a message's header block, unfolded and decoded; '' if none. */
function headerOf(raw, name) {
  const head = raw.split(/\r?\n\r?\n/, 1)[0].replace(/\r?\n(?=[ \t])/g, '');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line === undefined ? '' : decodeWords(line.slice(name.length + 1).trim());
}

/**
 * An SMTP server on a free loopback port (smtp-server: no TLS, STARTTLS disabled, no
 * authentication asked) keeping every message it accepts. Returns `{ port, url, messages,
 * stop }`; `messages` is the array of `{ to, from, subject, raw, at }` in arrival order: `to` the
 * envelope's recipient (recipients joined with ", " should there be several), `subject` the
 * Subject header decoded.
 */
export async function smtpSink() {
  const { SMTPServer } = await importPeer('smtp-server');
  const messages = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks = [];
      stream.on('data', (chunk) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({
          to: session.envelope.rcptTo.map((r) => r.address).join(', '),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          subject: headerOf(raw, 'subject'),
          raw,
          at: Date.now(),
        });
        callback();
      });
    },
  });
  const port = await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.server.address().port);
    });
  });
  server.on('error', () => { /* a client that went away; the message was not accepted */ });
  let closed;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    stop: () => { closed ??= new Promise((resolve) => server.close(resolve)); return closed; },
  };
}

// ---------------------------------------------------------------------------------------------
// Pages.

/**
 * A browser's cookies for one site that several instances serve: whatever instance set a cookie,
 * it is sent to all of them (as a load balancer's single origin would). Pages are requested with
 * `page(base, method, path, { form, headers, multipart })` without following redirects; a form
 * (an object, sent urlencoded) or a multipart FormData gets the CSRF field (`csrf`) equal to the
 * `cairn_csrf` cookie (double submit), which is chosen here when none was set yet. Resolves with
 * `{ status, text, location, headers }`.
 */
export class CookieSession {
  #cookies = new Map();

  /** The value of cookie `name`, or undefined. */
  get(name) { return this.#cookies.get(name); }

  set(name, value) { this.#cookies.set(name, value); }

  /** The Cookie header for the cookies held, or ''. */
  header() { return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; '); }

  /** Keeps a response's Set-Cookie values (Max-Age=0 or an Expires in the past deletes). */
  store(setCookies) {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = attributes.some((a) => {
        const [key, val = ''] = a.split('=').map((s) => s.trim());
        return (key.toLowerCase() === 'max-age' && Number(val) <= 0)
          || (key.toLowerCase() === 'expires' && Date.parse(val) <= Date.now());
      });
      if (gone) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  /** The CSRF token for forms (the cookie's value, chosen now when there is none). */
  csrf() {
    if (!this.#cookies.has('cairn_csrf')) this.#cookies.set('cairn_csrf', randomHex(16));
    return this.#cookies.get('cairn_csrf');
  }

  async page(base, method, urlPath, { form, multipart, headers = {} } = {}) {
    const sent = { ...headers };
    let body;
    if (form) {
      sent['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({ csrf: this.csrf(), ...form }).toString();
    } else if (multipart) {
      multipart.set('csrf', this.csrf());
      body = multipart;
    }
    const cookie = this.header();
    if (cookie) sent.cookie = cookie;
    const response = await fetch(base + urlPath, { method, headers: sent, body, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    this.store(response.headers.getSetCookie());
    return { status: response.status, text: await response.text(), location: response.headers.get('location'), headers: response.headers };
  }
}
