// Fees that work, at a desktop and a phone size: the demo micro-credential costs 120 EUR, paid once
// for its three levels. A new learner sees the fee and how to pay (the issuer's instructions and
// payment link) on a level's page before applying and on the submission, cannot submit while the
// fee is due, the issuer marks it paid from the assessment page, and the learner then submits.
// Every page is checked with axe-core, for sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   achievement page  dd.fee, .how-to-pay (.payment-instructions, a.payment-link),
//                     form[action$="/apply"]
//   submission page   #fee-title, strong.fee, .how-to-pay, #submission-form (#overview,
//                     #reflection, #links), button[formaction$="/submit"]
//   issuer page       table#fees-due row with the submission's reference, button[value="paid"]

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, api, logIn } from './lib/api.mjs';
import { SIZES, checkPage, launch } from './lib/browser.mjs';
import { pageKit } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;
const INSTRUCTIONS = 'Transfer the fee to IBAN DE02 1203 0000 0000 2020 51 and quote your submission reference.';
const PAY_URL = 'https://pay.example.org/cairn-demo';
const FEE = '120.00 EUR for all three levels, paid once';

/** Collapses runs of whitespace (including no-break spaces) to one space. */
const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

describe('fees', () => {
  let server;
  let browser;
  let level;

  before(async () => {
    server = await startServer();
    browser = await launch();
    // The issuer writes how to pay.
    const issuer = await logIn(server.baseUrl, DEMO.issuer);
    const orgs = await api(server.baseUrl, 'GET', '/api/v1/organisations');
    const path = `/api/v1/organisations/${orgs.items[0].id}/assessment-settings`;
    const settings = await api(server.baseUrl, 'GET', path, { token: issuer });
    await api(server.baseUrl, 'PUT', path, { token: issuer, body: { ...settings, payment_instructions: INSTRUCTIONS, payment_url: PAY_URL } });
    const catalog = await api(server.baseUrl, 'GET', '/api/v1/achievements?kind=micro-credential&limit=100');
    const stack = catalog.items.find((a) => a.fee?.free === false && a.fee?.plan === 'upfront');
    assert.ok(stack, 'the demo has a paid micro-credential');
    level = stack.levels[0];
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  for (const size of SIZES) {
    it(`shows a micro-credential's fee and how to pay, then lets the learner submit once paid at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const { contexts, newPage, look, visit, clickAndLoad, signIn } = pageKit(browser, server.baseUrl, size, 'fees');

      try {
        const person = { name: `Pia Payne ${size.name}`, email: `pia.payne.${size.name}@example.org`, password: 'a long enough password' };
        await api(server.baseUrl, 'POST', '/api/v1/users', { body: person });
        const page = await newPage();
        await signIn(page, person, 'learner');

        // Before applying: the level's page says what it costs and how to pay.
        await visit(page, `/achievements/${level}`, 'level-page');
        assert.equal(squash(await page.locator('dd.fee').textContent()), FEE);
        const howToPay = page.locator('.how-to-pay').first();
        assert.equal(squash(await howToPay.locator('.payment-instructions').textContent()), INSTRUCTIONS);
        assert.equal(await howToPay.locator('a.payment-link').getAttribute('href'), PAY_URL);
        assert.match(squash(await page.locator('#how-assessed').innerText()), /paid once before its first level is assessed/);

        // Applying opens the submission, with the fee, how to pay, and no way to submit yet.
        await clickAndLoad(page, page.locator(`form[action="/achievements/${level}/apply"] button[type="submit"]`), 'submission-fee-due');
        const submissionUrl = page.url();
        assert.equal(squash(await page.locator('strong.fee').textContent()), FEE);
        assert.equal(squash(await page.locator('.how-to-pay .payment-instructions').textContent()), INSTRUCTIONS);
        assert.equal(await page.locator('.how-to-pay a.payment-link').getAttribute('href'), PAY_URL);
        assert.equal(await page.locator('button[formaction$="/submit"]').count(), 0, 'no submit while the fee is due');
        assert.match(squash(await page.locator('body').innerText()), /You can submit once the fee is settled/);
        const reference = squash(await page.locator('body').textContent()).match(/Reference (S-[0-9A-Z]{4}-[0-9A-Z]{4})/)?.[1];
        assert.ok(reference, 'the submission shows its reference');
        await page.locator('#overview').fill('I queried one table to answer three questions from the sales team.');
        await page.locator('#reflection').fill('I learnt to check row counts before trusting an aggregate.');
        await page.locator('#links').fill('https://example.org/evidence/sql-foundations');
        await clickAndLoad(page, page.locator('#submission-form button[type="submit"]').first(), 'submission-saved');

        // The home says the fee is due, with a way to it.
        await visit(page, '/dashboard', 'home-fee-due');
        const homeLine = page.locator('.home-item', { hasText: 'Fee due' }).first();
        assert.match(squash(await homeLine.innerText()), new RegExp(FEE.replace(/[.()]/g, '\\$&')));

        // The issuer records the payment.
        const issuer = await newPage();
        await signIn(issuer, DEMO.issuer, 'issuer');
        await visit(issuer, '/issuer/assessment', 'issuer-fees-due');
        const row = issuer.locator('#fees-due tr', { hasText: reference });
        await clickAndLoad(issuer, row.locator('button[value="paid"]'), 'issuer-fee-paid');
        assert.equal(await issuer.locator('#fees-due tr', { hasText: reference }).count(), 0, 'the fee is no longer due');

        // The learner can now submit.
        await visit(page, submissionUrl, 'submission-fee-paid');
        assert.match(squash(await page.locator('#fee-title').locator('xpath=..').innerText()), /Fee paid/);
        await clickAndLoad(page, page.locator('button[formaction$="/submit"]'), 'submitted');
        assert.match(squash(await page.locator('p.eyebrow', { hasText: 'Reference' }).textContent()), /Submitted/);
      } finally {
        for (const context of contexts) await context.close();
      }
    });
  }
});
