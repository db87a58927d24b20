// Interop of what Cairn AWARDS: a running `cairn serve --demo` takes a learner through the real
// assessment journey over the JSON API (apply, evidence, submit, blind assessment, pass, the learner
// making the award public), and every
// form of the award it issues — the Data Integrity credential, the VC-JWT, the baked PNG and SVG
// and the hosted OB 2.0 assertion — must pass the independent verifiers in tests/interop/peers,
// with the issuer's did:web and status list resolved from the running server (loopback only).
// A second award is revoked, its reason published, and the peers and `cairn verify` must say so.
// Each credential names the issuer's revocation list and its suspension list (docs/credentials.md):
// the active award, suspended, fails in every peer and in `cairn verify`, and passes again once
// reinstated.
// A third learner earns the demo certificate, whose credential carries credit hours.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cairnBin, peer as peerIn, root, runAsync as runIn, startDemo } from './lib/cairn.mjs';

// The smallest PDF with one page.
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const REVOCATION_REASON = 'awarded in error';
const DEMO = {
  issuer: ['issuer@demo.cairn.test', 'cairn-demo-issuer'],
  assessor: ['assessor@demo.cairn.test', 'cairn-demo-assessor'],
  learner: ['learner@demo.cairn.test', 'cairn-demo-learner'],
};
// JWT registered claims a VC-JWT adds around the credential (OB 3.0 §8.2.4.1).
const JWT_CLAIMS = ['iss', 'jti', 'sub', 'nbf', 'exp', 'iat', 'aud'];

let dir;
const runAsync = (command, args, timeoutMs) => runIn(dir, command, args, timeoutMs);
const peer = (script, ...args) => peerIn(dir, script, ...args);

// Every child runs without blocking the event loop and in the temp dir; peers print one JSON line.
async function cairnVerify(target, ...flags) {
  const result = await runAsync(cairnBin, ['verify', '--json', ...flags, target]);
  let report = null;
  try { report = JSON.parse(result.stdout); } catch { /* reported by the caller */ }
  return { status: result.status, report, stderr: result.stderr };
}
const failing = (report) => report.checks.filter((c) => c.ok !== true).map((c) => `${c.id}: ${c.detail}`).join(' | ');
const explain = (own) => (own.report ? `${own.report.verdict}: ${failing(own.report)}` : own.stderr);
const readJson = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
const b64urlJson = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const withoutProof = ({ proof, ...rest }) => rest;


