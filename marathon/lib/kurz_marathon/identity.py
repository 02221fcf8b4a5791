"""Is the server at MARATHON_URL really Marathon? Port 8080 is Marathon's default and kurz's too, so
a tool pointed at the wrong one must say what it found instead of printing a stranger's 404.

Contract: `probe(url, authorization, timeout)` sends GET {url}/v2/info and returns a Finding:
- `marathon` True when the answer is Marathon's: a JSON object with "name" "marathon" (Marathon's
  InfoResource: name, version, buildref, elected, leader, frameworkId, marathon_config, ...);
- otherwise `what` names what answered ("kurz (the monolith or a kurz service)", "Mesos",
  "marathon-lb / HAProxy", "an HTTP server that is not Marathon") and `evidence` says why.
Unreachable servers are left to the client's own errors (Unreachable): probe returns None then.
Standard library only.
"""
import collections
import json
import urllib.error
import urllib.request

Finding = collections.namedtuple("Finding", "marathon info what evidence")


def _read(url, authorization, timeout):
    req = urllib.request.Request(url, method="GET", headers={"Accept": "application/json"})
    if authorization:
        req.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read(65536)
    except urllib.error.HTTPError as e:
        try:
            body = e.read(65536)
        except OSError:
            body = b""
        return e.code, e.headers, body
    except (OSError, ValueError):
        return None


def classify(status, headers, raw):
    """A Finding for one answer to GET /v2/info."""
    try:
        body = json.loads(raw.decode("utf-8", "replace")) if raw else None
    except ValueError:
        body = None
    headers = headers or {}
    if status == 200 and isinstance(body, dict) and body.get("name") == "marathon" and body.get("version"):
        return Finding(True, body, "Marathon", "GET /v2/info: name marathon, version %s" % body["version"])
    if status in (401, 403):
        return Finding(True, None, "Marathon (behind authentication)",
                       "GET /v2/info: HTTP %d" % status)  # the client's Unauthorized says what to do
    if headers.get("X-Instance-Id") or (isinstance(body, dict) and (
            isinstance(body.get("error"), dict) or body.get("service") in (
                "monolith", "links", "redirect", "stats", "qr", "web"))):
        return Finding(False, body, "kurz (the monolith or a kurz service)",
                       "GET /v2/info: HTTP %s with kurz's X-Instance-Id header / error body" % status)
    if isinstance(body, dict) and ("git_sha" in body or "slaves" in body or body.get("name") == "mesos"):
        return Finding(False, body, "Mesos", "GET /v2/info: a Mesos answer")
    server = headers.get("Server", "")
    if "haproxy" in server.lower():
        return Finding(False, body, "marathon-lb / HAProxy", "Server: %s" % server)
    return Finding(False, body, "an HTTP server that is not Marathon",
                   "GET /v2/info: HTTP %s%s" % (status, ", Server: " + server if server else ""))


def probe(url, authorization=None, timeout=5.0):
    got = _read(url.rstrip("/") + "/v2/info", authorization, timeout)
    return None if got is None else classify(*got)


def not_marathon_message(url, finding):
    return ("%s is not Marathon: this looks like %s (%s). Set MARATHON_URL (or --marathon) to "
            "Marathon's address, e.g. http://marathon.mesos:8080 or https://<cluster>/service/marathon"
            % (url, finding.what, finding.evidence))
