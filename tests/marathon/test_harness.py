"""ctest marathon.harness: every app definition under marathon/ run through the contract harness
(marathon/harness: the Mesos Docker executor's `docker run`, health checks in the container's
network namespace, Marathon's readiness checks, the kill path under a balancer's traffic; real
Docker), then definitions broken on purpose (mutated from the real ones), each of which must fail
the harness for the right reason.

Needs Docker (started when none answers) and builds the kurz images the definitions use. Runs the
harness as users run it (`marathon/harness --registry "" --tag dev FILE`), several at once: the
apps with a fixed host port (Redis on 6379) one after the other, the rest beside them. The
harness's figures are printed and written to test-artifacts/marathon/harness.txt.
"""
import concurrent.futures
import copy
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
sys.path.insert(0, os.path.join(ROOT, "marathon", "lib"))
import dockerenv  # noqa: E402
from kurz_marathon import definitions, executor  # noqa: E402

HARNESS = os.path.join(ROOT, "marathon", "harness")
ARTIFACTS = os.path.join(ROOT, "test-artifacts", "marathon")
TAG = "dev"
M = os.path.join(ROOT, "marathon")
STAGE1 = os.path.join(M, "stage1", "monolith.json")
# Apps that publish a fixed host port (Redis, 6379): run one after the other.
SERIAL = [os.path.join(M, "stage2", "kurz.json"), os.path.join(M, "stage3", "kurz.json"),
          os.path.join(M, "infra", "redis.json"), os.path.join(M, "canary", "redirect-canary.json")]
HA = os.path.join(M, "stage3-ha", "kurz.json")
PARALLEL = [STAGE1, os.path.join(M, "stage1", "monolith-x3.json"), os.path.join(M, "infra", "prometheus.json")]
# Not run here: marathon-lb and the registry run images that are not built by the project (the
# harness reports them as skipped when they are not present; see the skip test).
HARNESS_TIMEOUT_S = 240
_log_lines = []


def log(msg):
    _log_lines.append(msg)
    print(msg, flush=True)


def harness(*args, timeout=HARNESS_TIMEOUT_S):
    """Runs marathon/harness; returns (exit code, output)."""
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, HARNESS, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, time.monotonic() - t0


def figures(output):
    """The report lines of a harness run (the table and the verdict)."""
    keep = []
    started = False
    for line in output.splitlines():
        if line.startswith("app ") and "result" in line:
            started = True
        if started or line.startswith(("FAIL", "SKIP", "harness: FAILED", "harness: passed")):
            keep.append(line)
    return "\n".join(keep)


def write_def(folder, name, definition):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        json.dump(definition, f, indent=2)
    return path


def our_containers():
    """Containers started by a harness (they carry the executor's MESOS_TASK_ID label)."""
    out = subprocess.run(["docker", "ps", "-aq", "--filter", "label=MESOS_TASK_ID"], stdout=subprocess.PIPE,
                         text=True, timeout=30).stdout.split()
    return set(out)


