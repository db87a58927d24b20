// The assessment journey end to end, as three people in three browser contexts on one demo
// server: a learner applies for a micro-badge and submits evidence, an assessor says "not yet"
// with feedback, the learner revises and resubmits, the assessor sees what changed and passes,
// the learner opens the badge, makes it public, shares, downloads and verifies it, and the
// issuer's owner finds the award on the assessment dashboard and the mails in the outbox.
// axe-core checks every page.
//
// The selectors here are the contract with the server's HTML:
//   achievement page   form[action$="/apply"] button
//   submission page    #submission-form #overview #reflection #links, #file_title #file,
//                      button[formaction$="/submit"], #due-title, #feedback-title
//   assessor queue     #assess-queue a.submission-code
//   scoring page       input[name="level_{i}"][value=N], #comment-{i}, #feedback, #changes .diff-added
//   award page         #verification-title, #privacy-private, #privacy-public,
//                      form[action$="/privacy"] button, .share-list a, .download-list a
//   verify page        #verify_file, .verdict-label, #verdict-title (the verdict in a sentence)

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARTIFACTS_DIR, checkA11y, formatViolations, launch, screenshot } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;
const BADGE = 'Writing Clear API Documentation';
const LEARNER = { email: 'learner@demo.cairn.test', password: 'cairn-demo-learner', name: 'Lena Fischer' };
const ASSESSOR = { email: 'assessor@demo.cairn.test', password: 'cairn-demo-assessor', name: 'Arjun Mehta' };
const ISSUER = { email: 'issuer@demo.cairn.test', password: 'cairn-demo-issuer' };

/** Collapses runs of whitespace (including no-break spaces) to one space. */
const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

