// Transcripts, at a desktop and a phone size: the demo learner, holding two badges, goes from the
// backpack to "Download a transcript", unticks one badge, chooses the VC-JWT and downloads; the
// file holds the one badge left ticked. The issuer downloads the learner's transcript from the
// awards table of the assessment page. Every page is checked with axe-core, for sideways
// scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   backpack          a[href="/transcript"]
//   transcript page   form[action="/transcript/download"] input[name="award"] (value = award id),
//                     #format-json, #format-jwt, button[type="submit"]
//   assessment page   #awards-table a[href$="/transcript.json"]

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO, api, earn, logIn } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;
const b64urlJson = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

describe('transcript', () => {
  let server;
  let browser;
  let held;
  let organisation;

  before(async () => {
    server = await startServer();
    browser = await launch();
    const tokens = { issuer: await logIn(server.baseUrl, DEMO.issuer), assessor: await logIn(server.baseUrl, DEMO.assessor), learner: await logIn(server.baseUrl, DEMO.learner) };
    const catalog = await api(server.baseUrl, 'GET', '/api/v1/achievements?kind=micro-badge&limit=100');
    const badges = catalog.items.filter((a) => a.state === 'published' && a.rubric?.criteria?.length && !a.level).slice(0, 2);
    assert.equal(badges.length, 2, 'the demo has two micro-badges with a rubric');
    held = [];
    for (const badge of badges) held.push(await earn(server.baseUrl, badge, tokens));
    organisation = badges[0].issuer.id;
  }, { timeout: 180_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  for (const size of SIZES) {
    it(`the learner chooses badges and downloads a transcript; the issuer downloads one at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const { contexts, newPage, visit, clickAndLoad, signIn } = pageKit(browser, server.baseUrl, size, 'transcript');
      try {
        const page = await newPage();
        await signIn(page, DEMO.learner, 'learner');
        await visit(page, '/backpack', 'backpack');
        await clickAndLoad(page, page.locator('a[href="/transcript"]'), 'choose');
        const boxes = page.locator('form[action="/transcript/download"] input[name="award"]');
        const offered = await boxes.evaluateAll((inputs) => inputs.map((i) => [i.value, i.checked]));
        for (const award of held) assert.deepEqual(offered.find(([id]) => id === award.id), [award.id, true], JSON.stringify(offered));

        // Only the first badge, as a VC-JWT.
        await page.locator(`input[name="award"][value="${held[1].id}"]`).uncheck();
        await page.locator('#format-jwt').check();
        const [download] = await Promise.all([page.waitForEvent('download'), page.locator('form[action="/transcript/download"] button[type="submit"]').click()]);
        assert.match(download.suggestedFilename(), /^transcript-\d{4}-\d{2}-\d{2}\.jwt$/);
        const jwt = (await (await download.createReadStream()).toArray()).join('').trim();
        const clr = b64urlJson(jwt.split('.')[1]);
        assert.deepEqual(clr.type, ['VerifiableCredential', 'ClrCredential']);
        assert.deepEqual(clr.credentialSubject.verifiableCredential.map((c) => c.id.split('/').slice(-2, -1)[0]), [held[0].id]);
        assert.equal(clr.partial, true);

        // The issuer's download of the learner's transcript, from the awards table.
        const staff = await newPage();
        await signIn(staff, DEMO.issuer, 'issuer');
        await visit(staff, `/issuers/${organisation}/assessment`, 'assessment');
        const link = staff.locator('#awards-table a[href$="/transcript.json"]').first();
        assert.match((await link.innerText()).trim(), /^Transcript/);
        const [file] = await Promise.all([staff.waitForEvent('download'), link.click()]);
        const issued = JSON.parse((await (await file.createReadStream()).toArray()).join(''));
        assert.deepEqual(issued.type, ['VerifiableCredential', 'ClrCredential']);
        assert.ok(issued.proof?.[0]?.verificationMethod?.includes(`:issuers:${organisation}#`), JSON.stringify(issued.proof));
      } finally {
        for (const context of contexts) await context.close();
      }
    });
  }
});
