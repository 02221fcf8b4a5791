"""marathon/deploy preflight and "no silent 8080": against the Marathon stand-in (standin.py), a Mesos
master stand-in (mesos_standin.py, Mesos's documented /master/state body), a real registry (Debian's
docker-registry) and a real kurz monolith ($KURZ_MONOLITH) where a Marathon URL is wrong.
Every check passes once and fails once, each failure with what to do; no traceback anywhere."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import opspath  # noqa: E402,F401  (scripts/ on sys.path)
from kurzops.net import free_port  # noqa: E402
from kurzops.wait import wait_http  # noqa: E402
DEPLOY = os.path.join(ROOT, "marathon", "deploy")
CREDENTIALS = ("DCOS_TOKEN", "MARATHON_USER", "MARATHON_PASSWORD", "MARATHON_URL", "MESOS_URL")
# The definitions' ${KURZ_API_KEY} / ${KURZ_REDIS_PASSWORD}, as a facilitator exports them (deploy
# refuses a definition without them before it asks the server anything).
SECRETS = {"KURZ_API_KEY": "test-api-key-0123456789", "KURZ_REDIS_PASSWORD": "test-redis-pass-0123456789"}


def start(argv):
    proc = subprocess.Popen([sys.executable] + argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = proc.stdout.readline().strip()
    if not first.isdigit():
        proc.kill()
        raise AssertionError("%s did not start: %r" % (argv[0], first))
    return proc, "http://127.0.0.1:%s" % first


class Preflight(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.procs = []
        cls.marathon = cls.spawn(os.path.join(HERE, "standin.py"), "--port", "0", "--lifetime", "600")
        cls.star = cls.spawn(os.path.join(HERE, "standin.py"), "--port", "0", "--lifetime", "600", "--mesos-role", "*")
        cls.mesos = cls.spawn(os.path.join(HERE, "mesos_standin.py"), "--port", "0", "--lifetime", "600")
        cls.tmp = tempfile.TemporaryDirectory(prefix="kurz-preflight-")
        registry = shutil.which("docker-registry")
        if not registry:
            raise AssertionError("needs Debian's docker-registry (scripts/lib.sh KURZ_TEST_PACKAGES)")
        cls.registry = "127.0.0.1:%d" % free_port()
        config = os.path.join(cls.tmp.name, "registry.yml")
        with open(config, "w") as f:
            f.write("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
                    "http:\n  addr: %s\n" % (os.path.join(cls.tmp.name, "data"), cls.registry))
        cls.procs.append(subprocess.Popen([registry, "serve", config], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        wait_http("http://%s/v2/" % cls.registry, 15, pid=cls.procs[-1].pid)
        monolith = os.environ.get("KURZ_MONOLITH")
        if not monolith:
            raise AssertionError("set KURZ_MONOLITH (ctest sets it to the built kurz-monolith)")
        port = free_port()
        cls.procs.append(subprocess.Popen([monolith], env=dict(os.environ, MONOLITH_PORT=str(port)),
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        cls.kurz = "http://127.0.0.1:%d" % port
        wait_http(cls.kurz + "/health/live", 15, pid=cls.procs[-1].pid)

    @classmethod
    def spawn(cls, *argv):
        proc, url = start(list(argv))
        cls.procs.append(proc)
        return url

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            p.terminate()
        for p in cls.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
            if p.stdout:
                p.stdout.close()
        cls.tmp.cleanup()

    def deploy(self, *args, env=None):
        full = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
        full.update(SECRETS)
        full.update(env or {})
        p = subprocess.run([sys.executable, DEPLOY] + list(args), env=full, capture_output=True, text=True,
                           timeout=60)
        self.assertNotIn("Traceback", p.stdout + p.stderr)
        return p

    def preflight(self, *args, marathon=None, mesos=None, registry=None, dns="localhost"):
        env = {"MARATHON_URL": marathon or self.marathon}
        if mesos is not False:
            env["MESOS_URL"] = mesos or self.mesos
        return self.deploy("preflight", *args, "--registry", registry or self.registry, "--dns-name", dns, env=env)

    def line(self, out, check):
        found = [x for x in out.splitlines() if x[6:].startswith(check + " ")]
        self.assertEqual(len(found), 1, out)
        return found[0]

    def test_everything_ready(self):
        p = self.preflight("stage3")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for check in ("marathon", "version", "role", "principal", "public-agent", "resources", "registry", "dns"):
            self.assertTrue(self.line(p.stdout, check).startswith("ok "), self.line(p.stdout, check))
        self.assertIn("stage3 x 1 team(s) needs", p.stdout)
        self.assertIn("principal kurz", self.line(p.stdout, "principal"))
        self.assertIn("10.0.1.10", self.line(p.stdout, "public-agent"))
        self.assertTrue(p.stdout.rstrip().endswith("preflight: the cluster can take it"))

    def test_role_star(self):
        p = self.preflight("stage2", marathon=self.star)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(self.line(p.stdout, "role"), r"^FAIL  role .*--mesos_role is \*.*fix: restart Marathon "
                         r"with --mesos_role kurz and --mesos_authentication_principal")
        # stage 1 has no persistent volume of its own, but the room's registry has
        self.assertRegex(self.line(self.preflight("stage1", marathon=self.star).stdout, "role"),
                         r"^FAIL  role .*: /infra/registry \(persistent volumes\)")
        self.assertIn("/kurz-stage2/redis, /infra/registry (persistent volumes)", self.line(p.stdout, "role"))

    def test_mesos_faults(self):
        cases = (
            (["--principal", ""], "principal", "has no principal.*fix: restart Marathon with --mesos_authentication_principal"),
            (["--framework", ""], "principal", "no framework 'marathon' is registered"),
            (["--public", "0"], "public-agent", "no active agent has resources for role slave_public.*fix: start one "
                                                "agent with --default_role=slave_public"),
            (["--agents", "1", "--used-cpus", "3.5"], "resources", r"1 private agent\(s\) have 2.5 CPUs.*fix: add agents"),
        )
        for argv, check, pattern in cases:
            with self.subTest(argv=argv):
                proc, url = start([os.path.join(HERE, "mesos_standin.py"), "--port", "0", "--lifetime", "60"] + argv)
                try:
                    p = self.preflight("stage3", mesos=url)
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)
                    proc.stdout.close()
                self.assertEqual(p.returncode, 1, p.stdout)
                self.assertRegex(self.line(p.stdout, check), "^FAIL  " + check + " +.*" + pattern)

    def test_fifteen_teams_need_more_than_three_agents(self):
        self.assertTrue(self.line(self.preflight("stage1").stdout, "resources").startswith("ok "))
        p = self.preflight("stage3", "--teams", "15")
        self.assertEqual(p.returncode, 1)
        self.assertRegex(self.line(p.stdout, "resources"), r"^FAIL  resources +3 private agent\(s\) have 18.0 CPUs "
                         r"and 24576 MB free; needed \d+\.\d CPUs")
        self.assertIn("stage3 x 15 team(s) needs", p.stdout)

    def test_without_mesos_the_mesos_checks_are_skipped(self):
        p = self.preflight("stage3", mesos=False)
        self.assertEqual(p.returncode, 0, p.stdout)
        for check in ("principal", "public-agent", "resources"):
            self.assertIn("skip  %-12s set MESOS_URL" % check, p.stdout)

    def test_mesos_url_that_is_not_mesos(self):
        p = self.preflight("stage3", mesos=self.marathon)
        self.assertEqual(p.returncode, 1)
        self.assertIn("/master/state answers 404: not a Mesos master", self.line(p.stdout, "resources"))

    def test_registry_and_dns(self):
        p = self.preflight("stage1", registry="127.0.0.1:%d" % free_port(), dns="no-such-name.invalid")
        self.assertEqual(p.returncode, 1)
        self.assertRegex(self.line(p.stdout, "registry"), r"^FAIL  registry .*fix: deploy marathon/infra/registry.json "
                         r"first; every agent's Docker needs \"insecure-registries\"")
        self.assertRegex(self.line(p.stdout, "dns"), r"^FAIL  dns +no-such-name.invalid does not resolve here.*fix: use "
                         r"Mesos-DNS")
        p = self.preflight("stage1", registry=self.marathon[len("http://"):])
        self.assertIn("answers 404, not a Docker registry", self.line(p.stdout, "registry"))

    def test_kurz_is_not_marathon(self):
        p = self.preflight("stage1", marathon=self.kurz)
        self.assertEqual(p.returncode, 1)
        self.assertIn("FAIL  marathon     %s is not Marathon: this looks like kurz" % self.kurz, p.stdout)
        for args in (["status"], ["deploy", os.path.join(ROOT, "marathon/stage1/monolith.json")],
                     ["scale", "/kurz/redirect", "2"]):
            p = self.deploy(*args, env={"MARATHON_URL": self.kurz})
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("deploy: %s is not Marathon: this looks like kurz" % self.kurz, p.stderr)
            self.assertNotIn("no such resource", p.stderr)  # kurz's own 404 is not shown as Marathon's

    def test_no_marathon_url_no_default(self):
        p = self.deploy("status")
        self.assertEqual(p.returncode, 2)
        self.assertIn("deploy: error: MARATHON_URL is not set", p.stderr)
        self.assertIn("8080 on this machine is kurz's own port too", p.stderr)

    def test_bad_usage(self):
        p = self.deploy("preflight", "--only", "marathon,bogus", env={"MARATHON_URL": self.marathon})
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown check(s) bogus", p.stderr)
        p = self.deploy("preflight", "stage9", env={"MARATHON_URL": self.marathon})
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main()
