"""The offline track with the tools people use: the Marathon stand-in driven by a real Marathon
client library (Debian's python3-marathon, the `marathon` package on PyPI) and by the curl lines of
docs/marathon.md's "Getting a cluster", as they are written there (localhost:8080 is the stand-in)."""
import json
import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "guide"))
import guidedoc  # noqa: E402

try:
    import marathon  # Debian's python3-marathon
except ImportError:  # the test fails, saying what is missing (scripts/lib.sh installs it)
    marathon = None

MONOLITH = os.path.join(ROOT, "marathon", "stage1", "monolith.json")


class StandIn:
    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "standin.py"), "--port", "0",
                                      "--lifetime", "300"] + list(args), stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline().strip()
        if not first.isdigit():
            raise AssertionError("the stand-in did not start: %r" % first)
        self.port = int(first)
        self.url = "http://127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


class PythonMarathon(unittest.TestCase):
    def setUp(self):
        if marathon is None:
            self.fail("needs Debian's python3-marathon (scripts/lib.sh KURZ_TEST_PACKAGES)")
        self.standin = StandIn()
        self.addCleanup(self.standin.stop)
        self.client = marathon.MarathonClient(self.standin.url)

    def wait_deployments(self):
        deadline = time.monotonic() + 30
        while self.client.list_deployments():
            self.assertLess(time.monotonic(), deadline, "deployments did not finish")
            time.sleep(0.1)

    def test_the_calls_a_client_makes(self):
        info = self.client.get_info()  # MarathonInfo(**body): any key Marathon does not send fails here
        self.assertEqual((info.name, info.version), ("marathon", "1.10.26-standin"))
        self.assertEqual(info.marathon_config.mesos_role, "kurz")
        with open(MONOLITH) as f:
            definition = json.load(f)
        created = self.client.create_app(definition["id"], marathon.MarathonApp.from_json(definition))  # POST /v2/apps
        self.assertEqual(created.id, "/kurz-stage1/monolith")
        self.assertTrue(created.deployments)
        with self.assertRaises(marathon.exceptions.MarathonHttpError) as e:  # 409: exists
            self.client.create_app(definition["id"], marathon.MarathonApp.from_json(definition))
        self.assertEqual(e.exception.status_code, 409)
        self.wait_deployments()
        app = self.client.get_app("/kurz-stage1/monolith")  # GET /v2/apps//kurz-stage1/monolith
        self.assertEqual((app.instances, app.tasks_running), (1, 1))
        self.assertEqual(app.container.docker.image, definition["container"]["docker"]["image"])
        tasks = self.client.list_tasks("/kurz-stage1/monolith")  # GET /v2/apps//.../tasks
        self.assertEqual([t.app_id for t in tasks], ["/kurz-stage1/monolith"])
        self.assertTrue(tasks[0].id.startswith("kurz-stage1_monolith.instance-"))
        self.client.scale_app("/kurz-stage1/monolith", 3)
        self.wait_deployments()
        self.assertEqual(len(self.client.list_tasks()), 3)  # GET /v2/tasks
        self.assertEqual([a.id for a in self.client.list_apps()], ["/kurz-stage1/monolith"])
        self.client.delete_app("/kurz-stage1/monolith")
        self.wait_deployments()
        self.assertEqual(self.client.list_apps(), [])
        with self.assertRaises(marathon.exceptions.NotFoundError):
            self.client.get_app("/kurz-stage1/monolith")


class DocCurlLines(unittest.TestCase):
    """The "Getting a cluster" block of docs/marathon.md, run as a reader runs it."""

    def test_getting_a_cluster_block(self):
        with open(os.path.join(ROOT, "docs", "marathon.md"), encoding="utf-8") as f:
            text = f.read()
        section = text[text.index("## Getting a cluster"):text.index("## 1. Prerequisites")]
        offset = text[:text.index("## Getting a cluster")].count("\n")
        blocks = [b for b in guidedoc.parse("docs/marathon.md", "\n" * offset + section, {"marathon"})
                  if b.marker == "run"]
        self.assertEqual(len(blocks), 1)
        block = blocks[0]
        self.assertRegex(block.text, r"curl -s -X POST .* localhost:8080/v2/apps ")
        for call in ("/v2/apps//", "/tasks", "/v2/tasks", "/v2/info"):
            self.assertIn(call, block.text)
        standin = StandIn()
        self.addCleanup(standin.stop)
        script = block.text.replace("localhost:8080", "localhost:%d" % standin.port)
        env = dict(os.environ, MARATHON_URL=standin.url)
        p = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIsNone(guidedoc.mismatch(block.expect.text, p.stdout), p.stdout)
        log = json.loads(subprocess.run(["curl", "-s", standin.url + "/_standin/requests"], capture_output=True,
                                        text=True, timeout=10).stdout)
        calls = [(r["method"], r["path"]) for r in log]
        self.assertIn(("POST", "/v2/apps"), calls)
        self.assertIn(("GET", "/v2/apps//team07/kurz-stage1/monolith/tasks"), calls)
        self.assertTrue(re.search(r"team07", json.dumps([r["body"] for r in log if r["method"] == "POST"])))


if __name__ == "__main__":
    unittest.main()
