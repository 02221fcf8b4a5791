"""What the stack tests (tests/docker, tests/swarm) do to a running kurz through its edge: the
smoke checks of the QR code and the UI, links created and looked up, the replicas seen answering,
and a closed-loop load on one link. Requests go through kurzops.web (never following a redirect).

Import it with tests/support on sys.path (it puts scripts/ there for kurzops)."""
import collections
import functools
import http.client
import json
import random
import threading
import time
import urllib.parse

import opspath  # noqa: F401  (scripts/ on sys.path)
from kurzops import web

# One request on 127.0.0.1, a redirect never followed: kurzops.web.request with the stack tests'
# bound (5 s: a stack on a busy 2-core machine).
request = functools.partial(web.request, timeout=5)


def check_qr_and_page(test, base, code):
    """The QR code of `code` in both formats and the web UI's page, through `base`."""
    status, headers, body = request(base, "GET", "/qr/%s.svg" % code)
    test.assertEqual(status, 200)
    test.assertIn("image/svg+xml", headers.get("content-type", ""))
    test.assertIn(b"<svg", body[:400])
    status, headers, body = request(base, "GET", "/qr/%s.png" % code)
    test.assertEqual(status, 200)
    test.assertEqual(body[:8], b"\x89PNG\r\n\x1a\n")
    status, headers, body = request(base, "GET", "/")
    test.assertEqual(status, 200)
    test.assertIn("text/html", headers.get("content-type", ""))


def create_link(base, body):
    """POST /api/links with `body` through `base`; the created link (JSON). AssertionError with the
    answer when it is not 201."""
    status, _, answer = request(base, "POST", "/api/links", body)
    if status != 201:
        raise AssertionError("create %s: %s %s" % (body, status, answer[:200]))
    return json.loads(answer)


def create_links(base, target, run_id, count):
    """`count` custom slugs and `count` generated codes through `base`, each to a URL below
    `target`; ([(slug, url)], [(code, url)])."""
    slugs = [("t%s-%d" % (run_id, i), target + "t%s-%d" % (run_id, i)) for i in range(count)]
    for slug, url in slugs:
        create_link(base, {"url": url, "slug": slug})
    generated = []
    for i in range(count):
        url = target + "gen-%s-%d" % (run_id, i)
        generated.append((create_link(base, {"url": url})["code"], url))
    return slugs, generated


def lookup_links(base, links, rounds):
    """GET /{code} of every link `rounds` times in shuffled order (never following the redirect):
    ({"302", "302_wrong_target", "404", "other": count}, {X-Instance-Id seen})."""
    counts = {"302": 0, "302_wrong_target": 0, "404": 0, "other": 0}
    instances = set()
    rng = random.Random(20240601)
    for _ in range(rounds):
        for code, url in rng.sample(links, len(links)):
            status, headers, _ = request(base, "GET", "/" + code)
            instances.add(headers.get("x-instance-id"))
            if status == 302:
                counts["302" if headers.get("location") == url else "302_wrong_target"] += 1
            elif status == 404:
                counts["404"] += 1
            else:
                counts["other"] += 1
    return counts, instances


def distinct_instances(base, path, want, timeout):
    """X-Instance-Id values seen on GET path within `timeout` s (stops once `want` are seen)."""
    seen = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(seen) < want:
        status, headers, _ = web.try_request(base, "GET", path, timeout=2)
        if status in (200, 302) and headers.get("x-instance-id"):
            seen.add(headers["x-instance-id"])
        time.sleep(0.02)
    return seen


class Load:
    """Closed-loop load on GET /{code} through the edge from `threads` keep-alive clients, until
    stop(). A failure is any answer but 302 to the right target, or a connection error or timeout."""

    def __init__(self, base, code, target, threads=4, timeout=10):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.code, self.target, self.timeout = u.hostname, u.port, code, target, timeout
        self.counts = collections.Counter()
        self.errors = []  # (seconds since start, what), bounded
        self.instances = collections.Counter()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.t0 = time.monotonic()
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def _loop(self):
        conn = None
        while not self.stopping.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                conn.request("GET", "/" + self.code)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 302 and resp.getheader("Location") == self.target
                what = "302" if ok else "status %d" % resp.status
                inst = resp.getheader("X-Instance-Id")
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                ok, what, inst = False, type(e).__name__, None
                if conn is not None:
                    conn.close()
                conn = None
            with self.lock:
                self.counts["ok" if ok else "failed"] += 1
                if inst:
                    self.instances[inst] += 1
                if not ok and len(self.errors) < 50:
                    self.errors.append((round(time.monotonic() - self.t0, 2), what))
        if conn is not None:
            conn.close()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(self.timeout + 5)
        self.elapsed = time.monotonic() - self.t0
        return self

    def summary(self):
        total = self.counts["ok"] + self.counts["failed"]
        return {"requests": total, "failed": self.counts["failed"], "seconds": round(self.elapsed, 1),
                "rps": round(total / max(self.elapsed, 1e-3)), "replicas_answering": len(self.instances),
                "first_errors": self.errors[:10]}
