"""A client that behaves like marathon-lb's HAProxy in front of one task during its kill: it checks
the task every `inter` (about once a second), sends requests (a new connection each, like HAProxy's
http-server-close mode) while the task is in, takes it out after `fall` failed checks in a row and
from then on sends no NEW request; requests already sent run to completion. A request fails on any
connection error, timeout or status >= 500. Bounded: at most `max_requests`, paced to about `rate`
requests per second.

marathon-lb routes only the apps labelled HAPROXY_GROUP. Its check is read from the app's labels
where they set it (`option httpchk GET <path>` in HAPROXY_0_BACKEND_HEAD, `inter` and `fall` in
HAPROXY_0_BACKEND_SERVER_OPTIONS, `timeout check`); otherwise it polls the readiness check's path
about once a second and takes the task out at the first failure.
"""
import http.client
import re
import threading
import time

from . import probes


def haproxy_duration_s(text):
    """HAProxy's time format: 1s, 500ms, 2m; a bare number is milliseconds."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)?", text)
    if not m:
        return None
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}[m.group(2) or "ms"]
    return float(m.group(1)) * scale


class Check:
    """How the balancer checks a task: path, inter, fall, timeout, and which statuses are up."""

    def __init__(self, path, inter_s, fall, timeout_s, up_codes, source):
        self.path, self.inter_s, self.fall, self.timeout_s = path, inter_s, fall, timeout_s
        self.up_codes, self.source = up_codes, source

    def is_up(self, status):
        return status in self.up_codes if self.up_codes else (status is not None and 200 <= status < 400)

    def describe(self):
        return "GET %s every %gs, out after %d failure(s) (%s)" % (self.path, self.inter_s, self.fall, self.source)


def check_for(app, readiness_spec):
    """The balancer's check of an app, or None when marathon-lb does not route to it."""
    labels = app.get("labels") or {}
    if "HAPROXY_GROUP" not in labels:
        return None
    head = labels.get("HAPROXY_0_BACKEND_HEAD", "")
    server = labels.get("HAPROXY_0_BACKEND_SERVER_OPTIONS", "")
    httpchk = re.search(r"option\s+httpchk\s+(?:GET\s+)?(/\S*)", head)
    if httpchk:
        inter = re.search(r"\binter\s+(\S+)", server)
        fall = re.search(r"\bfall\s+(\d+)", server)
        timeout = re.search(r"timeout\s+check\s+(\S+)", head)
        inter_s = haproxy_duration_s(inter.group(1)) if inter else 2.0  # HAProxy's default inter
        return Check(httpchk.group(1), inter_s, int(fall.group(1)) if fall else 3,
                     haproxy_duration_s(timeout.group(1)) if timeout else inter_s, None,
                     "the app's HAPROXY_0_BACKEND_* labels")
    if readiness_spec is None:
        return None
    return Check(readiness_spec["path"], 1.0, 1, 1.0, set(int(c) for c in readiness_spec["httpStatusCodesForReady"]),
                 "its readiness check")


class Balancer:
    def __init__(self, host, port, path, check, workers=2, rate=100.0, request_timeout_s=10.0,
                 max_requests=20000):
        self.host, self.port, self.path, self.check = host, port, path, check
        self.workers, self.pause_s = workers, workers / rate
        self.request_timeout_s = request_timeout_s
        self.max_requests = max_requests
        self.lock = threading.Lock()
        self.routing = threading.Event()
        self.done = threading.Event()
        self.sent = []        # (monotonic time sent, ok, what)
        self.removed_at = None
        self.last_poll = None
        self.polled_ready = threading.Event()  # set after each check that found the task up
        self.threads = []

    def start(self):
        self.routing.set()
        self.threads = [threading.Thread(target=self._poll, daemon=True)]
        self.threads += [threading.Thread(target=self._work, daemon=True) for _ in range(self.workers)]
        for t in self.threads:
            t.start()

    def _poll(self):
        failures = 0
        while not self.done.is_set():
            if self.done.wait(self.check.inter_s):
                return
            status, self.last_poll = probes.http_status(self.host, self.port, self.check.path,
                                                        self.check.timeout_s)
            if self.check.is_up(status):
                failures = 0
                self.polled_ready.set()
                continue
            failures += 1
            if failures >= self.check.fall:
                self.removed_at = time.monotonic()
                self.routing.clear()
                return

    def wait_for_poll(self, timeout_s):
        """Waits for the next poll that finds the task ready: a kill right after it is the worst
        case for the task (the balancer notices a full poll interval later)."""
        self.polled_ready.clear()
        return self.polled_ready.wait(timeout_s)

    def _work(self):
        while self.routing.is_set() and not self.done.is_set():
            with self.lock:
                if len(self.sent) >= self.max_requests:
                    return
            t = time.monotonic()
            ok, what = self._request()
            with self.lock:
                self.sent.append((t, ok, what))
            time.sleep(self.pause_s)

    def _request(self):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.request_timeout_s)
        try:
            conn.request("GET", self.path, headers={"Connection": "close"})
            resp = conn.getresponse()
            resp.read()
            return resp.status < 500, "HTTP %d" % resp.status
        except (OSError, http.client.HTTPException) as e:
            return False, e.__class__.__name__ + (": %s" % e if str(e) else "")
        finally:
            conn.close()

    def wait_removed(self, timeout_s):
        """Waits until the balancer took the task out (readiness failed) and every request it had
        sent finished."""
        deadline = time.monotonic() + timeout_s
        while self.routing.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.finish(max(0.0, deadline - time.monotonic()))

    def finish(self, timeout_s=15.0):
        self.routing.clear()
        self.done.set()
        for t in self.threads:
            t.join(timeout=timeout_s)

    def figures(self, since):
        with self.lock:
            during = [s for s in self.sent if s[0] >= since]
            before = [s for s in self.sent if s[0] < since]
        failed = [s for s in self.sent if not s[1]]
        return {"sent_before": len(before), "sent_during": len(during),
                "failed": len(failed), "failed_during": len([s for s in during if not s[1]]),
                "failures": sorted(set(s[2] for s in failed))[:5]}
