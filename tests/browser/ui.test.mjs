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

  // The recent list refreshes by itself (every 10 s while something changes) and shows the click.
  const row = page.locator(`#recent-rows tr[data-code="${code}"]`);
  await row.locator('.clicks').filter({ hasText: /^1$/ }).waitFor({ timeout: 25_000 });
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
  await page.locator('#error').filter({ hasText: 'only contain letters' }).waitFor();
  await assertClean();
  await page.close();
});

// The /info requests of a page, with the time each was sent (ms since the page was opened).
function recordInfoRequests(page) {
  const t0 = Date.now();
  const sent = [];
  page.on('request', (request) => {
    const u = new URL(request.url());
    if (u.pathname === '/info' || u.pathname.startsWith('/info/')) sent.push({ path: u.pathname, at: Date.now() - t0 });
  });
  return sent;
}

async function waitUntil(condition, ms, what) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Requests sent within 300 ms of each other belong to one round (one per service, in parallel).
function roundsOf(sent) {
  const rounds = [];
  for (const r of sent) {
    const last = rounds[rounds.length - 1];
    if (last && r.at - last.at < 300) last.paths.push(r.path);
    else rounds.push({ at: r.at, paths: [r.path] });
  }
  return rounds;
}

test('the instances panel asks every service, shows its version, and backs off while nothing changes',
    { timeout: TEST_TIMEOUT_MS }, async () => {
  const info = await (await fetch(server.base + '/info')).json();
  let sent;
  const { page, assertClean } = await openPage(context, server.base + '/', {
    setup: (p) => {
      sent = recordInfoRequests(p);
    },
  });
  // The monolith answers /info/{service} for every service: one process, one row.
  const row = page.locator(`#instances-rows tr[data-instance="${INSTANCE_ID}"]`);
  await row.waitFor();
  assert.equal(await page.locator('#instances-rows tr').count(), 1);
  assert.equal(await row.getAttribute('data-service'), 'monolith');
  assert.equal(await row.locator('.version').textContent(), info.version);
  assert.equal(await row.locator('.share').textContent(), '100%');
  assert.equal(await page.textContent('#instances-failed'), '0');
  assert.equal(await page.textContent('#instance'), INSTANCE_ID);
  // The strip colours answers with the instance's colour.
  const colours = await page.$$eval('#instances-strip .cell:not(.empty)', (cells) =>
    [...new Set(cells.map((c) => getComputedStyle(c).backgroundColor))]);
  const swatch = await row.locator('.swatch').evaluate((s) => getComputedStyle(s).backgroundColor);
  assert.deepEqual(colours, [swatch]);

  // Nothing changes on a quiet monolith: rounds at about 0, 2, 6, 14 s (2 s, then doubling).
  await page.waitForTimeout(9_000);
  const rounds = roundsOf(sent.filter((r) => r.path !== '/info'));  // the footer asks /info once
  assert.ok(rounds.length >= 2 && rounds.length <= 4, JSON.stringify(rounds));
  for (const r of rounds) {
    assert.deepEqual([...r.paths].sort(), ['/info/links', '/info/qr', '/info/redirect', '/info/stats', '/info/web']);
  }
  if (rounds.length >= 3) {
    const gaps = rounds.slice(1).map((r, i) => r.at - rounds[i].at);
    assert.ok(gaps[1] > 1.5 * gaps[0], 'the wait grows while nothing changes: ' + JSON.stringify(gaps));
  }
  assert.ok(sent.length <= 21, 'at most 4 rounds of 5 and the footer in 9 s, not 45: ' + sent.length);
  assert.ok(Number(await page.getAttribute('#instances-state', 'data-interval-ms')) >= 4000);
  assert.match(await page.textContent('#instances-state'), /Nothing changed: checking every \d+ s/);

  // Pause: no requests at all; Resume: a round at once, at the short interval again.
  await page.click('#instances-toggle');
  assert.equal(await page.textContent('#instances-toggle'), 'Resume');
  await page.waitForTimeout(300);  // let answers already in flight land
  const before = sent.length;
  await page.waitForTimeout(2_500);
  assert.equal(sent.length, before, 'no requests while paused');
  await page.click('#instances-toggle');
  await page.waitForFunction((n) => Number(document.querySelector('#instances-rows .count').textContent) > n,
      5 * rounds.length);
  assert.equal(await page.getAttribute('#instances-state', 'data-interval-ms'), '2000');
  await screenshot(page, '04-instances');
  await assertClean();
  await page.close();
});

