// kurz web UI: the recent links (GET /api/links?limit=10) with their clicks (GET /api/stats/{code}
// for each), refreshed every 5 s while the tab is visible. When the server has an API key, listing
// answers 401: the panel then asks for the key, keeps it in sessionStorage and sends it as X-API-Key.
'use strict';

window.kurz.links = (function () {
  const { $, el, safeHref, statsHash, formatDateTime, apiKey, currentKey, request, every } = window.kurz;

  const REFRESH_MS = 5000;
  const LIMIT = 10;

  const message = $('recent-message');
  const keyForm = $('key-form');
  const keyInput = $('api-key');
  const forgetKey = $('forget-key');
  const table = $('recent-table');
  const rows = $('recent-rows');
  const empty = $('recent-empty');
  const updated = $('recent-updated');

  const rowsByCode = new Map();  // code -> {row, clicks cell}: rows are updated in place
  let loop = null;
  let needsKey = false;

  function setMessage(text) {
    // Only write when it changes, so that screen readers do not hear it again every 5 s.
    if (message.textContent !== text) message.textContent = text;
  }

  function showKeyForm(text) {
    needsKey = true;
    keyForm.hidden = false;
    table.hidden = true;
    empty.hidden = true;
    setMessage(text);
  }

  function createRow(link) {
    const href = safeHref(link.shortUrl);
    // Shown without the scheme to save room; the full URL is in the href and the title.
    const text = link.shortUrl.replace(/^https?:\/\//i, '');
    const short = href ? el('a', { href, title: link.shortUrl }, text) : el('span', null, text);
    const clicks = el('td', { className: 'num clicks' }, '…');
    const row = el('tr', { dataset: { code: link.code } },
        el('td', { className: 'code-cell' }, short),
        el('td', { className: 'target', title: link.url }, link.url),
        el('td', { className: 'created', title: formatDateTime(link.createdAt) },
            formatDateTime(link.createdAt, 'short')),
        clicks,
        el('td', null, el('a', { href: statsHash(link.code), className: 'stats-link' },
            'Stats', el('span', { className: 'visually-hidden' }, ' for ' + link.code))));
    if (link.expiresAt && new Date(link.expiresAt).getTime() <= Date.now()) {
      row.classList.add('expired');
      row.cells[1].append(el('span', { className: 'tag' }, 'expired'));
    }
    return { row, clicks };
  }

  async function clicksOf(code) {
    try {
      const stats = await request('/api/stats/' + encodeURIComponent(code), { timeoutMs: 4000 });
      return typeof stats.total === 'number' ? String(stats.total) : '–';
    } catch (e) {
      return '–';  // the stats service may be down while links still work (stage 3)
    }
  }

  function render(items, counts) {
    const seen = new Set();
    items.forEach((link, i) => {
      seen.add(link.code);
      let entry = rowsByCode.get(link.code);
      if (!entry) {
        entry = createRow(link);
        rowsByCode.set(link.code, entry);
      }
      if (entry.clicks.textContent !== counts[i]) entry.clicks.textContent = counts[i];
      // Move a row only when it is out of place: moving a node takes the focus away from it.
      if (rows.children[i] !== entry.row) rows.insertBefore(entry.row, rows.children[i] || null);
    });
    for (const [code, entry] of rowsByCode) {
      if (!seen.has(code)) {
        entry.row.remove();
        rowsByCode.delete(code);
      }
    }
    table.hidden = items.length === 0;
    empty.hidden = items.length !== 0;
  }

  async function refresh() {
    let page;
    try {
      page = await request('/api/links?limit=' + LIMIT, { auth: true });
    } catch (e) {
      if (e.status === 401) {
        showKeyForm(currentKey()
          ? 'The API key was not accepted. Check it and enter it again.'
          : 'This server needs an API key to list links. Enter it to see the recent links.');
        if (currentKey()) forgetKey.hidden = false;
      } else {
        setMessage('Could not load the recent links: ' + e.message);
      }
      return;
    }
    needsKey = false;
    keyForm.hidden = true;
    forgetKey.hidden = !currentKey();
    setMessage('');
    const items = Array.isArray(page.items) ? page.items : [];
    const counts = await Promise.all(items.map((link) => clicksOf(link.code)));
    render(items, counts);
    updated.textContent = 'Updated ' + new Date().toLocaleTimeString();
  }

  keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = keyInput.value.trim();
    if (!value) {
      keyInput.focus();
      return;
    }
    apiKey.set(value);
    keyInput.value = '';
    setMessage('Checking the key…');
    loop.now();
  });

  forgetKey.addEventListener('click', () => {
    apiKey.set('');
    forgetKey.hidden = true;
    setMessage('The API key was removed from this tab.');
    loop.now();
  });

  return {
    start() {
      loop = every(REFRESH_MS, refresh);
    },
    refresh() {
      if (loop) loop.now();
    },
    get needsKey() {
      return needsKey;
    },
  };
})();
