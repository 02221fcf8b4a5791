// kurz web UI: shorten a URL and show the result. No framework, no inline code (strict CSP), and
// everything that comes from the user or the API is written as text (textContent), never as markup.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);

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
  const targetUrl = $('target-url');
  const expiresAt = $('expires-at');
  const qrImage = $('qr');
  const qrPng = $('qr-png');
  const instance = $('instance');

  // Shows which instance answered: the load balancer becomes visible during a scaling demo.
  function showInstance(response) {
    const id = response.headers.get('X-Instance-Id');
    if (id) instance.textContent = id;
  }

  function showError(message) {
    errorBox.textContent = message;
  }

  function clearError() {
    errorBox.textContent = '';
  }

  // Only http(s) links are ever put into an href, whatever the API returns.
  function safeHref(value) {
    try {
      const url = new URL(value, window.location.href);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (e) {
      return null;
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

  async function readError(response) {
    try {
      const body = await response.json();
      if (body && body.error && typeof body.error.message === 'string') {
        return body.error.message;
      }
    } catch (e) {
      // Not JSON: fall through to a generic message.
    }
    if (response.status === 429) return 'Too many links created. Please wait a moment.';
    return 'The request failed (HTTP ' + response.status + ').';
  }

  function showLink(link) {
    const href = safeHref(link.shortUrl);
    shortLink.textContent = link.shortUrl;
    if (href) {
      shortLink.href = href;
    } else {
      shortLink.removeAttribute('href');
    }
    targetUrl.textContent = link.url;
    expiresAt.textContent = link.expiresAt ? new Date(link.expiresAt).toLocaleString() : 'Never';

    const code = encodeURIComponent(link.code);
    qrImage.src = '/qr/' + code + '.svg';
    qrImage.alt = 'QR code for ' + link.shortUrl;
    qrPng.href = '/qr/' + code + '.png';
    qrPng.setAttribute('download', link.code + '.png');

    copyStatus.textContent = '';
    result.hidden = false;
    resultTitle.focus();
  }

  async function shorten(event) {
    event.preventDefault();
    clearError();
    if (!form.reportValidity()) return;

    const payload = { url: urlInput.value.trim() };
    const slug = slugInput.value.trim();
    if (slug) payload.slug = slug;
    const expiry = localToRfc3339(expiresInput.value);
    if (expiry === undefined) {
      showError('The expiry date is not valid.');
      expiresInput.focus();
      return;
    }
    if (expiry) {
      if (new Date(expiry).getTime() <= Date.now()) {
        showError('The expiry must be in the future.');
        expiresInput.focus();
        return;
      }
      payload.expiresAt = expiry;
    }

    submitButton.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const response = await fetch('/api/links', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(payload),
        credentials: 'same-origin',
      });
      showInstance(response);
      if (response.status === 201) {
        showLink(await response.json());
        form.reset();
      } else {
        result.hidden = true;
        showError(await readError(response));
      }
    } catch (e) {
      showError('Could not reach the server. Check your connection and try again.');
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

  async function loadInstance() {
    try {
      const response = await fetch('/info', { headers: { Accept: 'application/json' } });
      showInstance(response);
      if (!response.headers.get('X-Instance-Id') && response.ok) {
        const info = await response.json();
        if (info && typeof info.instance === 'string') instance.textContent = info.instance;
      }
    } catch (e) {
      instance.textContent = 'unknown';
    }
  }

  expiresInput.min = toLocalInputValue(new Date());
  form.addEventListener('submit', shorten);
  copyButton.addEventListener('click', copyShortUrl);
  loadInstance();
})();
