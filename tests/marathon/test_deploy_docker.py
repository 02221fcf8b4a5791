"""marathon/deploy driving REAL containers: the Marathon stand-in (NOT Marathon) with --docker runs
every task as the Mesos Docker executor would (kurz_marathon.executor, the contract harness's), with
the executor's health check and Marathon's readiness check. Stage 1 deployed and scaled to 3 with
the tool breaks exactly as on a cluster (links 404 on the other tasks); scaled back to 1, the killed
tasks' containers are stopped with their grace; the stand-in removes every container when it stops.
Needs Docker and root (nsenter); builds kurz/monolith:dev the project's way when it is missing."""
import http.client
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import dockerenv  # noqa: E402
from test_deploy import CREDENTIALS, DEPLOY, MONOLITH, MONOLITH_ID, SECRETS, StandIn  # noqa: E402

ARTIFACTS = os.path.join(ROOT, "test-artifacts", "marathon")


def containers(names):
    out = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}} {{.State}}"], stdout=subprocess.PIPE,
                         text=True, timeout=60).stdout.split("\n")
    states = dict(line.split(" ", 1) for line in out if line.strip())
    return {n: states[n] for n in names if n in states}


@unittest.skipUnless(os.geteuid() == 0, "nsenter into a container's namespace needs root")
class RealContainers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(ARTIFACTS, exist_ok=True)
        dockerenv.ensure_dockerd(ARTIFACTS)
        if dockerenv.run(["docker", "image", "inspect", "kurz/monolith:dev"], timeout=60, check=False).returncode:
            dockerenv.build_images(["monolith"], "dev", ARTIFACTS)

    def setUp(self):
        self.standin = StandIn("--tick", "0.2", "--docker")
        self.addCleanup(self.standin.stop, 90)

    def deploy(self, *args):
        env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
        env.update(SECRETS)
        env["MARATHON_URL"] = self.standin.url
        proc = subprocess.run([sys.executable, DEPLOY, "--interval", "0.2", "--timeout", "90"] + list(args),
                              env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=200)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        return proc.stdout

    def tasks(self):
        return self.standin.app(MONOLITH_ID)["tasks"]

    def test_scale_stage1_and_watch_it_break(self):
        self.deploy("deploy", "--registry", "", "--tag", "dev", MONOLITH)
        self.deploy("scale", MONOLITH_ID, "3")
        tasks = self.tasks()
        self.assertEqual(len(tasks), 3)
        names = []
        for t in tasks:  # each task is a running container labelled with its Mesos task id
            out = subprocess.run(["docker", "ps", "-q", "--filter", "label=MESOS_TASK_ID=" + t["id"]],
                                 stdout=subprocess.PIPE, text=True, timeout=60).stdout.split()
            self.assertEqual(len(out), 1, t["id"])
            names.append(subprocess.run(["docker", "inspect", "-f", "{{.Name}}", out[0]], stdout=subprocess.PIPE,
                                        text=True, timeout=60).stdout.strip().lstrip("/"))
        addresses = ["http://%s:%d" % (t["host"], t["ports"][0]) for t in tasks]
        n = 0
        for i in range(12):  # links created round robin, looked up once on every task
            n += 1
            req = urllib.request.Request(addresses[n % 3] + "/api/links", method="POST",
                                         data=json.dumps({"url": "https://example.org/%d" % i,
                                                          "slug": "s1-%d" % i}).encode(),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as resp:
                self.assertEqual(resp.status, 201)
        found = 0
        for i in range(12):
            for t in tasks:  # http.client: a 302 is counted, never followed (no traffic leaves)
                conn = http.client.HTTPConnection(t["host"], t["ports"][0], timeout=10)
                conn.request("GET", "/s1-%d" % i)
                status = conn.getresponse().status
                conn.close()
                self.assertIn(status, (302, 404))
                found += status == 302
        self.assertEqual(found, 12, "each link is on exactly one of the 3 tasks")
        self.deploy("scale", MONOLITH_ID, "1")
        self.assertEqual(len(self.tasks()), 1)
        running = [n for n, state in containers(names).items() if state == "running"]
        self.assertEqual(len(running), 1, containers(names))
        self.standin.stop(timeout=90)
        deadline = time.monotonic() + 60
        while containers(names) and time.monotonic() < deadline:
            time.sleep(0.5)
        self.assertEqual(containers(names), {}, "the stand-in removes its containers when it stops")


if __name__ == "__main__":
    unittest.main()
