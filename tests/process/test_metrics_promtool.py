"""`promtool check metrics` accepts what /metrics serves, after traffic on every kind of route."""
import json
import os
import shutil
import subprocess
import unittest

from kurz_process import Service, request

MONOLITH = os.environ["KURZ_MONOLITH"]


class PromtoolTest(unittest.TestCase):
    def test_exposition_passes_promtool(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool is missing: scripts/test.sh installs prometheus")
        service = Service(MONOLITH)
        try:
            status, _, body = request(service, "POST", "/api/links", {"url": "https://example.com/"})
            self.assertEqual(status, 201, body)
            code = json.loads(body)["code"]
            for path in ("/" + code, "/qr/%s.svg" % code, "/api/stats/" + code, "/nope/nope"):
                service.get(path)
            status, headers, body = service.get("/metrics")
        finally:
            service.terminate()
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        text = body.decode()
        for name in ("http_requests_total", "http_request_duration_seconds_bucket",
                     "process_cpu_seconds_total", "process_resident_memory_bytes",
                     "process_open_fds", "process_start_time_seconds", "kurz_build_info",
                     "kurz_redirects_total", "kurz_links_created_total"):
            self.assertIn(name, text)
        check = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
        self.assertEqual(check.returncode, 0, check.stdout.decode() + check.stderr.decode())


if __name__ == "__main__":
    unittest.main()
