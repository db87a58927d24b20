// Assessment fees paid online through the issuer's own Stripe account, against a Stripe test
// server (localstripe with Checkout Sessions, lib/stripe.mjs) that `cairn serve --demo` reaches
// through CAIRN_STRIPE_API_BASE, with Stripe's own Node SDK (the npm package `stripe`, pinned in
// tests/interop/peers) reading what Cairn made at Stripe and signing test deliveries.
//
// The demo issuer's owner connects the organisation: keys of the wrong form are refused naming
// each field, a live key the server refuses is "refused by Stripe", a test key connects, and the
// account Cairn keeps is the one the SDK reads with that key. A learner's submission owing
// 49.50 EUR asks for a Checkout Session ("Pay and send"): Cairn's answer, and the session at
// Stripe as the SDK reads it (the submission as client_reference_id and in the metadata, the
// learner's address, the amount in cents, the return addresses, an hour to pay), answered again
// while open. "Pay and send" is refused when the work could not be sent (no evidence). A declined
// card leaves everything as it was; paying on the hosted page makes localstripe send
// checkout.session.completed, signed, to the organisation's webhook, and Cairn marks the payment
// paid with its PaymentIntent, the fee paid (with a history entry), sends the submission and tells
// the learner once. Deliveries signed here by the SDK (generateTestHeaderString) are taken or
// refused exactly as the SDK's own constructEvent takes or refuses them: the right secret, a
// rolled secret's two signatures, another secret, a changed body, a stale timestamp, no header;
// the same event twice is "taken before". A session expired at Stripe expires the payment, and
// the next checkout makes a new session. Withdrawing the sent (not yet opened) submission
// refunds the payment once at Stripe (metadata cairn_payment), recorded as refunded; the
// charge.refunded event that follows, and the same event sent again, refund and tell nothing
// more. A micro-credential's fee paid once on one level settles the other level's fee, and
// withdrawing the paid level refunds it and makes the other owe it again. Payments are read by
// the learner and the issuer's owner, not by an assessor or another learner (404). A session left
// open when its submission is withdrawn takes no money for it. Disconnecting stops checkouts and
// the webhook.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importPeer, startDemo } from './lib/cairn.mjs';
import { CARDS, startStripe } from './lib/stripe.mjs';

const { default: Stripe } = await importPeer('stripe');
const { StripeSignatureVerificationError } = Stripe.errors;

const ISSUER = ['issuer@demo.cairn.test', 'cairn-demo-issuer'];
const ASSESSOR = ['assessor@demo.cairn.test', 'cairn-demo-assessor'];
const PASSWORD = 'a long enough password';
const ACCOUNT_NAME = 'Northbridge Assessments Ltd';
const WEBHOOK_SECRET = `whsec_${crypto.randomBytes(24).toString('hex')}`;
const WEBHOOK_EVENTS = ['checkout.session.completed', 'checkout.session.async_payment_succeeded', 'checkout.session.expired', 'charge.refunded'];
const BADGE = 'Payments Without Surprises';
const FEE = { amount: '49.50', currency: 'EUR' };
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const PAYMENT_KEYS = ['amount', 'checkout_session_id', 'created_at', 'expires_at', 'id', 'paid_at', 'payment_intent', 'refunded_at', 'send_when_paid', 'status', 'submission_id', 'url'];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (rfc3339) => Date.parse(rfc3339) / 1000;

/** A micro-badge with a rubric, as crates/cairn-server/tests/api/helpers.rs::badge_body, with `fee`. */
function badgeBody(name, fee) {
  return {
    kind: 'micro-badge',
    name,
    description: 'Write a bash script that survives bad input.',
    criteria: 'Submit a script and its tests.',
    rubric: {
      levels: ['Developing', 'Proficient', 'Exemplary'],
      criteria: [
        { name: 'Robustness', required_level: 'Proficient', descriptors: ['Breaks on bad input', 'Handles bad input', 'Handles and reports bad input'] },
        { name: 'Tests', description: 'Automated tests', required_level: 2, descriptors: ['None', 'Some', 'Thorough'] },
      ],
    },
    tags: ['bash', 'scripting'],
    effort_hours: 4,
    fee,
    validity_months: 12,
  };
}

