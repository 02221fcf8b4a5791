"""A small client of Marathon's REST API (standard library only: marathon/deploy runs on laptops).

Contract:
- `Marathon(url, auth)` sends JSON requests under `url` (which may carry a path prefix, as DC/OS's
  `https://<cluster>/service/marathon` does) and returns `Reply(status, headers, body)`.
- Every answer Marathon gives as an error becomes one of the exceptions below, mapped in exactly one
  place (`_raise_for`): 400 BadJson, 401/403 Unauthorized, 404 NotFound, 409 Locked, 422 Invalid,
  anything else >= 400 ApiError. A request that never gets an HTTP answer (refused, DNS, timeout,
  TLS) is Unreachable. None of them carries a stack trace to the user: `str(e)` is the message.
- Credentials come from the environment (`auth_from_env`): DCOS_TOKEN is sent as
  `Authorization: token=<DCOS_TOKEN>` (DC/OS admin router), MARATHON_USER/MARATHON_PASSWORD as HTTP
  basic auth (Marathon's --http_credentials). The token wins when both are set.
"""
import base64
import http.client
import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_URL = "http://localhost:8080"


class MarathonError(Exception):
    """Base of every error the client reports; `str()` is a one-line message for the user."""


class Unreachable(MarathonError):
    pass


class ApiError(MarathonError):
    def __init__(self, status, body, method, path):
        self.status, self.body, self.method, self.path = status, body, method, path
        super().__init__(self.describe())

    def message(self):
        if isinstance(self.body, dict):
            return str(self.body.get("message") or self.body.get("description") or
                       self.body.get("title") or self.body)
        return str(self.body or "").strip()[:300] or http.client.responses.get(self.status, "")

    def describe(self):
        return "%s %s: HTTP %d: %s" % (self.method, self.path.split("?")[0], self.status, self.message())

    def details(self):
        """Marathon's `details` entries as (path, [errors]) pairs (400 and 422 bodies carry them)."""
        out = []
        for d in (self.body.get("details") or []) if isinstance(self.body, dict) else []:
            if isinstance(d, dict):
                errors = d.get("errors") or []
                out.append((str(d.get("path", "/")), [str(e) for e in errors] if isinstance(errors, list)
                            else [str(errors)]))
        return out


class BadJson(ApiError):
    pass


class Unauthorized(ApiError):
    pass


class NotFound(ApiError):
    pass


class Locked(ApiError):
    def deployment_ids(self):
        deps = self.body.get("deployments") if isinstance(self.body, dict) else None
        return [str(d.get("id")) for d in deps or [] if isinstance(d, dict) and d.get("id")]


class Invalid(ApiError):
    pass


_BY_STATUS = {400: BadJson, 401: Unauthorized, 403: Unauthorized, 404: NotFound, 409: Locked,
              422: Invalid}


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def deployment(self):
        """(deploymentId, version) of a call that started a deployment. Marathon puts the id in the
        body and in the Marathon-Deployment-Id header; a 202 of DELETE ?force=true has neither."""
        body = self.body if isinstance(self.body, dict) else {}
        dep = body.get("deploymentId") or self.headers.get("Marathon-Deployment-Id")
        return dep, body.get("version")


def auth_from_env(env):
    """The Authorization header value for these environment variables, or None."""
    token = env.get("DCOS_TOKEN", "").strip()
    if token:
        return "token=" + token
    user, password = env.get("MARATHON_USER", ""), env.get("MARATHON_PASSWORD", "")
    if user:
        return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return None


def quote_id(app_id):
    """`/kurz/redirect` -> `kurz/redirect`, for a path under /v2/apps/ or /v2/groups/."""
    return urllib.parse.quote(app_id.strip("/"), safe="/")


class Marathon:
    def __init__(self, url=DEFAULT_URL, authorization=None, request_timeout=15.0):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("not an http(s) URL: %r" % url)
        self.url = url.rstrip("/")
        self.authorization = authorization
        self.request_timeout = request_timeout

    def request(self, method, path, body=None, query=None):
        """Sends one request; returns a Reply for 2xx, raises a MarathonError otherwise."""
        target = path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + target, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.authorization:
            req.add_header("Authorization", self.authorization)
        try:
            with urllib.request.urlopen(req, timeout=self.request_timeout) as resp:
                return Reply(resp.status, resp.headers, _parse(resp.read()))
        except urllib.error.HTTPError as e:
            try:
                raw = e.read()
            except (OSError, http.client.HTTPException):
                raw = b""
            _raise_for(e.code, _parse(raw), method, target)
        except urllib.error.URLError as e:
            raise Unreachable("cannot reach Marathon at %s: %s" % (self.url, _reason(e.reason)))
        except (socket.timeout, TimeoutError):
            raise Unreachable("Marathon at %s did not answer %s %s within %gs" %
                              (self.url, method, target, self.request_timeout))
        except (OSError, http.client.HTTPException) as e:
            raise Unreachable("lost the connection to Marathon at %s: %s" % (self.url, _reason(e)))

    def get(self, path, query=None):
        return self.request("GET", path, query=query).body


def _parse(raw):
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        return raw.decode("utf-8", "replace")


def _raise_for(status, body, method, path):
    raise _BY_STATUS.get(status, ApiError)(status, body, method, path)


def _reason(reason):
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "unknown host (%s)" % (reason.strerror or reason)
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(reason, ssl.SSLError):
        return "TLS error: %s" % (reason.reason or reason)
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or reason.__class__.__name__
