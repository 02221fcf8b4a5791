"""Starts kurz binaries as real processes for tests: port 0, ready line parsed from the JSON log."""
import json
import os
import queue
import subprocess
import sys
import threading
import time
import socket

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import opspath  # noqa: E402,F401  (scripts/ on sys.path)
from kurzops import wait, web  # noqa: E402
from kurzops.net import free_port  # noqa: E402,F401  (the tests' free port)


class Service:
    """A running kurz process. Its stdout (JSON lines) is collected in `lines`."""

    def __init__(self, binary, env=None, ready_timeout=10.0, preexec=None):
        """Starts `binary` on port 0 and waits for its "ready" log line; with PORT in `env`,
        waits for /health/live instead (for runs whose log level hides the ready line).
        `preexec` runs in the child before the exec (e.g. to join a cgroup or set affinity)."""
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LOG_LEVEL": "info",
                    "LISTEN_ADDRESS": "127.0.0.1", "SHUTDOWN_DELAY_MS": "100", "HOSTNAME": "proc-test"}
        for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"):
            if key in os.environ:
                full_env[key] = os.environ[key]
        full_env.update(env or {})
        full_env.setdefault("PORT", "0")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen([binary], env=full_env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, preexec_fn=preexec)
        self.lines = []
        self._stderr = None
        self._queue = queue.Queue()
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        self.port = None
        self.ready_line = None
        deadline = time.monotonic() + ready_timeout
        if full_env["PORT"] != "0":
            self._wait_live(int(full_env["PORT"]), deadline)
        while self.port is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                self.kill()
                raise RuntimeError("service did not become ready: " + self.stderr())
            try:
                line = self._queue.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line.get("msg") == "ready":
                self.port = line["port"]
                self.ready_line = line
        self.ready_after = time.monotonic() - self.started_at

    def _wait_live(self, port, deadline):
        try:
            wait.wait_http("http://127.0.0.1:%d/health/live" % port, max(0.0, deadline - time.monotonic()),
                           pid=self.proc.pid, interval=0.02)
            self.port = port
        except (wait.Timeout, ProcessLookupError):
            pass  # reported below: "did not become ready" with its stderr

    def _pump(self):
        with self.proc.stdout:
            self._pump_lines()

    def _pump_lines(self):
        for raw in self.proc.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                line = {"unparsable": raw}
            self.lines.append(line)
            self._queue.put(line)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def get(self, path, timeout=5.0):
        """(status, headers, body) of a GET, as request() gives it."""
        return request(self, "GET", path, timeout=timeout)

    def terminate(self, timeout=15.0):
        """SIGTERM, then the exit code."""
        self.proc.terminate()
        code = self.proc.wait(timeout=timeout)
        self.stderr()
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr()

    def stderr(self):
        """What the process wrote on stderr, once it has exited (pipes closed then). Also waits
        for the stdout reader, so that `lines` then holds every line the process wrote."""
        if self.proc.poll() is None:
            return ""
        self._pump_thread.join(timeout=10)
        if self._stderr is None:
            self._stderr = self.proc.stderr.read()
            self.proc.stderr.close()
        return self._stderr


def run_to_exit(binary, env, timeout=10.0):
    """Runs a binary that is expected to exit by itself; returns (code, stdout, stderr)."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    full_env.update(env)
    done = subprocess.run([binary], env=full_env, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


class RedisServer:
    """A real redis-server on a free port of 127.0.0.1, with an append-only file in a temporary
    folder so that a stop and start keeps the data, as a restarted production Redis would."""

    def __init__(self):
        import tempfile
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="kurz-redis-")
        self.proc = None
        self.start()

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def start(self, timeout=5.0):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", self.dir,
             "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def pong():
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited with %s" % self.proc.returncode)
            return self.ping()
        wait.wait_until("redis-server on %d answering PING" % self.port, pong, timeout, interval=0.02)

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args):
        """One command over RESP; returns the raw reply bytes (enough for tests)."""
        payload = b"*%d\r\n" % len(args)
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            payload += b"$%d\r\n%s\r\n" % (len(data), data)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(payload)
            return s.recv(65536)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def close(self):
        import shutil
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def request(service, method, path, body=None, headers=None, timeout=5.0):
    """A kurzops.web.Response (status, headers with lower-case names, body) of any request to a
    Service; a redirect is never followed, a 4xx or 5xx is returned, not raised."""
    return web.request(service.url(""), method, path, body, headers, timeout)


class Instances:
    """For a TestCase that starts several instances of kurz's services against one Redis: the class
    names its binaries in `binaries` (service name -> path), setUp sets `env` (shared by every instance)
    and `services` (the started ones, for tearDown)."""
    binaries = {}

    def start(self, name, **extra):
        """Starts service `name` with `env` and `extra`, as HOSTNAME <name>-<n> (n counts them)."""
        env = dict(self.env)
        env["HOSTNAME"] = "%s-%d" % (name, len(self.services))
        env.update(extra)
        service = Service(self.binaries[name], env)
        self.services.append(service)
        return service
