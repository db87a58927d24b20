// Cairn on phones and desktops: every page here is visited at 1366×900, 390×844 and 320×640,
// checked with axe-core, checked for sideways scrolling and photographed.
//
//   catalog, an achievement page (its rubric a table on wide screens, a card per criterion on
//   narrow ones), a micro-credential and one of its levels, public award pages (a micro-badge,
//   and the micro-credential with links to the level awards a visitor may see), the embed card
//   inside a third-party page (its frame, from the published snippet, holds the whole card), the
//   backpack (level badges grouped under their micro-credential), and the signed-in navigation
//   (a menu on narrow screens, with the unread notifications counted).
//
// Awards are earned as the demo learner through the API, as scripts/bench-http.mjs does.
//
// The selectors here are the contract with the server's HTML:
//   rubric        .rubric-block table.rubric, .rubric-block .rubric-cards > li.rubric-card
//   navigation    details.nav-menu > summary (aria-expanded), #site-menu a, a.nav-notifications .nav-count
//   award page    ol.level-awards > li a.level-link, #embed-code
//   embed         iframe[src$="/embed"], .embed-card
//   backpack      section.backpack-stack h2, .backpack-stack .achievement-link

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { api as callApi, earn as earnAs, logIn as logInAs } from './lib/api.mjs';
import { checkA11y, formatViolations, launch, screenshot, settledAttribute } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;
const SIZES = [
  { width: 1366, height: 900 },
  { width: 390, height: 844 },
  { width: 320, height: 640 },
];
const LEARNER = { email: 'learner@demo.cairn.test', password: 'cairn-demo-learner' };
const ASSESSOR = { email: 'assessor@demo.cairn.test', password: 'cairn-demo-assessor' };
const ISSUER = { email: 'issuer@demo.cairn.test', password: 'cairn-demo-issuer' };
const BADGE = 'Secure Coding Essentials: OWASP Top 10';
const MICRO_CREDENTIAL = 'Data Analysis with SQL';

const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