describe('what Cairn awards through its assessment journey, the peers accept', () => {
  let server;
  let base;
  let did;
  let active;
  let revoked;

  async function api(method, urlPath, { token, body, form } = {}) {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let payload;
    if (form) {
      payload = form;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(base + urlPath, { method, headers, body: payload, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, json, text, headers: response.headers };
  }
  function expectOk(what, response, ...statuses) {
    assert.ok(statuses.includes(response.status), `${what}: HTTP ${response.status} ${response.text}`);
    return response.json;
  }
  async function logIn([email, password]) {
    const session = await expectOk(`log in ${email}`, await api('POST', '/api/v1/session', { body: { email, password } }), 201, 200);
    return session.token;
  }
  // Saves a download under the temp dir and returns its bytes.
  async function download(url, name, token) {
    assert.ok(url.startsWith(`${base}/`), `${url} is not on the running server ${base}`);
    const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(30_000) });
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(response.status, 200, `GET ${url}: ${bytes.toString('utf8', 0, 300)}`);
    fs.writeFileSync(path.join(dir, name), bytes);
    return bytes;
  }

  // Apply → evidence → submit → the assessor scores every criterion at its highest level → pass.
  async function earn({ learner, assessor, issuer, badge, overview }) {
    const submission = await expectOk('apply', await api('POST', `/api/v1/achievements/${badge.id}/submissions`, {
      token: learner,
      body: { overview, reflection: 'I learnt to plan the work before starting and to ask for feedback early.', links: ['https://example.org/evidence/repo'], collaborators: [] },
    }), 201);
    assert.equal(submission.status, 'draft');
    const id = submission.id;
    if (submission.fee === 'due') {
      await expectOk('waive the fee', await api('POST', `/api/v1/submissions/${id}/fee`, { token: issuer, body: { action: 'waived' } }), 200);
    }
    const form = new FormData();
    form.append('file', new Blob([PDF], { type: 'application/pdf' }), 'report.pdf');
    form.append('title', 'Report');
    await expectOk('upload evidence', await api('POST', `/api/v1/submissions/${id}/artifacts`, { token: learner, form }), 201);
    const submitted = await expectOk('submit', await api('POST', `/api/v1/submissions/${id}/submit`, { token: learner, body: {} }), 200);
    assert.equal(submitted.status, 'submitted');

    const queue = await expectOk('assessor queue', await api('GET', '/api/v1/assessments', { token: assessor }), 200);
    const item = queue.items.find((i) => i.submission_id === id);
    assert.ok(item, `submission ${id} is not in the demo assessor's queue: ${JSON.stringify(queue.items.map((i) => i.submission_id))}`);
    await expectOk('open the assessment', await api('GET', `/api/v1/assessments/${id}`, { token: assessor }), 200);
    const { levels, criteria } = item.rubric;
    const top = levels[levels.length - 1];
    const scores = criteria.map((c) => ({ criterion: c.id, level: typeof top === 'string' ? top : levels.length, comment: `${c.name}: exemplary work.` }));
    const judged = await expectOk('assess', await api('POST', `/api/v1/assessments/${id}`, { token: assessor, body: { scores, feedback: 'Excellent work throughout.' } }), 200);
    assert.equal(judged.outcome, 'pass', JSON.stringify(judged));
    assert.equal(judged.award_id, undefined, `the assessor is not told which award: ${JSON.stringify(judged)}`);
    const view = await expectOk('the learner reads the submission', await api('GET', `/api/v1/submissions/${id}`, { token: learner }), 200);
    assert.equal(view.status, 'awarded', JSON.stringify(view));
    assert.ok(view.award_id, JSON.stringify(view));
    // New awards start private, and the peers fetch the hosted OB 2.0 assertion as anyone would:
    // the learner makes the award public with their privacy control first.
    const shared = await expectOk('make the award public', await api('PUT', `/api/v1/awards/${view.award_id}/privacy`, { token: learner, body: { privacy: 'public' } }), 200);
    assert.equal(shared.privacy, 'public', JSON.stringify(shared));
    return view.award_id;
  }

  // GET /api/v1/awards/{id} and every form it links to, saved as <prefix>.{json,jwt,png,svg}.
  async function fetchAward(awardId, prefix, token) {
    const award = await expectOk(`award ${awardId}`, await api('GET', `/api/v1/awards/${awardId}`, { token }), 200);
    for (const form of ['credential', 'jwt', 'png', 'svg', 'ob2']) assert.ok(award.links?.[form], `award has no ${form} link: ${JSON.stringify(award)}`);
    await download(award.links.credential, `${prefix}.json`, token);
    await download(award.links.jwt, `${prefix}.jwt`, token);
    await download(award.links.png, `${prefix}.png`, token);
    await download(award.links.svg, `${prefix}.svg`, token);
    return { id: awardId, award, credential: readJson(`${prefix}.json`), jwt: fs.readFileSync(path.join(dir, `${prefix}.jwt`), 'utf8').trim(), files: { json: `${prefix}.json`, jwt: `${prefix}.jwt`, png: `${prefix}.png`, svg: `${prefix}.svg` } };
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-awards-'));
    server = await startDemo(dir);
    base = server.base;
    const { port } = new URL(base);

    const issuer = await logIn(DEMO.issuer);
    const assessor = await logIn(DEMO.assessor);
    const learner = await logIn(DEMO.learner);

    // Published demo micro-badges with a rubric, free ones first.
    const catalog = await expectOk('catalog', await api('GET', '/api/v1/achievements?kind=micro-badge&limit=100'), 200);
    const badges = catalog.items
      .filter((a) => a.kind === 'micro-badge' && a.state === 'published' && a.rubric?.criteria?.length)
      .sort((a, b) => Number(Boolean(b.fee?.free)) - Number(Boolean(a.fee?.free)));
    assert.ok(badges.length >= 1, `no published demo micro-badge with a rubric: ${catalog.text}`);
    const first = badges[0];
    const second = badges.find((b) => b.id !== first.id && b.issuer.id === first.issuer.id) ?? first;

    // The demo assessor in both pools (already there is fine).
    const org = first.issuer.id;
    const members = await expectOk('members', await api('GET', `/api/v1/organisations/${org}/members`, { token: issuer }), 200);
    const assessorMember = members.items.find((m) => m.email === DEMO.assessor[0]);
    assert.ok(assessorMember, `the demo assessor is not a member of ${org}: ${JSON.stringify(members)}`);
    for (const badge of new Set([first, second])) {
      const added = await api('POST', `/api/v1/achievements/${badge.id}/assessors`, { token: issuer, body: { user_id: assessorMember.user_id } });
      assert.ok([204, 409].includes(added.status), `add the assessor to ${badge.name}: HTTP ${added.status} ${added.text}`);
      const pool = await expectOk('pool', await api('GET', `/api/v1/achievements/${badge.id}/assessors`, { token: issuer }), 200);
      assert.ok(pool.items.some((p) => p.user_id === assessorMember.user_id), `the demo assessor is not in the pool of ${badge.name}: ${JSON.stringify(pool)}`);
    }

    // The active award: the demo learner.
    const activeId = await earn({ learner, assessor, issuer, badge: first, overview: 'I planned and ran two meetings with an agenda, roles and ground rules shared in advance.' });
    active = await fetchAward(activeId, 'active', learner);
    active.badge = first;

    // The revoked award: a fresh learner on a second badge (the same one when there is only one).
    const email = `revoked.${port}@example.org`;
    await expectOk('sign up', await api('POST', '/api/v1/users', { body: { name: 'Rowan Vale', email, password: 'a long enough password' } }), 202);
    const fresh = await logIn([email, 'a long enough password']);
    const revokedId = await earn({ learner: fresh, assessor, issuer, badge: second, overview: 'I wrote reference pages for every endpoint of a small service, each with an example request.' });
    const status = await expectOk('revoke', await api('POST', `/api/v1/awards/${revokedId}/status`, { token: issuer, body: { action: 'revoke', reason: REVOCATION_REASON, publish_reason: true } }), 200);
    assert.equal(status.status, 'revoked', JSON.stringify(status));
    revoked = await fetchAward(revokedId, 'revoked', fresh);
    assert.equal(revoked.award.status, 'revoked');

    // The issuer's did:web document and the revocation list, as served (for the offline runs).
    did = typeof active.credential.issuer === 'object' ? active.credential.issuer.id : active.credential.issuer;
    assert.equal(did, `did:web:127.0.0.1%3A${port}:issuers:${org}`);
    await download(`${base}/issuers/${org}/did.json`, 'did.json');
    assert.equal(readJson('did.json').id, did);
    const lists = [].concat(active.credential.credentialStatus);
    assert.deepEqual(lists.map((e) => e.statusPurpose), ['revocation', 'suspension'], JSON.stringify(lists));
    await download(lists[0].statusListCredential, 'status-list.json');
    await download(lists[1].statusListCredential, 'suspension-list.json');
  }, { timeout: 300_000 });

  after(async () => {
    if (server) await server.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, { timeout: 30_000 });

  it('the Data Integrity credential passes DCC (strict, status checked) and openbadgeslib', { timeout: 300_000 }, async () => {
    const file = active.files.json;
    const proofs = [].concat(active.credential.proof ?? []);
    assert.deepEqual(proofs.map((p) => [p.type, p.cryptosuite, p.verificationMethod]), [['DataIntegrityProof', 'eddsa-rdfc-2022', `${did}#key-1`]]);
    assert.ok(active.credential.credentialStatus, 'the award names its status list');
    assert.equal(Boolean(active.credential.validUntil), Boolean(active.badge.validity_months), `validUntil ${active.credential.validUntil} for validity_months ${active.badge.validity_months}`);

    // DCC, resolving the did:web and the status list from the running server.
    const dcc = await peer('verify-ob3-di.mjs', file, '--strict');
    assert.equal(dcc.json.valid, true, JSON.stringify(dcc.json));
    assert.equal(dcc.json.status?.verified, true, JSON.stringify(dcc.json.status));
    assert.deepEqual(dcc.json.status.entries.map((e) => [e.statusPurpose, e.ok]), [['revocation', true], ['suspension', true]], JSON.stringify(dcc.json.status));
    assert.ok(dcc.json.events.some((e) => e.event === 'did:web fetch' && e.did === did), JSON.stringify(dcc.json.events));
    // The upstream Digital Bazaar cryptosuite agrees.
    const db = await peer('verify-ob3-di.mjs', file, '--strict', '--cryptosuite-impl', 'db');
    assert.equal(db.json.valid, true, JSON.stringify(db.json));
    // Offline, from the DID document and status list as served: the same verdict.
    const [revocationList, suspensionList] = active.credential.credentialStatus.map((e) => e.statusListCredential);
    const offline = await peer('verify-ob3-di.mjs', file, '--strict', '--no-loopback', '--did-doc', `${did}=did.json`,
      '--status-list', `${revocationList}=status-list.json`, '--status-list', `${suspensionList}=suspension-list.json`);
    assert.equal(offline.json.valid, true, JSON.stringify(offline.json));

    // openbadgeslib (PyLD RDFC-1.0), and its status check (it cannot verify a DI-signed list's proof).
    const py = await peer('verify-ob3-di-py.py', file);
    assert.equal(py.json.valid, true, JSON.stringify(py.json));
    assert.equal(py.json.issuer, did);
    const pyStatus = await peer('verify-ob3-di-py.py', file, '--check-status', '--no-verify-status-list');
    assert.equal(pyStatus.json.valid, true, JSON.stringify(pyStatus.json));
  });

  it('the VC-JWT passes PyJWT, jwcrypto and openbadgeslib with the key from the issuer\'s DID document', { timeout: 120_000 }, async () => {
    const file = active.files.jwt;
    const result = await peer('verify-ob3-jwt.py', file, '--strict', '--check-status');
    assert.equal(result.json.valid, true, JSON.stringify(result.json));
    assert.equal(result.json.peers.pyjwt?.signature_valid, true, JSON.stringify(result.json.peers));
    assert.equal(result.json.peers.jwcrypto?.signature_valid, true, JSON.stringify(result.json.peers));
    assert.equal(result.json.peers.openbadgeslib?.verdict, 'valid', JSON.stringify(result.json.peers));
    assert.match(result.json.key_source, new RegExp(`^issuer DID ${did.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
    assert.deepEqual(result.json.status?.map((s) => s.set), [false, false], JSON.stringify(result.json.status));
    // The same with the DID document as served, offline.
    const offline = await peer('verify-ob3-jwt.py', file, '--strict', '--did-doc', `${did}=did.json`);
    assert.equal(offline.json.valid, true, JSON.stringify(offline.json));

    // It states the same credential as the Data Integrity form.
    const payload = b64urlJson(active.jwt.split('.')[1]);
    const stated = Object.fromEntries(Object.entries(payload).filter(([k]) => !JWT_CLAIMS.includes(k)));
    assert.deepEqual(stated, withoutProof(active.credential));
  });

  it('the baked PNG and SVG are read by openbadges-bakery and openbadgeslib, and carry the same credential', { timeout: 120_000 }, async () => {
    for (const image of [active.files.png, active.files.svg]) {
      const read = await peer('unbake.py', image);
      assert.equal(read.json.found, true, `${image}: ${JSON.stringify(read.json)}`);
      assert.equal(read.json.ob_version, '3.0', `${image}: ${JSON.stringify(read.json)}`);
      // openbadges-bakery reads only the OB 2.0 carriers (in an OB 3.0 SVG it fails looking for
      // <openbadges:assertion>, an IndexError the wrapper reports as a warning), so it finds no
      // OB 2.0 payload, and openbadgeslib reads the OB 3.0 one.
      assert.match(read.json.tool, /^openbadgeslib/, `${image}: ${JSON.stringify(read.json)}`);
      assert.equal(read.json.own_reader_agrees, true, `${image}: ${JSON.stringify(read.json)}`);
      assert.equal(read.json.own_reader.length, 1, `${image}: one payload, ${JSON.stringify(read.json.own_reader)}`);
      assert.deepEqual(JSON.parse(read.json.payload), active.credential, `${image} carries another credential`);
    }
  });

  it('the hosted OB 2.0 assertion validates in the 1EdTech validator', { timeout: 180_000 }, async () => {
    const url = active.award.links.ob2;
    const result = await peer('validate-ob2.py', url);
    assert.equal(result.json.valid, true, JSON.stringify(result.json));
    assert.equal(result.json.errorCount, 0, JSON.stringify(result.json.errors));
    const types = result.json.graph_types.flat();
    for (const type of ['Assertion', 'BadgeClass', 'Issuer']) assert.ok(types.includes(type), `${type} missing from ${JSON.stringify(types)}`);
    assert.equal(result.status, 0);
  });

  it('the revoked award: DCC reports it revoked and its OB 2.0 assertion answers 410', { timeout: 300_000 }, async () => {
    const file = revoked.files.json;
    const dcc = await peer('verify-ob3-di.mjs', file, '--strict');
    assert.equal(dcc.json.valid, false, JSON.stringify(dcc.json));
    assert.ok(dcc.json.errors.some((e) => /revocation bit is set .*\(revoked\)/.test(e)), JSON.stringify(dcc.json.errors));
    assert.deepEqual(dcc.json.status?.entries?.map((e) => [e.statusPurpose, e.ok]), [['revocation', false], ['suspension', true]], JSON.stringify(dcc.json.status));
    // Its proof holds: only the status makes it invalid.
    const proofOnly = await peer('verify-ob3-di.mjs', file, '--strict', '--skip-status');
    assert.equal(proofOnly.json.valid, true, JSON.stringify(proofOnly.json));
    // The VC-JWT peers' status check agrees.
    const jwt = await peer('verify-ob3-jwt.py', revoked.files.jwt, '--check-status');
    assert.equal(jwt.json.valid, false, JSON.stringify(jwt.json));
    assert.ok(jwt.json.errors.some((e) => /^status: revocation bit set at index \d+ \(revoked\)$/.test(e)), JSON.stringify(jwt.json.errors));

    const ob2 = await api('GET', new URL(revoked.award.links.ob2).pathname);
    assert.equal(ob2.status, 410, ob2.text);
    assert.equal(ob2.json.revoked, true, ob2.text);
    assert.match(ob2.json.revocationReason, new RegExp(REVOCATION_REASON), ob2.text);
    const validator = await peer('validate-ob2.py', revoked.award.links.ob2);
    assert.equal(validator.json.valid, false, JSON.stringify(validator.json));
    assert.ok(validator.json.errors.some((e) => /^harness: Assertion .* has revoked: true \(reason: revoked: awarded in error\)/.test(e)), JSON.stringify(validator.json.errors));
    // The active award's assertion is still there.
    assert.equal((await api('GET', new URL(active.award.links.ob2).pathname)).status, 200);
  });

  it('cairn verify --json: the active award is valid in every form, the revoked one is revoked', { timeout: 180_000 }, async () => {
    for (const [form, file] of Object.entries(active.files)) {
      const own = await cairnVerify(file);
      assert.equal(own.status, 0, `${form}: ${explain(own)}`);
      assert.equal(own.report.verdict, 'valid', `${form}: ${explain(own)}`);
      assert.ok(own.report.checks.some((c) => c.id === 'status' && c.ok === true), `${form}: ${JSON.stringify(own.report.checks)}`);
    }
    const hosted = await cairnVerify(active.award.links.ob2);
    assert.equal(hosted.status, 0, `ob2: ${explain(hosted)}`);
    assert.equal(hosted.report.format, 'ob2-hosted');

    for (const [form, file] of Object.entries(revoked.files)) {
      const own = await cairnVerify(file);
      assert.equal(own.status, 1, `${form}: ${explain(own)}`);
      assert.equal(own.report.verdict, 'invalid', `${form}: ${explain(own)}`);
      assert.match(failing(own.report), /status: revoked/, form);
      const proof = form === 'jwt' ? 'jwt.signature' : 'proof';
      assert.ok(own.report.checks.some((c) => c.id === proof && c.ok === true), `${form}: the proof holds: ${JSON.stringify(own.report.checks)}`);
    }
    // The hosted OB 2.0 assertion as downloaded (410 Gone, "revoked": true): cairn verify re-fetches it.
    const hostedGone = await fetch(revoked.award.links.ob2);
    assert.equal(hostedGone.status, 410);
    fs.writeFileSync(path.join(dir, 'revoked.ob2.json'), Buffer.from(await hostedGone.arrayBuffer()));
    const gone = await cairnVerify('revoked.ob2.json');
    assert.equal(gone.status, 1, `ob2: ${explain(gone)}`);
    assert.equal(gone.report.verdict, 'invalid');
    assert.match(failing(gone.report), /^status: revoked: .*HTTP 410 Gone/);
  });

  // The demo certificate: a fresh learner earns the demo micro-credential's three levels (in order)
  // and the secure coding micro-badge through the journey; the micro-credential is stacked and
  // completes the certificate, awarded through the outbox. Its credential states its credit hours
  // (creditsAvailable, creditsEarned), names the awards that earned it as evidence, and passes DCC.
  it('a certificate awarded through the outbox, with its credit hours, passes DCC and openbadgeslib', { timeout: 300_000 }, async () => {
    const issuer = await logIn(DEMO.issuer);
    const assessor = await logIn(DEMO.assessor);
    const email = `certified.${Date.now()}@example.org`;
    await expectOk('sign up', await api('POST', '/api/v1/users', { body: { name: 'Cass Certified', email, password: 'a long enough password' } }), 202);
    const learner = await logIn([email, 'a long enough password']);
    const listed = await expectOk('certificates', await api('GET', '/api/v1/achievements?kind=certificate'), 200);
    const certificate = listed.items[0];
    assert.ok(certificate, `the demo has a certificate: ${listed.text}`);
    assert.equal(certificate.requirements.rule, 'all');
    for (const component of certificate.requirements.components) {
      const achievement = await expectOk('component', await api('GET', `/api/v1/achievements/${component.id}`), 200);
      const parts = achievement.kind === 'micro-credential' ? achievement.levels : [achievement.id];
      for (const id of parts) {
        await earn({ learner, assessor, issuer, badge: { id }, overview: 'I did the work the criteria ask for and wrote up what I found.' });
      }
    }
    const mine = await expectOk('my awards', await api('GET', '/api/v1/awards', { token: learner }), 200);
    const award = (mine.items ?? mine).find((a) => a.achievement_id === certificate.id || a.achievement?.id === certificate.id);
    assert.ok(award, `the certificate was awarded: ${JSON.stringify(mine)}`);
    const fetched = await fetchAward(award.id, 'certificate', learner);
    const subject = fetched.credential.credentialSubject;
    assert.equal(subject.achievement.achievementType, 'Certificate');
    assert.equal(subject.achievement.creditsAvailable, certificate.credits_available);
    assert.equal(subject.creditsEarned, certificate.credits_available);
    assert.equal(fetched.credential.evidence.length, certificate.requirements.components.length, JSON.stringify(fetched.credential.evidence));
    for (const item of fetched.credential.evidence) assert.match(item.id, new RegExp(`^${base}/awards/`));

    const dcc = await peer('verify-ob3-di.mjs', fetched.files.json, '--strict');
    assert.equal(dcc.json.valid, true, JSON.stringify(dcc.json));
    const py = await peer('verify-ob3-di-py.py', fetched.files.json);
    assert.equal(py.json.valid, true, JSON.stringify(py.json));
    const own = await cairnVerify(fetched.files.json);
    assert.equal(own.status, 0, explain(own));
  });

  // A revoked hosted assertion answers 410 Gone; given only its URL, the verdict is still revoked.
  it('cairn verify <revoked hosted assertion URL> reports it revoked', {
    timeout: 60_000,
  }, async () => {
    const gone = await cairnVerify(revoked.award.links.ob2);
    assert.equal(gone.status, 1, `ob2: ${explain(gone)}`);
    assert.match(failing(gone.report), /status: revoked/);
  });

  it('the learner\'s transcript (CLR 2.0, signed by the platform) passes DCC with the CLR context, each nested credential too, and cairn verify', { timeout: 300_000 }, async () => {
    const learner = await logIn(DEMO.learner);
    for (const [format, name] of [['json', 'transcript.json'], ['jwt', 'transcript.jwt']]) {
      const response = await fetch(`${base}/api/v1/me/transcript?format=${format}`, { headers: { authorization: `Bearer ${learner}` }, signal: AbortSignal.timeout(60_000) });
      const body = Buffer.from(await response.arrayBuffer());
      assert.equal(response.status, 200, body.toString('utf8', 0, 300));
      fs.writeFileSync(path.join(dir, name), body);
    }
    const clr = readJson('transcript.json');
    assert.deepEqual(clr.type, ['VerifiableCredential', 'ClrCredential']);
    const platform = `did:web:127.0.0.1%3A${new URL(base).port}:platform`;
    assert.equal(clr.issuer.id, platform);
    const nested = clr.credentialSubject.verifiableCredential;
    assert.ok(nested.some((c) => c.id === active.credential.id), JSON.stringify(nested.map((c) => c.id)));
    assert.ok(!nested.some((c) => c.id === revoked.credential.id), 'another learner\'s award is not in it');

    // DCC bundles no CLR context: it gets the bytes Cairn pins. The platform's did:web resolves from the server.
    const clrContext = clr['@context'].find((c) => c.includes('/clr/'));
    const contextFile = path.join(root, 'crates/cairn-vc/contexts', clrContext.replace(/^https:\/\//, ''));
    const dcc = await peer('verify-ob3-di.mjs', 'transcript.json', '--status-list', `${clrContext}=${contextFile}`);
    assert.equal(dcc.json.valid, true, JSON.stringify(dcc.json));
    assert.ok(dcc.json.events.some((e) => e.event === 'did:web fetch' && e.did === platform), JSON.stringify(dcc.json.events));
    const tampered = structuredClone(clr);
    tampered.name = 'Someone else\'s transcript';
    fs.writeFileSync(path.join(dir, 'transcript-tampered.json'), JSON.stringify(tampered));
    const refused = await peer('verify-ob3-di.mjs', 'transcript-tampered.json', '--status-list', `${clrContext}=${contextFile}`);
    assert.equal(refused.json.valid, false, JSON.stringify(refused.json));
    for (const [i, credential] of nested.entries()) {
      const file = `transcript-nested-${i}.json`;
      fs.writeFileSync(path.join(dir, file), JSON.stringify(credential));
      const one = await peer('verify-ob3-di.mjs', file, '--strict');
      assert.equal(one.json.valid, true, `${credential.id}: ${JSON.stringify(one.json)}`);
      assert.equal(one.json.status?.verified, true, JSON.stringify(one.json.status));
    }

    for (const file of ['transcript.json', 'transcript.jwt']) {
      const own = await cairnVerify(file);
      assert.equal(own.status, 0, `${file}: ${explain(own)}`);
      assert.equal(own.report.verdict, 'valid', `${file}: ${explain(own)}`);
      assert.ok(own.report.checks.some((c) => c.id === 'credential[0].proof' && c.ok === true), JSON.stringify(own.report.checks));
      assert.ok(own.report.checks.some((c) => c.id === 'credential[0].status' && c.ok === true), JSON.stringify(own.report.checks));
    }
    // The VC-JWT peers check the transcript's signature with the platform's key.
    const jwt = await peer('verify-ob3-jwt.py', 'transcript.jwt');
    assert.equal(jwt.json.peers?.pyjwt?.signature_valid, true, JSON.stringify(jwt.json));
    assert.equal(jwt.json.peers?.jwcrypto?.signature_valid, true, JSON.stringify(jwt.json));
  });

  // Last, since it changes the active award's status and restores it.
  it('a suspended award fails in DCC, openbadgeslib, the VC-JWT peers, cairn verify and on its page; reinstated, it passes again', { timeout: 600_000 }, async () => {
    const issuer = await logIn(DEMO.issuer);
    const setStatus = async (action) => {
      const changed = await expectOk(action, await api('POST', `/api/v1/awards/${active.id}/status`, { token: issuer, body: { action } }), 200);
      return changed.status;
    };
    const pageVerdict = async () => {
      const page = await fetch(`${base}/awards/${active.id}`, { headers: { accept: 'text/html' }, signal: AbortSignal.timeout(30_000) });
      const html = await page.text();
      assert.equal(page.status, 200, html.slice(0, 300));
      const badge = /<span class="pill [^"]*">(Active|Suspended|Revoked)<\/span>/.exec(html)?.[1];
      const verdict = /<h2 id="verification-title">([^<]*)<\/h2>/.exec(html)?.[1];
      return [badge, verdict];
    };

    assert.equal(await setStatus('suspend'), 'suspended');
    const dcc = await peer('verify-ob3-di.mjs', active.files.json, '--strict');
    assert.equal(dcc.json.valid, false, JSON.stringify(dcc.json));
    assert.deepEqual(dcc.json.status?.entries?.map((e) => [e.statusPurpose, e.ok]), [['revocation', true], ['suspension', false]], JSON.stringify(dcc.json.status));
    assert.ok(dcc.json.errors.some((e) => /suspension bit is set/.test(e)), JSON.stringify(dcc.json.errors));
    const py = await peer('verify-ob3-di-py.py', active.files.json, '--check-status', '--no-verify-status-list');
    assert.equal(py.json.valid, false, JSON.stringify(py.json));
    const jwt = await peer('verify-ob3-jwt.py', active.files.jwt, '--check-status');
    assert.equal(jwt.json.valid, false, JSON.stringify(jwt.json));
    assert.ok(jwt.json.errors.some((e) => /suspension bit set/.test(e)), JSON.stringify(jwt.json.errors));
    for (const [form, file] of Object.entries(active.files)) {
      const own = await cairnVerify(file);
      assert.equal(own.status, 1, `${form}: ${explain(own)}`);
      assert.equal(own.report.verdict, 'invalid', `${form}: ${explain(own)}`);
      assert.match(failing(own.report), /status: suspended/, form);
    }
    assert.deepEqual(await pageVerdict(), ['Suspended', 'Not valid: suspended']);

    assert.equal(await setStatus('reinstate'), 'active');
    const again = await peer('verify-ob3-di.mjs', active.files.json, '--strict');
    assert.equal(again.json.valid, true, JSON.stringify(again.json));
    const pyAgain = await peer('verify-ob3-di-py.py', active.files.json, '--check-status', '--no-verify-status-list');
    assert.equal(pyAgain.json.valid, true, JSON.stringify(pyAgain.json));
    const jwtAgain = await peer('verify-ob3-jwt.py', active.files.jwt, '--check-status');
    assert.equal(jwtAgain.json.valid, true, JSON.stringify(jwtAgain.json));
    for (const [form, file] of Object.entries(active.files)) {
      const own = await cairnVerify(file);
      assert.equal(own.report?.verdict, 'valid', `${form}: ${explain(own)}`);
    }
    assert.deepEqual(await pageVerdict(), ['Active', 'Verified']);

    // The revoked award fails for good: the issuer cannot reinstate it, and the peers still fail it.
    const refused = await api('POST', `/api/v1/awards/${revoked.id}/status`, { token: issuer, body: { action: 'reinstate' } });
    assert.equal(refused.status, 409, refused.text);
    const stillRevoked = await peer('verify-ob3-di.mjs', revoked.files.json, '--strict');
    assert.equal(stillRevoked.json.valid, false, JSON.stringify(stillRevoked.json));
    assert.equal((await cairnVerify(revoked.files.json)).report.verdict, 'invalid');
  });
});
