"""Health checks as the Mesos executor runs them, readiness checks as Marathon runs them.

Health (src/checks/checker_process.cpp): MESOS_HTTP / MESOS_HTTPS run the AGENT's curl inside the
container's network namespace against 127.0.0.1:<container port>; MESOS_TCP connects there. First
probe `delaySeconds` after the task runs, the next `intervalSeconds` after a probe ends, a probe
longer than `timeoutSeconds` fails, failures before the first success are ignored within
`gracePeriodSeconds`, `maxConsecutiveFailures` in a row kill the task. Healthy: 200-399.
Readiness (Marathon's ReadinessCheckExecutor): http://<agent>:<host port of portName><path> from the
moment the task runs, every `intervalSeconds` with `timeoutSeconds`, ready when the status is in
`httpStatusCodesForReady` (default [200]); errors count as 504.
"""
import http.client
import subprocess
import threading
import time

HEALTH_DEFAULTS = {"gracePeriodSeconds": 300, "intervalSeconds": 60, "timeoutSeconds": 20,
                   "maxConsecutiveFailures": 3, "delaySeconds": 15, "path": "/", "portIndex": 0}
READINESS_DEFAULTS = {"protocol": "HTTP", "path": "/", "portName": "http-api", "intervalSeconds": 30,
                      "timeoutSeconds": 10, "httpStatusCodesForReady": [200]}


def health_spec(check):
    spec = dict(HEALTH_DEFAULTS)
    spec.update(check)
    spec["protocol"] = spec.get("protocol") or "HTTP"
    return spec


def readiness_spec(check):
    spec = dict(READINESS_DEFAULTS)
    spec.update(check)
    return spec


def probe_command(spec, pid, container_port):
    """The executor's probe, run in the container's network namespace."""
    if spec["protocol"] in ("MESOS_HTTP", "MESOS_HTTPS"):
        scheme = "https" if spec["protocol"] == "MESOS_HTTPS" else "http"
        return ["nsenter", "-t", str(pid), "-n", "curl", "-s", "-S", "-L", "-k", "-w", "%{http_code}",
                "-o", "/dev/null", "-g", "%s://127.0.0.1:%d%s" % (scheme, container_port, spec["path"])]
    if spec["protocol"] == "MESOS_TCP":
        # Mesos runs its mesos-tcp-connect helper: connect(), then exit 0.
        return ["nsenter", "-t", str(pid), "-n", "bash", "-c",
                "exec 3<>/dev/tcp/127.0.0.1/%d" % container_port]
    raise ValueError(spec["protocol"])


def probe_once(spec, pid, container_port):
    """(ok, what): one probe with the check's timeout."""
    argv = probe_command(spec, pid, container_port)
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=float(spec["timeoutSeconds"]))
    except subprocess.TimeoutExpired:
        return False, "timed out after %ss" % spec["timeoutSeconds"]
    if spec["protocol"] == "MESOS_TCP":
        if proc.returncode == 0:
            return True, "connected"
        return False, "connect failed: %s" % (proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1]
    if proc.returncode != 0:
        return False, proc.stderr.strip() or "curl exit %d" % proc.returncode
    status = proc.stdout.strip()
    if status.isdigit() and 200 <= int(status) < 400:
        return True, "HTTP " + status
    return False, "HTTP " + status


def listening_ports(pid):
    """The TCP ports a container listens on (its network namespace's /proc/<pid>/net/tcp{,6})."""
    ports = set()
    for name in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, name)) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if len(fields) > 3 and fields[3] == "0A":  # LISTEN
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return sorted(ports)


class HealthChecker(threading.Thread):
    """Runs one health check with Mesos' timing until stopped. `healthy_at` is the time of the
    first success (seconds after the task started); `killed` says why the executor would kill."""

    def __init__(self, spec, pid, container_port, started_at, stop_event):
        super().__init__(daemon=True)
        self.spec, self.pid, self.port, self.started_at = spec, pid, container_port, started_at
        self.stop_event = stop_event
        self.healthy_at = None
        self.killed = None
        self.last = None
        self.probes = 0
        self.paused = threading.Event()

    def run(self):
        spec = self.spec
        if self.stop_event.wait(max(0.0, self.started_at + float(spec["delaySeconds"]) - time.monotonic())):
            return
        failures = 0
        while not self.stop_event.is_set() and not self.paused.is_set():
            ok, what = probe_once(spec, self.pid, self.port)
            if self.paused.is_set():
                return  # the executor pauses checks once it kills the task
            self.probes += 1
            self.last = what
            now = time.monotonic() - self.started_at
            if ok:
                failures = 0
                if self.healthy_at is None:
                    self.healthy_at = now
            elif self.healthy_at is not None or now >= float(spec["gracePeriodSeconds"]):
                failures += 1
                if failures >= int(spec["maxConsecutiveFailures"]):
                    self.killed = "%d consecutive failures (last: %s) at %.1f s: the executor kills the task" % (
                        failures, what, now)
                    return
            if self.stop_event.wait(float(spec["intervalSeconds"])):
                return


def http_status(host, port, path, timeout_s, https=False):
    """(status or None, what): one GET without following redirects (Marathon's readiness check)."""
    cls = http.client.HTTPSConnection if https else http.client.HTTPConnection
    conn = cls(host, port, timeout=timeout_s)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        body = resp.read(4096).decode("utf-8", "replace").strip()
        return resp.status, "HTTP %d" % resp.status + (" %s" % body[:300] if resp.status >= 300 and body else "")
    except (OSError, http.client.HTTPException) as e:
        return None, "%s (counts as 504)" % (e.__class__.__name__ + (": %s" % e if str(e) else ""))
    finally:
        conn.close()


class ReadinessChecker(threading.Thread):
    """Marathon's readiness check from the task's start until ready (or stopped)."""

    def __init__(self, spec, host, host_port, started_at, stop_event):
        super().__init__(daemon=True)
        self.spec, self.host, self.port, self.started_at = spec, host, host_port, started_at
        self.stop_event = stop_event
        self.ready_at = None
        self.last = None
        self.probes = 0

    def run(self):
        spec = self.spec
        codes = set(int(c) for c in spec["httpStatusCodesForReady"])
        while not self.stop_event.is_set():
            status, what = http_status(self.host, self.port, spec["path"], float(spec["timeoutSeconds"]),
                                       https=spec["protocol"] == "HTTPS")
            self.probes += 1
            self.last = what
            if (status if status is not None else 504) in codes:
                self.ready_at = time.monotonic() - self.started_at
                return
            if self.stop_event.wait(float(spec["intervalSeconds"])):
                return
