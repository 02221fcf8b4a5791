"""Process-level tests of a kurz service's life: start-up, configuration errors, JSON logs, and a
graceful SIGTERM that lets an in-flight request finish. Binaries come from the environment:
KURZ_MONOLITH and KURZ_SLOW_SERVICE."""
import json
import os
import signal
import socket
import threading
import time
import unittest

from kurz_process import Service, free_port, request, run_to_exit
from kurzops.wait import Timeout, wait_until  # noqa: E402  (kurz_process puts scripts/ on sys.path)

MONOLITH = os.environ["KURZ_MONOLITH"]
SLOW = os.environ["KURZ_SLOW_SERVICE"]


class StartupTest(unittest.TestCase):
    def test_ready_line_and_info(self):
        service = Service(MONOLITH)
        try:
            self.assertGreater(service.port, 0)
            self.assertEqual(service.ready_line["stage"], "1")
            status, headers, body = service.get("/info")
            self.assertEqual(status, 200)
            info = json.loads(body)
            self.assertEqual(info["service"], "monolith")
            self.assertEqual(info["instance"], "proc-test")
            self.assertEqual(headers["x-instance-id"], "proc-test")
            self.assertEqual(service.get("/health/ready")[0], 200)
        finally:
            self.assertEqual(service.terminate(), 0)

    def test_the_image_version_shows_in_info_and_the_ready_line(self):
        # The images set KURZ_VERSION from their tag (scripts/docker/build-images.sh).
        service = Service(MONOLITH, {"KURZ_VERSION": "0.2.0-rc1"})
        try:
            self.assertEqual(service.ready_line["version"], "0.2.0-rc1")
            self.assertEqual(json.loads(service.get("/info")[2])["version"], "0.2.0-rc1")
        finally:
            service.terminate()
        for value in ("", "0.2 0", "x" * 65):  # not a version: the one compiled in
            service = Service(MONOLITH, {"KURZ_VERSION": value})
            try:
                self.assertRegex(service.ready_line["version"], r"^\d+\.\d+\.\d+$", repr(value))
                self.assertEqual(json.loads(service.get("/info")[2])["version"], service.ready_line["version"])
            finally:
                service.terminate()

    def test_mesos_task_id_is_the_instance(self):
        service = Service(MONOLITH, {"MESOS_TASK_ID": "kurz_monolith.8f2c"})
        try:
            self.assertEqual(service.get("/info")[1]["x-instance-id"], "kurz_monolith.8f2c")
        finally:
            service.terminate()

    def test_logs_are_json_lines_with_one_access_line_per_request(self):
        service = Service(MONOLITH, {"ACCESS_LOG_SAMPLE": "1"})
        try:
            for _ in range(3):
                service.get("/health/live")
            status, headers, _ = service.get("/does/not/exist")
            self.assertEqual(status, 404)
        finally:
            self.assertEqual(service.terminate(), 0)
        self.assertFalse([l for l in service.lines if "unparsable" in l], service.lines)
        access = [l for l in service.lines if l.get("msg") == "request"]
        self.assertEqual(len(access), 4)
        last = access[-1]
        for field in ("ts", "level", "service", "instance", "method", "path", "route", "status",
                      "duration_ms", "client", "request_id"):
            self.assertIn(field, last)
        self.assertEqual(last["status"], 404)
        self.assertEqual(last["request_id"], headers["x-request-id"])
        self.assertEqual([l["log_reason"] for l in access], ["sample"] * 4)
        self.assertEqual(service.lines[-1]["msg"], "stopped")

    def test_errors_and_slow_requests_are_logged_and_the_rest_sampled(self):
        # Share 0: only errors (405 here; 404 is a normal answer) and requests of 200 ms or more.
        service = Service(SLOW, {"ACCESS_LOG_SAMPLE": "0", "ACCESS_LOG_SLOW_MS": "200"})
        try:
            for _ in range(5):
                self.assertEqual(service.get("/health/live")[0], 200)
            self.assertEqual(service.get("/does/not/exist")[0], 404)
            self.assertEqual(request(service, "POST", "/slow", body="")[0], 405)
            self.assertEqual(service.get("/slow?ms=10")[0], 200)
            self.assertEqual(service.get("/slow?ms=300")[0], 200)
        finally:
            self.assertEqual(service.terminate(), 0)
        access = [(l["status"], l["path"], l["log_reason"]) for l in service.lines if l.get("msg") == "request"]
        self.assertEqual(access, [(405, "/slow", "error"), (200, "/slow", "slow")])

    def test_access_lines_reach_stdout_while_the_service_runs(self):
        # Written in batches, but within a fraction of a second: no other line is needed.
        service = Service(MONOLITH, {"ACCESS_LOG_SAMPLE": "1"})
        try:
            _, headers, _ = service.get("/info")
            try:
                wait_until("the access line of %s" % headers["x-request-id"],
                           lambda: [l for l in service.lines if l.get("request_id") == headers["x-request-id"]],
                           5, interval=0.02)
            except Timeout:
                self.fail(service.lines)
        finally:
            self.assertEqual(service.terminate(), 0)

    def test_log_level_warn_hides_access_lines(self):
        service = Service(MONOLITH, {"LOG_LEVEL": "warn", "PORT": str(free_port())})
        self.assertEqual(service.get("/health/live")[0], 200)
        self.assertEqual(service.terminate(), 0)
        self.assertEqual(service.lines, [])


