// Sending a badge to a digital wallet (OpenID for Verifiable Credential Issuance, the
// pre-authorized code flow), at a desktop and a phone size, each on a fresh server. The demo
// graduate opens one of their active awards and follows "Add to a wallet" to the wallet page,
// which explains the steps, offers "Show the QR code" and says no wallet holds the badge yet.
// Asking for the code answers the page with the offer, shown once and never cached: a QR code
// image that loads (240 px on a desktop, 200 px on a phone), the six-digit code to type in, a
// link for a wallet on the same device and the same link in a read-only text box, and when it
// stops working. On a desktop the QR code and the six-digit code sit side by side; on a phone
// they are stacked. The offer on the page works end to end: Node, as the wallet, takes the
// pre-authorized code from the page's link and the code the page shows, redeems them at the
// token endpoint and collects the Data Integrity credential with a key proof signed by a fresh
// Ed25519 did:key (the code works once). The wallet page then lists that wallet, by its
// shortened DID, with the format. Signed out, the page sends the browser to sign in; to the
// issuer's staff, someone else's award's wallet page is "Not found". Once the issuer revokes the
// badge, the page says so in a warning, shows no form, and asking for a code (from a page
// loaded before) shows the warning instead of an offer. Every page is checked with axe-core, for
// sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   award page    section.owner-panel h3 ("Digital wallet"), a[href="/awards/{id}/wallet"]
//   wallet page   p.breadcrumbs a[href="/backpack"] a[href="/awards/{id}"], h1 ("Add “…” to a wallet"),
//                 ol.wallet-how li, form[action="/awards/{id}/wallet"] button[type="submit"],
//                 ul.wallet-pickups li .wallet-holder, .warning
//   the offer     .wallet-offer-grid, figure.wallet-qr img, p.tx-code .tx-code-digits,
//                 a[href^="openid-credential-offer://"], textarea#offer-link[readonly], p.hint
//   sign-in page  form[action="/login"] #email #password
//   error page    .problem-page .eyebrow, h1

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DEMO, api, logIn } from './lib/api.mjs';
import { SIZES, launch } from './lib/browser.mjs';
import { pageKit, squash } from './lib/pages.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 300_000;

const PRE_AUTHORIZED = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';
const LDP = 'OpenBadgeCredential_ldp_vc';
const EMPTY = 'No wallet has collected this badge yet.';

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
/** Base58 (the Bitcoin alphabet), as multibase's `z` prefix names it. */
function base58btc(bytes) {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let text = '';
  while (n > 0n) {
    text = BASE58[Number(n % 58n)] + text;
    n /= 58n;
  }
  for (const byte of bytes) {
    if (byte !== 0) break;
    text = `1${text}`;
  }
  return text;
}

/** A wallet's key: a fresh Ed25519 key pair, its did:key (multicodec 0xed01) and the kid of the key. */
function walletKey() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  const multibase = `z${base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), raw]))}`;
  const did = `did:key:${multibase}`;
  return { did, multibase, kid: `${did}#${multibase}`, privateKey };
}

