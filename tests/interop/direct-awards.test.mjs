// Interop of a DIRECT award: on a running `cairn serve --demo`, the issuer publishes a micro-badge
// with a rubric and awards it over the JSON API to an address nobody uses yet, with a narrative,
// an evidence link and the rubric levels of an assessment done elsewhere (with an Idempotency-Key,
// sent twice). The claim link is read from the mail outbox (as the operator reads it), and the
// recipient claims the award by creating an account on the claim page. The credential issued
// then, in both forms, must pass the independent verifiers in tests/interop/peers (the DCC
// verifier with the status lists checked, openbadgeslib, and the VC-JWT peers with the key from
// the issuer's did:web) and state the narrative, the evidence and each level reached.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { peer as peerIn, startDemo } from './lib/cairn.mjs';

const ISSUER = ['issuer@demo.cairn.test', 'cairn-demo-issuer'];
const RECIPIENT = { email: 'grace.hopper@example.org', name: 'Grace Hopper', password: 'a long enough password' };
// Double-submit CSRF: a form's field must equal the cookie, which any client may choose.
const CSRF = 'interop-direct-award-csrf-token';

let dir;
const peer = (script, ...args) => peerIn(dir, script, ...args);



const unescapeHtml = (text) => text.replace(/&#x2F;/g, '/').replace(/&#47;/g, '/').replace(/&amp;/g, '&');

describe('a directly awarded, claimed credential passes the peers and states its results', () => {
  let server;
  let base;
  let rubric;
  let offer;
  let award;
  let credential;
  const files = { json: 'direct.json', jwt: 'direct.jwt' };

  async function api(method, urlPath, { token, body, headers: extra = {} } = {}) {
    const headers = { ...extra };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(base + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, json, text, headers: response.headers };
  }
  function expectOk(what, response, ...statuses) {
    assert.ok(statuses.includes(response.status), `${what}: HTTP ${response.status} ${response.text}`);
    return response.json;
  }
  // A page request with the CSRF cookie (and a session cookie, once signed in).
  async function page(method, urlPath, { session, form } = {}) {
    const cookies = [`cairn_csrf=${CSRF}`];
    if (session) cookies.push(session);
    const headers = { cookie: cookies.join('; ') };
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({ csrf: CSRF, ...form }).toString();
    }
    const response = await fetch(base + urlPath, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    return { status: response.status, text: await response.text(), location: response.headers.get('location'), cookies: response.headers.getSetCookie() };
  }
  const sessionOf = (response) => response.cookies.map((c) => c.split(';')[0]).find((c) => c.startsWith('cairn_session='));
  async function download(url, name, token) {
    assert.ok(url.startsWith(`${base}/`), `${url} is not on the running server ${base}`);
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(response.status, 200, `GET ${url}: ${bytes.toString('utf8', 0, 300)}`);
    fs.writeFileSync(path.join(dir, name), bytes);
    return bytes;
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-direct-'));
    server = await startDemo(dir);
    base = server.base;

    const issuer = (await expectOk('log in', await api('POST', '/api/v1/session', { body: { email: ISSUER[0], password: ISSUER[1] } }), 201, 200)).token;
    const me = await expectOk('me', await api('GET', '/api/v1/me', { token: issuer }), 200);
    const org = me.memberships?.[0]?.organisation_id;
    assert.ok(org, `the demo issuer has no organisation: ${JSON.stringify(me)}`);
    const badge = await expectOk('create the badge', await api('POST', `/api/v1/organisations/${org}/achievements`, {
      token: issuer,
      body: {
        kind: 'micro-badge',
        name: 'First Aid at Work',
        description: 'Give first aid at work, assessed at a practical workshop.',
        criteria: 'Pass the workshop practical: casualty assessment and CPR.',
        rubric: {
          levels: ['Not yet', 'Competent', 'Excellent'],
          criteria: [
            { name: 'Casualty assessment', required_level: 'Competent', descriptors: ['Steps missed', 'All steps, in order', 'All steps, explained'] },
            { name: 'CPR', required_level: 'Competent', descriptors: ['Rate or depth off', 'Rate and depth right', 'Sustained and coached'] },
          ],
        },
      },
    }), 201);
    await expectOk('publish', await api('POST', `/api/v1/achievements/${badge.id}/publish`, { token: issuer, body: {} }), 200);
    rubric = badge.rubric;

    // Awarded directly, with results by name and by number; sent twice with one key.
    const request = {
      achievement_id: badge.id,
      recipient: { email: RECIPIENT.email, name: RECIPIENT.name },
      narrative: 'Assessed at the practical workshop of 3 December by a certified trainer.',
      evidence: [{ url: 'https://example.org/workshops/first-aid-2026', name: 'Workshop register' }],
      results: [{ criterion: 'Casualty assessment', level: 'Excellent' }, { criterion: 'cpr', level: 2 }],
    };
    const headers = { 'idempotency-key': 'workshop-2026-12-03/grace' };
    offer = await expectOk('award directly', await api('POST', `/api/v1/organisations/${org}/awards`, { token: issuer, body: request, headers }), 201);
    const again = await api('POST', `/api/v1/organisations/${org}/awards`, { token: issuer, body: request, headers });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.json.id, offer.id);

    // The claim link, as mailed: the operator reads the outbox.
    const signedIn = await page('POST', '/login', { form: { email: ISSUER[0], password: ISSUER[1] } });
    assert.equal(signedIn.status, 303, signedIn.text.slice(0, 500));
    const outbox = await page('GET', '/admin/outbox', { session: sessionOf(signedIn) });
    assert.equal(outbox.status, 200, outbox.text.slice(0, 500));
    const links = [...unescapeHtml(outbox.text).matchAll(/\/claim\/([A-Za-z0-9_-]+)/g)].map((m) => m[0]);
    assert.equal(new Set(links).size, 1, `one claim link was mailed: ${links}`);

    // Claimed by creating an account for the address.
    const opened = await page('GET', links[0]);
    assert.equal(opened.status, 200, opened.text.slice(0, 500));
    const claimed = await page('POST', links[0], { form: { name: RECIPIENT.name, password: RECIPIENT.password } });
    assert.equal(claimed.status, 303, claimed.text.slice(0, 500));
    assert.match(claimed.location, /^\/awards\//);

    const recipient = (await expectOk('log in', await api('POST', '/api/v1/session', { body: { email: RECIPIENT.email, password: RECIPIENT.password } }), 201, 200)).token;
    const id = claimed.location.replace('/awards/', '');
    award = await expectOk('the award', await api('GET', `/api/v1/awards/${id}`, { token: recipient }), 200);
    await download(award.links.credential, files.json, recipient);
    await download(award.links.jwt, files.jwt, recipient);
    credential = JSON.parse(fs.readFileSync(path.join(dir, files.json), 'utf8'));
    // Public, so that the peers may fetch what anyone may.
    await expectOk('make the award public', await api('PUT', `/api/v1/awards/${id}/privacy`, { token: recipient, body: { privacy: 'public' } }), 200);
    const read = await expectOk('the direct award', await api('GET', `/api/v1/organisations/${org}/awards/${offer.id}`, { token: issuer }), 200);
    assert.equal(read.status, 'claimed');
    assert.equal(read.award_id, id);
  }, { timeout: 300_000 });

  after(async () => {
    if (server) await server.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, { timeout: 30_000 });

  it('the credential states the narrative, the evidence and each level reached', () => {
    const evidence = [].concat(credential.evidence ?? []);
    assert.ok(evidence.some((e) => e.id === 'https://example.org/workshops/first-aid-2026' && e.name === 'Workshop register'), JSON.stringify(evidence));
    assert.ok(evidence.some((e) => e.genre === 'Narrative' && /practical workshop of 3 December/.test(e.narrative)), JSON.stringify(evidence));
    const descriptions = credential.credentialSubject.achievement.resultDescription;
    const results = credential.credentialSubject.result;
    assert.equal(results.length, 2, JSON.stringify(results));
    const levelOf = (criterion) => {
      const result = results.find((r) => r.resultDescription === descriptions.find((d) => d.name === criterion).id);
      const description = descriptions.find((d) => d.id === result.resultDescription);
      return description.rubricCriterionLevel.find((l) => l.id === result.achievedLevel).name;
    };
    assert.equal(levelOf('Casualty assessment'), 'Excellent');
    assert.equal(levelOf('CPR'), 'Competent');
    assert.deepEqual(rubric.levels, ['Not yet', 'Competent', 'Excellent']);
    assert.deepEqual(offer.results.map((r) => r.level), [3, 2]);
  });

  it('the Data Integrity credential passes DCC (strict, status checked) and openbadgeslib', { timeout: 300_000 }, async () => {
    const dcc = await peer('verify-ob3-di.mjs', files.json, '--strict');
    assert.equal(dcc.json.valid, true, JSON.stringify(dcc.json));
    assert.equal(dcc.json.status?.verified, true, JSON.stringify(dcc.json.status));
    const py = await peer('verify-ob3-di-py.py', files.json);
    assert.equal(py.json.valid, true, JSON.stringify(py.json));
  });

  it('the VC-JWT passes PyJWT, jwcrypto and openbadgeslib', { timeout: 120_000 }, async () => {
    const result = await peer('verify-ob3-jwt.py', files.jwt, '--strict', '--check-status');
    assert.equal(result.json.valid, true, JSON.stringify(result.json));
    assert.equal(result.json.peers.openbadgeslib?.verdict, 'valid', JSON.stringify(result.json.peers));
  });
});
