// Faults: what Cairn does when it is killed mid-work, when its database or its blob store goes
// away, when its disk fills, and when it is told to stop with requests in flight. Each case runs
// the real binary against real services (PostgreSQL at 127.0.0.1:5432, a moto S3 server, an SMTP
// sink; SQLite on a small tmpfs) and checks behaviour only, with generous timeouts:
//
// 1. kill -9 in the middle of a bulk award: after a restart under the same CAIRN_INSTANCE the
//    batch completes, every row is awarded exactly once with its credential stored and its claim
//    mail written once, status indexes stay unique and every blob key the database names is in
//    the bucket.
// 2. kill -9 in the middle of an evidence upload: nothing half-written, and a retry succeeds once.
// 3. kill -9 of every instance while the mail outbox is being sent: every mail arrives, at most
//    once more than once per kill (SMTP is at-least-once), and the awards are made once.
// 4. The database away (a proxy that resets, then black-holes, its connections): the API,
//    /readyz and pages answer 503 with Retry-After, the process stays up, and it recovers by
//    itself.
// 5. The blob store away: uploads and downloads answer 503 naming the file store, /readyz names
//    the blob store, nothing is half-written, and it recovers by itself.
// 6. A full disk (root only: a tmpfs): an upload and a database write answer 503 "disk is full",
//    nothing is half-written, and freeing space makes the same requests succeed.
// 7. SIGTERM with an upload in flight: /readyz turns 503 (or the listener closes), the upload
//    completes with 201, the process exits 0, and the upload is there after a restart.
//
// Run: CAIRN_BIN=target/release/cairn node --test tests/interop/faults.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { smtpSink, startCluster, startInstance } from './lib/cluster.mjs';
import {
  GRADUATE, ISSUER, LEARNER, artifactsOf, client, draftSubmission, expectStatus, expectUnavailable, fillDisk, filesUnder,
  freeBytes, logLines, mountTmpfs, multipart, organisationOf, publishedBadge, rowsOf, show, signIn, sleep, slowPost, startProxy,
  startSqlite, textEvidence, unmount, uploadEvidence, viaPort, waitFor,
} from './lib/faults.mjs';

const DATABASE_DOWN = /the database is not reachable; please try again in a moment/;
const FILES_DOWN = /the file store is not reachable; please try again in a moment/;
const DATABASE_FULL = "the database's disk is full, so nothing was saved; the operator must free space";
const FILES_FULL = "the file store's disk is full, so nothing was saved; the operator must free space";

/** Every column holding a blob key (cairn_store::BLOB_KEY_COLUMNS). */
const BLOB_KEY_COLUMNS = [
  ['artifacts', 'blob_key'], ['organisations', 'image_key'], ['achievement_versions', 'image_key'], ['awards', 'png_key'],
  ['awards', 'svg_key'], ['award_offers', 'png_key'], ['award_offers', 'svg_key'], ['imports', 'blob_key'],
];

/** A GET with its own connection (no keep-alive pool): `{ status, json, text, contentType }` or `{ error }`. */
function probe(base, urlPath, timeoutMs = 10_000) {
  return new Promise((resolve) => {
    const url = new URL(urlPath, base);
    const request = http.get({ host: url.hostname, port: url.port, path: url.pathname, agent: false, timeout: timeoutMs }, (response) => {
      const parts = [];
      response.on('data', (c) => parts.push(c));
      response.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: response.statusCode, text, json, contentType: response.headers['content-type'] || '', headers: new Headers(response.headers) });
      });
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('no answer'), { code: 'TIMEOUT' })));
    request.on('error', (error) => resolve({ status: 0, error, text: String(error.code || error) }));
  });
}

