// Interop of SEVERAL INSTANCES as one installation: two `cairn serve` instances share one
// PostgreSQL database and one S3 bucket (moto_server, read back with boto3), with one master key,
// one public URL and one configuration file (background runs every second, mail through an SMTP
// sink — the npm package smtp-server — and webhooks to a receiver on this machine). What one
// instance does, the other must see and serve, and background work must be done once:
// - a sign-in cookie made on one instance is a session on the other, and a sign-out on either
//   ends it; a bearer token made on one works on the other, and revoked on one stops there too;
// - a badge image uploaded on one downloads byte-identical from the other, is in the bucket under
//   its content's digest (read with boto3), and nothing is written under an instance's --data;
// - the whole learner journey with every request sent to an instance chosen at random (the seed is
//   logged; CAIRN_CLUSTER_SEED=N repeats a run): sign-up, evidence, submission, blind assessment,
//   the award, the learner's view, anyone's verification, suspension and revocation seen on the
//   other instance (the API, the award page, the status list as served, /verify);
// - 40 direct awards sent at once, half to each instance, are 40 distinct awards with distinct
//   status-list indexes, none lost, and a claim link mailed by either works on either;
// - every webhook event is delivered once (by webhook-id, verified with standardwebhooks), and
//   every mail once (per recipient and subject, against the outbox, once the queue has drained);
// - /readyz answers on both (and 503 once the bucket is gone); /metrics, behind its bearer token,
//   is OpenMetrics that prometheus_client's parser reads, counting the requests each instance
//   served by route template and the credentials it signed;
// - an instance killed (SIGKILL) and restarted under its name serves the same site while the other
//   goes on, and without its bucket an instance refuses to start, naming the store.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { importPeer, peers } from './lib/cairn.mjs';
import { CookieSession, s3Python, smtpSink, startCluster } from './lib/cluster.mjs';

const { Webhook } = await importPeer('standardwebhooks');

const DEMO = {
  issuer: ['issuer@demo.cairn.test', 'cairn-demo-issuer'],
  assessor: ['assessor@demo.cairn.test', 'cairn-demo-assessor'],
  learner: ['learner@demo.cairn.test', 'cairn-demo-learner'],
};
const PASSWORD = 'a long enough password';
const METRICS_TOKEN = crypto.randomBytes(24).toString('hex');
const DIRECT_AWARDS = 40;
// How long /verify on one instance may trust a status list it verified before another instance
// changed it: STATUS_LIST_MAX_AGE_SECS (crates/cairn-app/src/caches.rs), and a margin.
const VERIFIED_LIST_AGE_MS = 75_000;
const WEBHOOK_EVENTS = ['award.issued', 'award.revoked', 'award.suspended', 'award.reinstated', 'submission.submitted', 'submission.decided'];
// The smallest PDF with one page.
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

/** A valid PNG of `side`×`side` random RGB pixels, so that its digest is new to the bucket. */
function randomPng(side = 32) {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter method, no interlace
  const rows = [];
  for (let y = 0; y < side; y += 1) rows.push(Buffer.from([0]), crypto.randomBytes(side * 3));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** mulberry32: a small PRNG, so that a run's choice of instances can be repeated from its seed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The bit at `index` of a Bitstring Status List's `encodedList` (multibase base64url, gzip). */
function statusBit(encodedList, index) {
  const bits = zlib.gunzipSync(Buffer.from(encodedList.replace(/^u/, ''), 'base64url'));
  return (bits[Math.floor(index / 8)] >> (7 - (index % 8))) & 1;
}

/** An address, bare and lower-case, from `Name <address>` or `address`. */
const bareAddress = (text) => (/<([^>]+)>/.exec(text)?.[1] ?? text).trim().toLowerCase();

/** A mail body as text: quoted-printable or base64 undone (single-part mail, as Cairn sends). */
function mailText(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split).replace(/\r?\n(?=[ \t])/g, '');
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const encoding = /^content-transfer-encoding:\s*(\S+)/im.exec(head)?.[1]?.toLowerCase();
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** Files (not directories) under `dir`, recursively; none when it does not exist. */
function filesUnder(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? e.path, e.name));
}

/** OpenMetrics text parsed by prometheus_client (.venv-s3): `[{ name, type, samples: [{ name, labels, value }] }]`. */
function parseOpenMetrics(text) {
  return new Promise((resolve, reject) => {
    const child = spawn(s3Python, ['-c', `
import json, math, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    out.append({'name': family.name, 'type': family.type, 'samples': [
        {'name': s.name, 'labels': s.labels, 'value': s.value if math.isfinite(s.value) else str(s.value)} for s in family.samples]})
print(json.dumps(out))`], { cwd: peers, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) reject(new Error(`prometheus_client refused the metrics (exit ${status}):\n${stderr}\n--- metrics ---\n${text.slice(0, 4000)}`));
      else resolve(JSON.parse(stdout));
    });
    child.stdin.end(text);
  });
}