// The Page Visibility API: a hidden tab sends nothing; visible again or focused, it checks at once.
// Headless Chromium keeps every tab visible, so the test sets document.hidden as a browser would
// and sends the same events (visibilitychange, focus) the page listens to.
test('a hidden tab polls nothing; coming back or focusing checks at once', { timeout: TEST_TIMEOUT_MS }, async () => {
  let sent;
  const { page, assertClean } = await openPage(context, server.base + '/', {
    setup: (p) => {
      sent = recordInfoRequests(p);
      return p.addInitScript(() => {
        window.__setHidden = (hidden) => {
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
          Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
          document.dispatchEvent(new Event('visibilitychange'));
        };
      });
    },
  });
  await page.locator(`#instances-rows tr[data-instance="${INSTANCE_ID}"]`).waitFor();
  const apiCalls = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/')) apiCalls.push(r.url());
  });
  await page.evaluate(() => window.__setHidden(true));
  await page.waitForTimeout(300);
  const hiddenAt = sent.length;
  apiCalls.length = 0;
  await page.waitForTimeout(12_000);  // longer than the list's 10 s and the panel's 2-8 s
  assert.equal(sent.length, hiddenAt, 'no /info requests while hidden');
  assert.deepEqual(apiCalls, [], 'no list or stats requests while hidden');
  assert.match(await page.textContent('#instances-state'), /hidden/);

  await page.evaluate(() => window.__setHidden(false));
  await waitUntil(() => sent.length >= hiddenAt + 5, 1_500, 'a round at once when visible again');
  assert.ok(apiCalls.some((u) => u.includes('/api/links')), 'the list at once when visible again');

  // Let the panel back off, then focus the window: a round at once, at 2 s again.
  await page.waitForFunction(() => Number(document.getElementById('instances-state').dataset.intervalMs) >= 4000,
      null, { timeout: 20_000 });
  const focusedAt = sent.length;
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await waitUntil(() => sent.length >= focusedAt + 5, 1_500, 'a round at once on focus');
  await page.waitForTimeout(300);
  assert.equal(await page.getAttribute('#instances-state', 'data-interval-ms'), '2000');
  await assertClean();
  await page.close();
});

// What a load balancer in front of several instances of several services looks like to the page:
// /info/redirect answers from three simulated replicas (one a newer version), /info/links from a
// simulated links instance, the others from the real monolith; every eighth request fails.
test('the instances panel shows every service\'s instances with their versions, and counts failures',
    { timeout: TEST_TIMEOUT_MS }, async () => {
  const redirects = [['kurz-redirect.2', '1.4.0'], ['kurz-redirect.3', '1.4.0'], ['kurz-redirect.4', '1.5.0-rc1']];
  let n = 0;
  let r = 0;
  const { page, assertClean } = await openPage(context, server.base + '/', {
    expectedErrors: [/ERR_CONNECTION_REFUSED/],
    setup: (p) => p.route((url) => url.pathname.startsWith('/info/'), (route) => {
      n += 1;
      if (n % 8 === 0) return route.abort('connectionrefused');
      const path = new URL(route.request().url()).pathname;
      let answer = null;
      if (path === '/info/redirect') {
        const [id, version] = redirects[r++ % redirects.length];
        answer = { service: 'redirect', version, stage: '3', instance: id };
      } else if (path === '/info/links') {
        answer = { service: 'links', version: '1.4.0', stage: '3', instance: 'kurz-links.1' };
      }
      if (!answer) return route.continue();
      return route.fulfill({
        status: 200,
        headers: { 'Content-Type': 'application/json', 'X-Instance-Id': answer.instance },
        body: JSON.stringify(answer),
      });
    }),
  });
  await page.waitForFunction(() => Number(document.getElementById('instances-failed').textContent) >= 1 &&
      document.querySelectorAll('#instances-rows tr').length === 5, null, { timeout: 30_000 });
  const rows = await page.$$eval('#instances-rows tr', (trs) => trs.map((tr) => ({
    service: tr.dataset.service,
    id: tr.dataset.instance,
    version: tr.querySelector('.version').textContent,
    count: Number(tr.querySelector('.count').textContent),
    colour: getComputedStyle(tr.querySelector('.swatch')).backgroundColor,
  })));
  const byId = Object.fromEntries(rows.map((row) => [row.id, row]));
  assert.deepEqual(Object.keys(byId).sort(),
      ['kurz-links.1', 'kurz-redirect.2', 'kurz-redirect.3', 'kurz-redirect.4', INSTANCE_ID].sort());
  assert.deepEqual([byId['kurz-redirect.4'].service, byId['kurz-redirect.4'].version], ['redirect', '1.5.0-rc1']);
  assert.deepEqual([byId['kurz-redirect.2'].service, byId['kurz-redirect.2'].version], ['redirect', '1.4.0']);
  assert.deepEqual([byId['kurz-links.1'].service, byId['kurz-links.1'].version], ['links', '1.4.0']);
  assert.equal(byId[INSTANCE_ID].service, 'monolith');
  assert.ok(rows.every((row) => row.count > 0), JSON.stringify(rows));
  assert.equal(new Set(rows.map((row) => row.colour)).size, 5, 'one colour per instance');
  assert.ok(await page.locator('#instances-strip .cell.fail').count() >= 1);
  await screenshot(page, '05-instances-behind-a-load-balancer');
  await assertClean();
  await page.close();
});

