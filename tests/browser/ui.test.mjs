// Browser tests of the kurz web UI: playwright-core drives Debian's Chromium (never a downloaded
// browser) against a monolith that this file starts itself. Plain Node: node:test + node:assert.
//
//   KURZ_MONOLITH   the kurz-monolith binary (required)
//   KURZ_ARTIFACTS  where screenshots and the server log go (default <repo>/test-artifacts/browser)
//   KURZ_CHROMIUM   the browser (default /usr/bin/chromium)
//
// All traffic stays on 127.0.0.1: link targets point at 127.0.0.1:9 and are never loaded (short
// links are followed with maxRedirects: 0), and the browser context aborts any other host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { ARTIFACTS, launchContext, openPage, resultCode, screenshot, shortenThroughForm } from './lib.mjs';

const MONOLITH = process.env.KURZ_MONOLITH;
const INSTANCE_ID = 'kurz-browser-test-1';
const PUBLIC_BASE_URL = 'http://kurz.test';  // shown in the UI; never resolved or loaded
const TARGET = 'http://127.0.0.1:9/landing';  // port 9 (discard): nothing listens, nothing loads
const TEST_TIMEOUT_MS = 60_000;


// ---------------------------------------------------------------------------------------------
// The monolith and the browser

const servers = new Set();

function startMonolith(name, extraEnv = {}) {
  assert.ok(MONOLITH, 'set KURZ_MONOLITH to the kurz-monolith binary');
  const child = spawn(MONOLITH, [], {
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      LISTEN_ADDRESS: '127.0.0.1',
      SHUTDOWN_DELAY_MS: '0',
      INSTANCE_ID,
      PUBLIC_BASE_URL,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.add(child);
  child.on('exit', () => servers.delete(child));
  const log = createWriteStream(path.join(ARTIFACTS, name + '.log'));
  child.stderr.pipe(log);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(name + ': no "ready" line within 15 s')), 15_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(name + ' exited early: code ' + code + ', signal ' + signal));
    });
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      log.write(line + '\n');  // keep draining stdout (access log) so that the server never blocks
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.msg === 'ready' && Number.isInteger(entry.port)) {
        clearTimeout(timer);
        resolve({ child, base: 'http://127.0.0.1:' + entry.port });
      }
    });
  });
}

async function stopMonolith(server) {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// Last resort if the runner dies: never leave a server behind.
process.on('exit', () => {
  for (const child of servers) child.kill('SIGKILL');
});

let context;     // one Chromium with a fresh profile for the whole file
let userDataDir;
let server;      // the monolith most tests use (no API key)

before(async () => {
  server = await startMonolith('monolith');
  userDataDir = mkdtempSync(path.join(tmpdir(), 'kurz-chromium-'));
  context = await launchContext(userDataDir);
});

after(async () => {
  await context?.close().catch(() => {});
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await stopMonolith(server);
});

// ---------------------------------------------------------------------------------------------
// Page helpers

// ---------------------------------------------------------------------------------------------
// Scenarios

test('shorten, follow the short link, see the click in the list and in the stats view',
    { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page, assertClean } = await openPage(context, server.base + '/');
  const target = TARGET + '?from=browser-test';
  await shortenThroughForm(page, target);
  const code = await resultCode(page);

  assert.equal(await page.textContent('#short-link'), PUBLIC_BASE_URL + '/' + code);
  assert.equal(await page.textContent('#target-url'), target);
  assert.equal(await page.textContent('#expires-at'), 'Never');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'result-title');
  await page.waitForFunction(() => {
    const qr = document.getElementById('qr');
    return qr.complete && qr.naturalWidth > 0 && qr.src.includes('/qr/');
  });
  assert.equal(await page.getAttribute('#qr-png', 'href'), '/qr/' + code + '.png');

  // Follow the short link without loading the target.
  const response = await page.request.get(server.base + '/' + code, {
    maxRedirects: 0,
    headers: { Referer: 'https://news.example/item?id=1', 'User-Agent': 'kurz-browser-test/1.0' },
  });
  assert.equal(response.status(), 302);
  assert.equal(response.headers()['location'], target);

  // The recent list refreshes by itself (every 5 s) and shows the click.
  const row = page.locator(`#recent-rows tr[data-code="${code}"]`);
  await row.locator('.clicks').filter({ hasText: /^1$/ }).waitFor({ timeout: 12_000 });
  assert.equal(await row.locator('.target').textContent(), target);
  await screenshot(page, '01-shortened-and-clicked');

  // The stats view, opened from the list.
  await row.locator('a.stats-link').click();
  await page.waitForSelector('#stats:not([hidden]) #stats-body:not([hidden])');
  assert.equal(new URL(page.url()).hash, '#stats/' + code);
  assert.equal(await page.textContent('#stats-total'), '1');
  assert.equal(await page.locator('#chart svg rect.bar').count(), 1);
  assert.match(await page.getAttribute('#chart svg', 'aria-label'), /1 click\b/);
  assert.match(await page.textContent('#referrers'), /news\.example/);
  assert.match(await page.textContent('#agents'), /kurz-browser-test\/1\.0/);
  assert.match(await page.textContent('#stats-target'), /127\.0\.0\.1:9\/landing/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'stats-title');
  await screenshot(page, '02-stats-view');

  // Close goes back; the view is deep-linkable.
  await page.click('#stats-close');
  await page.waitForSelector('#stats', { state: 'hidden' });
  await assertClean();
  await page.close();

  const deep = await openPage(context, server.base + '/#stats/' + encodeURIComponent(code));
  await deep.page.waitForSelector('#stats:not([hidden]) #stats-body:not([hidden])');
  assert.equal(await deep.page.textContent('#stats-total'), '1');
  assert.equal(await deep.page.locator('#chart svg rect.bar').count(), 1);
  await deep.assertClean();
  await deep.page.close();
});

