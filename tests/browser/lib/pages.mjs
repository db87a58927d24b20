// What a browser test does with pages, in one place: open a page in a new context at a size,
// check a page (screenshot, no sideways scrolling, axe-core), visit a URL or click a link and
// check the status and the page it leads to.

import assert from 'node:assert/strict';
import { checkPage } from './browser.mjs';

/** Collapses runs of whitespace (including no-break spaces) to one space. */
export const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

/**
 * Page helpers for one test at one size; screenshots are named `PREFIX-NAME-WxH`. The contexts
 * it opens are listed in `contexts` for the test to close.
 */
export function pageKit(browser, baseUrl, size, prefix) {
  const contexts = [];
  const newPage = async () => {
    const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: size.width, height: size.height } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    return page;
  };
  /** Screenshot, no sideways scrolling, axe-core: every page goes through here. */
  const look = (page, name) => checkPage(page, `${prefix}-${name}-${size.width}x${size.height}`);
  const visit = async (page, target, name, status = 200) => {
    const response = await page.goto(target);
    assert.equal(response?.status(), status, `GET ${target} answered ${response?.status()}`);
    await look(page, name);
  };
  /** Clicks, waits for the page the click leads to, checks its status and the page. */
  const clickAndLoad = async (page, locator, name, status = 200) => {
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
    assert.equal(response?.status(), status, `${name}: ${page.url()} answered ${response?.status()}:\n${squash(await page.locator('body').innerText())}`);
    await look(page, name);
  };
  /** Signs `who` (`{ email, password }`) in on `page` through the sign-in form. */
  const signIn = async (page, who, name) => {
    await visit(page, '/login', `${name}-sign-in`);
    await page.locator('#email').fill(who.email);
    await page.locator('#password').fill(who.password);
    await clickAndLoad(page, page.locator('form[action="/login"] button[type="submit"]'), `${name}-signed-in`);
  };
  return { contexts, newPage, look, visit, clickAndLoad, signIn };
}
