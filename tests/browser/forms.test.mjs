// Forms that never lose work, at a desktop and a phone size: a failed form, reloaded, answers
// with the form and what was typed (never 405); a notice shows once and is not in the address;
// on the submission page, text typed just before an upload survives it, leaving with unsaved
// text asks first, and the rubric is in view beside (or, on a phone, above) the editor.
// Every page is checked with axe-core, for sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   sign-up           form[action="/signup"] #name #email #password
//   account page      form[action="/account/name"] #name, form[action="/account/password"]
//                     #current_password #password
//   submission page   #submission-form #overview #reflection, #autosave-status,
//                     form[action$="/files"] #file_title #file, .artifact-list,
//                     #rubric-aside (summary, .rubric-block), .breadcrumbs a

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, api, logIn } from './lib/api.mjs';
import { SIZES, checkPage, launch } from './lib/browser.mjs';
import { pageKit } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;

/** Collapses runs of whitespace (including no-break spaces) to one space. */
const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n' +
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
);

describe('forms', () => {
  let server;
  let browser;
  let badges;

  before(async () => {
    server = await startServer();
    browser = await launch();
    const catalog = await api(server.baseUrl, 'GET', '/api/v1/achievements?kind=micro-badge&limit=100');
    badges = catalog.items.filter((a) => a.state === 'published' && a.rubric?.criteria?.length && a.fee?.free);
    assert.ok(badges.length >= SIZES.length, 'the demo has a free micro-badge with a rubric per size');
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  SIZES.forEach((size, index) => {
    it(`keeps typed work across failures, uploads and leaving at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const { contexts, newPage, look, visit, clickAndLoad } = pageKit(browser, server.baseUrl, size, 'forms');
      const reload = async (page, name, status) => {
        const response = await page.reload();
        assert.equal(response?.status(), status, `reloading ${page.url()} answered ${response?.status()}`);
        await look(page, name);
      };
      const body = async (page) => squash(await page.locator('body').innerText());

      try {
        // A failed sign-up: the address is the form's own, and reloading it keeps what was typed.
        const visitor = await newPage();
        await visit(visitor, '/signup', 'signup');
        await visitor.locator('#name').fill(`Grace Typed ${size.name}`);
        await visitor.locator('#email').fill(`grace.${size.name}@example.org`);
        await visitor.locator('#password').fill('password123');
        await clickAndLoad(visitor, visitor.locator('form[action="/signup"] button[type="submit"]'), 'signup-failed', 422);
        assert.equal(new URL(visitor.url()).pathname, '/signup');
        assert.match(await body(visitor), /too easy to guess/);
        await reload(visitor, 'signup-failed-reloaded', 422);
        assert.equal(await visitor.locator('#name').inputValue(), `Grace Typed ${size.name}`);
        assert.equal(await visitor.locator('#email').inputValue(), `grace.${size.name}@example.org`);
        assert.match(await body(visitor), /too easy to guess/);

        // The learner signs in.
        const page = await newPage();
        await visit(page, '/login', 'sign-in');
        await page.locator('#email').fill(DEMO.learner.email);
        await page.locator('#password').fill(DEMO.learner.password);
        await clickAndLoad(page, page.locator('form[action="/login"] button[type="submit"]'), 'signed-in');

        // A failed form posted to an address that only takes forms: reloading it is no 405.
        await visit(page, '/account', 'account');
        await page.locator('#current_password').fill('not the password at all');
        await page.locator('form[action="/account/password"] #password').fill('another set of granite words');
        await clickAndLoad(page, page.locator('form[action="/account/password"] button[type="submit"]'), 'password-failed', 422);
        assert.equal(new URL(page.url()).pathname, '/account/password');
        await reload(page, 'password-failed-reloaded', 422);
        assert.match(await body(page), /is not your current password/);

        // A notice shows once and is not in the address.
        await visit(page, '/account', 'account-again');
        await page.locator('form[action="/account/name"] #name').fill(`${DEMO.learner.name}`);
        await clickAndLoad(page, page.locator('form[action="/account/name"] button[type="submit"]'), 'name-saved');
        assert.match(await body(page), /Your name is saved/);
        assert.equal(new URL(page.url()).pathname, '/account');
        assert.ok(!page.url().includes('notice'), `the notice is not in the address: ${page.url()}`);
        await reload(page, 'name-saved-reloaded', 200);
        assert.doesNotMatch(await body(page), /Your name is saved/);

        // A draft submission.
        const token = await logIn(server.baseUrl, DEMO.learner);
        const badge = badges[index];
        const draft = await api(server.baseUrl, 'POST', `/api/v1/achievements/${badge.id}/submissions`, { token, body: { overview: '', reflection: '', links: [], collaborators: [] } });
        const draftPath = `/submissions/${draft.id}`;
        await visit(page, draftPath, 'submission');

        // The rubric is in view beside the editor (on a phone: a section above it, opened by its title).
        const aside = page.locator('#rubric-aside');
        const editor = page.locator('#submission-form');
        if (size.width >= 1000) {
          assert.equal(await aside.getAttribute('open'), '', 'open beside the editor');
          const [a, e] = [await aside.boundingBox(), await editor.boundingBox()];
          assert.ok(a.x >= e.x + e.width, `the rubric (x ${a.x}) is beside the editor (right edge ${e.x + e.width})`);
          assert.ok(a.y < e.y + e.height && a.y + a.height > e.y, 'the rubric and the editor share the same rows');
          await editor.locator('#reflection').scrollIntoViewIfNeeded();
          const inView = await aside.boundingBox();
          assert.ok(inView.y < size.height && inView.y + inView.height > 0, `the rubric stays in view while writing (top ${inView.y})`);
        } else {
          const [a, e] = [await aside.boundingBox(), await editor.boundingBox()];
          assert.ok(a.y + a.height <= e.y, 'the rubric section comes before the editor');
          await aside.locator('summary').click();
          assert.ok(await aside.locator('.rubric-block').isVisible(), 'the rubric opens above the editor');
          await look(page, 'submission-rubric-open');
        }

        // Text typed, then a file uploaded at once: the text survives the upload.
        const typed = `Typed a moment before the upload, at ${size.name} size.`;
        await page.locator('#reflection').click();
        await page.locator('#reflection').pressSequentially(typed);
        await page.locator('#file_title').fill('Report');
        await page.locator('#file').setInputFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: PDF });
        await clickAndLoad(page, page.locator('form[action$="/files"] button[type="submit"]'), 'uploaded');
        assert.equal(new URL(page.url()).pathname, draftPath);
        assert.equal(await page.locator('#reflection').inputValue(), typed, 'the text typed before the upload is kept');
        assert.match(await body(page), /The file is added to your evidence/);
        assert.match(squash(await page.locator('.artifact-list').innerText()), /Report/);

        // Leaving with unsaved text asks first (the autosave is held back so the text stays unsaved).
        const held = [];
        await page.route(`**${draftPath}`, (route) => (route.request().method() === 'POST' ? held.push(route) : route.continue()));
        const dialogs = [];
        page.on('dialog', (dialog) => {
          dialogs.push(dialog.type());
          dialog.dismiss().catch(() => {});
        });
        await page.locator('#overview').click();
        await page.locator('#overview').pressSequentially('Not saved yet.');
        await page.locator('.breadcrumbs a').click();
        for (let i = 0; i < 100 && !dialogs.length; i++) await page.waitForTimeout(50);
        assert.deepEqual(dialogs, ['beforeunload'], 'leaving with unsaved text asks first');
        assert.equal(new URL(page.url()).pathname, draftPath, 'staying keeps the page');
        assert.equal(await page.locator('#overview').inputValue(), 'Not saved yet.');
        await look(page, 'leave-refused');
        await page.unroute(`**${draftPath}`);
        for (const route of held) await route.abort().catch(() => {});
      } finally {
        for (const context of contexts) await context.close().catch(() => {});
      }
    });
  });
});