describe('faults', { concurrency: false }, () => {
  let sink;
  let cluster;
  let api0; // node 0, the one killed
  let api1; // node 1, left running
  let issuer;
  let learner;
  let org;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-faults-'));
  const kills = { count: 0 };

  before(async () => {
    sink = await smtpSink();
    cluster = await startCluster({ instances: 2, config: `job_interval_secs = 1\nsmtp_url = "smtp://127.0.0.1:${sink.port}"\n` });
    api0 = client(() => cluster.nodes[0].base);
    api1 = client(() => cluster.nodes[1].base);
    issuer = await signIn(api1, ISSUER);
    learner = await signIn(api1, LEARNER);
    org = await organisationOf(api1, issuer);
  }, { timeout: 240_000 });

  after(async () => {
    await cluster?.stop();
    await sink?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }, { timeout: 60_000 });

  const query = async (sql) => rowsOf(await cluster.db.query(sql));
  const count = async (sql) => Number((await cluster.db.query(sql)).trim());

  /** The blob keys in the cluster's bucket, without the cluster's prefix. */
  async function bucketKeys() {
    const prefix = `${cluster.prefix}/`;
    return (await cluster.s3.listKeys(cluster.bucket)).filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  }

  async function killNode(index) {
    const node = cluster.nodes[index];
    await node.kill();
    kills.count += 1;
  }

  /** Keys referenced by the database that the bucket does not hold. */
  async function missingBlobs() {
    const sql = BLOB_KEY_COLUMNS.map(([table, column]) => `SELECT ${column} FROM ${table} WHERE ${column} IS NOT NULL`).join(' UNION ');
    const referenced = (await query(sql)).map(([key]) => key);
    const present = new Set(await bucketKeys());
    return { referenced: referenced.length, missing: referenced.filter((key) => !present.has(key)) };
  }

  function batchCsv(badge, rows, domain) {
    const lines = ['email,name,achievement_id,narrative'];
    for (let i = 1; i <= rows; i += 1) lines.push(`learner-${i}@${domain},Learner ${i},${badge},Row ${i} of the fault test`);
    return `${lines.join('\n')}\n`;
  }

  async function startBatch(api, badge, rows, domain, fileName) {
    const response = await api.request('POST', `/api/v1/organisations/${org}/award-batches`, {
      token: issuer, raw: batchCsv(badge, rows, domain),
      headers: { 'content-type': 'text/csv', 'content-disposition': `attachment; filename="${fileName}"` },
    });
    const batch = expectStatus('upload the batch', response, 202);
    assert.equal(batch.total, rows, JSON.stringify(batch));
    return batch;
  }

  const readBatch = async (api, id) => expectStatus('GET the batch', await api.request('GET', `/api/v1/organisations/${org}/award-batches/${id}`, { token: issuer }), 200);

  /** Asserts what a finished batch of `rows` rows to `domain` for `badge` left in the database. */
  async function checkAwardedOnce(batchId, badge, rows, domain) {
    assert.equal(await count(`SELECT count(*) FROM award_batch_rows WHERE batch_id = '${batchId}' AND state = 'awarded' AND offer_id IS NOT NULL`), rows,
      'every row awarded, with its direct award');
    const repeated = await query(`SELECT lower(email), count(*) FROM award_offers WHERE achievement_id = '${badge}' GROUP BY 1 HAVING count(*) <> 1`);
    assert.deepEqual(repeated, [], 'one direct award per recipient');
    assert.equal(await count(`SELECT count(DISTINCT lower(email)) FROM award_offers WHERE achievement_id = '${badge}' AND email LIKE '%@${domain}'`), rows);
    const withoutCredential = await query(`SELECT id FROM award_offers WHERE achievement_id = '${badge}' AND (credential_json IS NULL OR jwt IS NULL
      OR ob2_json IS NULL OR png_key IS NULL OR svg_key IS NULL OR status_index IS NULL)`);
    assert.deepEqual(withoutCredential, [], 'every direct award has its credential stored');
    const mails = await query(`SELECT lower(to_email), count(*) FROM outbox WHERE to_email LIKE '%@${domain}' GROUP BY 1`);
    assert.equal(mails.length, rows, 'a claim mail for every recipient');
    assert.deepEqual(mails.filter(([, n]) => Number(n) !== 1), [], 'one claim mail per recipient');
    const shared = await query(`SELECT organisation_id, status_index, count(*) FROM (
        SELECT organisation_id, status_index FROM awards
        UNION ALL SELECT organisation_id, status_index FROM award_offers WHERE status_index IS NOT NULL AND claimed_at IS NULL AND withdrawn_at IS NULL
      ) taken GROUP BY 1, 2 HAVING count(*) > 1`);
    assert.deepEqual(shared, [], 'no status index held twice');
    const blobs = await missingBlobs();
    assert.deepEqual(blobs.missing, [], `every blob the database names is in the bucket (${blobs.referenced} named)`);
  }

  it('1. kill -9 in the middle of a bulk award: the batch completes after a restart, each row awarded once', { timeout: 400_000 }, async () => {
    // Three chunks of 250, so that the kill lands while a chunk is being awarded.
    const rows = 750;
    const domain = 'batch.example.org';
    const badge = await publishedBadge(api1, issuer, org, 'Fault test: bulk award');
    const batch = await startBatch(api0, badge, rows, domain, 'kill-mid-batch.csv');
    const seen = await waitFor('the batch under way (some rows awarded, some pending)', async () => {
      const now = await readBatch(api1, batch.id);
      assert.notEqual(now.status, 'done', `the batch finished before it could be killed: ${JSON.stringify(now)}`);
      return now.awarded > 0 && now.pending > 0 ? now : null;
    }, { timeoutMs: 180_000, intervalMs: 100 });
    // The instance whose runner holds the batch's effect is the one killed.
    const [[runner]] = await query(`SELECT claimed_by FROM effects WHERE kind = 'award_batch' AND payload LIKE '%${batch.id}%'`);
    const victim = cluster.nodes.findIndex((node) => node.name === runner);
    assert.ok(victim >= 0, `the batch is run by ${runner}, not one of ${cluster.nodes.map((n) => n.name)}`);
    const other = client(() => cluster.nodes[1 - victim].base);
    await killNode(victim);
    const atKill = await readBatch(other, batch.id);
    assert.equal(atKill.status, 'running', JSON.stringify(atKill));
    assert.ok(atKill.pending > 0, `killed with rows pending: ${JSON.stringify(atKill)}`);
    await cluster.nodes[victim].restart();
    const done = await waitFor(`the batch done after ${runner} restarted`, async () => {
      const now = await readBatch(other, batch.id);
      return now.status === 'done' ? now : null;
    }, { timeoutMs: 180_000, intervalMs: 500 });
    console.log(`# bulk award: ${runner} killed at ${JSON.stringify({ awarded: seen.awarded, pending: seen.pending })}, then at ${JSON.stringify({ awarded: atKill.awarded, pending: atKill.pending })}; done: ${done.awarded} awarded`);
    assert.equal(done.awarded, rows, `${JSON.stringify({ ...done, errors: done.errors?.slice(0, 3) })} (killed at ${JSON.stringify(seen)})`);
    assert.equal(done.failed, 0);
    assert.equal(done.skipped, 0);
    await checkAwardedOnce(batch.id, badge, rows, domain);
  });

  it('2. kill -9 in the middle of an evidence upload: nothing half-written, and a retry succeeds once', { timeout: 240_000 }, async () => {
    const submission = await draftSubmission(api1, { issuerToken: issuer, learnerToken: learner, org, name: 'Fault test: killed upload' });
    const file = textEvidence(1_500_000, 'killed upload');
    const form = multipart({ file, title: 'Field notes' });
    const upload = slowPost(cluster.nodes[0].base, `/api/v1/submissions/${submission.id}/artifacts`, {
      body: form.body, headers: { 'content-type': form.contentType, authorization: `Bearer ${learner}` }, chunks: 60, delayMs: 100,
    });
    await waitFor('half the upload sent', () => upload.sent() > form.body.length / 2, { timeoutMs: 60_000, intervalMs: 20 });
    await killNode(0);
    const answer = await upload.done;
    assert.equal(answer.status, 0, `the killed server answered the upload: ${show(answer)}`);
    await cluster.nodes[0].restart();

    assert.deepEqual(await artifactsOf(api0, learner, submission.id), [], 'the killed upload left no artefact');
    assert.deepEqual(await query(`SELECT id FROM artifacts WHERE submission_id = '${submission.id}'`), []);
    const blobs = await missingBlobs();
    assert.deepEqual(blobs.missing, [], 'no row names a blob the bucket lacks');

    const retried = expectStatus('the upload retried', await uploadEvidence(api0, learner, submission.id, file, 'Field notes'), 201);
    assert.equal(retried.size, file.length);
    const artifacts = await artifactsOf(api0, learner, submission.id);
    assert.equal(artifacts.length, 1, `one artefact after the retry: ${JSON.stringify(artifacts)}`);
    const [[key]] = await query(`SELECT blob_key FROM artifacts WHERE submission_id = '${submission.id}'`);
    assert.ok((await bucketKeys()).includes(key), `the retried upload's blob ${key} is in the bucket`);
  });

  it('3. kill -9 of every instance while mail goes out: every mail arrives, duplicates at most one per kill, awards once', { timeout: 400_000 }, async () => {
    const rows = 200;
    const domain = 'mail.example.org';
    const ours = (message) => recipientsOf(message).some((to) => to.endsWith(`@${domain}`));
    const badge = await publishedBadge(api1, issuer, org, 'Fault test: mail');
    const batch = await startBatch(api1, badge, rows, domain, 'kill-mid-mail.csv');
    // Killed as soon as the sink has some of these mails: the instances are sending them then.
    await waitFor('the first claim mails sent', () => sink.messages.filter(ours).length >= 5, { timeoutMs: 180_000, intervalMs: 2 });
    const killsBefore = kills.count;
    await Promise.all([killNode(0), killNode(1)]);
    const atKill = sink.messages.filter(ours).length;
    await Promise.all([cluster.nodes[0].restart(), cluster.nodes[1].restart()]);
    const killed = kills.count - killsBefore;

    await waitFor('the batch done', async () => (await readBatch(api0, batch.id)).status === 'done', { timeoutMs: 180_000, intervalMs: 500 });
    const expected = new Set(Array.from({ length: rows }, (_, i) => `learner-${i + 1}@${domain}`));
    const received = () => sink.messages.filter(ours).flatMap(recipientsOf).filter((to) => expected.has(to));
    await waitFor(`every one of the ${rows} claim mails received after the restart (${atKill} had arrived at the kill)`, async () => {
      const got = new Set(received());
      if (got.size === rows) return true;
      const [[now]] = await query('SELECT extract(epoch FROM now())::bigint');
      const waiting = await query(`SELECT claimed_until IS NOT NULL AND claimed_until > ${now} AS claimed, attempts, coalesce(last_error, ''), count(*)
        FROM outbox WHERE to_email LIKE '%@${domain}' AND sent_at IS NULL GROUP BY 1, 2, 3`);
      const claims = await query(`SELECT min(claimed_until) - ${now}, max(claimed_until) - ${now} FROM outbox WHERE to_email LIKE '%@${domain}' AND sent_at IS NULL`);
      throw new Error(`${got.size} received; missing e.g. ${[...expected].filter((to) => !got.has(to)).slice(0, 5)}; `
        + `unsent in the outbox by (still claimed, attempts, last error): ${JSON.stringify(waiting)}; their claims end in ${JSON.stringify(claims)} s`);
    }, { timeoutMs: 180_000, intervalMs: 1_000 }).catch((error) => {
      error.message += `\nthe instances' logs:\n${cluster.nodes.map((node) => `${node.name}:\n${logLines(node.log(), /WARN|ERROR|mail/i, 6)}`).join('\n')}`;
      throw error;
    });
    const duplicates = received().length - rows;
    console.log(`# mail after ${killed} kills: ${received().length} messages for ${rows} recipients, ${duplicates} duplicate(s); ${atKill} had arrived at the kill`);
    assert.ok(duplicates <= killed, `${duplicates} duplicate mails after ${killed} kills`);
    await checkAwardedOnce(batch.id, badge, rows, domain);
    const unsent = await count(`SELECT count(*) FROM outbox WHERE to_email LIKE '%@${domain}' AND sent_at IS NULL`);
    assert.equal(unsent, 0, 'every claim mail recorded as sent');
  });

  describe('a store away', () => {
    let faulty;
    let dbProxy;
    let s3Proxy;
    let api;
    let token;
    let graduate;

    before(async () => {
      dbProxy = await startProxy(Number(new URL(cluster.db.url).port || 5432));
      s3Proxy = await startProxy(cluster.s3.port);
      faulty = await startInstance({
        dir: path.join(tmp, 'faulty'),
        databaseUrl: viaPort(cluster.db.url, dbProxy.port),
        blobStore: `s3://${cluster.bucket}/${cluster.prefix}`,
        env: { ...cluster.s3.env, AWS_ENDPOINT_URL: `http://127.0.0.1:${s3Proxy.port}` },
        masterKey: cluster.masterKey,
        name: 'faulty',
        demo: false,
      });
      api = client(() => faulty.base);
      token = await signIn(api, LEARNER);
      graduate = await signIn(api, GRADUATE);
    }, { timeout: 120_000 });

    after(async () => {
      dbProxy?.resume();
      s3Proxy?.resume();
      await faulty?.stop();
      await dbProxy?.stop();
      await s3Proxy?.stop();
    }, { timeout: 60_000 });

    const alive = () => faulty.exited() === null;

    it('4. the database away: 503 problems with Retry-After, the process stays up, and it recovers by itself', { timeout: 240_000 }, async () => {
      expectStatus('/readyz before', await api.request('GET', '/readyz'), 200);
      const name = `Lena Fischer ${Date.now()}`;
      for (const mode of ['reset', 'blackhole']) {
        dbProxy.pause({ mode });
        // Each within the pool's wait (10 s) and well before the server's own 30 s request timeout.
        const within = { timeoutMs: 25_000 };
        expectUnavailable(`GET /api/v1/me, database ${mode}`, await api.request('GET', '/api/v1/me', { token, ...within }), DATABASE_DOWN);
        expectUnavailable(`PATCH /api/v1/me, database ${mode}`, await api.request('PATCH', '/api/v1/me', { token, body: { name }, ...within }), DATABASE_DOWN);
        expectUnavailable(`POST /api/v1/session, database ${mode}`, await api.request('POST', '/api/v1/session', { body: LEARNER, ...within }), DATABASE_DOWN);
        const ready = expectUnavailable(`/readyz, database ${mode}`, await api.request('GET', '/readyz', within));
        assert.match(ready.detail, /^not ready: .*the database/, show({ status: 503, text: JSON.stringify(ready) }));
        const page = await api.request('GET', '/catalog', { headers: { accept: 'text/html' }, ...within });
        assert.equal(page.status, 503, `GET /catalog, database ${mode}: ${show(page)}`);
        assert.match(page.contentType, /^text\/html/, `GET /catalog, database ${mode}: ${show(page)}`);
        assert.ok(page.headers.get('retry-after'), `GET /catalog, database ${mode}: no Retry-After`);
        assert.ok(alive(), `the process exited with the database away:\n${faulty.log().slice(-3_000)}`);
        dbProxy.resume();
        await waitFor(`GET /api/v1/me answers 200 again after the database came back (${mode})`, async () => {
          const me = await api.request('GET', '/api/v1/me', { token, timeoutMs: 25_000 });
          return me.status === 200 ? me : null;
        }, { timeoutMs: 60_000, intervalMs: 500 });
      }
      expectStatus('/readyz after', await api.request('GET', '/readyz'), 200);
      expectStatus('PATCH /me after', await api.request('PATCH', '/api/v1/me', { token, body: { name } }), 200);
      expectStatus('sign in after', await api.request('POST', '/api/v1/session', { body: LEARNER }), 200, 201);
      expectStatus('GET /catalog after', await api.request('GET', '/catalog', { headers: { accept: 'text/html' } }), 200);
      const me = expectStatus('GET /me after', await api.request('GET', '/api/v1/me', { token }), 200);
      assert.equal(me.name, name);
      assert.ok(alive());
    });

    // The blob store away: with its connections reset (a server that is down), then black-holed
    // (a network that drops packets). Each the same: 503 naming the file store, with Retry-After.
    let blobCase;
    async function blobStoreAway(mode) {
      if (!blobCase) {
        const issuerToken = await signIn(api, ISSUER);
        const submission = await draftSubmission(api, { issuerToken, learnerToken: token, org, name: 'Fault test: blob store away' });
        const awards = expectStatus('the graduate\'s awards', await api.request('GET', '/api/v1/awards', { token: graduate }), 200);
        const award = awards.items[0];
        assert.ok(award?.links?.png, `the demo graduate holds an award: ${JSON.stringify(awards).slice(0, 500)}`);
        blobCase = { submission, png: new URL(award.links.png).pathname };
      }
      const { submission, png } = blobCase;
      expectStatus('the badge PNG before', await api.request('GET', png, { token: graduate }), 200);
      const file = textEvidence(200_000, `blob store away (${mode})`);
      const before = (await artifactsOf(api, token, submission.id)).length;
      const keysBefore = (await bucketKeys()).length;

      s3Proxy.pause({ mode });
      try {
        const within = { timeoutMs: 45_000 };
        const upload = await uploadEvidence(api, token, submission.id, file, 'Notes', within);
        expectUnavailable(`evidence upload, blob store ${mode}`, upload, FILES_DOWN);
        expectUnavailable(`badge PNG download, blob store ${mode}`, await api.request('GET', png, { token: graduate, ...within }), FILES_DOWN);
        const ready = expectUnavailable(`/readyz, blob store ${mode}`, await api.request('GET', '/readyz', within));
        assert.match(ready.detail, /^not ready: .*the blob store/);
        assert.equal((await artifactsOf(api, token, submission.id)).length, before, `the refused upload (${mode}) made no artefact`);
        assert.ok(alive(), `the process exited with the blob store away:\n${faulty.log().slice(-3_000)}`);
      } catch (error) {
        error.message += `\nthe server's log:\n${logLines(faulty.log(), /WARN|ERROR/, 6)}`;
        throw error;
      } finally {
        s3Proxy.resume();
      }
      await waitFor(`/readyz 200 after the blob store came back (${mode})`, async () => (await api.request('GET', '/readyz')).status === 200,
        { timeoutMs: 60_000, intervalMs: 500 });
      assert.equal((await bucketKeys()).length, keysBefore, 'no blob written while the store was away');
      const uploaded = expectStatus('the same upload after', await uploadEvidence(api, token, submission.id, file), 201);
      assert.equal(uploaded.size, file.length);
      expectStatus('the badge PNG after', await api.request('GET', png, { token: graduate }), 200);
      assert.equal((await artifactsOf(api, token, submission.id)).length, before + 1);
      assert.deepEqual((await missingBlobs()).missing, []);
    }

    it('5a. the blob store down (connections reset): uploads and downloads 503 naming the file store, nothing half-written, and it recovers', { timeout: 240_000 }, async () => {
      await blobStoreAway('reset');
    });

    it('5b. the blob store unanswering (black-holed): uploads and downloads 503 naming the file store, nothing half-written, and it recovers', { timeout: 240_000 }, async () => {
      await blobStoreAway('blackhole');
    });
  });

  describe('6. a full disk (SQLite, local blobs)', () => {
    const mount = path.join(tmp, 'small-disk');
    let server;
    let mounted = false;

    after(async () => {
      try { fs.rmSync(path.join(mount, 'filler'), { force: true }); } catch { /* gone */ }
      await server?.stop();
      if (mounted) unmount(mount);
    }, { timeout: 60_000 });

    it('an upload and a database write answer 503 "disk is full", nothing is half-written, and freeing space lets them succeed', { timeout: 240_000 }, async (t) => {
      if (process.getuid() !== 0) {
        t.skip('needs root to mount a small filesystem');
        return;
      }
      mountTmpfs(mount, '16m');
      mounted = true;
      const data = path.join(mount, 'data');
      server = await startSqlite(data);
      const api = client(server.base);
      const issuerToken = await signIn(api, ISSUER);
      const token = await signIn(api, LEARNER);
      const organisation = await organisationOf(api, issuerToken);
      const submission = await draftSubmission(api, { issuerToken, learnerToken: token, org: organisation, name: 'Fault test: full disk' });
      const blobs = path.join(data, 'blobs');
      const filesBefore = filesUnder(blobs);
      const file = textEvidence(200_000, 'full disk');
      const text = (n) => `${n} `.padEnd(20_000, '€'); // 3 bytes a character: ~60 KB a field

      const left = fillDisk(path.join(mount, 'filler'), 8 * 1024);
      assert.ok(left < 64 * 1024, `the disk is nearly full (${left} bytes left)`);

      const upload = await uploadEvidence(api, token, submission.id, file);
      assert.equal(upload.status, 503, `evidence upload on a full disk: ${show(upload)}`);
      expectUnavailable('evidence upload on a full disk', upload);
      assert.equal(upload.json.detail, FILES_FULL, show(upload));
      assert.deepEqual(await artifactsOf(api, token, submission.id), [], 'the refused upload made no artefact');
      assert.deepEqual(filesUnder(blobs), filesBefore, 'the refused upload left no file in the blob store');

      // Writes until one needs more room than is left (earlier ones may fit in space SQLite holds).
      let saved = null;
      let refused = null;
      for (let n = 1; n <= 80 && !refused; n += 1) {
        const body = { overview: text(n), reflection: text(n), links: [], collaborators: [] };
        const answer = await api.request('PUT', `/api/v1/submissions/${submission.id}`, { token, body });
        if (answer.status === 200) saved = n;
        else refused = { n, answer };
      }
      assert.ok(refused, `80 writes of ~120 KB each fitted on a disk with ${left} bytes free`);
      console.log(`# full disk: ${left} bytes left; write ${refused.n} refused (${saved ?? 0} saved before it)`);
      expectUnavailable(`database write ${refused.n} on a full disk`, refused.answer);
      assert.equal(refused.answer.json.detail, DATABASE_FULL, show(refused.answer));
      const view = expectStatus('the submission on a full disk', await api.request('GET', `/api/v1/submissions/${submission.id}`, { token }), 200);
      assert.equal(view.overview, saved === null ? 'What I did' : text(saved), 'the refused write changed nothing');
      assert.equal(server.hasExited(), null, `the server exited on a full disk:\n${server.log().slice(-3_000)}`);

      fs.rmSync(path.join(mount, 'filler'));
      assert.ok(freeBytes(mount) > 4 * 1024 * 1024);
      const again = expectStatus('the same upload with room', await uploadEvidence(api, token, submission.id, file), 201);
      assert.equal(again.size, file.length);
      const body = { overview: text(refused.n), reflection: text(refused.n), links: [], collaborators: [] };
      expectStatus('the same write with room', await api.request('PUT', `/api/v1/submissions/${submission.id}`, { token, body }), 200);
      const artifacts = await artifactsOf(api, token, submission.id);
      assert.equal(artifacts.length, 1, JSON.stringify(artifacts));
      const stored = filesUnder(blobs).filter((f) => !filesBefore.includes(f));
      assert.equal(stored.length, 1, `one new blob: ${stored}`);
      assert.equal(fs.statSync(path.join(blobs, stored[0])).size, file.length);
    });
  });

  it('7. SIGTERM with an upload in flight: not ready at once, the upload completes, exit 0', { timeout: 180_000 }, async () => {
    const data = path.join(tmp, 'graceful');
    const server = await startSqlite(data);
    try {
      const api = client(server.base);
      const issuerToken = await signIn(api, ISSUER);
      const token = await signIn(api, LEARNER);
      const organisation = await organisationOf(api, issuerToken);
      const submission = await draftSubmission(api, { issuerToken, learnerToken: token, org: organisation, name: 'Fault test: graceful stop' });
      expectStatus('/readyz before', await api.request('GET', '/readyz'), 200);
      const file = textEvidence(600_000, 'graceful stop');
      const form = multipart({ file, title: 'Sent while stopping' });
      const upload = slowPost(server.base, `/api/v1/submissions/${submission.id}/artifacts`, {
        body: form.body, headers: { 'content-type': form.contentType, authorization: `Bearer ${token}` }, chunks: 50, delayMs: 120,
      });
      await waitFor('a quarter of the upload sent', () => upload.sent() > form.body.length / 4, { timeoutMs: 30_000, intervalMs: 20 });
      server.signal('SIGTERM');
      await sleep(300);
      const ready = await probe(server.base, '/readyz', 10_000);
      console.log(`# /readyz while stopping: ${ready.status === 0 ? ready.text : `${ready.status} ${ready.json?.detail}`}`);
      if (ready.status === 0) {
        assert.match(ready.text, /ECONNREFUSED|ECONNRESET/, `/readyz while stopping: neither answered nor refused (${ready.text})`);
      } else {
        expectUnavailable('/readyz while stopping', ready, /shutting down/);
      }
      const answer = await upload.done;
      assert.equal(answer.status, 201, `the upload in flight at SIGTERM: ${show(answer)}\n${logLines(server.log(), /WARN|ERROR/)}`);
      assert.equal(answer.json.size, file.length);
      const exit = await Promise.race([server.exited, sleep(60_000).then(() => 'still running after 60 s')]);
      assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM:\n${server.log().slice(-3_000)}`);
      assert.match(server.log(), /stopped/);
    } finally {
      await server.stop();
    }
    // The upload was kept.
    const again = await startSqlite(data);
    try {
      const api = client(again.base);
      const token = await signIn(api, LEARNER);
      const mine = expectStatus('my submissions', await api.request('GET', '/api/v1/submissions', { token }), 200);
      const items = mine.items ?? mine;
      const found = [];
      for (const item of items) found.push(...(await artifactsOf(api, token, item.id)).filter((a) => a.title === 'Sent while stopping'));
      assert.equal(found.length, 1, JSON.stringify(found));
    } finally {
      await again.stop();
    }
  });
});

/** The envelope recipients of a message the SMTP sink received, lower-cased. */
const recipientsOf = (message) => message.to.split(', ').map((to) => to.trim().toLowerCase());
