// The local Stripe test server the payment tests stand in for Stripe with (localstripe plus
// tests/interop/peers/stripe_server.py, started by lib/stripe.mjs) speaks Stripe's API as
// Stripe's own Node SDK, the npm package `stripe` (pinned in tests/interop/peers), expects it:
// the SDK, pointed at the server, reads the account; creates a Checkout Session in payment mode
// with price_data, metadata, payment_intent_data, client_reference_id and customer_email, and
// gets Stripe's object back; repeats it under one Idempotency-Key and gets the same session (and
// no second one), while other parameters under that key are refused; sees Stripe's validation
// errors as its StripeInvalidRequestError with the parameter named, and a wrong key as its
// StripeAuthenticationError. A payer pays on the hosted page (redirected to the success URL with
// {CHECKOUT_SESSION_ID} filled in, the PaymentIntent carrying the session's metadata), is
// declined with Stripe's declining test card (the session stays open, and can then be paid), and
// finds a paid or expired session's page gone. A Node `http` receiver registered for the events
// gets checkout.session.completed, checkout.session.expired, refund.created and charge.refunded,
// each verified by the SDK's stripe.webhooks.constructEvent with the endpoint's secret (and
// checked against an HMAC computed here), while a changed body, another secret or a stale
// timestamp is refused with StripeSignatureVerificationError. Refunds by payment_intent through
// the SDK: whole, partial then the rest, idempotent, and a refund of a refunded payment refused
// with charge_already_refunded.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { importPeer } from './lib/cairn.mjs';
import { CARDS, startStripe } from './lib/stripe.mjs';

const { default: Stripe } = await importPeer('stripe');
const { StripeInvalidRequestError, StripeAuthenticationError, StripeIdempotencyError, StripeSignatureVerificationError } = Stripe.errors;

const WEBHOOK_SECRET = 'whsec_interopLocalstripeSecret0123456789';
const EVENTS = ['checkout.session.completed', 'checkout.session.expired', 'charge.refunded', 'refund.created'];
const FEE = { amount: 4950, currency: 'eur', name: 'Assessment fee: Advanced First Aid' };
const SUCCESS_URL = 'https://cairn.test/payments/return?session={CHECKOUT_SESSION_ID}&ok=1';
const CANCEL_URL = 'https://cairn.test/payments/cancelled?submission=sub_1';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A receiver on a free loopback port keeping every request's headers and raw body. */
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
    url: `http://127.0.0.1:${server.address().port}/stripe/webhook`,
    received,
    stop: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

