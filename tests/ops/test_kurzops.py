"""The operations library (scripts/kurzops) against real servers: a local HTTP server, a real
HAProxy with a statistics listener, and its command line as bash scripts call it."""
import http.server
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from kurzops import compose, haproxy, net, tools, wait, web  # noqa: E402


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://192.0.2.1/never-followed")
            body = b""
        else:
            self.send_response(200)
            body = ("GET %s" % self.path).encode()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # HAProxy's checks close early; nothing to see


def serve():
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def cli(*args, timeout=30):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "scripts"))
    return subprocess.run([sys.executable, "-m", "kurzops", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


class Http(unittest.TestCase):
    def setUp(self):
        self.server = serve()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]

    def test_get_post_json_and_prefix(self):
        self.assertEqual(web.request(self.base, "GET", "/a").body, b"GET /a")
        self.assertEqual(web.request(self.base + "/p/", "GET", "/a").body, b"GET /p/a")
        self.assertEqual(web.request(self.base + "/x?y=1").body, b"GET /x?y=1")
        resp = web.request(self.base, "POST", "/api", {"url": "http://e/"})
        self.assertEqual((resp.status, resp.headers["content-type"], resp.json()),
                         (201, "application/json", {"url": "http://e/"}))

    def test_a_redirect_is_not_followed(self):
        resp = web.request(self.base, "GET", "/redirect")
        self.assertEqual(resp.status, 302)
        self.assertEqual(resp.headers["location"], "http://192.0.2.1/never-followed")

    def test_no_answer(self):
        port = net.free_port()
        with self.assertRaises(OSError):
            web.request("http://127.0.0.1:%d" % port, "GET", "/", timeout=1)
        resp = web.try_request("http://127.0.0.1:%d" % port, "GET", "/", timeout=1)
        self.assertEqual((resp.status, resp.body), (None, b"ConnectionRefusedError"))
        with self.assertRaises(ValueError):
            web.request("https://127.0.0.1:1", "GET", "/")


class Waits(unittest.TestCase):
    def test_returns_the_value_and_names_what_timed_out(self):
        calls = []
        self.assertEqual(wait.wait_until("third", lambda: calls.append(1) or len(calls) >= 3 and "yes", 5,
                                         interval=0.001), "yes")
        self.assertEqual(len(calls), 3)
        t0 = time.monotonic()
        with self.assertRaisesRegex(wait.Timeout, r"never: not within 0\.2 s \(last: 'ValueError: no'\)"):
            wait.wait_until("never", lambda: (_ for _ in ()).throw(ValueError("no")), 0.2, interval=0.01)
        self.assertGreaterEqual(time.monotonic() - t0, 0.2)

    def test_wait_http_stops_when_the_process_exits(self):
        proc = subprocess.Popen(["sleep", "0.1"])
        t0 = time.monotonic()
        with self.assertRaises(ProcessLookupError):
            wait.wait_http("http://127.0.0.1:%d/" % net.free_port(), 30, pid=proc.pid)
        self.assertLess(time.monotonic() - t0, 20)
        proc.wait()

    def test_wait_http(self):
        server = serve()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.assertTrue(wait.wait_http("http://127.0.0.1:%d/" % server.server_address[1], 5))


class Compose(unittest.TestCase):
    def test_every_stage_file_exists(self):
        for stage in compose.STAGES:
            for path in compose.stage_files(stage, absolute=True):
                self.assertTrue(os.path.isfile(path), path)
        self.assertEqual(compose.stage_args("stage3-ha"),
                         ["-f", os.path.join(ROOT, "docker-compose.yml"),
                          "-f", os.path.join(ROOT, "docker-compose.ha.yml")])
        with self.assertRaisesRegex(ValueError, "unknown stage 'stage4'"):
            compose.stage_files("stage4")

    def test_kurz_compose_wins(self):
        old = os.environ.get("KURZ_COMPOSE")
        os.environ["KURZ_COMPOSE"] = "docker  compose"
        try:
            self.assertEqual(compose.compose_command(), ["docker", "compose"])
        finally:
            if old is None:
                del os.environ["KURZ_COMPOSE"]
            else:
                os.environ["KURZ_COMPOSE"] = old


class HAProxyStats(unittest.TestCase):
    """A real HAProxy: backend `app` with one server that answers its check and one that cannot."""

    def setUp(self):
        exe = tools.haproxy_exe()
        if exe is None:
            self.skipTest("haproxy is not installed (Debian package haproxy)")
        self.server = serve()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        stats_port = net.free_port()
        cfg = ("global\n    maxconn 64\ndefaults\n    mode http\n    timeout connect 1s\n"
               "    timeout client 5s\n    timeout server 5s\n"
               "listen stats\n    bind 127.0.0.1:%d\n    stats enable\n    stats uri /stats\n    stats show-legends\n"
               "backend app\n    option httpchk GET /\n    default-server inter 100ms fall 1 rise 1\n"
               "    server up1 127.0.0.1:%d check\n    server down1 127.0.0.1:%d check\n"
               "    server spare 127.0.0.1:%d check backup\n"
               % (stats_port, self.server.server_address[1], net.free_port(), self.server.server_address[1]))
        with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
            f.write(cfg)
        self.addCleanup(os.remove, f.name)
        self.proc = subprocess.Popen([exe, "-db", "-f", f.name], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.addCleanup(self.proc.wait, 10)
        self.addCleanup(self.proc.terminate)
        self.base = "http://127.0.0.1:%d" % stats_port

    def test_servers_and_their_state(self):
        up = wait.wait_until("up1 and spare UP", lambda: haproxy.servers_up(self.base, "app") == {"up1", "spare"}
                             or None, 10)
        self.assertTrue(up)
        by_name = {s.name: s for s in haproxy.servers(haproxy.stats(self.base), "app")}
        self.assertEqual(sorted(by_name), ["down1", "spare", "up1"])
        self.assertTrue(by_name["spare"].backup)
        self.assertFalse(by_name["up1"].backup)
        self.assertEqual(by_name["up1"].address, "127.0.0.1")
        self.assertTrue(by_name["down1"].status.startswith("DOWN"), by_name["down1"])
        self.assertEqual(haproxy.servers_up(self.base, "nothing"), set())
        self.assertEqual(haproxy.stats("http://127.0.0.1:%d" % net.free_port(), timeout=1), [])

    def test_the_command_line(self):
        wait.wait_until("up1 UP", lambda: "up1" in haproxy.servers_up(self.base, "app"), 10)
        self.assertEqual(cli("haproxy-up", self.base, "app").stdout, "2\n")
        self.assertEqual(cli("wait-backend", self.base, "app", "2", "5").returncode, 0)
        proc = cli("wait-backend", self.base, "app", "3", "1")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("HAProxy has 2 servers of app UP, not 3, after 1s", proc.stderr)
        csv_text = cli("haproxy-csv", self.base).stdout
        self.assertTrue(csv_text.startswith("pxname,svname,"), csv_text[:40])


class CommandLine(unittest.TestCase):
    def test_usage_and_errors(self):
        self.assertEqual(cli("--help").returncode, 0)
        self.assertEqual(cli("no-such-command").returncode, 2)
        self.assertEqual(cli("stage-files", "stage3-ha").stdout, "docker-compose.yml\ndocker-compose.ha.yml\n")
        proc = cli("stage-files", "stage9")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("unknown stage 'stage9'", proc.stderr)
        port = int(cli("free-port").stdout)
        self.assertTrue(1024 < port < 65536)
        self.assertEqual(cli("wait-http", "http://127.0.0.1:%d/" % net.free_port(), "0.3").returncode, 1)

    def test_load_tool(self):
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "scripts"), KURZ_LOAD="/nonexistent/kurz-load")
        proc = subprocess.run([sys.executable, "-m", "kurzops", "load-tool"], capture_output=True, text=True,
                              env=env, timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("KURZ_LOAD=/nonexistent/kurz-load", proc.stderr)
        env["KURZ_LOAD"] = sys.executable
        self.assertEqual(subprocess.run([sys.executable, "-m", "kurzops", "load-tool"], capture_output=True,
                                        text=True, env=env, timeout=30).stdout.strip(), sys.executable)
        self.assertTrue(tools.LOAD_CANDIDATES)



class WaitStatus(unittest.TestCase):
    """`ops wait-status`: a status other than 200 (nginx's 302, the edge's 503), as bench/ and the
    browser test wait for them."""

    def test_the_command_line(self):
        server = serve()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        base = "http://127.0.0.1:%d" % server.server_address[1]
        self.assertEqual(cli("wait-status", base + "/redirect", "302", "5").returncode, 0)
        t0 = time.monotonic()
        self.assertEqual(cli("wait-status", base + "/", "302", "0.3").returncode, 1)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        proc = subprocess.Popen(["sleep", "0.1"])
        self.assertEqual(cli("wait-status", "http://127.0.0.1:%d/" % net.free_port(), "503", "30",
                             str(proc.pid)).returncode, 2)
        proc.wait()
        self.assertEqual(cli("wait-status", base + "/", "x", "1").returncode, 1)


class WaitBackendMinimum(unittest.TestCase):
    """`ops wait-backend-min` against the real HAProxy of HAProxyStats: at least N servers UP."""

    setUp = HAProxyStats.setUp

    def test_the_command_line(self):
        self.assertEqual(cli("wait-backend-min", self.base, "app", "1", "10").returncode, 0)
        self.assertEqual(cli("wait-backend-min", self.base, "app", "2", "10").returncode, 0)
        proc = cli("wait-backend-min", self.base, "app", "3", "1")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("fewer than 3 servers of app UP after 1s", proc.stderr)


if __name__ == "__main__":
    unittest.main()
