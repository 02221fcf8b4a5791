"""kurz with Redis failover on a three-node Docker Swarm (swarm/kurz-ha.yml, scripts/swarm/cluster.sh).

Run: /usr/bin/python3 -m unittest -v test_swarm_ha   (in tests/swarm; ctest swarm.ha, labels
swarm;docker). Needs Docker, root and the kurz images (KURZ_TAG, default dev; built when missing).

One cluster (a unique KURZ_SWARM_NAME, every port Docker-picked on 127.0.0.1, `cluster.sh down` at
the end and on failure), then:
  1 deploy     KURZ_SWARM_STACK=kurz-ha.yml: converges, the edge is ready (the services found the
               primary through the sentinels); 20 links created through the edge, each redirects
  2 failover   `cluster.sh redis-failover`: the node of the primary killed; the sentinels name a new
               primary; 0 of the 200 WAIT-acknowledged keys lost; the old primary back as a replica
  3 after      creates answer 201 again through the edge (bounded wait), and the 20 links created
               before the failover all redirect to their targets
No timing is asserted beyond the bounds of each wait; the JSON line of the failover is printed.
"""
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import dockerenv  # noqa: E402

CLUSTER = os.path.join(ROOT, "scripts", "swarm", "cluster.sh")
ARTIFACTS = os.path.join(ROOT, "test-artifacts", "swarm")
NAME = "kurzha-swarm-" + uuid.uuid4().hex[:6]
TAG = os.environ.get("KURZ_TAG", "dev")
IMAGES = ("redis", "links", "redirect", "stats", "qr", "web", "haproxy", "prometheus")


def log(msg):
    print("swarm-ha-test: " + msg, flush=True)


def cluster(*args, timeout=400, check=True):
    env = dict(os.environ, KURZ_SWARM_NAME=NAME, KURZ_TAG=TAG, KURZ_SWARM_STACK="kurz-ha.yml",
               KURZ_SWARM_HTTP_PORT="", KURZ_SWARM_STATS_PORT="", KURZ_SWARM_PROMETHEUS_PORT="",
               KURZ_SWARM_REGISTRY_PORT="", KURZ_RATE_LIMIT_CREATES="0", KURZ_SWARM_TIMEOUT="300")
    proc = subprocess.run([CLUSTER, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    log("cluster.sh %s: exit %d\n%s" % (" ".join(args), proc.returncode, proc.stdout[-3000:]))
    if check and proc.returncode != 0:
        raise AssertionError("cluster.sh %s failed (exit %d)" % (" ".join(args), proc.returncode))
    return proc.stdout


def http(method, url, body=None, timeout=5):
    """(status, headers, body) without following redirects; (None, {}, error) on a transport error."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.build_opener(NoRedirect).open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return None, {}, str(e)


class SwarmRedisFailover(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(ARTIFACTS, exist_ok=True)
        dockerenv.ensure_dockerd(ARTIFACTS, log)
        missing = [n for n in IMAGES if subprocess.run(["docker", "image", "inspect", "kurz/%s:%s" % (n, TAG)],
                                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode]
        if missing:
            dockerenv.build_images(missing, TAG, ARTIFACTS, log)
        cls.up = False
        try:
            cluster("up")
            cls.up = True
            cluster("deploy")
            cls.base = cluster("url").strip().splitlines()[-1]
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "up", False) and os.environ.get("KURZ_SWARM_KEEP") != "1":
            cluster("down", check=False)
            cls.up = False

    def create(self, target):
        return http("POST", self.base + "/api/links", {"url": target})

    def test_failover(self):
        links = {}
        for i in range(20):
            target = "https://example.com/ha/%d" % i
            status, _, body = self.create(target)
            self.assertEqual(status, 201, body)
            links[json.loads(body)["code"]] = target
        for code, target in links.items():
            status, headers, _ = http("GET", self.base + "/" + code)
            self.assertEqual((status, headers.get("Location")), (302, target))

        out = cluster("redis-failover", timeout=400)
        line = [l for l in out.splitlines() if l.startswith("{")][-1]
        result = json.loads(line)
        log("failover: %s" % line)
        with open(os.path.join(ARTIFACTS, "redis-failover.json"), "w") as f:
            f.write(line + "\n")
        self.assertEqual(result["keys_lost"], 0)
        self.assertNotEqual(result["new_primary"], result["old_primary"])
        self.assertIsNotNone(result["old_primary_rejoined_as_replica_after_s"])

        deadline = time.monotonic() + 60
        while True:
            status, _, body = self.create("https://example.com/ha/after")
            if status == 201:
                break
            self.assertLess(time.monotonic(), deadline, "creates did not come back within 60 s: %s %s" % (status, body))
            time.sleep(1)
        for code, target in links.items():
            status, headers, _ = http("GET", self.base + "/" + code)
            self.assertEqual((status, headers.get("Location")), (302, target), code)


if __name__ == "__main__":
    unittest.main(verbosity=2)
