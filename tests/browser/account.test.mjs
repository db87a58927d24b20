// A person's own account, at a desktop and a phone size: a new account forgets its password,
// asks for a link, the link is read from the mail outbox (as the demo operator sees it), the
// new password is chosen and signs in; then the account page changes the name and the password.
// Every page is checked with axe-core, for sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   sign-in page      a[href="/forgot-password"]
//   forgot password   form[action="/forgot-password"] #email
//   outbox            li.mail (.mail-subject, .mail-body)
//   reset page        form[action^="/reset-password/"] #password
//   account page      form[action="/account/name"] #name, form[action="/account/password"]
//                     #current_password #password, a[href="/account"] in the navigation

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SIZES, checkPage, launch } from './lib/browser.mjs';
import { pageKit } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;
const OPERATOR = { email: 'issuer@demo.cairn.test', password: 'cairn-demo-issuer' };

/** Collapses runs of whitespace (including no-break spaces) to one space. */
const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

describe('account', () => {
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
    it(`resets a forgotten password and changes the account at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const { contexts, newPage, look, visit, clickAndLoad } = pageKit(browser, server.baseUrl, size, 'account');
      const body = async (page) => squash(await page.locator('body').innerText());

      try {
        const person = {
          name: `Ada Walker ${size.name}`,
          email: `ada.walker.${size.name}@example.org`,
          password: 'first choice of words here',
          newPassword: 'second choice of granite words',
        };
        const page = await newPage();

        // A new account.
        await visit(page, '/signup', 'signup');
        await page.locator('#name').fill(person.name);
        await page.locator('#email').fill(person.email);
        await page.locator('#password').fill(person.password);
        await clickAndLoad(page, page.locator('form[action="/signup"] button[type="submit"]'), 'signed-up');

        // Forgotten: ask for a link from the sign-in page.
        await clickAndLoad(page, page.locator('a[href="/forgot-password"]'), 'forgot-password');
        await page.locator('#email').fill(person.email);
        await clickAndLoad(page, page.locator('form[action="/forgot-password"] button[type="submit"]'), 'forgot-password-sent');
        assert.match(await body(page), /If an account uses the address you entered/);

        // The same confirmation for an address without an account.
        await visit(page, '/forgot-password', 'forgot-password-again');
        await page.locator('#email').fill(`nobody.${size.name}@example.org`);
        await clickAndLoad(page, page.locator('form[action="/forgot-password"] button[type="submit"]'), 'forgot-password-sent-unknown');
        assert.match(await body(page), /If an account uses the address you entered/);

        // The operator reads the mail in the outbox.
        const operator = await newPage();
        await visit(operator, '/login', 'operator-sign-in');
        await operator.locator('#email').fill(OPERATOR.email);
        await operator.locator('#password').fill(OPERATOR.password);
        await clickAndLoad(operator, operator.locator('form[action="/login"] button[type="submit"]'), 'operator-signed-in');
        await visit(operator, '/admin/outbox', 'outbox');
        const mail = operator.locator('li.mail', { hasText: person.email }).filter({ hasText: 'Reset your Cairn password' }).first();
        const mailBody = await mail.locator('.mail-body').textContent();
        const link = mailBody.match(/https?:\/\/\S+(\/reset-password\/[A-Za-z0-9_-]+)/);
        assert.ok(link, `no reset link in the mail:\n${mailBody}`);
        const unknownMails = await operator.locator('li.mail', { hasText: `nobody.${size.name}@example.org` }).count();
        assert.equal(unknownMails, 0, 'an address without an account is sent nothing');

        // The link opens the new-password form; a weak password is refused with the reason.
        await visit(page, link[1], 'reset-password');
        await page.locator('#password').fill('password123');
        await clickAndLoad(page, page.locator('form[action^="/reset-password/"] button[type="submit"]'), 'reset-password-weak', 422);
        assert.match(await body(page), /too easy to guess/);
        await page.locator('#password').fill(person.newPassword);
        await clickAndLoad(page, page.locator('form[action^="/reset-password/"] button[type="submit"]'), 'password-reset');
        assert.match(await body(page), /Your new password is saved/);

        // The link works once.
        await visit(page, link[1], 'reset-link-used', 410);
        assert.match(await body(page), /This link no longer works/);

        // The new password signs in; the navigation leads to the account page.
        await visit(page, '/login', 'sign-in');
        await page.locator('#email').fill(person.email);
        await page.locator('#password').fill(person.newPassword);
        await clickAndLoad(page, page.locator('form[action="/login"] button[type="submit"]'), 'signed-in');
        assert.ok((await page.locator('a[href="/account"]').count()) >= 1, 'the navigation links to the account page');
        await visit(page, '/account', 'account');

        // Change the name.
        await page.locator('#name').fill(`${person.name} Jr`);
        await clickAndLoad(page, page.locator('form[action="/account/name"] button[type="submit"]'), 'account-name-saved');
        assert.match(await body(page), /Your name is saved/);
        assert.equal(await page.locator('#name').inputValue(), `${person.name} Jr`);

        // Change the password: the current one is needed.
        await page.locator('#current_password').fill('not the password at all');
        await page.locator('form[action="/account/password"] #password').fill('third set of granite words');
        await clickAndLoad(page, page.locator('form[action="/account/password"] button[type="submit"]'), 'account-password-wrong', 422);
        assert.match(await body(page), /is not your current password/);
        await page.locator('#current_password').fill(person.newPassword);
        await page.locator('form[action="/account/password"] #password').fill('third set of granite words');
        await clickAndLoad(page, page.locator('form[action="/account/password"] button[type="submit"]'), 'account-password-changed');
        assert.match(await body(page), /Your new password is saved/);
      } finally {
        for (const context of contexts) await context.close().catch(() => {});
      }
    });
  }
});