describe('assessment journey', () => {
  let server;
  let browser;
  const contexts = [];

  before(async () => {
    server = await startServer();
    browser = await launch();
  }, { timeout: 120_000 });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  }, { timeout: 30_000 });

  /** A signed-in person in their own browser context. */
  async function person({ email, password }) {
    const context = await browser.newContext({ baseURL: server.baseUrl, acceptDownloads: true });
    contexts.push(context);
    // Share links lead off-site; answer them here so the test never needs the network.
    await context.route(/^https:\/\/(www\.linkedin\.com|twitter\.com|www\.facebook\.com)\//, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>share</title><p>share</p>' }),
    );
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await visit(page, '/login', 'sign-in');
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(password);
    await clickAndLoad(page, page.locator('form[action="/login"] button[type="submit"]'), 'signed-in');
    return page;
  }

  async function open(page, target) {
    const response = await page.goto(target);
    assert.ok(response, `no response for ${target}`);
    assert.equal(response.status(), 200, `GET ${target} answered ${response.status()}`);
    return response;
  }

  let shots = 0;

  /** A screenshot, then axe-core: every page the journey visits goes through here. */
  async function look(page, name) {
    shots += 1;
    await screenshot(page, `journey-${String(shots).padStart(2, '0')}-${name}`);
    const violations = await checkA11y(page);
    if (violations.length) console.log(`axe: ${name} (${page.url()})\n${formatViolations(violations)}`);
    assert.equal(violations.length, 0, `${name} (${page.url()}) has serious/critical accessibility violations:\n${formatViolations(violations)}`);
  }

  /** Opens a page, then checks it. */
  async function visit(page, target, name) {
    await open(page, target);
    await look(page, name);
  }

  /** Clicks, waits for the navigation that follows (a form post and its redirect), checks the page. */
  async function clickAndLoad(page, locator, name) {
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
    assert.ok(response && response.status() < 400, `${name}: ${page.url()} answered ${response?.status()}:\n${await bodyText(page)}`);
    await look(page, name);
    return page;
  }

  /** The text of the body, squashed. */
  const bodyText = async (page) => squash(await page.locator('body').innerText());

  /** A double-blind page must not name the learner. */
  async function assertBlind(page, what) {
    const html = await page.content();
    for (const trace of [LEARNER.name, 'Lena', 'Fischer', LEARNER.email]) {
      assert.ok(!html.includes(trace), `${what} gives the learner away with ${JSON.stringify(trace)}`);
    }
  }

  /** The assessor scores every criterion at `level` (a number from 1) with comments. */
  async function score(page, level, comment, feedback) {
    const groups = page.locator('fieldset.criterion-score');
    const count = await groups.count();
    assert.ok(count >= 1, 'the scoring form has no criteria');
    for (let i = 0; i < count; i++) {
      await page.locator(`input[name="level_${i}"][value="${level}"]`).check();
      await page.locator(`#comment-${i}`).fill(`${comment} (criterion ${i + 1})`);
    }
    await page.locator('#feedback').fill(feedback);
    await clickAndLoad(page, page.locator('form.scoring-form button[type="submit"]'), 'assessed');
  }

  /** Opens the one submission in the assessor's queue and returns its code. */
  async function openFromQueue(page) {
    await visit(page, '/assess', 'queue');
    const link = page.locator('#assess-queue a.submission-code').first();
    await link.waitFor();
    const code = squash(await link.textContent());
    assert.match(code, /^S-[0-9A-Z]{4}-[0-9A-Z]{4}$/, `a submission code, got ${JSON.stringify(code)}`);
    await clickAndLoad(page, link, 'scoring');
    return code;
  }

  it('a learner earns a badge through "not yet", revision and a pass', { timeout: TEST_TIMEOUT }, async () => {
    const learner = await person(LEARNER);
    const assessor = await person(ASSESSOR);

    // 1. The learner applies for a micro-badge.
    await visit(learner, `/catalog?q=${encodeURIComponent('API documentation')}`, 'catalog');
    const card = learner.locator('#results .achievement-link', { hasText: BADGE }).first();
    await clickAndLoad(learner, card, 'achievement');
    assert.match(squash(await learner.locator('h1').first().textContent()), new RegExp(BADGE));
    await clickAndLoad(learner, learner.locator('form[action$="/apply"] button[type="submit"]'), 'draft');
    assert.match(new URL(learner.url()).pathname, /^\/submissions\/[0-9a-f-]{36}$/, `applying leads to the draft, got ${learner.url()}`);
    const submissionPath = new URL(learner.url()).pathname;

    // 2. Overview, reflection and a link, saved.
    await learner.locator('#overview').fill('I documented the orders API for the Northbridge shop.\nA getting-started guide and reference pages for six endpoints.');
    await learner.locator('#reflection').fill('A first-time reader tested the guide. Authentication was hard to follow.');
    await learner.locator('#links').fill('https://docs.example.org/orders');
    await clickAndLoad(learner, learner.locator('#submission-form button[type="submit"]:not([formaction])'), 'draft-saved');
    assert.equal(await learner.locator('#overview').inputValue(), 'I documented the orders API for the Northbridge shop.\nA getting-started guide and reference pages for six endpoints.');

    // 3. A file of evidence.
    await learner.locator('#file_title').fill('Notes from the tester');
    await learner.locator('#file').setInputFiles({ name: 'tester-notes.txt', mimeType: 'text/plain', buffer: Buffer.from('The quick start worked; the auth page did not.\n') });
    await clickAndLoad(learner, learner.locator('form[action$="/files"] button[type="submit"]'), 'file-added');
    assert.ok((await bodyText(learner)).includes('Notes from the tester'), 'the uploaded file is listed');

    // 4. Submit: the decision date is shown.
    await clickAndLoad(learner, learner.locator('button[formaction$="/submit"]'), 'submitted');
    await learner.locator('#due-title').waitFor();
    assert.match(squash(await learner.locator('#due-title').textContent()), /^Decision due by \d{1,2} \w+ \d{4}$/);

    // 5. The assessor opens the queue (double-blind) and says "not yet".
    await visit(assessor, '/assess', 'queue');
    await assertBlind(assessor, 'the assessor queue');
    assert.ok((await bodyText(assessor)).includes(BADGE), 'the queue names the achievement');
    const code = await openFromQueue(assessor);
    await assertBlind(assessor, 'the scoring page');
    assert.ok((await bodyText(assessor)).includes('I documented the orders API'), 'the scoring page shows the overview');
    const linkRel = await assessor.locator('.evidence-links a').first().getAttribute('rel');
    assert.equal(linkRel, 'noopener nofollow ugc');
    const download = assessor.locator('.artifact a[href*="/artifacts/"]').first();
    assert.match(await download.getAttribute('href'), /^\/assess\/[0-9a-f-]{36}\/artifacts\/[0-9a-f-]{36}$/);
    await score(assessor, 2, 'Covers the endpoints but a newcomer gets stuck', 'Not yet: rewrite the authentication section and test it again.');
    assert.ok((await bodyText(assessor)).includes('Not yet — feedback sent.'), 'the queue confirms the feedback was sent');

    // 6. The learner reads the feedback, revises and resubmits.
    await visit(learner, submissionPath, 'feedback');
    await learner.locator('#feedback-title').waitFor();
    const feedback = await bodyText(learner);
    assert.ok(feedback.includes('rewrite the authentication section'), 'the overall feedback is shown');
    assert.ok(feedback.includes('Covers the endpoints but a newcomer gets stuck'), 'criterion comments are shown');
    assert.ok(!feedback.includes(ASSESSOR.name), 'the learner never sees who assessed them');
    await learner.locator('#overview').fill(
      'I documented the orders API for the Northbridge shop.\nA getting-started guide and reference pages for six endpoints.\nI rewrote the authentication section with a worked example.',
    );
    await learner.locator('#reflection').fill('A first-time reader tested the guide twice. After the rewrite they signed in unaided.');
    await clickAndLoad(learner, learner.locator('button[formaction$="/submit"]'), 'resubmitted');
    await learner.locator('#due-title').waitFor();

    // 7. The assessor sees what changed and passes.
    assert.equal(await openFromQueue(assessor), code, 'the resubmission goes back to the same assessor under the same code');
    const added = squash(await assessor.locator('#changes .diff-added').allInnerTexts().then((t) => t.join(' ')));
    assert.ok(added.includes('I rewrote the authentication section with a worked example.'), `the new line is marked as added: ${added}`);
    const removed = squash(await assessor.locator('#changes .diff-removed').allInnerTexts().then((t) => t.join(' ')));
    assert.ok(removed.includes('Authentication was hard to follow.'), `the old reflection is marked as removed: ${removed}`);
    assert.ok((await bodyText(assessor)).includes('Earlier feedback'), 'the earlier feedback is shown');
    await assertBlind(assessor, 'the resubmission');
    await score(assessor, 3, 'Now a newcomer succeeds', 'Well done: the rewrite works.');
    assert.ok((await bodyText(assessor)).includes('Pass — the badge was issued.'), 'the queue confirms the badge was issued');

    // 8. The learner opens the award page: verified, and private until they choose otherwise.
    await visit(learner, submissionPath, 'passed');
    await clickAndLoad(learner, learner.locator('a', { hasText: 'See your badge' }).first(), 'award');
    const awardUrl = learner.url();
    assert.match(new URL(awardUrl).pathname, /^\/awards\/[0-9a-f-]{36}$/);
    assert.equal(squash(await learner.locator('#verification-title').textContent()), 'Verified');
    assert.ok(await learner.locator('#privacy-private').isChecked(), 'a new award starts private');
    assert.equal(await learner.locator('.share-list').count(), 0, 'a private award has nothing to share');
    // The learner makes it public with the privacy control.
    await learner.locator('#privacy-public').check();
    await clickAndLoad(learner, learner.locator('form[action$="/privacy"] button[type="submit"]'), 'award-public');
    assert.ok(await learner.locator('#privacy-public').isChecked(), 'the award is now public');

    // 9. Share: LinkedIn "Add to profile" carries the certification.
    const linkedin = learner.locator('.share-list a', { hasText: 'LinkedIn' }).first();
    const [popup] = await Promise.all([learner.waitForEvent('popup'), linkedin.click()]);
    // The button counts the share on the way, then Cairn sends the popup on to LinkedIn.
    await popup.waitForURL(/^https:\/\/www\.linkedin\.com\//);
    const share = new URL(popup.url());
    await popup.close();
    assert.equal(`${share.origin}${share.pathname}`, 'https://www.linkedin.com/profile/add');
    assert.equal(share.searchParams.get('startTask'), 'CERTIFICATION_NAME');
    assert.equal(share.searchParams.get('name'), BADGE);
    assert.equal(share.searchParams.get('organizationName'), 'Northbridge Institute of Technology');
    assert.equal(share.searchParams.get('certUrl'), awardUrl);
    assert.match(share.searchParams.get('issueYear') ?? '', /^\d{4}$/);
    // The other networks' links count the share, then send the learner on.
    for (const network of ['X', 'Facebook', 'E-mail']) {
      const href = await learner.locator('.share-list a', { hasText: `Share by ${network}` }).first().getAttribute('href');
      const sent = await learner.request.get(new URL(href, awardUrl).href, { maxRedirects: 0 });
      assert.equal(sent.status(), 303, `the ${network} link redirects`);
      const target = sent.headers()['location'];
      assert.ok(target.includes(encodeURIComponent(awardUrl)), `the ${network} link shares the award page: ${target}`);
    }

    // 10. Download the baked PNG and the JSON credential.
    const saved = {};
    for (const [kind, label] of [['png', 'Baked badge (PNG)'], ['json', 'Credential (JSON)']]) {
      const [file] = await Promise.all([learner.waitForEvent('download'), learner.locator('.download-list a', { hasText: label }).first().click()]);
      saved[kind] = path.join(ARTIFACTS_DIR, `journey-badge.${kind}`);
      await file.saveAs(saved[kind]);
    }
    const png = await fs.readFile(saved.png);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'the PNG download is a PNG');
    assert.ok(png.includes(Buffer.from('openbadgecredential')), 'the PNG is baked with the credential');
    const credential = JSON.parse(await fs.readFile(saved.json, 'utf8'));
    assert.ok([credential.type].flat().includes('OpenBadgeCredential'), `an OpenBadgeCredential: ${JSON.stringify(credential.type)}`);
    assert.equal(credential.credentialSubject?.achievement?.name, BADGE);
    assert.ok(credential.proof, 'the JSON credential is signed');

    // 11. The downloaded PNG verifies on /verify.
    await visit(learner, '/verify', 'verify');
    await learner.locator('#verify_file').setInputFiles(saved.png);
    await clickAndLoad(learner, learner.locator('form[action="/verify"] button[type="submit"]'), 'verified');
    assert.equal(squash(await learner.locator('.verdict-label').textContent()), 'Valid');
    assert.match(squash(await learner.locator('#verdict-title').textContent()), /^Valid: .+, issued by /);

    // 12. The issuer's staff see the award (by code, not by name) and the mails that went out.
    const issuer = await person(ISSUER);
    await visit(issuer, '/issuer/assessment', 'assessment-dashboard');
    assert.match(new URL(issuer.url()).pathname, /^\/issuers\/[0-9a-f-]{36}\/assessment$/);
    const awards = squash(await issuer.locator('#awards-table').innerText());
    assert.ok(awards.includes(BADGE) && awards.includes(code), `the award is listed with its submission code: ${awards}`);
    await visit(issuer, '/admin/outbox', 'outbox');
    const outbox = await bodyText(issuer);
    assert.ok(outbox.includes(`Feedback on ${BADGE}`) && outbox.includes(LEARNER.email), 'the "not yet" mail to the learner is in the outbox');
    await visit(assessor, '/assess/conflicts', 'conflicts');
  });
});
