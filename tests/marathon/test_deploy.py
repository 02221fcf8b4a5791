"""marathon/deploy, the real executable, against the Marathon stand-in (tests/marathon/standin.py, NOT
Marathon: Marathon cannot run here): every command and every outcome — finished, hung (timeout ->
DELETE -> reverting deployment), failing tasks, locked (409, --force), refused (422), 401, 404,
network errors, bad usage — and every definition file under marathon/, also with --registry/--tag.
The stand-in's request log proves the exact requests the tool sends. Chapter runs the `marathon`
blocks of docs/marathon.md and compares their output with the chapter's.
Most cases run the stand-in in lockstep (--tick 0: one task state change per GET /v2/deployments),
so the progress lines do not depend on how loaded the machine is."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEPLOY = os.path.join(ROOT, "marathon", "deploy")
STANDIN = os.path.join(HERE, "standin.py")
sys.path.insert(0, os.path.join(ROOT, "marathon", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

from kurz_marathon import credentials, definitions  # noqa: E402
import opspath  # noqa: E402,F401  (scripts/ on sys.path)
from kurzops import web  # noqa: E402
from kurzops.net import free_port  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "guide"))
import guidedoc  # noqa: E402  (the guide's block markers and output matching)

CHAPTER = os.path.join(ROOT, "docs", "marathon.md")

MONOLITH = os.path.join(ROOT, "marathon", "stage1", "monolith.json")
MONOLITH_ID = definitions.absolute_id(definitions.load(MONOLITH)["id"])
LOCK_ID = "97c136bf-5a28-4821-9d94-480d9fbb01c8"  # the id of Marathon's own 409 example
CREDENTIALS = ("DCOS_TOKEN", "MARATHON_USER", "MARATHON_PASSWORD", "MARATHON_URL")
# The definitions' ${KURZ_API_KEY} / ${KURZ_REDIS_PASSWORD}, as a facilitator exports them.
SECRETS = {"KURZ_API_KEY": "test-api-key-0123456789", "KURZ_REDIS_PASSWORD": "test-redis-pass-0123456789"}


class StandIn:
    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, STANDIN, "--port", "0", "--tick", "0",
                                      "--lifetime", "300"] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            raise AssertionError("the stand-in did not print its port: %r" % line)
        self.url = "http://127.0.0.1:%s" % line

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc.stdout.close()

    def call(self, method, path, body=None, auth=None):
        """The stand-in's JSON answer; AssertionError when it answers an error."""
        resp = web.request(self.url, method, path, body, {"Authorization": auth} if auth else None, timeout=10)
        if resp.status >= 400:
            raise AssertionError("stand-in: %s %s answered %d %s" % (method, path, resp.status, resp.body[:300]))
        return json.loads(resp.body or b"null")

    def control(self, what, body):
        return self.call("POST", "/_standin/" + what, body)

    def requests(self, method=None, path=None):
        return [r for r in self.call("GET", "/_standin/requests")
                if (method is None or r["method"] == method) and (path is None or r["path"] == path)]

    def app(self, app_id, auth=None):
        return self.call("GET", "/v2/apps" + app_id, auth=auth)["app"]

    def apps(self):
        return {a["id"]: a for a in self.call("GET", "/v2/apps")["apps"]}


def image_of(app):
    return definitions.docker_image(app)


