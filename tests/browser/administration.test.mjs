// Safe administration, at a desktop and a phone size, each on a fresh server: the issuer sees who
// earned each award, the assessor-pool picker chooses nobody, revoking asks first and says what
// follows (the reason stays private unless published), an invitation by e-mail creates the
// invitee's account, removing a member, retiring an achievement and withdrawing a submission each
// ask first. Every page is checked with axe-core, for sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   dashboard        #awards-table, form[action$="/awards/{id}/status"] select[name=action] input[name=reason],
//                    select[id^="pool-"] (first option "Choose an assessor…")
//   confirmation     .confirm-page form button[type="submit"], #publish_reason
//   manage page      form[action$="/invitations"] #invite_email #invite_role, #invitations,
//                    form[action$="/members/{user}"] select[name=role], form[action$="/retire"]
//   invitation page  form[action^="/invitations/"] #name #password
//   submission page  form[action$="/withdraw"]

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEMO, api, earnAward, logIn } from './lib/api.mjs';
import { SIZES, checkPage, launch } from './lib/browser.mjs';
import { pageKit } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;

/** Collapses runs of whitespace (including no-break spaces) to one space. */
const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

describe('administration', () => {
  for (const size of SIZES) {
    it(`asks before destructive changes and invites by e-mail at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const server = await startServer();
      const browser = await launch();
      const { contexts, newPage, look, visit, clickAndLoad } = pageKit(browser, server.baseUrl, size, 'administration');
      const body = async (page) => squash(await page.locator('body').innerText());
      const signIn = async (page, { email, password }, name) => {
        await visit(page, '/login', `${name}-sign-in`);
        await page.locator('#email').fill(email);
        await page.locator('#password').fill(password);
        await clickAndLoad(page, page.locator('form[action="/login"] button[type="submit"]'), `${name}-signed-in`);
      };

      try {
        const { award, badge, tokens } = await earnAward(server.baseUrl);
        const org = badge.issuer.id;
        const issuer = await newPage();
        await signIn(issuer, DEMO.issuer, 'issuer');

        // Staff see who earned each award; the pool picker chooses nobody.
        await visit(issuer, `/issuers/${org}/assessment`, 'dashboard');
        const row = issuer.locator('#awards-table tr', { has: issuer.locator(`a[href="/awards/${award.id}"]`) });
        assert.match(squash(await row.innerText()), new RegExp(DEMO.learner.name));
        const picker = issuer.locator('select[id^="pool-"]').first();
        assert.equal(await picker.inputValue(), '', 'no assessor is chosen before the issuer chooses');

        // Revoking asks first, says what follows, and keeps the reason private unless published.
        const form = issuer.locator(`form[action$="/awards/${award.id}/status"]`);
        await form.locator('select[name="action"]').selectOption('revoke');
        await form.locator('input[name="reason"]').fill('Evidence copied from another learner');
        await clickAndLoad(issuer, form.locator('button[type="submit"]'), 'revoke-confirm');
        assert.match(await body(issuer), /Revoking tells every verifier/);
        assert.match(await body(issuer), /is notified/);
        assert.equal(await issuer.locator('#publish_reason').isChecked(), false, 'the reason is private by default');
        await clickAndLoad(issuer, issuer.locator('.confirm-page form button[type="submit"]'), 'revoked');
        assert.match(await body(issuer), /The award is revoked/);
        const visitor = await newPage();
        await visit(visitor, `/awards/${award.id}`, 'revoked-award-public');
        assert.match(await body(visitor), /Revoked/);
        assert.doesNotMatch(await body(visitor), /copied from another learner/, 'an unpublished reason stays private');
        const learnerView = await api(server.baseUrl, 'GET', `/api/v1/awards/${award.id}`, { token: tokens.learner });
        assert.equal(learnerView.status_reason, 'Evidence copied from another learner', 'the learner reads it');

        // Invite by e-mail; the invitee creates their account on the invitation's page.
        await visit(issuer, `/issuers/${org}/manage`, 'manage');
        const invitee = { name: `Ines Invited ${size.name}`, email: `ines.${size.name}@example.org`, password: 'slate ridge under clear sky' };
        await issuer.locator('#invite_email').fill(invitee.email);
        await issuer.locator('#invite_role').selectOption('staff');
        await clickAndLoad(issuer, issuer.locator('form[action$="/invitations"] button[type="submit"]'), 'invited');
        assert.match(await body(issuer), /The invitation is sent/);
        assert.match(squash(await issuer.locator('#invitations').innerText()), new RegExp(invitee.email.replace(/\./g, '\\.')));
        await visit(issuer, '/admin/outbox', 'outbox');
        const mailBody = await issuer.locator('li.mail', { hasText: invitee.email }).first().locator('.mail-body').textContent();
        const link = mailBody.match(/https?:\/\/\S+(\/invitations\/[A-Za-z0-9_-]+)/);
        assert.ok(link, `no invitation link in the mail:\n${mailBody}`);
        const newcomer = await newPage();
        await visit(newcomer, link[1], 'invitation');
        assert.match(await body(newcomer), /as a staff member/);
        await newcomer.locator('#name').fill(invitee.name);
        await newcomer.locator('#password').fill('short');
        await clickAndLoad(newcomer, newcomer.locator('form[action^="/invitations/"] button[type="submit"]'), 'invitation-weak-password', 422);
        assert.equal(await newcomer.locator('#name').inputValue(), invitee.name, 'the typed name is kept');
        await newcomer.locator('#password').fill(invitee.password);
        await clickAndLoad(newcomer, newcomer.locator('form[action^="/invitations/"] button[type="submit"]'), 'invitation-accepted');
        assert.match(await body(newcomer), /you are now a member/);
        await visit(newcomer, link[1], 'invitation-used', 410);

        // Removing the new member asks first.
        await visit(issuer, `/issuers/${org}/manage`, 'manage-with-newcomer');
        const memberRow = issuer.locator('tr', { hasText: invitee.name });
        await memberRow.locator('select[name="role"]').selectOption('remove');
        await clickAndLoad(issuer, memberRow.locator('button[type="submit"]'), 'remove-member-confirm');
        assert.match(await body(issuer), /can no longer see/);
        await clickAndLoad(issuer, issuer.locator('.confirm-page form button[type="submit"]'), 'member-removed');
        assert.match(await body(issuer), /The member is removed/);

        // Retiring asks first.
        await visit(issuer, `/achievements/${badge.id}`, 'achievement');
        await clickAndLoad(issuer, issuer.locator(`form[action="/achievements/${badge.id}/retire"] button[type="submit"]`), 'retire-confirm');
        assert.match(await body(issuer), /Awards already made stay valid/);
        await clickAndLoad(issuer, issuer.locator('.confirm-page form button[type="submit"]'), 'retired');
        assert.match(await body(issuer), /Retired/);

        // Withdrawing asks first.
        const catalog = await api(server.baseUrl, 'GET', '/api/v1/achievements?kind=micro-badge&limit=100');
        const other = catalog.items.find((a) => a.state === 'published' && a.id !== badge.id);
        const learnerToken = await logIn(server.baseUrl, DEMO.learner);
        const submission = await api(server.baseUrl, 'POST', `/api/v1/achievements/${other.id}/submissions`, { token: learnerToken, body: {} });
        const learner = await newPage();
        await signIn(learner, DEMO.learner, 'learner');
        await visit(learner, `/submissions/${submission.id}`, 'submission');
        await clickAndLoad(learner, learner.locator(`form[action="/submissions/${submission.id}/withdraw"] button[type="submit"]`), 'withdraw-confirm');
        assert.match(await body(learner), /it will not be assessed/);
        await clickAndLoad(learner, learner.locator('.confirm-page form button[type="submit"]'), 'withdrawn');
        assert.match(await body(learner), /Your submission is withdrawn/);
      } finally {
        for (const context of contexts) await context.close().catch(() => {});
        await browser.close();
        await server.stop();
      }
    });
  }
});