class CommandShape(unittest.TestCase):
    """The `docker run` the executor stand-in builds, from the JSON alone (no Docker needed)."""

    def task(self, app, hosts=()):
        with tempfile.TemporaryDirectory() as tmp:
            t = executor.Task(app, tmp, "127.0.0.1", list(hosts))
            return t, t.run_command("2026-12-01T00:00:00.000Z")

    def test_stage1_monolith(self):
        app = definitions.load(STAGE1)
        t, argv = self.task(app, ["monolith-kurz-stage1.marathon.mesos"])
        text = " ".join(argv)
        cpus, mem = float(app["cpus"]), float(app["mem"])
        self.assertIn("--cpu-shares %d " % max(2, int(cpus * 1024)), text)
        self.assertIn("--memory %d " % (int(max(mem, 32)) * 1024 * 1024), text)
        env = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "-e")
        self.assertEqual(list(env), sorted(env), "the environment is sorted by key")
        host_port = t.host_ports[0]
        container_port = app["container"]["portMappings"][0]["containerPort"]
        for key in ("PORT0", "PORT", "PORT_%d" % container_port, "PORT_HTTP"):
            self.assertEqual(env[key], str(host_port), "%s is the HOST port in bridge mode" % key)
        self.assertEqual(env["PORTS"], str(host_port))
        self.assertNotEqual(host_port, container_port)
        self.assertRegex(env["MESOS_TASK_ID"], r"^kurz-stage1_monolith\.instance-[0-9a-f-]{36}\._app\.1$")
        self.assertEqual(env["MARATHON_APP_ID"], "/kurz-stage1/monolith")
        self.assertEqual(env["MARATHON_APP_RESOURCE_CPUS"], repr(cpus))
        self.assertEqual(env["MARATHON_APP_RESOURCE_MEM"], repr(mem))
        self.assertEqual(env["MESOS_SANDBOX"], "/mnt/mesos/sandbox")
        self.assertEqual(env["HOST"], "127.0.0.1")
        for key, value in app["env"].items():
            self.assertEqual(env[key], value, "the app's env overrides Marathon's")
        self.assertEqual(sorted(env["MARATHON_APP_LABELS"].split()), sorted(app["labels"]))
        self.assertIn("-p 127.0.0.1:%d:%d/tcp" % (host_port, container_port), text)
        self.assertIn("--net bridge", text)
        self.assertIn("--add-host monolith-kurz-stage1.marathon.mesos:127.0.0.1", text)
        self.assertRegex(text, r"-v \S+/sandbox-[0-9a-f-]+:/mnt/mesos/sandbox ")
        self.assertRegex(text, r"--name mesos-[0-9a-f-]{36} --label=MESOS_TASK_ID=kurz-stage1_monolith\.")
        self.assertEqual(argv[-1 - len(app.get("args") or [])], app["container"]["docker"]["image"])

    def test_cmd_becomes_a_shell(self):
        app = copy.deepcopy(definitions.load(STAGE1))
        app.pop("args", None)
        app["cmd"] = "kurz-monolith"
        _, argv = self.task(app)
        self.assertEqual(argv[-3:], [app["container"]["docker"]["image"], "-c", "kurz-monolith"])
        self.assertIn("--entrypoint", argv)

    def test_volumes_parameters_and_minimums(self):
        app = copy.deepcopy(definitions.load(STAGE1))
        app.update({"cpus": 0.001, "mem": 16, "taskKillGracePeriodSeconds": None})
        app["container"]["volumes"] = [
            {"containerPath": "data", "mode": "RW", "persistent": {"size": 64}},
            {"containerPath": "/data", "hostPath": "data", "mode": "RW"},
            {"containerPath": "/conf", "hostPath": "conf", "mode": "RO"}]
        app["container"]["docker"]["parameters"] = [{"key": "read-only", "value": "true"}]
        t, argv = self.task(app)
        text = " ".join(argv)
        self.assertIn("--cpu-shares 2 ", text)
        self.assertIn("--memory %d " % (32 * 1024 * 1024), text)
        self.assertIn("-v %s/data:/data:rw" % t.sandbox, text)
        self.assertIn("-v %s/conf:/conf:ro" % t.sandbox, text)
        self.assertIn("--read-only=true", text)
        self.assertEqual(t.kill_grace_s, 5, "unset, the grace is the agent's 5 s")


