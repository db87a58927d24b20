// Direct award, at a desktop and a phone size, each on a fresh server: the demo issuer awards two
// of its badges, one on its direct-award page to an address nobody uses (after a mistake the page
// names) and one over the API to the demo learner. The
// claim links are read from the mail outbox, as the demo operator sees it. The first recipient
// creates an account on the claim page and lands on the badge's page; the link then no longer
// works. The demo learner opens theirs signed out, signs in from the page and claims with one
// button. Every page is checked with axe-core, for sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   issuer page  form[action$="/direct-awards"] #award_achievement #award_email #award_name
//                #award_narrative #award_evidence, table#direct-awards
//   claim page   form[action^="/claim/"] #name #password button[type="submit"], a[href^="/login"]
//   sign-in page form[action="/login"] #email #password
//   outbox       li.mail (.mail-body)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEMO, api, logIn } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;

describe('direct award', () => {
  for (const size of SIZES) {
    it(`is claimed with a new account and by signing in at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const server = await startServer();
      const browser = await launch();
      const { contexts, newPage, visit, clickAndLoad, signIn } = pageKit(browser, server.baseUrl, size, 'claim');
      const body = async (page) => squash(await page.locator('body').innerText());

      try {
        // The issuer awards two badges the demo learner does not hold.
        const issuer = await logIn(server.baseUrl, DEMO.issuer);
        const learner = await logIn(server.baseUrl, DEMO.learner);
        const me = await api(server.baseUrl, 'GET', '/api/v1/me', { token: issuer });
        const organisation = me.memberships[0].organisation_id;
        const held = new Set((await api(server.baseUrl, 'GET', '/api/v1/awards', { token: learner })).items.map((a) => a.achievement_id));
        const listed = await api(server.baseUrl, 'GET', `/api/v1/organisations/${organisation}/achievements`, { token: issuer });
        const badges = listed.items.filter((a) => a.kind === 'micro-badge' && a.level === null && a.state === 'published' && !held.has(a.id));
        assert.ok(badges.length >= 2, 'two badges the learner does not hold');
        const newcomer = `grace.${size.name}@example.org`;
        const award = (achievement, email, name) =>
          api(server.baseUrl, 'POST', `/api/v1/organisations/${organisation}/awards`, {
            token: issuer,
            body: {
              achievement_id: achievement.id,
              recipient: { email, name },
              narrative: 'Assessed at the spring workshop: all three tasks passed.',
              evidence: [{ url: 'https://example.org/grace/project', name: 'Compiler project' }],
            },
          });
        await award(badges[1], DEMO.learner.email, DEMO.learner.name);

        // The issuer awards the first on its direct-award page; a mistake is named where it is.
        const operator = await newPage();
        await signIn(operator, DEMO.issuer, 'operator');
        await visit(operator, `/issuers/${organisation}/direct-awards`, 'issuer-page');
        await operator.locator('#award_achievement').selectOption(badges[0].id);
        await operator.locator('#award_email').fill('not an address');
        await operator.locator('#award_name').fill('Grace Hopper');
        await operator.locator('#award_narrative').fill('Assessed at the spring workshop: all three tasks passed.');
        await operator.locator('#award_evidence').fill('https://example.org/grace/project Compiler project');
        await clickAndLoad(operator, operator.locator('form[action$="/direct-awards"] button[type="submit"]'), 'issuer-page-error', 422);
        assert.match(await body(operator), /Recipient's e-mail address/);
        await operator.locator('#award_email').fill(newcomer);
        await clickAndLoad(operator, operator.locator('form[action$="/direct-awards"] button[type="submit"]'), 'issuer-page-sent');
        assert.match(await body(operator), /the recipient is e-mailed a link to claim it/);
        assert.match(await body(operator), new RegExp(`Grace Hopper ${newcomer.replace(/\./g, '\\.')}`));

        // The operator reads the claim links in the outbox.
        await visit(operator, '/admin/outbox', 'outbox');
        const linkTo = async (email) => {
          const mailBody = await operator.locator('li.mail', { hasText: email }).first().locator('.mail-body').textContent();
          const link = mailBody.match(/https?:\/\/\S+(\/claim\/[A-Za-z0-9_-]+)/);
          assert.ok(link, `no claim link in the mail to ${email}:\n${mailBody}`);
          return link[1];
        };

        // A new account claims the first; a weak password is refused where it was typed.
        const page = await newPage();
        const first = await linkTo(newcomer);
        await visit(page, first, 'new-account');
        assert.match(await body(page), /Grace Hopper/);
        assert.match(await body(page), /all three tasks passed/);
        assert.equal(await page.locator('#name').inputValue(), 'Grace Hopper', 'the name the issuer gave');
        await page.locator('#password').fill('short');
        await clickAndLoad(page, page.locator('form[action^="/claim/"] button[type="submit"]'), 'weak-password', 422);
        assert.match(await body(page), /Password/);
        await page.locator('#password').fill('a long enough password');
        await clickAndLoad(page, page.locator('form[action^="/claim/"] button[type="submit"]'), 'claimed');
        assert.match(page.url(), /\/awards\/[0-9a-f-]+$/);
        assert.match(await body(page), /Your badge is yours/);
        assert.match(await body(page), new RegExp(badges[0].name));
        await visit(page, first, 'used-link', 410);
        assert.match(await body(page), /no longer works/);

        // The demo learner, signed out, signs in from the page and claims with one button.
        const second = await linkTo(DEMO.learner.email);
        const own = await newPage();
        await visit(own, second, 'sign-in-first');
        await clickAndLoad(own, own.locator('a[href^="/login"]', { hasText: 'Sign in to claim' }), 'sign-in');
        await own.locator('#email').fill(DEMO.learner.email);
        await own.locator('#password').fill(DEMO.learner.password);
        await clickAndLoad(own, own.locator('form[action="/login"] button[type="submit"]'), 'back-to-claim');
        assert.match(own.url(), /\/claim\//);
        await clickAndLoad(own, own.locator('form[action^="/claim/"] button[type="submit"]', { hasText: 'Claim the badge' }), 'claimed-signed-in');
        assert.match(await body(own), new RegExp(badges[1].name));
        const after = await api(server.baseUrl, 'GET', '/api/v1/awards', { token: learner });
        assert.ok(after.items.some((a) => a.achievement_id === badges[1].id), 'the learner holds the badge');

        // The issuer's page shows both claimed.
        await visit(operator, `/issuers/${organisation}/direct-awards`, 'issuer-page-claimed');
        assert.equal(await operator.locator('#direct-awards tbody tr', { hasText: 'Claimed' }).count(), 2);
      } finally {
        for (const context of contexts) await context.close().catch(() => {});
        await browser.close();
        await server.stop();
      }
    });
  }
});