describe('assessment fees paid online through a Stripe test server', () => {
  let dir;
  let stripeServer; // lib/stripe.mjs's handle
  let stripe; // the SDK, pointed at the test server with the key the issuer connects
  let server;
  let base;
  let issuer; // the demo issuer's (an owner's) API token
  let assessor; // the demo assessor's API token
  let org; // the demo organisation's id
  let badge; // the paid badge's id
  let paula; // the learner who pays: { token, id, email, submission }
  let lars; // another learner, whose work has no evidence at first: { token, id, email, submission }
  let connection; // Cairn's answer to connecting
  let payment; // Paula's payment, as Cairn answers it
  let paid; // Paula's payment once paid

  async function api(method, urlPath, { token, body, headers: extra = {}, raw } = {}) {
    const headers = { accept: 'application/json', ...extra };
    if (token) headers.authorization = `Bearer ${token}`;
    let payload;
    if (raw !== undefined) payload = raw;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(base + urlPath, { method, headers, body: payload, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, json, text, headers: response.headers };
  }
  function expectOk(what, response, ...statuses) {
    assert.ok(statuses.includes(response.status), `${what}: HTTP ${response.status} ${response.text}`);
    return response.json;
  }
  /** An RFC 9457 problem with this status (and this type slug, when given); returns its body. */
  function expectProblem(what, response, status, slug) {
    assert.equal(response.status, status, `${what}: HTTP ${response.status} ${response.text}`);
    assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, `${what}: ${response.headers.get('content-type')} ${response.text}`);
    if (slug) assert.ok(response.json?.type?.endsWith(`/problems/${slug}`), `${what}: ${response.text}`);
    assert.equal(response.json.status, status, what);
    return response.json;
  }
  const logIn = async ([email, password]) => (await expectOk(`log in as ${email}`, await api('POST', '/api/v1/session', { body: { email, password } }), 200, 201)).token;
  async function signUp(name, email) {
    expectOk(`sign up ${email}`, await api('POST', '/api/v1/users', { body: { name, email, password: PASSWORD } }), 202);
    const token = await logIn([email, PASSWORD]);
    const me = await expectOk('me', await api('GET', '/api/v1/me', { token }), 200);
    return { token, id: me.id, email, name };
  }
  async function draft(who, achievement, links = ['https://example.org/evidence/payments-repo']) {
    const body = { overview: 'I wrote a script that checks its input and reports what is wrong.', reflection: 'I learnt to test the failure paths first.', links, collaborators: [] };
    const created = await expectOk(`${who.email}'s draft`, await api('POST', `/api/v1/achievements/${achievement}/submissions`, { token: who.token, body }), 201);
    assert.equal(created.status, 'draft', JSON.stringify(created));
    return created;
  }
  const submissionOf = async (who, id = who.submission) => expectOk('the submission', await api('GET', `/api/v1/submissions/${id}`, { token: who.token }), 200);
  const paymentsOf = async (token, id) => (await expectOk('the payments', await api('GET', `/api/v1/submissions/${id}/payments`, { token }), 200)).items;
  const notifications = async (who) => (await expectOk('notifications', await api('GET', '/api/v1/notifications', { token: who.token }), 200)).items;
  const checkout = (who, id, body = { send_when_paid: true }) => api('POST', `/api/v1/submissions/${id}/checkout`, { token: who.token, body });

  /** Calls `probe` until it returns something truthy (returned), for up to `ms`; fails with `what` and the last value. */
  async function until(what, probe, ms = 10_000) {
    const deadline = Date.now() + ms;
    let last;
    for (;;) {
      last = await probe();
      if (last) return last;
      assert.ok(Date.now() < deadline, `${what} within ${ms} ms; last seen: ${JSON.stringify(last)}\n--- Stripe test server ---\n${stripeServer.log()}\n--- Cairn ---\n${server.log()}`);
      await sleep(150);
    }
  }
  /** Waits for the payment `id` of submission `submission` to reach `status`; returns it. */
  const paymentReaches = (token, submission, id, status, ms) =>
    until(`payment ${id} ${status}`, async () => (await paymentsOf(token, submission)).find((p) => p.id === id && p.status === status), ms);

  /** POSTs `payload` to the organisation's webhook with this Stripe-Signature header (none when null). */
  const deliver = (payload, signature, organisation = org) =>
    api('POST', `/payments/stripe/${organisation}/webhook`, {
      raw: payload,
      headers: { 'content-type': 'application/json; charset=utf-8', ...(signature === null ? {} : { 'stripe-signature': signature }) },
    });
  const signed = (payload, { secret = WEBHOOK_SECRET, timestamp = Math.floor(Date.now() / 1000) } = {}) =>
    stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
  const event = (type, object, id = `evt_sdk_${crypto.randomBytes(12).toString('hex')}`) =>
    JSON.stringify({ id, object: 'event', api_version: '2026-11-18.endive', created: Math.floor(Date.now() / 1000), livemode: false, type, data: { object } });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-payments-'));
    stripeServer = await startStripe({ accountName: ACCOUNT_NAME });
    stripe = new Stripe(stripeServer.secretKey, { host: '127.0.0.1', port: stripeServer.port, protocol: 'http' });
    server = await startDemo(dir, { CAIRN_STRIPE_API_BASE: `${stripeServer.base}/` });
    base = server.base;
    issuer = await logIn(ISSUER);
    assessor = await logIn(ASSESSOR);
    const me = await expectOk('me', await api('GET', '/api/v1/me', { token: issuer }), 200);
    org = me.memberships?.find((m) => m.role === 'owner')?.organisation_id;
    assert.ok(org, `the demo issuer owns no organisation: ${JSON.stringify(me)}`);

    // A paid badge (49.50 EUR) with the demo assessor in its pool.
    badge = (await expectOk('create the badge', await api('POST', `/api/v1/organisations/${org}/achievements`, { token: issuer, body: badgeBody(BADGE, FEE) }), 201)).id;
    expectOk('publish', await api('POST', `/api/v1/achievements/${badge}/publish`, { token: issuer, body: {} }), 200);
    const members = await expectOk('members', await api('GET', `/api/v1/organisations/${org}/members`, { token: issuer }), 200);
    const assessorId = members.items.find((m) => m.role === 'assessor')?.user_id;
    assert.ok(assessorId, `the demo organisation has no assessor: ${JSON.stringify(members)}`);
    expectOk('add the assessor to the pool', await api('POST', `/api/v1/achievements/${badge}/assessors`, { token: issuer, body: { user_id: assessorId } }), 204);

    paula = await signUp('Paula Payer', 'paula.payer@example.org');
    lars = await signUp('Lars Lateproof', 'lars.lateproof@example.org');
    const paulas = await draft(paula, badge);
    assert.equal(paulas.fee, 'due', `a fee is due on the paid badge: ${JSON.stringify(paulas)}`);
    paula.submission = paulas.id;
    lars.submission = (await draft(lars, badge, [])).id;
  }, { timeout: 120_000 });

  after(async () => {
    await server?.stop();
    await stripeServer?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, { timeout: 30_000 });

  it('refuses keys of the wrong form and a key Stripe refuses, then connects a test key to its account', { timeout: 30_000 }, async () => {
    const stripePath = `/api/v1/organisations/${org}/payments/stripe`;
    const before = await expectOk('read, not connected', await api('GET', stripePath, { token: issuer }), 200);
    assert.equal(before.connected, false);
    assert.equal(before.account, null);
    assert.equal(before.webhook_url, `${base}/payments/stripe/${org}/webhook`, 'the webhook address is on this installation');
    assert.deepEqual(before.webhook_events, WEBHOOK_EVENTS);

    // Not connected: a learner cannot pay online yet.
    const early = expectProblem('checkout before connecting', await checkout(paula, paula.submission), 409);
    assert.match(early.detail, /does not take payments online/, JSON.stringify(early));

    // Keys of the wrong form: each field named, Stripe not asked.
    const wrongForm = expectProblem('a publishable key and no whsec_', await api('PUT', stripePath, { token: issuer, body: { secret_key: 'pk_test_51CairnPublishable', webhook_secret: 'not-a-signing-secret' } }), 422);
    const pointers = Object.fromEntries((wrongForm.errors ?? []).map((e) => [e.pointer, e.detail]));
    assert.match(pointers['/secret_key'] ?? '', /publishable key/, JSON.stringify(wrongForm));
    assert.match(pointers['/webhook_secret'] ?? '', /whsec_/, JSON.stringify(wrongForm));
    const notAKey = expectProblem('no key at all', await api('PUT', stripePath, { token: issuer, body: { secret_key: 'hello', webhook_secret: WEBHOOK_SECRET } }), 422);
    assert.deepEqual(notAKey.errors.map((e) => e.pointer), ['/secret_key'], JSON.stringify(notAKey));

    // A live key is well formed, but the test server (like Stripe for a revoked key) refuses it.
    const live = expectProblem('a live key', await api('PUT', stripePath, { token: issuer, body: { secret_key: 'sk_live_51CairnRevokedLiveKey0000', webhook_secret: WEBHOOK_SECRET } }), 422);
    const liveError = live.errors?.find((e) => e.pointer === '/secret_key');
    assert.match(liveError?.detail ?? '', /Stripe refused this key/, JSON.stringify(live));
    assert.match(liveError.detail, /Invalid API Key provided/, `Stripe's own message is passed on: ${JSON.stringify(live)}`);
    assert.ok(!live.detail?.includes('sk_live_51CairnRevokedLiveKey0000') && !JSON.stringify(live).includes('RevokedLiveKey'), `the key is not repeated whole: ${JSON.stringify(live)}`);
    assert.equal((await expectOk('still not connected', await api('GET', stripePath, { token: issuer }), 200)).connected, false);

    // Owners only: the assessor may neither read nor connect.
    expectProblem('the assessor reads', await api('GET', stripePath, { token: assessor }), 403);
    expectProblem('the assessor connects', await api('PUT', stripePath, { token: assessor, body: { secret_key: stripeServer.secretKey, webhook_secret: WEBHOOK_SECRET } }), 403);
    expectProblem('a learner connects', await api('PUT', stripePath, { token: paula.token, body: { secret_key: stripeServer.secretKey, webhook_secret: WEBHOOK_SECRET } }), 403);
    expectProblem('anonymous', await api('GET', stripePath), 401);

    // A test key: connected to the account the SDK reads with the same key.
    const started = Date.now();
    const answer = await api('PUT', stripePath, { token: issuer, body: { secret_key: stripeServer.secretKey, webhook_secret: WEBHOOK_SECRET } });
    connection = expectOk('connect', answer, 200);
    const account = await stripe.accounts.retrieve();
    assert.equal(connection.connected, true);
    assert.deepEqual(Object.keys(connection.account).sort(), ['connected_at', 'id', 'livemode', 'name']);
    assert.equal(connection.account.id, account.id, 'the account the key belongs to');
    assert.match(connection.account.id, /^acct_[0-9a-f]{16}$/);
    assert.equal(connection.account.name, ACCOUNT_NAME, 'the account\'s display name');
    assert.equal(connection.account.livemode, false, 'a test key is test mode');
    assert.match(connection.account.connected_at, RFC3339);
    assert.ok(Math.abs(Date.parse(connection.account.connected_at) - started) < 10_000, connection.account.connected_at);
    assert.equal(connection.webhook_url, before.webhook_url);
    assert.deepEqual(connection.webhook_events, WEBHOOK_EVENTS);
    for (const secret of [stripeServer.secretKey, WEBHOOK_SECRET]) assert.ok(!answer.text.includes(secret), `a secret is shown back: ${answer.text}`);
    const read = await api('GET', stripePath, { token: issuer });
    assert.deepEqual(expectOk('read, connected', read, 200), connection);
    for (const secret of [stripeServer.secretKey, WEBHOOK_SECRET]) assert.ok(!read.text.includes(secret), `a secret is shown: ${read.text}`);

    // Registered at "Stripe" as the owner would in the dashboard.
    await stripeServer.addWebhook({ url: connection.webhook_url, secret: WEBHOOK_SECRET, events: connection.webhook_events });
  });

  it('makes a Checkout Session for the fee, shaped as Stripe\'s SDK reads it, and answers the open one again', { timeout: 30_000 }, async () => {
    assert.ok(connection?.connected, 'connected (the test before)');
    // "Pay and send" is refused for work that could not be sent: Lars has no evidence yet.
    const unsendable = await checkout(lars, lars.submission);
    assert.ok([409, 422].includes(unsendable.status), `Pay and send without evidence: HTTP ${unsendable.status} ${unsendable.text}`);
    assert.match(unsendable.text, /evidence/, `the reason is given: ${unsendable.text}`);
    assert.deepEqual(await paymentsOf(lars.token, lars.submission), [], 'nothing was made at Stripe for it');

    const started = Math.floor(Date.now() / 1000);
    const created = await checkout(paula, paula.submission);
    payment = expectOk('checkout', created, 201);
    assert.match(created.headers.get('cache-control') ?? '', /no-store/);
    assert.deepEqual(Object.keys(payment).sort(), PAYMENT_KEYS, JSON.stringify(payment));
    assert.equal(payment.submission_id, paula.submission);
    assert.equal(payment.status, 'open');
    assert.deepEqual(payment.amount, { minor: 4950, currency: 'EUR' });
    assert.match(payment.checkout_session_id, /^cs_test_/);
    assert.equal(payment.url, `${stripeServer.base}/checkout/pay/${payment.checkout_session_id}`, 'the hosted page of the session');
    assert.equal(payment.payment_intent, null);
    assert.equal(payment.send_when_paid, true);
    for (const at of ['created_at', 'expires_at']) assert.match(payment[at], RFC3339, at);
    assert.equal(payment.paid_at, null);
    assert.equal(payment.refunded_at, null);
    assert.ok(Math.abs(seconds(payment.expires_at) - seconds(payment.created_at) - 3600) <= 2, `an hour to pay: ${payment.created_at} → ${payment.expires_at}`);

    // The session at Stripe, as the SDK reads it.
    const session = await stripe.checkout.sessions.retrieve(payment.checkout_session_id);
    assert.equal(session.object, 'checkout.session');
    assert.equal(session.mode, 'payment');
    assert.equal(session.status, 'open');
    assert.equal(session.payment_status, 'unpaid');
    assert.equal(session.url, payment.url);
    assert.equal(session.amount_total, 4950, 'the amount in cents');
    assert.equal(session.currency, 'eur');
    assert.equal(session.client_reference_id, paula.submission);
    assert.deepEqual(session.metadata, { cairn_submission: paula.submission, cairn_payment: payment.id, cairn_organisation: org });
    assert.equal(session.customer_email, paula.email, 'the learner\'s address, so Stripe sends the receipt there');
    assert.equal(session.success_url, `${base}/submissions/${paula.submission}/paid?session_id={CHECKOUT_SESSION_ID}`);
    assert.equal(session.cancel_url, `${base}/submissions/${paula.submission}/payment-cancelled`);
    assert.equal(session.expires_at, Math.floor(seconds(payment.expires_at)), 'Stripe closes the page when Cairn stops waiting');
    assert.ok(Math.abs(session.expires_at - started - 3600) <= 10, `expires an hour ahead: ${session.expires_at} (now ${started})`);
    const items = await stripe.checkout.sessions.listLineItems(session.id);
    assert.equal(items.data.length, 1);
    assert.equal(items.data[0].description, `Assessment fee: ${BADGE}`);
    assert.equal(items.data[0].quantity, 1);
    assert.equal(items.data[0].amount_total, 4950);

    // Asked again while it is open: the same payment and session, nothing new at Stripe.
    const again = expectOk('checkout again', await checkout(paula, paula.submission), 201);
    assert.deepEqual(again, payment, 'the open payment is answered again');
    const sessions = (await stripe.checkout.sessions.list({ limit: 100 })).data.filter((s) => s.client_reference_id === paula.submission);
    assert.deepEqual(sessions.map((s) => s.id), [payment.checkout_session_id], 'one session for the submission at Stripe');
    assert.deepEqual(await paymentsOf(paula.token, paula.submission), [payment]);
    assert.deepEqual(await paymentsOf(issuer, paula.submission), [payment], 'the issuer\'s owner reads it too');
  });

  it('a declined card changes nothing: the payment stays open and the fee due', { timeout: 30_000 }, async () => {
    assert.ok(payment, 'a checkout (the test before)');
    const declined = await stripeServer.pay(payment.url, { card: CARDS.declined });
    assert.equal(declined.status, 402, declined.html);
    assert.match(declined.html, /Your card was declined/);
    await sleep(2_000); // what a completed session would have sent by now
    assert.deepEqual(await paymentsOf(paula.token, paula.submission), [payment], 'the payment is unchanged');
    const shown = await submissionOf(paula);
    assert.equal(shown.fee, 'due');
    assert.equal(shown.status, 'draft');
    assert.equal((await stripe.checkout.sessions.retrieve(payment.checkout_session_id)).status, 'open', 'the payer may try another card');
    assert.ok(!(await notifications(paula)).some((n) => /Payment received/.test(n.subject)), 'no payment is announced');
  });

  it('paying on the hosted page: checkout.session.completed settles the fee, sends the submission and tells the learner once', { timeout: 30_000 }, async () => {
    assert.ok(payment, 'a checkout');
    const answer = await stripeServer.pay(payment.url);
    assert.equal(answer.status, 303, answer.html);
    // The browser would come back here; not following it leaves the settling to the webhook.
    assert.equal(answer.location, `${base}/submissions/${paula.submission}/paid?session_id=${payment.checkout_session_id}`);
    const session = await stripe.checkout.sessions.retrieve(payment.checkout_session_id);
    assert.equal(session.payment_status, 'paid');

    paid = await paymentReaches(paula.token, paula.submission, payment.id, 'paid');
    assert.equal(paid.payment_intent, session.payment_intent, 'the PaymentIntent is recorded');
    assert.match(paid.payment_intent, /^pi_/);
    assert.match(paid.paid_at ?? '', RFC3339);
    assert.equal(paid.url, null, 'no page to pay on any more');
    assert.equal(paid.refunded_at, null);
    assert.equal(paid.checkout_session_id, payment.checkout_session_id);
    const intent = await stripe.paymentIntents.retrieve(paid.payment_intent);
    assert.equal(intent.amount, 4950);
    assert.equal(intent.status, 'succeeded');
    assert.deepEqual(intent.metadata, { cairn_submission: paula.submission, cairn_payment: payment.id }, 'the PaymentIntent names the payment, for refunds and disputes');

    // Paid, and sent as the learner asked ("Pay and send").
    const sent = await until('the submission sent', async () => {
      const shown = await submissionOf(paula);
      return shown.status === 'submitted' && shown;
    });
    assert.equal(sent.fee, 'paid');
    assert.match(sent.submitted_at ?? '', RFC3339);
    assert.ok(sent.history.some((h) => h.note === 'fee paid online (49.50 EUR)'), `a history entry: ${JSON.stringify(sent.history)}`);
    const queue = await expectOk('the assessor\'s queue', await api('GET', '/api/v1/assessments', { token: assessor }), 200);
    assert.ok(queue.items.some((i) => i.submission_id === paula.submission), 'the submission waits for the assessor');

    await sleep(1_500); // a second delivery of the event, or the return, must not tell twice
    const told = (await notifications(paula)).filter((n) => n.subject === `Payment received: ${BADGE}`);
    assert.equal(told.length, 1, `told once: ${JSON.stringify(told)}`);
    assert.equal(told[0].kind, 'fee');
    assert.match(told[0].body, /49\.50 EUR/);
    assert.equal(told[0].link, `${base}/submissions/${paula.submission}`);

    // Nothing is due any more.
    expectProblem('checkout once paid', await checkout(paula, paula.submission, {}), 409);
    const page = await stripeServer.pay(payment.url);
    assert.equal(page.status, 400, 'the hosted page is closed once paid');
  });

  it('takes and refuses deliveries exactly as the stripe SDK\'s constructEvent does, and each event once', { timeout: 30_000 }, async () => {
    assert.ok(paid, 'a paid payment (the test before)');
    const now = Math.floor(Date.now() / 1000);
    const object = { id: paid.checkout_session_id, object: 'checkout.session', payment_status: 'paid', status: 'complete', payment_intent: paid.payment_intent, client_reference_id: paula.submission };
    const payload = event('checkout.session.completed', object);
    const tampered = payload.replace('"payment_status":"paid"', '"payment_status":"unpaid"');
    assert.notEqual(tampered, payload);
    const right = signed(payload, { timestamp: now });
    const [, rightV1] = /v1=([0-9a-f]{64})/.exec(right);
    const otherSecret = `whsec_${crypto.randomBytes(24).toString('hex')}`;
    const cases = [
      { what: 'another secret', body: payload, header: signed(payload, { secret: otherSecret }), detail: /does not match/ },
      { what: 'a changed body under the original signature', body: tampered, header: right, detail: /does not match/ },
      { what: 'a stale timestamp (10 minutes), signed correctly', body: payload, header: signed(payload, { timestamp: now - 600 }), detail: /300 seconds/ },
      { what: 'only a v0 signature', body: payload, header: `t=${now},v0=${rightV1}`, detail: /no v1 signature|Stripe-Signature/ },
      { what: 'no Stripe-Signature header', body: payload, header: null, detail: /no Stripe-Signature header/ },
      { what: 'a rolled secret: another v1 first, then the right one', body: payload, header: `${signed(payload, { secret: otherSecret, timestamp: now })},v1=${rightV1}`, ok: true },
      { what: 'the right secret', body: payload, header: right, ok: true },
    ];
    for (const c of cases) {
      let sdk;
      try {
        stripe.webhooks.constructEvent(c.body, c.header ?? '', WEBHOOK_SECRET);
        sdk = true;
      } catch (error) {
        assert.ok(error instanceof StripeSignatureVerificationError, `${c.what}: the SDK threw ${error?.name}: ${error?.message}`);
        sdk = false;
      }
      assert.equal(sdk, Boolean(c.ok), `${c.what}: the SDK ${sdk ? 'accepts' : 'refuses'} it (the case is wrong)`);
      const response = await deliver(c.body, c.header);
      if (c.ok) {
        assert.equal(response.status, 200, `${c.what}: the SDK accepts it, Cairn answered HTTP ${response.status} ${response.text}`);
      } else {
        const problem = expectProblem(`${c.what}: the SDK refuses it, Cairn should too`, response, 400);
        assert.match(problem.detail, c.detail, `${c.what}: ${problem.detail}`);
      }
    }
    // Of the two accepted deliveries of one event, the first was taken, the second "taken before".
    const replay = await deliver(payload, signed(payload));
    assert.deepEqual(expectOk('the same event again', replay, 200), { received: true, event: 'taken before' });
    // Cairn is stricter than the SDK in one way: a timestamp 10 minutes ahead is refused too.
    expectProblem('a timestamp 10 minutes ahead', await deliver(payload, signed(payload, { timestamp: now + 600 })), 400);

    // A new event, signed by the SDK: taken, then "taken before"; the paid payment is unchanged.
    const fresh = event('checkout.session.completed', object);
    assert.deepEqual(expectOk('a new event', await deliver(fresh, signed(fresh)), 200), { received: true, event: 'taken' });
    assert.deepEqual(expectOk('it again', await deliver(fresh, signed(fresh)), 200), { received: true, event: 'taken before' });
    const other = event('customer.created', { id: 'cus_123', object: 'customer' });
    assert.deepEqual(expectOk('an event Cairn does not act on', await deliver(other, signed(other)), 200), { received: true, event: 'ignored' });
    const garbage = 'this is not an event';
    expectProblem('a body that is not JSON, signed', await deliver(garbage, signed(garbage)), 400);
    expectProblem('an organisation that is not connected', await deliver(fresh, signed(fresh), crypto.randomUUID()), 404);

    assert.deepEqual(await paymentsOf(paula.token, paula.submission), [paid], 'the payment is as it was settled');
    assert.equal((await notifications(paula)).filter((n) => n.subject === `Payment received: ${BADGE}`).length, 1, 'still told once');
  });

  it('an expired session expires the payment; the next checkout makes a new session', { timeout: 30_000 }, async () => {
    // Lars pays without sending (his work has no evidence yet).
    const first = expectOk('checkout without sending', await checkout(lars, lars.submission, {}), 201);
    assert.equal(first.send_when_paid, false);
    assert.equal(first.status, 'open');
    const expired = await stripeServer.api('POST', `/v1/checkout/sessions/${first.checkout_session_id}/expire`);
    assert.equal(expired.status, 200, expired.text);
    const gone = await paymentReaches(lars.token, lars.submission, first.id, 'expired');
    assert.equal(gone.url, null, 'no page to pay on');
    assert.equal(gone.paid_at, null);
    assert.equal((await submissionOf(lars)).fee, 'due');

    const second = expectOk('checkout after expiry', await checkout(lars, lars.submission, {}), 201);
    assert.notEqual(second.id, first.id, 'a new payment');
    assert.notEqual(second.checkout_session_id, first.checkout_session_id, 'a new session');
    assert.equal(second.status, 'open');
    assert.equal((await stripe.checkout.sessions.retrieve(second.checkout_session_id)).status, 'open');
    assert.deepEqual((await paymentsOf(lars.token, lars.submission)).map((p) => [p.id, p.status]), [[second.id, 'open'], [first.id, 'expired']], 'newest first');
  });

  it('payments are read by the learner and the issuer\'s owner, not by an assessor or another learner', { timeout: 30_000 }, async () => {
    assert.equal((await paymentsOf(issuer, paula.submission)).length, 1);
    assert.equal((await paymentsOf(paula.token, paula.submission)).length, 1);
    expectProblem('the assessor', await api('GET', `/api/v1/submissions/${paula.submission}/payments`, { token: assessor }), 404);
    expectProblem('another learner', await api('GET', `/api/v1/submissions/${paula.submission}/payments`, { token: lars.token }), 404);
    const anonymous = await api('GET', `/api/v1/submissions/${paula.submission}/payments`);
    assert.ok([401, 404].includes(anonymous.status), `anonymous: HTTP ${anonymous.status} ${anonymous.text}`);
    expectProblem('another learner\'s checkout', await checkout(lars, paula.submission, {}), 404);
    expectProblem('the issuer\'s checkout for the learner', await api('POST', `/api/v1/submissions/${lars.submission}/checkout`, { token: issuer, body: {} }), 404);
  });

  it('withdrawing the sent submission before assessment refunds it once, also after charge.refunded', { timeout: 30_000 }, async () => {
    assert.ok(paid, 'a paid payment');
    assert.equal((await submissionOf(paula)).status, 'submitted', 'sent, not yet opened by an assessor');
    const withdrawn = expectOk('withdraw', await api('POST', `/api/v1/submissions/${paula.submission}/withdraw`, { token: paula.token, body: {} }), 200);
    assert.equal(withdrawn.status, 'withdrawn');

    const refunded = await paymentReaches(paula.token, paula.submission, paid.id, 'refunded');
    assert.match(refunded.refunded_at ?? '', RFC3339);
    assert.equal(refunded.paid_at, paid.paid_at);
    assert.equal(refunded.payment_intent, paid.payment_intent);
    const refunds = await stripeServer.refunds(paid.payment_intent);
    assert.equal(refunds.length, 1, `one refund at Stripe: ${JSON.stringify(refunds)}`);
    assert.equal(refunds[0].amount, 4950, 'the whole fee');
    assert.equal(refunds[0].status, 'succeeded');
    assert.equal(refunds[0].metadata?.cairn_payment, paid.id, `the refund names the payment: ${JSON.stringify(refunds[0])}`);

    // localstripe sends charge.refunded about a second after the refund: recorded before, so nothing more.
    await sleep(2_500);
    // And the same kind of event again, signed by the SDK (as Stripe retries): still nothing more.
    const charge = await stripe.charges.retrieve((await stripe.paymentIntents.retrieve(paid.payment_intent)).latest_charge);
    assert.equal(charge.refunded, true);
    const again = event('charge.refunded', { id: charge.id, object: 'charge', payment_intent: paid.payment_intent, refunded: true, amount: 4950, amount_refunded: 4950 });
    assert.deepEqual(expectOk('charge.refunded again', await deliver(again, signed(again)), 200), { received: true, event: 'taken' });
    await sleep(500);
    assert.equal((await stripeServer.refunds(paid.payment_intent)).length, 1, 'still one refund at Stripe');
    assert.deepEqual(await paymentsOf(paula.token, paula.submission), [refunded], 'recorded once');
    const told = (await notifications(paula)).filter((n) => n.subject === 'Your fee is refunded');
    assert.equal(told.length, 1, `told once: ${JSON.stringify(told)}`);
    assert.match(told[0].body, /49\.50 EUR/);
    assert.equal((await submissionOf(paula)).status, 'withdrawn');
  });

  it('a micro-credential\'s fee paid once on one level settles the other level; withdrawing the paid level refunds it', { timeout: 30_000 }, async () => {
    const level = (n) => {
      const body = badgeBody(`Paid Ladder ${n}`, null);
      delete body.kind;
      return body;
    };
    const body = {
      kind: 'micro-credential',
      name: 'Paid Ladder',
      description: 'Three levels of payments work',
      criteria: 'Hold all three levels',
      fee: { amount: '120', currency: 'EUR', plan: 'upfront' },
      levels: [level(1), level(2), level(3)],
      levels_in_any_order: true,
    };
    const stack = await expectOk('create the micro-credential', await api('POST', `/api/v1/organisations/${org}/achievements`, { token: issuer, body }), 201);
    expectOk('publish it', await api('POST', `/api/v1/achievements/${stack.id}/publish`, { token: issuer, body: {} }), 200);
    const [level1, level2] = stack.levels;
    const mia = await signUp('Mia Ladder', 'mia.ladder@example.org');
    const first = await draft(mia, level1);
    const second = await draft(mia, level2);
    assert.deepEqual([first.fee, second.fee], ['due', 'due']);

    const pay = expectOk('checkout on level 2', await checkout(mia, second.id, {}), 201);
    assert.deepEqual(pay.amount, { minor: 12000, currency: 'EUR' }, 'the whole micro-credential\'s fee');
    assert.equal((await stripe.checkout.sessions.retrieve(pay.checkout_session_id)).amount_total, 12000);
    assert.equal((await stripeServer.pay(pay.url)).status, 303);
    const settled = await paymentReaches(mia.token, second.id, pay.id, 'paid');
    assert.equal((await submissionOf(mia, second.id)).status, 'draft', 'not sent: the learner did not ask');
    const covered = await until('level 1 covered', async () => {
      const shown = await submissionOf(mia, first.id);
      return shown.fee === 'paid' && shown;
    });
    assert.ok(covered.history.some((h) => h.note === 'fee paid with the micro-credential\'s fee'), JSON.stringify(covered.history));
    expectProblem('checkout on the covered level', await checkout(mia, first.id, {}), 409);

    // Withdrawing the level paid on (a draft): refunded, and the other level owes the fee again.
    expectOk('withdraw level 2', await api('POST', `/api/v1/submissions/${second.id}/withdraw`, { token: mia.token, body: {} }), 200);
    await paymentReaches(mia.token, second.id, pay.id, 'refunded');
    assert.equal((await stripeServer.refunds(settled.payment_intent)).length, 1, 'one refund at Stripe');
    const owing = await submissionOf(mia, first.id);
    assert.equal(owing.fee, 'due', 'the other level owes the fee again');
    assert.ok(owing.history.some((h) => /fee due again/.test(h.note)), JSON.stringify(owing.history));
  });

  it('a Checkout Session left open when its submission is withdrawn takes no money for it', { timeout: 30_000 }, async () => {
    const nora = await signUp('Nora Noshow', 'nora.noshow@example.org');
    const mine = await draft(nora, badge);
    const open = expectOk('checkout', await checkout(nora, mine.id), 201);
    expectOk('withdraw the draft', await api('POST', `/api/v1/submissions/${mine.id}/withdraw`, { token: nora.token, body: {} }), 200);
    const wrong = [];

    // No payment is offered for a withdrawn submission.
    for (const body of [{}, { send_when_paid: true }]) {
      const late = await checkout(nora, mine.id, body);
      if (late.status !== 409) wrong.push(`POST /api/v1/submissions/{withdrawn}/checkout ${JSON.stringify(body)} answered HTTP ${late.status} (expected 409): ${late.text}`);
    }

    // The page opened before the withdrawal, paid after it (in another tab): either Stripe no
    // longer takes the payment (Cairn expired the session), or Cairn gives the money back.
    const answer = await stripeServer.pay(open.url);
    if (answer.status === 303) {
      const session = await stripe.checkout.sessions.retrieve(open.checkout_session_id);
      const deadline = Date.now() + 8_000;
      let refunds = [];
      while (Date.now() < deadline && refunds.length === 0) {
        await sleep(300);
        refunds = await stripeServer.refunds(session.payment_intent);
      }
      if (refunds.length !== 1) {
        const payments = await paymentsOf(nora.token, mine.id);
        const shown = await submissionOf(nora, mine.id);
        const told = (await notifications(nora)).map((n) => n.subject);
        wrong.push(`the hosted page opened before the withdrawal still took 49.50 EUR after it (HTTP 303), and ${refunds.length} refund(s) were made within 8 s; `
          + `Cairn's payments: ${JSON.stringify(payments.map((p) => [p.status, p.payment_intent]))}, submission ${shown.status} with fee ${shown.fee}, notifications ${JSON.stringify(told)}`);
      }
    } else {
      assert.equal(answer.status, 400, `the hosted page: HTTP ${answer.status} ${answer.html}`);
    }
    assert.deepEqual(wrong, [], `money for a withdrawn submission:\n${wrong.join('\n')}`);
  });

  it('disconnecting stops checkouts and the webhook', { timeout: 30_000 }, async () => {
    const stripePath = `/api/v1/organisations/${org}/payments/stripe`;
    expectProblem('the assessor disconnects', await api('DELETE', stripePath, { token: assessor }), 403);
    const gone = await api('DELETE', stripePath, { token: issuer });
    assert.equal(gone.status, 204, gone.text);
    const read = await expectOk('read', await api('GET', stripePath, { token: issuer }), 200);
    assert.equal(read.connected, false);
    assert.equal(read.account, null);
    expectProblem('disconnect again', await api('DELETE', stripePath, { token: issuer }), 404);
    const payload = event('checkout.session.completed', { id: 'cs_test_x', object: 'checkout.session' });
    expectProblem('a delivery after disconnecting', await deliver(payload, signed(payload)), 404);
    expectProblem('a checkout after disconnecting', await checkout(lars, lars.submission, {}), 409);
    // Payments made stay as they are.
    assert.equal((await paymentsOf(paula.token, paula.submission))[0].status, 'refunded');
  });
});
