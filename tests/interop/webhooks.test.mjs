// Interop of webhooks with the Standard Webhooks scheme (https://www.standardwebhooks.com/): on a
// running `cairn serve --demo` whose operator allows webhooks to 127.0.0.1
// (CAIRN_WEBHOOK_ALLOW_HOSTS), the demo issuer registers a receiver, a Node `http` server on a free
// loopback port, for every event. Every message it gets is checked by the npm package
// `standardwebhooks` (the Standard Webhooks project's own library, class Webhook; pinned in
// tests/interop/peers) with the endpoint's secret: genuine messages pass, and the same message
// with its body changed, under another secret or with a timestamp outside the library's tolerance
// (even one signed correctly) is refused. The events are caused over the JSON API: a new learner
// sends a submission, the demo assessor passes it, Cairn awards the badge (submission.submitted,
// submission.decided, award.issued, in that order, the learner unnamed in the submission events);
// the issuer suspends, reinstates and revokes the award. Then a test message the receiver refuses
// once (HTTP 500), sent again by hand under the same webhook-id; a new secret that alone signs
// from then on; a disabled endpoint that is sent nothing, and deleted with its log. Addresses on
// loopback or private networks that the operator did not allow are refused at registration.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { importPeer, startDemo } from './lib/cairn.mjs';

const { Webhook, WebhookVerificationError } = await importPeer('standardwebhooks');

const ISSUER = ['issuer@demo.cairn.test', 'cairn-demo-issuer'];
const ASSESSOR = ['assessor@demo.cairn.test', 'cairn-demo-assessor'];
const GRADUATE = ['graduate@demo.cairn.test', 'cairn-demo-graduate'];
const LEARNER = { name: 'Hedda Webhookson', email: 'hedda.webhookson@example.org', password: 'a long enough password' };
const ALL_EVENTS = ['award.issued', 'award.revoked', 'award.suspended', 'award.reinstated', 'submission.submitted', 'submission.decided'];
const SUSPENSION_REASON = 'under review after a complaint';
const REVOCATION_REASON = 'awarded in error';
// The tolerance of the library's timestamp check (WEBHOOK_TOLERANCE_IN_SECONDS), 5 minutes.
const TOLERANCE_SECONDS = 5 * 60;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const SECRET_SHAPE = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A receiver on a free loopback port: it keeps every request (path, headers, raw body, arrival)
 * and answers the statuses queued with `answerNext`, then 200.
 */
