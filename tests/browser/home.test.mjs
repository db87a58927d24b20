// Pages that know the viewer: the learner's home before and after starting a submission and after
// earning a badge, and the achievement page as an anonymous visitor, as a learner with a draft and
// as a holder, with a micro-credential's progress across its levels. The journey behind it (apply,
// submit, assess, award) is driven through the JSON API, as scripts/bench-http.mjs does. Every
// page is opened at 1366×900 and 390×844, checked with axe-core and for sideways scrolling, and
// saved as a screenshot per size.
//
// The selectors here are the contract with the server's HTML:
//   home (/dashboard)    #in-progress, #feedback, #micro-credentials, #badges, .empty-state,
//                        .home-item a, .home-level (.progress-held, .progress-started, .progress-none)
//   achievement page     #how-assessed, #your-standing, form[action$="/apply"]

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api as callApi, earn, logIn as logInAs } from './lib/api.mjs';
import { SIZES, checkPage, launch } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;
const LEARNER = ['learner@demo.cairn.test', 'cairn-demo-learner'];
const ISSUER = ['issuer@demo.cairn.test', 'cairn-demo-issuer'];
const ASSESSOR = ['assessor@demo.cairn.test', 'cairn-demo-assessor'];
const DRAFT_BADGE = 'Writing Clear API Documentation';
const EARNED_BADGE = 'Inclusive Meeting Facilitation';
const MICRO_CREDENTIAL = 'Data Analysis with SQL';

/** Collapses runs of whitespace (including no-break spaces) to one space. */
const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

