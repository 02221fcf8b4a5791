"""Smoke runs of the four experiments (bench/scaling.sh, bench/stages.sh, bench/edge.sh,
bench/isolation.sh): a few seconds of load each, on the real compose stacks through HAProxy. They
assert that each run produces its table, its plot (a PNG) and its results.json, and that the
figures are sane (positive throughput, p50 <= p99, an efficiency in a plausible range, medians
within the repeats' range, per-request CPU figures present, the load path stated, stage 1 x2
answers some redirects wrongly and stage 2 x2 none). Never a speed: the long runs are the scripts
themselves.

Run from anywhere:  python3 -m unittest -v tests/load/test_experiments.py   (ctest load.experiments)
Needs Docker (started when none answers, see tests/support/dockerenv.py), docker-compose, and
bench/load (KURZ_LOAD: the kurz-load binary). Every stack is a compose project of its own on
127.0.0.1 ports Docker picks, removed by the scripts at exit; a test that times out or is
interrupted sends the script SIGTERM, which removes its stacks. Results: test-artifacts/load/.
"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest
from typing import NamedTuple

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import dockerenv  # noqa: E402

ARTIFACTS = os.path.join(ROOT, "test-artifacts", "load")
RESULTS = os.path.join(ARTIFACTS, "experiments")
TAG = os.environ.get("KURZ_TAG", "dev")
# A few seconds of load per run: the smoke versions. Each script's time bound (timeout=) leaves room
# for a busy machine (stack start-up and removal dominate); together they stay below ctest's 2100 s.
SHORT = ["--duration", "2", "--warmup", "1", "--connections", "16", "--links", "50"]
# The load reaches HAProxy inside its network namespace when the tests run as root (nsenter -n).
NETNS = os.geteuid() == 0
_running = []


def log(msg):
    print("experiments-test: " + msg, flush=True)


def _on_signal(signum, _frame):
    for proc in list(_running):
        _stop(proc)
    sys.exit(128 + signum)


def _stop(proc):
    """SIGTERM to the script's process group: its trap removes its stacks (bounded wait)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=180)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


class ExperimentRun(NamedTuple):
    dir: str  # the run's directory under RESULTS
    results: dict  # its results.json
    table: str  # its table.md
    output: str  # what the script printed


