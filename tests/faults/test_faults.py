"""faults.suite: scripts/faults.sh, every scenario, against one stage 3 compose stack while
bench/load --mode rate runs; the issue's bounds asserted here from each scenario's figures (the
script's JSON), not from its own verdicts.

Run: cd tests/faults && /usr/bin/python3 -m unittest -v test_faults   (ctest: faults.suite)
Needs Docker (started when none answers) and the compose CLI; builds the images the project's way.
Environment: KURZ_FAULTS_RATE (100 req/s), KURZ_FAULTS_DURATION (8 s base load per scenario).
Figures: test-artifacts/faults/faults.json and the result lines on stdout."""
import json
import os
import subprocess
import sys
import time
import unittest
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import dockerenv  # noqa: E402

ARTIFACTS = os.path.join(ROOT, "test-artifacts", "faults")
STAGE3_IMAGES = ("redis", "links", "redirect", "stats", "qr", "web", "haproxy", "prometheus")
SCENARIOS = ("sigterm-redirect", "sigkill-redirect", "redis-outage", "redis-aof", "stats-kill",
             "haproxy-reload", "compose-restart")
MAX_SIGKILL_FAILED = 20
RESULTS = {}
RUN = {}
HA = {}  # redis-failover, a second run of scripts/faults.sh against stage3-ha


def log(msg):
    print("faults-test: " + msg, flush=True)


def setUpModule():
    if dockerenv.compose_command() is None:
        raise AssertionError("needs the Docker CLI and docker-compose (Debian packages docker.io docker-compose)")
    os.makedirs(ARTIFACTS, exist_ok=True)
    dockerenv.ensure_dockerd(ARTIFACTS, log)
    dockerenv.build_images(STAGE3_IMAGES, os.environ.get("KURZ_TAG", "dev"), ARTIFACTS, log)
    rc, output, results = run_faults("kurzfaults", "stage3", "faults.json", 1500)
    if rc is None:
        raise AssertionError("scripts/faults.sh " + output)
    RUN.update(rc=rc, output=output)
    RESULTS.update({r["scenario"]: r for r in results})
    run_failover()


def run_faults(prefix, stage, json_name, timeout, *scenarios):
    """scripts/faults.sh (every scenario, or `scenarios`) on its own stack under a project
    <prefix><unique>; its JSON written to ARTIFACTS/json_name. Returns (exit code, output, results);
    on a timeout the stack is taken down and the exit code is None. Asserts that the script took
    its stack down."""
    out = os.path.join(ARTIFACTS, json_name)
    if os.path.exists(out):
        os.remove(out)
    project = prefix + uuid.uuid4().hex[:8]
    env = dict(os.environ, KURZ_PROJECT=project, KURZ_BUILD_LOGS=ARTIFACTS)
    cmd = [os.path.join(ROOT, "scripts", "faults.sh"), "--json", out,
           "--rate", os.environ.get("KURZ_FAULTS_RATE", "100"),
           "--duration", os.environ.get("KURZ_FAULTS_DURATION", "8"), *scenarios]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout)
        rc, output = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as e:
        subprocess.run([os.path.join(ROOT, "scripts", "docker", "stack.sh"), "down", stage],
                       env=env, timeout=120)
        rc, output = None, "timed out after %d s:\n%s" % (timeout, (e.output or "")[-4000:])
    log("scripts/faults.sh %s exit %s after %.0f s:\n%s" % (" ".join(scenarios) or "(every scenario)", rc,
                                                          time.monotonic() - t0, output[-6000:]))
    results = []
    if os.path.exists(out):
        with open(out) as f:
            results = json.load(f)["results"]
    left = subprocess.run(["docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=" + project],
                          text=True, stdout=subprocess.PIPE, timeout=60).stdout.split()
    if left:
        raise AssertionError("the stack %s was not taken down: %s" % (project, left))
    return rc, output, results


def run_failover():
    """scripts/faults.sh redis-failover: its own stage3-ha stack (same images), about 1-2 min."""
    rc, output, results = run_faults("kurzfaultsha", "stage3-ha", "faults-ha.json", 600, "redis-failover")
    HA.update(rc=rc, output=output, results=results)


