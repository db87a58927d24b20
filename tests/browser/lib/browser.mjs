// Debian's Chromium driven by playwright-core (which never downloads a browser),
// plus screenshots and an axe-core accessibility check.

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

/** tests/browser/artifacts/ (git-ignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** Launches headless Chromium: $CHROMIUM_PATH or /usr/bin/chromium. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

/** Saves a full-page PNG as tests/browser/artifacts/NAME.png and returns its path. */
export async function screenshot(page, name) {
  await fs.mkdir(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, name.endsWith('.png') ? name : `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

let axeSource;

/**
 * Runs axe-core on the page and returns its violations of impact
 * `serious` or `critical` (an empty array when there are none).
 *
 * axe is injected with page.evaluate rather than page.addScriptTag: an inline
 * <script> tag is blocked by a Content-Security-Policy without
 * 'unsafe-inline' (which Cairn's pages may well send), while evaluate runs
 * through the DevTools protocol, which CSP does not restrict.
 */
export async function checkA11y(page) {
  const hasAxe = () => page.evaluate(() => typeof window.axe?.run === 'function');
  if (!(await hasAxe())) {
    axeSource ??= await fs.readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
    await page.evaluate(axeSource);
    if (!(await hasAxe())) throw new Error('axe-core did not load into the page');
  }
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run(document);
    return results.violations;
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** A readable listing of axe violations, for assertion messages. */
export function formatViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => `    ${n.target.join(' ')}\n      ${n.failureSummary?.replace(/\n/g, '\n      ') ?? ''}`)
        .join('\n');
      return `- [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`;
    })
    .join('\n');
}

/** The two sizes every page is checked at: a desktop and a phone. */
export const SIZES = [
  { name: 'desktop', width: 1366, height: 900 },
  { name: 'phone', width: 390, height: 844 },
];

/**
 * What every page a test visits goes through: a screenshot saved as `shot`, no sideways
 * scrolling, and no serious or critical axe-core violation. Throws (an assertion error) on
 * either failure.
 */
export async function checkPage(page, shot) {
  await screenshot(page, shot);
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  if (scrollWidth > innerWidth) throw new assert.AssertionError({ message: `${shot} (${page.url()}) scrolls sideways: ${scrollWidth}px wide in a ${innerWidth}px window` });
  const violations = await checkA11y(page);
  if (violations.length) {
    throw new assert.AssertionError({ message: `${shot} (${page.url()}) has serious/critical accessibility violations:\n${formatViolations(violations)}` });
  }
}

/**
 * Waits (up to `timeout` ms) for an attribute that a script sets after an event to take
 * `expected`, and returns what it holds then: `toggle` events and the like are queued,
 * so the attribute changes a moment after the click that causes it.
 */
export async function settledAttribute(locator, name, expected, timeout = 2000) {
  const until = Date.now() + timeout;
  let value = await locator.getAttribute(name);
  while (value !== expected && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await locator.getAttribute(name);
  }
  return value;
}