class ConfigurationTest(unittest.TestCase):
    def check_refused(self, env, *words):
        code, _, stderr = run_to_exit(MONOLITH, env)
        self.assertEqual(code, 2, stderr)
        for word in words:
            self.assertIn(word, stderr)

    def test_invalid_values_stop_startup_with_every_problem_named(self):
        self.check_refused({"PORT": "http", "LOG_LEVEL": "loud", "DRAIN_TIMEOUT_MS": "-1"},
                           "PORT=", "LOG_LEVEL=", "DRAIN_TIMEOUT_MS=")

    def test_invalid_access_log_settings(self):
        self.check_refused({"PORT": "0", "ACCESS_LOG_SAMPLE": "2", "ACCESS_LOG_SLOW_MS": "fast"},
                           'ACCESS_LOG_SAMPLE="2": expected a number from 0 to 1',
                           'ACCESS_LOG_SLOW_MS="fast"')

    def test_bad_public_base_url(self):
        self.check_refused({"PORT": "0", "PUBLIC_BASE_URL": "javascript:alert(1)"},
                           "PUBLIC_BASE_URL")

    def test_malformed_redis_url(self):
        self.check_refused({"PORT": "0", "REDIS_URL": "redis://user:secret@127.0.0.1:6379"},
                           "REDIS_URL")
        self.check_refused({"PORT": "0", "REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL")

    def test_port_in_use_fails_clearly(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            code, _, stderr = run_to_exit(MONOLITH, {"PORT": str(port),
                                                     "LISTEN_ADDRESS": "127.0.0.1"})
        self.assertEqual(code, 1)
        self.assertIn("cannot listen", stderr)


class ShutdownTest(unittest.TestCase):
    def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(self):
        service = Service(SLOW, {"SHUTDOWN_DELAY_MS": "300", "HTTP_THREADS": "2"})
        result = {}

        def slow_request():
            result["response"] = service.get("/slow?ms=1500", timeout=10)

        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(0.3)  # the request is now inside its handler
        signalled = time.monotonic()
        service.proc.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        ready = service.get("/health/ready")
        self.assertEqual(ready[0], 503, "readiness must fail at once")
        self.assertEqual(service.get("/health/live")[0], 200, "liveness is not readiness")
        code = service.proc.wait(timeout=15)
        thread.join(timeout=15)
        self.assertEqual(code, 0, service.stderr())
        status, _, body = result["response"]
        self.assertEqual(status, 200)
        self.assertEqual(body, b"slow done after 1500 ms")
        took = time.monotonic() - signalled
        self.assertLess(took, 5.0)
        stopped = [l for l in service.lines if l.get("msg") == "stopped"]
        self.assertEqual(stopped[0]["drained"], True)

    def test_new_connections_are_refused_after_the_delay(self):
        service = Service(SLOW, {"SHUTDOWN_DELAY_MS": "200"})
        thread = threading.Thread(target=lambda: service.get("/slow?ms=1200", timeout=10))
        thread.start()
        time.sleep(0.2)
        service.proc.send_signal(signal.SIGTERM)
        time.sleep(0.6)  # past the delay, the slow request still running
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", service.port), timeout=1).close()
        self.assertEqual(service.proc.wait(timeout=15), 0)
        thread.join()

    def test_sigint_also_drains(self):
        service = Service(MONOLITH)
        service.proc.send_signal(signal.SIGINT)
        self.assertEqual(service.proc.wait(timeout=10), 0)


if __name__ == "__main__":
    unittest.main()
