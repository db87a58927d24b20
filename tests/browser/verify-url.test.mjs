// Verifying by URL a badge hosted elsewhere, at a desktop and a phone size: an Open Badges 2.0
// hosted assertion served by a local web server (the server is started with
// CAIRN_VERIFY_ALLOW_HOSTS=127.0.0.1, as an operator allows an intranet host) is valid; an address
// with no badge and a private address get plain answers at the address field, kept on reload.
// Every page is checked with axe-core, for sideways scrolling, and saved as a screenshot.
//
// The selectors here are the contract with the server's HTML:
//   verify page   form.verify-form #verify_url, button[type="submit"], .verdict, #verify_url-error

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SIZES, checkPage, launch } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

const TEST_TIMEOUT = 180_000;

const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

/** A web server on a loopback port hosting one OB 2.0 badge and a page that is no badge. */
async function badgeHost() {
  const documents = new Map();
  const host = http.createServer((request, response) => {
    const found = documents.get(request.url);
    if (!found) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': found.type }).end(found.body);
  });
  await new Promise((resolve) => host.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${host.address().port}`;
  const context = 'https://w3id.org/openbadges/v2';
  const json = (value) => ({ type: 'application/json', body: JSON.stringify(value) });
  documents.set('/ob2/assertions/1', json({
    '@context': context, type: 'Assertion', id: `${base}/ob2/assertions/1`,
    recipient: { type: 'email', hashed: false, identity: 'ada@example.org' },
    badge: `${base}/ob2/badges/1`, verification: { type: 'hosted' }, issuedOn: '2026-01-01T00:00:00Z',
  }));
  documents.set('/ob2/badges/1', json({ '@context': context, type: 'BadgeClass', id: `${base}/ob2/badges/1`, name: 'Hosted Elsewhere', issuer: `${base}/ob2/issuers/1` }));
  documents.set('/ob2/issuers/1', json({ '@context': context, type: 'Issuer', id: `${base}/ob2/issuers/1`, name: 'Another Badge Host', url: base }));
  documents.set('/page.html', { type: 'text/html', body: '<!doctype html><title>Hello</title><p>No badge here.' });
  return { base, stop: () => new Promise((resolve) => host.close(resolve)) };
}

describe('verify by URL', () => {
  let server;
  let browser;
  let host;

  before(async () => {
    host = await badgeHost();
    process.env.CAIRN_VERIFY_ALLOW_HOSTS = '127.0.0.1';
    server = await startServer();
    delete process.env.CAIRN_VERIFY_ALLOW_HOSTS;
    browser = await launch();
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await host?.stop();
  }, { timeout: 30_000 });

  for (const size of SIZES) {
    it(`verifies a badge hosted elsewhere by its address at ${size.width}×${size.height}`, { timeout: TEST_TIMEOUT }, async () => {
      const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width: size.width, height: size.height } });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(20_000);
        const look = (name) => checkPage(page, `verify-url-${name}-${size.width}x${size.height}`);
        const verifyAddress = async (address, name, status) => {
          await page.locator('#verify_url').fill(address);
          const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('form.verify-form button[type="submit"]').click()]);
          assert.equal(response?.status(), status, `${name}: answered ${response?.status()}:\n${squash(await page.locator('body').innerText())}`);
          await look(name);
        };

        const response = await page.goto('/verify');
        assert.equal(response?.status(), 200);
        await look('form');

        await verifyAddress(`${host.base}/ob2/assertions/1`, 'valid', 200);
        assert.match(squash(await page.locator('.verdict').innerText()), /Valid/);
        assert.match(squash(await page.locator('body').innerText()), /Another Badge Host/);

        await verifyAddress(`${host.base}/page.html`, 'not-a-badge', 422);
        assert.match(squash(await page.locator('#verify_url-error').innerText()), /not an Open Badge/);
        const reloaded = await page.reload();
        assert.equal(reloaded?.status(), 422, 'reloading the failed form shows it again, not 405');
        assert.equal(await page.locator('#verify_url').inputValue(), `${host.base}/page.html`);
        await look('not-a-badge-reloaded');

        await verifyAddress('http://10.0.0.1/badge.json', 'private-address', 422);
        assert.match(squash(await page.locator('#verify_url-error').innerText()), /a private address/);
      } finally {
        await context.close().catch(() => {});
      }
    });
  }
});
