// kurz web UI: the stats view of one link (#stats/{code}): total clicks, clicks per UTC day as an
// SVG bar chart drawn with DOM calls (no library), top referrers and top user agents. Refreshes
// every 5 s while open and the tab is visible, backing off to 60 s while nothing changes (the
// counts are eventually consistent).
'use strict';

window.kurz.stats = (function () {
  const { $, el, safeHref, request, every } = window.kurz;

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const REFRESH_MS = 5000;
  const MAX_REFRESH_MS = 60000;  // unchanged stats: 5, 10, 20, 40, 60 s
  const MAX_DAYS = 60;            // the chart shows at most the last 60 days with data
  const HEIGHT = 220;               // SVG units; the width follows the container, so that
                                    // one unit is one CSS pixel and the labels stay readable
  const PAD = { top: 12, right: 12, bottom: 28, left: 40 };

  const section = $('stats');
  const title = $('stats-title');
  const target = $('stats-target');
  const errorBox = $('stats-error');
  const body = $('stats-body');
  const total = $('stats-total');
  const totalLabel = $('stats-total-label');
  const chart = $('chart');
  const referrers = $('referrers');
  const agents = $('agents');

  let code = null;
  let loop = null;
  let lastJson = '';

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const DAY_MS = 86400000;
  const parseDay = (s) => Date.parse(s + 'T00:00:00Z');
  const formatDay = (ms) => new Date(ms).toISOString().slice(0, 10);
  const plural = (n, word) => n + ' ' + word + (n === 1 ? '' : 's');

  // Every day from the first day with clicks to the last (at most MAX_DAYS), zeros filled in:
  // the API omits days without clicks.
  function dailySeries(days) {
    const known = new Map();
    for (const d of days) {
      if (d && typeof d.date === 'string' && Number.isFinite(parseDay(d.date))) {
        known.set(parseDay(d.date), Number(d.clicks) || 0);
      }
    }
    if (known.size === 0) return [];
    const last = Math.max(...known.keys());
    const first = Math.max(Math.min(...known.keys()), last - (MAX_DAYS - 1) * DAY_MS);
    const series = [];
    for (let t = first; t <= last; t += DAY_MS) series.push({ date: formatDay(t), clicks: known.get(t) || 0 });
    return series;
  }

  // A "nice" top for the y axis: 1, 2, 5, 10, 20, 50, ...
  function niceMax(value) {
    if (value <= 1) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 5, 10]) {
      if (value <= step * power) return step * power;
    }
    return 10 * power;
  }

  function drawChart(days) {
    const series = dailySeries(days);
    if (series.length === 0) {
      chart.replaceChildren(el('p', { className: 'muted' }, 'No clicks yet.'));
      return;
    }
    const WIDTH = Math.max(280, Math.min(960, Math.round(chart.clientWidth) || 640));
    const top = niceMax(Math.max(...series.map((d) => d.clicks)));
    const plotW = WIDTH - PAD.left - PAD.right;
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    const slot = plotW / series.length;
    const barW = Math.max(2, Math.min(48, slot * 0.7));
    const y = (v) => PAD.top + plotH - (v / top) * plotH;

    const sum = series.reduce((a, d) => a + d.clicks, 0);
    const root = svg('svg', {
      viewBox: '0 0 ' + WIDTH + ' ' + HEIGHT, role: 'img', class: 'chart-svg',
      'aria-label': 'Clicks per day from ' + series[0].date + ' to ' + series[series.length - 1].date +
          ': ' + plural(sum, 'click') + ', at most ' + Math.max(...series.map((d) => d.clicks)) + ' a day.',
    });
    for (const v of [0, top / 2, top]) {
      if (v !== Math.round(v)) continue;
      root.append(svg('line', { class: 'grid', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v) }));
      root.append(svg('text', { class: 'axis', x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
    }
    series.forEach((d, i) => {
      if (d.clicks === 0) return;
      const x = PAD.left + i * slot + (slot - barW) / 2;
      const bar = svg('rect', { class: 'bar', x, y: y(d.clicks), width: barW, height: y(0) - y(d.clicks), rx: 2 });
      bar.append(svg('title', null, d.date + ': ' + plural(d.clicks, 'click')));
      root.append(bar);
    });
    // Date labels: the first and last day, and the middle one when there is room.
    const labels = series.length > 2 ? [0, Math.floor((series.length - 1) / 2), series.length - 1]
                                     : series.map((_, i) => i);
    for (const i of new Set(labels)) {
      const x = PAD.left + i * slot + slot / 2;
      root.append(svg('text', { class: 'axis', x, y: HEIGHT - 8, 'text-anchor': 'middle' }, series[i].date));
    }
    chart.replaceChildren(root);
  }

  function drawList(list, items, emptyText) {
    if (!Array.isArray(items) || items.length === 0) {
      list.replaceChildren(el('li', { className: 'muted empty' }, emptyText));
      return;
    }
    const max = Math.max(1, ...items.map((i) => Number(i.clicks) || 0));
    list.replaceChildren(...items.map((item) => {
      const fill = el('span', { className: 'fill' });
      fill.style.width = Math.round(((Number(item.clicks) || 0) / max) * 100) + '%';  // CSSOM: CSP-safe
      return el('li', null,
          el('span', { className: 'name', title: item.name }, item.name),
          el('span', { className: 'count' }, String(item.clicks)),
          el('span', { className: 'track', 'aria-hidden': 'true' }, fill));
    }));
  }

  async function loadLink(forCode) {
    try {
      const link = await request('/api/links/' + encodeURIComponent(forCode));
      if (forCode !== code) return;
      const href = safeHref(link.url);
      target.replaceChildren('Goes to ', href ? el('a', { href, rel: 'noreferrer' }, link.url) : link.url);
    } catch (e) {
      if (forCode === code) target.textContent = '';
    }
  }

  async function refresh() {
    const forCode = code;
    let stats;
    try {
      stats = await request('/api/stats/' + encodeURIComponent(forCode));
    } catch (e) {
      if (forCode !== code) return;
      body.hidden = true;
      errorBox.textContent = e.status === 404 ? 'No link has the code “' + forCode + '”.' : e.message;
      lastJson = '';
      return;
    }
    if (forCode !== code) return;
    errorBox.textContent = '';
    const json = JSON.stringify(stats);
    if (json === lastJson) return false;  // nothing new: leave the DOM (and the focus) alone; back off
    lastJson = json;
    body.hidden = false;  // first, so that the chart can measure its width
    total.textContent = String(stats.total);
    totalLabel.textContent = (stats.total === 1 ? 'click' : 'clicks') + ' in total';
    drawChart(Array.isArray(stats.days) ? stats.days : []);
    drawList(referrers, stats.referrers, 'No referrers yet.');
    drawList(agents, stats.userAgents, 'No user agents yet.');
  }

  function open(newCode) {
    const changed = newCode !== code;
    code = newCode;
    if (changed) {
      lastJson = '';
      title.textContent = 'Statistics for ' + newCode;
      target.textContent = '';
      errorBox.textContent = '';
      body.hidden = true;
      loadLink(newCode);
    }
    section.hidden = false;
    if (loop) loop.now();
    else loop = every(REFRESH_MS, refresh, MAX_REFRESH_MS);  // created once, stopped by close()
    section.scrollIntoView({ block: 'start' });
    title.focus({ preventScroll: true });
  }

  function close() {
    if (loop) loop.stop();
    code = null;
    section.hidden = true;
  }

  return { open, close };
})();
