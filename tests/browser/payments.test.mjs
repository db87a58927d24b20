// Assessment fees paid online through Stripe, in the browser, at a desktop and a phone size, each
// on a fresh server started with CAIRN_STRIPE_API_BASE pointing at a fresh Stripe test server
// (localstripe with Checkout Sessions and its hosted payment page, tests/interop/lib/stripe.mjs).
// The demo issuer (an owner) follows "Online payments" from the organisation's manage page: the
// webhook address and the four events to register at Stripe, and a form for the secret key and
// the webhook's signing secret (password fields). A live key the test server refuses is answered
// with the error summary saying Stripe refused it, and no secret is shown back; a test key
// connects: the notice, the account's name, its id (as Stripe's API gives it for the key) and
// "Test mode". The endpoint is then registered at the test server as the owner would at Stripe.
// A learner whose submission owes 49.50 EUR reads on it that the issuer takes the fee online and
// presses "Pay 49.50 EUR and send": what was typed is saved, and Chromium is on the test server's
// hosted page for 49.50 EUR; its Cancel link brings the learner back with "Nothing was charged"
// and a payment waiting. Pressed again, the same page opens (the open session); paying with
// Stripe's test card brings the learner back with "Thank you: your payment is received", a
// "Paid" payment and the fee paid; the submission is sent and the learner told once (the return
// and the webhook settle it once). Withdrawing asks first, and the confirmation says the fee paid
// online is refunded; once withdrawn the payment shows "Refunded", with one refund at Stripe.
// Finally the owner disconnects, after a confirmation. Every Cairn page is checked with axe-core,
// for sideways scrolling, and saved as a screenshot (the test server's page is only saved).
//
// The selectors here are the contract with the server's HTML:
//   manage page       a[href="/issuers/{org}/payments"] ("Online payments")
//   payments page     h1, code.webhook-address, ul.event-names li code,
//                     form[action="/issuers/{org}/payments"] #secret_key #webhook_secret
//                     button[type="submit"] ("Connect Stripe"), .error-summary, .empty-state,
//                     .stripe-account (strong, code, .pill), form[action="/issuers/{org}/payments/disconnect"]
//   submission page   section[aria-labelledby="fee-title"], ul.payment-list li .pill,
//                     #submission-form #reflection, button[formaction="/submissions/{id}/pay"],
//                     form[action="/submissions/{id}/withdraw"] button
//   notices           .notice[role="status"]
//   confirmation      .confirm-page h1, ul.consequences li, form button[type="submit"]
//   hosted page       (the test server's) h1 #amount, #card, #pay, a#cancel

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startStripe } from '../interop/lib/stripe.mjs';
import { DEMO, api, logIn } from './lib/api.mjs';
import { SIZES, launch, screenshot } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;
const VENV = fileURLToPath(new URL('../interop/peers/.venv-stripe', import.meta.url));
const SKIP = fs.existsSync(path.join(VENV, 'bin/python'))
  ? false
  : `the Stripe test server is not installed (${VENV} is missing): bash tests/interop/peers/install.sh`;

const ACCOUNT_NAME = 'Northbridge Assessments Ltd';
const WEBHOOK_SECRET = 'whsec_browserPaymentsSigningSecret0123456789';
const LIVE_KEY = 'sk_live_51CairnBrowserRevokedKey000';
const EVENTS = ['checkout.session.completed', 'checkout.session.async_payment_succeeded', 'checkout.session.expired', 'charge.refunded'];
const BADGE = 'Card Payments Done Right';
const NOTICES = {
  connected: 'Stripe is connected: learners who owe a fee can now pay it online.',
  disconnected: 'Stripe is disconnected: learners pay as your payment instructions say.',
  paid: 'Thank you: your payment is received and the fee is paid.',
  cancelled: 'You left the payment page without paying. Nothing was charged.',
};
const REFUND_LINE = /^The fee you paid online \(49\.50 EUR\) is refunded to your card; /;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A paid micro-badge with a rubric (as crates/cairn-server/tests/api/helpers.rs::badge_body). */
const badgeBody = (name) => ({
  kind: 'micro-badge',
  name,
  description: 'Take card payments without surprising anyone.',
  criteria: 'Submit a payment flow and its tests.',
  rubric: {
    levels: ['Developing', 'Proficient', 'Exemplary'],
    criteria: [
      { name: 'Robustness', required_level: 'Proficient', descriptors: ['Breaks on bad input', 'Handles bad input', 'Handles and reports bad input'] },
      { name: 'Tests', description: 'Automated tests', required_level: 2, descriptors: ['None', 'Some', 'Thorough'] },
    ],
  },
  fee: { amount: '49.50', currency: 'EUR' },
  validity_months: 12,
});

