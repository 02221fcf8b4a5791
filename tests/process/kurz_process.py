"""Starts kurz binaries as real processes for tests: port 0, ready line parsed from the JSON log."""
import json
import os
import queue
import subprocess
import threading
import time
import socket
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Tests look at a 302 itself: following it would send traffic off this machine."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """A running kurz process. Its stdout (JSON lines) is collected in `lines`."""

    def __init__(self, binary, env=None, ready_timeout=10.0):
        """Starts `binary` on port 0 and waits for its "ready" log line; with PORT in `env`,
        waits for /health/live instead (for runs whose log level hides the ready line)."""
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LOG_LEVEL": "info",
                    "LISTEN_ADDRESS": "127.0.0.1", "SHUTDOWN_DELAY_MS": "100", "HOSTNAME": "proc-test"}
        for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if key in os.environ:
                full_env[key] = os.environ[key]
        full_env.update(env or {})
        full_env.setdefault("PORT", "0")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen([binary], env=full_env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self._queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
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
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with _OPENER.open("http://127.0.0.1:%d/health/live" % port, timeout=1) as r:
                    if r.status == 200:
                        self.port = port
                        return
            except OSError:
                time.sleep(0.02)

    def _pump(self):
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
        """(status, headers, body) of a GET, without following redirects or raising on 4xx/5xx."""
        request = urllib.request.Request(self.url(path))
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def terminate(self, timeout=15.0):
        """SIGTERM, then the exit code."""
        self.proc.terminate()
        return self.proc.wait(timeout=timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr(self):
        if self.proc.poll() is None:
            return ""
        return self.proc.stderr.read()


def run_to_exit(binary, env, timeout=10.0):
    """Runs a binary that is expected to exit by itself; returns (code, stdout, stderr)."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    full_env.update(env)
    done = subprocess.run([binary], env=full_env, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr
