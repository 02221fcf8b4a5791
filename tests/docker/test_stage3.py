"""docker.stacks, stage 3 (docker-compose.yml): smoke test through HAProxy's path routing;
Prometheus has every replica `up`; `--scale redirect=3` gives 3 distinct X-Instance-Id through
HAProxy; the web UI in a browser; a rolling restart of redirect under load loses no request
(asserted: 0); SIGKILL of one replica under load (errors reported, bounded; the stack recovers);
down with its volumes.

Run (in tests/docker):  python3 -m unittest -v test_stage3   (ctest docker.stacks)"""
import collections
import json
import os
import subprocess
import time
import unittest

from stackfixture import (ARTIFACTS, REPORT, ROOT, TARGET, compose, down_stack, finish, inspect, log, prepare,
                          project_name, published, request, run, service_containers, up_stack, wait_healthy,
                          wait_until)
from stackclient import Load, check_qr_and_page, create_link, distinct_instances  # tests/support
from kurzops.haproxy import servers_up  # noqa: E402  (scripts/ on sys.path through stackfixture)


def setUpModule():
    prepare()


def tearDownModule():
    finish()


class Stage3(unittest.TestCase):
    """One stack for the whole class; the tests run in name order (test_1_ ... test_5_)."""

    @classmethod
    def setUpClass(cls):
        cls.project = project_name("stage3")
        cls.base = up_stack("stage3", cls.project)
        cls.stats = published("stage3", cls.project, "haproxy", 8404)
        cls.prometheus = published("stage3", cls.project, "prometheus", 9090)
        log("stage3 up and healthy in %.1fs: edge %s, HAProxy stats %s/stats, Prometheus %s" % (
            REPORT["stage3_up_healthy_s"], cls.base, cls.stats, cls.prometheus))
        cls.code = create_link(cls.base, {"url": TARGET + "load"})["code"]

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("KURZ_DOCKER_KEEP") == "1":
            return
        down_stack("stage3", cls.project, timeout=180)
        left = run(["docker", "volume", "ls", "-q", "--filter", "name=" + cls.project], timeout=30).stdout.split()
        if left:
            raise AssertionError("volumes left behind: %s" % left)

    def _redirect_ids(self):
        return service_containers("stage3", self.project, "redirect")

    def _wait_lb_has(self, n, timeout=30):
        wait_until("HAProxy has %d redirect servers UP" % n,
                   lambda: len(servers_up(self.stats, "redirect")) >= n, timeout, interval=0.25)

    def test_1_smoke_through_haproxy(self):
        base = self.base
        status, headers, body = request(base, "POST", "/api/links", {"url": TARGET + "smoke"})
        self.assertEqual(status, 201, body)
        code = json.loads(body)["code"]
        status, headers, _ = request(base, "GET", "/" + code)  # redirect service; never followed
        self.assertEqual(status, 302)
        self.assertEqual(headers.get("location"), TARGET + "smoke")

        def clicked():
            s, _, b = request(base, "GET", "/api/stats/" + code)
            return s == 200 and json.loads(b).get("total", 0) >= 1
        t0 = time.monotonic()
        wait_until("stats count the click (redirect -> stream -> stats)", clicked, 15, interval=0.1)
        REPORT["stage3_click_counted_s"] = round(time.monotonic() - t0, 2)
        check_qr_and_page(self, base, code)
        status, _, body = request(base, "GET", "/info")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["service"], "redirect")
        status, _, body = request(base, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"http_requests_total", body)
        # Hardening of every running container.
        for cid in service_containers("stage3", self.project):
            host = inspect(cid)["HostConfig"]
            self.assertTrue(host["ReadonlyRootfs"], cid)
            self.assertIn("ALL", host["CapDrop"] or [], cid)
            self.assertIn("no-new-privileges:true", host["SecurityOpt"] or [], cid)
            self.assertTrue(host["NanoCpus"] and host["Memory"], cid)
        log("stage3 smoke: create, 302, QR svg/png, UI, /info, /metrics OK; click counted after %.2fs"
            % REPORT["stage3_click_counted_s"])

    def _prometheus_targets(self):
        s, _, body = request(self.prometheus, "GET", "/api/v1/targets?state=active", timeout=5)
        if s != 200:
            return []
        return json.loads(body)["data"]["activeTargets"]

    def _wait_targets_up(self, want_redirect):
        def all_up():
            targets = self._prometheus_targets()
            jobs = collections.Counter(t["labels"]["job"] for t in targets)
            return (all(t["health"] == "up" for t in targets) and jobs["redirect"] == want_redirect
                    and all(jobs[j] >= 1 for j in ("links", "stats", "qr", "web")))
        t0 = time.monotonic()
        wait_until("Prometheus scrapes every replica, all up", all_up, 60, interval=1)
        return time.monotonic() - t0

    def test_2_prometheus_has_every_target_up(self):
        dt = self._wait_targets_up(2)
        targets = self._prometheus_targets()
        REPORT["stage3_prometheus_targets"] = len(targets)
        log("Prometheus: %d targets, all up (%s), after %.1fs more" % (
            len(targets), ", ".join(sorted(t["labels"]["job"] for t in targets)), dt))
        s, _, body = request(self.prometheus, "GET", "/api/v1/rules", timeout=5)
        self.assertEqual(s, 200)
        alerts = {r["name"] for g in json.loads(body)["data"]["groups"] for r in g["rules"]}
        self.assertEqual(alerts, {"KurzInstanceDown", "KurzHighErrorRatio", "KurzHighLatencyP99",
                                  "KurzClickStreamLag"})

    def test_3_scale_redirect_to_3(self):
        t0 = time.monotonic()
        compose("stage3", self.project, "up", "-d", "--no-recreate", "--no-build", "--scale", "redirect=3",
                timeout=180)
        ids = self._redirect_ids()
        self.assertEqual(len(ids), 3)
        for cid in ids:
            wait_healthy(cid, 60)
        seen = distinct_instances(self.base, "/" + self.code, 3, 30)
        dt = time.monotonic() - t0
        REPORT["stage3_scale"] = {"distinct_instance_ids": len(seen), "seconds": round(dt, 1)}
        log("scale redirect=3: %d distinct X-Instance-Id on GET /{code} through HAProxy, %.1fs after "
            "`up --scale` (no HAProxy restart)" % (len(seen), dt))
        self.assertGreaterEqual(len(seen), 3, seen)
        self.assertTrue(set(seen) <= {cid[:12] for cid in ids}, (seen, ids))
        dt = self._wait_targets_up(3)
        log("Prometheus found the third replica (DNS SD) %.1fs later" % dt)

    def test_3b_web_ui_in_a_browser_through_haproxy(self):
        """Issue 5 on the stage 3 stack: the UI shortens, the click is counted through the stream,
        and the live panel shows the three redirect replicas (tests/browser/stack.test.mjs)."""
        runner = os.path.join(ROOT, "tests", "browser", "run.sh")
        env = dict(os.environ, KURZ_BASE_URL=self.base, KURZ_EXPECT_INSTANCES="3",
                   KURZ_ARTIFACTS=os.path.join(ARTIFACTS, "browser"))
        t0 = time.monotonic()
        done = subprocess.run(["bash", runner], env=env, capture_output=True, text=True,
                              timeout=300)
        log("browser test through HAProxy: exit %d in %.1fs" % (done.returncode,
                                                                 time.monotonic() - t0))
        self.assertEqual(done.returncode, 0, done.stdout[-3000:] + done.stderr[-3000:])

    def test_4_rolling_restart_under_load_loses_nothing(self):
        ids = self._redirect_ids()
        self.assertGreaterEqual(len(ids), 2)
        self._wait_lb_has(len(ids))
        load = Load(self.base, self.code, TARGET + "load")
        try:
            time.sleep(2)
            for cid in ids:
                t0 = time.monotonic()
                run(["docker", "restart", "-t", "15", cid], timeout=60)
                wait_healthy(cid, 60)
                self._wait_lb_has(len(ids))
                log("restarted %s: back in HAProxy after %.1fs" % (cid[:12], time.monotonic() - t0))
            time.sleep(2)
        finally:
            load.stop()
        summary = load.summary()
        REPORT["stage3_rolling_restart"] = summary
        log("rolling restart of %d redirect replicas under load: %d requests in %.1fs (%d/s), %d failed %s"
            % (len(ids), summary["requests"], summary["seconds"], summary["rps"], summary["failed"],
               summary["first_errors"]))
        self.assertGreater(summary["requests"], 100)
        self.assertEqual(summary["failed"], 0, summary["first_errors"])

    MAX_SIGKILL_ERRORS = 20

    def test_5_sigkill_one_replica_under_load(self):
        ids = self._redirect_ids()
        self._wait_lb_has(len(ids))
        victim = ids[0]
        load = Load(self.base, self.code, TARGET + "load")
        try:
            time.sleep(2)
            run(["docker", "kill", "-s", "KILL", victim], timeout=30)
            t_kill = time.monotonic()
            wait_until("HAProxy takes the killed replica out",
                       lambda: len(servers_up(self.stats, "redirect")) <= len(ids) - 1, 15, interval=0.1)
            out_after = time.monotonic() - t_kill
            time.sleep(4)
        finally:
            load.stop()
        summary = load.summary()
        summary["out_of_haproxy_after_s"] = round(out_after, 2)
        # Recovery: the restart policy brings it back, or we start it.
        if inspect(victim)["State"]["Status"] != "running":
            run(["docker", "start", victim], timeout=60)
        wait_healthy(victim, 60)
        self._wait_lb_has(len(ids))
        seen = distinct_instances(self.base, "/" + self.code, len(ids), 30)
        summary["recovered_replicas"] = len(seen)
        REPORT["stage3_sigkill"] = summary
        log("SIGKILL of one of %d redirect replicas under load: %d requests in %.1fs, %d failed %s; out of "
            "HAProxy after %.2fs; recovered: %d replicas answer" % (
                len(ids), summary["requests"], summary["seconds"], summary["failed"], summary["first_errors"],
                out_after, len(seen)))
        self.assertLessEqual(summary["failed"], self.MAX_SIGKILL_ERRORS, summary["first_errors"])
        self.assertEqual(len(seen), len(ids))


if __name__ == "__main__":
    unittest.main(verbosity=2)
