// The public catalog, as a visitor uses it in a real browser.
//
// The selectors here are the contract with the server's HTML:
//   /                 a[href="/catalog"]
//   /catalog          form#catalog-search input[name="q"], #results .achievement-card .achievement-link,
//                     .empty-state (no results)
//   achievement page  h1, table.rubric (thead th = levels, tbody tr = criteria), .alignments,
//                     #levels ol > li (micro-credentials)

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkA11y, formatViolations, launch, screenshot } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 120_000;

/** Collapses runs of whitespace (including no-break spaces) to one space. */
const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

describe('catalog', () => {
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

  /** Runs fn with a fresh page in its own browser context. */
  async function withPage(fn) {
    const context = await browser.newContext({ baseURL: server.baseUrl });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      return await fn(page);
    } finally {
      await context.close();
    }
  }

  async function open(page, path) {
    const response = await page.goto(path);
    assert.ok(response, `no response for ${path}`);
    assert.equal(response.status(), 200, `GET ${path} answered ${response.status()}`);
    return response;
  }

  async function assertAccessible(page, what) {
    const violations = await checkA11y(page);
    if (violations.length) console.log(`axe: ${what} (${page.url()})\n${formatViolations(violations)}`);
    assert.equal(
      violations.length,
      0,
      `${what} has serious/critical accessibility violations:\n${formatViolations(violations)}`,
    );
  }

  /** Clicks the card link whose text contains `title`, and waits for its page. */
  async function openCard(page, title) {
    const link = page.locator('#results .achievement-card .achievement-link', { hasText: title }).first();
    assert.ok(await link.getAttribute('href'), `the card link for ${title} has no href`);
    const from = page.url();
    await Promise.all([page.waitForURL((url) => url.href !== from, { waitUntil: 'load' }), link.click()]);
  }

  async function cardTitles(page) {
    return (await page.locator('#results .achievement-card .achievement-link').allInnerTexts()).map(squash);
  }

  it('home page links to the catalog', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(async (page) => {
      await open(page, '/');
      const links = await page.locator('a[href="/catalog"]').count();
      assert.ok(links >= 1, 'the home page has no a[href="/catalog"]');
    });
  });

  it('search finds a demo achievement and its public rubric', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(async (page) => {
      await open(page, '/catalog');
      const query = page.locator('form#catalog-search input[name="q"]');
      await query.fill('OWASP');
      await Promise.all([page.waitForURL(/[?&]q=OWASP(&|#|$)/, { waitUntil: 'load' }), query.press('Enter')]);
      assert.match(page.url(), /q=OWASP/);

      const cards = page.locator('#results .achievement-card');
      assert.ok((await cards.count()) >= 1, 'no .achievement-card in #results for q=OWASP');
      const titles = await cardTitles(page);
      assert.ok(
        titles.some((t) => t.includes('Secure Coding Essentials')),
        `no card titled "Secure Coding Essentials" for q=OWASP; cards: ${JSON.stringify(titles)}`,
      );
      await screenshot(page, 'catalog-search');
      await assertAccessible(page, 'the catalog search page');

      await openCard(page, 'Secure Coding Essentials');
      assert.match(squash(await page.locator('h1').first().textContent()), /Secure Coding Essentials/);

      const rubric = page.locator('table.rubric').first();
      await rubric.waitFor();
      const headers = (await rubric.locator('thead th').allInnerTexts()).map(squash);
      assert.ok(
        headers.some((h) => h.includes('Proficient')),
        `rubric header cells lack "Proficient": ${JSON.stringify(headers)}`,
      );
      const rows = (await rubric.locator('tbody tr').allInnerTexts()).map(squash);
      assert.ok(rows.length > 0, 'the rubric has no tbody rows');
      assert.ok(
        rows.some((r) => r.includes('Fixing')),
        `no rubric row for a criterion "Fixing": ${JSON.stringify(rows)}`,
      );

      const body = squash(await page.locator('body').innerText());
      assert.ok(body.includes('49.00 EUR'), 'the achievement page does not show the fee "49.00 EUR"');
      const alignments = squash(await page.locator('.alignments').first().innerText());
      assert.match(alignments, /OWASP/, `.alignments does not mention OWASP: ${JSON.stringify(alignments)}`);

      await screenshot(page, 'achievement-page');
      await assertAccessible(page, 'the achievement page');
    });
  });

  it('a micro-credential shows its three levels in order', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(async (page) => {
      await open(page, '/catalog?kind=micro-credential');
      const titles = await cardTitles(page);
      assert.ok(
        titles.some((t) => t.includes('Data Analysis with SQL')),
        `no card titled "Data Analysis with SQL" for kind=micro-credential; cards: ${JSON.stringify(titles)}`,
      );
      await openCard(page, 'Data Analysis with SQL');

      // The levels are the items of the first list in #levels (a level may hold lists of its own).
      const levels = page.locator('#levels ol').first().locator(':scope > li');
      await levels.first().waitFor();
      const texts = (await levels.allInnerTexts()).map(squash);
      assert.equal(texts.length, 3, `expected 3 levels, got ${JSON.stringify(texts)}`);
      ['Foundations', 'Practice', 'Real-world application'].forEach((name, i) => {
        assert.ok(texts[i].includes(name), `level ${i + 1} should be "${name}": ${JSON.stringify(texts[i])}`);
      });
      await screenshot(page, 'micro-credential');
    });
  });

  it('an empty search says so', { timeout: TEST_TIMEOUT }, async () => {
    await withPage(async (page) => {
      await open(page, '/catalog?q=zzzznotfound');
      assert.ok((await page.locator('.empty-state').count()) >= 1, 'no .empty-state for a search without results');
      assert.equal(await page.locator('#results .achievement-card').count(), 0, 'an empty search shows cards');
    });
  });
});
