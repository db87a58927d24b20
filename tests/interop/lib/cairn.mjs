// What the interop tests that run Cairn share: children run in a test's directory without
// blocking the event loop (the peers fetch from the running server while they check), the peer
// verifiers of tests/interop/peers (each prints one JSON line) and the npm packages pinned there,
// and `cairn serve --demo` on a free loopback port, stopped with SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const peers = path.resolve(here, '../peers');
export const root = path.resolve(here, '../../..');
export const cairnBin = process.env.CAIRN_BIN || path.join(root, 'target/release/cairn');

/** Imports an npm package installed in tests/interop/peers (pinned there), by its name. */
export async function importPeer(name) {
  const resolved = createRequire(path.join(peers, 'package.json')).resolve(name);
  return import(pathToFileURL(resolved).href);
}

/** Runs `command` in `dir`; resolves with its status and output, killed after `timeoutMs`. */
export function runAsync(dir, command, args, timeoutMs = 180_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

/** The last line of `stdout` as JSON, or `{ raw }` when it is not. */
export const lastJsonLine = (stdout) => {
  try { return JSON.parse(stdout.trim().split('\n').pop() || '{}'); } catch { return { raw: stdout }; }
};

/** Runs a peer verifier script (Node or Python) in `dir`: its status and its JSON line. */
export async function peer(dir, script, ...args) {
  const command = script.endsWith('.mjs') ? process.execPath : 'python3';
  const result = await runAsync(dir, command, [path.join(peers, script), ...args]);
  const json = lastJsonLine(result.stdout);
  if (json.raw !== undefined) json.stderr = result.stderr;
  if (process.env.CAIRN_INTEROP_VERBOSE) console.error(script, args.join(' '), JSON.stringify(json));
  return { status: result.status, json };
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

/**
 * Starts `cairn serve --demo` with its data under `dir` on a free port and waits for /healthz;
 * `env` adds to (or overrides) the child's environment, e.g. a `CAIRN_…` setting.
 * Returns `{ base, log, stop }`: the base URL, the server's last output, and a graceful stop.
 */
export async function startDemo(dir, env = {}) {
  assert.ok(fs.existsSync(cairnBin), `${cairnBin} is missing: cargo build --release -p cairn-cli`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(cairnBin, ['serve', '--demo', '--addr', `127.0.0.1:${port}`, '--data', path.join(dir, 'data')], {
    env: { ...process.env, CAIRN_LOG: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = null;
  const keep = (chunk) => { output = (output + chunk).slice(-32_000); };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  server.on('exit', (code, signal) => { exited = { code, signal }; });
  const deadline = Date.now() + 60_000;
  for (;;) {
    assert.equal(exited, null, `cairn serve exited early (${JSON.stringify(exited)}):\n${output}`);
    try {
      const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await health.arrayBuffer();
      if (health.status === 200) break;
    } catch { /* not up yet */ }
    assert.ok(Date.now() < deadline, `cairn serve did not answer /healthz within 60 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const stop = async () => {
    if (exited !== null) return;
    const gone = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  };
  return { base, log: () => output, stop };
}