async function startReceiver() {
  const received = [];
  const queued = [];
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      received.push({ method: request.method, path: request.url, headers: { ...request.headers }, raw, at: Date.now() });
      const status = queued.length > 0 ? queued.shift() : 200;
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.end(`receiver answered ${status}`);
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: (name) => `http://127.0.0.1:${port}/hooks/${name}`,
    port,
    received,
    /** What arrived at `/hooks/{name}`. */
    at: (name) => received.filter((m) => m.path === `/hooks/${name}`),
    answerNext: (...statuses) => queued.push(...statuses),
    stop: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

/** The message's body verified by the library under `secret`; fails the test when refused. */
function verified(secret, message) {
  let payload;
  try {
    payload = new Webhook(secret).verify(message.raw, message.headers);
  } catch (error) {
    assert.fail(`standardwebhooks refused a message Cairn sent (${error?.name}: ${error?.message}): ${JSON.stringify(message.headers)} ${message.raw}`);
  }
  assert.deepEqual(payload, JSON.parse(message.raw.toString('utf8')));
  return payload;
}

/** Asserts the library refuses `raw` with `headers` under `secret`, with a message matching `why`. */
function refused(secret, raw, headers, why, what) {
  assert.throws(() => new Webhook(secret).verify(raw, headers), (error) => {
    assert.ok(error instanceof WebhookVerificationError, `${what}: ${error?.name}: ${error?.message}`);
    assert.match(error.message, why, what);
    return true;
  }, `${what}: the library accepted it`);
}

/** A correct Standard Webhooks signature computed here with node:crypto (not the library). */
function signHere(secret, id, timestamp, raw) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.`).update(raw).digest('base64');
  return `v1,${mac}`;
}

describe('standardwebhooks verifies the events Cairn sends to an issuer\'s endpoint', () => {
  let dir;
  let server;
  let base;
  let receiver;
  let issuer; // the demo issuer's API token
  let assessor; // the demo assessor's API token
  let org; // the demo organisation's id
  let badge; // the assessed badge the learner earns
  let endpoint; // the registered endpoint, as created (with its first secret)
  let secret; // the endpoint's secret now
  let learner; // the new learner: token and id
  let submission; // the learner's submission id
  let award; // the award for it, as the issuer reads it

  async function api(method, urlPath, { token, body } = {}) {
    const headers = { accept: 'application/json' };
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
  /** An RFC 9457 problem with this status and type slug; returns its body. */
  function expectProblem(what, response, status, slug) {
    assert.equal(response.status, status, `${what}: HTTP ${response.status} ${response.text}`);
    assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, `${what}: ${response.headers.get('content-type')}`);
    assert.ok(response.json?.type?.endsWith(`/problems/${slug}`), `${what}: ${response.text}`);
    assert.equal(response.json.status, status, what);
    return response.json;
  }
  const logIn = async ([email, password]) => (await expectOk(`log in as ${email}`, await api('POST', '/api/v1/session', { body: { email, password } }), 200, 201)).token;

  /** Waits up to `ms` for `count` messages at `/hooks/{name}` after the first `from`; returns them. */
  async function arrivals(name, from, count, ms = 10_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const got = receiver.at(name).slice(from);
      if (got.length >= count) {
        // A moment more, to see any message that should not have come.
        await sleep(300);
        return receiver.at(name).slice(from);
      }
      assert.ok(Date.now() < deadline, `${count} message(s) expected at /hooks/${name} within ${ms} ms, got ${got.length}: ${got.map((m) => m.raw.toString()).join('\n')}`);
      await sleep(100);
    }
  }

  /** What every message Cairn sends has: the Standard Webhooks headers, a fresh timestamp, the envelope. */
  function checkEnvelope(message, type) {
    assert.equal(message.method, 'POST');
    assert.equal(message.headers['content-type'], 'application/json');
    assert.match(message.headers['webhook-id'] ?? '', /^msg_[A-Za-z0-9_-]+$/, JSON.stringify(message.headers));
    assert.match(message.headers['webhook-signature'] ?? '', /^v1,[A-Za-z0-9+/]+={0,2}$/, JSON.stringify(message.headers));
    const sentAt = Number(message.headers['webhook-timestamp']);
    assert.ok(Number.isInteger(sentAt), `webhook-timestamp ${message.headers['webhook-timestamp']}`);
    assert.ok(Math.abs(sentAt - message.at / 1000) <= 5, `webhook-timestamp ${sentAt} is not the time of the attempt (${message.at / 1000})`);
    const body = JSON.parse(message.raw.toString('utf8'));
    assert.deepEqual(Object.keys(body).sort(), ['data', 'timestamp', 'type'], message.raw.toString());
    assert.equal(body.type, type, message.raw.toString());
    assert.match(body.timestamp, RFC3339);
    return body;
  }

  /** The award events' data for the award of the journey. */
  function checkAwardData(data, status) {
    assert.equal(data.award_id, award.id);
    assert.equal(data.organisation_id, org);
    assert.deepEqual(data.achievement, { id: badge.id, name: badge.name, version: award.achievement_version });
    assert.deepEqual(data.recipient, { name: LEARNER.name, email: LEARNER.email });
    assert.equal(data.status, status);
    assert.match(data.issued_at, RFC3339);
    assert.equal(Date.parse(data.issued_at), Date.parse(award.issued_at));
    assert.match(data.valid_until, RFC3339, 'the badge is valid for 12 months');
    assert.equal(Date.parse(data.valid_until), Date.parse(award.valid_until));
    assert.equal(data.award_url, award.links.page);
    assert.equal(data.credential_url, award.links.credential);
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-webhooks-'));
    receiver = await startReceiver();
    server = await startDemo(dir, { CAIRN_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' });
    base = server.base;
    issuer = await logIn(ISSUER);
    assessor = await logIn(ASSESSOR);
    const me = await expectOk('me', await api('GET', '/api/v1/me', { token: issuer }), 200);
    org = me.memberships?.[0]?.organisation_id;
    assert.ok(org, `the demo issuer has no organisation: ${JSON.stringify(me)}`);

    // An assessed badge (no fee, valid for a year) with the demo assessor in its pool.
    badge = await expectOk('create the badge', await api('POST', `/api/v1/organisations/${org}/achievements`, {
      token: issuer,
      body: {
        kind: 'micro-badge',
        name: 'Robust Webhook Receivers',
        description: 'Write a webhook receiver that checks what it is sent.',
        criteria: 'Submit a receiver and its tests.',
        rubric: {
          levels: ['Developing', 'Proficient', 'Exemplary'],
          criteria: [
            { name: 'Robustness', required_level: 'Proficient', descriptors: ['Breaks on bad input', 'Handles bad input', 'Handles and reports bad input'] },
            { name: 'Tests', description: 'Automated tests', required_level: 2, descriptors: ['None', 'Some', 'Thorough'] },
          ],
        },
        validity_months: 12,
      },
    }), 201);
    await expectOk('publish', await api('POST', `/api/v1/achievements/${badge.id}/publish`, { token: issuer, body: {} }), 200);
    const members = await expectOk('members', await api('GET', `/api/v1/organisations/${org}/members`, { token: issuer }), 200);
    const assessorId = members.items.find((m) => m.role === 'assessor')?.user_id;
    assert.ok(assessorId, `the demo organisation has no assessor: ${JSON.stringify(members)}`);
    expectOk('add the assessor to the pool', await api('POST', `/api/v1/achievements/${badge.id}/assessors`, { token: issuer, body: { user_id: assessorId } }), 204);
  }, { timeout: 120_000 });

  after(async () => {
    if (server) await server.stop();
    if (receiver) await receiver.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, { timeout: 30_000 });

  it('refuses loopback and private addresses the operator did not allow, naming webhook_allow_hosts', async () => {
    // The operator allows 127.0.0.1 only: the receiver's port under other loopback names and
    // addresses, and a private address, are refused; nothing is registered.
    const others = [
      `http://localhost:${receiver.port}/hooks/refused`,
      `http://127.0.0.2:${receiver.port}/hooks/refused`,
      `http://[::1]:${receiver.port}/hooks/refused`,
      'http://10.0.0.5/hooks',
      'http://192.168.1.20:8080/hooks',
    ];
    for (const url of others) {
      const response = await api('POST', `/api/v1/organisations/${org}/webhooks`, { token: issuer, body: { url, events: ['award.issued'] } });
      const problem = expectProblem(`register ${url}`, response, 422, 'invalid-input');
      assert.match(JSON.stringify(problem), /webhook_allow_hosts/, `${url}: ${response.text}`);
      assert.ok(problem.errors?.some((e) => e.pointer === '/url'), `${url}: ${response.text}`);
    }
    const listed = await expectOk('list', await api('GET', `/api/v1/organisations/${org}/webhooks`, { token: issuer }), 200);
    assert.deepEqual(listed.items, []);
  });

  it('registers an endpoint for the owner with a whsec_ secret shown once; an assessor is refused', async () => {
    const url = receiver.url('main');
    const created = await api('POST', `/api/v1/organisations/${org}/webhooks`, { token: issuer, body: { url, events: ALL_EVENTS, description: 'Registry sync' } });
    endpoint = expectOk('register', created, 201);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    assert.match(endpoint.secret, SECRET_SHAPE);
    assert.ok(Buffer.from(endpoint.secret.slice('whsec_'.length), 'base64').length >= 24, endpoint.secret);
    assert.doesNotThrow(() => new Webhook(endpoint.secret), 'the library takes the secret as given');
    secret = endpoint.secret;
    assert.equal(endpoint.url, url);
    assert.equal(endpoint.organisation_id, org);
    assert.equal(endpoint.description, 'Registry sync');
    assert.deepEqual([...endpoint.events].sort(), [...ALL_EVENTS].sort());
    assert.equal(endpoint.enabled, true);

    // Listed and read without the secret.
    const listed = await api('GET', `/api/v1/organisations/${org}/webhooks`, { token: issuer });
    expectOk('list', listed, 200);
    assert.equal(listed.json.items.length, 1, listed.text);
    const { secret: _, ...shown } = endpoint;
    assert.deepEqual(listed.json.items[0], shown);
    const read = await api('GET', `/api/v1/webhooks/${endpoint.id}`, { token: issuer });
    assert.deepEqual(expectOk('read', read, 200), shown);
    for (const response of [listed, read]) {
      assert.ok(!response.text.includes(secret) && !response.text.includes('whsec_'), `the secret is shown again: ${response.text}`);
    }

    // Owners only: the demo assessor, a member, is forbidden.
    expectProblem('an assessor registers', await api('POST', `/api/v1/organisations/${org}/webhooks`, { token: assessor, body: { url, events: ALL_EVENTS } }), 403, 'forbidden');
    expectProblem('an assessor lists', await api('GET', `/api/v1/organisations/${org}/webhooks`, { token: assessor }), 403, 'forbidden');
    expectProblem('an assessor reads', await api('GET', `/api/v1/webhooks/${endpoint.id}`, { token: assessor }), 403, 'forbidden');
    assert.equal(receiver.received.length, 0, 'registering sends nothing');
  });

  it('sends submission.submitted, submission.decided and award.issued in order, each verified, the learner unnamed in the submission events', { timeout: 120_000 }, async () => {
    const from = receiver.at('main').length;
    // A new learner sends a submission; the assessor passes it; the badge is awarded.
    expectOk('sign up', await api('POST', '/api/v1/users', { body: { name: LEARNER.name, email: LEARNER.email, password: LEARNER.password } }), 202);
    const token = await logIn([LEARNER.email, LEARNER.password]);
    const me = await expectOk('me', await api('GET', '/api/v1/me', { token }), 200);
    learner = { token, id: me.id };
    const draft = await expectOk('draft', await api('POST', `/api/v1/achievements/${badge.id}/submissions`, {
      token,
      body: { overview: 'A receiver that checks signatures.', reflection: 'I learnt to verify before parsing.', links: ['https://example.org/receiver'], collaborators: [] },
    }), 201);
    submission = draft.id;
    const sent = await expectOk('submit', await api('POST', `/api/v1/submissions/${submission}/submit`, { token, body: {} }), 200);
    assert.equal(sent.status, 'submitted');
    const [submittedMessage] = await arrivals('main', from, 1);
    const decided = await expectOk('assess', await api('POST', `/api/v1/assessments/${submission}`, {
      token: assessor,
      body: {
        scores: [
          { criterion: 'Robustness', level: 'Exemplary', comment: 'Refuses every forged message.' },
          { criterion: 'Tests', level: 'Exemplary', comment: 'Thorough.' },
        ],
        feedback: 'Well done.',
      },
    }), 200);
    assert.equal(decided.outcome, 'pass', JSON.stringify(decided));
    const view = await expectOk('the submission', await api('GET', `/api/v1/submissions/${submission}`, { token }), 200);
    assert.equal(view.status, 'awarded', JSON.stringify(view));
    award = await expectOk('the award', await api('GET', `/api/v1/awards/${view.award_id}`, { token: issuer }), 200);

    const order = ['submission.submitted', 'submission.decided', 'award.issued'];
    // Each delivery goes out beside its use case, so two made in the same moment (the decision
    // and the award it leads to) may cross on the wire: compare them in the order of the events.
    const messages = (await arrivals('main', from, 3)).sort((a, b) => order.indexOf(JSON.parse(a.raw).type) - order.indexOf(JSON.parse(b.raw).type));
    assert.equal(messages[0], submittedMessage);
    assert.deepEqual(messages.map((m) => JSON.parse(m.raw).type), ['submission.submitted', 'submission.decided', 'award.issued']);
    assert.equal(new Set(messages.map((m) => m.headers['webhook-id'])).size, 3, 'one message id per event');
    const bodies = messages.map((m, i) => {
      const body = checkEnvelope(m, ['submission.submitted', 'submission.decided', 'award.issued'][i]);
      assert.deepEqual(verified(secret, m), body);
      return body;
    });

    // The submission events: the submission by its code, never by its learner.
    for (const [body, outcome] of [[bodies[0], undefined], [bodies[1], 'pass']]) {
      const { data } = body;
      assert.equal(data.submission_id, submission);
      assert.match(data.code, /^S-/);
      assert.equal(data.organisation_id, org);
      assert.deepEqual(data.achievement, { id: badge.id, name: badge.name });
      assert.equal(data.attempt, 1);
      assert.match(data.due_at, RFC3339);
      assert.equal(data.outcome, outcome, JSON.stringify(data));
      const expected = ['achievement', 'attempt', 'code', 'due_at', 'organisation_id', 'submission_id', ...(outcome ? ['outcome'] : [])].sort();
      assert.deepEqual(Object.keys(data).sort(), expected, JSON.stringify(data));
    }
    assert.equal(bodies[0].data.code, bodies[1].data.code);
    for (const message of messages.slice(0, 2)) {
      const text = message.raw.toString('utf8');
      for (const naming of [LEARNER.email, LEARNER.name, 'Hedda', 'Webhookson', learner.id]) {
        assert.ok(!text.includes(naming), `a submission event names the learner (${naming}): ${text}`);
      }
    }
    // The award event names its recipient.
    checkAwardData(bodies[2].data, 'active');
    assert.ok(!('reason' in bodies[2].data), JSON.stringify(bodies[2].data));

    // The library refuses what Cairn did not sign: a changed body, another secret, a changed id,
    // a timestamp moved outside its tolerance, and one signed correctly but too old or too new.
    const issued = messages[2];
    const { headers, raw } = issued;
    const changed = Buffer.from(raw.toString('utf8').replace(LEARNER.email, 'mallory@example.org'));
    assert.notDeepEqual(changed, raw);
    refused(secret, changed, headers, /No matching signature/, 'a changed body');
    refused(secret, Buffer.concat([raw, Buffer.from(' ')]), headers, /No matching signature/, 'a body with a byte more');
    refused(`whsec_${crypto.randomBytes(24).toString('base64')}`, raw, headers, /No matching signature/, 'another secret');
    refused(secret, raw, { ...headers, 'webhook-id': `${headers['webhook-id']}x` }, /No matching signature/, 'another message id');
    const now = Math.floor(Date.now() / 1000);
    const old = now - TOLERANCE_SECONDS - 60;
    const ahead = now + TOLERANCE_SECONDS + 60;
    refused(secret, raw, { ...headers, 'webhook-timestamp': String(old) }, /too old/, 'an old timestamp');
    refused(secret, raw, { ...headers, 'webhook-timestamp': String(ahead) }, /too new/, 'a future timestamp');
    // Signed here with node:crypto the way Cairn signs, the same message verifies at its own time
    // and is refused, signature and all, once outside the tolerance.
    assert.equal(signHere(secret, headers['webhook-id'], headers['webhook-timestamp'], raw), headers['webhook-signature'], 'Cairn signs {id}.{timestamp}.{body} with HMAC-SHA256');
    refused(secret, raw, { ...headers, 'webhook-timestamp': String(old), 'webhook-signature': signHere(secret, headers['webhook-id'], old, raw) }, /too old/, 'an old message, signed');
    refused(secret, raw, { ...headers, 'webhook-timestamp': String(ahead), 'webhook-signature': signHere(secret, headers['webhook-id'], ahead, raw) }, /too new/, 'a future message, signed');
    // The genuine message still verifies.
    verified(secret, issued);

    // The delivery log has each message as received, delivered at the first attempt.
    const log = await expectOk('deliveries', await api('GET', `/api/v1/webhooks/${endpoint.id}/deliveries`, { token: issuer }), 200);
    assert.equal(log.items.length, 3, JSON.stringify(log.items));
    for (const delivery of log.items) {
      const message = messages.find((m) => m.headers['webhook-id'] === delivery.message_id);
      assert.ok(message, `delivery ${delivery.id} (${delivery.message_id}) was not received`);
      assert.deepEqual(delivery.payload, JSON.parse(message.raw));
      assert.equal(delivery.endpoint_id, endpoint.id);
      assert.equal(delivery.state, 'delivered', JSON.stringify(delivery));
      assert.equal(delivery.attempts.length, 1, JSON.stringify(delivery));
      assert.equal(delivery.attempts[0].status, 200);
      assert.equal(delivery.last_status, 200);
      assert.equal(delivery.next_attempt_at, null);
      assert.match(delivery.settled_at, RFC3339);
    }
    // Newest first, as documented, also for deliveries made within one second.
    assert.deepEqual(log.items.map((d) => d.event_type), ['award.issued', 'submission.decided', 'submission.submitted'],
      `the log is not newest first: ${JSON.stringify(log.items.map((d) => [d.event_type, d.created_at, d.id]))}`);
  });

  it('sends award.suspended, award.reinstated and award.revoked with the status and the reason', { timeout: 60_000 }, async () => {
    assert.ok(award, 'the journey made an award');
    const steps = [
      { action: 'suspend', reason: SUSPENSION_REASON, type: 'award.suspended', status: 'suspended' },
      { action: 'reinstate', type: 'award.reinstated', status: 'active' },
      { action: 'revoke', reason: REVOCATION_REASON, type: 'award.revoked', status: 'revoked' },
    ];
    const ids = new Set(receiver.at('main').map((m) => m.headers['webhook-id']));
    for (const step of steps) {
      const from = receiver.at('main').length;
      const body = { action: step.action, ...(step.reason ? { reason: step.reason } : {}) };
      expectOk(step.action, await api('POST', `/api/v1/awards/${award.id}/status`, { token: issuer, body }), 200);
      const [message] = await arrivals('main', from, 1);
      assert.equal(receiver.at('main').length, from + 1, `one message for ${step.action}`);
      const envelope = checkEnvelope(message, step.type);
      const payload = verified(secret, message);
      assert.deepEqual(payload, envelope);
      checkAwardData(payload.data, step.status);
      if (step.reason) {
        assert.equal(payload.data.reason, step.reason, JSON.stringify(payload.data));
      } else {
        assert.ok(!('reason' in payload.data), `a reinstatement carries no reason: ${JSON.stringify(payload.data)}`);
      }
      assert.ok(!ids.has(message.headers['webhook-id']), 'a new message id for each event');
      ids.add(message.headers['webhook-id']);
    }
    const read = await expectOk('the award', await api('GET', `/api/v1/awards/${award.id}`, { token: issuer }), 200);
    assert.equal(read.status, 'revoked');
  });

  it('a test message refused once (HTTP 500) is sent again by hand under the same webhook-id', { timeout: 60_000 }, async () => {
    const from = receiver.at('main').length;
    receiver.answerNext(500);
    const test = await expectOk('test', await api('POST', `/api/v1/webhooks/${endpoint.id}/test`, { token: issuer }), 200);
    assert.equal(test.event_type, 'webhook.test');
    assert.equal(test.endpoint_id, endpoint.id);
    assert.equal(test.state, 'pending', JSON.stringify(test));
    assert.equal(test.attempts.length, 1, JSON.stringify(test));
    assert.equal(test.attempts[0].number, 1);
    assert.equal(test.attempts[0].status, 500);
    assert.match(test.attempts[0].error ?? '', /500/);
    assert.equal(test.attempts[0].response, 'receiver answered 500');
    assert.equal(test.last_status, 500);
    assert.match(test.next_attempt_at ?? '', RFC3339, 'a retry is scheduled');
    assert.ok(Date.parse(test.next_attempt_at) > Date.parse(test.attempts[0].attempted_at), JSON.stringify(test));
    assert.equal(test.settled_at, null);

    // Sent again by hand at once (the scheduled retry is 5 s away): delivered at the second attempt.
    const again = await expectOk('redeliver', await api('POST', `/api/v1/webhooks/${endpoint.id}/deliveries/${test.id}/redeliver`, { token: issuer }), 200);
    assert.equal(again.id, test.id);
    assert.equal(again.state, 'delivered', JSON.stringify(again));
    assert.deepEqual(again.attempts.map((a) => [a.number, a.status]), [[1, 500], [2, 200]], JSON.stringify(again.attempts));
    assert.equal(again.attempts[1].response, 'receiver answered 200');
    assert.equal(again.last_status, 200);
    assert.equal(again.next_attempt_at, null);
    assert.match(again.settled_at ?? '', RFC3339);
    const read = await expectOk('the delivery', await api('GET', `/api/v1/webhooks/${endpoint.id}/deliveries/${test.id}`, { token: issuer }), 200);
    assert.deepEqual(read, again);

    const messages = await arrivals('main', from, 2);
    assert.equal(messages.length, 2, 'two attempts, two receptions');
    assert.equal(messages[0].headers['webhook-id'], messages[1].headers['webhook-id'], 'one webhook-id at every attempt');
    assert.equal(messages[0].headers['webhook-id'], test.message_id);
    assert.deepEqual(messages[0].raw, messages[1].raw, 'the same body at every attempt');
    for (const message of messages) {
      const body = checkEnvelope(message, 'webhook.test');
      assert.deepEqual(verified(secret, message), body);
      assert.deepEqual(body, test.payload);
      assert.deepEqual(body.data, { organisation_id: org, endpoint_id: endpoint.id });
    }
  });

  it('after a new secret, a test message verifies under it and not under the old one', { timeout: 60_000 }, async () => {
    const old = secret;
    const rotated = await api('POST', `/api/v1/webhooks/${endpoint.id}/secret`, { token: issuer });
    const { secret: fresh } = expectOk('new secret', rotated, 200);
    assert.equal(rotated.headers.get('cache-control'), 'no-store');
    assert.match(fresh, SECRET_SHAPE);
    assert.notEqual(fresh, old);
    secret = fresh;
    const from = receiver.at('main').length;
    const test = await expectOk('test', await api('POST', `/api/v1/webhooks/${endpoint.id}/test`, { token: issuer }), 200);
    assert.equal(test.state, 'delivered', JSON.stringify(test));
    const [message] = await arrivals('main', from, 1);
    checkEnvelope(message, 'webhook.test');
    verified(fresh, message);
    refused(old, message.raw, message.headers, /No matching signature/, 'the old secret after rotation');
    const read = await api('GET', `/api/v1/webhooks/${endpoint.id}`, { token: issuer });
    assert.ok(!read.text.includes(fresh) && !read.text.includes('whsec_'), read.text);
  });

  it('a disabled endpoint is sent nothing and refuses a test; deleted, its log is gone', { timeout: 60_000 }, async () => {
    // A witness endpoint shows the award events happen while the main endpoint is off.
    const witness = await expectOk('register the witness', await api('POST', `/api/v1/organisations/${org}/webhooks`, {
      token: issuer, body: { url: receiver.url('witness'), events: ['award.suspended', 'award.reinstated'] },
    }), 201);
    const off = await expectOk('disable', await api('PATCH', `/api/v1/webhooks/${endpoint.id}`, { token: issuer, body: { enabled: false } }), 200);
    assert.equal(off.enabled, false);
    assert.equal(off.url, receiver.url('main'));
    assert.deepEqual([...off.events].sort(), [...ALL_EVENTS].sort());
    const logged = (await expectOk('deliveries', await api('GET', `/api/v1/webhooks/${endpoint.id}/deliveries`, { token: issuer }), 200)).items;

    // The demo graduate's award (same organisation) suspended and reinstated.
    const graduate = await logIn(GRADUATE);
    const mine = await expectOk('the graduate\'s awards', await api('GET', '/api/v1/awards', { token: graduate }), 200);
    const held = (mine.items ?? mine).find((a) => a.status === 'active');
    assert.ok(held, `the demo graduate holds no active award: ${JSON.stringify(mine)}`);
    const main = receiver.at('main').length;
    expectOk('suspend', await api('POST', `/api/v1/awards/${held.id}/status`, { token: issuer, body: { action: 'suspend', reason: 'checking' } }), 200);
    expectOk('reinstate', await api('POST', `/api/v1/awards/${held.id}/status`, { token: issuer, body: { action: 'reinstate' } }), 200);
    const seen = await arrivals('witness', 0, 2);
    assert.deepEqual(seen.map((m) => verified(witness.secret, m).type), ['award.suspended', 'award.reinstated']);
    assert.equal(JSON.parse(seen[0].raw).data.award_id, held.id);
    await sleep(3_000);
    assert.equal(receiver.at('main').length, main, `the disabled endpoint was sent: ${receiver.at('main').slice(main).map((m) => m.raw.toString()).join('\n')}`);
    const after = (await expectOk('deliveries', await api('GET', `/api/v1/webhooks/${endpoint.id}/deliveries`, { token: issuer }), 200)).items;
    assert.deepEqual(after.map((d) => d.id), logged.map((d) => d.id), 'nothing is queued for a disabled endpoint');

    // Nothing is sent to it by hand either.
    expectProblem('test while disabled', await api('POST', `/api/v1/webhooks/${endpoint.id}/test`, { token: issuer }), 409, 'conflict');
    expectProblem('redeliver while disabled', await api('POST', `/api/v1/webhooks/${endpoint.id}/deliveries/${logged[0].id}/redeliver`, { token: issuer }), 409, 'conflict');
    assert.equal(receiver.at('main').length, main);

    // Deleted: gone, with its log; the witness stays.
    const deleted = await api('DELETE', `/api/v1/webhooks/${endpoint.id}`, { token: issuer });
    assert.equal(deleted.status, 204, deleted.text);
    expectProblem('its deliveries', await api('GET', `/api/v1/webhooks/${endpoint.id}/deliveries`, { token: issuer }), 404, 'not-found');
    expectProblem('a delivery', await api('GET', `/api/v1/webhooks/${endpoint.id}/deliveries/${logged[0].id}`, { token: issuer }), 404, 'not-found');
    expectProblem('the endpoint', await api('GET', `/api/v1/webhooks/${endpoint.id}`, { token: issuer }), 404, 'not-found');
    const listed = await expectOk('list', await api('GET', `/api/v1/organisations/${org}/webhooks`, { token: issuer }), 200);
    assert.deepEqual(listed.items.map((e) => e.id), [witness.id]);
  });
});
