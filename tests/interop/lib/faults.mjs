// What the fault tests (tests/interop/faults.test.mjs) share: a TCP proxy that can be paused, to
// take the database or the blob store away from a running Cairn and give it back; a client for
// the JSON API; an upload streamed slowly with node:http, so that the server is mid-request when
// it is killed or told to stop; unique evidence files; a small filesystem to fill; and `cairn
// serve` on SQLite with its exit code, which the cluster helpers do not start.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { cairnBin, freePort } from './cairn.mjs';

export const ISSUER = { email: 'issuer@demo.cairn.test', password: 'cairn-demo-issuer' };
export const LEARNER = { email: 'learner@demo.cairn.test', password: 'cairn-demo-learner' };
export const GRADUATE = { email: 'graduate@demo.cairn.test', password: 'cairn-demo-graduate' };

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns something truthy (which is returned), or fails naming `what`
 * with the last value seen after `timeoutMs`. A probe that throws counts as not yet.
 */
export async function waitFor(what, probe, { timeoutMs = 60_000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.stack : JSON.stringify(last)?.slice(0, 2_000);
      assert.fail(`${what}: not so within ${Math.round(timeoutMs / 1000)} s (last seen: ${seen})`);
    }
    await sleep(intervalMs);
  }
}

/**
 * A TCP proxy on 127.0.0.1 to `targetPort` (on `targetHost`) that can be paused: `pause()` cuts
 * every open connection with a reset and resets each new one as it arrives (a server that went
 * away); `pause({ mode: 'blackhole' })` cuts the open ones but accepts new ones and never answers
 * (a network that drops packets). `resume()` forwards again; `stop()` closes everything.
 * Returns `{ port, url(scheme), pause, resume, stop, stats }`.
 */
