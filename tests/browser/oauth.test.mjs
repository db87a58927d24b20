// OAuth consent and connected applications, at a desktop and a phone size, each on a fresh
// server: an application ("Example LMS") registers itself over HTTP and sends the signed-out
// demo learner to the consent page with a PKCE request. The learner signs in, comes back to the
// question, which names the application, its site, the permissions in words and where the answer
// goes, and allows it: the browser goes back to the application's redirect address with a code,
// the state and the issuer. The application's address is a small HTTP server the test runs on a
// loopback port, so the browser really navigates there: this also shows the page's
// Content-Security-Policy lets the form's redirect through (Chromium applies form-action to it).
// The code works at the token endpoint. A second request is refused with "Don't allow" (access_denied); a
// request from an unknown client is refused on the page itself. Under Account, Connected
// applications lists the application with its permissions; "Disconnect" removes it, its access
// token stops working and the empty state shows. Every page is checked with axe-core, for
// sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   sign-in page   form[action="/login"] #email #password
//   consent page   h1, ul.permission-list li, p.hint strong, form[action="/oauth/authorize"]
//                  button[name="decision"][value="allow"|"deny"]
//   account page   a[href="/account/apps"]
//   apps page      ul.app-list li.app-card (h2, ul li, form[action$="/revoke"] button),
//                  .empty-state, .notice; the list has no bullets and the card a border

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { describe, it } from 'node:test';
import { DEMO } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;

const SCOPE = 'https://purl.imsglobal.org/spec/ob/v3p0/scope/';
const SCOPES = ['credential.readonly', 'credential.upsert', 'profile.readonly', 'profile.update'].map((s) => SCOPE + s);
/** The permissions in words, as the consent page and the apps page list them (in this order). */
const PERMISSIONS = [
  'See the badges you hold: those issued to you here and those you imported, with their signed credentials',
  'Add badges to your backpack (each is verified first, and must be issued to your e-mail address)',
  'See your name and e-mail address',
  'Change your name',
];

