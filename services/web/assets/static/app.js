// kurz web UI: the shorten form and its result, the #stats/{code} route, and start-up.
// Loaded last (see index.html); the helpers are in common.js, the panels in links.js, stats.js
// and instances.js.
'use strict';

(function () {
  const { $, safeHref, statsHash, formatDateTime, request } = window.kurz;

  const form = $('shorten-form');
  const urlInput = $('url');
  const slugInput = $('slug');
  const expiresInput = $('expires');
  const submitButton = $('submit');
  const errorBox = $('error');
  const result = $('result');
  const resultTitle = $('result-title');
  const shortLink = $('short-link');
  const copyButton = $('copy');
  const copyStatus = $('copy-status');
  const resultStats = $('result-stats');
  const targetUrl = $('target-url');
  const expiresAt = $('expires-at');
  const qrImage = $('qr');
  const qrPng = $('qr-png');
  const instance = $('instance');

  // The server's rule (services/links/src/slug.cc, validate_slug), checked in the same order with
  // the same meaning: 3 to 64 characters, letters, digits, "-" and "_" only, and the first one a
  // letter or a digit. Reserved words are left to the server (it names them).
  function slugProblem(slug) {
    if (slug.length < 3 || slug.length > 64) return 'A custom short code is 3 to 64 characters long.';
    if (!/^[A-Za-z0-9_-]+$/.test(slug)) return 'A custom short code may only contain letters, digits, “-” and “_”.';
    if (!/^[A-Za-z0-9]/.test(slug)) return 'A custom short code must start with a letter or a digit.';
    return null;
  }

  // Which field an API error code is about, so that it can be marked and focused.
  const FIELD_OF_ERROR = {
    invalid_url: urlInput,
    invalid_slug: slugInput,
    slug_reserved: slugInput,
    slug_taken: slugInput,
    invalid_expiry: expiresInput,
  };

  function showError(message, field) {
    errorBox.textContent = message;
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.setAttribute('aria-errormessage', 'error');
      field.focus();
    }
  }

  function clearError() {
    errorBox.textContent = '';
    for (const field of [urlInput, slugInput, expiresInput]) {
      field.removeAttribute('aria-invalid');
      field.removeAttribute('aria-errormessage');
    }
  }

  // datetime-local gives "YYYY-MM-DDTHH:MM[:SS]" in local time; the API wants RFC 3339 UTC.
  function localToRfc3339(value) {
    if (!value) return null;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return undefined;
    return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  function toLocalInputValue(date) {
    const pad = (n) => String(n).padStart(2, '0');
    return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate()) +
        'T' + pad(date.getHours()) + ':' + pad(date.getMinutes());
  }

  function showLink(link) {
    const href = safeHref(link.shortUrl);
    shortLink.textContent = link.shortUrl;
    if (href) shortLink.href = href;
    else shortLink.removeAttribute('href');
    targetUrl.textContent = link.url;
    expiresAt.textContent = link.expiresAt ? formatDateTime(link.expiresAt) : 'Never';
    resultStats.href = statsHash(link.code);

    const code = encodeURIComponent(link.code);
    qrImage.src = '/qr/' + code + '.svg';
    qrImage.alt = 'QR code for ' + link.shortUrl;
    qrPng.href = '/qr/' + code + '.png';
    qrPng.setAttribute('download', link.code + '.png');

    copyStatus.textContent = '';
    result.hidden = false;
    resultTitle.focus();
  }

  // Checks what the browser can check; the server has the last word (scheme, reserved slugs).
  function readForm() {
    const url = urlInput.value.trim();
    if (!url) return { error: 'Enter the URL to shorten.', field: urlInput };
    if (url.length > 2048) return { error: 'The URL is longer than 2048 characters.', field: urlInput };
    const payload = { url };
    const slug = slugInput.value.trim();
    if (slug) {
      const problem = slugProblem(slug);
      if (problem) return { error: problem, field: slugInput };
      payload.slug = slug;
    }
    const expiry = localToRfc3339(expiresInput.value);
    if (expiry === undefined) return { error: 'The expiry date is not valid.', field: expiresInput };
    if (expiry) {
      if (new Date(expiry).getTime() <= Date.now()) {
        return { error: 'The expiry must be in the future.', field: expiresInput };
      }
      payload.expiresAt = expiry;
    }
    return { payload };
  }

  async function shorten(event) {
    event.preventDefault();
    clearError();
    const { payload, error, field } = readForm();
    if (error) {
      showError(error, field);
      return;
    }

    submitButton.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const link = await request('/api/links', { method: 'POST', body: payload });
      showLink(link);
      form.reset();
      expiresInput.min = toLocalInputValue(new Date());
      window.kurz.links.refresh();
    } catch (e) {
      result.hidden = true;
      let message = e.message;
      if (e.code === 'slug_taken') {
        message = 'The short code “' + payload.slug + '” is already taken. Pick another one, or leave it empty.';
      }
      showError(message, FIELD_OF_ERROR[e.code] || null);
    } finally {
      submitButton.disabled = false;
      form.removeAttribute('aria-busy');
    }
  }

  // Clipboard API where allowed (secure contexts), else the legacy copy command on a hidden field,
  // else select the link so that the user can press Ctrl+C.
  async function copyShortUrl() {
    const text = shortLink.textContent;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        copyStatus.textContent = 'Copied.';
        return;
      }
    } catch (e) {
      // Permission denied: try the fallback.
    }
    const field = document.createElement('textarea');
    field.value = text;
    field.setAttribute('readonly', '');
    field.className = 'offscreen';
    document.body.appendChild(field);
    field.select();
    let copied = false;
    try {
      copied = document.execCommand('copy');
    } catch (e) {
      copied = false;
    }
    document.body.removeChild(field);
    copyButton.focus();
    if (copied) {
      copyStatus.textContent = 'Copied.';
    } else {
      const range = document.createRange();
      range.selectNodeContents(shortLink);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      copyStatus.textContent = 'Press Ctrl+C (or ⌘C) to copy.';
    }
  }

  // The footer names the instance that served the page.
  async function loadInstance() {
    try {
      const response = await fetch('/info', { headers: { Accept: 'application/json' }, cache: 'no-store' });
      const id = response.headers.get('X-Instance-Id');
      instance.textContent = id || 'unknown';
    } catch (e) {
      instance.textContent = 'unknown';
    }
  }

  // Routes: "#stats/{code}" opens the stats view; "", "#" or any other hash closes it (other
  // hashes are in-page anchors such as the skip link, which need no handling).
  function route() {
    const hash = window.location.hash;
    if (hash.startsWith('#stats/')) {
      let code = hash.slice('#stats/'.length);
      try {
        code = decodeURIComponent(code);
      } catch (e) {
        // A malformed escape: use the raw text; the API answers 404.
      }
      window.kurz.stats.open(code);
    } else {
      window.kurz.stats.close();
    }
  }

  expiresInput.min = toLocalInputValue(new Date());
  form.addEventListener('submit', shorten);
  copyButton.addEventListener('click', copyShortUrl);
  window.addEventListener('hashchange', route);

  loadInstance();
  window.kurz.links.start();
  window.kurz.instances.start();
  route();
})();
