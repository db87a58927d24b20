// Issuer insight and moderation, at a desktop and a phone size: the issuer samples every
// judgement; a learner's work is scored by two assessors, blind, who disagree; the issuer opens
// the insight dashboard (charts drawn on the server, each beside its table), filters it, then
// moderates the disagreement from the moderation queue, and the learner receives that decision.
// Every page is checked with axe-core, for sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   insight page      svg.chart[role="img"] title, table#chart-pass-table, form.insight-filter,
//                     a[href*="insights.csv"]
//   moderation queue  table#moderation-queue a[href^="/moderate/"]
//   moderation page   #scorings .feedback-block, #criterion-0-level-N, #feedback, form.scoring-form

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, api, logIn } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;

describe('insight', () => {
  let server;
  let browser;
  let organisation;
  let badge;
  let tokens;

  before(async () => {
    server = await startServer();
    browser = await launch();
    const issuer = await logIn(server.baseUrl, DEMO.issuer);
    const assessor = await logIn(server.baseUrl, DEMO.assessor);
    const orgs = await api(server.baseUrl, 'GET', '/api/v1/organisations');
    organisation = orgs.items[0].id;
    const body = {
      kind: 'micro-badge',
      name: 'Clear Incident Reports',
      description: 'Write an incident report others can act on.',
      criteria: 'Submit one incident report you wrote.',
      rubric: {
        levels: ['Developing', 'Proficient', 'Exemplary'],
        criteria: [{ name: 'Clarity', required_level: 'Proficient', descriptors: ['Hard to follow', 'Clear', 'Clear and actionable'] }],
      },
    };
    badge = await api(server.baseUrl, 'POST', `/api/v1/organisations/${organisation}/achievements`, { token: issuer, body });
    await api(server.baseUrl, 'POST', `/api/v1/achievements/${badge.id}/publish`, { token: issuer, body: {} });
    // Two assessors in the pool: the demo one and a second.
    const second = { name: 'Noor Second', email: 'noor.second@example.org', password: 'a long enough password' };
    await api(server.baseUrl, 'POST', '/api/v1/users', { body: second });
    await api(server.baseUrl, 'POST', `/api/v1/organisations/${organisation}/members`, { token: issuer, body: { email: second.email, role: 'assessor' } });
    const members = await api(server.baseUrl, 'GET', `/api/v1/organisations/${organisation}/members`, { token: issuer });
    for (const email of [DEMO.assessor.email, second.email]) {
      const member = members.items.find((m) => m.email === email);
      await api(server.baseUrl, 'POST', `/api/v1/achievements/${badge.id}/assessors`, { token: issuer, body: { user_id: member.user_id } });
    }
    await api(server.baseUrl, 'PUT', `/api/v1/organisations/${organisation}/assessment-settings`, {
      token: issuer,
      body: { service_days: 14, nearly_due_days: 2, attempt_limit: 3, sampling_percent: 100 },
    });
    tokens = { issuer, assessors: [assessor, await logIn(server.baseUrl, second)] };
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  /** Which assessor holds `id`, and the other. */
  const holder = async (id) => {
    const holds = [];
    for (const token of tokens.assessors) {
      const queue = await api(server.baseUrl, 'GET', '/api/v1/assessments', { token });
      holds.push(queue.items.some((item) => item.submission_id === id));
    }
    assert.equal(holds.filter(Boolean).length, 1, `one assessor holds ${id}`);
    return holds[0] ? tokens.assessors : [...tokens.assessors].reverse();
  };

  const scoring = (level, feedback) => ({ scores: [{ criterion: 'clarity', level, comment: feedback }], feedback });

  for (const size of SIZES) {
    it(`an issuer reads the insight and moderates a disagreement at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const { contexts, newPage, visit, clickAndLoad, signIn } = pageKit(browser, server.baseUrl, size, 'insight');
      try {
        // A learner's work, scored twice, blind: pass, then not yet.
        const person = { name: `Ines Vega ${size.name}`, email: `ines.${size.name}@example.org`, password: 'a long enough password' };
        await api(server.baseUrl, 'POST', '/api/v1/users', { body: person });
        const learner = await logIn(server.baseUrl, person);
        const draft = await api(server.baseUrl, 'POST', `/api/v1/achievements/${badge.id}/submissions`, {
          token: learner,
          body: { overview: 'The outage report I wrote last month.', reflection: 'I learnt to lead with the impact.', links: ['https://example.org/report'], collaborators: [] },
        });
        await api(server.baseUrl, 'POST', `/api/v1/submissions/${draft.id}/submit`, { token: learner, body: {} });
        const [first, second] = await holder(draft.id);
        const held = await api(server.baseUrl, 'POST', `/api/v1/assessments/${draft.id}`, { token: first, body: scoring('Proficient', 'FIRST: clear enough.') });
        assert.equal(held.held, true);
        const split = await api(server.baseUrl, 'POST', `/api/v1/assessments/${draft.id}`, { token: second, body: scoring('Developing', 'SECOND: hard to act on.') });
        assert.equal(split.held, true);

        const page = await newPage();
        await signIn(page, DEMO.issuer, 'issuer');
        await visit(page, `/issuers/${organisation}/insights`, 'dashboard');
        const charts = page.locator('svg.chart[role="img"]');
        assert.ok((await charts.count()) >= 4, 'the figures are drawn');
        assert.equal(squash(await page.locator('svg.chart[role="img"] title').first().textContent()), 'Attempts sent');
        assert.match(squash(await page.locator('#chart-pass-table').innerText()), /At the first attempt/);
        assert.ok(await page.locator('a[href*="insights.csv"]').isVisible(), 'the CSV download is offered');

        // Filtered to the badge, by the form (GET).
        await page.locator('form.insight-filter select#achievement').selectOption(badge.id);
        await clickAndLoad(page, page.locator('form.insight-filter button[type="submit"]'), 'filtered');
        assert.ok(page.url().includes(`achievement=${badge.id}`), page.url());
        assert.match(squash(await page.locator('#agreement-table').innerText()), /Clear Incident Reports: Clarity/);

        // Moderation: the queue, both scorings, the decision.
        await visit(page, `/issuers/${organisation}/moderation`, 'moderation-queue');
        await clickAndLoad(page, page.locator(`table#moderation-queue a[href="/moderate/${draft.id}"]`), 'moderation');
        const scorings = squash(await page.locator('#scorings').innerText());
        assert.match(scorings, /FIRST: clear enough/);
        assert.match(scorings, /SECOND: hard to act on/);
        assert.ok(!scorings.includes(person.name), 'the moderator reads no name');
        await page.locator('#criterion-0-level-2').check();
        await page.locator('#feedback').fill('MODERATOR: clear; the impact comes first.');
        await clickAndLoad(page, page.locator('form.scoring-form button[type="submit"]'), 'moderated');
        assert.match(squash(await page.locator('main').innerText()), /Decided: pass/);

        const view = await api(server.baseUrl, 'GET', `/api/v1/submissions/${draft.id}`, { token: learner });
        assert.equal(view.status, 'awarded');
        assert.equal(view.feedback[0].feedback, 'MODERATOR: clear; the impact comes first.');
      } finally {
        for (const context of contexts) await context.close();
      }
    });
  }
});
