// Portfolios and talent search, at a desktop and a phone size. Two learners earn a badge and make
// it public; one of them opens a public page and lets employers find her through the visibility
// page. An employer's member searches, opens her achievements, shortlists her, compares the two
// learners, and asks to contact her; she sees who looked, and accepts; the employer then sees her
// e-mail address. Every page is checked with axe-core, for sideways scrolling, and saved as a
// screenshot.
//
// The selectors here are the contract with the server's HTML:
//   /account/visibility   #handle, #discoverable, form[action="/account/visibility"], #talent-activity,
//                          form[action^="/account/contact-requests/"] (decision accept|decline)
//   /u/{handle}            h1, .portfolio-award, script[type="application/ld+json"], .qr-figure img
//   /talent                #q, .talent-card, input[name="learners"], #compare-form
//   /talent/learners/{h}   form[action="/talent/shortlist"], #message, form[action="/talent/contact-requests"]
//   /talent/compare        #compare-learners
//   /talent/shortlist      #shortlist, #contact-requests

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, api, earn, logIn } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;
const PASSWORD = 'a long enough password';

describe('discovery', () => {
  let server;
  let browser;
  let badge;
  let staff;

  before(async () => {
    server = await startServer();
    browser = await launch();
    staff = { issuer: await logIn(server.baseUrl, DEMO.issuer), assessor: await logIn(server.baseUrl, DEMO.assessor) };
    const catalog = await api(server.baseUrl, 'GET', '/api/v1/achievements?kind=micro-badge&limit=100');
    badge = catalog.items.find((a) => a.name === 'Inclusive Meeting Facilitation');
    assert.ok(badge, 'the demo badge');
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  /** A new learner who earned the badge and made it public; returns the person and their token. */
  const learnerWithBadge = async (person) => {
    await api(server.baseUrl, 'POST', '/api/v1/users', { body: { ...person, password: PASSWORD } });
    const learner = await logIn(server.baseUrl, { ...person, password: PASSWORD });
    const award = await earn(server.baseUrl, badge, { ...staff, learner });
    await api(server.baseUrl, 'PUT', `/api/v1/awards/${award.id}/privacy`, { token: learner, body: { privacy: 'public', evidence_public: true } });
    return { ...person, password: PASSWORD, token: learner };
  };

  for (const size of SIZES) {
    it(`a learner opens her page, an employer finds, compares and contacts her at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const { contexts, newPage, visit, clickAndLoad, signIn } = pageKit(browser, server.baseUrl, size, 'discovery');
      try {
        const handle = `mara-${size.name}`;
        const mara = await learnerWithBadge({ name: `Mara Lindqvist ${size.name}`, email: `mara.${size.name}@example.org` });
        const other = await learnerWithBadge({ name: `Oren Blake ${size.name}`, email: `oren.${size.name}@example.org` });
        await api(server.baseUrl, 'PATCH', '/api/v1/me', { token: other.token, body: { handle: `oren-${size.name}`, discoverable: true } });
        const hiring = { name: `Hira Castell ${size.name}`, email: `hira.${size.name}@example.org`, password: PASSWORD };
        await api(server.baseUrl, 'POST', '/api/v1/users', { body: hiring });
        const hiringToken = await logIn(server.baseUrl, hiring);
        await api(server.baseUrl, 'POST', '/api/v1/organisations', {
          token: hiringToken,
          body: { name: `Northwind Hiring ${size.name}`, url: 'https://northwind.example', kind: 'employer' },
        });

        // The learner chooses a handle and lets employers find her.
        const learnerPage = await newPage();
        await signIn(learnerPage, mara, 'learner');
        await visit(learnerPage, '/account/visibility', 'visibility');
        await learnerPage.locator('#handle').fill(handle);
        await learnerPage.locator('#discoverable').check();
        await clickAndLoad(learnerPage, learnerPage.locator('form[action="/account/visibility"] button[type="submit"]'), 'visibility-saved');
        assert.match(squash(await learnerPage.locator('body').innerText()), /Your choices are saved/);

        // Her public page, as anyone sees it.
        const visitor = await newPage();
        await visit(visitor, `/u/${handle}`, 'portfolio');
        assert.equal(squash(await visitor.locator('h1').innerText()), mara.name);
        assert.equal(await visitor.locator('.portfolio-award').count(), 1);
        const ld = JSON.parse(await visitor.locator('script[type="application/ld+json"]').textContent());
        assert.equal(ld['@type'], 'Person');
        assert.equal(ld.hasCredential[0].name, 'Inclusive Meeting Facilitation');
        assert.ok(await visitor.locator('.qr-figure img').evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code loads');

        // The employer searches, opens her achievements and shortlists her.
        const employer = await newPage();
        await signIn(employer, hiring, 'employer');
        await visit(employer, '/talent', 'talent');
        await employer.locator('#q').fill('facilitation');
        await clickAndLoad(employer, employer.locator('form.talent-search button[type="submit"]'), 'talent-results');
        const card = employer.locator('.talent-card', { hasText: mara.name });
        assert.equal(await card.count(), 1, 'she is found');
        await clickAndLoad(employer, card.locator(`a[href="/talent/learners/${handle}"]`), 'talent-learner');
        await clickAndLoad(employer, employer.locator('form[action="/talent/shortlist"] button[type="submit"]'), 'talent-shortlisted');
        assert.match(squash(await employer.locator('body').innerText()), /On your shortlist/);

        // Compare the two learners side by side.
        await visit(employer, `/talent/compare?learners=${handle}&learners=oren-${size.name}`, 'talent-compare');
        assert.match(squash(await employer.locator('#compare-learners').innerText()), new RegExp(`${mara.name}.*${other.name}`));

        // Ask to contact her.
        await visit(employer, `/talent/learners/${handle}`, 'talent-learner-again');
        await employer.locator('#message').fill('We are hiring facilitators for community workshops.');
        await clickAndLoad(employer, employer.locator('form[action="/talent/contact-requests"] button[type="submit"]'), 'talent-contact-sent');
        assert.match(squash(await employer.locator('#contact-requests').innerText()), /Waiting for an answer/);
        assert.doesNotMatch(squash(await employer.locator('#contact-requests').innerText()), new RegExp(mara.email));

        // She sees who looked, and accepts.
        await visit(learnerPage, '/account/visibility', 'visibility-activity');
        const activity = squash(await learnerPage.locator('#talent-activity').innerText());
        for (const what of ['found you in a search', 'viewed your achievements', 'shortlisted you', 'asked to contact you']) {
          assert.ok(activity.includes(what), `${what} in: ${activity}`);
        }
        await clickAndLoad(learnerPage, learnerPage.locator('form[action^="/account/contact-requests/"]:has(input[value="accept"]) button'), 'contact-accepted');

        await visit(employer, '/talent/shortlist', 'talent-shortlist');
        assert.match(squash(await employer.locator('#contact-requests').innerText()), new RegExp(`Accepted.*${mara.email.replace('.', '\\.')}`));
      } finally {
        for (const context of contexts) await context.close();
      }
    });
  }
});