test('shows the API\'s errors: a javascript: URL and a slug that is taken',
    { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page, assertClean } = await openPage(context, server.base + '/', { expectedStatuses: [400, 409] });

  await shortenThroughForm(page, 'javascript:alert(1)');
  await page.locator('#error').filter({ hasText: /http/i }).waitFor();
  assert.equal(await page.getAttribute('#url', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'url');
  assert.ok(await page.locator('#result').isHidden());
  assert.equal(await page.evaluate(() => typeof window.alert1), 'undefined');

  const taken = await page.request.post(server.base + '/api/links', {
    data: { url: TARGET, slug: 'taken-slug' },
  });
  assert.equal(taken.status(), 201);
  await shortenThroughForm(page, TARGET + '/other', 'taken-slug');
  await page.locator('#error').filter({ hasText: 'already taken' }).waitFor();
  assert.match(await page.textContent('#error'), /“taken-slug”/);
  assert.equal(await page.getAttribute('#slug', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('#url', 'aria-invalid'), null);
  await screenshot(page, '03-slug-taken');

  // A bad slug is caught before any request.
  await shortenThroughForm(page, TARGET, 'a b');
  await page.locator('#error').filter({ hasText: '3 to 64' }).waitFor();
  await assertClean();
  await page.close();
});

test('the instances panel fills with the monolith\'s instance, and pauses',
    { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page, assertClean } = await openPage(context, server.base + '/');
  const row = page.locator(`#instances-rows tr[data-instance="${INSTANCE_ID}"]`);
  await page.waitForFunction((id) => {
    const r = document.querySelector(`#instances-rows tr[data-instance="${id}"] .count`);
    return r && Number(r.textContent) >= 5;
  }, INSTANCE_ID);
  assert.equal(await page.locator('#instances-rows tr').count(), 1);
  assert.equal(await row.locator('.share').textContent(), '100%');
  assert.equal(await page.textContent('#instances-failed'), '0');
  assert.equal(await page.textContent('#instance'), INSTANCE_ID);
  // The strip colours answers with the instance's colour.
  const colours = await page.$$eval('#instances-strip .cell:not(.empty)', (cells) =>
    [...new Set(cells.map((c) => getComputedStyle(c).backgroundColor))]);
  const swatch = await row.locator('.swatch').evaluate((s) => getComputedStyle(s).backgroundColor);
  assert.deepEqual(colours, [swatch]);

  await page.click('#instances-toggle');
  assert.equal(await page.textContent('#instances-toggle'), 'Resume');
  await page.waitForTimeout(400);  // let answers already in flight land
  const paused = await row.locator('.count').textContent();
  await page.waitForTimeout(800);
  assert.equal(await row.locator('.count').textContent(), paused, 'no requests while paused');
  await page.click('#instances-toggle');
  await page.waitForFunction((n) => Number(document.querySelector('#instances-rows .count').textContent) > n,
      Number(paused));
  await screenshot(page, '04-instances');
  await assertClean();
  await page.close();
});

