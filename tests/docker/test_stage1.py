"""docker.stacks, stage 1 (docker-compose.stage1.yml): up; smoke test (create, 302 without
following it, stats, QR svg and png, UI page, /metrics, /health/ready); non-root, read-only, no
capabilities; down.

Run (in tests/docker):  python3 -m unittest -v test_stage1   (ctest docker.stacks)"""
import json
import unittest

from stackfixture import (REPORT, TARGET, down_stack, finish, inspect, log, prepare, project_name, request, run,
                          stack, up_stack, wait_until)
from stackclient import check_qr_and_page  # tests/support, on sys.path through stackfixture


def setUpModule():
    prepare()


def tearDownModule():
    finish()


class Stage1(unittest.TestCase):
    def test_stage1_smoke(self):
        project = project_name("stage1")
        base = up_stack("stage1", project)
        self.assertTrue(base.startswith("http://127.0.0.1:"), base)
        log("stage1 up and healthy in %.1fs (incl. cached image builds) at %s" % (REPORT["stage1_up_healthy_s"], base))

        # Hardening of the running container.
        cid = self._container(project, "stage1")
        info = inspect(cid)
        self.assertEqual(info["State"]["Health"]["Status"], "healthy")
        self.assertTrue(info["HostConfig"]["ReadonlyRootfs"])
        self.assertIn("ALL", info["HostConfig"]["CapDrop"] or [])
        self.assertIn("no-new-privileges:true", info["HostConfig"]["SecurityOpt"] or [])
        uids = [line.split()[1] for line in
                run(["docker", "top", cid, "-o", "pid,uid"], timeout=30).stdout.splitlines()[1:] if line.strip()]
        self.assertTrue(uids and all(u == "10001" for u in uids), uids)

        # Smoke test through the published port.
        status, headers, body = request(base, "POST", "/api/links", {"url": TARGET + "smoke"})
        self.assertEqual(status, 201, body)
        link = json.loads(body)
        code = link["code"]
        self.assertTrue(headers.get("x-instance-id"))
        status, headers, _ = request(base, "GET", "/" + code)
        self.assertEqual(status, 302)
        self.assertEqual(headers.get("location"), TARGET + "smoke")

        def clicked():
            s, _, b = request(base, "GET", "/api/stats/" + code)
            return s == 200 and json.loads(b).get("total", 0) >= 1
        wait_until("stats count the click", clicked, 5, interval=0.2)
        check_qr_and_page(self, base, code)
        status, _, body = request(base, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"kurz_links_created_total", body)
        status, _, body = request(base, "GET", "/health/ready")
        self.assertEqual(status, 200, body)
        status, _, body = request(base, "GET", "/info")
        self.assertEqual(json.loads(body)["service"], "monolith")

        down_stack("stage1", project)

    @staticmethod
    def _container(project, stage):
        ids = [i for i in stack("ps", stage, project, "-q", timeout=60).stdout.split() if len(i) >= 12]
        if not ids:
            raise AssertionError("no container in project " + project)
        return ids[0]


if __name__ == "__main__":
    unittest.main(verbosity=2)
