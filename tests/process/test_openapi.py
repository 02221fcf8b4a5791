"""The OpenAPI document matches the monolith: every documented operation exists and answers with
a documented status (tests/openapi/check_openapi.py does the checking)."""
import os
import subprocess
import sys
import unittest

from kurz_process import Service

MONOLITH = os.environ["KURZ_MONOLITH"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class OpenApiTest(unittest.TestCase):
    def test_every_documented_operation_answers_as_documented(self):
        service = Service(MONOLITH, {"MAX_REQUEST_BYTES": "65536"})
        try:
            check = subprocess.run(
                [sys.executable, os.path.join(ROOT, "tests/openapi/check_openapi.py"),
                 "--spec", os.path.join(ROOT, "docs/openapi.yaml"),
                 "--base-url", "http://127.0.0.1:%d" % service.port],
                capture_output=True, text=True, timeout=120)
        finally:
            service.terminate()
        print(check.stdout[-4000:])
        self.assertEqual(check.returncode, 0, check.stdout[-6000:] + check.stderr[-2000:])


if __name__ == "__main__":
    unittest.main()