/** A webhook receiver on a free loopback port that keeps every request. */
async function startReceiver() {
  const received = [];
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url, headers: { ...request.headers }, raw: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks/cluster`,
    received,
    stop: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

describe('two instances on one database and one bucket behave as one installation', () => {
  let cluster;
  let sink;
  let receiver;
  let nodes; // [a, b]
  let org; // the demo organisation
  let issuerToken; // the demo issuer's, made on a
  let webhook; // the endpoint registered for every event
  let journeySubmission; // the journey's submission id
  let journeyAward; // the journey's award id
  const claimedAwards = []; // the direct awards claimed
  let carriedMailSent = 0; // mail counted by an instance before it was killed
  const seed = Number(process.env.CAIRN_CLUSTER_SEED ?? crypto.randomInt(1, 2 ** 31));
  const random = prng(seed);
  const pick = () => nodes[Math.floor(random() * nodes.length)];
  const other = (node) => nodes.find((n) => n !== node);
  const trail = []; // every request: which instance, what, the answer

  async function api(node, method, urlPath, { token, body, form, headers: extra = {} } = {}) {
    const headers = { accept: 'application/json', ...extra };
    if (token) headers.authorization = `Bearer ${token}`;
    let payload;
    if (form) payload = form;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(node.base + urlPath, { method, headers, body: payload, redirect: 'manual', signal: AbortSignal.timeout(60_000) });
    const bytes = Buffer.from(await response.arrayBuffer());
    const text = bytes.toString('utf8');
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    trail.push(`${node.name} ${method} ${urlPath} ${response.status}`);
    return { status: response.status, json, text, bytes, headers: response.headers, node: node.name };
  }
  function expectOk(what, response, ...statuses) {
    assert.ok(statuses.includes(response.status), `${what} (on ${response.node}): HTTP ${response.status} ${response.text.slice(0, 2000)}`);
    return response.json;
  }
  const logIn = async (node, [email, password]) => (await expectOk(`log in ${email}`, await api(node, 'POST', '/api/v1/session', { body: { email, password } }), 200, 201)).token;
  /** The path of a URL under the shared public URL, to send it to a chosen instance. */
  const pathOf = (url) => {
    assert.ok(url.startsWith(`${cluster.publicUrl}/`), `${url} is not under the public URL ${cluster.publicUrl}`);
    return url.slice(cluster.publicUrl.length);
  };
  /** Polls `check` until it returns something truthy (that), failing after `ms` with `what` (text, or a function giving it). */
  async function waitFor(what, check, ms = 60_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await check();
      if (value) return value;
      assert.ok(Date.now() < deadline, `${typeof what === 'function' ? what() : what}: not within ${ms / 1000} s`);
      await sleep(250);
    }
  }
  /** The mails delivered to `address` (bare), in arrival order. */
  const mailsTo = (address) => sink.messages.filter((m) => bareAddress(m.to) === address.toLowerCase());
  async function metricsOf(node) {
    const response = await api(node, 'GET', '/metrics', { token: METRICS_TOKEN, headers: { accept: 'application/openmetrics-text' } });
    assert.equal(response.status, 200, `/metrics on ${node.name}: ${response.text.slice(0, 500)}`);
    assert.match(response.headers.get('content-type') ?? '', /^application\/openmetrics-text; version=1\.0\.0/);
    return parseOpenMetrics(response.text);
  }
  const samples = (families, name) => families.flatMap((f) => f.samples).filter((s) => s.name === name);
  /** What an instance's output says went wrong (panics, errors), for failure messages. */
  const troubles = (node) => node.log().replace(/\x1b\[[0-9;]*m/g, '').split('\n')
    .filter((l) => /panicked|Unfold|ERROR/.test(l)).slice(-8).join('\n') || '(no panic or error in its log)';
  const unsentMail = async () => Number((await cluster.db.query('SELECT count(*) FROM outbox WHERE sent_at IS NULL')).trim());

  before(async () => {
    console.log(`cluster journey seed: ${seed} (CAIRN_CLUSTER_SEED=${seed} repeats this run's choice of instances)`);
    sink = await smtpSink();
    receiver = await startReceiver();
    cluster = await startCluster({
      instances: 2,
      env: { CAIRN_METRICS_TOKEN: METRICS_TOKEN },
      config: [
        'job_interval_secs = 1',
        `smtp_url = "smtp://127.0.0.1:${sink.port}"`,
        'mail_from = "Cairn <cairn@example.org>"',
        'webhook_allow_hosts = ["127.0.0.1"]',
        '',
      ].join('\n'),
    });
    nodes = cluster.nodes;
    const [a, b] = nodes;
    issuerToken = await logIn(a, DEMO.issuer);
    const me = await expectOk('me', await api(b, 'GET', '/api/v1/me', { token: issuerToken }), 200);
    org = me.memberships?.[0]?.organisation_id;
    assert.ok(org, `the demo issuer has no organisation: ${JSON.stringify(me)}`);
    webhook = await expectOk('register a webhook', await api(b, 'POST', `/api/v1/organisations/${org}/webhooks`, {
      token: issuerToken, body: { url: receiver.url, events: WEBHOOK_EVENTS, description: 'Cluster test' },
    }), 201);
  }, { timeout: 180_000 });

  after(async () => {
    if (process.env.CAIRN_INTEROP_VERBOSE) console.error(trail.join('\n'));
    if (cluster) await cluster.stop();
    if (sink) await sink.stop();
    if (receiver) await receiver.stop();
  }, { timeout: 120_000 });

  it('both instances are ready, and /healthz names the same version', { timeout: 60_000 }, async () => {
    const versions = new Set();
    for (const node of nodes) {
      const ready = await api(node, 'GET', '/readyz');
      assert.equal(ready.status, 200, `/readyz on ${node.name}: ${ready.text}`);
      assert.deepEqual(ready.json, { status: 'ready' });
      const health = expectOk('/healthz', await api(node, 'GET', '/healthz'), 200);
      assert.equal(health.status, 'ok', JSON.stringify(health));
      versions.add(health.version);
    }
    assert.equal(versions.size, 1, [...versions].join(', '));
  });

  it('a sign-in made on one instance is a session on the other, and a sign-out on either ends it', { timeout: 60_000 }, async () => {
    const [a, b] = nodes;
    const browser = new CookieSession();
    const signedIn = await browser.page(a.base, 'POST', '/login', { form: { email: DEMO.learner[0], password: DEMO.learner[1] } });
    assert.equal(signedIn.status, 303, signedIn.text.slice(0, 500));
    assert.ok(browser.get('cairn_session'), `no session cookie: ${JSON.stringify([...signedIn.headers])}`);
    const account = await browser.page(b.base, 'GET', '/account');
    assert.equal(account.status, 200, `/account on b with a's cookie: ${account.status} ${account.location}`);
    assert.ok(account.text.includes(DEMO.learner[0]), 'the account page names the learner');

    // A token made on b's page (the form's CSRF check passes there) is a bearer token on a.
    const made = await browser.page(b.base, 'POST', '/account/tokens', { form: { name: 'Made on b', scope: 'full', expires: '30' } });
    assert.equal(made.status, 200, made.text.slice(0, 500));
    const secret = /\bcairn_[A-Za-z0-9_-]{20,}/.exec(made.text)?.[0];
    assert.ok(secret, 'the page shows the new token once');
    const me = expectOk('me with the page\'s token', await api(a, 'GET', '/api/v1/me', { token: secret }), 200);
    assert.equal(me.email, DEMO.learner[0]);

    // Signed out on b, the cookie is no session on a either.
    const out = await browser.page(b.base, 'POST', '/logout', { form: {} });
    assert.equal(out.status, 303, out.text.slice(0, 500));
    const session = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('cairn_session='));
    const stale = await fetch(`${a.base}/account`, { headers: { cookie: session }, redirect: 'manual' });
    await stale.arrayBuffer();
    assert.equal(stale.status, 303, 'the old cookie no longer signs in on a');
    assert.match(stale.headers.get('location') ?? '', /^\/login/);
  });

  it('a bearer token made on one instance works on the other, and revoked on one it stops on both', { timeout: 60_000 }, async () => {
    const [a, b] = nodes;
    const token = await logIn(a, DEMO.assessor);
    expectOk('me on b', await api(b, 'GET', '/api/v1/me', { token }), 200);
    const made = expectOk('a read-only token on b', await api(b, 'POST', '/api/v1/tokens', { token, body: { name: 'Cluster', scope: 'read-only', expires_in_days: 1 } }), 201);
    expectOk('read with it on a', await api(a, 'GET', '/api/v1/me', { token: made.token }), 200);
    assert.equal((await api(a, 'POST', '/api/v1/tokens', { token: made.token, body: { name: 'not allowed' } })).status, 403, 'read-only on a too');
    const listed = expectOk('tokens on a', await api(a, 'GET', '/api/v1/tokens', { token }), 200);
    assert.ok((listed.items ?? listed).some((t) => t.id === made.id), JSON.stringify(listed));
    const revoked = await api(a, 'DELETE', `/api/v1/tokens/${made.id}`, { token });
    assert.ok([200, 204].includes(revoked.status), `revoke on a: ${revoked.status} ${revoked.text}`);
    for (const node of nodes) {
      assert.equal((await api(node, 'GET', '/api/v1/me', { token: made.token })).status, 401, `the revoked token on ${node.name}`);
    }
  });

  it('a badge image uploaded on one instance downloads byte-identical from the other, from the bucket, not the data dirs', { timeout: 120_000 }, async () => {
    const [a, b] = nodes;
    const before = new Set(await cluster.s3.listKeys(cluster.bucket));
    const badge = expectOk('create a badge on a', await api(a, 'POST', `/api/v1/organisations/${org}/achievements`, {
      token: issuerToken,
      body: {
        kind: 'micro-badge',
        name: 'Operating Clustered Services',
        description: 'Run a service on several machines behind one address.',
        criteria: 'Show two instances serving one site.',
        rubric: {
          levels: ['Not yet', 'Competent', 'Excellent'],
          criteria: [
            { name: 'Shared state', required_level: 'Competent', descriptors: ['Kept per machine', 'Kept in shared stores', 'Shared and recoverable'] },
            { name: 'Operations', required_level: 'Competent', descriptors: ['Unobserved', 'Health checked', 'Measured and alerted'] },
          ],
        },
      },
    }), 201);
    const png = randomPng();
    const form = new FormData();
    form.append('file', new Blob([png], { type: 'image/png' }), 'badge.png');
    expectOk('upload the image on a', await api(a, 'POST', `/api/v1/achievements/${badge.id}/image`, { token: issuerToken, form }), 200, 201);
    expectOk('publish on b', await api(b, 'POST', `/api/v1/achievements/${badge.id}/publish`, { token: issuerToken, body: {} }), 200);

    for (const node of [b, a]) {
      const image = await api(node, 'GET', `/achievements/${badge.id}/image`, { headers: { accept: 'image/png' } });
      assert.equal(image.status, 200, `the image from ${node.name}: ${image.text.slice(0, 300)}`);
      assert.equal(image.headers.get('content-type'), 'image/png');
      assert.ok(image.bytes.equals(png), `the image from ${node.name} is the uploaded one`);
    }
    const keys = await cluster.s3.listKeys(cluster.bucket);
    const added = keys.filter((k) => !before.has(k));
    const digest = sha256(png);
    const stored = added.find((k) => k.includes(digest));
    assert.ok(stored, `the image's digest ${digest} names a new key in the bucket: ${JSON.stringify(added)}`);
    assert.ok(stored.startsWith(`${cluster.prefix}/`), `${stored} is under the prefix ${cluster.prefix}/`);
    assert.ok(keys.every((k) => k.startsWith(`${cluster.prefix}/`)), 'every key is under the prefix');
    assert.ok((await cluster.s3.getObject(cluster.bucket, stored)).equals(png), 'boto3 reads the uploaded bytes');
    for (const node of nodes) assert.deepEqual(filesUnder(path.join(node.dir, 'blobs')), [], `nothing under ${node.name}'s --data blobs/`);
  });

  it('the learner journey, each request sent to an instance chosen at random', { timeout: 300_000 }, async () => {
    const issuer = await logIn(pick(), DEMO.issuer);
    const assessor = await logIn(pick(), DEMO.assessor);
    // A published demo micro-badge with a rubric, free ones first, with the demo assessor in its pool.
    const catalog = expectOk('catalog', await api(pick(), 'GET', '/api/v1/achievements?kind=micro-badge&limit=100'), 200);
    const badge = catalog.items
      .filter((x) => x.kind === 'micro-badge' && x.state === 'published' && x.rubric?.criteria?.length && x.issuer.id === org)
      .sort((x, y) => Number(Boolean(y.fee?.free)) - Number(Boolean(x.fee?.free)))[0];
    assert.ok(badge, `no published demo micro-badge with a rubric: ${JSON.stringify(catalog.items.map((x) => x.name))}`);
    const members = expectOk('members', await api(pick(), 'GET', `/api/v1/organisations/${org}/members`, { token: issuer }), 200);
    const assessorMember = members.items.find((m) => m.email === DEMO.assessor[0]);
    assert.ok(assessorMember, JSON.stringify(members));
    const pooled = await api(pick(), 'POST', `/api/v1/achievements/${badge.id}/assessors`, { token: issuer, body: { user_id: assessorMember.user_id } });
    assert.ok([204, 409].includes(pooled.status), `add the assessor to the pool: ${pooled.status} ${pooled.text}`);

    // A new learner signs up and applies with evidence.
    const email = `journey.${seed}@example.org`;
    expectOk('sign up', await api(pick(), 'POST', '/api/v1/users', { body: { name: 'Jude Journey', email, password: PASSWORD } }), 202);
    const learner = await logIn(pick(), [email, PASSWORD]);
    const draft = expectOk('apply', await api(pick(), 'POST', `/api/v1/achievements/${badge.id}/submissions`, {
      token: learner,
      body: { overview: 'I ran one service on two machines behind one address.', reflection: 'I learnt to keep no state on a machine.', links: ['https://example.org/cluster'], collaborators: [] },
    }), 201);
    journeySubmission = draft.id;
    if (draft.fee === 'due') expectOk('waive the fee', await api(pick(), 'POST', `/api/v1/submissions/${draft.id}/fee`, { token: issuer, body: { action: 'waived' } }), 200);
    const form = new FormData();
    form.append('file', new Blob([PDF], { type: 'application/pdf' }), 'report.pdf');
    form.append('title', 'Report');
    const artifact = expectOk('upload evidence', await api(pick(), 'POST', `/api/v1/submissions/${draft.id}/artifacts`, { token: learner, form }), 201);
    const sent = expectOk('submit', await api(pick(), 'POST', `/api/v1/submissions/${draft.id}/submit`, { token: learner, body: {} }), 200);
    assert.equal(sent.status, 'submitted');

    // The assessor finds it in the queue, downloads the evidence (the same bytes from either
    // instance, stored in the bucket under their digest) and passes it.
    const queue = expectOk('queue', await api(pick(), 'GET', '/api/v1/assessments', { token: assessor }), 200);
    const item = queue.items.find((i) => i.submission_id === draft.id);
    assert.ok(item, `the submission is in the demo assessor's queue: ${JSON.stringify(queue.items.map((i) => i.submission_id))}`);
    expectOk('open', await api(pick(), 'GET', `/api/v1/assessments/${draft.id}`, { token: assessor }), 200);
    const file = item.artifacts.find((x) => x.download);
    assert.ok(file, `the evidence file is listed: ${JSON.stringify(item.artifacts)} (uploaded ${JSON.stringify(artifact)})`);
    const downloads = [];
    for (const node of nodes) {
      const got = await api(node, 'GET', pathOf(file.download), { token: assessor, headers: { accept: '*/*' } });
      assert.equal(got.status, 200, `the evidence from ${node.name}: ${got.text.slice(0, 300)}`);
      downloads.push(got.bytes);
    }
    assert.ok(downloads[0].equals(downloads[1]), 'both instances serve the same evidence bytes');
    assert.ok(downloads[0].subarray(0, 5).toString() === '%PDF-', 'a PDF');
    const keys = await cluster.s3.listKeys(cluster.bucket);
    assert.ok(keys.some((k) => k.includes(sha256(downloads[0]))), `the evidence is in the bucket under its digest ${sha256(downloads[0])}: ${JSON.stringify(keys)}`);
    const { levels, criteria } = item.rubric;
    const top = levels[levels.length - 1];
    const scores = criteria.map((c) => ({ criterion: c.id, level: typeof top === 'string' ? top : levels.length, comment: `${c.name}: well done.` }));
    const judged = expectOk('assess', await api(pick(), 'POST', `/api/v1/assessments/${draft.id}`, { token: assessor, body: { scores, feedback: 'Excellent.' } }), 200);
    assert.equal(judged.outcome, 'pass', JSON.stringify(judged));

    // The learner sees the award, and makes it public.
    const view = expectOk('the submission', await api(pick(), 'GET', `/api/v1/submissions/${draft.id}`, { token: learner }), 200);
    assert.equal(view.status, 'awarded', JSON.stringify(view));
    journeyAward = view.award_id;
    const mine = expectOk('my awards', await api(pick(), 'GET', '/api/v1/awards', { token: learner }), 200);
    assert.ok((mine.items ?? mine).some((x) => x.id === journeyAward), JSON.stringify(mine));
    expectOk('make it public', await api(pick(), 'PUT', `/api/v1/awards/${journeyAward}/privacy`, { token: learner, body: { privacy: 'public' } }), 200);
    const award = expectOk('the award', await api(pick(), 'GET', `/api/v1/awards/${journeyAward}`, { token: learner }), 200);
    assert.equal(award.status, 'active');
    const credential = expectOk('the credential', await api(pick(), 'GET', pathOf(award.links.credential), { token: learner }), 200);
    const png = await api(pick(), 'GET', pathOf(award.links.png), { token: learner, headers: { accept: 'image/png' } });
    assert.equal(png.status, 200, png.text.slice(0, 300));
    assert.ok(keys.length > 0 && (await cluster.s3.listKeys(cluster.bucket)).some((k) => k.includes(sha256(png.bytes))), 'the baked badge is in the bucket');

    // Anyone verifies it, by its address and as the credential itself.
    const visitor = new CookieSession();
    const verify = async (node, form) => {
      const answer = await visitor.page(node.base, 'POST', '/verify', { form, headers: { accept: 'application/json' } });
      trail.push(`${node.name} POST /verify ${answer.status}`);
      assert.equal(answer.status, 200, `/verify on ${node.name}: ${answer.text.slice(0, 500)}`);
      return JSON.parse(answer.text);
    };
    const byUrl = await verify(pick(), { url: award.links.page });
    assert.equal(byUrl.verdict, 'valid', JSON.stringify(byUrl.checks));
    const byText = await verify(pick(), { text: JSON.stringify(credential) });
    assert.equal(byText.verdict, 'valid', JSON.stringify(byText.checks));

    // Suspended on one instance: the other says so everywhere, the status list it serves too.
    const suspendOn = pick();
    const seeOn = other(suspendOn);
    const suspended = expectOk('suspend', await api(suspendOn, 'POST', `/api/v1/awards/${journeyAward}/status`, { token: issuer, body: { action: 'suspend', reason: 'under review' } }), 200);
    assert.equal(suspended.status, 'suspended');
    assert.equal(expectOk('the award on the other', await api(seeOn, 'GET', `/api/v1/awards/${journeyAward}`, { token: issuer }), 200).status, 'suspended');
    const [revocation, suspension] = [].concat(credential.credentialStatus);
    assert.deepEqual([revocation.statusPurpose, suspension.statusPurpose], ['revocation', 'suspension']);
    const listBit = async (node, entry) => {
      const list = expectOk(`the ${entry.statusPurpose} list`, await api(node, 'GET', pathOf(entry.statusListCredential), { headers: { accept: 'application/json' } }), 200);
      return statusBit(list.credentialSubject.encodedList, Number(entry.statusListIndex));
    };
    await waitFor(`the suspension bit in the list ${seeOn.name} serves`, async () => (await listBit(seeOn, suspension)) === 1);
    assert.equal(await listBit(seeOn, revocation), 0);
    const page = await api(seeOn, 'GET', `/awards/${journeyAward}`, { headers: { accept: 'text/html' } });
    assert.match(page.text, /<span class="pill [^"]*">Suspended<\/span>/);
    // /verify on the other instance: its verified status lists are trusted for up to
    // STATUS_LIST_MAX_AGE_SECS (60 s, crates/cairn-app/src/caches.rs) when another instance made
    // the change, so it says so within that age.
    const whileSuspended = await waitFor(`/verify on ${seeOn.name} to see the suspension`, async () => {
      const report = await verify(seeOn, { url: award.links.page });
      return report.verdict === 'valid' ? null : report;
    }, VERIFIED_LIST_AGE_MS);
    assert.equal(whileSuspended.verdict, 'invalid', JSON.stringify(whileSuspended.checks));
    assert.ok(whileSuspended.checks.some((c) => c.id === 'status' && c.ok !== true && /suspended/.test(c.detail)), JSON.stringify(whileSuspended.checks));

    // Revoked on one instance: the other refuses it too.
    const revokeOn = pick();
    const revokeSeen = other(revokeOn);
    expectOk('revoke', await api(revokeOn, 'POST', `/api/v1/awards/${journeyAward}/status`, { token: issuer, body: { action: 'revoke', reason: 'awarded in error', publish_reason: true } }), 200);
    assert.equal(expectOk('the award on the other', await api(revokeSeen, 'GET', `/api/v1/awards/${journeyAward}`, { token: learner }), 200).status, 'revoked');
    await waitFor(`the revocation bit in the list ${revokeSeen.name} serves`, async () => (await listBit(revokeSeen, revocation)) === 1);
    const ob2 = await api(revokeSeen, 'GET', pathOf(award.links.ob2));
    assert.equal(ob2.status, 410, ob2.text.slice(0, 300));
    const afterRevocation = await waitFor(`/verify on ${revokeSeen.name} to see the revocation`, async () => {
      const report = await verify(revokeSeen, { text: JSON.stringify(credential) });
      return report.checks.some((c) => c.id === 'status' && /revoked/.test(c.detail)) ? report : null;
    }, VERIFIED_LIST_AGE_MS);
    assert.equal(afterRevocation.verdict, 'invalid');
    assert.ok(afterRevocation.checks.some((c) => c.id === 'status' && /revoked/.test(c.detail)), JSON.stringify(afterRevocation.checks));
    for (const node of nodes) assert.deepEqual(filesUnder(path.join(node.dir, 'blobs')), [], `nothing under ${node.name}'s --data blobs/`);
  });

  it(`${DIRECT_AWARDS} direct awards sent at once to both instances are distinct, with distinct status-list indexes, none lost`, { timeout: 240_000 }, async () => {
    const [a, b] = nodes;
    const badge = expectOk('a badge to award', await api(a, 'POST', `/api/v1/organisations/${org}/achievements`, {
      token: issuerToken,
      body: {
        kind: 'micro-badge',
        name: 'Cluster Drill Participant',
        description: 'Took part in the cluster drill.',
        criteria: 'Take part in the drill and restore the service.',
        rubric: {
          levels: ['Not yet', 'Done'],
          criteria: [{ name: 'Restore', required_level: 'Done', descriptors: ['Service not restored', 'Service restored'] }],
        },
      },
    }), 201);
    expectOk('publish', await api(b, 'POST', `/api/v1/achievements/${badge.id}/publish`, { token: issuerToken, body: {} }), 200);
    const recipients = Array.from({ length: DIRECT_AWARDS }, (_, i) => ({ email: `drill-${i}.${seed}@example.org`, name: `Drill Participant ${i}` }));
    const answers = await Promise.all(recipients.map((recipient, i) => api(nodes[i % 2], 'POST', `/api/v1/organisations/${org}/awards`, {
      token: issuerToken, body: { achievement_id: badge.id, recipient, narrative: `Took part in drill ${seed}.` },
    })));
    const failed = answers.filter((r) => r.status !== 201);
    assert.deepEqual(failed.map((r) => `${r.node}: ${r.status} ${r.text}`), [], 'every award is made');
    const ids = answers.map((r) => r.json.id);
    assert.equal(new Set(ids).size, DIRECT_AWARDS, 'distinct awards');
    assert.deepEqual(answers.map((r) => r.json.recipient.email).sort(), recipients.map((r) => r.email).sort());

    for (const node of nodes) {
      const listed = expectOk(`the direct awards on ${node.name}`, await api(node, 'GET', `/api/v1/organisations/${org}/awards`, { token: issuerToken }), 200);
      const ours = listed.items.filter((o) => o.achievement_id === badge.id);
      assert.deepEqual(ours.map((o) => o.id).sort(), [...ids].sort(), `${node.name} lists all ${DIRECT_AWARDS}`);
      assert.ok(ours.every((o) => o.status === 'waiting'), JSON.stringify(ours.map((o) => o.status)));
    }

    // Every credential signed for them holds its own index in the issuer's status lists, and no
    // award of the issuer holds one of theirs.
    const offers = JSON.parse(await cluster.db.query(`SELECT coalesce(json_agg(json_build_object('id', id, 'index', status_index)), '[]') FROM award_offers WHERE achievement_id = '${badge.id}'`));
    assert.equal(offers.length, DIRECT_AWARDS);
    assert.ok(offers.every((o) => Number.isInteger(o.index)), JSON.stringify(offers));
    assert.equal(new Set(offers.map((o) => o.index)).size, DIRECT_AWARDS, `distinct indexes: ${offers.map((o) => o.index).sort((x, y) => x - y)}`);
    const used = (await cluster.db.query(`SELECT status_index FROM awards WHERE organisation_id = '${org}' UNION ALL SELECT status_index FROM award_offers WHERE organisation_id = '${org}' AND status_index IS NOT NULL AND claimed_at IS NULL AND withdrawn_at IS NULL`)).trim().split('\n').map(Number);
    assert.equal(new Set(used).size, used.length, 'no index of the issuer is held twice');

    // Two recipients claim theirs with the link mailed (by whichever instance sent it), each on
    // the instance that did not make the award; the award keeps the index its credential names.
    for (const i of [0, 1]) {
      const recipient = recipients[i];
      const mail = await waitFor(`the claim mail to ${recipient.email}`, () => mailsTo(recipient.email)[0]);
      const link = /\/claim\/[A-Za-z0-9_-]+/.exec(mailText(mail.raw))?.[0];
      assert.ok(link, `a claim link in: ${mailText(mail.raw)}`);
      const on = other(nodes[i % 2]);
      const browser = new CookieSession();
      const opened = await browser.page(on.base, 'GET', link);
      assert.equal(opened.status, 200, opened.text.slice(0, 500));
      const claimed = await browser.page(on.base, 'POST', link, { form: { name: recipient.name, password: PASSWORD } });
      assert.equal(claimed.status, 303, claimed.text.slice(0, 500));
      assert.match(claimed.location ?? '', /^\/awards\//);
      const awardId = claimed.location.replace('/awards/', '');
      claimedAwards.push(awardId);
      const token = await logIn(other(on), [recipient.email, PASSWORD]);
      const award = expectOk('the claimed award', await api(other(on), 'GET', `/api/v1/awards/${awardId}`, { token }), 200);
      const credential = expectOk('its credential', await api(on, 'GET', pathOf(award.links.credential), { token }), 200);
      const offer = offers.find((o) => o.id === ids[i]);
      assert.ok([].concat(credential.credentialStatus).every((e) => Number(e.statusListIndex) === offer.index), `${JSON.stringify(credential.credentialStatus)} names index ${offer.index}`);
    }
  });

  it('every webhook event is delivered once, verified by standardwebhooks', { timeout: 120_000 }, async () => {
    const hooks = new Webhook(webhook.secret);
    const events = () => receiver.received.map((m) => JSON.parse(m.raw.toString('utf8')));
    const about = (type, key, id) => events().filter((e) => e.type === type && e.data?.[key] === id);
    // The journey's events, and an award.issued per claim, whichever instance made them.
    const wanted = [
      ['submission.submitted', 'submission_id', journeySubmission],
      ['submission.decided', 'submission_id', journeySubmission],
      ['award.issued', 'award_id', journeyAward],
      ['award.suspended', 'award_id', journeyAward],
      ['award.revoked', 'award_id', journeyAward],
      ...claimedAwards.map((id) => ['award.issued', 'award_id', id]),
    ];
    await waitFor('the webhook events of the journey and the claims', () => wanted.every(([type, key, id]) => about(type, key, id).length >= 1));
    await waitFor('the webhook deliveries to settle', async () => Number((await cluster.db.query("SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'")).trim()) === 0);
    for (const [type, key, id] of wanted) assert.equal(about(type, key, id).length, 1, `${type} for ${id} once`);
    const ids = receiver.received.map((m) => m.headers['webhook-id']);
    assert.equal(new Set(ids).size, ids.length, `each message once: ${JSON.stringify(ids)}`);
    for (const m of receiver.received) assert.deepEqual(hooks.verify(m.raw, m.headers), JSON.parse(m.raw.toString('utf8')));
    const delivered = JSON.parse(await cluster.db.query(`SELECT coalesce(json_agg(json_build_object('message', message_id, 'state', state, 'attempts', attempts)), '[]') FROM webhook_deliveries WHERE endpoint_id = '${webhook.id}'`));
    assert.deepEqual(delivered.map((d) => d.message).sort(), [...ids].sort(), 'the receiver got what the deliveries say, each once');
  });

  it('/metrics (behind its token) is OpenMetrics: requests by route template on each instance, credentials signed, the mail queue drained', { timeout: 120_000 }, async () => {
    for (const node of nodes) {
      const refused = await api(node, 'GET', '/metrics');
      assert.equal(refused.status, 401, `/metrics without the token on ${node.name}`);
      assert.equal((await api(node, 'GET', '/metrics', { token: `${METRICS_TOKEN}x` })).status, 401);
    }
    await waitFor('the mail outbox to drain', async () => (await unsentMail()) === 0, 90_000);
    const health = expectOk('/healthz', await api(nodes[0], 'GET', '/healthz'), 200);
    let signedAwards = 0;
    for (const node of nodes) {
      const families = await metricsOf(node);
      const family = (name) => families.find((f) => f.name === name);
      assert.equal(family('cairn_http_requests')?.type, 'counter');
      assert.equal(family('cairn_http_request_duration_seconds')?.type, 'histogram');
      assert.equal(family('cairn_credentials_signed')?.type, 'counter');
      assert.ok(family('cairn_http_requests_in_flight'), 'in-flight gauge');
      assert.deepEqual(samples(families, 'cairn_build_info').map((s) => s.labels.version), [health.version]);
      // The direct awards sent to this instance, counted under the route's template.
      const posted = samples(families, 'cairn_http_requests_total').filter((s) => s.labels.route === '/api/v1/organisations/{id}/awards' && s.labels.method === 'POST');
      assert.deepEqual(posted.map((s) => [s.labels.status, s.value]), [['201', DIRECT_AWARDS / 2]], `${node.name}: ${JSON.stringify(posted)}`);
      assert.ok(samples(families, 'cairn_http_requests_total').every((s) => !s.labels.route.includes(org)), 'routes are templates, never raw paths');
      const timed = samples(families, 'cairn_http_request_duration_seconds_count').filter((s) => s.labels.route === '/api/v1/organisations/{id}/awards' && s.labels.method === 'POST');
      assert.equal(timed.reduce((sum, s) => sum + s.value, 0), DIRECT_AWARDS / 2, `${node.name}: ${JSON.stringify(timed)}`);
      const signed = samples(families, 'cairn_credentials_signed_total');
      const byKind = Object.fromEntries(signed.map((s) => [s.labels.kind, s.value]));
      assert.ok((byKind['award-data-integrity'] ?? 0) >= DIRECT_AWARDS / 2, `${node.name} signed the credentials of the awards it made: ${JSON.stringify(byKind)}`);
      assert.ok((byKind['award-jwt'] ?? 0) >= DIRECT_AWARDS / 2, `${node.name}: ${JSON.stringify(byKind)}`);
      signedAwards += byKind['award-data-integrity'] ?? 0;
      const depth = Object.fromEntries(samples(families, 'cairn_outbox_depth').map((s) => [s.labels.queue, s.value]));
      assert.equal(depth.mail, 0, `${node.name}: ${JSON.stringify(depth)}`);
      const runs = samples(families, 'cairn_job_runs_total').reduce((sum, s) => sum + s.value, 0);
      assert.ok(runs > 0, `${node.name} ran background work (cairn_job_runs_total ${runs}); its log:\n${troubles(node)}`);
      assert.ok('effects' in depth && 'webhooks' in depth, JSON.stringify(depth));
    }
    assert.ok(signedAwards >= DIRECT_AWARDS + 1, `the instances signed ${signedAwards} award credentials`);
  });

  it('an instance killed and restarted under its name serves the same site, and its work goes on', { timeout: 120_000 }, async () => {
    const [a, b] = nodes;
    const token = await logIn(b, DEMO.learner);
    // What b counted as sent goes with it: kept for the count of the mail sent.
    carriedMailSent += samples(await metricsOf(b), 'cairn_job_work_total').filter((s) => s.labels.kind === 'mail_sent').reduce((sum, s) => sum + s.value, 0);
    const before = b.pid;
    const killed = await b.kill();
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal((await api(a, 'GET', '/readyz')).status, 200, 'a is ready while b is down');
    expectOk('the award on a', await api(a, 'GET', `/api/v1/awards/${journeyAward}`, { token: issuerToken }), 200);
    await b.restart();
    assert.notEqual(b.pid, before);
    assert.equal(b.exited(), null);
    assert.equal((await api(b, 'GET', '/readyz')).status, 200);
    expectOk('a token made before the crash, on b', await api(b, 'GET', '/api/v1/me', { token }), 200);
    await waitFor(() => `b's background runs after the restart; its log:\n${troubles(b)}`, async () => samples(await metricsOf(b), 'cairn_job_runs_total').reduce((sum, x) => sum + x.value, 0) > 0);
    // Work is claimed under the instances' names, and by nobody else.
    const claimers = (await cluster.db.query('SELECT DISTINCT claimed_by FROM effects WHERE claimed_by IS NOT NULL')).trim().split('\n').filter(Boolean);
    assert.ok(claimers.every((n) => nodes.some((node) => node.name === n)), JSON.stringify(claimers));
  });

  it('/readyz answers 503 on both once the bucket cannot be reached, while /healthz still answers', { timeout: 120_000 }, async () => {
    await cluster.s3.stop();
    for (const node of nodes) {
      const answer = await waitFor(`/readyz on ${node.name} to notice`, async () => {
        const ready = await api(node, 'GET', '/readyz');
        return ready.status === 200 ? null : ready;
      });
      assert.equal(answer.status, 503, answer.text);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(answer.json?.status, 503, answer.text);
      expectOk(`/healthz on ${node.name}`, await api(node, 'GET', '/healthz'), 200);
    }
  });

  it('every mail is delivered once, however many instances send', { timeout: 180_000 }, async () => {
    await waitFor('the mail outbox to drain', async () => (await unsentMail()) === 0, 90_000);
    const queued = Number((await cluster.db.query('SELECT count(*) FROM outbox')).trim());
    // Sent mail as the instances that sent it count it (each counts once it has marked it sent).
    const mailSent = async () => {
      let sum = 0;
      for (const node of nodes) {
        sum += samples(await metricsOf(node), 'cairn_job_work_total').filter((s) => s.labels.kind === 'mail_sent').reduce((total, s) => total + s.value, 0);
      }
      return sum;
    };
    const counted = await waitFor(() => `the instances to count the ${queued} mails they sent; their logs:\n${nodes.map((n) => `${n.name}: ${troubles(n)}`).join('\n')}`, async () => {
      const sum = await mailSent();
      return sum + carriedMailSent >= queued ? sum + carriedMailSent : null;
    });
    // Stopped gracefully, an instance finishes the background run under way: whatever either
    // was sending has arrived by then.
    await Promise.all(nodes.map((node) => node.stop()));
    const outbox = JSON.parse(await cluster.db.query(`SELECT coalesce(json_agg(json_build_object('to', to_email, 'subject', subject, 'sent', sent_at IS NOT NULL, 'error', last_error)), '[]') FROM outbox`));
    assert.ok(outbox.length >= DIRECT_AWARDS, `the outbox holds the claim mails at least: ${outbox.length}`);
    assert.deepEqual(outbox.filter((m) => !m.sent), [], 'everything was sent');
    const tally = (items) => {
      const counts = {};
      for (const { to, subject } of items) {
        const key = `${bareAddress(to)} | ${subject}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    };
    assert.deepEqual(tally(sink.messages), tally(outbox), 'each message of the outbox arrived once');
    assert.equal(sink.messages.length, outbox.length);
    assert.equal(counted, outbox.length, 'the instances counted each mail they sent, once');
    for (const recipient of Array.from({ length: DIRECT_AWARDS }, (_, i) => `drill-${i}.${seed}@example.org`)) {
      const claims = mailsTo(recipient).filter((m) => /\/claim\/[A-Za-z0-9_-]+/.test(mailText(m.raw)));
      assert.equal(claims.length, 1, `${recipient} got one claim mail`);
    }
    // Nothing was sent twice while the instances stopped either.
    const ids = receiver.received.map((m) => m.headers['webhook-id']);
    assert.equal(new Set(ids).size, ids.length, 'each webhook message once');
  });

  it('without its bucket an instance does not start, and says which store it cannot use', { timeout: 120_000 }, async () => {
    // moto_server is gone (above), and the instances are stopped.
    const [a] = nodes;
    await assert.rejects(a.restart(), (error) => {
      assert.match(error.message, new RegExp(`the blob store s3://${cluster.bucket}/${cluster.prefix} cannot be used`), error.message);
      return true;
    });
    assert.notEqual(a.exited(), null);
    assert.notEqual(a.exited().code, 0);
  });
});
