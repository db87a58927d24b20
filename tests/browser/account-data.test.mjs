// One's own data, at a desktop and a phone size, each on a fresh server: the demo learner earns a
// badge, changes their e-mail address (the link is read from the mail outbox, as the demo operator
// sees it, and its page asks for a click), downloads their data, and deletes the account after the
// page that says what follows: the badge's page is then gone while its credential still answers.
// Every page is checked with axe-core, for sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   account page      form[action="/account/email"] #new_email #email_password,
//                     a[href="/account/export"], a[href="/account/delete"]
//   confirmation page form[action^="/email-changes/"] button[type="submit"]
//   delete page       form[action="/account/delete"] #delete_password
//   outbox            li.mail (.mail-subject, .mail-body)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEMO, earnAward } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;

describe('account data', () => {
  for (const size of SIZES) {
    it(`changes the address, exports and deletes the account at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const server = await startServer();
      const browser = await launch();
      const { contexts, newPage, visit, clickAndLoad, signIn } = pageKit(browser, server.baseUrl, size, 'account-data');
      const body = async (page) => squash(await page.locator('body').innerText());

      try {
        const { award } = await earnAward(server.baseUrl);
        const newEmail = `lena.${size.name}@example.org`;
        const page = await newPage();
        await signIn(page, DEMO.learner, 'learner');
        await visit(page, '/account', 'account');

        // A wrong password keeps the typed address and says what is wrong.
        await page.locator('#new_email').fill(newEmail);
        await page.locator('#email_password').fill('not my password at all');
        await clickAndLoad(page, page.locator('form[action="/account/email"] button[type="submit"]'), 'email-wrong-password', 422);
        assert.match(await body(page), /is not your password/);
        assert.equal(await page.locator('#new_email').inputValue(), newEmail);
        await page.locator('#email_password').fill(DEMO.learner.password);
        await clickAndLoad(page, page.locator('form[action="/account/email"] button[type="submit"]'), 'email-change-sent');
        assert.match(await body(page), /We sent a link to your new address/);

        // The operator reads the mail; its link opens a page with one button.
        const operator = await newPage();
        await signIn(operator, DEMO.issuer, 'operator');
        await visit(operator, '/admin/outbox', 'outbox');
        const mail = operator.locator('li.mail', { hasText: newEmail }).first();
        const mailBody = await mail.locator('.mail-body').textContent();
        const link = mailBody.match(/https?:\/\/\S+(\/email-changes\/[A-Za-z0-9_-]+)/);
        assert.ok(link, `no confirmation link in the mail:\n${mailBody}`);
        await visit(page, link[1], 'email-change-confirm');
        await clickAndLoad(page, page.locator('form[action^="/email-changes/"] button[type="submit"]'), 'email-changed');
        assert.match(await body(page), /Your e-mail address is changed/);
        assert.match(await body(page), new RegExp(newEmail.replace(/\./g, '\\.')));
        await visit(page, link[1], 'email-change-link-again');
        await clickAndLoad(page, page.locator('form[action^="/email-changes/"] button[type="submit"]'), 'email-change-link-used', 410);
        assert.match(await body(page), /This link no longer works/);

        // Download the data.
        await visit(page, '/account', 'account-changed');
        const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a[href="/account/export"]').click()]);
        assert.equal(download.suggestedFilename(), 'cairn-data.json');
        const exported = JSON.parse(await (await import('node:fs/promises')).readFile(await download.path(), 'utf8'));
        assert.equal(exported.profile.email, newEmail);
        assert.ok(exported.awards.some((a) => a.id === award.id), 'the badge is in the export');
        assert.ok(!JSON.stringify(exported).includes('$argon2'), 'no password hash');

        // The award page works before the account goes.
        const visitor = await newPage();
        await visit(visitor, `/awards/${award.id}`, 'award-before');

        // Delete: the page says what follows, and needs the password.
        await clickAndLoad(page, page.locator('a[href="/account/delete"]'), 'delete');
        assert.match(await body(page), /stay verifiable/);
        await page.locator('#delete_password').fill('wrong password here');
        await clickAndLoad(page, page.locator('form[action="/account/delete"] button[type="submit"]'), 'delete-wrong-password', 422);
        assert.match(await body(page), /is not your password/);
        await page.locator('#delete_password').fill(DEMO.learner.password);
        await clickAndLoad(page, page.locator('form[action="/account/delete"] button[type="submit"]'), 'deleted');
        assert.match(await body(page), /Your account is deleted/);

        // The badge's page is gone; its credential still answers.
        await visit(visitor, `/awards/${award.id}`, 'award-gone', 410);
        const credential = await fetch(`${server.baseUrl}/awards/${award.id}/credential`);
        assert.equal(credential.status, 200);
      } finally {
        for (const context of contexts) await context.close().catch(() => {});
        await browser.close();
        await server.stop();
      }
    });
  }
});
