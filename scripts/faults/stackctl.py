"""The stage 3 compose stack as the fault suite sees it: its containers, HAProxy's view of them,
the edge, and the load that runs while a fault is injected. Standard library only.

Contract: every call is bounded in time; nothing is sent anywhere but 127.0.0.1 published ports,
127.0.0.1 inside HAProxy's network namespace (the load, see Load) and the stack's own containers (docker exec of kurz-probe, the images' only program besides the
service)."""
import json
import os
import re
import subprocess
import sys
import threading
import time
from typing import NamedTuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from kurzops import ROOT, compose, haproxy  # noqa: E402
from kurzops.web import request, try_request  # noqa: E402,F401 - faults.py takes try_request from here

# Services whose readiness depends on Redis (web has none).
NEEDS_REDIS = ("links", "redirect", "stats", "qr")
KURZ_SERVICES = ("links", "redirect", "stats", "qr", "web")
TARGET = "http://127.0.0.1:9/kurz-faults/"  # never fetched: redirects are not followed


class ContainerState(NamedTuple):
    """One container as Docker reports it."""
    service: str  # its compose service
    status: str  # running, exited, ...
    health: str  # healthy, starting, unhealthy; None without a HEALTHCHECK
    restarts: int  # Docker's RestartCount
    started_at: str  # State.StartedAt: changes when the container starts again


class Failure(Exception):
    """A step of the suite could not be done (not a bound missed: those are reported)."""


