// kurz web UI: the live "instances" panel. A steady stream of light requests (GET /info, five a
// second, never cached) goes through the load balancer; each answer is drawn in a colour derived
// from its X-Instance-Id, so that while a service is scaled, rolling-updated or killed, people
// watch the traffic move between instances.
//
// Assumption: on the monolith every route is served by the one process. In the stage 3 stack,
// HAProxy (marathon-lb on Marathon) routes `/info` to the `redirect` backend, so this panel shows
// the redirect instances: the service that `docker compose up --scale redirect=4` scales.
'use strict';

window.kurz.instances = (function () {
  const { $, el } = window.kurz;

  const INTERVAL_MS = 200;   // 5 requests a second
  const TIMEOUT_MS = 2000;   // slower than this counts as failed
  const MAX_IN_FLIGHT = 4;   // a stuck backend must not pile up requests
  const WINDOW = 100;        // shares are over the last 100 answers (20 s at 5/s)
  const STALE_MS = 5000;     // an instance not heard from for 5 s is shown as gone

  const strip = $('instances-strip');
  const rowsBody = $('instances-rows');
  const failedCell = $('instances-failed');
  const failedShare = $('instances-failed-share');
  const toggle = $('instances-toggle');
  const stateLine = $('instances-state');

  const instances = new Map();  // id -> {count, lastSeen, row, cells}
  const recent = [];            // the last WINDOW answers: an instance id, or null for a failure
  const cells = [];             // WINDOW strip cells, oldest first
  let failed = 0;
  let sent = 0;
  let inFlight = 0;
  let paused = false;
  let timer = null;

  // A stable colour per instance, the same in every browser: a hash of the id picks the hue and
  // one of three lightness levels. Ids differ in a few characters only ("redirect.2",
  // "redirect.3"): FNV-1a followed by a mixing step spreads them around the colour wheel.
  function colourOf(id) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < id.length; i++) {
      hash ^= id.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    hash ^= hash >>> 16;
    hash = Math.imul(hash, 0x85ebca6b);
    hash ^= hash >>> 13;
    hash = Math.imul(hash, 0xc2b2ae35);
    hash = (hash ^ (hash >>> 16)) >>> 0;
    const hue = hash % 360;
    const lightness = [38, 48, 58][Math.floor(hash / 360) % 3];
    return 'hsl(' + hue + ', 70%, ' + lightness + '%)';
  }

  function record(id) {
    recent.push(id);
    if (recent.length > WINDOW) recent.shift();
    if (id === null) {
      failed += 1;
      return;
    }
    let entry = instances.get(id);
    if (!entry) {
      entry = createRow(id);
      instances.set(id, entry);
      const ids = [...instances.keys()].sort();
      rowsBody.insertBefore(entry.row, rowsBody.children[ids.indexOf(id)] || null);
    }
    entry.count += 1;
    entry.lastSeen = Date.now();
  }

  function createRow(id) {
    const swatch = el('span', { className: 'swatch', 'aria-hidden': 'true' });
    swatch.style.backgroundColor = colourOf(id);  // CSSOM, allowed by the CSP
    const count = el('td', { className: 'num count' }, '0');
    const share = el('td', { className: 'num share' }, '0%');
    const note = el('span', { className: 'stale-note' });
    const row = el('tr', { dataset: { instance: id } },
        el('th', { scope: 'row' }, swatch, el('code', { className: 'instance-id', title: id }, id), note),
        count, share);
    return { count: 0, lastSeen: 0, row, cells: { count, share, note } };
  }

  const plural = (n, word) => n + ' ' + word + (n === 1 ? '' : 's');
  const setText = (node, text) => {
    if (node.textContent !== text) node.textContent = text;
  };

  function render() {
    const share = new Map();
    for (const id of recent) share.set(id, (share.get(id) || 0) + 1);
    const pct = (n) => (recent.length ? Math.round((100 * n) / recent.length) : 0) + '%';
    const now = Date.now();
    for (const [id, entry] of instances) {
      setText(entry.cells.count, String(entry.count));
      setText(entry.cells.share, pct(share.get(id) || 0));
      const stale = now - entry.lastSeen > STALE_MS;
      entry.row.classList.toggle('stale', stale);
      setText(entry.cells.note, stale ? ' gone ' + Math.round((now - entry.lastSeen) / 1000) + ' s' : '');
    }
    setText(failedCell, String(failed));
    setText(failedShare, pct(share.get(null) || 0));

    // Newest answer at the end of the strip.
    const offset = WINDOW - recent.length;
    cells.forEach((cell, i) => {
      const id = i >= offset ? recent[i - offset] : undefined;
      cell.classList.toggle('fail', id === null);
      cell.classList.toggle('empty', id === undefined);
      cell.style.backgroundColor = typeof id === 'string' ? colourOf(id) : '';
    });

    let state;
    if (paused) state = 'Paused.';
    else if (document.hidden) state = 'Paused while the tab is hidden.';
    else state = 'Running: ' + plural(sent, 'request') + ' sent, ' + plural(instances.size, 'instance') + ' seen.';
    setText(stateLine, state);
  }

  async function probe() {
    inFlight += 1;
    sent += 1;
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), TIMEOUT_MS);
    let id = null;
    try {
      const response = await fetch('/info', {
        cache: 'no-store', credentials: 'omit', signal: controller.signal,
        headers: { Accept: 'application/json' },
      });
      if (response.ok) {
        id = response.headers.get('X-Instance-Id');
        if (!id) {
          const info = await response.json();
          id = info && typeof info.instance === 'string' ? info.instance : 'unknown';
        } else {
          await response.arrayBuffer();  // read the body so that the connection is reused
        }
      }
    } catch (e) {
      id = null;  // refused, reset or timed out: all count as failed
    } finally {
      clearTimeout(timeout);
      inFlight -= 1;
    }
    record(id);
    render();
  }

  function tick() {
    if (paused || document.hidden) return;
    if (inFlight < MAX_IN_FLIGHT) probe();
    else {
      record(null);  // the backend is not keeping up: that is a failure too
      render();
    }
  }

  function run() {
    clearInterval(timer);
    timer = null;
    if (!paused && !document.hidden) timer = setInterval(tick, INTERVAL_MS);
    render();
  }

  function setPaused(value) {
    paused = value;
    toggle.textContent = paused ? 'Resume' : 'Pause';
    run();
  }

  function start() {
    for (let i = 0; i < WINDOW; i++) cells.push(strip.appendChild(el('span', { className: 'cell empty' })));
    toggle.addEventListener('click', () => setPaused(!paused));
    document.addEventListener('visibilitychange', run);
    // Refresh the "gone" notes even when no answer comes back at all.
    setInterval(() => {
      if (!document.hidden) render();
    }, 1000);
    run();
  }

  return { start, colourOf };
})();
