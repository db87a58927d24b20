// Badges from elsewhere and recognition of prior learning, at a desktop and a phone size, on one
// server. The demo graduate's imported badges are listed as verified; the one the demo issuer's
// equivalency rule names is claimed (at the first size: its award page says it recognises prior
// learning) and shows as held (at the second); the transcript page offers both recognised badges.
// A new learner pastes a badge to import it, then asks an achievement's page to recognise it: a
// submission marked "Recognition of prior learning". The issuer adds an equivalency rule on its
// page and removes it. Every page is checked with axe-core, for sideways scrolling, and saved as
// a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   imports page      #import_text, form[action="/imports"] button[type="submit"], .import-item h3,
//                     .verdict-line, .counts-as, .counts-as form[action="/recognitions"] button
//   achievement page  details#recognition summary, #recognition_import, #recognition_statement,
//                     #recognition form[action="/recognitions"] button[type="submit"]
//   submission page   .prior-learning
//   award page        .recognition-line
//   transcript page   form[action="/transcript/download"] input[name="award"]
//   rules page        #rule_issuer, #rule_external, #rule_achievement, #rule_note,
//                     form[action$="/equivalencies"] button[type="submit"], #equivalency-rules

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DEMO, api } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;
const FOREIGN_BADGE = readFileSync(new URL('../../crates/cairn-vc/tests/fixtures/di/interop/ob3-di-valid.json', import.meta.url), 'utf8');

describe('imports and recognition', () => {
  let server;
  let browser;
  let badge;

  before(async () => {
    server = await startServer();
    browser = await launch();
    const catalog = await api(server.baseUrl, 'GET', '/api/v1/achievements?kind=micro-badge&limit=100');
    badge = catalog.items.find((a) => a.name === 'Writing Clear API Documentation');
    assert.ok(badge, 'the demo has the micro-badge');
  }, { timeout: 60_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  SIZES.forEach((size, index) => {
    it(`badges from elsewhere are claimed, imported and put forward for recognition at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const { contexts, newPage, visit, clickAndLoad, signIn } = pageKit(browser, server.baseUrl, size, 'imports');
      const text = async (page, selector) => squash(await page.locator(selector).innerText());
      try {
        // The demo graduate: two verified badges from Harbourside Community College.
        const graduate = await newPage();
        await signIn(graduate, DEMO.graduate, 'graduate');
        await visit(graduate, '/imports', 'graduate-imports');
        const names = (await graduate.locator('.import-item h3').allInnerTexts()).map(squash).sort();
        assert.deepEqual(names, ['Facilitating Inclusive Workshops', 'Relational Databases I']);
        for (const verdict of await graduate.locator('.import-item .verdict-line').allInnerTexts()) assert.match(verdict, /^Verified by Cairn on /);
        const claims = graduate.locator('.counts-as form[action="/recognitions"] button');
        if (index === 0) {
          assert.equal(await claims.count(), 1, 'one badge waits to be claimed');
          assert.match(squash(await claims.innerText()), /Claim “SQL Foundations: Querying One Table”/);
          await clickAndLoad(graduate, claims, 'claimed');
          assert.match(await text(graduate, '.recognition-line'), /Recognised prior learning, by the issuer's equivalency rule/);
          assert.match(await text(graduate, 'body'), /Recognised: your badge from elsewhere counts as this one/);
        } else {
          assert.equal(await claims.count(), 0, 'both are held already');
          for (const line of await graduate.locator('.counts-as').allInnerTexts()) assert.match(squash(line), /you hold it/);
        }
        await visit(graduate, '/transcript', 'graduate-transcript');
        assert.equal(await graduate.locator('form[action="/transcript/download"] input[name="award"]').count(), 2);

        // A new learner imports a badge by pasting it, then asks for it to be recognised.
        const person = { name: `Noor Haddad ${size.name}`, email: `noor.${size.name}@example.org`, password: 'a long enough password' };
        await api(server.baseUrl, 'POST', '/api/v1/users', { body: person });
        const learner = await newPage();
        await signIn(learner, person, 'learner');
        await visit(learner, '/imports', 'empty-imports');
        await learner.locator('#import_text').fill(FOREIGN_BADGE);
        await clickAndLoad(learner, learner.locator('form[action="/imports"] button[type="submit"]'), 'imported');
        assert.equal(await learner.locator('.import-item').count(), 1);
        assert.match(await text(learner, '.import-item .verdict-line'), /^Verified by Cairn on /);
        const imported = await text(learner, '.import-item h3');

        await visit(learner, `/achievements/${badge.id}`, 'achievement');
        await learner.locator('details#recognition summary').click();
        await learner.locator('#recognition_import').selectOption({ index: 1 });
        await learner.locator('#recognition_statement').fill('Two years writing the API guides of a payments company.');
        await clickAndLoad(learner, learner.locator('#recognition form[action="/recognitions"] button[type="submit"]'), 'recognition-started');
        assert.match(new URL(learner.url()).pathname, /^\/submissions\//);
        const shown = await text(learner, '.prior-learning');
        assert.match(shown, /Recognition of prior learning/);
        assert.ok(shown.includes(imported), `the submission shows the badge: ${shown}`);

        // The issuer adds an equivalency rule, sees it listed, and removes it.
        const issuer = await newPage();
        await signIn(issuer, DEMO.issuer, 'issuer');
        await visit(issuer, `/issuers/${badge.issuer.id}/equivalencies`, 'rules');
        const before = await issuer.locator('#equivalency-rules tbody tr').count();
        const external = `https://college.example/badges/${size.name}`;
        await issuer.locator('#rule_issuer').fill('did:web:college.example');
        await issuer.locator('#rule_external').fill(external);
        await issuer.locator('#rule_achievement').selectOption({ label: `${badge.name} (Micro-badge)` });
        await issuer.locator('#rule_note').fill('Agreed with the college');
        await clickAndLoad(issuer, issuer.locator('form[action$="/equivalencies"] button[type="submit"]'), 'rule-added');
        const row = issuer.locator('#equivalency-rules tbody tr', { hasText: external });
        assert.equal(await row.count(), 1);
        await clickAndLoad(issuer, row.locator('button[type="submit"]'), 'rule-removed');
        assert.equal(await issuer.locator('#equivalency-rules tbody tr').count(), before);
      } finally {
        for (const context of contexts) await context.close();
      }
    });
  });
});
