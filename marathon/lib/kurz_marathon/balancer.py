"""A client that behaves like marathon-lb's HAProxy in front of one task during its kill: it polls
the task's readiness about once a second, sends requests (a new connection each, like HAProxy's
server-close mode) while the last poll said ready, and stops sending NEW requests as soon as a poll
fails; requests already sent run to completion. A request fails on any connection error, timeout
or status >= 500. Bounded: at most `max_requests`, paced to about `rate` requests per second."""
import http.client
import threading
import time

from . import probes


class Balancer:
    def __init__(self, host, port, path, ready_path, ready_codes, workers=2, rate=100.0,
                 poll_interval_s=1.0, request_timeout_s=10.0, max_requests=20000):
        self.host, self.port, self.path = host, port, path
        self.ready_path, self.ready_codes = ready_path, set(int(c) for c in ready_codes)
        self.workers, self.pause_s = workers, workers / rate
        self.poll_interval_s, self.request_timeout_s = poll_interval_s, request_timeout_s
        self.max_requests = max_requests
        self.lock = threading.Lock()
        self.routing = threading.Event()
        self.done = threading.Event()
        self.sent = []        # (monotonic time sent, ok, what)
        self.removed_at = None
        self.last_poll = None
        self.polled_ready = threading.Event()  # set after each poll that found the task ready
        self.threads = []

    def start(self):
        self.routing.set()
        self.threads = [threading.Thread(target=self._poll, daemon=True)]
        self.threads += [threading.Thread(target=self._work, daemon=True) for _ in range(self.workers)]
        for t in self.threads:
            t.start()

    def _poll(self):
        while not self.done.is_set():
            if self.done.wait(self.poll_interval_s):
                return
            status, self.last_poll = probes.http_status(self.host, self.port, self.ready_path,
                                                        self.poll_interval_s)
            if status not in self.ready_codes:
                self.removed_at = time.monotonic()
                self.routing.clear()
                return
            self.polled_ready.set()

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
