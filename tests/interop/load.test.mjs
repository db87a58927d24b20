// Bounded load on loopback with wrk (scripts/load.mjs, shortened): 64 connections on the award
// page, /verify, the catalog search and sign-in, on one instance on SQLite and on two instances
// sharing PostgreSQL. Checks behaviour only: every answer is below 500 and no connection fails.
// The figures of the full run (30 s each, a 10-minute soak) are in BENCHMARKS.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { root } from './lib/cairn.mjs';

test('64 connections on four endpoints get no 5xx, on one SQLite instance and two PostgreSQL instances', { timeout: 600_000 }, () => {
  const result = spawnSync(process.execPath, [path.join(root, 'scripts/load.mjs'), '--seconds', '4', '--connections', '64', '--configs', 'sqlite-1,postgres-2'], {
    encoding: 'utf8',
    env: { ...process.env, CAIRN_BIN: process.env.CAIRN_BIN || path.join(root, 'target/release/cairn') },
    timeout: 590_000,
  });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.status, 0, output);
  const rows = result.stdout.split('\n').filter((line) => /^\| (sqlite|postgres)-\d \| (award page|\/verify|catalog search|sign-in) \|/.test(line));
  assert.equal(rows.length, 8, output);
  for (const row of rows) {
    const cells = row.split('|').map((cell) => cell.trim());
    assert.equal(cells[6], '0', `5xx in ${row}`);
    assert.equal(cells[7], '0', `socket errors in ${row}`);
    assert.ok(Number(cells[3].replaceAll(',', '')) > 0, `no requests answered in ${row}`);
  }
});
