"""Versions on Marathon, against the stand-in (NOT Marathon): the shipped bad version
(marathon/bad/redirect.json: a REDIS_URL naming a Mesos-DNS name no app has, so the tasks run but
never pass Marathon's readiness check) followed, given up on and rolled back by marathon/deploy;
`plan` / `deploy --dry-run` showing what a definition would change without sending it; the warning
when a definition would undo a promotion."""
import os
import unittest

import test_deploy
from test_deploy import ROOT, SECRETS, image_of
from kurz_marathon import definitions

STAGE3 = os.path.join(ROOT, "marathon", "stage3", "kurz.json")
BAD = os.path.join(ROOT, "marathon", "bad", "redirect.json")
CANARY = os.path.join(ROOT, "marathon", "canary", "redirect-canary.json")


class Versions(test_deploy.DeployCase):
    def setUp(self):
        super().setUp()
        self.ok("deploy", "--tag", "0.2.0", STAGE3)

    def test_the_bad_version_is_followed_given_up_and_rolled_back(self):
        before = self.standin.app("/kurz/redirect")
        proc = self.fails(1, "--timeout", "3", "deploy", BAD)
        self.assertIn("0 ready", proc.stdout)           # running and live, never ready
        self.assertIn("did not finish within 3s", proc.stdout)
        self.assertIn("following the reverting deployment", proc.stdout)
        self.assertIn("failed; rolled back", proc.stderr)
        after = self.standin.app("/kurz/redirect")
        self.assertEqual(image_of(after), image_of(before))
        self.assertEqual(after["env"]["REDIS_URL"], before["env"]["REDIS_URL"])
        self.assertEqual((after["tasksHealthy"], len(after["tasks"])), (3, 3))
        self.assertTrue(all(t["version"] == after["version"] for t in after["tasks"]))

    def test_the_bad_version_is_valid_for_marathon(self):
        # Marathon's schema and rules accept it: only its readiness check finds the mistake.
        raw = self.standin.call("GET", "/v2/apps/kurz/redirect")["app"]
        self.assertIn("redis-kurz.marathon.mesos", raw["env"]["REDIS_URL"])
        self.assertIn("redis.kurz.marathon.mesos", definitions.load(BAD)["env"]["REDIS_URL"])

    def test_plan_and_dry_run_send_nothing(self):
        puts = len(self.standin.requests("PUT"))
        for args in (("plan", BAD), ("deploy", "--dry-run", BAD)):
            proc = self.ok(*args)
            self.assertIn("plan: app /kurz/redirect (nothing is sent", proc.stdout)
            self.assertIn("/kurz/redirect: image registry-infra.marathon.mesos:5000/kurz/redirect:0.2.0 -> "
                          "registry-infra.marathon.mesos:5000/kurz/redirect:0.2.1", proc.stdout)
            self.assertIn("/kurz/redirect: env REDIS_URL redis://:***@redis-kurz.marathon.mesos:6379 -> "
                          "redis://:***@redis.kurz.marathon.mesos:6379", proc.stdout)
            self.assertNotIn(SECRETS["KURZ_REDIS_PASSWORD"], proc.stdout + proc.stderr)
        proc = self.ok("plan", "--tag", "0.3.0", "--registry", "localhost:5000", STAGE3)
        self.assertIn("/kurz/web: image registry-infra.marathon.mesos:5000/kurz/web:0.2.0 -> localhost:5000/kurz/web:0.3.0",
                      proc.stdout)
        proc = self.ok("plan", "--tag", "0.2.0", STAGE3)
        self.assertIn("/kurz/links: unchanged", proc.stdout)
        self.assertEqual(len(self.standin.requests("PUT")), puts)
        self.ok("canary", "start", "--tag", "0.2.1", CANARY)
        proc = self.ok("plan", "--tag", "0.2.0", STAGE3)
        self.assertIn("/kurz/redirect-canary: removed", proc.stdout)
        proc = self.ok("plan", os.path.join(ROOT, "marathon", "stage1", "monolith.json"))
        self.assertIn("/kurz-stage1/monolith: new app", proc.stdout)

    def test_undoing_a_promotion_warns(self):
        self.ok("canary", "start", "--tag", "0.2.1", CANARY)
        self.ok("promote", "/kurz/redirect", "/kurz/redirect-canary")
        proc = self.ok("plan", "--tag", "0.2.0", STAGE3)
        warning = ("warning: /kurz/redirect runs registry-infra.marathon.mesos:5000/kurz/redirect:0.2.1, promoted "
                   "from /kurz/redirect-canary; this definition puts registry-infra.marathon.mesos:5000/kurz/"
                   "redirect:0.2.0 back: it would undo the promotion")
        self.assertIn(warning, proc.stderr)
        proc = self.ok("deploy", "--tag", "0.2.0", STAGE3)  # warned, then done as asked
        self.assertIn(warning, proc.stderr)
        self.assertTrue(image_of(self.standin.app("/kurz/redirect")).endswith(":0.2.0"))
        self.ok("canary", "start", "--tag", "0.2.1", CANARY)
        self.ok("promote", "/kurz/redirect", "/kurz/redirect-canary")
        proc = self.ok("deploy", "--tag", "0.2.1", STAGE3)  # the promoted version: no warning
        self.assertNotIn("warning", proc.stderr)


if __name__ == "__main__":
    unittest.main()
