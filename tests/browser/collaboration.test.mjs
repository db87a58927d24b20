// Collaboration, at a desktop and a phone size: a learner names a collaborator on a free demo
// micro-badge and saves; the submission warns that the collaborator's reflection is missing, and
// once the issuer requires reflections it holds the submit. The collaborator is told (a
// notification, and "Collaborations" in the menu), writes a reflection from the notification's
// link, and the learner can then submit. Every page is checked with axe-core, for sideways
// scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   submission page     #submission-form (#overview, #reflection, #links, #collaborators),
//                       #reflections-missing, button[formaction$="/submit"]
//   menu                details.nav-menu > summary (aria-expanded), #site-menu a[href="/collaborations"]
//   notifications page  li.notification with its "Open" button (follows to /collaborations#collaboration-…)
//   collaborations      li#collaboration-… textarea[name="reflection"]

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, api, logIn } from './lib/api.mjs';
import { SIZES, checkPage, launch, settledAttribute } from './lib/browser.mjs';
import { pageKit } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;

/** Collapses runs of whitespace (including no-break spaces) to one space. */
const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

describe('collaboration', () => {
  let server;
  let browser;
  let badges;
  let settingsPath;
  let issuerToken;

  const setRule = async (rule) => {
    const settings = await api(server.baseUrl, 'GET', settingsPath, { token: issuerToken });
    await api(server.baseUrl, 'PUT', settingsPath, { token: issuerToken, body: { ...settings, collaborator_reflections: rule } });
  };

  before(async () => {
    server = await startServer();
    browser = await launch();
    issuerToken = await logIn(server.baseUrl, DEMO.issuer);
    const orgs = await api(server.baseUrl, 'GET', '/api/v1/organisations');
    settingsPath = `/api/v1/organisations/${orgs.items[0].id}/assessment-settings`;
    const catalog = await api(server.baseUrl, 'GET', '/api/v1/achievements?kind=micro-badge&limit=100');
    badges = catalog.items.filter((a) => a.state === 'published' && a.fee?.free && a.rubric?.criteria?.length && !a.level);
    assert.ok(badges.length >= 1, 'the demo has a free micro-badge');
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  for (const size of SIZES) {
    it(`tells a named collaborator, who writes a reflection, and warns or holds the submit at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const { contexts, newPage, look, visit, clickAndLoad, signIn } = pageKit(browser, server.baseUrl, size, 'collaboration');

      try {
        await setRule('warn');
        const learner = { name: `Lia Team ${size.name}`, email: `lia.team.${size.name}@example.org`, password: 'a long enough password' };
        const partner = { name: `Max Partner ${size.name}`, email: `max.partner.${size.name}@example.org`, password: 'a long enough password' };
        for (const person of [learner, partner]) await api(server.baseUrl, 'POST', '/api/v1/users', { body: person });
        const badge = badges[SIZES.indexOf(size) % badges.length];

        // The learner applies and names the partner.
        const page = await newPage();
        await signIn(page, learner, 'learner');
        await visit(page, `/achievements/${badge.id}`, 'achievement');
        await clickAndLoad(page, page.locator(`form[action="/achievements/${badge.id}/apply"] button[type="submit"]`), 'submission');
        const submissionUrl = page.url();
        const submission = submissionUrl.split('/').pop().split(/[?#]/)[0];
        await page.locator('#overview').fill('We ran the retrospective together: I facilitated and Max took the notes.');
        await page.locator('#reflection').fill('I learnt to leave silence for the quieter people to speak.');
        await page.locator('#links').fill('https://example.org/evidence/retrospective');
        await page.locator('#collaborators').fill(partner.email);
        await clickAndLoad(page, page.locator('#submission-form button[type="submit"]').first(), 'saved-with-collaborator');

        // Under "warn" the learner is told the reflection is missing and may still submit.
        assert.match(squash(await page.locator('#reflections-missing').innerText()), new RegExp(`waiting for ${partner.email.replace(/\./g, '\\.')}`));
        assert.equal(await page.locator('button[formaction$="/submit"]').count(), 1);

        // Once the issuer requires reflections, the submit waits.
        await setRule('require');
        await visit(page, submissionUrl, 'submission-held');
        assert.match(squash(await page.locator('#reflections-missing').innerText()), /requires every collaborator's reflection/);
        assert.equal(await page.locator('button[formaction$="/submit"]').count(), 0, 'no submit while a required reflection is missing');

        // The partner is told: the menu has Collaborations, and a notification links to it.
        const other = await newPage();
        await signIn(other, partner, 'partner');
        const toggle = other.locator('details.nav-menu > summary');
        if (await toggle.isVisible()) {
          // A narrow screen: the links are behind the menu button.
          await toggle.click();
          assert.equal(await settledAttribute(toggle, 'aria-expanded', 'true'), 'true', 'the menu opens');
        }
        assert.ok(await other.locator('#site-menu a[href="/collaborations"]').isVisible(), 'the menu offers Collaborations');
        await look(other, 'menu');
        await visit(other, '/notifications', 'notifications');
        const notice = other.locator('li.notification', { hasText: `${learner.name} named you as a collaborator` });
        assert.equal(await notice.count(), 1, 'one notification names who and what');
        assert.match(squash(await notice.innerText()), new RegExp(badge.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
        // "Open" marks it read and follows its link to the collaboration.
        await clickAndLoad(other, notice.getByRole('button', { name: /^Open/ }), 'collaborations');
        assert.match(other.url(), new RegExp(`/collaborations#collaboration-${submission}$`));
        const item = other.locator(`#collaboration-${submission}`);
        assert.match(squash(await item.innerText()), new RegExp(`${learner.name} named you as a collaborator`));
        await item.locator('textarea[name="reflection"]').fill('I took the notes and turned them into three actions we followed up.');
        await clickAndLoad(other, item.locator('button[type="submit"]'), 'reflection-saved');

        // The learner can now submit.
        await visit(page, submissionUrl, 'submission-ready');
        assert.equal(await page.locator('#reflections-missing').count(), 0);
        assert.match(squash(await page.locator('body').innerText()), /reflection written/);
        await clickAndLoad(page, page.locator('button[formaction$="/submit"]'), 'submitted');
        assert.match(squash(await page.locator('p.eyebrow', { hasText: 'Reference' }).textContent()), /Submitted/);
      } finally {
        await setRule('warn');
        for (const context of contexts) await context.close();
      }
    });
  }
});