class DeployCase(unittest.TestCase):
    standin_args = ()

    def setUp(self):
        self.standin = StandIn(*self.standin_args)
        self.addCleanup(self.standin.stop)

    def deploy(self, *args, env=None, timeout=60, url=True):
        full_env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
        full_env.update(SECRETS)
        if url:
            full_env["MARATHON_URL"] = self.standin.url
        full_env.update(env or {})
        # The test's interpreter runs the executable (its shebang may find a slow pyenv shim);
        # test_the_executable_runs_by_itself runs it through the shebang.
        proc = subprocess.run([sys.executable, DEPLOY, "--interval", "0.05"] + list(args), env=full_env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        self.assertNotIn("Traceback", proc.stderr + proc.stdout)
        return proc

    def ok(self, *args, **kw):
        proc = self.deploy(*args, **kw)
        self.assertEqual(proc.returncode, 0, "exit %d\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr))
        return proc

    def fails(self, code, *args, **kw):
        proc = self.deploy(*args, **kw)
        self.assertEqual(proc.returncode, code, "exit %d\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr))
        return proc

    def write(self, definition):
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        self.addCleanup(os.unlink, f.name)
        json.dump(definition, f)
        f.close()
        return f.name


class Finishes(DeployCase):
    def test_deploy_app_follows_to_the_end(self):
        proc = self.ok("deploy", MONOLITH)
        self.assertIn("step 2 of 2: ScaleApplication %s" % MONOLITH_ID, proc.stdout)
        for line in ("%s: 0/1 running, 0 healthy, 0 ready, 1 staged",
                     "%s: 1/1 running, 0 healthy, 0 ready, 1 unhealthy",
                     "%s: 1/1 running, 1 healthy, 0 ready", "  %s: 1/1 running, 1 healthy\n"):
            self.assertIn(line % MONOLITH_ID, proc.stdout)
        self.assertRegex(proc.stdout, r"deployment [0-9a-f-]{36} finished")
        (put,) = self.standin.requests("PUT")
        self.assertEqual(put["path"], "/v2/apps" + MONOLITH_ID)
        self.assertEqual(put["query"], {"partialUpdate": "false"})
        self.assertEqual(put["body"], credentials.fill(definitions.load(MONOLITH), SECRETS))
        polls = self.standin.requests("GET", "/v2/deployments")
        self.assertGreaterEqual(len(polls), 2)
        app = self.standin.app(MONOLITH_ID)
        self.assertEqual((app["tasksRunning"], app["tasksHealthy"], app["deployments"]), (1, 1, []))

    def test_scale(self):
        self.ok("deploy", MONOLITH)
        proc = self.ok("scale", MONOLITH_ID, "3")
        self.assertIn("scale from 1 to 3 instances", proc.stdout)
        self.assertIn("step 1 of 1: ScaleApplication", proc.stdout)
        self.assertIn("%s: 3/3 running, 3 healthy" % MONOLITH_ID, proc.stdout)
        put = self.standin.requests("PUT")[-1]
        self.assertEqual((put["path"], put["body"], put["query"]), ("/v2/apps" + MONOLITH_ID, {"instances": 3}, {}))
        self.assertEqual(self.standin.app(MONOLITH_ID)["tasksHealthy"], 3)
        self.ok("scale", MONOLITH_ID, "1")
        self.assertEqual(len(self.standin.app(MONOLITH_ID)["tasks"]), 1)

    def test_restart_replaces_every_task(self):
        self.ok("deploy", MONOLITH)
        self.ok("scale", MONOLITH_ID, "2")
        before = {t["id"] for t in self.standin.app(MONOLITH_ID)["tasks"]}
        proc = self.ok("restart", MONOLITH_ID)
        self.assertIn("RestartApplication %s" % MONOLITH_ID, proc.stdout)
        self.assertEqual(len(self.standin.requests("POST", "/v2/apps%s/restart" % MONOLITH_ID)), 1)
        after = self.standin.app(MONOLITH_ID)["tasks"]
        self.assertEqual(len(after), 2)
        self.assertFalse(before & {t["id"] for t in after})

    def test_rollback_to_previous_and_to_a_given_version(self):
        self.ok("deploy", "--tag", "1.0", MONOLITH)
        v1 = self.standin.app(MONOLITH_ID)["version"]
        self.ok("deploy", "--tag", "2.0", MONOLITH)
        v2 = self.standin.app(MONOLITH_ID)["version"]
        self.ok("scale", MONOLITH_ID, "2")  # a scaling-only version: rollback skips it
        proc = self.ok("rollback", MONOLITH_ID)
        self.assertIn("to %s" % v1, proc.stdout)
        self.assertEqual(self.standin.requests("PUT")[-1]["body"], {"version": v1})
        self.assertTrue(image_of(self.standin.app(MONOLITH_ID)).endswith(":1.0"))
        self.ok("rollback", MONOLITH_ID, v2)
        self.assertEqual(self.standin.requests("PUT")[-1]["body"], {"version": v2})
        self.assertTrue(image_of(self.standin.app(MONOLITH_ID)).endswith(":2.0"))
        proc = self.fails(1, "rollback", MONOLITH_ID, "2001-01-01T00:00:00.000Z")
        self.assertIn("has no version 2001-01-01T00:00:00.000Z", proc.stderr)

    def test_status(self):
        proc = self.ok("status")
        self.assertIn("marathon 1.10.26-standin at %s (leader 127.0.0.1:" % self.standin.url, proc.stdout)
        self.assertIn("no apps", proc.stdout)
        self.ok("deploy", MONOLITH)
        proc = self.ok("status")
        self.assertRegex(proc.stdout, r"%s\s+1\s+1\s+1\s+0\s+0" % MONOLITH_ID)
        self.assertIn("no deployment running", proc.stdout)
        proc = self.ok("status", MONOLITH_ID)
        self.assertRegex(proc.stdout, r"TASK_RUNNING\s+healthy")
        group = MONOLITH_ID.rsplit("/", 1)[0]
        self.assertIn(MONOLITH_ID, self.ok("status", group).stdout)
        self.standin.control("lock", {"app": MONOLITH_ID, "id": LOCK_ID})
        self.assertIn("deployment %s: step 1 of 1: ScaleApplication %s" % (LOCK_ID, MONOLITH_ID),
                      self.ok("status").stdout)

    def test_deploy_a_group_in_dependency_order(self):
        app = definitions.load(MONOLITH)
        db = dict(app, id="db")
        web = dict(app, id="web", dependencies=["db"])
        path = self.write({"id": "/shop", "apps": [web, db]})
        proc = self.ok("deploy", path)
        self.assertIn("step 2 of 3: ScaleApplication /shop/db", proc.stdout)
        self.assertIn("step 3 of 3: ScaleApplication /shop/web", proc.stdout)
        put = self.standin.requests("PUT")[-1]
        self.assertEqual(put["path"], "/v2/groups/shop")
        self.assertEqual(set(self.standin.apps()), {"/shop/db", "/shop/web"})


class EveryDefinitionFile(DeployCase):
    def test_each_file_deploys(self):
        # The canary last: its REDIS_URL names /kurz/redis, which must exist (Mesos-DNS) for it to
        # get ready.
        files = sorted(definitions.definition_files(), key=lambda p: "canary" in p)
        self.assertIn(MONOLITH, files)
        for path in files:
            with self.subTest(path=os.path.relpath(path, ROOT)):
                proc = self.ok("--timeout", "30", "deploy", path)
                self.assertIn("done", proc.stdout)
                for app_id, app in definitions.apps(definitions.load(path)).items():
                    self.assertEqual(self.standin.app(app_id)["tasksRunning"], app.get("instances", 1))

    def test_registry_and_tag_for_a_whole_stage(self):
        for path in sorted(definitions.definition_files(), key=lambda p: "canary" in p):
            with self.subTest(path=os.path.relpath(path, ROOT)):
                self.ok("deploy", "--registry", "localhost:5000", "--tag", "9.9.9", path)
                body = self.standin.requests("PUT")[-1]["body"]
                for app_id, app in definitions.apps(body).items():
                    parsed = definitions.parse_image(image_of(app))
                    if parsed is None:
                        continue  # not a kurz image (left as it is)
                    self.assertEqual(parsed[2], "9.9.9")
                    if app_id not in definitions.BOOTSTRAP_APPS:
                        self.assertEqual(parsed[0], "localhost:5000")
                    self.assertEqual(image_of(self.standin.app(app_id)), image_of(app))


class HangsAndFails(DeployCase):
    standin_args = ("--hang", ":hang", "--fail", ":broken")

    def test_timeout_cancels_and_follows_the_reverting_deployment(self):
        self.ok("deploy", "--tag", "1.0", MONOLITH)
        proc = self.fails(1, "--timeout", "1.5", "deploy", "--tag", "hang", MONOLITH)
        self.assertIn("did not finish within 1.5s", proc.stdout)
        dep = self.standin.requests("PUT")[-1]
        deletes = self.standin.requests("DELETE")
        self.assertEqual(len(deletes), 1)
        self.assertRegex(deletes[0]["path"], r"^/v2/deployments/[0-9a-f-]{36}$")
        self.assertIn("following the reverting deployment", proc.stdout)
        self.assertIn("rolled back", proc.stderr)
        self.assertEqual(dep["query"], {"partialUpdate": "false"})
        app = self.standin.app(MONOLITH_ID)
        self.assertTrue(image_of(app).endswith(":1.0"))
        self.assertEqual((app["deployments"], len(app["tasks"]), app["tasksHealthy"]), ([], 1, 1))

    def test_failing_tasks_fail_the_deployment(self):
        self.ok("deploy", "--tag", "1.0", MONOLITH)
        proc = self.fails(1, "deploy", "--tag", "broken", MONOLITH)
        self.assertEqual(proc.stdout.count("TASK_FAILED"), 3)
        self.assertIn("is failing: 3 tasks failed", proc.stdout)
        self.assertIn("rolled back", proc.stderr)
        self.assertTrue(image_of(self.standin.app(MONOLITH_ID)).endswith(":1.0"))

    def test_a_new_app_that_hangs_is_removed_again(self):
        self.fails(1, "--timeout", "1", "deploy", "--tag", "hang", MONOLITH)
        self.assertEqual(self.standin.apps(), {})

    def test_reverting_deployment_that_does_not_finish(self):
        self.ok("deploy", MONOLITH)
        self.standin.control("scenario", {"hold": True})
        proc = self.fails(1, "--timeout", "0.5", "scale", MONOLITH_ID, "2")
        self.assertIn("did not finish within 0.5s either", proc.stderr)
        self.assertIn("marathon/deploy status", proc.stderr)


class Locked(DeployCase):
    def test_locked_names_the_deployment_and_force_overrides(self):
        self.ok("deploy", MONOLITH)
        self.standin.control("lock", {"app": MONOLITH_ID, "id": LOCK_ID})
        for args in (("scale", MONOLITH_ID, "2"), ("restart", MONOLITH_ID), ("deploy", MONOLITH)):
            with self.subTest(args=args):
                proc = self.fails(1, *args)
                self.assertIn("is locked by deployment: %s (step 1 of 1: ScaleApplication %s" % (
                    LOCK_ID, MONOLITH_ID), proc.stderr)
                self.assertIn("--force", proc.stderr)
        self.assertFalse([r for r in self.standin.requests() if r["query"].get("force")])
        proc = self.ok("--force", "scale", MONOLITH_ID, "2")
        self.assertIn("overriding the lock", proc.stdout)
        put = self.standin.requests("PUT")[-1]
        self.assertEqual((put["query"], put["body"]), ({"force": "true"}, {"instances": 2}))
        self.assertEqual(self.standin.app(MONOLITH_ID)["tasksHealthy"], 2)


class Refused(DeployCase):
    def test_422_prints_every_detail(self):
        bad = definitions.load(MONOLITH)
        bad["upgradeStrategy"]["minimumHealthCapacity"] = 1.5
        bad["readinessChecks"][0]["portName"] = "nope"
        bad["healthChecks"].append(dict(bad["healthChecks"][0], portIndex=3))
        proc = self.fails(1, "deploy", self.write(bad))
        self.assertIn("Marathon refused the definition", proc.stderr)
        self.assertIn("HTTP 422: Object is not valid", proc.stderr)
        for line in ("/upgradeStrategy/minimumHealthCapacity: schema: 1.5 is greater than the maximum of 1",
                     "/readinessChecks(0)/portName: No port definition reference for portName nope",
                     "/healthChecks: AppDefinition can contain at most one Mesos health check",
                     "/healthChecks(1)/portIndex: Health check port indices"):
            self.assertIn(line, proc.stderr)
        self.assertEqual(self.standin.apps(), {})

    def test_group_with_a_foreign_app_is_refused(self):
        app = dict(definitions.load(MONOLITH), id="/elsewhere/app")
        proc = self.fails(1, "deploy", self.write({"id": "/group", "apps": [app]}))
        self.assertIn("/apps(0)/id: the app id is not inside its group /group", proc.stderr)


class Auth(DeployCase):
    standin_args = ("--token", "t0ken", "--basic", "kurz:s3cret")

    def test_401_without_credentials_then_token_and_basic_auth(self):
        proc = self.fails(1, "status")
        self.assertIn("HTTP 401: a token is needed: set DCOS_TOKEN", proc.stderr)
        self.assertIn("refused", self.fails(1, "status", env={"DCOS_TOKEN": "wrong"}).stderr)
        self.ok("deploy", MONOLITH, env={"DCOS_TOKEN": "t0ken"})
        self.ok("scale", MONOLITH_ID, "2", env={"MARATHON_USER": "kurz", "MARATHON_PASSWORD": "s3cret"})
        self.assertEqual(self.standin.app(MONOLITH_ID, auth="token=t0ken")["tasksRunning"], 2)


class Errors(DeployCase):
    def test_404_unknown_app(self):
        for args in (("scale", "/nope", "2"), ("restart", "/nope"), ("rollback", "/nope"),
                     ("status", "/nope"), ("promote", "/nope", "/nope-canary"), ("canary", "abort", "/nope")):
            with self.subTest(args=args):
                proc = self.fails(1, *args)
                self.assertIn("HTTP 404: App '/nope' does not exist", proc.stderr)
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1)

    def test_network_errors(self):
        free = free_port()
        proc = self.fails(1, "--marathon", "http://127.0.0.1:%d" % free, "status", url=False)
        self.assertEqual(proc.stderr.strip(), "deploy: cannot reach Marathon at http://127.0.0.1:%d: "
                         "connection refused" % free)
        proc = self.fails(1, "--marathon", "http://no-such-host.invalid:8080", "status", url=False)
        self.assertIn("cannot reach Marathon at http://no-such-host.invalid:8080: unknown host", proc.stderr)
        with socket.socket() as silent:  # accepts connections (backlog) and never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            proc = self.fails(1, "--timeout", "1", "--marathon", "http://127.0.0.1:%d" % silent.getsockname()[1],
                              "status", url=False)
        self.assertIn("did not answer GET /v2/info within 1s", proc.stderr)
        self.assertEqual(self.fails(1, "status", url=False, env={"MARATHON_URL": "http://127.0.0.1:%d" % free})
                         .stderr.count("\n"), 1)

    def test_the_executable_runs_by_itself(self):
        self.assertTrue(os.access(DEPLOY, os.X_OK))
        proc = subprocess.run([DEPLOY, "--help"], stdout=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0)
        for command in ("deploy FILE", "scale APP N", "restart APP", "rollback APP", "status [APP]",
                        "canary start FILE", "promote APP CANARY", "canary abort CANARY", "DCOS_TOKEN"):
            self.assertIn(command, proc.stdout)

    def test_bad_usage_exits_2(self):
        bad_json = self.write({})
        with open(bad_json, "w") as f:
            f.write("{ not json")
        cases = [(), ("frobnicate",), ("scale", MONOLITH_ID), ("scale", MONOLITH_ID, "many"),
                 ("scale", MONOLITH_ID, "-1"), ("--timeout", "0", "status"), ("deploy",),
                 ("deploy", "/no/such/file.json"), ("deploy", bad_json), ("deploy", self.write([1, 2])),
                 ("deploy", self.write({"instances": 1})), ("canary",), ("canary", "start"),
                 ("canary", "start", self.write({"id": "/g", "apps": []})), ("scale", "//", "1"),
                 ("--marathon", "ftp://x", "status")]
        for args in cases:
            with self.subTest(args=args):
                proc = self.fails(2, *args)
                self.assertTrue(proc.stderr.strip())
        self.assertIn("not JSON", self.fails(2, "deploy", bad_json).stderr)
        self.assertEqual(self.standin.requests(), [])


class Canary(DeployCase):
    def setUp(self):
        super().setUp()
        self.main_file = os.path.join(ROOT, "marathon", "stage3", "kurz.json")
        self.canary_file = os.path.join(ROOT, "marathon", "canary", "redirect-canary.json")
        canary = definitions.load(self.canary_file)
        self.canary_id = definitions.absolute_id(canary["id"])
        self.main_id = canary["labels"]["KURZ_CANARY_OF"]

    def start_main(self):
        self.ok("deploy", "--tag", "1.0", self.main_file)
        self.ok("scale", self.main_id, "3")

    def test_start_needs_the_main_app(self):
        proc = self.fails(1, "canary", "start", self.canary_file)
        self.assertIn("App '%s' does not exist" % self.main_id, proc.stderr)
        self.assertEqual(self.standin.requests("PUT"), [])

    def test_start_promote(self):
        self.start_main()
        proc = self.ok("canary", "start", "--tag", "2.0", "--instances", "2", self.canary_file)
        self.assertIn("%s 3, %s 2; the canary gets about 40%% of the requests" % (self.main_id, self.canary_id),
                      proc.stdout)
        labels = self.standin.app(self.canary_id)["labels"]
        self.assertEqual((labels["HAPROXY_DEPLOYMENT_TARGET_INSTANCES"], labels["HAPROXY_DEPLOYMENT_NEW_INSTANCES"]),
                         ("5", "2"))
        proc = self.ok("canary", "start", "--tag", "2.0", "--instances", "1", self.canary_file)
        self.assertIn("%s 3, %s 1; the canary gets about 25%% of the requests" % (self.main_id, self.canary_id),
                      proc.stdout)
        canary = self.standin.app(self.canary_id)
        self.assertEqual(canary["tasksRunning"], 1)
        self.assertEqual(canary["labels"]["HAPROXY_DEPLOYMENT_TARGET_INSTANCES"], "4")
        self.assertGreater(canary["labels"]["HAPROXY_DEPLOYMENT_STARTED_AT"],
                           definitions.load(self.canary_file)["labels"]["HAPROXY_DEPLOYMENT_STARTED_AT"])
        proc = self.ok("promote", self.main_id, self.canary_id)
        update = self.standin.requests("PUT", "/v2/apps" + self.main_id)[-1]["body"]
        self.assertEqual(set(update), {"container", "env", "labels"})
        self.assertEqual(update["labels"]["KURZ_PROMOTED_FROM"], self.canary_id)
        main = self.standin.app(self.main_id)
        self.assertEqual(image_of(main), image_of(canary))
        self.assertTrue(image_of(main).endswith(":2.0"))
        self.assertEqual(main["env"], canary["env"])
        self.assertEqual((main["tasksHealthy"], len(main["tasks"])), (3, 3))
        self.assertEqual(len(self.standin.requests("DELETE", "/v2/apps" + self.canary_id)), 1)
        self.assertNotIn(self.canary_id, self.standin.apps())
        self.assertIn("RestartApplication %s" % self.main_id, proc.stdout)

    def test_abort(self):
        self.start_main()
        self.ok("canary", "start", "--tag", "2.0", self.canary_file)
        proc = self.ok("canary", "abort", self.canary_id)
        self.assertIn("StopApplication %s" % self.canary_id, proc.stdout)
        self.assertNotIn(self.canary_id, self.standin.apps())
        self.assertTrue(image_of(self.standin.app(self.main_id)).endswith(":1.0"))

    def test_failed_promotion_rolls_the_main_app_back_and_keeps_the_canary(self):
        self.start_main()
        self.ok("canary", "start", "--tag", "bad2", self.canary_file)
        self.standin.control("scenario", {"fail": [":bad2"]})
        proc = self.fails(1, "promote", self.main_id, self.canary_id)
        self.assertIn("rolled back", proc.stderr)
        self.assertIn("the canary %s is still running" % self.canary_id, proc.stderr)
        self.assertTrue(image_of(self.standin.app(self.main_id)).endswith(":1.0"))
        self.assertIn(self.canary_id, self.standin.apps())


class Chapter(DeployCase):
    """docs/marathon.md kept true: its `<!-- run: marathon -->` blocks, in order, against one
    stand-in (ticking, as a reader's would), output compared with its `<!-- expect -->` blocks
    (tests/guide/guidedoc.py rules; the reader's localhost:8080 is the stand-in's port)."""
    standin_args = ("--tick", "0.2")

    def test_the_chapter(self):
        with open(CHAPTER, encoding="utf-8") as f:
            blocks = guidedoc.parse("docs/marathon.md", f.read(), {"marathon"})
        runs = [b for b in blocks if b.marker == "run"]
        self.assertGreaterEqual(len(runs), 15)
        port = self.standin.url.rsplit(":", 1)[1]
        pairs = [("localhost:8080", "localhost:" + port), ("127.0.0.1:8080", "127.0.0.1:" + port)]
        env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
        env.update(SECRETS)
        env["MARATHON_URL"] = "http://localhost:" + port
        for block in runs:
            script = block.text.replace("marathon/deploy ", "%s marathon/deploy --interval 0.05 " % sys.executable)
            for reader, real in pairs:
                script = script.replace(reader, real)
            proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            out = proc.stdout
            for reader, real in pairs:
                out = out.replace(real, reader)
            self.assertEqual(proc.returncode, 0, "%s: exit %d\n%s" % (block.where(), proc.returncode, out))
            if block.expect is not None:
                problem = guidedoc.mismatch(block.expect.text, out)
                self.assertIsNone(problem, "%s: %s\n%s" % (block.where(), problem, out))


if __name__ == "__main__":
    unittest.main()