const base64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** A PKCE verifier (43 characters) and its S256 challenge. */
function pkce() {
  const verifier = base64url(crypto.randomBytes(32));
  const challenge = base64url(crypto.createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

/**
 * The application's end of the redirect: a small HTTP server on a free loopback port that
 * answers its callback with a page and records each callback address the browser asks for.
 * (A real server rather than page.route: Playwright does not route the target of a redirect,
 * microsoft/playwright#33882, and the consent page's answer is a 303 redirect.)
 */
async function startApplication() {
  const callbacks = [];
  const server = http.createServer((request, response) => {
    if (request.url.startsWith('/callback')) callbacks.push(request.url);
    response.writeHead(request.url.startsWith('/callback') ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html lang="en"><head><title>Example LMS</title></head><body><main><h1>Back at Example LMS</h1></main></body></html>');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { origin, callback: `${origin}/callback`, callbacks, close };
}

/** `/oauth/authorize?…` for `clientId` and its redirect address, with `state` and a fresh PKCE challenge. */
function authorizePath(clientId, redirectUri, state) {
  const { verifier, challenge } = pkce();
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: SCOPES.join(' '),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return { path: `/oauth/authorize?${query}`, verifier };
}

/** A POST with a JSON or form body; returns the status and the JSON answer. */
async function post(url, { json, form } = {}) {
  const headers = { accept: 'application/json' };
  let body;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let answer = null;
  try {
    answer = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: response.status, answer, text };
}

describe('OAuth consent and connected applications', () => {
  for (const size of SIZES) {
    it(`allows, refuses and disconnects an application at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const server = await startServer();
      const application = await startApplication();
      const callback = application.callback;
      const browser = await launch();
      const { contexts, newPage, look, visit, clickAndLoad } = pageKit(browser, server.baseUrl, size, 'oauth');
      const body = async (page) => squash(await page.locator('body').innerText());

      try {
        // The application registers itself: a public client (PKCE alone).
        const registered = await post(`${server.baseUrl}/oauth/register`, {
          json: {
            client_name: 'Example LMS',
            client_uri: 'https://lms.example',
            redirect_uris: [callback],
            grant_types: ['authorization_code', 'refresh_token'],
            token_endpoint_auth_method: 'none',
          },
        });
        assert.equal(registered.status, 201, `POST /oauth/register answered ${registered.status}: ${registered.text}`);
        const clientId = registered.answer.client_id;
        assert.ok(clientId, 'the registration names a client_id');
        const metadataResponse = await fetch(`${server.baseUrl}/.well-known/oauth-authorization-server`);
        assert.equal(metadataResponse.status, 200);
        const issuer = (await metadataResponse.json()).issuer;
        assert.equal(issuer, server.baseUrl, 'the issuer is the server’s public address');

        // The browser; the application's redirect address is answered by `application`.
        const page = await newPage();
        const { callbacks } = application;
        const cspReports = [];
        page.on('console', (message) => {
          if (/Content Security Policy/i.test(message.text())) cspReports.push(message.text());
        });
        /** Clicks a consent button and waits for the browser to arrive at the application. */
        const answer = async (locator) => {
          const before = callbacks.length;
          await Promise.all([page.waitForURL((url) => url.href.startsWith(`${callback}?`), { waitUntil: 'load' }), locator.click()]);
          assert.deepEqual(cspReports, [], 'no Content-Security-Policy violation on the way back');
          assert.equal(callbacks.length, before + 1, 'the browser asked the application once');
          return new URL(page.url());
        };

        // Signed out, the consent page sends the browser to sign in first.
        const allowRequest = authorizePath(clientId, callback, `allow-${size.name}`);
        const first = await page.goto(allowRequest.path);
        assert.equal(first?.status(), 200, `GET ${allowRequest.path} answered ${first?.status()}`);
        const signIn = new URL(page.url());
        assert.equal(signIn.pathname, '/login', 'signed out, the browser is sent to sign in');
        assert.equal(signIn.searchParams.get('next'), allowRequest.path, 'and comes back to the request afterwards');
        await look(page, 'sign-in');

        // Signed in, the browser is back on the question.
        await page.locator('#email').fill(DEMO.learner.email);
        await page.locator('#password').fill(DEMO.learner.password);
        const [consentResponse] = await Promise.all([
          page.waitForNavigation({ waitUntil: 'load' }),
          page.locator('form[action="/login"] button[type="submit"]').click(),
        ]);
        assert.equal(consentResponse?.status(), 200, `after signing in, ${page.url()} answered ${consentResponse?.status()}:\n${await body(page)}`);
        assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, allowRequest.path, 'back on the consent page');
        const policy = (await consentResponse.allHeaders())['content-security-policy'] ?? '';
        assert.ok(policy.split(';').map((d) => d.trim()).includes(`form-action 'self' ${application.origin}`), `the form may lead to the application: ${policy}`);
        await look(page, 'consent');

        // The question names the application, its site, the permissions and where the answer goes.
        assert.equal(squash(await page.locator('h1').innerText()), 'Allow “Example LMS” to use your account?');
        const site = page.locator('main a[href="https://lms.example"]');
        assert.equal(await site.count(), 1, 'the application’s site is linked');
        assert.equal(squash(await site.innerText()), 'lms.example');
        assert.deepEqual((await page.locator('ul.permission-list li').allInnerTexts()).map(squash), PERMISSIONS);
        assert.equal(squash(await page.locator('p.hint strong').innerText()), '127.0.0.1', 'the host the answer goes back to');
        assert.match(await body(page), /you go back to 127\.0\.0\.1/);

        // Allowed: back at the application with a code, the state and the issuer.
        const allowed = await answer(page.locator('form[action="/oauth/authorize"] button[name="decision"][value="allow"]'));
        assert.equal(allowed.origin + allowed.pathname, callback);
        const code = allowed.searchParams.get('code');
        assert.ok(code, `a code in ${allowed.href}`);
        assert.equal(allowed.searchParams.get('state'), `allow-${size.name}`);
        assert.equal(allowed.searchParams.get('iss'), issuer);
        assert.equal(allowed.searchParams.get('error'), null);

        // Connected applications, from the account page, lists it right away (the code works for
        // minutes only, and a grant is listed while it has a working code or token).
        await visit(page, '/account', 'account');
        await clickAndLoad(page, page.locator('main a[href="/account/apps"]').first(), 'apps-one');
        assert.equal(new URL(page.url()).pathname, '/account/apps');
        const card = page.locator('ul.app-list li.app-card');
        assert.equal(await card.count(), 1, 'one connected application');
        assert.equal(squash(await card.locator('h2').innerText()), 'Example LMS');
        assert.equal(squash(await card.locator('a[href="https://lms.example"]').innerText()), 'lms.example');
        assert.deepEqual((await card.locator('ul li').allInnerTexts()).map(squash), PERMISSIONS);
        assert.match(squash(await card.innerText()), /last used: Not yet/);
        // How the list is drawn (cairn.css: a list without bullets, each application a bordered
        // card), checked at the end so that the rest still runs when it is wrong.
        const drawn = await page.evaluate(() => ({
          listStyle: getComputedStyle(document.querySelector('ul.app-list')).listStyleType,
          cardBorder: getComputedStyle(document.querySelector('li.app-card')).borderTopStyle,
        }));

        // The code the browser carried works at the token endpoint, with its verifier.
        const tokens = await post(`${server.baseUrl}/oauth/token`, {
          form: { grant_type: 'authorization_code', code, redirect_uri: callback, client_id: clientId, code_verifier: allowRequest.verifier },
        });
        assert.equal(tokens.status, 200, `POST /oauth/token answered ${tokens.status}: ${tokens.text}`);
        assert.ok(tokens.answer.access_token && tokens.answer.refresh_token, 'an access token and a refresh token');
        const profile = await fetch(`${server.baseUrl}/ims/ob/v3p0/profile`, { headers: { authorization: `Bearer ${tokens.answer.access_token}`, accept: 'application/json' } });
        assert.equal(profile.status, 200, 'the access token reads the profile');
        await profile.arrayBuffer();

        // A second request, refused: back at the application with access_denied and the state.
        const denyRequest = authorizePath(clientId, callback, `deny-${size.name}`);
        await visit(page, denyRequest.path, 'consent-again');
        const denied = await answer(page.locator('form[action="/oauth/authorize"] button[name="decision"][value="deny"]'));
        assert.equal(denied.origin + denied.pathname, callback);
        assert.equal(denied.searchParams.get('error'), 'access_denied');
        assert.equal(denied.searchParams.get('state'), `deny-${size.name}`);
        assert.equal(denied.searchParams.get('iss'), issuer);
        assert.equal(denied.searchParams.get('code'), null, 'no code when refused');

        // An unknown client is refused on the page, and the browser stays here.
        const before = callbacks.length;
        const unknown = authorizePath('no-such-client', callback, `unknown-${size.name}`);
        await visit(page, unknown.path, 'refused', 400);
        assert.equal(new URL(page.url()).origin, server.baseUrl, 'no redirect for an unknown client');
        assert.equal(squash(await page.locator('h1').innerText()), 'This request cannot be used');
        assert.match(await body(page), /no application is registered under this client_id/);
        assert.equal(await page.locator('form[action="/oauth/authorize"]').count(), 0, 'nothing to allow');
        assert.equal(callbacks.length, before, 'the application was not asked');

        // Signed out, too: refused, not sent to sign in.
        const stranger = await newPage();
        await visit(stranger, unknown.path, 'refused-signed-out', 400);
        assert.equal(new URL(stranger.url()).pathname, '/oauth/authorize');
        assert.equal(squash(await stranger.locator('h1').innerText()), 'This request cannot be used');

        // Disconnected: the notice, the empty state, and the token no longer works.
        await visit(page, '/account/apps', 'apps-one-again');
        assert.equal(await page.locator('li.app-card').count(), 1, 'refusing the second request left the first grant');
        await clickAndLoad(page, page.locator('li.app-card', { hasText: 'Example LMS' }).locator('form[action$="/revoke"] button[type="submit"]'), 'apps-disconnected');
        assert.equal(new URL(page.url()).pathname, '/account/apps');
        assert.match(squash(await page.locator('.notice').innerText()), /^The application is disconnected/);
        assert.equal(await page.locator('li.app-card').count(), 0, 'no application is listed');
        assert.match(squash(await page.locator('.empty-state').innerText()), /No application is connected to your account/);
        const after = await fetch(`${server.baseUrl}/ims/ob/v3p0/profile`, { headers: { authorization: `Bearer ${tokens.answer.access_token}`, accept: 'application/json' } });
        assert.equal(after.status, 401, 'the access token stops working');
        await after.arrayBuffer();

        // The empty state, as it shows on a later visit.
        await visit(page, '/account/apps', 'apps-empty');
        assert.equal(await page.locator('.notice').count(), 0, 'the notice shows once');
        assert.match(squash(await page.locator('.empty-state').innerText()), /No application is connected to your account/);

        assert.deepEqual(drawn, { listStyle: 'none', cardBorder: 'solid' }, 'the connected application is drawn as a card, without a bullet (cairn.css .app-list, .app-card)');
      } finally {
        for (const context of contexts) await context.close().catch(() => {});
        await browser.close();
        await application.close();
        await server.stop();
      }
    });
  }
});
