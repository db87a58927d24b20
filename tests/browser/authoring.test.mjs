// Authoring in steps, at a desktop and a phone size: the issuer writes a micro-credential one
// step at a time (the credential, then each of its three levels), with rubric "performance
// levels" named apart from the stack's levels and unused rubric columns kept out of the way,
// reviews it and saves it; a micro-badge saved without a name comes back on the step that holds
// the error. Every page and step is checked with axe-core, for sideways scrolling, and saved as a
// screenshot. The new micro-credential's generated badge is its own shape.
//
// The selectors here are the contract with the server's HTML and static/authoring.js:
//   form              form[data-steps].stepped, [data-step] steps, .stepper .step-link
//                     (aria-current="step"), .step-status, .step-nav buttons "Back"/"Next: …"
//   review            section.step-review (.review-step h3, .review-facts, .review-missing)
//   rubric editor     [data-rubric-editor] .level-inputs .field, .descriptor-grid .field,
//                     button.add-level

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, api, logIn } from './lib/api.mjs';
import { SIZES, checkPage, launch } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;
const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

describe('authoring in steps', () => {
  let server;
  let browser;
  let organisation;

  before(async () => {
    server = await startServer();
    browser = await launch();
    const token = await logIn(server.baseUrl, DEMO.issuer);
    const listed = await api(server.baseUrl, 'GET', '/api/v1/achievements', { token });
    organisation = listed.items[0].issuer.id;
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  for (const size of SIZES) {
    const at = `${size.width}×${size.height}`;
    const look = (page, name) => checkPage(page, `authoring-${name}-${size.width}x${size.height}`);

    async function signedIn() {
      const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width: size.width, height: size.height } });
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await page.goto('/login');
      await page.locator('#email').fill(DEMO.issuer.email);
      await page.locator('#password').fill(DEMO.issuer.password);
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('form[action="/login"] button[type="submit"]').click()]);
      return { context, page };
    }

    const visibleSteps = (page) => page.locator('form[data-steps] [data-step]:visible');
    const status = async (page) => squash(await page.locator('.step-status').innerText());
    const next = (page) => page.locator('.step-nav button:visible', { hasText: /^Next/ });

    it(`a micro-credential is written step by step, reviewed and saved at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
      const { context, page } = await signedIn();
      try {
        const name = `Field Robotics ${size.name}`;
        await page.goto(`/issuers/${organisation}/achievements/new?kind=micro-credential`);
        assert.ok(await page.locator('form[data-steps].stepped').count(), 'the form is in steps');
        const titles = (await page.locator('.stepper .step-link').allInnerTexts()).map(squash);
        assert.deepEqual(titles, ['The micro-credential', 'Level 1: Foundations', 'Level 2: Practice', 'Level 3: Real-world application', 'Review']);
        assert.equal(await visibleSteps(page).count(), 1, 'one step at a time');
        assert.equal(await status(page), 'Step 1 of 5: The micro-credential');
        assert.equal(await page.locator('.stepper .step-link[aria-current="step"]').count(), 1);
        assert.equal(await page.locator('form[data-steps] button[type="submit"]:visible').count(), 0, 'saving waits for the review');
        await look(page, 'step-about');

        await page.locator('#name').fill(name);
        await page.locator('#description').fill('Build and run robots outside the lab.');
        await page.locator('#criteria').fill('Hold all three levels.');
        for (const n of [1, 2, 3]) {
          await next(page).click();
          assert.match(await status(page), new RegExp(`^Step ${n + 1} of 5: Level ${n}: `));
          const step = page.locator(`section[data-step^="Level ${n}:"]`);
          assert.ok(await step.isVisible());
          // The rubric's levels are performance levels, never "Level 1 (lowest)" or "Column 5".
          const labels = (await step.locator('.level-inputs label:visible').allInnerTexts()).map(squash);
          assert.equal(labels[0], 'Performance level 1 (lowest)');
          assert.equal(labels.length, 4, `the four named performance levels show, no empty columns: ${labels}`);
          assert.ok(!(await step.innerText()).includes('Column'), 'no "Column" label');
          assert.equal(await step.locator('.descriptor-grid .field:visible').count() % 4, 0);
          if (n === 1) {
            await look(page, 'step-level');
            // A fifth performance level can be added; its descriptors appear with it.
            await step.locator('button.add-level').click();
            assert.equal(await step.locator('.level-inputs .field:visible').count(), 5);
            assert.ok(await step.locator(`#level${n}_level_4`).evaluate((input) => input === document.activeElement));
            assert.ok(await step.locator(`#level${n}_criterion_0_descriptor_4`).isVisible());
          }
          await page.locator(`#level${n}_name`).fill(`${name} ${n}`);
          await page.locator(`#level${n}_description`).fill(`Level ${n} work in the field.`);
          await page.locator(`#level${n}_criteria`).fill('Submit a field report.');
          await page.locator(`#level${n}_criterion_0_name`).fill('Field report');
          for (const j of [0, 1, 2, 3]) await page.locator(`#level${n}_criterion_0_descriptor_${j}`).fill(`Report at level ${j + 1}`);
        }
        // Enter in a one-line field moves on instead of saving half-way.
        await page.locator('#level3_name').press('Enter');
        assert.equal(await status(page), 'Step 5 of 5: Review');
        const review = page.locator('section.step-review');
        assert.ok(await review.isVisible());
        const reviewed = squash(await review.innerText());
        for (const expected of [name, `${name} 1`, `${name} 3`, 'Field report', 'Rubric descriptors 4 written']) {
          assert.ok(reviewed.includes(expected), `the review shows "${expected}": ${reviewed}`);
        }
        assert.equal(await review.locator('.review-missing').count(), 0);
        assert.ok(!reviewed.includes('Criterion 2'), 'criteria left empty are not reviewed');
        assert.ok(!reviewed.includes('(required)'), 'labels are reviewed without their markers');
        assert.ok(await review.locator('button[type="submit"]').isVisible(), 'the review holds the save button');
        await look(page, 'review');

        // Editing a step from the review, then coming back.
        await review.getByRole('button', { name: 'Edit Level 2: Practice' }).click();
        assert.match(await status(page), /^Step 3 of 5/);
        await page.locator('.stepper .step-link', { hasText: 'Review' }).click();

        const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), review.locator('button[type="submit"]').click()]);
        assert.equal(response?.status(), 200);
        assert.match(new URL(page.url()).pathname, /^\/achievements\/[^/]+$/);
        assert.ok(squash(await page.locator('h1').innerText()).includes(name));
        await look(page, 'saved');

        // The generated badges: a hexagon for the micro-credential, a shield per level.
        const image = await page.evaluate(async () => (await fetch(document.querySelector('img.achievement-image').getAttribute('src'))).text());
        assert.match(image, /<polygon points="256,16 /, 'a micro-credential is a hexagon');
        assert.equal((image.match(/<polyline points="214,/g) ?? []).length, 3, 'with three chevrons');
      } finally {
        await context.close();
      }
    });

    it(`a refused micro-badge opens on the step that holds the error at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
      const { context, page } = await signedIn();
      try {
        await page.goto(`/issuers/${organisation}/achievements/new?kind=micro-badge`);
        const titles = (await page.locator('.stepper .step-link').allInnerTexts()).map(squash);
        assert.ok(titles.length === 5 && titles[1].includes('Competencies') && titles[2].includes('Rubric') && titles[3].includes('Renewal'), `steps: ${titles}`);
        await page.locator('#description').fill('Keep a server patched.');
        await page.locator('.stepper .step-link', { hasText: 'Rubric' }).click();
        await page.locator('#criterion_0_name').fill('Patching');
        await look(page, 'badge-rubric');
        await page.locator('.stepper .step-link', { hasText: 'Review' }).click();
        assert.equal(await page.locator('section.step-review .review-missing').count(), 1, 'the review says the name is missing');
        const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('section.step-review button[type="submit"]').click()]);
        assert.equal(response?.status(), 422);
        assert.ok(await page.locator('#error-summary').isVisible());
        assert.equal(await status(page), 'Step 1 of 5: About', 'the form opens where the error is');
        assert.ok(await page.locator('#name').isVisible());
        assert.equal(await page.locator('#description').inputValue(), 'Keep a server patched.', 'typed values come back');
        await look(page, 'badge-refused');
      } finally {
        await context.close();
      }
    });
  }
});
