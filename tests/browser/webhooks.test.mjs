// An organisation's webhooks in the browser, at a desktop and a phone size, each on a fresh
// server started with CAIRN_WEBHOOK_ALLOW_HOSTS=127.0.0.1 (as an operator allows an intranet
// host), so that a receiver on a loopback port may be an endpoint. The demo issuer (an owner)
// follows "Webhooks" from the organisation's manage page to the webhooks page: a lead, no
// endpoint yet, and the form to add one with the six events to choose from. A form with no event
// and a private address (http://10.0.0.5/x) is answered with the error summary and an error at
// each of the two fields; with an event chosen, the address alone is refused, naming
// webhook_allow_hosts. Back on the page, the refused form is kept as it was left (flash.rs) and
// is corrected: adding the receiver's address with two events answers (201, never cached) the
// endpoint's page with its signing secret, shown once (a later visit shows no secret), and its
// settings as given; the list shows it, on.
// "Send a test message" while the receiver answers HTTP 500 logs the delivery as "Retrying" with
// "HTTP 500"; once the receiver answers 200, "Send again" delivers it: the notice, "Delivered",
// both attempts in the log, and the receiver got two POSTs with the same webhook-id, each signed
// with the secret the page showed (Standard Webhooks). Unticking "Send events to this endpoint"
// and saving keeps it off (the notice, the box unticked, "Off" on the list); deleting it asks
// first, then the list says so and is empty again, and the endpoint's page is gone. Every page is
// checked with axe-core, for sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   manage page     .page-head a[href="/issuers/{org}/webhooks"] ("Webhooks")
//   webhooks page   h1, .page-head p.lead, p.breadcrumbs a[href="/issuers/{org}/manage"],
//                   h2#endpoints-title, .empty-state, ul.webhook-list li.app-card (h3 a[href], .pill),
//                   h2#add-title, form[action="/issuers/{org}/webhooks"] #url #description,
//                   fieldset#events legend, input[name="events"][value="…"], button[type="submit"],
//                   .error-summary a[href="#url"] a[href="#events"], #url-error, #events-error
//   endpoint page   h1.webhook-url, .secret-box[role="status"] input#new-secret[readonly],
//                   form[action="/issuers/{org}/webhooks/{id}"] (the settings) #url #description
//                   input[name="events"] #enabled, button[type="submit"] ("Save"),
//                   form[action$="/test"] form[action$="/secret"] form[action$="/delete"] button,
//                   ul.delivery-list li.delivery (.delivery-head code, .pill, ol.attempts li,
//                   form[action$="/redeliver"] button), .empty-state
//   notices         .notice[role="status"]
//   confirmation    .confirm-page h1, p.lead, ul.consequences li, form button[type="submit"], a.button ("Cancel")
//   error page      .problem-page h1 (404 once the endpoint is deleted)

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { DEMO, api, logIn } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;

/** The events an endpoint may ask for, in the order the form lists them. */
const EVENTS = ['award.issued', 'award.revoked', 'award.suspended', 'award.reinstated', 'submission.submitted', 'submission.decided'];
/** The two the endpoint asks for. */
const CHOSEN = ['award.issued', 'submission.decided'];
const PRIVATE_ADDRESS = 'http://10.0.0.5/x';

const NOTICES = {
  testFailed: 'The test message was not delivered: see its attempt in the delivery log below.',
  redelivered: 'Sent again, and delivered.',
  saved: 'Your changes are saved.',
  deleted: 'The webhook endpoint is deleted: no more events are sent to it.',
};

/**
 * The organisation's system: an HTTP server on a free loopback port that records every request
 * (method, path, headers, body) and answers with `status` (200 until a test sets it).
 */
