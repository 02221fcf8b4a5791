// kurz web UI: the recent links (GET /api/links?limit=10) with their clicks (GET /api/stats/{code}
// for each), refreshed every 10 s while the tab is visible, backing off to 60 s while nothing
// changes, at once when the tab comes back or something is created or deleted. Each row can be
// deleted (DELETE /api/links/{code}, after a confirmation). When the server has an API key,
// listing and deleting answer 401 without it: the panel then asks for the key, keeps it in
// sessionStorage (this tab only) and sends it as X-API-Key.
'use strict';

window.kurz.links = (function () {
  const { $, el, safeHref, statsHash, formatDateTime, apiKey, currentKey, request, every } = window.kurz;

  const REFRESH_MS = 10000;
  const MAX_REFRESH_MS = 60000;  // unchanged list: 10, 20, 40, 60 s
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
  let lastShown = '';
  const NOTE_MS = 15000;
  const note = { text: '', at: 0 };  // the outcome of the last deletion, shown for NOTE_MS

  function setNote(text) {
    note.text = text;
    note.at = Date.now();
    setMessage(text);
  }  // what the last refresh showed: an unchanged list backs the polling off

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
        el('td', { className: 'actions' },
            el('a', { href: statsHash(link.code), className: 'stats-link' },
                'Stats', el('span', { className: 'visually-hidden' }, ' for ' + link.code)),
            ' ',
            deleteButton(link.code)));
    if (link.expiresAt && new Date(link.expiresAt).getTime() <= Date.now()) {
      row.classList.add('expired');
      row.cells[1].append(el('span', { className: 'tag' }, 'expired'));
    }
    return { row, clicks };
  }

  function deleteButton(code) {
    const button = el('button', { type: 'button', className: 'link-button delete-button' },
        'Delete', el('span', { className: 'visually-hidden' }, ' ' + code));
    button.addEventListener('click', () => remove(code, button));
    return button;
  }

  // DELETE /api/links/{code} with the API key when there is one; a clear message for each outcome.
  async function remove(code, button) {
    if (!window.confirm('Delete the short link “' + code + '”? It stops redirecting at once.')) return;
    button.disabled = true;
    try {
      await request('/api/links/' + encodeURIComponent(code), { method: 'DELETE', auth: true });
      dropRow(code);
      setNote('Deleted “' + code + '”.');
    } catch (e) {
      button.disabled = false;
      if (e.status === 401) {
        keyForm.hidden = false;
        setMessage(currentKey()
          ? 'The API key was not accepted for deleting “' + code + '”. Check it, enter it again, then delete again.'
          : 'Deleting needs this server\'s API key. Enter it, then delete “' + code + '” again.');
        keyInput.focus();
        return;
      }
      if (e.status === 403) {
        setNote('Could not delete “' + code + '”: ' + e.message);
        return;
      }
      if (e.status === 404) {
        dropRow(code);
        setNote('“' + code + '” was already deleted.');
        return;
      }
      setNote('Could not delete “' + code + '”: ' + e.message);
      return;
    }
    loop.now();
  }

  function dropRow(code) {
    const entry = rowsByCode.get(code);
    if (entry) {
      entry.row.remove();
      rowsByCode.delete(code);
    }
    table.hidden = rowsByCode.size === 0;
    empty.hidden = rowsByCode.size !== 0;
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
      lastShown = '';
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
    // Errors go once the list loads again; the note about a deletion stays for a while.
    setMessage(Date.now() - note.at < NOTE_MS ? note.text : '');
    const items = Array.isArray(page.items) ? page.items : [];
    const counts = await Promise.all(items.map((link) => clicksOf(link.code)));
    render(items, counts);
    updated.textContent = 'Updated ' + new Date().toLocaleTimeString();
    const shown = JSON.stringify([items.map((link) => link.code), counts]);
    const changed = shown !== lastShown;
    lastShown = shown;
    return changed;
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
      loop = every(REFRESH_MS, refresh, MAX_REFRESH_MS);
    },
    refresh() {
      if (loop) loop.now();
    },
    get needsKey() {
      return needsKey;
    },
    get waitMs() {
      return loop ? loop.waitMs : REFRESH_MS;
    },
  };
})();