describe('pages that know the viewer', () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer();
    browser = await launch();
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  const api = (method, path, options) => callApi(server.baseUrl, method, path, options);
  const logIn = ([email, password]) => logInAs(server.baseUrl, { email, password });

  async function catalog() {
    const listed = await api('GET', '/api/v1/achievements?limit=100');
    const named = (name) => {
      const found = listed.items.find((a) => a.name === name);
      assert.ok(found, `no ${name} in the catalog`);
      return found;
    };
    return { named };
  }

  /** Starts a draft through the API; returns the submission. */
  async function startDraft(token, achievementId) {
    return api('POST', `/api/v1/achievements/${achievementId}/submissions`, {
      token,
      body: { overview: 'I planned the work and kept notes.', reflection: 'I learnt to ask for feedback early.', links: ['https://example.org/evidence'], collaborators: [] },
    });
  }

  /** Earns `badge` for the learner: submit through the API, the assessor passes it (lib/api.mjs). */
  async function earnAward(badge) {
    return earn(server.baseUrl, badge, { issuer: await logIn(ISSUER), assessor: await logIn(ASSESSOR), learner: await logIn(LEARNER) });
  }

  /** A browser context at `size`, signed in as `account` unless it is null. */
  async function viewer(size, account) {
    const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width: size.width, height: size.height } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    if (account) {
      await page.goto('/login');
      await page.locator('#email').fill(account[0]);
      await page.locator('#password').fill(account[1]);
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('form[action="/login"] button[type="submit"]').click()]);
      assert.match(new URL(page.url()).pathname, /^\/dashboard/, `signing in led to ${page.url()}`);
    }
    return { page, close: () => context.close() };
  }

  /** Opens `path`, checks it fits, saves a screenshot and runs axe; returns the body text. */
  async function look(page, path, name, size) {
    const response = await page.goto(path);
    assert.equal(response?.status(), 200, `GET ${path} answered ${response?.status()}`);
    await checkPage(page, `home-${name}-${size.width}x${size.height}`);
    return squash(await page.locator('body').innerText());
  }

  const text = async (page, selector) => squash(await page.locator(selector).first().innerText());

  it('the home and the achievement pages follow the learner from nothing to a badge', { timeout: TEST_TIMEOUT }, async () => {
    const { named } = await catalog();
    const draftBadge = named(DRAFT_BADGE);
    const earnedBadge = named(EARNED_BADGE);
    const stack = named(MICRO_CREDENTIAL);
    assert.equal(stack.levels.length, 3, 'the micro-credential has three levels');

    // 1. Before anything: empty states that say what to do next, and the page for anyone.
    for (const size of SIZES) {
      const learner = await viewer(size, LEARNER);
      const body = await look(learner.page, '/dashboard', 'empty', size);
      assert.match(await text(learner.page, '#in-progress .empty-state'), /Nothing in progress\. Browse the catalog/);
      assert.match(await text(learner.page, '#badges .empty-state'), /No badges yet/);
      assert.match(await text(learner.page, '#micro-credentials .empty-state'), /find one in the catalog/);
      assert.ok(!body.includes('Your organisations'), 'a learner sees no issuer panel');
      assert.ok(!body.includes('API access'), 'a learner without tokens sees no API panel');
      assert.ok(await learner.page.locator('a[href="/account/tokens"]', { hasText: 'Developer settings' }).count(), 'a Developer settings link');
      await learner.close();

      const anonymous = await viewer(size, null);
      await look(anonymous.page, `/achievements/${draftBadge.id}`, 'achievement-anonymous', size);
      const terms = await text(anonymous.page, '#how-assessed');
      for (const words of ['Double-blind', 'business days', 'Attempts allowed', 'PDF, PNG image, JPEG image, Text file', '10 MB', 'Fee: free.']) {
        assert.ok(terms.includes(words), `"How your work is assessed" lacks ${JSON.stringify(words)}: ${terms}`);
      }
      assert.equal(await anonymous.page.locator('#your-standing').count(), 0, 'no standing for a visitor');
      assert.equal(await anonymous.page.locator('form[action$="/apply"]').count(), 1, 'a visitor may apply');
      await anonymous.close();
    }

    // 2. A draft of a badge and of the micro-credential's first level, started through the API.
    const token = await logIn(LEARNER);
    const draft = await startDraft(token, draftBadge.id);
    const levelDraft = await startDraft(token, stack.levels[0]);
    for (const size of SIZES) {
      const learner = await viewer(size, LEARNER);
      await look(learner.page, '/dashboard', 'started', size);
      const inProgress = await text(learner.page, '#in-progress');
      assert.ok(inProgress.includes(DRAFT_BADGE) && inProgress.includes('Draft'), `the draft is in progress: ${inProgress}`);
      const progress = await text(learner.page, '#micro-credentials');
      assert.ok(progress.includes(MICRO_CREDENTIAL) && progress.includes('0 of 3 levels held'), `progress: ${progress}`);
      assert.equal(await learner.page.locator('#micro-credentials .home-level.progress-started').count(), 1);
      assert.equal(await learner.page.locator('#micro-credentials .home-level.progress-none').count(), 2);

      await look(learner.page, `/achievements/${draftBadge.id}`, 'achievement-draft', size);
      const standing = learner.page.locator('#your-standing a', { hasText: 'Continue your submission' }).first();
      assert.equal(await standing.getAttribute('href'), `/submissions/${draft.id}`);
      assert.equal(await learner.page.locator('form[action$="/apply"]').count(), 0, 'no second "Apply"');

      await look(learner.page, `/achievements/${stack.id}`, 'micro-credential-started', size);
      assert.match(await text(learner.page, '#your-standing'), /0 of 3 levels held/);
      const level = learner.page.locator('#your-standing .home-level.progress-started a', { hasText: 'Continue your submission' });
      assert.equal(await level.getAttribute('href'), `/submissions/${levelDraft.id}`);
      await learner.close();
    }

    // 3. A badge earned: on the home with its link, and the page tells its holder.
    const award = await earnAward(earnedBadge);
    for (const size of SIZES) {
      const learner = await viewer(size, LEARNER);
      await look(learner.page, '/dashboard', 'earned', size);
      const badge = learner.page.locator('#badges .home-item a', { hasText: EARNED_BADGE });
      assert.equal(await badge.getAttribute('href'), `/awards/${award.id}`);
      assert.match(await text(learner.page, '#badges'), /Valid until/);

      await look(learner.page, `/achievements/${earnedBadge.id}`, 'achievement-holder', size);
      assert.match(await text(learner.page, '#your-standing'), /You hold this badge\./);
      assert.equal(await learner.page.locator('#your-standing a', { hasText: 'View your badge' }).getAttribute('href'), `/awards/${award.id}`);

      await look(learner.page, `/achievements/${stack.levels[0]}`, 'level-started', size);
      assert.match(await text(learner.page, '#your-standing'), /0 of 3 levels held/);
      await learner.close();
    }
  });
});
