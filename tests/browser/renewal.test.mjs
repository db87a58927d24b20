// Renewing a badge, at a desktop and a phone size: a learner holds a badge that expires within the
// renewal window (its validity is one month), renews it from the award page, lands on the renewal
// submission, sends it, and once the assessor passes it, the new award's page shows the renewal
// history and the previous one says it was renewed. Every page is checked with axe-core, for
// sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   award page        .renewal-panel form[action$="/renewal"] button[type="submit"], .renewal-history
//   submission page   h1 ("Renewal: …")

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, api, earn, logIn } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;

describe('renewal', () => {
  let server;
  let browser;
  let badge;
  let staff;

  before(async () => {
    server = await startServer();
    browser = await launch();
    staff = { issuer: await logIn(server.baseUrl, DEMO.issuer), assessor: await logIn(server.baseUrl, DEMO.assessor) };
    const me = await api(server.baseUrl, 'GET', '/api/v1/me', { token: staff.issuer });
    const organisation = (me.memberships ?? me.organisations ?? [])[0]?.organisation_id ?? (me.memberships ?? me.organisations ?? [])[0]?.id;
    assert.ok(organisation, `the demo issuer's organisation: ${JSON.stringify(me)}`);
    const body = {
      kind: 'micro-badge',
      name: 'Safe Data Handling',
      description: 'Handle personal data safely in everyday work.',
      criteria: 'Show how you collected, stored and deleted personal data in one piece of work.',
      rubric: {
        levels: ['Developing', 'Proficient', 'Exemplary'],
        criteria: [{ name: 'Handling', required_level: 'Proficient', descriptors: ['Gaps', 'Safe', 'Safe and explained'] }],
      },
      validity_months: 1,
    };
    const created = await api(server.baseUrl, 'POST', `/api/v1/organisations/${organisation}/achievements`, { token: staff.issuer, body });
    await api(server.baseUrl, 'POST', `/api/v1/achievements/${created.id}/publish`, { token: staff.issuer, body: {} });
    badge = { ...created, issuer: { id: organisation } };
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  for (const size of SIZES) {
    it(`a learner renews an expiring badge from its page at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const { contexts, newPage, visit, clickAndLoad, signIn } = pageKit(browser, server.baseUrl, size, 'renewal');
      try {
        const person = { name: `Ravi Menon ${size.name}`, email: `ravi.${size.name}@example.org`, password: 'a long enough password' };
        await api(server.baseUrl, 'POST', '/api/v1/users', { body: person });
        const learner = await logIn(server.baseUrl, person);
        const award = await earn(server.baseUrl, badge, { ...staff, learner });

        const page = await newPage();
        await signIn(page, person, 'learner');
        await visit(page, `/awards/${award.id}`, 'award');
        await clickAndLoad(page, page.locator('.renewal-panel form[action$="/renewal"] button[type="submit"]'), 'renewal-started');
        const submission = new URL(page.url()).pathname.split('/').pop();
        assert.match(squash(await page.locator('h1').innerText()), /^Renewal: Safe Data Handling/);

        // The learner sends the renewal; the assessor passes it.
        await api(server.baseUrl, 'PUT', `/api/v1/submissions/${submission}`, {
          token: learner,
          body: { overview: 'This year I ran the data deletion review.', reflection: 'What changed since my first badge.', links: ['https://example.org/review'], collaborators: [] },
        });
        await api(server.baseUrl, 'POST', `/api/v1/submissions/${submission}/submit`, { token: learner, body: {} });
        const queue = await api(server.baseUrl, 'GET', '/api/v1/assessments', { token: staff.assessor });
        const item = queue.items.find((i) => i.submission_id === submission);
        assert.ok(item, 'the renewal is in the assessor queue');
        const top = item.rubric.levels[item.rubric.levels.length - 1];
        const scores = item.rubric.criteria.map((c) => ({ criterion: c.id, level: typeof top === 'string' ? top : item.rubric.levels.length, comment: 'Safe and explained.' }));
        await api(server.baseUrl, 'POST', `/api/v1/assessments/${submission}`, { token: staff.assessor, body: { scores, feedback: 'Renewed.' } });
        const renewed = (await api(server.baseUrl, 'GET', `/api/v1/awards/${award.id}`, { token: learner })).renewed_by;
        assert.ok(renewed?.id, 'the previous award names its renewal');

        await visit(page, `/awards/${renewed.id}`, 'renewed-award');
        assert.match(squash(await page.locator('.renewal-history').innerText()), /Renews/i);
        await visit(page, `/awards/${award.id}`, 'previous-award');
        assert.match(squash(await page.locator('.renewal-history').innerText()), /Renewed/i);
      } finally {
        for (const context of contexts) await context.close();
      }
    });
  }
});