async function startReceiver() {
  const received = [];
  const receiver = { status: 200, received };
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method, path: request.url, headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      response.writeHead(receiver.status, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(receiver.status < 300 ? 'ok' : 'not now');
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  receiver.url = `http://127.0.0.1:${server.address().port}/hooks/cairn`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** Whether `headers` carry a Standard Webhooks signature of `body` by `secret` (whsec_ and base64). */
function signedWith(secret, headers, body) {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = crypto.createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest('base64');
  return (headers['webhook-signature'] ?? '').split(' ').includes(`v1,${expected}`);
}

describe('webhooks', () => {
  for (const size of SIZES) {
    const at = `${size.width}×${size.height}`;

    describe(`at ${at}`, () => {
      let server;
      let receiver;
      let browser;
      let kit;
      let issuer; // the demo issuer's page, signed in
      let org; // the organisation the demo issuer owns
      let endpoint; // the endpoint added: { id, path, secret }
      const listPath = () => `/issuers/${org}/webhooks`;
      const body = async (page) => squash(await page.locator('body').innerText());
      const addForm = (page) => page.locator(`form[action="${listPath()}"]`);
      const settings = (page) => page.locator(`form[action="${endpoint.path}"]`);
      const ticked = async (page, form) => {
        const boxes = form.locator('input[name="events"]');
        const values = [];
        for (let i = 0; i < (await boxes.count()); i++) if (await boxes.nth(i).isChecked()) values.push(await boxes.nth(i).getAttribute('value'));
        return values;
      };
      const notice = async (page) => squash(await page.locator('.notice[role="status"]').innerText());

      before(async () => {
        receiver = await startReceiver();
        process.env.CAIRN_WEBHOOK_ALLOW_HOSTS = '127.0.0.1';
        try {
          server = await startServer();
        } finally {
          delete process.env.CAIRN_WEBHOOK_ALLOW_HOSTS;
        }
        browser = await launch();
        kit = pageKit(browser, server.baseUrl, size, 'webhooks');
        const token = await logIn(server.baseUrl, DEMO.issuer);
        const me = await api(server.baseUrl, 'GET', '/api/v1/me', { token });
        org = me.memberships.find((m) => m.role === 'owner')?.organisation_id;
        assert.ok(org, `the demo issuer owns an organisation: ${JSON.stringify(me.memberships)}`);
        issuer = await kit.newPage();
        await kit.signIn(issuer, DEMO.issuer, 'issuer');
      }, { timeout: 120_000 });

      after(async () => {
        for (const context of kit?.contexts ?? []) await context.close().catch(() => {});
        await browser?.close();
        await server?.stop();
        await receiver?.close();
      }, { timeout: 30_000 });

      it(`the manage page leads to the webhooks page, whose form says what is wrong, at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        const page = issuer;
        await kit.visit(page, `/issuers/${org}/manage`, 'manage');
        const link = page.locator(`.page-head a[href="${listPath()}"]`);
        assert.equal(await link.count(), 1, 'one "Webhooks" link on the manage page');
        assert.equal(squash(await link.innerText()), 'Webhooks');

        await kit.clickAndLoad(page, link, 'list-empty');
        assert.equal(new URL(page.url()).pathname, listPath());
        assert.equal(squash(await page.locator('h1').innerText()), 'Webhooks');
        assert.equal(await page.locator(`p.breadcrumbs a[href="/issuers/${org}/manage"]`).count(), 1, 'the breadcrumbs lead back to the organisation');
        assert.match(squash(await page.locator('.page-head p.lead').innerText()), /POSTed as JSON and signed \(Standard Webhooks\)/);
        assert.equal(squash(await page.locator('h2#endpoints-title').innerText()), 'Endpoints');
        assert.equal(squash(await page.locator('.empty-state').innerText()), 'No endpoint yet. Add one below.');
        assert.equal(await page.locator('ul.webhook-list').count(), 0, 'no endpoint is listed');
        assert.equal(squash(await page.locator('h2#add-title').innerText()), 'Add an endpoint');
        const form = addForm(page);
        assert.equal(await form.locator('#url').count(), 1, 'an address field');
        assert.equal(await form.locator('#description').count(), 1, 'a description field');
        assert.equal(squash(await form.locator('fieldset#events legend').innerText()), 'Events to send');
        const boxes = form.locator('fieldset#events input[type="checkbox"][name="events"]');
        const values = [];
        for (let i = 0; i < (await boxes.count()); i++) values.push(await boxes.nth(i).getAttribute('value'));
        assert.deepEqual(values, EVENTS, 'the six events, in order');
        assert.deepEqual(await ticked(page, form), [], 'no event is chosen at first');
        assert.equal(squash(await form.locator('button[type="submit"]').innerText()), 'Add the endpoint');
        assert.equal(await page.locator('.error-summary').count(), 0, 'no error before the form is sent');

        // No event and a private address: the summary and an error at each field.
        await form.locator('#url').fill(PRIVATE_ADDRESS);
        await form.locator('#description').fill('An intranet system');
        await kit.clickAndLoad(page, form.locator('button[type="submit"]'), 'refused', 422);
        const summary = page.locator('.error-summary');
        assert.equal(await summary.count(), 1, 'an error summary');
        assert.equal(await summary.getAttribute('role'), 'alert');
        assert.match(squash(await summary.locator('a[href="#events"]').innerText()), /^Events: choose at least one event\.?$/i);
        assert.match(squash(await page.locator('#events-error').innerText()), /^(Error: )?Choose at least one event\.$/);
        assert.match((await page.locator('fieldset#events').getAttribute('aria-describedby')) ?? '', /\bevents-error\b/, 'the event error describes the fieldset');
        assert.equal(await addForm(page).locator('#url').inputValue(), PRIVATE_ADDRESS, 'the address is kept');
        assert.equal(await addForm(page).locator('#description').inputValue(), 'An intranet system', 'the description is kept');
        // Whether the address's refusal shows at once too: checked after the address alone, so
        // that the rest still runs when it does not.
        const firstAnswer = {
          summaryLinks: await summary.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href'))),
          urlError: (await page.locator('#url-error').count()) ? squash(await page.locator('#url-error').innerText()) : null,
        };

        // One event and the private address: the address is refused, naming the setting.
        await addForm(page).locator('input[name="events"][value="award.issued"]').check();
        await kit.clickAndLoad(page, addForm(page).locator('button[type="submit"]'), 'refused-address', 422);
        assert.equal(await page.locator('.error-summary a[href="#url"]').count(), 1, 'the summary links to the address');
        const urlError = squash(await page.locator('#url-error').innerText());
        assert.match(urlError, /10\.0\.0\.5/, urlError);
        assert.match(urlError, /webhook_allow_hosts/, urlError);
        assert.equal(await addForm(page).locator('#url').getAttribute('aria-invalid'), 'true');
        assert.match((await addForm(page).locator('#url').getAttribute('aria-describedby')) ?? '', /\burl-error\b/);
        assert.equal(await page.locator('#events-error').count(), 0, 'no event error once one is chosen');
        assert.deepEqual(await ticked(page, addForm(page)), ['award.issued'], 'the chosen event is kept');

        assert.ok(
          firstAnswer.urlError && /webhook_allow_hosts/.test(firstAnswer.urlError) && firstAnswer.summaryLinks.includes('#url') && firstAnswer.summaryLinks.includes('#events'),
          `a form with no event and a private address shows both errors at once; it showed ${JSON.stringify(firstAnswer)}`,
        );
      });

      it(`adding an endpoint shows its secret once and its settings at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        const page = issuer;
        // Back from the manage page, the form refused last is shown as it was left (422): a failed
        // form is kept for its browser until one goes through (flash.rs). It is corrected here.
        await kit.visit(page, `/issuers/${org}/manage`, 'manage-again');
        await kit.clickAndLoad(page, page.locator(`.page-head a[href="${listPath()}"]`), 'list-kept', 422);
        const form = addForm(page);
        assert.equal(await form.locator('#url').inputValue(), PRIVATE_ADDRESS, 'the refused form is kept');
        await form.locator('#url').fill(receiver.url);
        await form.locator('#description').fill('Student record system');
        const boxes = form.locator('input[name="events"]');
        for (let i = 0; i < (await boxes.count()); i++) await boxes.nth(i).uncheck();
        for (const event of CHOSEN) await form.locator(`input[name="events"][value="${event}"]`).check();
        const [answer] = await Promise.all([
          page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === listPath()),
          kit.clickAndLoad(page, form.locator('button[type="submit"]'), 'added', 201),
        ]);
        assert.match((await answer.allHeaders())['cache-control'] ?? '', /no-store/, 'the answer holds the secret: it is not cached');

        assert.equal(squash(await page.locator('h1.webhook-url').innerText()), receiver.url);
        const box = page.locator('.secret-box');
        assert.equal(await box.count(), 1, 'the secret is shown');
        assert.equal(await box.getAttribute('role'), 'status');
        assert.match(squash(await box.innerText()), /it is shown only once/);
        const secretInput = box.locator('input#new-secret');
        assert.equal(await secretInput.getAttribute('readonly'), '', 'the secret is read-only');
        assert.equal(await page.locator('label[for="new-secret"]').count(), 1, 'the secret has a label');
        const secret = await secretInput.inputValue();
        assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/, 'a Standard Webhooks secret');

        // The settings, as given; the endpoint's address from the settings form.
        const action = await page.locator('section[aria-labelledby="settings-title"] form.stack-form').getAttribute('action');
        assert.match(action ?? '', new RegExp(`^${listPath()}/[^/]+$`), `the settings form posts to the endpoint: ${action}`);
        endpoint = { path: action, id: action.split('/').pop(), secret };
        const form2 = settings(page);
        assert.equal(await form2.locator('#url').inputValue(), receiver.url);
        assert.equal(await form2.locator('#description').inputValue(), 'Student record system');
        assert.deepEqual(await ticked(page, form2), CHOSEN, 'the two events chosen');
        assert.equal(await form2.locator('#enabled').isChecked(), true, 'the endpoint is on');
        assert.equal(squash(await form2.locator('button[type="submit"]').innerText()), 'Save');
        for (const [suffix, words] of [['/test', 'Send a test message'], ['/secret', 'Make a new secret'], ['/delete', 'Delete the endpoint']]) {
          assert.equal(squash(await page.locator(`form[action="${endpoint.path}${suffix}"] button[type="submit"]`).innerText()), words);
        }
        assert.match(squash(await page.locator('.empty-state').innerText()), /^Nothing sent yet/);
        assert.equal(await page.locator('ul.delivery-list').count(), 0, 'nothing in the delivery log');

        // A later visit: the settings, and no secret anywhere.
        await kit.visit(page, endpoint.path, 'endpoint');
        assert.equal(await page.locator('.secret-box').count(), 0, 'the secret is not shown again');
        assert.equal(await page.locator('#new-secret').count(), 0, 'no secret field');
        assert.ok(!(await page.content()).includes(secret), 'the secret is nowhere in the page');
        assert.equal(await settings(page).locator('#url').inputValue(), receiver.url);
        assert.deepEqual(await ticked(page, settings(page)), CHOSEN);
        assert.equal(await settings(page).locator('#enabled').isChecked(), true);

        // The list shows it, on, with its events.
        await kit.visit(page, listPath(), 'list-one');
        const cards = page.locator('ul.webhook-list li.app-card');
        assert.equal(await cards.count(), 1, 'one endpoint');
        assert.equal(squash(await cards.locator(`h3 a[href="${endpoint.path}"]`).innerText()), receiver.url);
        assert.match(squash(await cards.innerText()), /Student record system/);
        assert.equal(squash(await cards.locator('.pill').innerText()), 'On');
        assert.match(squash(await cards.innerText()), new RegExp(CHOSEN.join(', ').replace(/\./g, '\\.')));
        assert.equal(await page.locator('.empty-state').count(), 0, 'no empty state');
        assert.equal(receiver.received.length, 0, 'adding the endpoint sent nothing');
      });

      it(`a test message that fails is retried, and "Send again" delivers it, at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        assert.ok(endpoint, 'the endpoint was added (the test before)');
        const page = issuer;
        await kit.visit(page, endpoint.path, 'before-test');

        // The receiver fails: the delivery is logged, to be retried.
        receiver.status = 500;
        await kit.clickAndLoad(page, page.locator(`form[action="${endpoint.path}/test"] button[type="submit"]`), 'test-failed');
        assert.equal(new URL(page.url()).pathname, endpoint.path);
        assert.equal(await notice(page), NOTICES.testFailed);
        let deliveries = page.locator('ul.delivery-list li.delivery');
        assert.equal(await deliveries.count(), 1, 'one delivery in the log');
        assert.equal(squash(await deliveries.locator('.delivery-head code').innerText()), 'webhook.test');
        assert.equal(squash(await deliveries.locator('.delivery-head .pill').innerText()), 'Retrying');
        let attempts = (await deliveries.locator('ol.attempts li').allInnerTexts()).map(squash);
        assert.equal(attempts.length, 1, `one attempt: ${JSON.stringify(attempts)}`);
        assert.match(attempts[0], /^Attempt 1, .+: HTTP 500 in \d+ ms/, attempts[0]);
        assert.match(squash(await deliveries.innerText()), /Next attempt: /, 'the next attempt is named');
        assert.equal(receiver.received.length, 1, 'the receiver was asked once');

        // The receiver recovers; sent again by hand, the same message is delivered.
        receiver.status = 200;
        const again = deliveries.locator('form[action$="/redeliver"] button[type="submit"]');
        assert.match(squash(await again.innerText()), /^Send again/);
        await kit.clickAndLoad(page, again, 'redelivered');
        assert.equal(new URL(page.url()).pathname, endpoint.path);
        assert.equal(await notice(page), NOTICES.redelivered);
        deliveries = page.locator('ul.delivery-list li.delivery');
        assert.equal(await deliveries.count(), 1, 'still one delivery');
        assert.equal(squash(await deliveries.locator('.delivery-head .pill').innerText()), 'Delivered');
        attempts = (await deliveries.locator('ol.attempts li').allInnerTexts()).map(squash);
        assert.equal(attempts.length, 2, `two attempts: ${JSON.stringify(attempts)}`);
        assert.match(attempts.join('\n'), /^Attempt 1, .+: HTTP 500 in \d+ ms/m);
        assert.match(attempts.join('\n'), /^Attempt 2, .+: HTTP 200 in \d+ ms$/m);
        assert.doesNotMatch(squash(await deliveries.innerText()), /Next attempt: /, 'nothing more to try');

        // What the receiver got: the same message twice, signed with the secret the page showed.
        const posts = receiver.received;
        assert.equal(posts.length, 2, `two POSTs: ${JSON.stringify(posts.map((p) => ({ at: p.at, id: p.headers['webhook-id'] })))}`);
        for (const post of posts) {
          assert.equal(post.method, 'POST');
          assert.equal(post.path, new URL(receiver.url).pathname);
          assert.match(post.headers['content-type'] ?? '', /^application\/json/);
          assert.ok(signedWith(endpoint.secret, post.headers, post.body), `signed with the endpoint's secret: ${JSON.stringify(post.headers)}`);
        }
        assert.match(posts[0].headers['webhook-id'] ?? '', /^msg_/);
        assert.equal(posts[1].headers['webhook-id'], posts[0].headers['webhook-id'], 'the same webhook-id both times');
        assert.equal(posts[1].body, posts[0].body, 'the same message both times');
        const message = JSON.parse(posts[0].body);
        assert.equal(message.type, 'webhook.test');
        assert.deepEqual(message.data, { organisation_id: org, endpoint_id: endpoint.id });
      });

      it(`an endpoint is turned off, then deleted after a confirmation, at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        assert.ok(endpoint, 'the endpoint was added (the test before)');
        const page = issuer;
        await kit.visit(page, endpoint.path, 'before-off');
        await settings(page).locator('#enabled').uncheck();
        await kit.clickAndLoad(page, settings(page).locator('button[type="submit"]'), 'off');
        assert.equal(new URL(page.url()).pathname, endpoint.path);
        assert.equal(await notice(page), NOTICES.saved);
        assert.equal(await settings(page).locator('#enabled').isChecked(), false, 'the box stays unticked');
        assert.deepEqual(await ticked(page, settings(page)), CHOSEN, 'the events are unchanged');
        assert.equal(await settings(page).locator('#url').inputValue(), receiver.url, 'the address is unchanged');

        await kit.visit(page, listPath(), 'list-off');
        assert.equal(squash(await page.locator('ul.webhook-list li.app-card .pill').innerText()), 'Off');

        // Deleting asks first.
        await kit.visit(page, endpoint.path, 'before-delete');
        await kit.clickAndLoad(page, page.locator(`form[action="${endpoint.path}/delete"] button[type="submit"]`), 'delete-confirm');
        const confirm = page.locator('.confirm-page');
        assert.equal(squash(await confirm.locator('h1').innerText()), 'Delete this webhook endpoint?');
        assert.equal(squash(await confirm.locator('p.lead').innerText()), `${receiver.url} receives 2 kinds of event.`);
        assert.equal(await confirm.locator('ul.consequences li').count(), 3, 'what follows, in three points');
        assert.match(squash(await confirm.locator('ul.consequences').innerText()), /delivery log is deleted/);
        assert.equal(await confirm.locator(`a[href="${endpoint.path}"]`).count(), 1, 'Cancel leads back to the endpoint');
        const button = confirm.locator('form button[type="submit"]');
        assert.equal(squash(await button.innerText()), 'Delete the endpoint');

        await kit.clickAndLoad(page, button, 'deleted');
        assert.equal(new URL(page.url()).pathname, listPath());
        assert.equal(await notice(page), NOTICES.deleted);
        assert.equal(await page.locator('ul.webhook-list li.app-card').count(), 0, 'no endpoint is listed');
        assert.equal(squash(await page.locator('.empty-state').innerText()), 'No endpoint yet. Add one below.');

        await kit.visit(page, endpoint.path, 'gone', 404);
        assert.equal(await page.locator('.problem-page h1').count(), 1, 'the error page');
        assert.match(await body(page), /not found/i);
        assert.equal(receiver.received.length, 2, 'turning off and deleting sent nothing');
      });
    });
  }
});