// What a load balancer in front of several instances looks like to the page: /info answers come
// from the real monolith and from three simulated instances, and every eighth request fails.
test('the instances panel shows each instance in its own colour and counts failures',
    { timeout: TEST_TIMEOUT_MS }, async () => {
  const simulated = ['kurz-redirect.2', 'kurz-redirect.3', 'kurz-redirect.4'];
  let n = 0;
  const { page, assertClean } = await openPage(context, server.base + '/', {
    expectedErrors: [/ERR_CONNECTION_REFUSED/],
    setup: (p) => p.route((url) => url.pathname === '/info', (route) => {
      n += 1;
      if (n % 8 === 0) return route.abort('connectionrefused');
      const id = n % 4 === 0 ? null : simulated[n % 4 - 1];
      if (!id) return route.continue();
      return route.fulfill({
        status: 200,
        headers: { 'Content-Type': 'application/json', 'X-Instance-Id': id },
        body: JSON.stringify({ service: 'redirect', version: '0.1.0', stage: '3', instance: id }),
      });
    }),
  });
  await page.waitForFunction(() => Number(document.getElementById('instances-failed').textContent) >= 2 &&
      document.querySelectorAll('#instances-rows tr').length === 4);
  await page.waitForTimeout(1000);
  const rows = await page.$$eval('#instances-rows tr', (trs) => trs.map((tr) => ({
    id: tr.dataset.instance,
    count: Number(tr.querySelector('.count').textContent),
    share: parseInt(tr.querySelector('.share').textContent, 10),
    colour: getComputedStyle(tr.querySelector('.swatch')).backgroundColor,
  })));
  assert.deepEqual(rows.map((r) => r.id), [INSTANCE_ID, ...simulated].sort());
  assert.ok(rows.every((r) => r.count > 0 && r.share > 0), JSON.stringify(rows));
  assert.equal(new Set(rows.map((r) => r.colour)).size, 4, 'one colour per instance');
  assert.ok(await page.locator('#instances-strip .cell.fail').count() >= 1);
  await screenshot(page, '05-instances-behind-a-load-balancer');
  await assertClean();
  await page.close();
});

test('keyboard only: Tab to the URL field, type, Enter submits', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page, assertClean } = await openPage(context, server.base + '/');
  let presses = 0;
  while (await page.evaluate(() => document.activeElement.id) !== 'url') {
    assert.ok(++presses <= 4, 'the URL field is within four Tab presses of the top');
    await page.keyboard.press('Tab');
  }
  await page.keyboard.type(TARGET + '/keyboard');
  await page.keyboard.press('Enter');
  const code = await resultCode(page);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'result-title');
  assert.equal(await page.textContent('#target-url'), TARGET + '/keyboard');
  // The result's actions are next in the tab order.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'short-link');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'copy');
  await page.keyboard.press('Enter');
  await page.locator('#copy-status').filter({ hasText: /Copied|Ctrl\+C/ }).waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');  // "Statistics"
  await page.waitForSelector('#stats:not([hidden])');
  assert.equal(new URL(page.url()).hash, '#stats/' + code);
  await assertClean();
  await page.close();
});

test('with an API key configured, the recent list asks for it and keeps it in the tab only',
    { timeout: TEST_TIMEOUT_MS }, async () => {
  const keyed = await startMonolith('monolith-api-key', { API_KEY: 'k3y-for-the-browser-test' });
  try {
    const created = await fetch(keyed.base + '/api/links', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: TARGET, slug: 'keyed-link' }),
    });
    assert.equal(created.status, 201);

    const { page, assertClean } = await openPage(context, keyed.base + '/', { expectedStatuses: [401] });
    await page.waitForSelector('#key-form:not([hidden])');
    assert.match(await page.textContent('#recent-message'), /needs an API key/);
    assert.ok(await page.locator('#recent-table').isHidden());

    await page.fill('#api-key', 'wrong');
    await page.press('#api-key', 'Enter');
    await page.locator('#recent-message').filter({ hasText: 'not accepted' }).waitFor();
    await screenshot(page, '06-api-key-refused');

    await page.fill('#api-key', 'k3y-for-the-browser-test');
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('#recent-rows tr[data-code="keyed-link"]');
    assert.ok(await page.locator('#key-form').isHidden());
    assert.equal(await page.textContent('#recent-message'), '');
    const storage = await page.evaluate(() => ({
      session: sessionStorage.getItem('kurz.apiKey'),
      local: localStorage.length,
      cookies: document.cookie,
    }));
    assert.deepEqual(storage, { session: 'k3y-for-the-browser-test', local: 0, cookies: '' });

    await page.click('#forget-key');
    await page.waitForSelector('#key-form:not([hidden])');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('kurz.apiKey')), null);
    await assertClean();
    await page.close();
  } finally {
    await stopMonolith(keyed);
  }
});