describe('online payments', { skip: SKIP }, () => {
  for (const size of SIZES) {
    const at = `${size.width}×${size.height}`;

    describe(`at ${at}`, () => {
      let stripe; // the Stripe test server
      let server;
      let browser;
      let kit;
      let owner; // the demo issuer's page, signed in
      let learnerPage; // the learner's page, signed in
      let org;
      let issuerToken;
      let learner; // { email, password, name, token, submission }
      let connected = false; // whether the owner connected Stripe (the first test)
      let session; // the hosted page's URL the learner was sent to
      const settingsPath = () => `/issuers/${org}/payments`;
      const submissionPath = () => `/submissions/${learner.submission}`;
      const notice = async (page) => squash(await page.locator('.notice[role="status"]').innerText());
      const pills = async (page) => (await page.locator('ul.payment-list li .pill').allInnerTexts()).map(squash);
      const apiAs = (token, method, urlPath, body) => api(server.baseUrl, method, urlPath, { token, body });

      /** Waits up to `ms` for `probe` to return something truthy; returns it. */
      async function until(what, probe, ms = 10_000) {
        const deadline = Date.now() + ms;
        let last;
        for (;;) {
          last = await probe();
          if (last) return last;
          assert.ok(Date.now() < deadline, `${what} within ${ms} ms; last seen: ${JSON.stringify(last)}\n--- Stripe test server ---\n${stripe.log()}`);
          await sleep(150);
        }
      }

      /** Clicks and waits for the test server's hosted page (not Cairn's: saved, not checked). */
      async function toHostedPage(page, locator, name) {
        // What the browser says when it refuses to go (a Content-Security-Policy, say).
        const said = [];
        const listen = (message) => { if (message.type() === 'error') said.push(message.text()); };
        page.on('console', listen);
        let response;
        let failed;
        try {
          [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
        } catch (error) {
          failed = error;
          await sleep(500); // the console message comes a moment after
        } finally {
          page.off('console', listen);
        }
        if (failed) assert.fail(`${name}: Chromium did not reach Stripe's page (${failed.message.split('\n')[0]}); it said: ${said.join(' | ') || 'nothing'}`);
        assert.equal(response?.status(), 200, `${name}: ${page.url()} answered ${response?.status()}:\n${squash(await page.locator('body').innerText())}`);
        assert.ok(page.url().startsWith(`${stripe.base}/checkout/pay/cs_test_`), `${name}: on the hosted page, not ${page.url()}`);
        await screenshot(page, `payments-${name}-${size.width}x${size.height}`);
        return page.url();
      }

      before(async () => {
        stripe = await startStripe({ accountName: ACCOUNT_NAME });
        server = await startServer({ env: { CAIRN_STRIPE_API_BASE: `${stripe.base}/` } });
        browser = await launch();
        kit = pageKit(browser, server.baseUrl, size, 'payments');
        issuerToken = await logIn(server.baseUrl, DEMO.issuer);
        const me = await apiAs(issuerToken, 'GET', '/api/v1/me');
        org = me.memberships.find((m) => m.role === 'owner')?.organisation_id;
        assert.ok(org, `the demo issuer owns an organisation: ${JSON.stringify(me.memberships)}`);

        // A paid badge, with the demo assessor in its pool, and a learner's draft with evidence.
        const badge = await apiAs(issuerToken, 'POST', `/api/v1/organisations/${org}/achievements`, badgeBody(BADGE));
        await apiAs(issuerToken, 'POST', `/api/v1/achievements/${badge.id}/publish`, {});
        const members = await apiAs(issuerToken, 'GET', `/api/v1/organisations/${org}/members`);
        const assessor = members.items.find((m) => m.role === 'assessor');
        await fetch(`${server.baseUrl}/api/v1/achievements/${badge.id}/assessors`, {
          method: 'POST',
          headers: { authorization: `Bearer ${issuerToken}`, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ user_id: assessor.user_id }),
        });
        learner = { name: `Petra Paysend ${size.name}`, email: `petra.paysend.${size.name}@example.org`, password: 'a long enough password' };
        await api(server.baseUrl, 'POST', '/api/v1/users', { body: learner });
        learner.token = await logIn(server.baseUrl, learner);
        const draft = await apiAs(learner.token, 'POST', `/api/v1/achievements/${badge.id}/submissions`, {
          overview: 'I built a checkout that tells the payer what happens at every step.',
          reflection: 'A first reflection.',
          links: ['https://example.org/evidence/checkout'],
          collaborators: [],
        });
        assert.equal(draft.fee, 'due', JSON.stringify(draft));
        learner.submission = draft.id;

        owner = await kit.newPage();
        await kit.signIn(owner, DEMO.issuer, 'issuer');
        learnerPage = await kit.newPage();
        await kit.signIn(learnerPage, learner, 'learner');
      }, { timeout: 120_000 });

      after(async () => {
        for (const context of kit?.contexts ?? []) await context.close().catch(() => {});
        await browser?.close();
        await server?.stop();
        await stripe?.stop();
      }, { timeout: 30_000 });

      it(`the owner connects Stripe on the Online payments page at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        const page = owner;
        await kit.visit(page, `/issuers/${org}/manage`, 'manage');
        const link = page.locator(`a[href="${settingsPath()}"]`);
        assert.equal(await link.count(), 1, 'one "Online payments" link on the manage page');
        assert.equal(squash(await link.innerText()), 'Online payments');
        await kit.clickAndLoad(page, link, 'settings-not-connected');
        assert.equal(new URL(page.url()).pathname, settingsPath());
        assert.equal(squash(await page.locator('h1').innerText()), 'Online payments');
        const webhookUrl = squash(await page.locator('code.webhook-address').innerText());
        assert.equal(webhookUrl, `${server.baseUrl}/payments/stripe/${org}/webhook`);
        assert.deepEqual((await page.locator('ul.event-names li code').allInnerTexts()).map(squash), EVENTS);
        assert.match(squash(await page.locator('.empty-state').innerText()), /^Not connected/);
        assert.equal(await page.locator('.stripe-account').count(), 0);
        const form = page.locator(`form[action="${settingsPath()}"]`);
        for (const id of ['secret_key', 'webhook_secret']) {
          assert.equal(await form.locator(`#${id}`).getAttribute('type'), 'password', `#${id} is a password field`);
          assert.equal(await page.locator(`label[for="${id}"]`).count(), 1, `#${id} has a label`);
        }
        assert.equal(squash(await form.locator('button[type="submit"]').innerText()), 'Connect Stripe');

        // A live key the test server refuses (as Stripe refuses a revoked one).
        await form.locator('#secret_key').fill(LIVE_KEY);
        await form.locator('#webhook_secret').fill(WEBHOOK_SECRET);
        await kit.clickAndLoad(page, form.locator('button[type="submit"]'), 'refused', 422);
        const summary = page.locator('.error-summary');
        assert.equal(await summary.count(), 1, 'an error summary');
        assert.match(squash(await summary.innerText()), /Stripe refused this key/);
        assert.equal(await summary.locator('a[href="#secret_key"]').count(), 1, 'the summary leads to the key');
        assert.equal(await page.locator('#secret_key').inputValue(), '', 'the key is not shown back');
        assert.equal(await page.locator('#webhook_secret').inputValue(), '', 'the signing secret is not shown back');
        const refusedHtml = await page.content();
        assert.ok(!refusedHtml.includes(LIVE_KEY) && !refusedHtml.includes(WEBHOOK_SECRET), 'no secret anywhere in the page');
        assert.equal(await page.locator('.stripe-account').count(), 0, 'not connected');

        // The test key connects.
        await page.locator('#secret_key').fill(stripe.secretKey);
        await page.locator('#webhook_secret').fill(WEBHOOK_SECRET);
        await kit.clickAndLoad(page, page.locator(`form[action="${settingsPath()}"] button[type="submit"]`), 'connected');
        assert.equal(new URL(page.url()).pathname, settingsPath());
        assert.equal(await notice(page), NOTICES.connected);
        const account = await stripe.api('GET', '/v1/account');
        assert.equal(account.status, 200, account.text);
        const shown = page.locator('.stripe-account');
        assert.equal(squash(await shown.locator('strong').innerText()), ACCOUNT_NAME);
        assert.equal(squash(await shown.locator('code').innerText()), account.json.id, 'the account the key belongs to');
        assert.equal(squash(await shown.locator('.pill').innerText()), 'Test mode');
        assert.match(squash(await page.locator(`form[action="${settingsPath()}/disconnect"] button`).innerText()), /^Disconnect Stripe/);
        const connectedHtml = await page.content();
        assert.ok(!connectedHtml.includes(stripe.secretKey) && !connectedHtml.includes(WEBHOOK_SECRET), 'no secret anywhere in the page');

        // Registered at "Stripe" as the owner would in its dashboard.
        await stripe.addWebhook({ url: webhookUrl, secret: WEBHOOK_SECRET, events: EVENTS });
        connected = true;
      });

      it(`the learner leaves the payment page, then pays on it and comes back at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        assert.ok(connected, 'the owner connected Stripe (the test before)');
        const page = learnerPage;
        await kit.visit(page, submissionPath(), 'submission-fee-due');
        const fee = page.locator('section[aria-labelledby="fee-title"]');
        assert.match(squash(await fee.innerText()), /takes the fee online: Pay and send below opens Stripe's secure payment page/);
        assert.equal(await page.locator('ul.payment-list').count(), 0, 'no payment yet');
        const pay = page.locator(`button[formaction="${submissionPath()}/pay"]`);
        assert.equal(squash(await pay.innerText()), 'Pay 49.50 EUR and send');

        // What was typed is saved before going to pay.
        const reflection = `I learnt that a payer must always know what happens next (${size.name}).`;
        await page.locator('#submission-form #reflection').fill(reflection);
        session = await toHostedPage(page, pay, 'hosted-page');
        assert.equal(squash(await page.locator('h1').innerText()), 'Pay 49.50 EUR');
        assert.equal(await page.locator('#email').inputValue(), learner.email, 'the learner\'s address is given to Stripe');
        const saved = await apiAs(learner.token, 'GET', `/api/v1/submissions/${learner.submission}`);
        assert.equal(saved.reflection, reflection, 'the reflection was saved first');
        assert.equal(saved.status, 'draft');

        // Cancel: back on the submission, nothing charged, a payment waiting.
        await kit.clickAndLoad(page, page.locator('a#cancel'), 'cancelled');
        assert.equal(new URL(page.url()).pathname, submissionPath());
        assert.equal(await notice(page), NOTICES.cancelled);
        assert.deepEqual(await pills(page), ['Waiting for payment']);
        assert.equal(await page.locator('#submission-form #reflection').inputValue(), reflection);

        // Again: the same page (the session is still open); Stripe's test card pays.
        const again = await toHostedPage(page, page.locator(`button[formaction="${submissionPath()}/pay"]`), 'hosted-page-again');
        assert.equal(again, session, 'the open session is reused');
        assert.equal(await page.locator('#card').inputValue(), '4242424242424242');
        await kit.clickAndLoad(page, page.locator('#pay'), 'paid');
        assert.equal(new URL(page.url()).pathname, submissionPath(), 'back on the submission');
        assert.equal(await notice(page), NOTICES.paid);
        assert.deepEqual(await pills(page), ['Paid']);
        assert.match(squash(await page.locator('ul.payment-list li').innerText()), /49\.50 EUR/);
        assert.equal(await page.locator(`button[formaction="${submissionPath()}/pay"]`).count(), 0, 'nothing to pay any more');

        // Sent, and told once, whether the return or the webhook came first.
        const sent = await until('the submission sent', async () => {
          const view = await apiAs(learner.token, 'GET', `/api/v1/submissions/${learner.submission}`);
          return view.status === 'submitted' && view;
        });
        assert.equal(sent.fee, 'paid');
        await sleep(2_000); // the webhook (about a second after paying) has come by now
        const payments = (await apiAs(learner.token, 'GET', `/api/v1/submissions/${learner.submission}/payments`)).items;
        assert.deepEqual(payments.map((p) => p.status), ['paid']);
        const told = (await apiAs(learner.token, 'GET', '/api/v1/notifications')).items.filter((n) => n.subject === `Payment received: ${BADGE}`);
        assert.equal(told.length, 1, `told once: ${JSON.stringify(told)}`);
        await kit.visit(page, submissionPath(), 'submitted');
        assert.match(squash(await page.locator('p.eyebrow').innerText()), /Submitted/);
      });

      it(`withdrawing says the fee is refunded, and refunds it, at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        assert.ok(session, 'the learner paid (the test before)');
        const page = learnerPage;
        await kit.visit(page, submissionPath(), 'before-withdraw');
        await kit.clickAndLoad(page, page.locator(`form[action="${submissionPath()}/withdraw"] button[type="submit"]`), 'withdraw-confirm');
        const confirm = page.locator('.confirm-page');
        assert.match(squash(await confirm.locator('h1').innerText()), new RegExp(`^Withdraw your submission for ${BADGE}\\?$`));
        const consequences = (await confirm.locator('ul.consequences li').allInnerTexts()).map(squash);
        assert.ok(consequences.some((line) => REFUND_LINE.test(line)), `the refund is announced: ${JSON.stringify(consequences)}`);

        await kit.clickAndLoad(page, confirm.locator('form button[type="submit"]'), 'withdrawn');
        const payments = await until('the payment refunded', async () => {
          const items = (await apiAs(learner.token, 'GET', `/api/v1/submissions/${learner.submission}/payments`)).items;
          return items[0]?.status === 'refunded' && items;
        });
        const refunds = await stripe.refunds(payments[0].payment_intent);
        assert.equal(refunds.length, 1, `one refund at Stripe: ${JSON.stringify(refunds)}`);
        assert.equal(refunds[0].amount, 4950);
        await kit.visit(page, submissionPath(), 'refunded');
        assert.deepEqual(await pills(page), ['Refunded']);
      });

      it(`the owner disconnects Stripe after a confirmation at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        const page = owner;
        await kit.visit(page, settingsPath(), 'before-disconnect');
        await kit.clickAndLoad(page, page.locator(`form[action="${settingsPath()}/disconnect"] button[type="submit"]`), 'disconnect-confirm');
        const confirm = page.locator('.confirm-page');
        assert.match(squash(await confirm.locator('h1').innerText()), /^Disconnect .+ from Stripe\?$/);
        assert.ok((await confirm.locator('ul.consequences li').count()) >= 1, 'what follows is said');
        await kit.clickAndLoad(page, confirm.locator('form button[type="submit"]'), 'disconnected');
        assert.equal(new URL(page.url()).pathname, settingsPath());
        assert.equal(await notice(page), NOTICES.disconnected);
        assert.equal(await page.locator('.stripe-account').count(), 0, 'no account shown');
        assert.match(squash(await page.locator('.empty-state').innerText()), /^Not connected/);
      });
    });
  }
});
