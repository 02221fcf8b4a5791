"""load.tool: bench/load (kurz-load and the wrk mix) against a real monolith and a real nginx.

Asserts correctness only, never a speed: the JSON is complete and adds up, the mix and the Zipf
popularity are honoured (checked against the monolith's own click counts), seeded links exist,
redirects are checked against their targets, the open-loop schedule holds at a low rate, a
SIGSTOPped server shows in p90 and max, creates refused with 429 are counted, and bad usage or a
dead URL ends with a clear message. Env: KURZ_MONOLITH, KURZ_LOAD (set by ctest).
"""
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "process"))
import kurz_process  # noqa: E402  (it puts scripts/ on sys.path)
from kurzops import wait, web  # noqa: E402

LOAD = os.path.join(ROOT, "bench", "load")
KINDS = ("redirect", "create", "stats", "qr")
DEFAULT_MIX = {"redirect": 90, "create": 3, "stats": 4, "qr": 3}


def run_load(args, timeout=90):
    """Runs bench/load; returns the CompletedProcess (text)."""
    return subprocess.run([LOAD] + args, capture_output=True, text=True, timeout=timeout,
                          env=os.environ.copy())


def binomial_ok(k, n, p, sigmas=5.0):
    """True when k successes of n are consistent with probability p."""
    return abs(k - n * p) <= sigmas * math.sqrt(n * p * (1 - p)) + 2


class _ServerProcess:
    """A reference server started by a test: waits (bounded) until `ready()` holds, then serves on
    127.0.0.1:`port` until stop(), which also removes its folder."""

    def _start(self, argv, ready, what):
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def started():
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s" % (what, self.proc.returncode))
            return ready()
        try:
            wait.wait_until(what + " serving", started, 10)
        except wait.Timeout:
            self.stop()
            raise

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Nginx(_ServerProcess):
    """nginx answering `return 302` on every path (as bench/lib.sh's start_nginx does): it does
    not echo X-Request-Id and has no kurz API."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kurz-load-nginx-")
        self.port = kurz_process.free_port()
        self.closing_port = kurz_process.free_port()  # closes every second connection's answer
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  keepalive_requests 100000;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{p};
    location / {{ return 302 https://example.com/; }}
  }}
  server {{
    listen 127.0.0.1:{c};
    keepalive_requests 2;
    location / {{ return 302 https://example.com/; }}
  }}
}}
""".format(d=self.dir, p=self.port, c=self.closing_port))
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self._start([binary, "-p", self.dir + "/", "-c", conf, "-e", os.path.join(self.dir, "error.log")],
                    self._answers_302, "nginx")

    def _answers_302(self):
        return web.try_request(self.url, "GET", "/x", timeout=1).status == 302


class HAProxy(_ServerProcess):
    """A real HAProxy in front of a server, with the stage 3 frontend's request-id rule (it keeps
    the client's X-Request-Id, and sends header names lower-case)."""

    def __init__(self, backend_port):
        self.dir = tempfile.mkdtemp(prefix="kurz-load-haproxy-")
        self.port = kurz_process.free_port()
        conf = os.path.join(self.dir, "haproxy.cfg")
        with open(conf, "w") as f:
            f.write("""global
    maxconn 1000
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    option http-keep-alive
frontend http
    bind 127.0.0.1:{p}
    http-request set-header X-Request-Id %[uuid()] unless {{ req.hdr(X-Request-Id) -m found }}
    default_backend kurz
backend kurz
    server kurz 127.0.0.1:{b}
""".format(p=self.port, b=backend_port))
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self._start([binary, "-f", conf, "-db"], self._backend_live, "haproxy")

    def _backend_live(self):
        return web.try_request(self.url, "GET", "/health/live", timeout=1).status == 200


class LoadToolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.monolith = kurz_process.Service(os.environ["KURZ_MONOLITH"], env={
            "RATE_LIMIT_CREATES": "0", "ACCESS_LOG": "false"}, ready_timeout=30)
        cls.base = "http://127.0.0.1:%d" % cls.monolith.port
        cls.nginx = Nginx()
        cls.tmp = tempfile.mkdtemp(prefix="kurz-load-test-")

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        cls.monolith.terminate()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def load_json(self, args, name, timeout=90):
        out = self.path(name + ".json")
        done = run_load(args + ["--out", out], timeout=timeout)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertNotIn("Traceback", done.stderr)
        with open(out) as f:
            return json.load(f), done.stderr

    def read_codes(self, path):
        with open(path) as f:
            return [line.split() for line in f if line.strip()]

    def assert_consistent(self, result, mode):
        for key in ("mode", "rate", "duration_s", "requests", "errors", "rps", "status",
                    "latency_ms", "kinds", "error_detail"):
            self.assertIn(key, result)
        self.assertEqual(result["mode"], mode)
        self.assertEqual(sum(result["status"].values()), result["requests"])
        self.assertEqual(result["errors"], sum(result["error_detail"].values()))
        for q in ("p50", "p90", "p99", "p999", "max"):
            self.assertIsInstance(result["latency_ms"][q], (int, float))
        lat = result["latency_ms"]
        self.assertTrue(0 <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"],
                        lat)
        self.assertEqual(set(result["kinds"]), set(KINDS))
        per_kind = sum(k["requests"] for k in result["kinds"].values())
        unmatched = result.get("unmatched", {}).get("requests", 0)
        self.assertEqual(per_kind + unmatched, result["requests"])
        status = {}
        for k in list(result["kinds"].values()) + [result.get("unmatched", {"status": {}})]:
            self.assertEqual(sum(k["status"].values()), k.get("requests", sum(k["status"].values())))
            for code, n in k["status"].items():
                status[code] = status.get(code, 0) + n
        self.assertEqual(status, result["status"])

    def assert_mix(self, result, mix=DEFAULT_MIX):
        sent = {k: result["kinds"][k]["sent"] for k in KINDS}
        total = sum(sent.values())
        self.assertGreater(total, 0)
        weight = sum(mix.values())
        for kind in KINDS:
            self.assertTrue(binomial_ok(sent[kind], total, mix.get(kind, 0) / weight),
                            "%s: %d of %d sent, weight %s" % (kind, sent[kind], total, mix))

    def clicks(self, code):
        status, _, body = self.monolith.get("/api/stats/" + code)
        self.assertEqual(status, 200, body)
        return json.loads(body)["total"]

    def test_rate_mode_against_the_monolith(self):
        codes_file = self.path("rate-codes.txt")
        started = time.monotonic()
        result, stderr = self.load_json(
            ["--base-url", self.base, "--mode", "rate", "--rate", "200", "--duration", "3",
             "--warmup", "0", "--links", "50", "--save-codes", codes_file], "rate")
        elapsed = time.monotonic() - started
        self.assert_consistent(result, "rate")
        self.assertEqual(result["rate"], 200)
        # The schedule at a low rate: 600 requests due, all sent and answered.
        # (Upper bounds only: a starved machine makes answers late, never early.)
        self.assertTrue(598 <= result["scheduled"] <= 601, result["scheduled"])
        self.assertEqual(result["sent"], result["scheduled"])
        self.assertEqual(result["errors"], 0, result["error_detail"])
        self.assertEqual(result["requests"], result["scheduled"])
        self.assertLessEqual(result["rps"], 205)
        self.assertGreaterEqual(elapsed, 3.0)  # the schedule, not a burst
        self.assertRegex(stderr, r"kurz-load: +\d+\.\ds sent \d+ +\d+ req/s +errors 0 +p99 ")
        self.assert_mix(result)
        for kind in KINDS:
            k = result["kinds"][kind]
            self.assertEqual(k["failed"], 0)
            if k["requests"]:
                self.assertIsNotNone(k["latency_ms"], kind)
        self.assertEqual(set(result["kinds"]["create"]["status"]), {"201"})
        self.assertEqual(set(result["kinds"]["stats"]["status"]) - {"200"}, set())
        self.assertEqual(set(result["kinds"]["qr"]["status"]) - {"200"}, set())
        # Every redirect was checked against its seeded target.
        redirect = result["kinds"]["redirect"]
        self.assertEqual(redirect["status"], {"302": redirect["requests"]})
        self.assertEqual(redirect["checked"], redirect["requests"])
        self.assertEqual(redirect["wrong_target"] + redirect["not_found"], 0)

        # --links 50: fifty links really exist, with the targets the tool recorded.
        codes = self.read_codes(codes_file)
        self.assertEqual(len(codes), 50)
        self.assertEqual(len({c for c, _ in codes}), 50)
        self.assertEqual(result["links"], {"source": "api", "count": 50, "zipf_s": 1.0})
        for code, target in codes:
            status, _, body = self.monolith.get("/api/links/" + code)
            self.assertEqual(status, 200, code)
            self.assertEqual(json.loads(body)["url"], target)
        for code, target in codes[:5]:  # and redirect there, as seen from outside the tool
            status, headers, _ = self.monolith.get("/" + code)
            self.assertEqual((status, headers.get("location")), (302, target))

        # Zipf: the server's own click counts agree with the tool's, and the hot codes dominate.
        hot = result["popularity"]["hot"]
        self.assertEqual(hot[0]["code"], codes[0][0])
        for entry in hot[:3]:
            self.assertEqual(self.clicks(entry["code"]), entry["redirects"] + (
                1 if entry["code"] in [c for c, _ in codes[:5]] else 0))
        redirects = redirect["requests"]
        harmonic = sum(1 / r for r in range(1, 51))
        self.assertTrue(binomial_ok(hot[0]["redirects"], redirects, 1 / harmonic),
                        (hot[0], redirects))
        tail = [self.clicks(c) for c, _ in codes[25:]]
        self.assertGreater(self.clicks(codes[0][0]), 8 * (sum(tail) / len(tail) + 0.5))

    def test_saturate_mode_against_the_monolith(self):
        result, stderr = self.load_json(
            ["--base-url", self.base, "--mode", "saturate", "--check", "every", "--duration", "2",
             "--warmup", "1", "--connections", "8", "--links", "100"], "saturate")
        self.assert_consistent(result, "saturate")
        self.assertIsNone(result["rate"])
        self.assertGreater(result["requests"], 100)
        self.assertEqual(result["errors"], 0, result["error_detail"])
        self.assertEqual(result["unmatched"]["requests"], 0)
        self.assertEqual(result["wrk"]["requests"], result["requests"])
        self.assertIn("measuring for 2s with wrk", stderr)
        self.assert_mix(result)
        for kind in KINDS:
            self.assertIsNotNone(result["kinds"][kind]["latency_ms"], kind)
        redirect = result["kinds"]["redirect"]
        self.assertEqual(redirect["status"], {"302": redirect["requests"]})
        self.assertEqual(redirect["checked"], redirect["requests"])
        self.assertEqual(redirect["wrong_target"] + redirect["not_found"], 0)
        self.assertEqual(set(result["kinds"]["create"]["status"]), {"201"})

    def test_saturate_lean_by_default(self):
        # The default saturate path does the least per request: no answer goes through Lua, so
        # statuses come as wrk's classes; the redirects are checked on a sample of codes before
        # the load, and a wrong target there shows.
        codes_file = self.path("lean-codes.txt")
        result, stderr = self.load_json(
            ["--base-url", self.base, "--mode", "saturate", "--duration", "2", "--warmup", "0",
             "--connections", "8", "--links", "60", "--mix", "redirect=9,stats=1",
             "--save-codes", codes_file, "--check-sample", "40"], "lean")
        self.assertEqual(result["check"], "sample")
        self.assertIn("lean.lua", stderr)
        self.assertIn("measured window: start", stderr)
        self.assertIn("measured window: end", stderr)
        self.assertGreater(result["requests"], 100)
        self.assertEqual(result["status"], {})
        self.assertEqual(result["status_classes"]["below_400"], result["requests"])
        self.assertEqual(result["status_classes"]["400_or_more"], 0)
        self.assertEqual(result["errors"], 0, result["error_detail"])
        self.assertIn("http_4xx_5xx", result["error_detail"])
        # Sent per kind follows the mix (the prepared requests are drawn with its weights).
        self.assert_mix(result, {"redirect": 9, "stats": 1})
        redirect = result["kinds"]["redirect"]
        self.assertEqual(redirect["checked"], 40)
        self.assertEqual(redirect["wrong_target"] + redirect["not_found"], 0)
        lat = result["latency_ms"]
        self.assertTrue(0 <= lat["p50"] <= lat["p99"] <= lat["max"], lat)
        # A sample with a code that is not there: the verification pass counts it.
        codes = self.read_codes(codes_file)
        with open(self.path("lean-bad.txt"), "w") as f:
            f.write("%s %s\nnothere1 https://example.com/nothere\n" % (codes[0][0], codes[0][1]))
        bad, _ = self.load_json(["--base-url", self.base, "--mode", "saturate", "--duration", "1",
                                 "--warmup", "0", "--connections", "2", "--mix", "redirect=1",
                                 "--codes", self.path("lean-bad.txt")], "lean-bad")
        self.assertEqual(bad["redirects"]["checked"], 2)
        self.assertEqual(bad["redirects"]["not_found"], 1)
        # 404 answers under the load: wrk's count of statuses >= 400, an error here.
        self.assertGreater(bad["status_classes"]["400_or_more"], 0)
        self.assertEqual(bad["error_detail"]["http_4xx_5xx"], bad["status_classes"]["400_or_more"])

    def test_saturate_one_path(self):
        # --path: one request, prepared once, to any path (the benchmarks' reference runs).
        result, _ = self.load_json(["--base-url", self.nginx.url, "--mode", "saturate", "--path",
                                    "/anything/x.png", "--duration", "1", "--warmup", "0",
                                    "--connections", "4", "--links", "0"], "one-path")
        self.assertGreater(result["requests"], 10)
        self.assertEqual(result["status_classes"]["below_400"], result["requests"])
        self.assertEqual(result["redirects"]["checked"], 0)
        for args, message in (
                (["--mode", "rate", "--rate", "10", "--path", "/x"], "--path is for --mode saturate"),
                (["--mode", "saturate", "--path", "x"], "--path must start with /"),
                (["--mode", "saturate", "--check", "most"], "--check must be sample or every")):
            done = run_load(["--base-url", self.nginx.url] + args, timeout=30)
            self.assertEqual(done.returncode, 2, (args, done.stderr))
            self.assertIn(message, done.stderr)

    def test_nginx_without_seeding(self):
        # nginx answers 302 to everything and does not echo X-Request-Id: totals stay exact,
        # per-kind latency is unknown in saturation, and nothing is checked.
        sat, _ = self.load_json(["--base-url", self.nginx.url, "--mode", "saturate", "--check",
                                 "every", "--duration", "1", "--warmup", "0", "--connections", "4",
                                 "--links", "0"], "nginx-saturate")
        self.assert_consistent(sat, "saturate")
        self.assertEqual(sat["links"]["source"], "synthetic")
        self.assertEqual(set(sat["status"]), {"302"})
        self.assertEqual(sat["unmatched"]["requests"], sat["requests"])
        for kind in KINDS:
            self.assertIsNone(sat["kinds"][kind]["latency_ms"])
        self.assert_mix(sat)
        self.assertGreater(sat["latency_ms"]["max"], 0)

        rate, _ = self.load_json(["--base-url", self.nginx.url, "--mode", "rate", "--rate", "300",
                                  "--duration", "2", "--warmup", "0.5", "--links", "0",
                                  "--mix", "redirect=1,qr=1"], "nginx-rate")
        self.assert_consistent(rate, "rate")
        self.assertEqual(rate["status"], {"302": rate["requests"]})
        self.assertTrue(598 <= rate["scheduled"] <= 601, rate["scheduled"])
        self.assertEqual(rate["kinds"]["redirect"]["checked"], 0)
        self.assertEqual(rate["kinds"]["create"]["sent"] + rate["kinds"]["stats"]["sent"], 0)
        self.assert_mix(rate, {"redirect": 1, "qr": 1})

    def test_a_server_that_closes_connections(self):
        # nginx with keepalive_requests 2 answers every second request with Connection: close:
        # kurz-load reconnects and keeps the schedule without losing a request.
        result, _ = self.load_json(["--base-url", "http://127.0.0.1:%d" % self.nginx.closing_port,
                                    "--mode", "rate", "--rate", "300", "--duration", "1",
                                    "--warmup", "0", "--links", "0", "--connections", "8"],
                                   "closing")
        self.assert_consistent(result, "rate")
        self.assertEqual(result["errors"], 0, result["error_detail"])
        self.assertTrue(298 <= result["scheduled"] <= 301, result["scheduled"])
        self.assertEqual(result["status"], {"302": result["scheduled"]})

    def test_through_haproxy(self):
        # The stage 3 stack's edge: X-Request-Id passes through, header names arrive lower-case.
        proxy = HAProxy(self.monolith.port)
        try:
            sat, _ = self.load_json(["--base-url", proxy.url, "--mode", "saturate", "--check",
                                     "every", "--duration", "1", "--warmup", "0", "--connections",
                                     "4", "--links", "30"], "haproxy-saturate")
            self.assert_consistent(sat, "saturate")
            self.assertEqual(sat["unmatched"]["requests"], 0)
            self.assertEqual(sat["errors"], 0, sat["error_detail"])
            redirect = sat["kinds"]["redirect"]
            self.assertIsNotNone(redirect["latency_ms"])
            self.assertEqual(redirect["checked"], redirect["requests"])
            self.assertEqual(redirect["wrong_target"] + redirect["not_found"], 0)
            rate, _ = self.load_json(["--base-url", proxy.url, "--mode", "rate", "--rate", "200",
                                      "--duration", "1", "--warmup", "0", "--links", "30"],
                                     "haproxy-rate")
            self.assert_consistent(rate, "rate")
            self.assertEqual(rate["errors"], 0, rate["error_detail"])
            redirect = rate["kinds"]["redirect"]
            self.assertEqual(redirect["checked"], redirect["requests"])
            self.assertEqual(redirect["wrong_target"] + redirect["not_found"], 0)
        finally:
            proxy.stop()

    def test_a_frozen_server_shows_in_p90_and_max(self):
        # 200/s for 3 s with the monolith stopped for 1.5 s of it. Requests due during the stall
        # wait, and their latency runs from their scheduled time: the first waits ~1.5 s, so
        # max ~1500 ms; a share (S - L) / T of all requests waits longer than L, so
        # p90 ~ S - 0.1 T = 1500 - 300 = 1200 ms. A closed-loop tool would show neither.
        out = self.path("stall.json")
        proc = subprocess.Popen([LOAD, "--base-url", self.base, "--mode", "rate", "--rate", "200",
                                 "--duration", "3", "--warmup", "0", "--links", "20",
                                 "--out", out], stderr=subprocess.PIPE, text=True,
                                env=os.environ.copy())
        lines = []
        started = threading.Event()

        def pump():
            for line in proc.stderr:
                lines.append(line)
                if "open loop" in line:
                    started.set()
            started.set()

        pumper = threading.Thread(target=pump, daemon=True)
        pumper.start()
        self.assertTrue(started.wait(30), "".join(lines))
        time.sleep(0.5)
        os.kill(self.monolith.proc.pid, signal.SIGSTOP)
        try:
            time.sleep(1.5)
        finally:
            os.kill(self.monolith.proc.pid, signal.SIGCONT)
        code = proc.wait(timeout=60)
        pumper.join(timeout=10)  # it ends at the end of the output
        proc.stderr.close()
        self.assertEqual(code, 0, "".join(lines))
        with open(out) as f:
            result = json.load(f)
        self.assert_consistent(result, "rate")
        self.assertEqual(result["errors"], 0, result["error_detail"])
        lat = result["latency_ms"]
        self.assertGreaterEqual(lat["max"], 1300, lat)
        self.assertGreaterEqual(lat["p90"], 800, lat)

    def test_codes_file(self):
        codes_file = self.path("given-codes.txt")
        status, _, body = kurz_process.request(
            self.monolith, "POST", "/api/links", '{"url": "https://example.com/given"}',
            {"Content-Type": "application/json"})
        self.assertEqual(status, 201)
        code = json.loads(body)["code"]
        with open(codes_file, "w") as f:
            f.write("# code target\n%s https://example.com/given\nmissing1 https://example.com/x\n"
                    % code)
        result, _ = self.load_json(["--base-url", self.base, "--mode", "rate", "--rate", "100",
                                    "--duration", "1", "--warmup", "0", "--codes", codes_file,
                                    "--mix", "redirect=1", "--zipf", "0"], "codes")
        self.assertEqual(result["links"]["source"], "file")
        redirect = result["kinds"]["redirect"]
        self.assertEqual(redirect["checked"], redirect["requests"])
        # The unknown code answers 404: counted as a wrong redirect, not as an error.
        self.assertEqual(redirect["not_found"], redirect["status"].get("404", 0))
        self.assertGreater(redirect["not_found"], 10)
        self.assertEqual(redirect["status"].get("302", 0) + redirect["not_found"],
                         redirect["requests"])
        self.assertEqual(result["errors"], 0)

    def test_rate_limited_creates_are_counted(self):
        # The limit counts in fixed windows from the epoch: a day-long one, so that the two runs
        # fall into one window unless they straddle midnight UTC (then 5 more are allowed).
        day = 86400000
        limited = kurz_process.Service(os.environ["KURZ_MONOLITH"], env={
            "RATE_LIMIT_CREATES": "5", "RATE_LIMIT_WINDOW_MS": str(day), "ACCESS_LOG": "false"},
            ready_timeout=30)
        window = int(time.time() * 1000) // day
        try:
            base = "http://127.0.0.1:%d" % limited.port
            result, _ = self.load_json(["--base-url", base, "--mode", "rate", "--rate", "50",
                                        "--duration", "1", "--warmup", "0", "--links", "3",
                                        "--mix", "create=1"], "limited")
            create = result["kinds"]["create"]["status"]
            if int(time.time() * 1000) // day != window:
                self.skipTest("the run straddled the rate limit's window (midnight UTC)")
            self.assertEqual(create.get("201", 0), 2)  # 5 allowed, 3 went to seeding
            self.assertEqual(create.get("429", 0), result["requests"] - 2)
            self.assertGreater(create.get("429", 0), 40)
            self.assertEqual(result["errors"], 0)
            # Seeding that the limit refuses stops with what to do about it.
            refused = run_load(["--base-url", base, "--mode", "rate", "--rate", "10",
                                "--duration", "1", "--links", "20"])
            self.assertEqual(refused.returncode, 1, refused.stderr)
            self.assertIn("refused link 1 of 20 with 429", refused.stderr)
            self.assertIn("RATE_LIMIT_CREATES=0", refused.stderr)
            self.assertIn("--links 0", refused.stderr)
            self.assertNotIn("Traceback", refused.stderr)
        finally:
            limited.terminate()

    def test_bad_arguments_exit_2_with_a_message(self):
        cases = [
            ([], "--base-url is required"),
            (["--base-url", self.base], "--mode is required"),
            (["--base-url", self.base, "--mode", "fast"], "--mode must be saturate or rate"),
            (["--base-url", self.base, "--mode", "rate"], "--mode rate needs --rate"),
            (["--base-url", self.base, "--mode", "rate", "--rate", "abc"], "--rate must be"),
            (["--base-url", self.base, "--mode", "saturate", "--duration", "-1"],
             "--duration must be"),
            (["--base-url", self.base, "--mode", "saturate", "--mix", "redirect=90,foo=1"],
             "unknown kind 'foo'"),
            (["--base-url", self.base, "--mode", "saturate", "--connections", "0"],
             "--connections must be"),
            (["--base-url", self.base, "--mode", "saturate", "--links", "many"], "--links must be"),
            (["--base-url", "https://127.0.0.1:1", "--mode", "saturate"], "https is not supported"),
            (["--base-url", "127.0.0.1:80", "--mode", "saturate"], "must start with http://"),
            (["--base-url", self.base, "--mode", "saturate", "--wat"], "unknown option '--wat'"),
            (["--base-url", self.base, "--mode", "rate", "--rate", "1", "--codes",
              self.path("none.txt")], "--codes: cannot read"),
        ]
        for args, message in cases:
            done = run_load(args, timeout=30)
            self.assertEqual(done.returncode, 2, (args, done.stderr))
            self.assertIn(message, done.stderr, args)
            self.assertIn("--help", done.stderr)
            self.assertNotIn("Traceback", done.stderr)
            self.assertEqual(done.stdout, "")
        helped = run_load(["--help"])
        self.assertEqual(helped.returncode, 0)
        for word in ("--mode", "saturate", "rate", "--links 0", "--codes", "X-Request-Id",
                     "SCHEDULED"):
            self.assertIn(word, helped.stdout)

    def test_a_dead_url_is_a_clear_error(self):
        port = kurz_process.free_port()
        for mode in (["--mode", "rate", "--rate", "10"], ["--mode", "saturate"]):
            started = time.monotonic()
            done = run_load(["--base-url", "http://127.0.0.1:%d" % port] + mode, timeout=30)
            self.assertEqual(done.returncode, 1, done.stderr)
            self.assertIn("http://127.0.0.1:%d is not reachable" % port, done.stderr)
            self.assertIn("Connection refused", done.stderr)
            self.assertLess(time.monotonic() - started, 15)
        unknown = run_load(["--base-url", "http://no-such-host.invalid:80", "--mode", "rate",
                            "--rate", "1"], timeout=30)
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("cannot resolve no-such-host.invalid", unknown.stderr)


if __name__ == "__main__":
    unittest.main()