/** An `openid4vci-proof+jwt` by `key` for the credential issuer `aud` and the nonce it gave. */
function keyProof(key, aud, nonce) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ typ: 'openid4vci-proof+jwt', alg: 'EdDSA', kid: key.kid })}.${part({ aud, iat: Math.floor(Date.now() / 1000), nonce })}`;
  return `${input}.${crypto.sign(null, Buffer.from(input), key.privateKey).toString('base64url')}`;
}

/** A POST as a wallet sends it (a form or JSON); returns the status and the JSON answer. */
async function post(url, { form, json, token } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  } else if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let answer = null;
  try {
    answer = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: response.status, answer, text };
}

describe('adding a badge to a wallet', () => {
  for (const size of SIZES) {
    const at = `${size.width}×${size.height}`;

    describe(`at ${at}`, () => {
      let server;
      let browser;
      let kit;
      let learner; // the graduate's page, signed in
      let graduate; // the graduate's API token
      let award; // the graduate's active award, as GET /api/v1/awards lists it
      let name; // its badge's name
      let shown; // the offer the page showed: { url, txCode }
      let key; // the wallet's key that collected the badge
      const walletPath = () => `/awards/${award.id}/wallet`;
      const body = async (page) => squash(await page.locator('body').innerText());
      const showForm = (page) => page.locator(`form[action="${walletPath()}"]`);

      before(async () => {
        server = await startServer();
        browser = await launch();
        kit = pageKit(browser, server.baseUrl, size, 'wallet');
        graduate = await logIn(server.baseUrl, DEMO.graduate);
        const mine = await api(server.baseUrl, 'GET', '/api/v1/awards', { token: graduate });
        const now = Date.now();
        award = (mine.items ?? mine).find((a) => a.status === 'active' && !a.renewed_by && (!a.valid_until || Date.parse(a.valid_until) > now));
        assert.ok(award, `the demo graduate holds no active award: ${JSON.stringify(mine)}`);
        name = (await api(server.baseUrl, 'GET', `/api/v1/achievements/${award.achievement_id}`, { token: graduate })).name;
        assert.ok(name, 'the award’s badge has a name');
        learner = await kit.newPage();
        await kit.signIn(learner, DEMO.graduate, 'graduate');
      }, { timeout: 120_000 });

      after(async () => {
        for (const context of kit?.contexts ?? []) await context.close().catch(() => {});
        await browser?.close();
        await server?.stop();
      }, { timeout: 30_000 });

      it(`the award page leads to the wallet page at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        const page = learner;
        await kit.visit(page, `/awards/${award.id}`, 'award');
        assert.equal(squash(await page.locator('h1').innerText()), name);
        const panel = page.locator('section.owner-panel');
        assert.ok((await panel.locator('h3').allInnerTexts()).map(squash).includes('Digital wallet'), 'the owner panel has a "Digital wallet" heading');
        const link = panel.locator(`a[href="${walletPath()}"]`);
        assert.equal(await link.count(), 1, 'one "Add to a wallet" link');
        assert.equal(squash(await link.innerText()), 'Add to a wallet');

        await kit.clickAndLoad(page, link, 'page');
        assert.equal(new URL(page.url()).pathname, walletPath());
        assert.equal(squash(await page.locator('h1').innerText()), `Add “${name}” to a wallet`);
        const crumbs = page.locator('p.breadcrumbs');
        assert.equal(await crumbs.locator('a[href="/backpack"]').count(), 1, 'the breadcrumbs lead to the backpack');
        assert.equal(squash(await crumbs.locator(`a[href="/awards/${award.id}"]`).innerText()), name);
        assert.equal(await page.locator('ol.wallet-how li').count(), 3, 'three steps under "How it works"');
        assert.equal(squash(await showForm(page).locator('button[type="submit"]').innerText()), 'Show the QR code');
        assert.match(await body(page), /Wallets that hold this badge/);
        assert.match(await body(page), new RegExp(EMPTY.replace(/\./g, '\\.')));
        assert.equal(await page.locator('ul.wallet-pickups').count(), 0, 'no wallet is listed yet');
        assert.equal(await page.locator('.warning').count(), 0, 'no warning for an active badge');
        assert.equal(await page.locator('figure.wallet-qr').count(), 0, 'no offer before one is asked for');
      });

      it(`"Show the QR code" shows the offer, laid out for the size, at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        const page = learner;
        await kit.visit(page, walletPath(), 'ask');
        const [answer] = await Promise.all([
          page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === walletPath()),
          kit.clickAndLoad(page, showForm(page).locator('button[type="submit"]'), 'offer'),
        ]);
        assert.match((await answer.allHeaders())['cache-control'] ?? '', /no-store/, 'the offer holds a secret: the page is not cached');
        assert.equal(new URL(page.url()).pathname, walletPath());
        assert.equal(await showForm(page).count(), 0, 'the offer replaces the form');

        // The QR code: an SVG image that loads, at its size.
        const qr = page.locator('figure.wallet-qr img');
        assert.equal(await qr.count(), 1, 'one QR code');
        const image = await qr.evaluate((img) => ({ src: img.getAttribute('src'), alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth }));
        assert.match(image.src, /^data:image\/svg\+xml;base64,/);
        assert.match(Buffer.from(image.src.split(',')[1], 'base64').toString('utf8'), /<svg[\s>]/, 'the data is an SVG');
        assert.ok(image.complete && image.naturalWidth > 0, `the QR code image loaded: ${JSON.stringify({ ...image, src: undefined })}`);
        assert.equal(image.alt, `QR code of the wallet offer for ${name}`);
        const qrBox = await qr.boundingBox();
        const side = size.name === 'phone' ? 200 : 240;
        assert.ok(Math.abs(qrBox.width - side) <= 1 && Math.abs(qrBox.height - side) <= 1, `the QR code is ${side} px square: ${JSON.stringify(qrBox)}`);

        // The six-digit code, the link and the same link to copy.
        const txCode = page.locator('p.tx-code .tx-code-digits');
        shown = { txCode: squash(await txCode.innerText()) };
        assert.match(shown.txCode, /^\d{6}$/, 'a six-digit code');
        const deepLink = page.locator('a[href^="openid-credential-offer://"]');
        assert.equal(await deepLink.count(), 1, 'one link for a wallet on this device');
        assert.equal(squash(await deepLink.innerText()), 'Open in a wallet on this device');
        shown.url = await deepLink.getAttribute('href');
        const copy = page.locator('textarea#offer-link');
        assert.equal(await copy.getAttribute('readonly'), '', 'the offer link is read-only');
        assert.equal(await copy.inputValue(), shown.url, 'the text box holds the same link');
        assert.equal(squash(await page.locator('label[for="offer-link"]').innerText()), 'Offer link');
        const hints = squash((await page.locator('.wallet-offer p.hint').allInnerTexts()).join(' '));
        assert.match(hints, /work once, for \d+ minutes \(until [^)]+\)/, 'the page says when the offer stops working');

        // Side by side on a desktop, one above the other on a phone.
        const codeBox = await txCode.boundingBox();
        const columns = await page.locator('.wallet-offer-grid').evaluate((grid) => getComputedStyle(grid).gridTemplateColumns.split(' ').length);
        if (size.name === 'phone') {
          assert.equal(columns, 1, 'one column on a phone');
          assert.ok(codeBox.y >= qrBox.y + qrBox.height, `on a phone the code is below the QR code: ${JSON.stringify({ qrBox, codeBox })}`);
        } else {
          assert.equal(columns, 2, 'two columns on a desktop');
          assert.ok(codeBox.x >= qrBox.x + qrBox.width, `on a desktop the code is right of the QR code: ${JSON.stringify({ qrBox, codeBox })}`);
          assert.ok(codeBox.y < qrBox.y + qrBox.height, `on a desktop the code is beside the QR code: ${JSON.stringify({ qrBox, codeBox })}`);
        }
      });

      it(`a wallet redeems the page's offer and the page lists it at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        assert.ok(shown?.url && shown?.txCode, 'the page showed an offer (the test before)');
        // The link names the offer by reference: the wallet fetches it first.
        const link = new URL(shown.url);
        const offerUri = link.searchParams.get('credential_offer_uri');
        assert.ok(offerUri?.startsWith(`${server.baseUrl}/oid4vci/offers/`), shown.url);
        const fetched = await fetch(offerUri);
        assert.equal(fetched.status, 200, `the offer is served at ${offerUri}`);
        const offer = await fetched.json();
        assert.equal(offer.credential_issuer, server.baseUrl, 'the offer names this server');
        assert.ok(offer.credential_configuration_ids.includes(LDP), JSON.stringify(offer));
        const grant = offer.grants?.[PRE_AUTHORIZED];
        assert.ok(grant?.['pre-authorized_code'], `a pre-authorized code: ${JSON.stringify(offer)}`);
        assert.deepEqual({ mode: grant.tx_code?.input_mode, length: grant.tx_code?.length }, { mode: 'numeric', length: 6 });

        // The wallet: the code and the six digits for an access token, then the credential.
        const redeem = { grant_type: PRE_AUTHORIZED, 'pre-authorized_code': grant['pre-authorized_code'], tx_code: shown.txCode };
        const token = await post(`${server.baseUrl}/oauth/token`, { form: redeem });
        assert.equal(token.status, 200, `POST /oauth/token answered ${token.status}: ${token.text}`);
        assert.ok(token.answer.access_token && token.answer.c_nonce, `an access token and a nonce: ${token.text}`);
        key = walletKey();
        const collected = await post(`${server.baseUrl}/oid4vci/credential`, {
          token: token.answer.access_token,
          json: { credential_configuration_id: LDP, proofs: { jwt: [keyProof(key, offer.credential_issuer, token.answer.c_nonce)] } },
        });
        assert.equal(collected.status, 200, `POST /oid4vci/credential answered ${collected.status}: ${collected.text}`);
        const credential = collected.answer.credentials?.[0]?.credential;
        assert.equal(credential?.credentialSubject?.id, key.did, `the credential is bound to the wallet's key: ${collected.text.slice(0, 400)}`);
        const again = await post(`${server.baseUrl}/oauth/token`, { form: redeem });
        assert.equal(again.status, 400, `the code works once: ${again.text}`);
        assert.equal(again.answer?.error, 'invalid_grant', again.text);

        // The page lists the wallet, by its shortened DID.
        const page = learner;
        await kit.visit(page, walletPath(), 'held');
        const held = page.locator('ul.wallet-pickups li');
        assert.equal(await held.count(), 1, 'one wallet holds the badge');
        const short = `did:key:${key.multibase.slice(0, 8)}…${key.multibase.slice(-6)}`;
        assert.match(short, /^did:key:z6Mk/);
        assert.equal(squash(await held.locator('.wallet-holder').innerText()), short);
        assert.match(squash(await held.innerText()), /· Data Integrity \(JSON-LD\) · \d{1,2} [A-Z][a-z]+ \d{4}$/);
        assert.equal((await body(page)).includes(EMPTY), false, 'the empty state is gone');
        assert.equal(await showForm(page).count(), 1, 'another code may be asked for');
      });

      it(`is for the badge's holder only, and not for a revoked badge, at ${at}`, { timeout: TEST_TIMEOUT }, async () => {
        // Signed out: to sign in, and back here afterwards.
        const stranger = await kit.newPage();
        await kit.visit(stranger, walletPath(), 'signed-out');
        const signIn = new URL(stranger.url());
        assert.equal(signIn.pathname, '/login', 'signed out, the browser is sent to sign in');
        assert.equal(signIn.searchParams.get('next'), walletPath(), 'and comes back to the wallet page afterwards');

        // The issuer's staff: someone else's award, so not found (on the page and over the API).
        const staff = await kit.newPage();
        await kit.signIn(staff, DEMO.issuer, 'issuer');
        await kit.visit(staff, walletPath(), 'issuer-not-found', 404);
        assert.equal(squash(await staff.locator('.problem-page .eyebrow').textContent()), 'Error 404'); // (drawn in capitals)
        assert.equal(squash(await staff.locator('h1').innerText()), 'Not found');
        assert.equal(await staff.locator('form[action$="/wallet"]').count(), 0, 'nothing to ask for');
        assert.equal((await body(staff)).includes(name), false, 'the badge is not named');
        const issuer = await logIn(server.baseUrl, DEMO.issuer);
        const foreign = await post(`${server.baseUrl}/api/v1/awards/${award.id}/wallet-offers`, { token: issuer, json: {} });
        assert.equal(foreign.status, 404, `an offer of someone else's award: ${foreign.text}`);

        // The issuer revokes the badge while the learner's page still shows the form.
        const page = learner;
        await kit.visit(page, walletPath(), 'before-revocation');
        const revoked = await api(server.baseUrl, 'POST', `/api/v1/awards/${award.id}/status`, { token: issuer, body: { action: 'revoke', reason: 'awarded in error' } });
        assert.equal(revoked.status, 'revoked');
        await kit.clickAndLoad(page, showForm(page).locator('button[type="submit"]'), 'revoked-asked');
        assert.match(squash(await page.locator('.warning').innerText()), /revoked by its issuer/);
        assert.equal(await page.locator('figure.wallet-qr, p.tx-code, a[href^="openid-credential-offer://"], textarea#offer-link').count(), 0, 'no offer for a revoked badge');
        assert.equal(await showForm(page).count(), 0, 'no form for a revoked badge');

        await kit.visit(page, walletPath(), 'revoked');
        assert.match(squash(await page.locator('.warning').innerText()), /revoked by its issuer/);
        assert.equal(await showForm(page).count(), 0, 'no form for a revoked badge');
        assert.equal(await page.locator('ul.wallet-pickups li').count(), 1, 'the wallet that collected it is still listed');
      });
    });
  }
});