@unittest.skipUnless(os.geteuid() == 0, "nsenter into a container's namespace needs root")
class Harness(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(ARTIFACTS, exist_ok=True)
        dockerenv.ensure_dockerd(ARTIFACTS, log)
        names = set()
        for path in definitions.definition_files():
            for app in definitions.apps(definitions.load(path)).values():
                name = definitions.kurz_image_name(app)
                if name and os.path.exists(os.path.join(ROOT, "docker", name + ".Dockerfile")):
                    names.add(name)
        order = [n for n in dockerenv.ALL_IMAGES if n in names]
        dockerenv.build_images(order, TAG, ARTIFACTS, log)
        cls.tmp = tempfile.mkdtemp(prefix="kurz-harness-test-")

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.tmp, ignore_errors=True)
        with open(os.path.join(ARTIFACTS, "harness.txt"), "w") as f:
            f.write("\n".join(_log_lines) + "\n")

    def run_all(self, jobs):
        """jobs: {label: [harness args]}; the SERIAL ones one after the other, beside the others."""
        def chain(items):
            return [(label, harness(*args)) for label, args in items]
        serial = [(k, v) for k, v in jobs.items() if v[-1] in SERIAL]
        others = [(k, v) for k, v in jobs.items() if (k, v) not in serial]
        with concurrent.futures.ThreadPoolExecutor(max_workers=1 + len(others)) as pool:
            futures = [pool.submit(chain, serial)] + [pool.submit(chain, [item]) for item in others]
            results = {}
            for f in futures:
                for label, result in f.result():
                    results[label] = result
        return results

    def test_every_definition_passes(self):
        before = our_containers()
        jobs = {}
        for path in SERIAL + PARALLEL:
            self.assertTrue(os.path.exists(path), "missing definition %s" % path)
            label = os.path.relpath(path, M)
            args = ["--registry", "", "--tag", TAG, path]
            if path.endswith("redirect-canary.json"):
                # The canary joins the running stage 3 group: what it needs from it runs first.
                args = ["--registry", "", "--tag", TAG, "--with", SERIAL[1], path]
            if path.endswith("monolith-x3.json"):
                apps = definitions.apps(definitions.load(path))
                self.assertEqual(len(apps), 1)
                args = ["--registry", "", "--tag", TAG, "--app", next(iter(apps)), path]
            jobs[label] = args
        results = self.run_all(jobs)
        failed = []
        for label, (code, out, seconds) in sorted(results.items()):
            log("== marathon/harness --registry '' --tag %s marathon/%s  (exit %d, %.0f s)\n%s"
                % (TAG, label, code, seconds, figures(out)))
            if code != 0:
                failed.append("%s (exit %d):\n%s" % (label, code, out[-3000:]))
            else:
                self.assertRegex(out, r"harness: passed: [1-9]")
                self.assertNotRegex(out, r"(?m)^FAIL")
        self.assertEqual(failed, [], "\n\n".join(failed))
        self.assertEqual(our_containers() - before, set(), "the harness left containers behind")
        # Every kurz app of every stage ran (skips are only for images the project does not build).
        for label, (code, out, _) in results.items():
            for line in out.splitlines():
                if line.startswith("SKIP"):
                    self.assertIn("not a kurz image", line, "%s: %s" % (label, line))

    def test_ha_redis_apps_pass(self):
        """stage3-ha's Redis apps, as many as one stand-in agent can hold at once: three data nodes
        all want host port 6379 and three sentinels 26379 (on a cluster that keeps them on different
        agents), so the primary with one sentinel, then one replica. The services of stage3-ha need
        the client's Sentinel support and run with the compose HA stack's tests, not here."""
        before = our_containers()
        for app_id in ("/kurz-ha/sentinel-1", "/kurz-ha/redis-replica-1"):
            code, out, seconds = harness("--registry", "", "--tag", TAG, "--app", app_id, HA)
            log("== marathon/harness --registry '' --tag %s --app %s marathon/stage3-ha/kurz.json  (exit %d, %.0f s)\n%s"
                % (TAG, app_id, code, seconds, figures(out)))
            self.assertEqual(code, 0, out[-3000:])
            self.assertRegex(out, r"harness: passed: [1-9]")
            self.assertIn("%s: healthy after" % app_id, out)
        self.assertEqual(our_containers() - before, set(), "the harness left containers behind")

    def broken(self, name, mutate):
        app = copy.deepcopy(definitions.load(STAGE1))
        mutate(app)
        return write_def(self.tmp, name + ".json", app)

    def test_broken_definitions_fail(self):
        base = definitions.load(STAGE1)
        port = base["container"]["portMappings"][0]["containerPort"]
        port_var = definitions.port_variable(base)

        def short_grace(app):
            app["healthChecks"][0]["gracePeriodSeconds"] = 8

        def wrong_port(app):
            app["container"]["portMappings"][0]["containerPort"] = port + 1  # the service binds `port`
            short_grace(app)

        def binds_port0(app):
            app["env"].pop(port_var)  # the service falls back to PORT0: the HOST port
            short_grace(app)

        def wrong_path(app):
            app["healthChecks"][0]["path"] = "/health/nope"
            short_grace(app)

        def short_kill_grace(app):
            app["taskKillGracePeriodSeconds"] = 1  # below SHUTDOWN_DELAY_MS

        def uses_cmd(app):
            app.pop("args", None)
            app["cmd"] = "/usr/local/bin/kurz-monolith"

        cases = {
            "wrong-port": (wrong_port, "health check",
                           r"on container port %d/health/live not healthy within gracePeriodSeconds=8 s.*"
                           r"curl: \(7\).*the container listens on %d, not on %d" % (port + 1, port, port + 1)),
            "binds-port0": (binds_port0, "health check", r"on container port %d/health/live not healthy.*"
                            r"listens on \d+ \(PORT0: a HOST port\), not on %d" % (port, port)),
            "wrong-path": (wrong_path, "health check", r"/health/nope not healthy .*last: HTTP 404"),
            "short-kill-grace": (short_kill_grace, "kill path",
                                 r"docker stop -t 1: exit code 137 .*SIGKILL after taskKillGracePeriodSeconds=1"),
            "cmd": (uses_cmd, "start", r"exited with code 127 \(the definition sets `cmd`"),
        }
        jobs = {name: ["--registry", "", "--tag", TAG, self.broken(name, m)] for name, (m, _, _) in cases.items()}
        results = self.run_all(jobs)
        for name, (_, check, pattern) in cases.items():
            code, out, seconds = results[name]
            log("== broken definition %s (exit %d, %.0f s)\n%s" % (name, code, seconds, figures(out)))
            self.assertEqual(code, 1, "%s must fail the harness:\n%s" % (name, out[-3000:]))
            fail = [l for l in out.splitlines() if l.startswith("FAIL")]
            self.assertTrue(fail, out)
            self.assertIn(": %s: " % check, fail[0], out[-3000:])
            self.assertRegex(fail[0], pattern)

    def test_usage_skip_and_interrupt(self):
        code, out, _ = harness("--tag", TAG)
        self.assertEqual(code, 2)
        code, out, _ = harness(os.path.join(self.tmp, "nope.json"))
        self.assertEqual((code, "cannot read" in out), (2, True), out)
        code, out, _ = harness("--app", "/nope", STAGE1)
        self.assertEqual((code, "no app /nope" in out), (2, True), out)
        # A non-kurz image that is not present is skipped with the reason, never passed silently.
        app = copy.deepcopy(definitions.load(STAGE1))
        app["id"] = "/infra/not-here"
        app["container"]["docker"]["image"] = "example.invalid/not-here:1.0"
        code, out, _ = harness(write_def(self.tmp, "not-here.json", app))
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"SKIP /infra/not-here: image example.invalid/not-here:1.0 is not present")
        self.assertRegex(out, r"/infra/not-here\s+skip")
        # Ctrl-C while the task runs: the container and the sandbox are removed.
        before = our_containers()
        sandboxes = set(os.listdir(tempfile.gettempdir()))
        proc = subprocess.Popen([sys.executable, HARNESS, "--registry", "", "--tag", TAG, STAGE1],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = []
        deadline = time.monotonic() + 60
        for line in proc.stdout:
            seen.append(line)
            if " docker run " in line or time.monotonic() > deadline:
                break
        time.sleep(1.0)
        self.assertNotEqual(our_containers() - before, set(), "the task runs")
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 1, "".join(seen) + rest)
        self.assertIn("interrupted", rest)
        self.assertEqual(our_containers() - before, set(), "the container is removed after Ctrl-C")
        left = [d for d in set(os.listdir(tempfile.gettempdir())) - sandboxes if d.startswith("kurz-harness-")
                and not d.startswith("kurz-harness-test-")]
        self.assertEqual(left, [], "the sandbox is removed after Ctrl-C")


if __name__ == "__main__":
    unittest.main()
