// kurz web UI: the live "instances" panel. Each round asks every service who it is
// (GET /info/{service}: links, redirect, stats, qr, web; never cached) through the load balancer,
// and draws each answer in a colour derived from the instance id, with the version it runs, so
// that while a service is scaled, rolling-updated or killed, people watch the traffic move.
//
// Every edge routes /info/{service} to that service (docker/haproxy/stage3.cfg, swarm/,
// k8s/ingress.yaml, the marathon-lb labels); the monolith answers for every name with its one
// process, so stages 1 and 2 show one row. An edge that does not route /info/{service} (404 on
// every name) gets the old behaviour: plain /info, which the edges send to redirect.
//
// Polling is light: a round every 2 s while something changes (a new instance or version, a
// failure or a recovery), then twice as long after each round where nothing changed, up to 30 s.
// A hidden tab sends nothing; coming back to it (or focusing the window) checks at once and
// starts again at 2 s. Thirty open tabs send a few requests a minute each, not five a second.
'use strict';

window.kurz.instances = (function () {
  const { $, el } = window.kurz;

  const SERVICES = ['links', 'redirect', 'stats', 'qr', 'web'];
  const BASE_MS = 2000;      // the interval while things change
  const MAX_MS = 30000;      // the longest interval, when nothing has changed for a while
  const TIMEOUT_MS = 4000;   // slower than this counts as failed
  const WINDOW = 100;        // the strip and the shares cover the last 100 answers

  const strip = $('instances-strip');
  const rowsBody = $('instances-rows');
  const failedCell = $('instances-failed');
  const failedShare = $('instances-failed-share');
  const toggle = $('instances-toggle');
  const stateLine = $('instances-state');

  const instances = new Map();  // key (service + ' ' + id) -> {service, id, version, count, lastSeen, lastRound, row, cells}
  const recent = [];            // the last WINDOW answers: a key, or null for a failure
  const cells = [];             // WINDOW strip cells, oldest first
  let failed = 0;
  let sent = 0;
  let rounds = 0;
  let paused = false;
  let timer = null;
  let inRound = false;
  let intervalMs = BASE_MS;
  let fresh = true;             // the first round after a (re)start keeps the short interval
  let lastFailures = '';        // which probes failed in the previous round
  let probes = SERVICES.map((s) => '/info/' + s);
  const unrouted = new Set();   // probes answered 404 (an edge without /info/{service})

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

  // Records one answer; returns true when it is news (an instance not seen before, or a new version).
  function record(answer) {
    if (answer === null) {
      recent.push(null);
      if (recent.length > WINDOW) recent.shift();
      failed += 1;
      return false;
    }
    const key = answer.service + ' ' + answer.id;
    recent.push(key);
    if (recent.length > WINDOW) recent.shift();
    let news = false;
    let entry = instances.get(key);
    if (!entry) {
      entry = createRow(answer);
      instances.set(key, entry);
      const keys = [...instances.keys()].sort();
      rowsBody.insertBefore(entry.row, rowsBody.children[keys.indexOf(key)] || null);
      news = true;
    }
    if (entry.version !== answer.version) {
      entry.version = answer.version;
      entry.cells.version.textContent = answer.version;
      news = true;
    }
    entry.count += 1;
    entry.lastSeen = Date.now();
    entry.lastRound = rounds;
    return news;
  }

  function createRow(answer) {
    const swatch = el('span', { className: 'swatch', 'aria-hidden': 'true' });
    swatch.style.backgroundColor = colourOf(answer.id);  // CSSOM, allowed by the CSP
    const version = el('td', { className: 'version' }, '');
    const count = el('td', { className: 'num count' }, '0');
    const share = el('td', { className: 'num share' }, '0%');
    const note = el('span', { className: 'stale-note' });
    const row = el('tr', { dataset: { instance: answer.id, service: answer.service } },
        el('td', { className: 'service' }, answer.service),
        el('th', { scope: 'row' }, swatch, el('code', { className: 'instance-id', title: answer.id }, answer.id), note),
        version, count, share);
    return { service: answer.service, id: answer.id, version: null, count: 0, lastSeen: 0, lastRound: 0, row,
      cells: { version, count, share, note } };
  }

  const plural = (n, word) => n + ' ' + word + (n === 1 ? '' : 's');
  const setText = (node, text) => {
    if (node.textContent !== text) node.textContent = text;
  };

  // An instance is gone when the rounds since it last answered exceed what round robin over its
  // service's instances explains (two turns each, and at least three rounds).
  function isStale(entry) {
    let siblings = 0;
    for (const other of instances.values()) if (other.service === entry.service) siblings += 1;
    return rounds - entry.lastRound > Math.max(3, 2 * siblings);
  }

  function render() {
    const share = new Map();
    for (const key of recent) share.set(key, (share.get(key) || 0) + 1);
    const pct = (n) => (recent.length ? Math.round((100 * n) / recent.length) : 0) + '%';
    const now = Date.now();
    for (const [key, entry] of instances) {
      setText(entry.cells.count, String(entry.count));
      setText(entry.cells.share, pct(share.get(key) || 0));
      const stale = isStale(entry);
      entry.row.classList.toggle('stale', stale);
      setText(entry.cells.note, stale ? ' gone ' + Math.round((now - entry.lastSeen) / 1000) + ' s' : '');
    }
    setText(failedCell, String(failed));
    setText(failedShare, pct(share.get(null) || 0));

    // Newest answer at the end of the strip.
    const offset = WINDOW - recent.length;
    cells.forEach((cell, i) => {
      const key = i >= offset ? recent[i - offset] : undefined;
      cell.classList.toggle('fail', key === null);
      cell.classList.toggle('empty', key === undefined);
      cell.style.backgroundColor = typeof key === 'string' ? colourOf(instances.get(key).id) : '';
    });

    let state;
    if (paused) state = 'Paused.';
    else if (document.hidden) state = 'Paused while the tab is hidden.';
    else {
      state = plural(sent, 'request') + ' sent, ' + plural(instances.size, 'instance') + ' seen. ' +
          (intervalMs > BASE_MS ? 'Nothing changed: checking every ' : 'Checking every ') +
          Math.round(intervalMs / 1000) + ' s.';
    }
    setText(stateLine, state);
    stateLine.dataset.intervalMs = String(intervalMs);
  }

  // One request: the answer {service, id, version}, null when it failed, 'unrouted' on a 404.
  async function probe(path) {
    sent += 1;
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(path, {
        cache: 'no-store', credentials: 'omit', signal: controller.signal,
        headers: { Accept: 'application/json' },
      });
      if (response.status === 404 && path !== '/info') {
        await response.arrayBuffer();
        return 'unrouted';
      }
      if (!response.ok) {
        await response.arrayBuffer();  // read the body so that the connection is reused
        return null;
      }
      let info = null;
      try {
        info = await response.json();
      } catch (e) {
        info = null;
      }
      const str = (v) => (typeof v === 'string' && v ? v : null);
      const id = str(response.headers.get('X-Instance-Id')) || str(info && info.instance) || 'unknown';
      return {
        id,
        service: str(info && info.service) || path.replace(/^\/info\/?/, '') || 'unknown',
        version: str(info && info.version) || '?',
      };
    } catch (e) {
      return null;  // refused, reset or timed out: all count as failed
    } finally {
      clearTimeout(timeout);
    }
  }

  async function round() {
    if (inRound) return;
    inRound = true;
    rounds += 1;
    let changed = false;
    const failures = [];
    try {
      const answers = await Promise.all(probes.map(probe));
      answers.forEach((answer, i) => {
        if (answer === 'unrouted') {
          unrouted.add(probes[i]);
          return;
        }
        if (answer === null) failures.push(probes[i]);
        if (record(answer)) changed = true;
      });
      if (unrouted.size) {
        probes = probes.filter((p) => !unrouted.has(p));
        if (probes.length === 0) probes = ['/info'];  // an edge without /info/{service}
        unrouted.clear();
        changed = true;
      }
      const failureState = failures.join(' ');
      if (failureState !== lastFailures) changed = true;
      lastFailures = failureState;
      for (const entry of instances.values()) {
        // An instance that just turned stale is a change too (a replica went away).
        if (rounds - entry.lastRound === Math.max(3, 2 * countOf(entry.service)) + 1) changed = true;
      }
    } finally {
      inRound = false;
    }
    if (changed || fresh) {
      intervalMs = BASE_MS;
    } else {
      intervalMs = Math.min(MAX_MS, intervalMs * 2);
    }
    fresh = false;
    render();
    schedule();
  }

  function countOf(service) {
    let n = 0;
    for (const entry of instances.values()) if (entry.service === service) n += 1;
    return n;
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (!paused && !document.hidden) timer = setTimeout(round, intervalMs);
  }

  // Now, at the short interval again: on start, on resume, when the tab becomes visible or the
  // window gets the focus.
  function restart() {
    clearTimeout(timer);
    timer = null;
    intervalMs = BASE_MS;
    fresh = true;
    if (!paused && !document.hidden) round();
    render();
  }

  function setPaused(value) {
    paused = value;
    toggle.textContent = paused ? 'Resume' : 'Pause';
    if (paused) {
      clearTimeout(timer);
      timer = null;
      render();
    } else {
      restart();
    }
  }

  function start() {
    for (let i = 0; i < WINDOW; i++) cells.push(strip.appendChild(el('span', { className: 'cell empty' })));
    toggle.addEventListener('click', () => setPaused(!paused));
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) {
        clearTimeout(timer);
        timer = null;
        render();
      } else {
        restart();
      }
    });
    window.addEventListener('focus', () => {
      if (!document.hidden && !inRound) restart();
    });
    // Refresh the "gone" notes even when no answer comes back at all.
    setInterval(() => {
      if (!document.hidden) render();
    }, 1000);
    restart();
  }

  return { start, colourOf };
})();