export async function startProxy(targetPort, { targetHost = '127.0.0.1' } = {}) {
  let mode = 'open';
  const open = new Set();
  const stats = { accepted: 0, refused: 0, held: 0 };
  // A reset (RST) where the socket allows one; a socket whose writing side has ended (the other
  // side closed first and pipe() ended it) cannot be reset, and resetAndDestroy() would then
  // leave its handle open, so it is destroyed plainly.
  const cut = (socket) => {
    if (socket.destroyed) return;
    if (typeof socket.resetAndDestroy === 'function' && !socket.connecting && !socket.writableEnded && !socket.pending) {
      socket.resetAndDestroy();
    } else {
      socket.destroy();
    }
  };
  const server = net.createServer((client) => {
    client.on('error', () => {});
    if (mode === 'reset') {
      stats.refused += 1;
      cut(client);
      return;
    }
    const pair = { client, upstream: null };
    open.add(pair);
    client.on('close', () => { if (pair.upstream) cut(pair.upstream); open.delete(pair); });
    if (mode === 'blackhole') {
      // Accepted, read and never answered: whatever is sent is swallowed.
      stats.held += 1;
      client.on('data', () => {});
      return;
    }
    stats.accepted += 1;
    const upstream = net.connect({ host: targetHost, port: targetPort });
    pair.upstream = upstream;
    upstream.on('error', () => cut(client));
    upstream.on('close', () => cut(client));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const cutAll = () => {
    for (const pair of open) {
      cut(pair.client);
      if (pair.upstream) cut(pair.upstream);
    }
    open.clear();
  };
  return {
    port,
    stats,
    /** Takes the target away: `mode` 'reset' (the default) or 'blackhole'. */
    pause({ mode: how = 'reset' } = {}) {
      assert.ok(['reset', 'blackhole'].includes(how), `unknown pause mode ${how}`);
      mode = how;
      cutAll();
    },
    resume() {
      if (mode === 'blackhole') cutAll();
      mode = 'open';
    },
    get paused() { return mode !== 'open'; },
    stop() {
      mode = 'reset';
      cutAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** `url` with its port replaced by `port` (a database URL or an endpoint through a proxy). */
export function viaPort(url, port) {
  const parsed = new URL(url);
  const replaced = `${parsed.protocol}//${parsed.username ? `${parsed.username}${parsed.password ? `:${parsed.password}` : ''}@` : ''}${parsed.hostname}:${port}`;
  return replaced + url.slice(url.indexOf(parsed.host) + parsed.host.length);
}

/**
 * A JSON API client for `base` (a function, so that a restarted instance's base may be read
 * anew): `request(method, path, { token, body, headers, raw, timeoutMs })` answers
 * `{ status, json, text, headers, contentType }`, or `{ error }` when no answer came.
 */
export function client(base) {
  const baseOf = typeof base === 'function' ? base : () => base;
  async function request(method, urlPath, { token, body, headers: extra = {}, raw, timeoutMs = 60_000 } = {}) {
    const headers = { ...extra };
    if (token) headers.authorization = `Bearer ${token}`;
    let payload;
    if (raw !== undefined) payload = raw;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(baseOf() + urlPath, { method, headers, body: payload, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      return { status: 0, error, text: String(error?.cause?.code || error?.cause || error), json: null, headers: new Headers() };
    }
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, json, text, headers: response.headers, contentType: response.headers.get('content-type') || '' };
  }
  return { request, base: baseOf };
}

/** What a response was, for assertion messages. */
export const show = (response) => `HTTP ${response.status} ${response.contentType || ''} ${(response.text || '').slice(0, 600)}`;

/** Asserts `response` has one of `statuses` and returns its JSON. */
export function expectStatus(what, response, ...statuses) {
  assert.ok(statuses.includes(response.status), `${what}: expected ${statuses.join(' or ')}, got ${show(response)}`);
  return response.json;
}

/**
 * Asserts `response` is a 503 problem document with a Retry-After header and a detail matching
 * `detail` (a RegExp).
 */
export function expectUnavailable(what, response, detail) {
  assert.equal(response.status, 503, `${what}: expected 503, got ${show(response)}`);
  assert.match(response.contentType, /^application\/problem\+json/, `${what}: not a problem document: ${show(response)}`);
  assert.ok(response.headers.get('retry-after'), `${what}: 503 without Retry-After: ${show(response)}`);
  assert.equal(response.json?.status, 503, `${what}: ${show(response)}`);
  if (detail) assert.match(response.json?.detail ?? '', detail, `${what}: ${show(response)}`);
  return response.json;
}

/** Signs in over the API: the bearer token. */
export async function signIn(api, { email, password }) {
  const response = await api.request('POST', '/api/v1/session', { body: { email, password } });
  return expectStatus(`sign in as ${email}`, response, 200, 201).token;
}

/** The first organisation the demo issuer belongs to. */
export async function organisationOf(api, token) {
  const me = expectStatus('GET /me', await api.request('GET', '/api/v1/me', { token }), 200);
  const org = me.memberships?.[0]?.organisation_id;
  assert.ok(org, `no organisation: ${JSON.stringify(me)}`);
  return org;
}

/** Creates and publishes a micro-badge of `org` named `name`; its id. */
export async function publishedBadge(api, token, org, name) {
  const badge = expectStatus(`create ${name}`, await api.request('POST', `/api/v1/organisations/${org}/achievements`, {
    token,
    body: {
      kind: 'micro-badge',
      name,
      description: `${name}: awarded by the fault tests.`,
      criteria: 'Show the work to an assessor.',
      rubric: {
        levels: ['Not yet', 'Competent'],
        criteria: [{ name: 'The work', required_level: 'Competent', descriptors: ['Incomplete', 'Complete and explained'] }],
      },
    },
  }), 201);
  expectStatus(`publish ${name}`, await api.request('POST', `/api/v1/achievements/${badge.id}/publish`, { token, body: {} }), 200);
  return badge.id;
}

/**
 * A draft submission of the learner for a new badge of `org` (made and published by `issuerToken`
 * for it, so that no earlier submission is in the way): `{ id, achievement }`.
 */
export async function draftSubmission(api, { issuerToken, learnerToken, org, name }) {
  const achievement = await publishedBadge(api, issuerToken, org, name);
  const submission = expectStatus('start a submission', await api.request('POST', `/api/v1/achievements/${achievement}/submissions`, {
    token: learnerToken,
    body: { overview: 'What I did', reflection: 'What I learnt', links: [], collaborators: [] },
  }), 201);
  return { id: submission.id, achievement };
}

/** The artefacts of a submission as its learner sees them. */
export async function artifactsOf(api, token, submission) {
  const view = expectStatus('GET the submission', await api.request('GET', `/api/v1/submissions/${submission}`, { token }), 200);
  return view.artifacts;
}

/** UTF-8 text evidence of `bytes` bytes, unlike any other (so its blob is new). */
export function textEvidence(bytes, label = 'evidence') {
  const head = `${label} ${crypto.randomUUID()}\n`;
  const line = 'The quick brown fox measured the river twice and wrote it down.\n';
  let text = head;
  while (text.length < bytes) text += line;
  return Buffer.from(text.slice(0, bytes), 'utf8');
}

/** A multipart/form-data body with a `title` field and the `file`. */
export function multipart({ file, fileName = 'notes.txt', type = 'text/plain', title = 'Notes' }) {
  const boundary = `----cairn-faults-${crypto.randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n${title}\r\n`
    + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: ${type}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { body: Buffer.concat([head, file, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Uploads evidence at once (fetch): the response as `client` answers it. */
export function uploadEvidence(api, token, submission, file, title = 'Notes', options = {}) {
  const form = multipart({ file, title });
  return api.request('POST', `/api/v1/submissions/${submission}/artifacts`, {
    token, raw: form.body, headers: { 'content-type': form.contentType }, ...options,
  });
}

/**
 * Starts a POST of `body` to `base` + `urlPath` with node:http, written in `chunks` pieces
 * `delayMs` apart, so that it stays in flight for a while. Returns `{ sent(), done, abort() }`:
 * `sent()` the bytes written so far, `done` a promise of `{ status, text, json, headers }` or of
 * `{ error }` when the connection broke.
 */
export function slowPost(base, urlPath, { body, headers = {}, chunks = 40, delayMs = 150 }) {
  const url = new URL(urlPath, base);
  let written = 0;
  let stopped = false;
  const request = http.request({
    host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', agent: false,
    headers: { ...headers, 'content-length': body.length, connection: 'close' },
  });
  const done = new Promise((resolve) => {
    request.on('response', (response) => {
      const parts = [];
      response.on('data', (chunk) => parts.push(chunk));
      response.on('error', (error) => resolve({ error, status: response.statusCode }));
      response.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: response.statusCode, text, json, headers: response.headers, contentType: response.headers['content-type'] || '' });
      });
    });
    request.on('error', (error) => resolve({ error, status: 0, text: String(error.code || error) }));
  });
  (async () => {
    const size = Math.ceil(body.length / chunks);
    for (let offset = 0; offset < body.length && !stopped; offset += size) {
      const piece = body.subarray(offset, Math.min(body.length, offset + size));
      const ok = request.write(piece);
      written += piece.length;
      if (!ok) {
        await new Promise((resolve) => {
          const done = () => { request.off('drain', done); request.off('close', done); resolve(); };
          request.on('drain', done);
          request.on('close', done);
        });
      }
      if (request.destroyed) return;
      await sleep(delayMs);
    }
    if (!stopped && !request.destroyed) request.end();
  })();
  return {
    sent: () => written,
    done,
    abort() { stopped = true; request.destroy(); },
  };
}

/** `psql`-style rows: `query` output split into lines and `|`-separated fields. */
export const rowsOf = (output) => output.split('\n').filter((line) => line.length > 0).map((line) => line.split('|'));

/** Mounts a tmpfs of `size` (e.g. '16m') at `dir` (created). */
export function mountTmpfs(dir, size) {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
}

/** Unmounts `dir` if it is mounted (lazily, in case a process still holds a file there). */
export function unmount(dir) {
  try { execFileSync('umount', [dir], { stdio: 'pipe' }); } catch {
    try { execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); } catch { /* not mounted */ }
  }
}

/** Free bytes on the filesystem holding `dir`, as an unprivileged writer sees them. */
export function freeBytes(dir) {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/**
 * Fills the filesystem holding `dir` with the file `filler`, leaving about `leave` bytes free
 * (written in 1 MiB pieces, then smaller ones, until a write fails or only `leave` is left).
 */
export function fillDisk(filler, leave) {
  const fd = fs.openSync(filler, 'w');
  try {
    const mib = Buffer.alloc(1024 * 1024, 0x5a);
    for (let piece = mib.length; piece >= 512;) {
      const room = freeBytes(path.dirname(filler)) - leave;
      if (room < piece) { piece = Math.floor(piece / 2); continue; }
      try { fs.writeSync(fd, mib, 0, piece); } catch (error) {
        if (error.code !== 'ENOSPC') throw error;
        piece = Math.floor(piece / 2);
      }
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return freeBytes(path.dirname(filler));
}

/** Every file under `dir`, relative to it. */
export function filesUnder(dir) {
  const found = [];
  const walk = (at) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.push(path.relative(dir, full));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found.sort();
}

/**
 * `cairn serve --demo` on SQLite with its data in `dataDir`, on a free port, waiting for
 * /healthz: `{ base, pid, log(), signal(name), exited, stop() }` where `exited` is a promise
 * of `{ code, signal }` and `stop()` sends SIGTERM (SIGKILL after 20 s) and awaits the exit.
 */
export async function startSqlite(dataDir, { env = {}, config } = {}) {
  assert.ok(fs.existsSync(cairnBin), `${cairnBin} is missing: cargo build --release -p cairn-cli`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const childEnv = { ...process.env, CAIRN_LOG: process.env.CAIRN_LOG || 'info', ...env };
  delete childEnv.CAIRN_DATABASE_URL;
  delete childEnv.DATABASE_URL;
  delete childEnv.CAIRN_BLOB_STORE;
  if (config) childEnv.CAIRN_CONFIG = config;
  const child = spawn(cairnBin, ['serve', '--demo', '--addr', `127.0.0.1:${port}`, '--data', dataDir], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => { output = (output + chunk).slice(-200_000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let gone = null;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => { gone = { code, signal }; resolve(gone); }));
  const deadline = Date.now() + 90_000;
  for (;;) {
    assert.equal(gone, null, `cairn serve exited early (${JSON.stringify(gone)}):\n${output.slice(-4_000)}`);
    try {
      const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await health.arrayBuffer();
      if (health.status === 200) break;
    } catch { /* not up yet */ }
    assert.ok(Date.now() < deadline, `cairn serve did not answer /healthz within 90 s:\n${output.slice(-4_000)}`);
    await sleep(200);
  }
  return {
    base,
    port,
    pid: child.pid,
    log: () => output,
    exited,
    hasExited: () => gone,
    signal: (name) => { if (gone === null) child.kill(name); },
    async stop() {
      if (gone !== null) return gone;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** The lines of `log` that match `pattern`, for a report (at most `max`). */
export const logLines = (log, pattern, max = 12) => log.split('\n').filter((line) => pattern.test(line)).slice(-max).join('\n');
