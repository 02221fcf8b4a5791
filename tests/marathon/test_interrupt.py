"""marathon/deploy stopped half-way, against the Marathon stand-in (NOT Marathon): `promote`,
`canary abort` and `rollback` killed between their steps (SIGKILL: no clean-up at all), and a
closed stdout (`marathon/deploy promote ... | head -1`). The next run of the same command must
finish the change, never do it twice, and never end in a trace.
The stand-in's `hold` scenario keeps a deployment running while the tool is killed; `release`
lets it go on afterwards, as Marathon would have on its own."""
import os
import signal
import subprocess
import sys
import unittest

import test_deploy
from test_deploy import DEPLOY, ROOT, CREDENTIALS, SECRETS, image_of
from kurz_marathon import canary as canary_lib, definitions


class Interrupted(test_deploy.DeployCase):
    def setUp(self):
        super().setUp()
        self.main_file = os.path.join(ROOT, "marathon", "stage3", "kurz.json")
        self.canary_file = os.path.join(ROOT, "marathon", "canary", "redirect-canary.json")
        self.canary_id = definitions.absolute_id(definitions.load(self.canary_file)["id"])
        self.main_id = definitions.load(self.canary_file)["labels"]["KURZ_CANARY_OF"]
        self.ok("deploy", "--tag", "1.0", self.main_file)
        self.ok("canary", "start", "--tag", "2.0", self.canary_file)

    def env(self):
        env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
        env.update(SECRETS)
        env["MARATHON_URL"] = self.standin.url
        return env

    def kill_at(self, marker, *args):
        """Runs the tool until it prints a line containing `marker`, then SIGKILLs it."""
        proc = subprocess.Popen([sys.executable, DEPLOY, "--interval", "0.05"] + list(args),
                                env=self.env(), text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        seen = []
        try:
            for line in proc.stdout:
                seen.append(line)
                if marker in line:
                    break
            else:
                self.fail("the tool ended before printing %r:\n%s" % (marker, "".join(seen)))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            proc.stdout.close()
        return "".join(seen)

    def hold(self, on=True):
        self.standin.control("scenario", {"hold": on} if on else {"hold": False, "release": True})

    def puts_to_main(self):
        return self.standin.requests("PUT", "/v2/apps" + self.main_id)

    def wait_idle(self):
        for _ in range(200):  # lockstep: every GET /v2/deployments is one tick
            if not self.standin.call("GET", "/v2/deployments"):
                return
        self.fail("deployments still running: %s" % self.standin.call("GET", "/v2/deployments"))

    def assert_promoted(self):
        main = self.standin.app(self.main_id)
        self.assertTrue(image_of(main).endswith(":2.0"), image_of(main))
        self.assertEqual((main["tasksHealthy"], len(main["tasks"])), (3, 3))
        self.assertEqual(main["labels"][canary_lib.PROMOTED_FROM], self.canary_id)
        self.assertNotIn(self.canary_id, self.standin.apps())

    def test_killed_while_the_main_app_rolls(self):
        self.hold()
        self.kill_at("app %s: deployment" % self.main_id, "promote", self.main_id, self.canary_id)
        self.hold(False)
        proc = self.ok("promote", self.main_id, self.canary_id)
        self.assertIn("is still running", proc.stdout)
        self.assertIn("only the canary is left to remove", proc.stdout)
        self.assertEqual(len(self.puts_to_main()), 1)  # the killed run's PUT, never a second
        self.assert_promoted()

    def test_killed_after_the_main_app_before_the_canary(self):
        # The state right after step 2: the main app has the canary's image, the canary runs.
        main, canary = self.standin.app(self.main_id), self.standin.app(self.canary_id)
        self.standin.call("PUT", "/v2/apps" + self.main_id, canary_lib.promotion(main, canary))
        self.wait_idle()
        before = len(self.puts_to_main())
        proc = self.ok("promote", self.main_id, self.canary_id)
        self.assertIn("only the canary is left to remove", proc.stdout)
        self.assertEqual(len(self.puts_to_main()), before)  # no second rolling update
        self.assert_promoted()

    def test_killed_while_the_canary_is_removed(self):
        main, canary = self.standin.app(self.main_id), self.standin.app(self.canary_id)
        self.standin.call("PUT", "/v2/apps" + self.main_id, canary_lib.promotion(main, canary))
        self.wait_idle()
        self.hold()
        self.kill_at("app %s: deployment" % self.canary_id, "promote", self.main_id, self.canary_id)
        self.assertEqual(len(self.standin.requests("DELETE", "/v2/apps" + self.canary_id)), 1)
        self.hold(False)
        proc = self.ok("promote", self.main_id, self.canary_id)
        self.assertIn("is still running", proc.stdout)
        self.assertIn("nothing left to do", proc.stdout)
        self.assertEqual(len(self.standin.requests("DELETE", "/v2/apps" + self.canary_id)), 1)
        self.assert_promoted()
        proc = self.fails(1, "canary", "abort", self.canary_id)  # and abort after it: gone (404)
        self.assertIn("does not exist", proc.stderr)

    def test_killed_abort_is_finished_by_the_next_run(self):
        self.hold()
        self.kill_at("app %s: deployment" % self.canary_id, "canary", "abort", self.canary_id)
        self.hold(False)
        proc = self.ok("canary", "abort", self.canary_id)
        self.assertIn("is still running", proc.stdout)
        self.assertIn("removed (by the deployment just followed)", proc.stdout)
        self.assertNotIn(self.canary_id, self.standin.apps())
        self.assertTrue(image_of(self.standin.app(self.main_id)).endswith(":1.0"))

    def test_closed_stdout_finishes_the_promotion(self):
        proc = subprocess.Popen([sys.executable, DEPLOY, "--interval", "0.05", "promote", self.main_id,
                                 self.canary_id], env=self.env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.readline()
        proc.stdout.close()  # `| head -1`
        _, err = proc.communicate(timeout=120)
        self.assertNotIn("Traceback", err)
        self.assertNotIn("BrokenPipe", err)
        self.assertEqual(proc.returncode, 0, err)
        self.assert_promoted()

    def test_interrupted_rollback_is_not_done_twice(self):
        self.ok("canary", "abort", self.canary_id)
        self.ok("deploy", "--tag", "2.0", self.main_file)
        self.hold()
        self.kill_at("app %s: deployment" % self.main_id, "rollback", self.main_id)
        self.hold(False)
        proc = self.ok("rollback", self.main_id)
        self.assertIn("not going back further", proc.stdout)
        main = self.standin.app(self.main_id)
        self.assertTrue(image_of(main).endswith(":1.0"), image_of(main))
        self.assertEqual(len(self.standin.requests("PUT", "/v2/apps" + self.main_id)), 1)

    def test_ctrl_c_says_how_to_finish(self):
        self.hold()
        proc = subprocess.Popen([sys.executable, DEPLOY, "--interval", "0.05", "promote", self.main_id,
                                 self.canary_id], env=self.env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for line in proc.stdout:
            if "app %s: deployment" % self.main_id in line:
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("run again follows it", err)
        self.assertNotIn("Traceback", err)


if __name__ == "__main__":
    unittest.main()
