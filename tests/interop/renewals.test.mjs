// Interop of a RENEWED award: a running `cairn serve --demo` has an issuer publish a micro-badge
// valid for two months (so its awards may be renewed at once: within 90 days of their end) with a
// lighter renewal path, a learner earn it through the assessment journey over the JSON API, then
// renew it through the same journey, judged against the renewal rubric. The renewed credential,
// in both forms, must pass the independent verifiers in tests/interop/peers (the DCC verifier with
// the status lists checked, and the VC-JWT peers with the key from the issuer's did:web), and name
// the previous award's page as its evidence; the previous credential keeps verifying.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { peer as peerIn, startDemo } from './lib/cairn.mjs';

// The smallest PDF with one page.
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const DEMO = {
  issuer: ['issuer@demo.cairn.test', 'cairn-demo-issuer'],
  assessor: ['assessor@demo.cairn.test', 'cairn-demo-assessor'],
  learner: ['learner@demo.cairn.test', 'cairn-demo-learner'],
};

let dir;
const peer = (script, ...args) => peerIn(dir, script, ...args);

// Every child runs without blocking the event loop and in the temp dir; peers print one JSON line.


describe('a renewed award passes the peers and names the award it renews', () => {
  let server;
  let base;
  let previous;
  let renewed;

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
    return { status: response.status, json, text };
  }
  function expectOk(what, response, ...statuses) {
    assert.ok(statuses.includes(response.status), `${what}: HTTP ${response.status} ${response.text}`);
    return response.json;
  }
  async function logIn([email, password]) {
    return (await expectOk(`log in ${email}`, await api('POST', '/api/v1/session', { body: { email, password } }), 201, 200)).token;
  }
  async function download(url, name, token) {
    assert.ok(url.startsWith(`${base}/`), `${url} is not on the running server ${base}`);
    const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(30_000) });
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(response.status, 200, `GET ${url}: ${bytes.toString('utf8', 0, 300)}`);
    fs.writeFileSync(path.join(dir, name), bytes);
    return bytes;
  }

  // Evidence → submit → the assessor scores every criterion at its highest level → pass; returns
  // the award the submission earned, made public (the peers fetch as anyone would).
  async function pass(id, { learner, assessor }) {
    const form = new FormData();
    form.append('file', new Blob([PDF], { type: 'application/pdf' }), 'report.pdf');
    form.append('title', 'Report');
    await expectOk('upload evidence', await api('POST', `/api/v1/submissions/${id}/artifacts`, { token: learner, form }), 201);
    await expectOk('submit', await api('POST', `/api/v1/submissions/${id}/submit`, { token: learner, body: {} }), 200);
    const item = await expectOk('open the assessment', await api('GET', `/api/v1/assessments/${id}`, { token: assessor }), 200);
    const { levels, criteria } = item.rubric;
    const scores = criteria.map((c) => ({ criterion: c.id, level: levels[levels.length - 1], comment: `${c.name}: well shown.` }));
    const judged = await expectOk('assess', await api('POST', `/api/v1/assessments/${id}`, { token: assessor, body: { scores, feedback: 'Well done.' } }), 200);
    assert.equal(judged.outcome, 'pass', JSON.stringify(judged));
    const view = await expectOk('the learner reads the submission', await api('GET', `/api/v1/submissions/${id}`, { token: learner }), 200);
    assert.equal(view.status, 'awarded', JSON.stringify(view));
    await expectOk('make the award public', await api('PUT', `/api/v1/awards/${view.award_id}/privacy`, { token: learner, body: { privacy: 'public' } }), 200);
    return { id: view.award_id, rubric: item.rubric, renewal: item.renewal };
  }

  async function fetchAward(awardId, prefix, token) {
    const award = await expectOk(`award ${awardId}`, await api('GET', `/api/v1/awards/${awardId}`, { token }), 200);
    await download(award.links.credential, `${prefix}.json`, token);
    await download(award.links.jwt, `${prefix}.jwt`, token);
    return { id: awardId, award, credential: JSON.parse(fs.readFileSync(path.join(dir, `${prefix}.json`), 'utf8')), files: { json: `${prefix}.json`, jwt: `${prefix}.jwt` } };
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-renewals-'));
    server = await startDemo(dir);
    base = server.base;

    const issuer = await logIn(DEMO.issuer);
    const assessor = await logIn(DEMO.assessor);
    const learner = await logIn(DEMO.learner);

    // A free micro-badge valid for two months, renewed by lighter evidence and a renewal rubric.
    const me = await expectOk('me', await api('GET', '/api/v1/me', { token: issuer }), 200);
    const org = me.memberships?.[0]?.organisation_id;
    assert.ok(org, `the demo issuer has no organisation: ${JSON.stringify(me)}`);
    const badge = await expectOk('create the badge', await api('POST', `/api/v1/organisations/${org}/achievements`, {
      token: issuer,
      body: {
        kind: 'micro-badge',
        name: 'Incident Response Drill',
        description: 'Run an incident response drill and write up what was learnt.',
        criteria: 'Run a drill with at least three people and submit the timeline and the write-up.',
        rubric: {
          levels: ['Developing', 'Proficient', 'Exemplary'],
          criteria: [{ name: 'Timeline', required_level: 'Proficient', descriptors: ['Gaps', 'Complete', 'Complete and annotated'] }],
        },
        validity_months: 2,
        renewal: {
          path: 'light',
          rubric: { levels: ['Not yet', 'Current'], criteria: [{ name: 'Recent drill', required_level: 'Current', descriptors: ['None in the last year', 'One in the last year'] }] },
          instructions: 'Send the timeline of a drill you ran in the last year.',
        },
      },
    }), 201);
    assert.equal(badge.renewal.path, 'light', JSON.stringify(badge.renewal));
    await expectOk('publish', await api('POST', `/api/v1/achievements/${badge.id}/publish`, { token: issuer, body: {} }), 200);
    const members = await expectOk('members', await api('GET', `/api/v1/organisations/${org}/members`, { token: issuer }), 200);
    const assessorMember = members.items.find((m) => m.email === DEMO.assessor[0]);
    assert.ok(assessorMember, JSON.stringify(members));
    const added = await api('POST', `/api/v1/achievements/${badge.id}/assessors`, { token: issuer, body: { user_id: assessorMember.user_id } });
    assert.ok([204, 409].includes(added.status), `add the assessor: HTTP ${added.status} ${added.text}`);

    // The first award.
    const applied = await expectOk('apply', await api('POST', `/api/v1/achievements/${badge.id}/submissions`, {
      token: learner, body: { overview: 'I ran a drill with four people.', reflection: 'Writing the timeline as we went helped most.' },
    }), 201);
    const first = await pass(applied.id, { learner, assessor });
    assert.equal(first.renewal, false);

    // Its renewal, judged against the renewal rubric.
    const renewal = await expectOk('renew', await api('POST', `/api/v1/awards/${first.id}/renewal`, { token: learner }), 201);
    assert.equal(renewal.renewal_of, first.id, JSON.stringify(renewal));
    assert.equal(renewal.fee, 'none', JSON.stringify(renewal));
    const again = await api('POST', `/api/v1/awards/${first.id}/renewal`, { token: learner });
    assert.equal(again.status, 409, again.text);
    assert.match(again.json.type, /\/problems\/not-renewable$/);
    await expectOk('describe the renewal', await api('PUT', `/api/v1/submissions/${renewal.id}`, {
      token: learner, body: { overview: 'The timeline of a drill I ran in May.', reflection: 'We were faster this time.' },
    }), 200);
    const second = await pass(renewal.id, { learner, assessor });
    assert.equal(second.renewal, true);
    assert.deepEqual(second.rubric.criteria.map((c) => c.id), ['recent-drill']);

    previous = await fetchAward(first.id, 'previous', learner);
    renewed = await fetchAward(second.id, 'renewed', learner);
  }, { timeout: 300_000 });

  after(async () => {
    if (server) await server.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, { timeout: 30_000 });

  it('the awards link each other, and the renewed credential names the previous award as evidence', () => {
    assert.equal(previous.award.renewed_by?.id, renewed.id, JSON.stringify(previous.award));
    assert.equal(renewed.award.renews?.id, previous.id, JSON.stringify(renewed.award));
    const evidence = [].concat(renewed.credential.evidence ?? []);
    const link = evidence.find((e) => e.name === 'Previous award, renewed');
    assert.ok(link, JSON.stringify(evidence));
    assert.equal(link.id, previous.award.links.page);
    assert.match(link.narrative, /renews the award of "Incident Response Drill" issued to the same holder on /);
    assert.ok(Date.parse(renewed.credential.validFrom) >= Date.parse(previous.credential.validFrom));
    // Validity counts from the renewal (both were issued within seconds here).
    assert.ok(Date.parse(renewed.credential.validUntil) >= Date.parse(previous.credential.validUntil), 'validity counts from the renewal');
    assert.notEqual(renewed.credential.id, previous.credential.id);
  });

  it('the renewed Data Integrity credential passes DCC (strict, status checked) and openbadgeslib', { timeout: 300_000 }, async () => {
    const dcc = await peer('verify-ob3-di.mjs', renewed.files.json, '--strict');
    assert.equal(dcc.json.valid, true, JSON.stringify(dcc.json));
    assert.equal(dcc.json.status?.verified, true, JSON.stringify(dcc.json.status));
    const py = await peer('verify-ob3-di-py.py', renewed.files.json);
    assert.equal(py.json.valid, true, JSON.stringify(py.json));
  });

  it('the renewed VC-JWT passes PyJWT, jwcrypto and openbadgeslib', { timeout: 120_000 }, async () => {
    const result = await peer('verify-ob3-jwt.py', renewed.files.jwt, '--strict', '--check-status');
    assert.equal(result.json.valid, true, JSON.stringify(result.json));
    assert.equal(result.json.peers.openbadgeslib?.verdict, 'valid', JSON.stringify(result.json.peers));
  });

  it('the previous credential, renewed, still verifies in DCC', { timeout: 300_000 }, async () => {
    const dcc = await peer('verify-ob3-di.mjs', previous.files.json, '--strict');
    assert.equal(dcc.json.valid, true, JSON.stringify(dcc.json));
  });
});
