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
import unittest

from swarmfixture import ARTIFACTS, Cluster, prepare_images
from kurzops import web  # noqa: E402  (scripts/ on sys.path through swarmfixture)
from kurzops.wait import Timeout, wait_until  # noqa: E402


def log(msg):
    print("swarm-ha-test: " + msg, flush=True)


class SwarmRedisFailover(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        prepare_images(log, only_missing=True)
        cls.cluster = Cluster("kurzha-swarm-", log, stack="kurz-ha.yml", swarm_timeout=300)
        try:
            cls.cluster.start(timeout=400)
            cls.cluster.run("deploy", timeout=400)
            cls.base = cls.cluster.run("url", timeout=400).stdout.strip().splitlines()[-1]
        except BaseException:
            cls.cluster.down()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.cluster.down()

    def create(self, target):
        return web.try_request(self.base, "POST", "/api/links", {"url": target}, timeout=5)

    def lookup(self, code):
        status, headers, _ = web.try_request(self.base, "GET", "/" + code, timeout=5)
        return status, headers.get("location")

    def test_failover(self):
        links = {}
        for i in range(20):
            target = "https://example.com/ha/%d" % i
            status, _, body = self.create(target)
            self.assertEqual(status, 201, body)
            links[json.loads(body)["code"]] = target
        for code, target in links.items():
            self.assertEqual(self.lookup(code), (302, target))

        out = self.cluster.run("redis-failover", timeout=400).stdout
        log("cluster.sh redis-failover:\n" + out[-3000:])
        line = [l for l in out.splitlines() if l.startswith("{")][-1]
        result = json.loads(line)
        log("failover: %s" % line)
        with open(os.path.join(ARTIFACTS, "redis-failover.json"), "w") as f:
            f.write(line + "\n")
        self.assertEqual(result["keys_lost"], 0)
        self.assertNotEqual(result["new_primary"], result["old_primary"])
        self.assertIsNotNone(result["old_primary_rejoined_as_replica_after_s"])

        answers = []

        def created():
            answers.append(self.create("https://example.com/ha/after"))
            return answers[-1].status == 201
        try:
            wait_until("creates through the edge after the failover", created, 60, interval=1)
        except Timeout:
            self.fail("creates did not come back within 60 s: %s %s" % (answers[-1].status, answers[-1].body))
        for code, target in links.items():
            self.assertEqual(self.lookup(code), (302, target), code)


if __name__ == "__main__":
    unittest.main(verbosity=2)