test('the slug check refuses what the server refuses, before any request', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { page, assertClean } = await openPage(context, server.base + '/', { expectedStatuses: [409] });
  const posts = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === '/api/links') posts.push(req.postDataJSON().slug);
  });
  // [slug, what the page says, or null when the page sends it and the server takes it]
  const cases = [
    ['-leading-dash', 'must start with a letter or a digit'],
    ['_leading-underscore', 'must start with a letter or a digit'],
    ['ab', '3 to 64 characters'],
    ['sp ace', 'only contain letters'],
    ['ümlaut', 'only contain letters'],
    ['trailing-dash-', null],
    ['9-digits_first', null],
  ];
  // Longer than 64 cannot be typed (maxlength); the server refuses it too.
  assert.equal(await page.getAttribute('#slug', 'maxlength'), '64');
  const long = await fetch(server.base + '/api/links', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ url: TARGET, slug: 'x'.repeat(65) }),
  });
  assert.equal(long.status, 400);
  await long.arrayBuffer();
  for (const [slug, message] of cases) {
    // The server's verdict on the same slug, straight from the API.
    const apiOnly = await fetch(server.base + '/api/links', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: TARGET, slug }),
    });
    const before = posts.length;
    await page.fill('#url', '');
    await shortenThroughForm(page, TARGET + '/slug', slug);
    if (message) {
      await page.locator('#error').filter({ hasText: message }).waitFor();
      assert.equal(await page.getAttribute('#slug', 'aria-invalid'), 'true', slug);
      assert.equal(posts.length, before, slug + ': no request');
      assert.equal(apiOnly.status, 400, slug + ': the server refuses it too');
      assert.equal((await apiOnly.json()).error.code, 'invalid_slug');
    } else {
      // The page sends it; the API has just taken it, so the answer is 409 (taken), not 400.
      await page.locator('#error').filter({ hasText: 'already taken' }).waitFor();
      assert.equal(posts.length, before + 1, slug + ': sent');
      assert.equal(apiOnly.status, 201, slug + ': the server takes it');
    }
  }
  await assertClean();
  await page.close();
});

test('delete a link from the recent list', { timeout: TEST_TIMEOUT_MS }, async () => {
  const created = await fetch(server.base + '/api/links', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ url: TARGET + '/to-delete', slug: 'to-delete' }),
  });
  assert.equal(created.status, 201);
  const { page, assertClean } = await openPage(context, server.base + '/');
  const row = page.locator('#recent-rows tr[data-code="to-delete"]');
  await row.waitFor();
  // Dismissed: nothing happens.
  page.once('dialog', (dialog) => dialog.dismiss());
  await row.locator('button.delete-button').click();
  await page.waitForTimeout(300);
  assert.equal((await fetch(server.base + '/api/links/to-delete')).status, 200);
  // Confirmed: the link is gone from the list and from the server.
  let question = '';
  page.once('dialog', (dialog) => {
    question = dialog.message();
    return dialog.accept();
  });
  await row.locator('button.delete-button').click();
  await page.locator('#recent-message').filter({ hasText: 'Deleted “to-delete”' }).waitFor();
  assert.match(question, /to-delete/);
  await row.waitFor({ state: 'detached' });
  assert.equal((await fetch(server.base + '/api/links/to-delete')).status, 404);
  assert.equal((await fetch(server.base + '/to-delete', { redirect: 'manual' })).status, 404);
  await screenshot(page, '07-deleted');
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

    const { page, assertClean } = await openPage(context, keyed.base + '/', { expectedStatuses: [401, 403] });
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

    // Deleting sends the key. A stale key (changed on the server, or in another tab): 401, the
    // key field comes back, and with the right key the deletion goes through.
    page.on('dialog', (dialog) => dialog.accept());
    await page.evaluate(() => sessionStorage.setItem('kurz.apiKey', 'stale'));
    await page.locator('#recent-rows tr[data-code="keyed-link"] button.delete-button').click();
    await page.locator('#recent-message').filter({ hasText: 'not accepted for deleting “keyed-link”' }).waitFor();
    assert.ok(await page.locator('#key-form').isVisible());
    assert.equal(await page.evaluate(() => document.activeElement.id), 'api-key');
    await page.fill('#api-key', 'k3y-for-the-browser-test');
    await page.press('#api-key', 'Enter');
    await page.waitForSelector('#key-form', { state: 'hidden' });
    // A proxy in front that forbids deleting (403): said so, the link stays.
    await page.route((url) => url.pathname === '/api/links/keyed-link', (route) =>
      route.request().method() === 'DELETE'
        ? route.fulfill({ status: 403, contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'forbidden', message: 'the request was refused' } }) })
        : route.continue());
    await page.locator('#recent-rows tr[data-code="keyed-link"] button.delete-button').click();
    await page.locator('#recent-message').filter({ hasText: 'API key was refused for this action' }).waitFor();
    await page.unrouteAll();
    await page.locator('#recent-rows tr[data-code="keyed-link"] button.delete-button').click();
    await page.locator('#recent-message').filter({ hasText: 'Deleted “keyed-link”' }).waitFor();
    const gone = await fetch(keyed.base + '/api/links/keyed-link');
    assert.equal(gone.status, 404);
    await screenshot(page, '08-deleted-with-key');

    await page.click('#forget-key');
    await page.waitForSelector('#key-form:not([hidden])');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('kurz.apiKey')), null);
    await assertClean();
    await page.close();
  } finally {
    await stopMonolith(keyed);
  }
});
