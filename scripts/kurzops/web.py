"""One HTTP request at a time, with a bound, never following a redirect (a 302 is looked at
itself: following it could send traffic off this machine)."""
import http.client
import json as _json
import urllib.parse
from typing import NamedTuple


class Response(NamedTuple):
    status: int
    headers: dict  # lower-case names
    body: bytes

    def json(self):
        return _json.loads(self.body)


def request(base, method="GET", path="", body=None, headers=None, timeout=3.0):
    """Sends one request to `base` (http://host:port[/prefix]) + `path`. A dict or list `body` is
    sent as JSON, bytes or str as they are. Raises OSError or http.client.HTTPException when no
    answer comes; returns the Response (any status) otherwise."""
    u = urllib.parse.urlsplit(base)
    if u.scheme != "http" or not u.hostname:
        raise ValueError("not an http:// URL: %r" % base)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        send_headers = dict(headers or {})
        data = body
        if isinstance(body, (dict, list)):
            data = _json.dumps(body).encode()
            send_headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            data = body.encode()
        target = u.path.rstrip("/") + path if path else (u.path or "/") + ("?" + u.query if u.query else "")
        conn.request(method, target, body=data, headers=send_headers)
        resp = conn.getresponse()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def try_request(base, method="GET", path="", body=None, headers=None, timeout=3.0):
    """request(), but a failure to get an answer is a Response with status None and the error's
    type name as its body."""
    try:
        return request(base, method, path, body, headers, timeout)
    except (OSError, http.client.HTTPException) as e:
        return Response(None, {}, type(e).__name__.encode())
