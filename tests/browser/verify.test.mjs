// Verifying a badge as an employer does, at desktop and phone sizes: the verdict leads in a
// sentence naming the issuer, the recipient's e-mail address can be checked against the hashed
// one, the badge's page on this site is linked, and a revocation says by whom and when.
// axe-core checks every page; nothing may scroll sideways.
//
// The selectors here are the contract with the server's HTML:
//   verify page   #verify_text, #verify_email, form[action="/verify"] button[type="submit"],
//                 .verdict-label, #verdict-title, .email-check, a[href^="/awards/"]

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, earnAward } from './lib/api.mjs';
import { SIZES, checkPage, launch } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

describe('verify page', () => {
  let server;
  let browser;
  let earned;
  let credential;

  before(async () => {
    server = await startServer();
    browser = await launch();
    earned = await earnAward(server.baseUrl, { privacy: 'unlisted' });
    credential = await (await fetch(`${server.baseUrl}/awards/${earned.award.id}/credential`)).text();
  }, { timeout: 180_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  async function verify(page, size, name, { email = '' } = {}) {
    const response = await page.goto('/verify');
    assert.equal(response.status(), 200);
    await page.locator('#verify_text').fill(credential);
    await page.locator('#verify_email').fill(email);
    await Promise.all([page.waitForLoadState('load'), page.locator('form[action="/verify"] button[type="submit"]').click()]);
    await page.locator('#verdict-title').waitFor();
    await checkPage(page, `verify-${name}-${size.name}`);
  }

  for (const size of SIZES) {
    it(`leads with the verdict, checks an address and links the badge at ${size.width} px`, async () => {
      const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width: size.width, height: size.height } });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(20_000);
        await verify(page, size, 'valid', { email: 'learner@demo.cairn.test' });
        assert.equal(squash(await page.locator('.verdict-label').textContent()), 'Valid');
        assert.match(squash(await page.locator('#verdict-title').textContent()), new RegExp(`^Valid: ${earned.badge.name}, issued by `));
        assert.match(squash(await page.locator('.email-check').textContent()), /^Issued to learner@demo\.cairn\.test/);
        const link = page.locator(`section.verdict a[href="/awards/${earned.award.id}"]`);
        assert.equal(await link.count(), 1, 'the badge page on this site is linked');

        await verify(page, size, 'other-address', { email: 'someone@example.org' });
        assert.match(squash(await page.locator('.email-check').textContent()), /^Not issued to someone@example\.org/);
      } finally {
        await context.close();
      }
    }, { timeout: 120_000 });
  }

  it('says who revoked a badge and when, at both sizes', async () => {
    await api(server.baseUrl, 'POST', `/api/v1/awards/${earned.award.id}/status`, {
      token: earned.tokens.issuer,
      body: { action: 'revoke', reason: 'issued in error' },
    });
    for (const size of SIZES) {
      const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width: size.width, height: size.height } });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(20_000);
        await verify(page, size, 'revoked');
        assert.equal(squash(await page.locator('.verdict-label').textContent()), 'Invalid');
        assert.match(squash(await page.locator('#verdict-title').textContent()), /^Revoked by .+ on \d{1,2} [A-Z][a-z]+ \d{4}$/);
      } finally {
        await context.close();
      }
    }
  }, { timeout: 120_000 });
});
