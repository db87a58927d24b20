// Starts a throw-away Cairn server (`cairn serve --demo`) for one test file.
//
// The binary is $CAIRN_BIN (scripts/test.sh sets it to target/release/cairn);
// without it we fall back to the repository's target/release/cairn.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const MAX_LOG_CHARS = 64 * 1024;

function cairnBin() {
  const bin = process.env.CAIRN_BIN || path.join(REPO_ROOT, 'target', 'release', 'cairn');
  if (!existsSync(bin)) {
    throw new Error(
      `Cairn binary not found at ${bin}; build it with ` +
        '`cargo build --release --workspace --locked` or set CAIRN_BIN',
    );
  }
  return bin;
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps the tail of a stream's output, so errors can show it. */
function collect(stream) {
  const buf = { text: '' };
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buf.text += chunk;
    if (buf.text.length > MAX_LOG_CHARS) buf.text = buf.text.slice(-MAX_LOG_CHARS);
  });
  return buf;
}

/**
 * Starts `cairn serve --demo` on a free loopback port with a fresh data dir; `env` adds to (or
 * overrides) the child's environment, e.g. `CAIRN_CONFIG` or another `CAIRN_…` setting.
 * @param {{ env?: Record<string, string> }} [options]
 * @returns {Promise<{ baseUrl: string, stop: () => Promise<void> }>}
 */
export async function startServer({ env = {} } = {}) {
  const bin = cairnBin();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-browser-'));
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const baseUrl = `http://${addr}`;
  const args = ['serve', '--demo', '--addr', addr, '--data', dataDir];

  const child = spawn(bin, args, {
    env: { ...process.env, CAIRN_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);

  let exitInfo = null; // set once the process has exited
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.on('error', (err) => {
      // e.g. spawn failure (EACCES); 'exit' may never come.
      exitInfo = exitInfo || { code: null, signal: null, error: err };
      resolve(exitInfo);
    });
  });

  const output = () =>
    `command: ${bin} ${args.join(' ')}\n--- stderr ---\n${stderr.text}\n--- stdout ---\n${stdout.text}`;

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    if (!exitInfo) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exitInfo) child.kill('SIGKILL');
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    await fs.rm(dataDir, { recursive: true, force: true });
  }

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let lastError = 'no attempt yet';
  while (true) {
    if (exitInfo) {
      await stop();
      const why = exitInfo.error
        ? `failed to start: ${exitInfo.error.message}`
        : `exited early (code ${exitInfo.code}, signal ${exitInfo.signal})`;
      throw new Error(`cairn serve ${why}\n${output()}`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
      lastError = `GET /healthz answered ${res.status}`;
    } catch (err) {
      lastError = err?.cause?.code || err?.message || String(err);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `cairn serve did not become healthy within ${STARTUP_TIMEOUT_MS / 1000} s ` +
          `(last: ${lastError})\n${output()}`,
      );
    }
    await Promise.race([sleep(200), exited]);
  }

  return { baseUrl, stop };
}