describe('responsive pages', () => {
  let server;
  let browser;
  let thirdParty;
  /** Ids found or earned in `before`. */
  const ids = {};

  const api = (method, path, options) => callApi(server.baseUrl, method, path, options);
  const logIn = (account) => logInAs(server.baseUrl, account);
  /** Earns `achievement` as the demo learner (lib/api.mjs); returns the award's id. */
  const earn = async (achievement, tokens) => (await earnAs(server.baseUrl, achievement, tokens)).id;

  async function awardOf(achievementId, token) {
    const mine = await api('GET', '/api/v1/awards', { token });
    return (mine.items ?? mine).find((a) => a.achievement_id === achievementId || a.achievement?.id === achievementId)?.id;
  }

  const privacy = (award, value, token) => api('PUT', `/api/v1/awards/${award}/privacy`, { token, body: { privacy: value, evidence_public: false } });

  before(async () => {
    server = await startServer();
    browser = await launch();
    const tokens = { issuer: await logIn(ISSUER), assessor: await logIn(ASSESSOR), learner: await logIn(LEARNER) };
    const catalog = await api('GET', '/api/v1/achievements?limit=100');
    const byName = (name) => {
      const found = catalog.items.find((a) => a.name === name);
      assert.ok(found, `no ${name} in the catalog`);
      return found;
    };
    const badge = byName(BADGE);
    const stack = byName(MICRO_CREDENTIAL);
    ids.badge = badge.id;
    ids.stack = stack.id;
    const levels = [];
    for (const id of stack.levels) levels.push(await api('GET', `/api/v1/achievements/${id}`));
    levels.sort((a, b) => (a.level?.number ?? 0) - (b.level?.number ?? 0));
    ids.levels = levels.map((l) => l.id);

    ids.badgeAward = await earn(badge, tokens);
    await privacy(ids.badgeAward, 'public', tokens.learner);
    ids.levelAwards = [];
    for (const level of levels) ids.levelAwards.push(await earn({ ...level, issuer: level.issuer ?? stack.issuer }, tokens));
    ids.stackAward = await awardOf(stack.id, tokens.learner);
    assert.ok(ids.stackAward, 'holding the three levels did not award the micro-credential');
    await privacy(ids.stackAward, 'public', tokens.learner);
    await privacy(ids.levelAwards[0], 'public', tokens.learner);
    await privacy(ids.levelAwards[2], 'unlisted', tokens.learner);
    // Level 2 stays private: the micro-credential's page does not link it for visitors.

    // A third-party page (another origin) that pastes the embed snippet the learner is given.
    thirdParty = http.createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
          `<title>My portfolio</title></head><body><main><h1>My portfolio</h1><p>A badge I earned:</p>${thirdParty.snippet}</main></body></html>`,
      );
    });
    await new Promise((resolve) => thirdParty.listen(0, 'localhost', resolve));
    thirdParty.url = `http://localhost:${thirdParty.address().port}/`;
  }, { timeout: 240_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await new Promise((resolve) => (thirdParty ? thirdParty.close(resolve) : resolve()));
  }, { timeout: 30_000 });

  /** A fresh context at `size`, signed in as `who` (or a visitor). */
  async function withPage(size, who, fn) {
    const context = await browser.newContext({ baseURL: server.baseUrl, viewport: size });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      if (who) {
        await open(page, '/login');
        await page.locator('#email').fill(who.email);
        await page.locator('#password').fill(who.password);
        await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('form[action="/login"] button[type="submit"]').click()]);
      }
      return await fn(page);
    } finally {
      await context.close();
    }
  }

  async function open(page, target) {
    const response = await page.goto(target);
    assert.ok(response, `no response for ${target}`);
    assert.equal(response.status(), 200, `GET ${target} answered ${response.status()}`);
    return response;
  }

  /** No sideways scrolling, axe clean, and a screenshot named for the page and size. */
  async function check(page, name, size) {
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    assert.ok(scrollWidth <= innerWidth, `${name} at ${size.width}px scrolls sideways: ${scrollWidth}px wide (${page.url()})`);
    await screenshot(page, `responsive-${name}-${size.width}x${size.height}`);
    const violations = await checkA11y(page);
    if (violations.length) console.log(`axe: ${name} at ${size.width}px (${page.url()})\n${formatViolations(violations)}`);
    assert.equal(violations.length, 0, `${name} at ${size.width}px has serious/critical accessibility violations:\n${formatViolations(violations)}`);
  }

  const narrow = (size) => size.width < 700;

  /** The rubric: a table where there is room, a card per criterion where there is not. */
  async function checkRubric(page, size, what) {
    const block = page.locator('.rubric-block').first();
    await block.waitFor({ state: 'attached' });
    const table = block.locator('table.rubric');
    const cards = block.locator('.rubric-cards > li.rubric-card');
    const criteria = await table.locator('tbody tr').count();
    assert.ok(criteria > 0, `${what}: the rubric has no criteria`);
    assert.equal(await cards.count(), criteria, `${what}: a card per criterion`);
    if (narrow(size)) {
      assert.equal(await table.isVisible(), false, `${what} at ${size.width}px still shows the rubric table`);
      assert.ok(await cards.first().isVisible(), `${what} at ${size.width}px shows no rubric cards`);
      const levels = await cards.first().locator('.rubric-card-level').count();
      assert.equal(levels, (await table.locator('thead th').count()) - 1, `${what}: each card lists every level`);
    } else {
      assert.ok(await table.isVisible(), `${what} at ${size.width}px hides the rubric table`);
      assert.equal(await cards.first().isVisible(), false, `${what} at ${size.width}px shows the cards beside the table`);
    }
  }

  for (const size of SIZES) {
    const at = `${size.width}×${size.height}`;

    it(`catalog, achievement, micro-credential and level pages at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
      await withPage(size, null, async (page) => {
        await open(page, '/catalog');
        assert.ok((await page.locator('#results .achievement-card').count()) > 0, 'the catalog lists nothing');
        await check(page, 'catalog', size);

        await open(page, `/achievements/${ids.badge}`);
        await checkRubric(page, size, 'the achievement page');
        await check(page, 'achievement', size);

        await open(page, `/achievements/${ids.stack}`);
        assert.equal(await page.locator('#levels ol').first().locator(':scope > li').count(), 3);
        await check(page, 'micro-credential', size);

        await open(page, `/achievements/${ids.levels[1]}`);
        assert.match(squash(await page.locator('.part-of').innerText()), /Level 2: Practice · Part of Data Analysis with SQL/);
        await checkRubric(page, size, 'the level page');
        await check(page, 'level', size);
      });
    });

    it(`public award pages link the levels a visitor may see at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
      await withPage(size, null, async (page) => {
        await open(page, `/awards/${ids.badgeAward}`);
        assert.match(squash(await page.locator('h1').innerText()), /Secure Coding Essentials/);
        await checkRubric(page, size, 'the award page');
        const achieved = narrow(size) ? page.locator('.rubric-cards .pill-achieved') : page.locator('table.rubric .pill-achieved');
        assert.ok((await achieved.count()) > 0, 'the award page marks no level as achieved');
        await check(page, 'award', size);

        await open(page, `/awards/${ids.stackAward}`);
        const levels = page.locator('ol.level-awards > li');
        assert.equal(await levels.count(), 3, 'the micro-credential award lists its three levels');
        const links = await page.locator('ol.level-awards a.level-link').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
        assert.deepEqual(links, [`/awards/${ids.levelAwards[0]}`, `/awards/${ids.levelAwards[2]}`], 'visitors see links to the public and unlisted levels only');
        assert.match(squash(await levels.nth(1).innerText()), /keeps this level badge private/);
        assert.ok((await levels.first().locator('.level-results dd').count()) > 0, 'a linked level shows its rubric results');
        await check(page, 'award-micro-credential', size);

        await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('ol.level-awards a.level-link').first().click()]);
        assert.equal(new URL(page.url()).pathname, `/awards/${ids.levelAwards[0]}`);
        await checkRubric(page, size, 'the level award page');
        await check(page, 'award-level', size);
      });
    });

    it(`the embed card fits its frame on a third-party page at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
      // The snippet exactly as the learner is given it.
      const snippet = await withPage(size, LEARNER, async (page) => {
        await open(page, `/awards/${ids.badgeAward}`);
        return page.locator('#embed-code').inputValue();
      });
      assert.match(snippet, /^<iframe src="http:\/\/[^"]+\/awards\/[0-9a-f-]+\/embed" title="[^"]+" width="\d+" height="\d+"/);
      thirdParty.snippet = snippet.replace(/^<iframe src="[^"]+\/awards\//, `<iframe src="${server.baseUrl}/awards/`);
      await withPage(size, null, async (page) => {
        await open(page, thirdParty.url);
        const iframe = page.locator('iframe');
        await iframe.waitFor();
        const frame = await (await iframe.elementHandle()).contentFrame();
        await frame.waitForLoadState('load');
        await frame.locator('.embed-card').waitFor();
        const declared = Number(await iframe.getAttribute('height'));
        const box = await iframe.boundingBox();
        assert.equal(Math.round(box.height), declared, 'the frame has the height the snippet gives it');
        const inside = await frame.evaluate(() => ({
          body: document.body.scrollHeight,
          html: document.documentElement.scrollHeight,
          wide: document.documentElement.scrollWidth,
          width: window.innerWidth,
          card: document.querySelector('.embed-card').getBoundingClientRect().bottom,
        }));
        assert.ok(inside.body <= declared && inside.html <= declared, `the card is cut off: ${inside.body}px of content in a ${declared}px frame`);
        assert.ok(inside.card <= declared, `the card ends at ${inside.card}px, below the ${declared}px frame`);
        assert.ok(inside.wide <= inside.width, `the card scrolls sideways in its frame: ${inside.wide}px in ${inside.width}px`);
        assert.match(squash(await frame.locator('.embed-card').innerText()), /Awarded to Lena Fischer/);
        await check(page, 'embed-third-party', size);
      });
      await withPage(size, null, async (page) => {
        await open(page, `/awards/${ids.badgeAward}/embed`);
        await check(page, 'embed', size);
      });
    });

    it(`the backpack and the signed-in menu at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
      await withPage(size, LEARNER, async (page) => {
        await open(page, '/backpack');
        const stack = page.locator('section.backpack-stack', { has: page.locator('h2', { hasText: MICRO_CREDENTIAL }) });
        assert.equal(await stack.count(), 1, 'the backpack has a group for the micro-credential');
        const inStack = await stack.locator('.achievement-link').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
        assert.deepEqual(inStack, [ids.stackAward, ...ids.levelAwards].map((id) => `/awards/${id}`), 'the micro-credential, then its levels in order');
        assert.match(squash(await stack.innerText()), /3 of 3 levels held/);
        await check(page, 'backpack', size);

        // The menu: a disclosure on narrow screens, a row of links on wide ones.
        const menu = page.locator('details.nav-menu');
        const toggle = menu.locator('summary');
        const notifications = page.locator('#site-menu a.nav-notifications');
        const unread = await api('GET', '/api/v1/notifications', { token: await logIn(LEARNER) });
        const count = unread.unread ?? (unread.items ?? []).filter((n) => !n.read_at).length;
        assert.ok(count > 0, 'earning awards left the learner unread notifications');
        if (narrow(size)) {
          assert.ok(await toggle.isVisible(), 'no menu button on a narrow screen');
          assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
          assert.equal(await notifications.isVisible(), false, 'the menu starts closed');
          assert.match(squash(await toggle.innerText()), /^Menu/);
          await toggle.click();
          assert.equal(await settledAttribute(toggle, 'aria-expanded', 'true'), 'true');
          assert.ok(await notifications.isVisible(), 'the open menu shows its links');
          await check(page, 'menu-open', size);
        } else {
          assert.equal(await toggle.isVisible(), false, 'a menu button on a wide screen');
          assert.ok(await notifications.isVisible(), 'the navigation links show on a wide screen');
          await check(page, 'menu-wide', size);
        }
        const hrefs = await page.locator('#site-menu a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
        for (const href of ['/catalog', '/verify', '/dashboard', '/submissions', '/backpack', '/notifications']) {
          assert.ok(hrefs.includes(href), `the menu lacks ${href}: ${JSON.stringify(hrefs)}`);
        }
        const shown = count > 99 ? '99+' : String(count);
        assert.equal(squash(await notifications.locator('.nav-count').innerText()), shown);
        const named = page.getByRole('link', { name: `Notifications, ${count} unread` });
        assert.equal(await named.count(), 1, `no link named "Notifications, ${count} unread"`);
        for (const target of await page.locator('#site-menu a').all()) assert.ok(await target.isVisible(), 'every menu link is visible once open');
        if (narrow(size)) {
          await page.keyboard.press('Escape');
          assert.equal(await settledAttribute(toggle, 'aria-expanded', 'false'), 'false', 'Escape closes the menu');
          assert.equal(await notifications.isVisible(), false);
        }
        await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), narrow(size) ? toggle.click().then(() => notifications.click()) : notifications.click()]);
        assert.equal(new URL(page.url()).pathname, '/notifications');
        await check(page, 'notifications', size);
      });
    });
  }
});