class Faults(unittest.TestCase):
    def result(self, name):
        r = RESULTS.get(name)
        self.assertIsNotNone(r, "no result for %s:\n%s" % (name, RUN.get("output", "")[-3000:]))
        self.assertNotIn("error", r, r.get("error"))
        # Common to every scenario: load ran, no link created before the fault was lost.
        self.assertGreater(r["sent"], 300, r)
        self.assertEqual(r["links_lost"], 0, r)
        self.assertGreaterEqual(r["links_checked"], 40)
        self.assertLess(r["whole_after_s"], 90, r)
        return r

    def assertClicksExact(self, r):
        self.assertGreater(r["clicks_served"], 100, r)
        self.assertEqual(r["clicks_counted"], r["clicks_served"], r)

    def test_script_exit_and_usage(self):
        # Exit 1 exactly when a bound was missed (the figures, not the exit code, are asserted
        # by the tests below).
        missed = [(n, b) for n, r in RESULTS.items() for b, ok in r["bounds"].items() if not ok]
        self.assertEqual(RUN.get("rc"), 1 if missed else 0, (missed, RUN.get("output", "")[-3000:]))
        self.assertEqual(len(RESULTS), len(SCENARIOS))
        for args in (["--bogus"], ["no-such-scenario"], ["--rate"], ["--rate", "0"]):
            proc = subprocess.run([os.path.join(ROOT, "scripts", "faults.sh"), *args], text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            self.assertEqual(proc.returncode, 2, (args, proc.stdout))
            self.assertNotIn("Traceback", proc.stdout)

    def test_sigterm_redirect_fails_nothing(self):
        r = self.result("sigterm-redirect")
        self.assertEqual(r["failed_at_edge"], 0, r)
        self.assertEqual(r["failed_by_kind"].get("redirect", 0), 0, r)
        self.assertClicksExact(r)

    def test_sigkill_one_of_three_redirect_replicas(self):
        r = self.result("sigkill-redirect")
        self.assertEqual(r["notes"]["replicas"], 3)
        self.assertLessEqual(r["failed"], MAX_SIGKILL_FAILED, r)
        self.assertLessEqual(r["notes"]["out_of_haproxy_after_s"], 2.0, r)

    def test_redis_outage(self):
        r = self.result("redis-outage")
        n = r["notes"]
        self.assertEqual(n["restarted"], [], r)
        self.assertEqual(n["readiness_503"], n["redis_users"], r)
        self.assertEqual(n["liveness_200"], n["redis_users"], r)
        ok, tried = map(int, n["cached_redirects"].split("/"))
        self.assertGreater(tried, 10, r)
        self.assertEqual(ok, tried, r)
        # Cached by one replica only: HAProxy retries the others' 503 (stage3.cfg, retry-on 503).
        ok, tried = map(int, n["cached_by_one_replica"].split("/"))
        self.assertGreater(tried, 10, r)
        self.assertGreaterEqual(ok, 0.9 * tried, r)
        self.assertLessEqual(n["ready_after_redis_back_s"], 5.0, r)
        self.assertClicksExact(r)

    def test_redis_restarted_from_its_aof(self):
        r = self.result("redis-aof")
        self.assertGreater(r["notes"]["created_before_kill"], 10, r)
        self.assertEqual(r["notes"]["created_lost"], 0, r)

    def test_stats_killed_mid_stream_counts_exactly(self):
        self.assertClicksExact(self.result("stats-kill"))

    def test_haproxy_reload_fails_nothing(self):
        r = self.result("haproxy-reload")
        self.assertEqual(r["failed_at_edge"], 0, r)
        self.assertEqual(r["notes"]["haproxy_restarts"], 0, r)
        self.assertClicksExact(r)

    def test_compose_restart_loses_no_link(self):
        r = self.result("compose-restart")
        self.assertGreater(r["clicks_served"], 100, r)

    # Found by this suite: docker-compose restarts every container at once, Redis among them, while
    # the redirect replicas stop. A replica used to wait a fixed 3 s for its click buffer, on the
    # buffer's grown backoff, and lost 10 of 2977 clicks once; now it retries every 50 ms for
    # CLICK_SHUTDOWN_FLUSH_MS. The bound: no click lost; a click counted beyond those served is a
    # 302 that docker-proxy lost when HAProxy's container stopped under the load (the load runs
    # through the published port here), so there are never more of them than unanswered requests
    # (CI once counted 3116 of 3102 served).
    def test_compose_restart_loses_no_click(self):
        r = self.result("compose-restart")
        self.assertGreater(r["clicks_served"], 100, r)
        self.assertGreaterEqual(r["clicks_counted"], r["clicks_served"], r)
        self.assertLessEqual(r["clicks_counted"] - r["clicks_served"], r["failed_at_edge"], r)
        self.assertEqual(r["notes"]["shutdown_clicks_dropped"], 0, r)
        self.assertGreaterEqual(r["notes"]["shutdown_flushes"], 3, r)  # every replica logged its flush

    def test_redis_failover(self):
        """Issue 19: SIGKILL of the Redis primary of stage3-ha under the load."""
        results = HA.get("results") or []
        self.assertEqual(len(results), 1, HA.get("output", "")[-3000:])
        r = results[0]
        self.assertNotIn("error", r, r.get("error"))
        self.assertGreater(r["sent"], 300, r)
        self.assertLessEqual(r["writes_back_s"], 10.0, r)
        self.assertGreater(r["notes"]["created_before_kill"], 10, r)
        self.assertEqual(r["acked_links_lost"], 0, r)
        self.assertEqual(r["links_lost"], 0, r)
        self.assertGreater(r["clicks_served"], 100, r)
        self.assertEqual(r["clicks_lost"], 0, r)
        self.assertEqual(r["clicks_double"], 0, r)
        self.assertEqual(r["failed_by_kind"].get("redirect", 0), 0, r)
        self.assertEqual(HA["rc"], 0 if all(r["bounds"].values()) else 1, r["bounds"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