def run_experiment(script, *args, timeout):
    """Runs bench/<script> with the short options; returns its ExperimentRun."""
    os.makedirs(RESULTS, exist_ok=True)
    before = set(os.listdir(RESULTS))
    env = dict(os.environ, KURZ_RESULTS_DIR=RESULTS, KURZ_TAG=TAG)
    cmd = [os.path.join(ROOT, "bench", script), *args]
    log(" ".join(["bench/" + script, *args]))
    t0 = time.monotonic()
    logfile = os.path.join(ARTIFACTS, script.replace(".sh", ".log"))
    with open(logfile, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        _running.append(proc)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise AssertionError("%s did not finish within %ss (log: %s)" % (script, timeout, logfile))
        finally:
            _running.remove(proc)
    with open(logfile) as f:
        text = f.read()
    log("%s: exit %d after %.0fs" % (script, rc, time.monotonic() - t0))
    if rc != 0:
        raise AssertionError("%s failed (exit %d):\n%s" % (script, rc, text[-4000:]))
    new = sorted(set(os.listdir(RESULTS)) - before)
    name = script.replace(".sh", "")
    dirs = [d for d in new if d.startswith(name + "-")]
    if len(dirs) != 1:
        raise AssertionError("expected one new run directory %s-*, got %s" % (name, new))
    run_dir = os.path.join(RESULTS, dirs[0])
    with open(os.path.join(run_dir, "results.json")) as f:
        results = json.load(f)
    with open(os.path.join(run_dir, "table.md")) as f:
        table = f.read()
    return ExperimentRun(run_dir, results, table, text)


def setUpModule():
    if dockerenv.compose_command() is None:
        raise AssertionError("the experiments need docker-compose (Debian packages docker.io docker-compose)")
    os.makedirs(ARTIFACTS, exist_ok=True)
    dockerenv.ensure_dockerd(ARTIFACTS, log)
    dockerenv.build_images(dockerenv.ALL_IMAGES, TAG, ARTIFACTS, log)


class Experiments(unittest.TestCase):
    def assert_png(self, path):
        with open(path, "rb") as f:
            head = f.read(8)
        self.assertEqual(head, b"\x89PNG\r\n\x1a\n", path)
        self.assertGreater(os.path.getsize(path), 5000, path)

    def assert_run_sane(self, run, what):
        """A load run's figures: answered requests, positive throughput, ordered percentiles."""
        self.assertGreater(run["requests"], 0, what)
        self.assertGreater(run["rps"], 0, what)
        lat = run["latency_ms"]
        self.assertGreater(lat["p50"], 0, what)
        self.assertLessEqual(lat["p50"], lat["p90"], what)
        self.assertLessEqual(lat["p90"], lat["p99"], what)
        self.assertLessEqual(lat["p99"], lat["max"], what)

    def assert_table(self, table, output, *needles):
        for needle in needles:
            self.assertIn(needle, table)
        # The script prints the table it wrote.
        self.assertIn(table.strip().splitlines()[0], output)

    def assert_load_path(self, results, table):
        want = "network namespace" if NETNS else "published 127.0.0.1 port"
        self.assertIn(want, results["load_path"])
        self.assertIn("load path: the load tool ran " + results["load_path"], table)

    def experiment(self, script, *args, needles, timeout, load_path=True):
        """Runs bench/<script> (run_experiment), then checks what every experiment writes: its plot
        (<name>.png), its table (with `needles`, printed too) and, with `load_path`, where the load
        ran. Returns (results, table)."""
        run = run_experiment(script, *args, timeout=timeout)
        self.assert_png(os.path.join(run.dir, script.replace(".sh", ".png")))
        self.assert_table(run.table, run.output, *needles)
        if load_path:
            self.assert_load_path(run.results, run.table)
        return run.results, run.table

    def test_scaling(self):
        results, table = self.experiment(
            "scaling.sh", "--instances", "1,2", "--cpus", "0.15", "--repeat", "2", "--duration", "2",
            "--warmup", "0", "--connections", "16", "--links", "50",
            needles=("| N |", "efficiency", "median of 2", "spread",
                     "edge CPU us/request", "HAProxy CPU us/request", "predicted req/s"), timeout=420)
        self.assertEqual(results["repeat"], 2)
        steps = results["steps"]
        self.assertEqual([s["n"] for s in steps], [1, 2])
        self.assertEqual(steps[0]["efficiency"], 1.0)
        for step in steps:
            what = "N=%d" % step["n"]
            self.assertEqual(len(step["saturate_runs"]), 2, what)
            for run in step["saturate_runs"]:
                self.assert_run_sane(run, "saturation " + what)
                self.assertEqual(run["redirects"]["wrong"], 0, what)
                self.assertEqual(run["check"], "sample", what)
                self.assertGreater(run["redirects"]["checked"], 0, what)
            self.assert_run_sane(step["fixed_rate"], "fixed rate " + what)
            # The median of two runs lies between them; the spread is (max - min) / median.
            rps = sorted(r["rps"] for r in step["saturate_runs"])
            self.assertTrue(rps[0] - 1 <= step["rps_median"] <= rps[1] + 1, (rps, step["rps_median"]))
            self.assertAlmostEqual(step["rps_spread_pct"], 100 * (rps[1] - rps[0]) / step["rps_median"], delta=1)
            # The measured window's figures: requests, CPU of the replicas and of HAProxy.
            system = step["system"]
            self.assertGreater(system["window_requests"], 0, what)
            self.assertGreater(system["window_s"], 0.5, what)
            self.assertGreater(system["containers"]["redirect_1"]["cpu_s"], 0, what)
            cap = step["capacity"]
            for key in ("edge_us_per_request", "replica_us_per_request", "haproxy_us_per_request",
                        "predicted_rps"):
                self.assertIsNotNone(cap[key], "%s %s" % (what, key))
                self.assertGreater(cap[key], 0, "%s %s" % (what, key))
            self.assertEqual(step["edge_bound"], step["edge_busy_pct"] > 70, what)
            if step["edge_bound"]:
                self.assertIn("edge-bound", table)
        # A ratio of two measured throughputs, positive and finite; no speed is asserted (on a busy
        # machine a smoke run can see anything from 0.1 to above 1).
        self.assertTrue(0 < steps[1]["efficiency"] < 3, steps[1]["efficiency"])
        self.assertAlmostEqual(steps[1]["efficiency"],
                               steps[1]["rps_median"] / (2 * steps[0]["rps_median"]), delta=0.01)
        # The fixed rate is half the N=1 median x N.
        self.assertAlmostEqual(steps[1]["rate"], steps[0]["rps_median"], delta=1.5)
        log("scaling: efficiency at N=2 %.2f (smoke figures, not a result)" % steps[1]["efficiency"])

    def test_stages(self):
        results, table = self.experiment(
            "stages.sh", "--verify-links", "30", "--verify-rounds", "2", *SHORT,
            needles=("stage 1 x2", "stage 2 x2", "stage 3"), timeout=600, load_path=False)
        by = {s["stage"]: s for s in results["stages"]}
        self.assertEqual(sorted(by), ["stage1-scaled", "stage2", "stage3"])
        for name, s in by.items():
            self.assert_run_sane(s["saturate"], name)
            self.assert_run_sane(s["fixed_rate"], name + " fixed rate")
            self.assertEqual(s["verification"]["other"], 0, name)
        # The lesson of stage 1 x2: wrong redirects (404 or another link's target); none in stage 2.
        self.assertGreater(by["stage1-scaled"]["verification"]["wrong_share"], 0)
        self.assertGreater(by["stage1-scaled"]["saturate"]["redirects"]["wrong"], 0)
        for name in ("stage2", "stage3"):
            self.assertEqual(by[name]["verification"]["wrong_share"], 0, name)
            self.assertEqual(by[name]["saturate"]["redirects"]["wrong"], 0, name)
        log("stages: stage 1 x2 wrong share %.2f (verification), %.2f (under load)" % (
            by["stage1-scaled"]["verification"]["wrong_share"],
            by["stage1-scaled"]["saturate"]["redirects"]["wrong_share"]))

    def test_edge(self):
        results, table = self.experiment(
            "edge.sh", "--pairs", "2", "--duration", "2", "--warmup", "1", "--connections", "16",
            "--links", "50",
            needles=("| pair |", "kurz redirect", "nginx return 302",
                     "kurz / nginx", "HAProxy CPU us/request"), timeout=420)
        for side in ("kurz", "nginx"):
            self.assert_run_sane(results[side]["saturate"], side)
            self.assert_run_sane(results[side]["rate"], side + " fixed rate")
            self.assertEqual(results[side]["saturate"]["errors"], 0, side)
            self.assertGreater(results[side]["haproxy_us_per_request"], 0, side)
        self.assertEqual(results["kurz"]["saturate"]["redirects"]["wrong"], 0)
        # One ratio per pair, the median between them.
        self.assertEqual(len(results["throughput_ratios"]), 2)
        self.assertEqual(len(results["p99_ratios"]), 2)
        lo, hi = sorted(results["throughput_ratios"])
        self.assertTrue(lo - 0.01 <= results["throughput_ratio_kurz_nginx"] <= hi + 0.01)
        self.assertGreater(results["throughput_ratio_kurz_nginx"], 0)
        self.assertGreater(results["p99_ratio_at_half_max"], 0)
        # Both fixed-rate runs had the same schedule: half kurz's median maximum.
        self.assertEqual(results["kurz"]["rate"]["rate"], results["nginx"]["rate"]["rate"])
        log("edge: throughput ratio %.2f, p99 ratio %.2f (smoke figures, not a result)" % (
            results["throughput_ratio_kurz_nginx"], results["p99_ratio_at_half_max"]))

    def test_isolation(self):
        results, table = self.experiment(
            "isolation.sh", "--rate", "50", "--duration", "2", "--warmup", "1", "--links", "30",
            "--flood-connections", "8",
            needles=("stage 2 x2", "stage 3", "p99 flood / quiet",
                     "QR renders/s"), timeout=420)
        by = {s["stage"]: s for s in results["stages"]}
        self.assertEqual(sorted(by), ["stage2", "stage3"])
        for name, s in by.items():
            for run in ("quiet", "flood"):
                self.assert_run_sane(s[run], "%s %s" % (name, run))
                self.assertEqual(s[run]["rate"], 50, name)
                self.assertEqual(s[run]["redirects"]["wrong"], 0, name)
            # The flood ran and rendered QR codes beside the redirects.
            self.assertGreater(s["qr_flood"]["requests"], 0, name)
            self.assertEqual(s["qr_flood"]["mix"]["qr"], 100, name)
            self.assertAlmostEqual(s["p99_ratio_flood_quiet"],
                                   s["flood"]["latency_ms"]["p99"] / s["quiet"]["latency_ms"]["p99"], delta=0.01)
        log("isolation: p99 flood/quiet stage 2 %.2f, stage 3 %.2f (smoke figures, not a result)" % (
            by["stage2"]["p99_ratio_flood_quiet"], by["stage3"]["p99_ratio_flood_quiet"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
