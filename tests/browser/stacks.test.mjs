// Certificates, at a desktop and a phone size: the issuer writes a certificate from two published
// micro-badges (with credit hours) on the authoring form, reviews it, saves it and publishes it;
// a learner who earns the first badge sees their progress towards it on its page and on their
// home page; once the second badge is earned the certificate is awarded automatically, and its
// award page lists the badges that earned it. Every page is checked with axe-core, for sideways
// scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   manage page       a "New certificate"
//   authoring form    #name #description #criteria #credits_available, the "Requirements" step
//                     (#rule, checkboxes #component-ID), the review's submit button
//   achievement page  form[action$="/publish"], #levels (its components), dd for credit hours,
//                     #your-standing .home-stack (the summary in p.muted)
//   home page         #micro-credentials .home-stack, a "View the certificate badge"
//   award page        ol.level-awards (the components)

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, api, earn, logIn } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;

/** A micro-badge body for the API, worth `credits` credit hours. */
const badgeBody = (name, credits) => ({
  kind: 'micro-badge',
  name,
  description: 'Show the skill on real work.',
  criteria: 'Submit a report of the work.',
  rubric: {
    levels: ['Developing', 'Proficient'],
    criteria: [{ name: 'Quality', required_level: 'Proficient', descriptors: ['Partly done', 'Done well'] }],
  },
  credits_available: credits,
});

describe('certificates', () => {
  let server;
  let browser;
  let organisation;
  let issuerToken;

  before(async () => {
    server = await startServer();
    browser = await launch();
    issuerToken = await logIn(server.baseUrl, DEMO.issuer);
    organisation = (await api(server.baseUrl, 'GET', '/api/v1/organisations')).items[0].id;
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  for (const size of SIZES) {
    it(`an issuer authors a certificate; a learner sees progress and is awarded it at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const { contexts, newPage, look, visit, clickAndLoad, signIn } = pageKit(browser, server.baseUrl, size, 'stacks');
      try {
        // Two published micro-badges to build on.
        const parts = [];
        for (const [name, credits] of [[`Field Safety ${size.name}`, 2], [`Site Survey ${size.name}`, 3]]) {
          const created = await api(server.baseUrl, 'POST', `/api/v1/organisations/${organisation}/achievements`, { token: issuerToken, body: badgeBody(name, credits) });
          parts.push(await api(server.baseUrl, 'POST', `/api/v1/achievements/${created.id}/publish`, { token: issuerToken, body: {} }));
        }
        const certificateName = `Certificate in Field Work ${size.name}`;

        // The issuer writes the certificate on the authoring form.
        const issuer = await newPage();
        await signIn(issuer, DEMO.issuer, 'issuer');
        await visit(issuer, `/issuers/${organisation}/manage`, 'manage');
        await clickAndLoad(issuer, issuer.getByRole('link', { name: 'New certificate' }), 'new-certificate');
        await issuer.locator('#name').fill(certificateName);
        await issuer.locator('#description').fill('Work safely in the field and survey a site.');
        await issuer.locator('#criteria').fill('Hold both micro-badges.');
        await issuer.locator('#credits_available').fill('5');
        await issuer.locator('.stepper .step-link', { hasText: 'Requirements' }).click();
        await look(issuer, 'requirements-step');
        await issuer.locator('#rule').selectOption('all');
        for (const part of parts) await issuer.locator(`#component-${part.id}`).check();
        await issuer.locator('.stepper .step-link', { hasText: 'Review' }).click();
        const review = issuer.locator('section.step-review');
        const reviewed = squash(await review.innerText());
        for (const expected of [certificateName, parts[0].name, parts[1].name, 'All of the chosen components']) {
          assert.ok(reviewed.includes(expected), `the review shows "${expected}": ${reviewed}`);
        }
        await look(issuer, 'review');
        await clickAndLoad(issuer, review.locator('button[type="submit"]'), 'certificate-draft');
        assert.equal(squash(await issuer.locator('h1').innerText()), certificateName);
        const certificateId = new URL(issuer.url()).pathname.split('/').pop();
        await clickAndLoad(issuer, issuer.locator(`form[action="/achievements/${certificateId}/publish"] button[type="submit"]`), 'certificate-published');
        const components = squash(await issuer.locator('#levels').innerText());
        assert.ok(components.includes(parts[0].name) && components.includes(parts[1].name), components);
        const facts = squash(await issuer.locator('.achievement-facts').innerText());
        assert.match(facts, /credit hours\s*5/i, facts);

        // The API lists it with its requirements.
        const listed = await api(server.baseUrl, 'GET', `/api/v1/achievements/${certificateId}`);
        assert.equal(listed.kind, 'certificate');
        assert.deepEqual(listed.requirements.components.map((c) => c.id), parts.map((p) => p.id));

        // A learner earns the first part and sees how far they are.
        const person = { name: `Fern Fieldwork ${size.name}`, email: `fern.fieldwork.${size.name}@example.org`, password: 'a long enough password' };
        await api(server.baseUrl, 'POST', '/api/v1/users', { body: person });
        const tokens = { issuer: issuerToken, assessor: await logIn(server.baseUrl, DEMO.assessor), learner: await logIn(server.baseUrl, person) };
        await earn(server.baseUrl, parts[0], tokens);
        const learner = await newPage();
        await signIn(learner, person, 'learner');
        await visit(learner, `/achievements/${certificateId}`, 'certificate-progress');
        const standing = squash(await learner.locator('#your-standing').innerText());
        assert.ok(standing.includes('1 of 2 held'), standing);
        assert.ok(standing.includes('Held') && standing.includes('Not started'), standing);
        await visit(learner, '/dashboard', 'home-progress');
        const stack = learner.locator('#micro-credentials .home-stack', { hasText: certificateName });
        assert.ok(squash(await stack.innerText()).includes('1 of 2 held'));

        // The second part completes it: the certificate is awarded without anyone asking.
        await earn(server.baseUrl, parts[1], tokens);
        const awards = await api(server.baseUrl, 'GET', '/api/v1/awards', { token: tokens.learner });
        const certificateAward = (awards.items ?? awards).find((a) => a.achievement_id === certificateId || a.achievement?.id === certificateId);
        assert.ok(certificateAward, 'the certificate was awarded');
        await visit(learner, '/dashboard', 'home-awarded');
        const done = learner.locator('#micro-credentials .home-stack', { hasText: certificateName });
        assert.ok(squash(await done.innerText()).includes('2 of 2 held'));
        await clickAndLoad(learner, done.getByRole('link', { name: /View the certificate badge/ }), 'certificate-award');
        const assessed = squash(await learner.locator('ol.level-awards').innerText());
        assert.ok(assessed.includes(parts[0].name) && assessed.includes(parts[1].name), assessed);
        assert.ok(squash(await learner.locator('main').innerText()).includes('This certificate was awarded automatically'));
      } finally {
        for (const context of contexts) await context.close();
      }
    });
  }
});