describe('the Stripe test server answers the stripe SDK like Stripe', () => {
  let stripeServer; // lib/stripe.mjs's handle
  let stripe; // the SDK, pointed at the server
  let receiver;
  let paid; // a session paid on the hosted page, as retrieved after
  let retried; // a session declined once, then paid

  /** Creates a session with the parameters Cairn sends; `overrides` replace or remove (undefined) some. */
  const createSession = (overrides = {}, options = undefined) => {
    const params = {
      mode: 'payment',
      line_items: [{ quantity: 1, price_data: { currency: FEE.currency, unit_amount: FEE.amount, product_data: { name: FEE.name } } }],
      success_url: SUCCESS_URL,
      cancel_url: CANCEL_URL,
      client_reference_id: 'submission-42',
      customer_email: 'hedda.payer@example.org',
      metadata: { submission: 'submission-42', badge: 'first-aid' },
      payment_intent_data: { metadata: { submission: 'submission-42' } },
      ...overrides,
    };
    for (const key of Object.keys(params)) if (params[key] === undefined) delete params[key];
    return stripe.checkout.sessions.create(params, options);
  };

  /** The SDK's verification of a delivered message; fails the test when it refuses. */
  function verified(message) {
    try {
      return stripe.webhooks.constructEvent(message.raw, message.headers['stripe-signature'], WEBHOOK_SECRET);
    } catch (error) {
      assert.fail(`constructEvent refused a message the server sent (${error?.name}: ${error?.message}): ${message.headers['stripe-signature']} ${message.raw}`);
    }
  }

  /** Waits up to `ms` for the events of `type` whose data.object matches `where`; all verified. */
  async function eventsOf(type, where = () => true, count = 1, ms = 10_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const events = receiver.received.map(verified).filter((event) => event.type === type && where(event.data.object));
      if (events.length >= count) {
        await sleep(300); // a moment more, to see one that should not have come
        return receiver.received.map(verified).filter((event) => event.type === type && where(event.data.object));
      }
      assert.ok(Date.now() < deadline, `no ${type} event within ${ms} ms; got ${receiver.received.map((m) => JSON.parse(m.raw).type).join(', ')}\n${stripeServer.log()}`);
      await sleep(100);
    }
  }
  const messageOf = (event) => receiver.received.find((m) => JSON.parse(m.raw).id === event.id);

  /** Asserts `promise` rejects with an SDK error of `Class` and the given fields. */
  async function rejects(promise, Class, fields, what) {
    await assert.rejects(promise, (error) => {
      assert.ok(error instanceof Class, `${what}: ${error?.constructor?.name} ${error?.message}`);
      for (const [key, value] of Object.entries(fields)) assert.equal(error[key], value, `${what}: error.${key} (${error.message})`);
      return true;
    }, `${what}: the request succeeded`);
  }

  before(async () => {
    stripeServer = await startStripe({ accountName: 'Cairn Interop Assessments' });
    receiver = await startReceiver();
    await stripeServer.addWebhook({ url: receiver.url, secret: WEBHOOK_SECRET, events: EVENTS });
    stripe = new Stripe(stripeServer.secretKey, { host: '127.0.0.1', port: stripeServer.port, protocol: 'http' });
  });
  after(async () => {
    await receiver?.stop();
    await stripeServer?.stop();
  });

  it('answers the account for a test key, and refuses a missing or live key', async () => {
    const account = await stripe.accounts.retrieve();
    assert.equal(account.object, 'account');
    assert.match(account.id, /^acct_[0-9a-f]{16}$/);
    assert.equal(account.business_profile.name, 'Cairn Interop Assessments');
    assert.equal(account.settings.dashboard.display_name, 'Cairn Interop Assessments');
    assert.equal(account.country, 'FR');
    assert.equal(account.default_currency, 'eur');
    assert.equal(account.charges_enabled, true);
    const again = await new Stripe(stripeServer.secretKey, { host: '127.0.0.1', port: stripeServer.port, protocol: 'http' }).accounts.retrieve();
    assert.equal(again.id, account.id, 'the same key is the same account');
    const other = await new Stripe('sk_test_anotherIssuersKey', { host: '127.0.0.1', port: stripeServer.port, protocol: 'http' }).accounts.retrieve();
    assert.notEqual(other.id, account.id, 'another key is another account');

    const live = new Stripe('sk_live_notATestKey1234', { host: '127.0.0.1', port: stripeServer.port, protocol: 'http' });
    await rejects(live.accounts.retrieve(), StripeAuthenticationError, { statusCode: 401, type: 'StripeAuthenticationError' }, 'a live key');
    const none = await stripeServer.api('GET', '/v1/account', undefined, { key: null });
    assert.equal(none.status, 401, none.text);
    assert.equal(none.json.error.type, 'invalid_request_error', none.text);
    assert.match(none.json.error.message, /You did not provide an API key/, none.text);
  });

  it('creates a Checkout Session in Stripe\'s shape and answers it again when retrieved', async () => {
    const before = Math.floor(Date.now() / 1000);
    const session = await createSession();
    assert.match(session.id, /^cs_test_[A-Za-z0-9]+$/);
    assert.equal(session.object, 'checkout.session');
    assert.equal(session.url, `${stripeServer.base}/checkout/pay/${session.id}`);
    assert.equal(session.status, 'open');
    assert.equal(session.payment_status, 'unpaid');
    assert.equal(session.mode, 'payment');
    assert.equal(session.amount_subtotal, FEE.amount);
    assert.equal(session.amount_total, FEE.amount);
    assert.equal(session.currency, FEE.currency);
    assert.equal(session.client_reference_id, 'submission-42');
    assert.equal(session.customer_email, 'hedda.payer@example.org');
    assert.equal(session.customer_details?.email, 'hedda.payer@example.org');
    assert.deepEqual(session.metadata, { submission: 'submission-42', badge: 'first-aid' });
    assert.equal(session.payment_intent, null, 'no PaymentIntent before paying');
    assert.equal(session.success_url, SUCCESS_URL, 'the {CHECKOUT_SESSION_ID} placeholder is kept until the redirect');
    assert.equal(session.cancel_url, CANCEL_URL);
    assert.equal(session.livemode, false);
    assert.ok(session.created >= before && session.created <= before + 5, `created ${session.created}`);
    assert.equal(session.expires_at, session.created + 24 * 3600, 'expires 24 h after creation by default');
    assert.deepEqual(await stripe.checkout.sessions.retrieve(session.id), session);
    assert.deepEqual(await stripeServer.session(session.id), session);

    const items = await stripe.checkout.sessions.listLineItems(session.id);
    assert.equal(items.object, 'list');
    assert.equal(items.data.length, 1);
    assert.equal(items.data[0].description, FEE.name);
    assert.equal(items.data[0].quantity, 1);
    assert.equal(items.data[0].amount_total, FEE.amount);
    assert.equal(items.data[0].price.unit_amount, FEE.amount);

    const soon = Math.floor(Date.now() / 1000) + 3600;
    assert.equal((await createSession({ expires_at: soon })).expires_at, soon, 'expires_at as asked');
  });

  it('answers the first session again for a repeated Idempotency-Key, and refuses other parameters under it', async () => {
    const key = `checkout-submission-42-${crypto.randomUUID()}`;
    const first = await createSession({}, { idempotencyKey: key });
    const count = (await stripe.checkout.sessions.list({ limit: 100 })).data.length;
    const second = await createSession({}, { idempotencyKey: key });
    assert.equal(second.id, first.id, 'the same session');
    assert.deepEqual(second, first);
    assert.equal((await stripe.checkout.sessions.list({ limit: 100 })).data.length, count, 'no second session was created');
    await rejects(createSession({ client_reference_id: 'submission-43' }, { idempotencyKey: key }), StripeIdempotencyError, { statusCode: 400, type: 'StripeIdempotencyError' }, 'other parameters under the key');
  });

  it('refuses invalid sessions with Stripe\'s invalid_request_error naming the parameter', async () => {
    await rejects(createSession({ success_url: undefined }), StripeInvalidRequestError, { statusCode: 400, param: 'success_url', code: 'parameter_missing' }, 'no success_url');
    await rejects(createSession({ mode: 'pay-now' }), StripeInvalidRequestError, { statusCode: 400, param: 'mode' }, 'a bad mode');
    await rejects(createSession({ line_items: undefined }), StripeInvalidRequestError, { statusCode: 400, param: 'line_items', code: 'parameter_missing' }, 'no line_items');
    await rejects(createSession({ line_items: [{ quantity: 1, price_data: { currency: 'eur', product_data: { name: 'x' } } }] }), StripeInvalidRequestError, { statusCode: 400, param: 'line_items[0][price_data][unit_amount]' }, 'no unit_amount');
    await rejects(createSession({ expires_at: Math.floor(Date.now() / 1000) + 60 }), StripeInvalidRequestError, { statusCode: 400, param: 'expires_at' }, 'expires_at in a minute');
    await rejects(stripe.checkout.sessions.retrieve('cs_test_doesNotExist'), StripeInvalidRequestError, { statusCode: 404, code: 'resource_missing' }, 'an unknown session');
  });

  it('pays on the hosted page: redirected to the success URL, the session complete and announced', async () => {
    const session = await createSession();
    const page = await fetch(session.url);
    const html = await page.text();
    assert.equal(page.status, 200, html);
    assert.match(html, new RegExp(FEE.name), 'the page names the product');
    assert.match(html, /49\.50 EUR/, 'the page shows the amount');
    assert.match(html, /name="card"[^>]*value="4242424242424242"/, 'the card field is prefilled');
    assert.ok(html.includes(`href="${CANCEL_URL.replace(/&/g, '&amp;')}"`), 'a Cancel link to cancel_url');

    const answer = await stripeServer.pay(session.url);
    assert.equal(answer.status, 303, answer.html);
    assert.equal(answer.location, SUCCESS_URL.replace('{CHECKOUT_SESSION_ID}', session.id));

    paid = await stripe.checkout.sessions.retrieve(session.id);
    assert.equal(paid.status, 'complete');
    assert.equal(paid.payment_status, 'paid');
    assert.match(paid.payment_intent ?? '', /^pi_/);
    assert.equal(paid.url, null, 'no URL once complete');
    const intent = await stripe.paymentIntents.retrieve(paid.payment_intent);
    assert.equal(intent.status, 'succeeded');
    assert.equal(intent.amount, FEE.amount);
    assert.equal(intent.currency, FEE.currency);
    assert.deepEqual(intent.metadata, { submission: 'submission-42' }, 'payment_intent_data[metadata]');
    assert.match(intent.latest_charge, /^ch_/, 'latest_charge: the charge\'s id');
    const charge = await stripe.charges.retrieve(intent.latest_charge);
    assert.equal(charge.paid, true);
    assert.equal(charge.amount, FEE.amount);
    assert.equal(charge.payment_intent, intent.id);
    const expanded = await stripe.paymentIntents.retrieve(paid.payment_intent, { expand: ['latest_charge'] });
    assert.equal(expanded.latest_charge.id, intent.latest_charge, 'expand[]=latest_charge');

    const [event] = await eventsOf('checkout.session.completed', (object) => object.id === session.id);
    assert.match(event.id, /^evt_/);
    assert.equal(event.object, 'event');
    assert.equal(event.livemode, false);
    assert.equal(typeof event.api_version, 'string');
    assert.ok(Math.abs(event.created - Date.now() / 1000) < 60, `created ${event.created}`);
    assert.equal(event.data.object.object, 'checkout.session');
    assert.equal(event.data.object.status, 'complete');
    assert.equal(event.data.object.payment_status, 'paid');
    assert.equal(event.data.object.payment_intent, paid.payment_intent);
    assert.equal(event.data.object.client_reference_id, 'submission-42');
    assert.deepEqual(event.data.object.metadata, paid.metadata);
    assert.equal(event.data.object.amount_total, FEE.amount);

    // The signature is Stripe's scheme: HMAC-SHA256 of "<t>.<raw body>" keyed with the secret.
    const message = messageOf(event);
    const header = message.headers['stripe-signature'];
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) ?? [];
    assert.ok(t, `Stripe-Signature: ${header}`);
    assert.equal(v1, crypto.createHmac('sha256', WEBHOOK_SECRET).update(`${t}.`).update(message.raw).digest('hex'));
    const tampered = Buffer.from(message.raw.toString('utf8').replace('"paid"', '"unpaid"'));
    assert.notDeepEqual(tampered, message.raw);
    for (const [what, raw, secret, sigHeader] of [
      ['a changed body', tampered, WEBHOOK_SECRET, header],
      ['another secret', message.raw, 'whsec_someoneElse', header],
      ['a stale timestamp', message.raw, WEBHOOK_SECRET, `t=${Number(t) - 600},v1=${crypto.createHmac('sha256', WEBHOOK_SECRET).update(`${Number(t) - 600}.`).update(message.raw).digest('hex')}`],
    ]) {
      assert.throws(() => stripe.webhooks.constructEvent(raw, sigHeader, secret), (error) => {
        assert.ok(error instanceof StripeSignatureVerificationError, `${what}: ${error?.constructor?.name} ${error?.message}`);
        return true;
      }, `${what}: accepted`);
    }

    const again = await stripeServer.pay(session.url);
    assert.equal(again.status, 400, `a paid session's page: ${again.html}`);
    assert.match(again.html, /already paid/);
    const resent = await fetch(session.url, { method: 'POST', body: new URLSearchParams({ card: CARDS.ok }), redirect: 'manual' });
    assert.equal(resent.status, 400, `the form sent again: ${await resent.text()}`);
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).payment_intent, paid.payment_intent, 'not paid twice');
    assert.equal((await eventsOf('checkout.session.completed', (object) => object.id === session.id)).length, 1, 'announced once');
  });

  it('declines Stripe\'s declined test card on the hosted page and leaves the session open to pay again', async () => {
    const session = await createSession({ client_reference_id: 'submission-declined' });
    const declined = await stripeServer.pay(session.url, { card: CARDS.declined });
    assert.equal(declined.status, 402, declined.html);
    assert.equal(declined.location, null);
    assert.match(declined.html, /Your card was declined/);
    const still = await stripe.checkout.sessions.retrieve(session.id);
    assert.equal(still.status, 'open');
    assert.equal(still.payment_status, 'unpaid');
    assert.equal(still.payment_intent, null);

    const answer = await stripeServer.pay(session.url);
    assert.equal(answer.status, 303, answer.html);
    retried = await stripe.checkout.sessions.retrieve(session.id);
    assert.equal(retried.payment_status, 'paid');
    const completed = await eventsOf('checkout.session.completed', (object) => object.id === session.id);
    assert.equal(completed.length, 1, 'announced once');
  });

  it('refunds by payment_intent through the SDK, idempotently, announces it, and refuses a second refund', async () => {
    const key = `refund-${crypto.randomUUID()}`;
    const refund = await stripe.refunds.create({ payment_intent: paid.payment_intent, metadata: { reason: 'assessment withdrawn' } }, { idempotencyKey: key });
    assert.match(refund.id, /^re_/);
    assert.equal(refund.object, 'refund');
    assert.equal(refund.amount, FEE.amount);
    assert.equal(refund.currency, FEE.currency);
    assert.equal(refund.status, 'succeeded');
    assert.equal(refund.payment_intent, paid.payment_intent);
    assert.equal(refund.charge, (await stripe.paymentIntents.retrieve(paid.payment_intent)).latest_charge);
    assert.deepEqual(refund.metadata, { reason: 'assessment withdrawn' });
    const repeated = await stripe.refunds.create({ payment_intent: paid.payment_intent, metadata: { reason: 'assessment withdrawn' } }, { idempotencyKey: key });
    assert.equal(repeated.id, refund.id, 'the same refund for the same Idempotency-Key');
    assert.deepEqual((await stripeServer.refunds(paid.payment_intent)).map((r) => r.id), [refund.id], 'one refund only');

    const [refunded] = await eventsOf('charge.refunded', (object) => object.payment_intent === paid.payment_intent);
    assert.equal(refunded.data.object.object, 'charge');
    assert.equal(refunded.data.object.id, refund.charge);
    assert.equal(refunded.data.object.refunded, true);
    assert.equal(refunded.data.object.amount_refunded, FEE.amount);
    const created = await eventsOf('refund.created', (object) => object.payment_intent === paid.payment_intent);
    assert.deepEqual(created.map((event) => event.data.object.id), [refund.id], 'refund.created once');

    await rejects(stripe.refunds.create({ payment_intent: paid.payment_intent }), StripeInvalidRequestError, { statusCode: 400, code: 'charge_already_refunded' }, 'a refunded payment');
    await rejects(stripe.refunds.create({ payment_intent: 'pi_doesNotExist' }), StripeInvalidRequestError, { statusCode: 400, code: 'resource_missing', param: 'payment_intent' }, 'an unknown PaymentIntent');
  });

  it('refunds part of a payment, then the rest, each announced with the charge\'s refunded amount', async () => {
    const pi = retried.payment_intent;
    const part = await stripe.refunds.create({ payment_intent: pi, amount: 950 });
    assert.equal(part.amount, 950);
    await rejects(stripe.refunds.create({ payment_intent: pi, amount: FEE.amount }), StripeInvalidRequestError, { statusCode: 400, param: 'amount' }, 'more than is left');
    const rest = await stripe.refunds.create({ payment_intent: pi });
    assert.equal(rest.amount, FEE.amount - 950, 'without amount: what is left');
    assert.deepEqual((await stripeServer.refunds(pi)).map((r) => r.amount).sort((a, b) => a - b), [950, FEE.amount - 950]);
    const events = await eventsOf('charge.refunded', (object) => object.payment_intent === pi, 2);
    assert.deepEqual(events.map((e) => [e.data.object.amount_refunded, e.data.object.refunded]).sort((a, b) => a[0] - b[0]), [[950, false], [FEE.amount, true]]);
    await rejects(stripe.refunds.create({ payment_intent: pi, amount: 1 }), StripeInvalidRequestError, { code: 'charge_already_refunded' }, 'nothing left');
  });

  it('expires an open session: status expired, announced, its page gone, and only once', async () => {
    const session = await createSession({ client_reference_id: 'submission-expired' });
    const expired = await stripe.checkout.sessions.expire(session.id);
    assert.equal(expired.id, session.id);
    assert.equal(expired.status, 'expired');
    assert.equal(expired.payment_status, 'unpaid');
    assert.equal(expired.url, null);
    const [event] = await eventsOf('checkout.session.expired', (object) => object.id === session.id);
    assert.equal(event.data.object.status, 'expired');
    assert.equal(event.data.object.client_reference_id, 'submission-expired');
    await rejects(stripe.checkout.sessions.expire(session.id), StripeInvalidRequestError, { statusCode: 400 }, 'expiring it again');
    await rejects(stripe.checkout.sessions.expire(paid.id), StripeInvalidRequestError, { statusCode: 400 }, 'expiring a complete session');
    const page = await stripeServer.pay(session.url);
    assert.equal(page.status, 400, page.html);
    assert.match(page.html, /expired/);
    assert.equal((await eventsOf('checkout.session.expired', (object) => object.id === session.id)).length, 1);
  });
});
