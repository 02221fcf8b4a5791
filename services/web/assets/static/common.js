// kurz web UI, shared helpers: the API client, error messages, the API key, DOM helpers.
//
// Rules for every script of the UI (the page runs under a strict Content-Security-Policy):
// no inline code, no markup built from strings. Everything that comes from the user or the API is
// written with textContent / createElement, and every URL put into an href is checked first.
// All requests use relative URLs, so the page works on the monolith and behind a load balancer.
'use strict';

window.kurz = (function () {
  const KEY_STORAGE = 'kurz.apiKey';

  const $ = (id) => document.getElementById(id);

  // el('td', {className: 'num'}, 'text', childNode): a new element with properties and children.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [name, value] of Object.entries(props)) {
        if (name === 'dataset') Object.assign(node.dataset, value);
        else if (name.includes('-')) node.setAttribute(name, value);  // aria-*, for example
        else node[name] = value;
      }
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
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

  // A link to the page's own stats view of a code.
  function statsHash(code) {
    return '#stats/' + encodeURIComponent(code);
  }

  function formatDateTime(value, style = 'medium') {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return String(value);
    return style === 'short' ? date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' })
                             : date.toLocaleString();
  }

  // The API key is kept for this tab only (sessionStorage), never in localStorage or a cookie.
  const apiKey = {
    get() {
      try {
        return sessionStorage.getItem(KEY_STORAGE) || '';
      } catch (e) {
        return '';
      }
    },
    set(value) {
      try {
        if (value) sessionStorage.setItem(KEY_STORAGE, value);
        else sessionStorage.removeItem(KEY_STORAGE);
      } catch (e) {
        // Storage disabled: the key lives as long as the page (apiKey.memory).
      }
      apiKey.memory = value;
    },
    memory: '',
  };

  function currentKey() {
    return apiKey.get() || apiKey.memory || '';
  }

  // Thrown by request() for every failed call. `status` is 0 when the server was not reached.
  class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  // A clear sentence for every error the API documents, in the words of a user, not of HTTP.
  function describe(status, code, serverMessage, retryAfter) {
    switch (status) {
      case 0:
        return 'Could not reach the server. Check your connection and try again.';
      case 400:
        return serverMessage || 'The server could not accept this request.';
      case 401:
        return 'This server needs an API key for this. Enter it below.';
      case 403:
        return 'The API key was refused for this action. Check it, or ask for a key that may do this.';
      case 404:
        return serverMessage || 'Not found.';
      case 409:
        return serverMessage || 'This short code is already taken. Pick another one.';
      case 410:
        return 'This link has expired.';
      case 413:
        return 'The request is too large for the server. Try a shorter URL.';
      case 415:
        return 'The server did not accept the request format (it expects JSON). Reload the page and try again.';
      case 429: {
        const wait = retryAfter > 0 ? ' Try again in ' + retryAfter + ' seconds.' : ' Try again in a moment.';
        return 'Too many create attempts from your address (failed ones count too).' + wait;
      }
      case 503:
        return 'The service is temporarily unavailable (its data store cannot be reached). Try again in a moment.';
      default:
        if (status >= 500) return 'The server had a problem (HTTP ' + status + '). Try again in a moment.';
        return serverMessage || 'The request failed (HTTP ' + status + ').';
    }
  }

  async function toApiError(response) {
    let code = '';
    let message = '';
    try {
      const body = await response.json();
      if (body && body.error) {
        if (typeof body.error.code === 'string') code = body.error.code;
        if (typeof body.error.message === 'string') message = body.error.message;
      }
    } catch (e) {
      // Not JSON (a proxy's error page, for example): describe() falls back to the status.
    }
    const retryAfter = parseInt(response.headers.get('Retry-After') || '', 10);
    const text = describe(response.status, code, message, Number.isFinite(retryAfter) ? retryAfter : 0);
    return new ApiError(response.status, code, text, retryAfter);
  }

  // Calls the API and answers the parsed JSON body (null for 204), or throws an ApiError.
  // options: {method, body (an object, sent as JSON), auth (send the API key), timeoutMs}.
  async function request(path, options = {}) {
    const headers = { Accept: 'application/json' };
    const init = { method: options.method || 'GET', headers, credentials: 'same-origin', cache: 'no-store' };
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    const key = options.auth ? currentKey() : '';
    if (key) headers['X-API-Key'] = key;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs || 15000);
    init.signal = controller.signal;
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'network', describe(0), 0);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw await toApiError(response);
    if (response.status === 204) return null;
    try {
      return await response.json();
    } catch (e) {
      throw new ApiError(response.status, 'bad_response', 'The server sent an answer the page cannot read.', 0);
    }
  }

  // Runs `task` now and then every `intervalMs` while the tab is visible; a hidden tab makes no
  // requests (Page Visibility API), and coming back to it or focusing the window runs it at once.
  // Back-off: when `task` answers false (nothing changed), the next wait is twice the last, up to
  // `maxMs`; any other answer (something changed, or an error the task showed) returns to
  // `intervalMs`. Answers {now(): (re)start at the short interval and run at once, stop()}.
  function every(intervalMs, task, maxMs = intervalMs) {
    let timer = null;
    let running = false;
    let again = false;  // asked to run while running: run once more right after
    let stopped = false;
    let waitMs = intervalMs;
    async function tick() {
      clearTimeout(timer);
      timer = null;
      if (stopped || document.hidden) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        const changed = await task();
        waitMs = changed === false ? Math.min(maxMs, waitMs * 2) : intervalMs;
      } catch (e) {
        // The task shows its own errors; keep the loop going.
        waitMs = intervalMs;
      } finally {
        running = false;
        if (!stopped && !document.hidden) timer = setTimeout(tick, again ? 0 : waitMs);
        again = false;
      }
    }
    function soon() {
      waitMs = intervalMs;
      tick();
    }
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) {
        clearTimeout(timer);
        timer = null;
      } else {
        soon();
      }
    });
    window.addEventListener('focus', () => {
      if (!document.hidden && !running) soon();
    });
    tick();
    return {
      now() {
        stopped = false;
        soon();
      },
      stop() {
        stopped = true;
        clearTimeout(timer);
      },
      get waitMs() {
        return waitMs;
      },
    };
  }

  return { $, el, safeHref, statsHash, formatDateTime, apiKey, currentKey, ApiError, describe, request, every };
})();