def run(cmd, timeout, check=True, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        proc = subprocess.run(cmd, timeout=timeout, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, env=full_env)
    except subprocess.TimeoutExpired:
        raise Failure("timed out after %ss: %s" % (timeout, " ".join(cmd)))
    if check and proc.returncode != 0:
        raise Failure("exit %d: %s\n%s" % (proc.returncode, " ".join(cmd), proc.stdout[-2000:]))
    return proc


class Stack:
    def __init__(self, project, compose_cmd, stage="stage3"):
        self.project, self.compose_cmd = project, compose_cmd
        self.stage, self.stage_args = stage, compose.stage_args(stage)
        self.edge = self.published("haproxy", 8080)
        self.lb_stats = self.published("haproxy", 8404)

    def compose(self, *args, timeout=120):
        return run([*self.compose_cmd, "-p", self.project, *self.stage_args, *args], timeout,
                   env={"KURZ_PROJECT": self.project})

    def up(self, *args, timeout=300):
        """scripts/docker/stack.sh up (the one way to start or change a stack), images as they are."""
        return run([os.path.join(ROOT, "scripts", "docker", "stack.sh"), "up", self.stage, *args], timeout,
                   env={"KURZ_PROJECT": self.project, "KURZ_NO_BUILD": "1",
                        "KURZ_COMPOSE": " ".join(self.compose_cmd)})

    def published(self, service, port):
        out = self.compose("port", service, str(port), timeout=30).stdout.split()
        if not out:
            raise Failure("%s:%d is not published" % (service, port))
        return "http://127.0.0.1:" + out[-1].rpartition(":")[2]

    def containers(self, service=None):
        """Ids of the stack's containers (of one service), running or not, in replica order."""
        args = ["ps", "-aq", "--filter", "label=com.docker.compose.project=" + self.project]
        if service:
            args += ["--filter", "label=com.docker.compose.service=" + service]
        ids = self.docker(*args, timeout=30).stdout.split()
        if not ids:
            return []
        infos = json.loads(self.docker("inspect", *ids, timeout=30).stdout)
        infos.sort(key=lambda i: (i["Config"]["Labels"].get("com.docker.compose.service", ""),
                                  int(i["Config"]["Labels"].get("com.docker.compose.container-number", 0))))
        return [i["Id"] for i in infos]

    def haproxy_pid(self):
        """The host pid of the running HAProxy container's first process (None: none running)."""
        for cid in self.containers("haproxy"):
            state = self.inspect(cid)["State"]
            if state.get("Running") and state.get("Pid"):
                return state["Pid"]
        return None

    @staticmethod
    def inspect(cid):
        return json.loads(run(["docker", "inspect", cid], 30).stdout)[0]

    @staticmethod
    def docker(*args, timeout=60, check=True):
        return run(["docker", *args], timeout, check=check)

    def states(self):
        """{cid: ContainerState} of every container of the stack."""
        ids = self.docker("ps", "-aq", "--filter", "label=com.docker.compose.project=" + self.project,
                          timeout=30).stdout.split()
        out = {}
        for i in json.loads(self.docker("inspect", *ids, timeout=30).stdout) if ids else []:
            st = i["State"]
            out[i["Id"]] = ContainerState(i["Config"]["Labels"].get("com.docker.compose.service"), st["Status"],
                                          (st.get("Health") or {}).get("Status"), i["RestartCount"],
                                          st["StartedAt"])
        return out

    def address(self, cid):
        nets = self.inspect(cid)["NetworkSettings"]["Networks"]
        return next(iter(nets.values()))["IPAddress"]

    def probe(self, cid, path):
        """kurz-probe inside the container (its own 127.0.0.1): True when it answered 2xx."""
        proc = self.docker("exec", cid, "/usr/local/bin/kurz-probe", "--timeout-ms", "1000",
                           "http://127.0.0.1:8080" + path, timeout=15, check=False)
        return proc.returncode == 0

    def lb_servers(self):
        """HAProxy's statistics: [(backend, server, address, status, backup)] of every filled slot."""
        return [srv for srv in haproxy.servers(haproxy.stats(self.lb_stats, timeout=2))
                if srv.address and not srv.status.startswith("MAINT")]

    def lb_up(self, backend):
        """Addresses of `backend`'s regular servers that HAProxy has UP."""
        return {a for b, _, a, st, bck in self.lb_servers() if b == backend and not bck and st.startswith("UP")}

    def whole(self):
        """'' when the stack is whole again, else what is missing: every container running, every
        replica of every kurz service UP in HAProxy, and through the edge a link can be created and
        redirects (302)."""
        by_service = {}
        for cid, (svc, status, *_) in self.states().items():
            if status != "running":
                return "%s %s" % (svc, status)
            by_service.setdefault(svc, []).append(cid)
        for svc in KURZ_SERVICES:
            want = len(by_service.get(svc, []))
            if len(self.lb_up(svc)) < want:
                return "HAProxy: %d of %d %s UP" % (len(self.lb_up(svc)), want, svc)
        status, _, body = try_request(self.edge, "POST", "/api/links", {"url": TARGET + "whole"})
        if status != 201:
            return "create: %s" % status
        code = json.loads(body)["code"]
        status, headers, _ = try_request(self.edge, "GET", "/" + code)
        if status != 302:
            return "redirect: %s" % status
        return ""

    def wait_whole(self, timeout, interval=0.1):
        """Seconds until whole() (from now), or raises with what was still missing."""
        t0 = time.monotonic()
        missing = "?"
        while time.monotonic() - t0 < timeout:
            was, missing = missing, self.whole()
            if not missing:
                return time.monotonic() - t0
            if missing != was and os.environ.get("KURZ_FAULTS_VERBOSE"):
                print("faults:   %.2f s: %s" % (time.monotonic() - t0, missing), file=sys.stderr, flush=True)
            time.sleep(interval)
        raise Failure("not whole again within %ss: %s" % (timeout, missing))

    def create_links(self, tag, count):
        """[(code, target)] of `count` new links, created through the edge."""
        links = []
        for i in range(count):
            url = "%s%s/%d" % (TARGET, tag, i)
            status, _, body = request(self.edge, "POST", "/api/links", {"url": url}, timeout=5)
            if status != 201:
                raise Failure("create %s: %s %s" % (url, status, body[:200]))
            links.append((json.loads(body)["code"], url))
        return links

    def links_lost(self, links):
        """Codes of `links` that no longer resolve (GET /api/links/{code}: no click is recorded)."""
        lost = []
        for code, url in links:
            for _ in range(3):
                status, _, body = try_request(self.edge, "GET", "/api/links/" + code)
                if status is not None and status != 503:
                    break
                time.sleep(0.5)
            if status != 200 or json.loads(body).get("url") != url:
                lost.append(code)
        return lost

    def clicks(self, codes):
        """Total clicks the stats service counts over `codes` (None when one cannot be read)."""
        total = 0
        for code in codes:
            status, _, body = try_request(self.edge, "GET", "/api/stats/" + code)
            if status != 200:
                return None
            total += json.loads(body)["total"]
        return total

    def wait_clicks(self, codes, want, timeout):
        """Waits until the counted clicks reach `want` and stay put for a second; returns them."""
        deadline = time.monotonic() + timeout
        last, stable_since = None, time.monotonic()
        while time.monotonic() < deadline:
            got = self.clicks(codes)
            if got != last:
                last, stable_since = got, time.monotonic()
            elif got is not None and got >= want and time.monotonic() - stable_since >= 1.0:
                return got
            time.sleep(0.25)
        return last


class Load:
    """bench/load --mode rate in the background on the given codes (no seeding, no warm-up): an
    open-loop stream at a fixed rate with the default mix. started() returns once it sends."""

    def __init__(self, stack, codes_file, rate, duration, connections, out, netns=True):
        self.out = out
        # Without Docker's userland proxy: inside HAProxy's network namespace (nsenter -n), where
        # 127.0.0.1:8080 is HAProxy itself. Not when HAProxy's container is restarted under the
        # load (its namespace goes with it), nor without root: the published port then.
        prefix, base = [], stack.edge
        self.path = "published-port"  # through docker-proxy
        pid = stack.haproxy_pid() if netns and os.geteuid() == 0 else None
        if pid:
            prefix, base = ["nsenter", "-t", str(pid), "-n", "--"], "http://127.0.0.1:8080"
            self.path = "haproxy-netns"  # nsenter -n, 127.0.0.1:8080 there: no docker-proxy
        cmd = prefix + [os.path.join(ROOT, "bench", "load"), "--base-url", base, "--mode", "rate",
               "--rate", str(rate), "--duration", str(duration), "--warmup", "0",
               "--connections", str(connections), "--codes", codes_file, "--timeout", "5",
               "--out", out]
        self.duration = duration
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self._sending = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())
            if " sent " in line or "open loop" in line:
                self._sending.set()
        self._sending.set()

    def started(self, timeout=60):
        if not self._sending.wait(timeout) or self.proc.poll() not in (None, 0):
            raise Failure("bench/load did not start: %s" % "\n".join(self.lines[-10:]))
        self.t0 = time.monotonic()
        return self

    def remaining(self):
        return max(0.0, self.duration - (time.monotonic() - self.t0))

    def result(self):
        try:
            self.proc.wait(timeout=self.duration + 60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("bench/load overran its duration")
        self._reader.join(5)
        if self.proc.returncode != 0:
            raise Failure("bench/load exit %d: %s" % (self.proc.returncode, "\n".join(self.lines[-10:])))
        with open(self.out) as f:
            return json.load(f)


# What a kind of request answers when it worked.
GOOD = {"redirect": "302", "create": "201", "stats": "200", "qr": "200"}


def failed_by_kind(load):
    """{kind: requests sent that did not get their good answer} (kinds with none left out)."""
    out = {}
    for kind, k in load["kinds"].items():
        bad = k.get("sent", 0) - k.get("status", {}).get(GOOD.get(kind, "200"), 0)
        if bad:
            out[kind] = bad
    return out


# HAProxy's httplog line: frontend, backend/server, timers, status, bytes, cookies, termination state.
_LOG = re.compile(r'\] (\S+) (\S+)/(\S+) \S+ (-?\d+) \S+ \S+ \S+ (\S{4}) ')


def shutdown_flushes(stack, since):
    """What the redirect replicas logged at shutdown since `since`: each stop's wait for its click
    buffer to reach Redis (CLICK_SHUTDOWN_FLUSH_MS). {stops, published, dropped, longest_wait_ms}."""
    out = {"stops": 0, "published": 0, "dropped": 0, "longest_wait_ms": 0}
    for cid in stack.containers("redirect"):
        logs = stack.docker("logs", "--since", since, cid, timeout=60, check=False).stdout
        for raw in logs.splitlines():
            if "at shutdown" not in raw:
                continue
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if not str(entry.get("msg", "")).startswith("clicks "):
                continue
            out["stops"] += 1
            out["published"] += int(entry.get("published", 0))
            out["dropped"] += int(entry.get("dropped", 0))
            out["longest_wait_ms"] = max(out["longest_wait_ms"], int(entry.get("waited_ms", 0)))
    return out


def edge_log(stack, since):
    """What HAProxy logged for the `http` frontend since `since` (RFC 3339, UTC):
    {answered, edge_failed: answers HAProxy made itself (no server, a connection it could not make
    or lost, a timeout: termination state other than ----), service_5xx: 5xx a service answered}."""
    out = {"answered": 0, "edge_failed": 0, "service_5xx": 0, "edge_examples": []}
    for cid in stack.containers("haproxy"):
        logs = stack.docker("logs", "--since", since, cid, timeout=60, check=False).stdout
        for m in _LOG.finditer(logs):
            frontend, _, server, status, term = m.groups()
            if frontend != "http":
                continue
            out["answered"] += 1
            if server == "<NOSRV>" or term != "----":
                out["edge_failed"] += 1
                if len(out["edge_examples"]) < 5:
                    out["edge_examples"].append("%s %s %s" % (server, status, term))
            elif int(status) >= 500:
                out["service_5xx"] += 1
    return out
