// What the browser tests share: Debian's Chromium with a fresh profile, confined to 127.0.0.1, and
// pages that fail the test on console errors, page errors, CSP violations or off-host requests.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const CHROMIUM = process.env.KURZ_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = process.env.KURZ_ARTIFACTS || path.join(REPO, 'test-artifacts', 'browser');
mkdirSync(ARTIFACTS, { recursive: true });

// Chromium headless with the flags this machine's closed network needs, and a fresh profile.
export async function launchContext(userDataDir) {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-quic',
    ],
    viewport: { width: 1280, height: 900 },
    colorScheme: 'light',
    timeout: 30_000,
  });
  // Nothing but the server under test may be contacted.
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort('blockedbyclient'));
  // Record CSP violations in the page (they also appear as console errors).
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
    });
  });
  return context;
}

// A new page that collects console errors, page errors and off-host requests. Chrome logs every
// non-2xx fetch as "Failed to load resource: ... status of N": `expectedStatuses` lists the ones
// a scenario provokes on purpose, `expectedErrors` other messages (regular expressions); any
// other console error fails the test. `setup(page)` runs before the page loads.
export async function openPage(context, url, { expectedStatuses = [], expectedErrors = [], setup } = {}) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const status = /status of (\d{3})/.exec(msg.text());
    if (status && expectedStatuses.includes(Number(status[1]))) return;
    if (expectedErrors.some((re) => re.test(msg.text()))) return;
    problems.push('console error: ' + msg.text());
  });
  page.on('pageerror', (error) => problems.push('page error: ' + error.message));
  page.on('request', (request) => {
    const u = new URL(request.url());
    if (u.protocol !== 'data:' && u.hostname !== '127.0.0.1') problems.push('off-host request: ' + request.url());
  });
  if (setup) await setup(page);
  await page.goto(url);
  return {
    page,
    async assertClean() {
      const csp = await page.evaluate(() => window.__cspViolations);
      assert.deepEqual(csp, [], 'CSP violations');
      assert.deepEqual(problems, [], 'console errors, page errors or off-host requests');
    },
  };
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, name + '.png'), fullPage: true });
}

export async function shortenThroughForm(page, url, slug) {
  await page.fill('#url', url);
  if (slug !== undefined) await page.fill('#slug', slug);
  await page.click('#submit');
}

// The code of the link in the result card, from its "Statistics" link (#stats/{code}).
export async function resultCode(page) {
  await page.waitForSelector('#result:not([hidden])');
  const hash = await page.getAttribute('#result-stats', 'href');
  assert.match(hash, /^#stats\/[A-Za-z0-9_-]+$/);
  return decodeURIComponent(hash.slice('#stats/'.length));
}

