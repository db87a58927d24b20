// What the interop tests that pay through Stripe share: a local Stripe test server, localstripe
// (PyPI, pinned in tests/interop/peers/requirements-stripe.txt, in .venv-stripe) with
// tests/interop/peers/stripe_server.py's Checkout Sessions, account, refund events and
// idempotency, on a free loopback port; a secret key it accepts; webhook endpoints registered
// with localstripe (which signs every event it sends: `Stripe-Signature: t=…,v1=…`); the hosted
// payment page filled in as a payer would; and the refunds and sessions as Stripe's API answers
// them. Stop it with `stop()` (SIGTERM).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, peers } from './cairn.mjs';

export const stripePython = path.join(peers, '.venv-stripe/bin/python');
export const stripeServerScript = path.join(peers, 'stripe_server.py');
/** The secret key the tests use; the server takes any `sk_test_…` key (one account per key). */
export const TEST_SECRET_KEY = 'sk_test_51CairnInteropLocalstripeKey000000000000';
/** Stripe's test cards: paid, and declined (card_declined). */
export const CARDS = { ok: '4242424242424242', declined: '4000000000000002' };

/** Stripe's form encoding: `a[b][0][c]=v` for nested objects and arrays; nulls left out. */
export function formEncode(params, prefix = '', into = new URLSearchParams()) {
  for (const [key, value] of Object.entries(params ?? {})) {
    const name = prefix ? `${prefix}[${key}]` : key;
    if (value === undefined || value === null) continue;
    if (typeof value === 'object') formEncode(value, name, into);
    else into.append(name, String(value));
  }
  return into;
}

const decodeEntities = (text) => text
  .replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&#39;/g, "'")
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The value of attribute `name` in the start tag `tag`, decoded; undefined when absent. */
const attribute = (tag, name) => {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? decodeEntities(match[1]) : undefined;
};

/**
 * Starts the Stripe test server on a free loopback port and waits until it says it listens
 * (fails with its output if it exits first or takes more than 30 s). `options` are passed on:
 * `accountName`, `country`, `currency` (the account's), `verbose` (log every request).
 * Returns `{ base, port, secretKey, api, addWebhook, pay, refunds, session, log, stop }`.
 */
export async function startStripe({ accountName, country, currency, verbose = false } = {}) {
  assert.ok(fs.existsSync(stripePython), `${stripePython} is missing: bash tests/interop/peers/install.sh`);
  const port = await freePort();
  const args = [stripeServerScript, '--port', String(port)];
  if (accountName) args.push('--account-name', accountName);
  if (country) args.push('--country', country);
  if (currency) args.push('--currency', currency);
  if (verbose) args.push('--verbose');
  const server = spawn(stripePython, args, { cwd: peers, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = null;
  const keep = (chunk) => { output = (output + chunk).slice(-32_000); };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      server.kill('SIGKILL');
      reject(new Error(`stripe_server.py did not listen within 30 s:\n${output}`));
    }, 30_000);
    const ready = () => {
      const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(output);
      if (match) { clearTimeout(timer); server.stdout.off('data', ready); resolve(match[1]); }
    };
    server.stdout.on('data', ready);
    server.on('exit', (code, signal) => {
      exited = { code, signal };
      clearTimeout(timer);
      reject(new Error(`stripe_server.py exited early (${JSON.stringify(exited)}):\n${output}`));
    });
    server.on('error', (error) => { clearTimeout(timer); reject(error); });
  });
  const secretKey = TEST_SECRET_KEY;

  /**
   * Calls Stripe's API as Cairn does (Bearer key, form-encoded body, optional Idempotency-Key);
   * resolves with `{ status, json, headers }` whatever the status.
   */
  async function api(method, urlPath, params, { idempotencyKey, key = secretKey } = {}) {
    const headers = { accept: 'application/json' };
    if (key) headers.authorization = `Bearer ${key}`;
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    let url = base + urlPath;
    let body;
    if (method === 'GET' || method === 'DELETE') {
      const query = formEncode(params).toString();
      if (query) url += `?${query}`;
    } else {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = formEncode(params).toString();
    }
    const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(15_000) });
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, json, text, headers: response.headers };
  }

  async function ok(what, response) {
    const answer = await response;
    assert.equal(answer.status, 200, `${what}: HTTP ${answer.status} ${answer.text}`);
    return answer.json;
  }

  let webhooks = 0;
  return {
    base,
    port: Number(new URL(base).port),
    secretKey,
    api,
    /**
     * Registers a webhook endpoint with localstripe (POST /_config/webhooks/{id}): every event
     * of a type in `events` (all when omitted or ['*']) is POSTed to `url`, signed with `secret`.
     * Resolves with the endpoint's id (`id` to replace an earlier one).
     */
    async addWebhook({ url, secret, events, id = `we_interop_${++webhooks}` }) {
      const response = await fetch(`${base}/_config/webhooks/${encodeURIComponent(id)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(events ? { url, secret, events } : { url, secret }),
        signal: AbortSignal.timeout(15_000),
      });
      assert.equal(response.status, 200, `register webhook ${url}: HTTP ${response.status} ${await response.text()}`);
      return id;
    },
    /**
     * Pays on the hosted page at `sessionUrl` as a payer's browser would: reads the page, fills
     * in the card number and sends the form. Redirects are not followed. Resolves with
     * `{ status, location, html }` of the form's answer (303 to the success URL when paid, 402
     * when declined, 400 when the session is no longer open), or of the page itself when it did
     * not show a form.
     */
    async pay(sessionUrl, { card = CARDS.ok, email } = {}) {
      const page = await fetch(sessionUrl, { redirect: 'manual', signal: AbortSignal.timeout(15_000) });
      const html = await page.text();
      const form = /<form\b[^>]*>/.exec(html);
      if (page.status !== 200 || !form) return { status: page.status, location: page.headers.get('location'), html };
      const fields = new URLSearchParams();
      for (const [input] of html.matchAll(/<input\b[^>]*>/g)) {
        const name = attribute(input, 'name');
        if (name) fields.set(name, attribute(input, 'value') ?? '');
      }
      fields.set('card', card);
      if (email !== undefined) fields.set('email', email); // the session's customer_email wins
      const action = new URL(attribute(form[0], 'action') || sessionUrl, sessionUrl);
      const answer = await fetch(action, {
        method: (attribute(form[0], 'method') || 'post').toUpperCase(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: fields.toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(15_000),
      });
      return { status: answer.status, location: answer.headers.get('location'), html: await answer.text() };
    },
    /** The refunds of a PaymentIntent (GET /v1/refunds?payment_intent=…), newest first. */
    async refunds(paymentIntent) {
      const list = await ok(`refunds of ${paymentIntent}`, api('GET', '/v1/refunds', { payment_intent: paymentIntent, limit: 100 }));
      assert.equal(list.object, 'list', JSON.stringify(list));
      return list.data;
    },
    /** A Checkout Session as it is now (GET /v1/checkout/sessions/{id}). */
    session: (id) => ok(`session ${id}`, api('GET', `/v1/checkout/sessions/${encodeURIComponent(id)}`)),
    /** The server's last output (webhook deliveries, errors; requests too when verbose). */
    log: () => output,
    async stop() {
      if (exited !== null) return;
      const gone = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
