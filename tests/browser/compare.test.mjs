// Comparing achievements, at a desktop and a phone size: a visitor ticks "Compare" on two catalog
// cards, sends the compare form and reads them side by side; on a phone the table scrolls inside
// its own labelled region, never the page. The achievement page's JSON-LD is parsed and breaks no
// script (the Content-Security-Policy reports nothing). Every page is checked with axe-core, for
// sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   /catalog          .card-compare input[name="a"][form="compare-form"], form#compare-form button[type="submit"]
//   /compare          .compare-scroll[role="region"][tabindex="0"] table.compare (thead th[scope="col"] per achievement)
//   achievement page  script[type="application/ld+json"], .compare-link a

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 180_000;

describe('compare', () => {
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

  for (const size of SIZES) {
    it(`a visitor compares two catalog entries at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const { contexts, newPage, visit, clickAndLoad, look } = pageKit(browser, server.baseUrl, size, 'compare');
      try {
        const page = await newPage();
        const policyReports = [];
        page.on('console', (message) => {
          if (/Content Security Policy|Refused to/i.test(message.text())) policyReports.push(message.text());
        });
        await visit(page, '/catalog', 'catalog');
        const boxes = page.locator('.card-compare input[name="a"][form="compare-form"]');
        assert.ok((await boxes.count()) >= 2, 'every card has a Compare box');
        const cards = page.locator('#results .achievement-card');
        const chosen = [];
        for (const index of [0, 1]) {
          chosen.push(squash(await cards.nth(index).locator('.achievement-link').innerText()));
          await cards.nth(index).locator('.card-compare label').click();
        }
        assert.equal(await boxes.nth(0).isChecked(), true, 'the label ticks its box');
        await clickAndLoad(page, page.locator('form#compare-form button[type="submit"]'), 'side-by-side');

        assert.equal(new URL(page.url()).pathname, '/compare');
        const region = page.locator('.compare-scroll[role="region"]');
        assert.equal(await region.getAttribute('tabindex'), '0', 'the scrolling region can be reached by keyboard');
        const headings = (await page.locator('table.compare thead th[scope="col"] a[href^="/achievements/"]').allInnerTexts()).map(squash);
        assert.deepEqual(headings, chosen);
        const rows = (await page.locator('table.compare tbody th[scope="row"]').allInnerTexts()).map(squash);
        for (const row of ['Issuer', 'Criteria', 'Rubric', 'Competencies', 'Estimated effort', 'Credit hours', 'Fee', 'Validity', 'Pass rate']) {
          assert.ok(rows.includes(row), `the ${row} row in ${rows.join(', ')}`);
        }
        // On a phone the table is wider than the screen and scrolls inside its region.
        const widths = await region.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
        if (size.name === 'phone') assert.ok(widths.scroll > widths.client, `the table scrolls inside its region: ${JSON.stringify(widths)}`);
        await region.focus();
        await page.keyboard.press('ArrowRight');
        await look(page, 'side-by-side-scrolled');

        // Too few is a page that says so, with the way back to the catalog.
        const one = new URL(page.url()).searchParams.getAll('a')[0];
        await visit(page, `/compare?a=${one}`, 'too-few', 422);
        assert.match(squash(await page.locator('#compare-problems').innerText()), /Choose at least 2 achievements to compare \(got 1\)\./);

        // The achievement page describes itself as JSON-LD and leads back to comparing.
        await visit(page, `/achievements/${one}`, 'achievement');
        const ld = JSON.parse(await page.locator('script[type="application/ld+json"]').textContent());
        assert.equal(ld['@type'], 'EducationalOccupationalCredential');
        assert.equal(ld.name, chosen[0]);
        assert.equal(ld.recognizedBy['@type'], 'Organization');
        await clickAndLoad(page, page.locator('.compare-link a'), 'catalog-with-one-chosen');
        assert.equal(await page.locator(`#compare-${one}`).isChecked(), true, 'the catalog keeps the achievement chosen');
        assert.deepEqual(policyReports, [], 'nothing on these pages breaks the Content-Security-Policy');
      } finally {
        for (const context of contexts) await context.close();
      }
    });
  }
});
