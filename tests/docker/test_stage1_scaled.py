"""docker.stacks, stage 1 scaled to 2 behind HAProxy (docker-compose.stage1-scaled.yml): links
created through the balancer are 404 on the other replica (asserted and measured), and
auto-generated codes collide across replicas (measured).

Run (in tests/docker):  python3 -m unittest -v test_stage1_scaled   (ctest docker.stacks)"""
import unittest
import uuid

from stackfixture import REPORT, TARGET, down_stack, finish, log, prepare, project_name, up_stack, wait_until
from stackclient import create_links, distinct_instances, lookup_links  # tests/support, via stackfixture


def setUpModule():
    prepare()


def tearDownModule():
    finish()


class Stage1Scaled(unittest.TestCase):
    LINKS = 40  # per kind (custom slug, generated code)
    LOOKUPS = 4  # per link

    def test_links_are_404_on_the_other_replica(self):
        project = project_name("stage1-scaled")
        base = up_stack("stage1-scaled", project)
        self.assertTrue(base.startswith("http://127.0.0.1:"), base)
        # HAProxy has found both replicas through Docker's DNS and checked them.
        wait_until("both replicas get traffic through HAProxy",
                   lambda: len(distinct_instances(base, "/info", 2, 3)) >= 2, 30, interval=0.5)

        # Two separate rounds (create_links makes the slugs, then the codes): round robin spreads
        # each kind over both replicas.
        slugs, generated = create_links(base, TARGET, uuid.uuid4().hex[:6], self.LINKS)
        # Shuffled (lookup_links does): in creation order, strict round robin would send each
        # lookup to the very replica that created the link (the same phase), and hide the lesson.
        by_slug, instances = lookup_links(base, slugs, self.LOOKUPS)
        by_code, _ = lookup_links(base, generated, self.LOOKUPS)
        total = self.LINKS * self.LOOKUPS
        REPORT["stage1_scaled"] = {
            "replicas": len(instances), "links_per_kind": self.LINKS, "lookups_per_kind": total,
            "custom_slugs": by_slug, "generated_codes": by_code,
            "slug_lookups_404_pct": round(100.0 * by_slug["404"] / total, 1),
            "generated_lookups_wrong_or_404_pct":
                round(100.0 * (by_code["404"] + by_code["302_wrong_target"]) / total, 1),
        }
        log("stage1 x%d behind HAProxy: custom slugs: %.0f%% of %d lookups 404 (%s); generated codes: "
            "%.0f%% of lookups wrong target or 404 (%s)" % (
                len(instances), REPORT["stage1_scaled"]["slug_lookups_404_pct"], total, by_slug,
                REPORT["stage1_scaled"]["generated_lookups_wrong_or_404_pct"], by_code))
        self.assertGreaterEqual(len(instances), 2)
        self.assertEqual(by_slug["other"] + by_code["other"], 0)
        # The lesson: a link lives on the replica that created it.
        self.assertGreater(by_slug["404"], 0, "no 404: the replicas share state?")
        self.assertGreater(by_slug["302"], 0)
        self.assertGreater(by_code["404"] + by_code["302_wrong_target"], 0)

        down_stack("stage1-scaled", project)


if __name__ == "__main__":
    unittest.main(verbosity=2)
