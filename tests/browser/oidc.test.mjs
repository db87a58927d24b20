// Signing in with an identity provider, in the browser, at a desktop and a phone size, each on a
// fresh server configured (CAIRN_CONFIG) with one provider, "Example University": the npm package
// oidc-provider run in this process by the interop tests' harness (tests/interop/lib/oidc.mjs,
// whose packages are installed by tests/interop/peers/install.sh; without them this file is
// skipped), with its own minimal login page. The sign-in page offers "Sign in with Example
// University" under "Or sign in with your organisation". Following it and cancelling at the
// provider comes back to the sign-in page (403) with the reason. Following it again and signing
// in at the provider's page with the demo learner's address (which the provider says it
// verified) lands on the dashboard with the notice that the account is now linked. The account
// page's "Organisations you sign in with" leads to the providers page, which lists the link;
// unlinking it (the demo learner has a password) comes back to that page with the notice, no
// link, and the provider under "Also available". Every Cairn page is checked with axe-core, for
// sideways scrolling, and saved as a screenshot (the provider's own page is not Cairn's: it is
// only used).
//
// The selectors here are the contract with the server's HTML:
//   sign-in page    section.sign-in-providers h2, a.button[href="/auth/oidc/uni"],
//                   .error-summary[role="alert"]
//   provider page   #login, button[type="submit"] ("Sign in"), a ("Cancel") (the harness's)
//   dashboard       h1 ("Hello, …"), .notice[role="status"]
//   account page    a[href="/account/providers"]
//   providers page  h1, table th[scope="row"], form[action="/account/providers/uni/unlink"] button,
//                   h2#others-title + ul li, .empty-state, .notice[role="status"]

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEMO } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 120_000;
const PEER = fileURLToPath(new URL('../interop/peers/node_modules/oidc-provider/package.json', import.meta.url));
const skip = existsSync(PEER) ? false : 'the OpenID Provider (npm oidc-provider) is not installed: run tests/interop/peers/install.sh';
const { startProvider } = skip ? {} : await import('../interop/lib/oidc.mjs');

const PROVIDER = { id: 'uni', name: 'Example University', client_id: 'cairn-uni', client_secret: 'uni-secret-that-is-long-enough-0123456789' };
const LENA = { sub: 'uni-0001-lena', claims: { email: DEMO.learner.email, email_verified: true, name: DEMO.learner.name } };

const NOTICES = {
  linked: 'You are signed in, and your account is now linked to the provider you signed in with. We have sent a message to your e-mail address saying so.',
  unlinked: 'The provider is unlinked: it no longer signs you in to this account.',
};
const CANCELLED = 'Example University did not sign you in: you cancelled, or the provider refused access.';

