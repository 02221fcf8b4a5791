"""docker.stacks, stage 2 (docker-compose.stage2.yml): the monolith x2 with Redis behind HAProxy:
the same lookups as stage 1 x2 are never 404 (0%, asserted), and the clicks are counted whichever
replica answered.

Run (in tests/docker):  python3 -m unittest -v test_stage2   (ctest docker.stacks)"""
import json
import unittest
import uuid

from stackfixture import (REPORT, TARGET, down_stack, finish, log, prepare, project_name, request,
                          service_containers, up_stack, wait_until)
from stackclient import create_links, distinct_instances, lookup_links  # tests/support, via stackfixture


def setUpModule():
    prepare()


def tearDownModule():
    finish()


class Stage2(unittest.TestCase):
    LINKS = 40  # per kind, as in Stage1Scaled
    LOOKUPS = 4

    def test_links_resolve_on_every_replica(self):
        project = project_name("stage2")
        base = up_stack("stage2", project)
        self.assertTrue(base.startswith("http://127.0.0.1:"), base)
        self.assertEqual(len(service_containers("stage2", project, "monolith")), 2)
        wait_until("both replicas get traffic through HAProxy",
                   lambda: len(distinct_instances(base, "/info", 2, 3)) >= 2, 30, interval=0.5)

        slugs, generated = create_links(base, TARGET, uuid.uuid4().hex[:6], self.LINKS)
        by_slug, instances = lookup_links(base, slugs, self.LOOKUPS)
        by_code, _ = lookup_links(base, generated, self.LOOKUPS)
        total = 2 * self.LINKS * self.LOOKUPS
        bad = by_slug["404"] + by_code["404"] + by_slug["302_wrong_target"] + by_code["302_wrong_target"]
        # Every lookup was a click: the stats (in Redis) count them whichever replica answered.
        code = slugs[0][0]

        def counted():
            s, _, b = request(base, "GET", "/api/stats/" + code)
            return s == 200 and json.loads(b).get("total", 0) >= self.LOOKUPS
        wait_until("stats count the clicks of %s" % code, counted, 15, interval=0.5)
        stage1 = REPORT.get("stage1_scaled", {}).get("slug_lookups_404_pct")
        REPORT["stage2"] = {"replicas": len(instances), "lookups": total, "custom_slugs": by_slug,
                            "generated_codes": by_code, "lookups_404_or_wrong_pct": round(100.0 * bad / total, 1)}
        log("stage2 x%d with Redis behind HAProxy: %d lookups, %.1f%% 404 or wrong target (stage 1 x2: %s)"
            % (len(instances), total, 100.0 * bad / total, "%s%% 404" % stage1 if stage1 is not None else "not run"))
        self.assertGreaterEqual(len(instances), 2)
        self.assertEqual(bad, 0, (by_slug, by_code))
        self.assertEqual(by_slug["other"] + by_code["other"], 0, (by_slug, by_code))

        down_stack("stage2", project)


if __name__ == "__main__":
    unittest.main(verbosity=2)
