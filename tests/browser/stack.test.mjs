// The web UI against a running stack: the stage 3 compose stack through HAProxy (or any kurz
// deployment on 127.0.0.1). Run by run.sh when KURZ_BASE_URL is set:
//   KURZ_BASE_URL=http://127.0.0.1:8080 KURZ_EXPECT_INSTANCES=3 tests/browser/run.sh
// Clicks are counted asynchronously in stage 3 (redirect → stream → stats), so counts are awaited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchContext, openPage, resultCode, screenshot, shortenThroughForm } from './lib.mjs';

const BASE = process.env.KURZ_BASE_URL;
const EXPECT_INSTANCES = Number(process.env.KURZ_EXPECT_INSTANCES || '1');
const TARGET = 'http://127.0.0.1:9/stack';  // never loaded
const TIMEOUT_MS = 90_000;

let context;
let userDataDir;

before(async () => {
  assert.ok(BASE && new URL(BASE).hostname === '127.0.0.1', 'KURZ_BASE_URL must be on 127.0.0.1');
  userDataDir = mkdtempSync(path.join(tmpdir(), 'kurz-chromium-'));
  context = await launchContext(userDataDir);
});

after(async () => {
  await context?.close().catch(() => {});
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

test('through the load balancer: shorten, follow, see the click counted, see the instances',
    { timeout: TIMEOUT_MS }, async () => {
  const { page, assertClean } = await openPage(context, BASE + '/');
  const target = TARGET + '?at=' + Date.now();
  await shortenThroughForm(page, target);
  const code = await resultCode(page);
  await page.waitForFunction(() => {
    const qr = document.getElementById('qr');
    return qr.complete && qr.naturalWidth > 0;
  });

  const response = await page.request.get(BASE + '/' + code, { maxRedirects: 0 });
  assert.equal(response.status(), 302);
  assert.equal(response.headers()['location'], target);

  const row = page.locator(`#recent-rows tr[data-code="${code}"]`);
  await row.locator('.clicks').filter({ hasText: /^1$/ }).waitFor({ timeout: 30_000 });

  // The live panel: every service's instances (/info/{service} through the edge), each with its
  // version, and EXPECT_INSTANCES distinct redirect replicas.
  await page.waitForFunction((n) => document.querySelectorAll('#instances-rows tr[data-service="redirect"]').length >= n,
      EXPECT_INSTANCES, { timeout: 60_000 });
  const services = await page.$$eval('#instances-rows tr', (trs) => [...new Set(trs.map((tr) => tr.dataset.service))].sort());
  assert.deepEqual(services, ['links', 'qr', 'redirect', 'stats', 'web']);
  const versions = await page.$$eval('#instances-rows .version', (tds) => tds.map((td) => td.textContent));
  assert.ok(versions.every((v) => v && v !== '?'), JSON.stringify(versions));
  await screenshot(page, '10-stack');
  await assertClean();
  await page.close();
});