describe('signing in with an identity provider', { skip }, () => {
  for (const size of SIZES) {
    const at = `${size.width}×${size.height}`;

    describe(`at ${at}`, () => {
      let dir;
      let provider;
      let server;
      let browser;
      let kit;
      let learner; // the demo learner's page, once signed in with the provider
      const startPath = `/auth/oidc/${PROVIDER.id}`;
      const notice = async (page) => squash(await page.locator('.notice[role="status"]').innerText());
      const providerButton = (page) => page.locator(`section.sign-in-providers a.button[href="${startPath}"]`);

      /** Clicks the provider's button on the sign-in page and waits for the provider's login page. */
      async function toProvider(page) {
        const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), providerButton(page).click()]);
        assert.equal(response?.status(), 200, `the provider's page: ${page.url()} answered ${response?.status()}`);
        assert.ok(page.url().startsWith(`${provider.issuer}/interaction/`), `the browser is at the provider: ${page.url()}`);
        assert.equal(await page.locator('#login').count(), 1, 'the provider asks who signs in');
      }

      before(async () => {
        dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-browser-oidc-'));
        provider = await startProvider({ accounts: { [LENA.sub]: LENA.claims } });
        const config = path.join(dir, 'cairn.toml');
        await fs.writeFile(config, `[[oidc_providers]]
id = "${PROVIDER.id}"
name = "${PROVIDER.name}"
issuer = "${provider.issuer}"
client_id = "${PROVIDER.client_id}"
scopes = ["profile"]
`);
        server = await startServer({ env: { CAIRN_CONFIG: config, CAIRN_OIDC_UNI_CLIENT_SECRET: PROVIDER.client_secret } });
        await provider.setClient({
          client_id: PROVIDER.client_id, client_secret: PROVIDER.client_secret, redirect_uris: [`${server.baseUrl}${startPath}/callback`],
        });
        browser = await launch();
        kit = pageKit(browser, server.baseUrl, size, 'oidc');
      }, { timeout: 120_000 });

      after(async () => {
        for (const context of kit?.contexts ?? []) await context.close().catch(() => {});
        await browser?.close();
        await server?.stop();
        await provider?.stop();
        if (dir) await fs.rm(dir, { recursive: true, force: true });
      }, { timeout: 30_000 });

      it(`the sign-in page offers the provider; cancelling there comes back with the reason, at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        const page = await kit.newPage();
        await kit.visit(page, '/login', 'sign-in');
        const section = page.locator('section.sign-in-providers');
        assert.equal(await section.count(), 1, 'a section of providers');
        assert.equal(squash(await section.locator('h2').innerText()), 'Or sign in with your organisation');
        assert.equal(await providerButton(page).count(), 1, 'one button for the provider');
        assert.equal(squash(await providerButton(page).innerText()), `Sign in with ${PROVIDER.name}`);
        assert.ok(await providerButton(page).isVisible(), 'the button is visible');

        await toProvider(page);
        await kit.clickAndLoad(page, page.getByRole('link', { name: 'Cancel' }), 'cancelled', 403);
        assert.equal(new URL(page.url()).origin, server.baseUrl, `back at Cairn: ${page.url()}`);
        assert.equal(new URL(page.url()).pathname, `${startPath}/callback`);
        assert.equal(squash(await page.locator('h1').innerText()), 'Sign in');
        const summary = page.locator('.error-summary');
        assert.equal(await summary.getAttribute('role'), 'alert');
        assert.match(squash(await summary.innerText()), new RegExp(CANCELLED.replace(/[.]/g, '\\.')));
        assert.equal(await providerButton(page).count(), 1, 'the provider is offered again');
        const cookies = await page.context().cookies(server.baseUrl);
        assert.ok(!cookies.some((c) => c.name === 'cairn_session'), 'not signed in');
        assert.ok(!cookies.some((c) => c.name === 'cairn_oidc_state'), 'the state cookie is cleared');
      });

      it(`signing in at the provider links the demo learner and lands on the dashboard, at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        const page = await kit.newPage();
        await kit.visit(page, '/login', 'sign-in-again');
        await toProvider(page);
        await page.locator('#login').fill(LENA.claims.email);
        await kit.clickAndLoad(page, page.locator('button[type="submit"]'), 'dashboard-linked');
        assert.equal(page.url(), `${server.baseUrl}/dashboard`);
        assert.equal(await notice(page), NOTICES.linked);
        assert.equal(squash(await page.locator('h1').innerText()), `Hello, ${DEMO.learner.name}`);
        const cookies = await page.context().cookies(server.baseUrl);
        const session = cookies.find((c) => c.name === 'cairn_session');
        assert.ok(session?.httpOnly, 'an HttpOnly session cookie');
        assert.ok(!cookies.some((c) => c.name === 'cairn_oidc_state'), 'the state cookie is cleared');
        assert.equal(provider.tokenRequests.at(-1)?.method, 'client_secret_basic');
        assert.equal(provider.tokenRequests.at(-1)?.code_verifier, true);
        learner = page;
      });

      it(`the account page leads to the providers page, which lists the link, at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        assert.ok(learner, 'the learner signed in (the test before)');
        const page = learner;
        await kit.visit(page, '/account', 'account');
        const link = page.locator('a[href="/account/providers"]');
        assert.equal(await link.count(), 1, 'one link to the providers page');
        assert.equal(squash(await link.innerText()), 'Organisations you sign in with');

        await kit.clickAndLoad(page, link, 'providers');
        assert.equal(new URL(page.url()).pathname, '/account/providers');
        assert.equal(squash(await page.locator('h1').innerText()), 'Organisations you sign in with');
        const rows = page.locator('table tbody tr');
        assert.equal(await rows.count(), 1, 'one linked provider');
        assert.equal(squash(await rows.locator('th[scope="row"]').innerText()), PROVIDER.name);
        const cells = (await rows.locator('td').allInnerTexts()).map(squash);
        assert.equal(cells[0], LENA.claims.email, 'the address the provider confirmed');
        assert.ok(cells[1] && cells[2], `linked and last used: ${JSON.stringify(cells)}`);
        const unlink = rows.locator(`form[action="/account/providers/${PROVIDER.id}/unlink"] button[type="submit"]`);
        assert.equal(await unlink.count(), 1, 'an unlink button');
        assert.equal(squash(await unlink.textContent()), `Unlink ${PROVIDER.name}`, 'named for a screen reader too');
        assert.ok(await unlink.isVisible(), 'the button is visible');
        assert.equal(await page.locator('h2#others-title').count(), 0, 'no other provider is configured');
      });

      it(`unlinking the provider says so and lists it under "Also available", at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        assert.ok(learner, 'the learner signed in');
        const page = learner;
        await kit.visit(page, '/account/providers', 'before-unlink');
        await kit.clickAndLoad(page, page.locator(`form[action="/account/providers/${PROVIDER.id}/unlink"] button[type="submit"]`), 'unlinked');
        assert.equal(new URL(page.url()).pathname, '/account/providers');
        assert.equal(await notice(page), NOTICES.unlinked);
        assert.equal(await page.locator('table tbody tr').count(), 0, 'nothing linked');
        assert.match(squash(await page.locator('.empty-state').innerText()), /No organisation's sign-in is linked/);
        assert.equal(squash(await page.locator('h2#others-title').innerText()), 'Also available');
        const others = (await page.locator('section[aria-labelledby="others-title"] ul li').allInnerTexts()).map(squash);
        assert.deepEqual(others, [PROVIDER.name]);
      });
    });
  }
});
