// Bulk award, at a desktop and a phone size, each on a fresh server: the demo issuer opens the
// bulk-award page from Direct awards, sends a file without the achievement_id column (the page
// names the problem at the file field), then a good file of three rows, one of them with a bad
// address. The preview says what each row will do; confirmed, the batch is awarded and its page
// ends on what was done and the row that could not be. Every page is checked with axe-core, for
// sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   list page   form[action$="/award-batches"] #batch_file, table#achievement-ids, table#award-batches
//   batch page  form[action$="/start"] button, form[action$="/discard"] button, table#batch-rows,
//               h2#state-title

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEMO, api, logIn } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;

describe('bulk award', () => {
  for (const size of SIZES) {
    it(`previews a CSV file, awards it and shows what was not awarded at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const server = await startServer();
      const browser = await launch();
      const { contexts, newPage, look, visit, clickAndLoad, signIn } = pageKit(browser, server.baseUrl, size, 'award-batches');
      const body = async (page) => squash(await page.locator('body').innerText());

      try {
        const issuer = await logIn(server.baseUrl, DEMO.issuer);
        const me = await api(server.baseUrl, 'GET', '/api/v1/me', { token: issuer });
        const organisation = me.memberships[0].organisation_id;
        const listed = await api(server.baseUrl, 'GET', `/api/v1/organisations/${organisation}/achievements`, { token: issuer });
        const badge = listed.items.find((a) => a.kind === 'micro-badge' && a.level === null && a.state === 'published');
        assert.ok(badge, 'a published micro-badge');

        const page = await newPage();
        await signIn(page, DEMO.issuer, 'issuer');
        await visit(page, `/issuers/${organisation}/direct-awards`, 'direct-awards');
        await clickAndLoad(page, page.locator('a', { hasText: 'Bulk award from a CSV file' }), 'list');
        assert.match(await body(page), /No files yet/);
        assert.equal(await page.locator('#achievement-ids tbody tr', { hasText: badge.id }).count(), 1, 'the ids the file may name are listed');

        // A file without a required column is named at the file field.
        await page.locator('#batch_file').setInputFiles({ name: 'missing.csv', mimeType: 'text/csv', buffer: Buffer.from('email,name\nada@example.org,Ada\n') });
        await clickAndLoad(page, page.locator('form[action$="/award-batches"] button[type="submit"]'), 'refused', 422);
        assert.match(await body(page), /missing: achievement_id/);

        // A good file is previewed; nothing is awarded before it is confirmed.
        const csv = [
          'Name,Email,Achievement ID,Narrative',
          `Ada Lovelace,ada.${size.name}@example.org,${badge.id},Spring workshop`,
          `"Hopper, Grace",grace.${size.name}@example.org,${badge.id},Spring workshop`,
          `Nobody,not an address,${badge.id},`,
        ].join('\n');
        await page.locator('#batch_file').setInputFiles({ name: 'spring-workshop.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
        await clickAndLoad(page, page.locator('form[action$="/award-batches"] button[type="submit"]'), 'preview');
        assert.match(await body(page), /Preview/);
        assert.equal(await page.locator('#batch-rows tbody tr').count(), 3);
        assert.match(await body(page), /Cannot be awarded: email/);
        const before = await api(server.baseUrl, 'GET', `/api/v1/organisations/${organisation}/awards`, { token: issuer });
        assert.equal(before.items.length, 0, 'nothing is awarded from a preview');

        // Confirmed, it is awarded; the page follows it to the end.
        const batchUrl = page.url();
        await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('form[action$="/start"] button[type="submit"]').click()]);
        for (let tries = 0; !(await body(page)).includes('2 awarded'); tries += 1) {
          assert.ok(tries < 100, `the batch did not finish:\n${await body(page)}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
          await page.goto(batchUrl);
        }
        await look(page, 'done');
        assert.match(await body(page), /2 awarded, 1 could not be awarded/);
        assert.equal(await page.locator('#batch-rows tbody tr').count(), 1, 'the row not awarded is listed');
        const after = await api(server.baseUrl, 'GET', `/api/v1/organisations/${organisation}/awards`, { token: issuer });
        assert.deepEqual(after.items.map((o) => o.recipient.name).sort(), ['Ada Lovelace', 'Hopper, Grace']);

        await visit(page, `/issuers/${organisation}/award-batches`, 'list-after');
        assert.equal(await page.locator('#award-batches tbody tr', { hasText: 'spring-workshop.csv' }).count(), 1);
      } finally {
        for (const context of contexts) await context.close().catch(() => {});
        await browser.close();
        await server.stop();
      }
    });
  }
});
