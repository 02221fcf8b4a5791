"""A room on one cluster: marathon/render --team for fifteen teams, marathon/validate over all of their
files at once (no collision), and every kind of collision made on purpose and named with both files.
No Docker, no network."""
import os
import re
import subprocess
import sys
import tempfile
import unittest

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MARATHON = os.path.join(ROOT, "marathon")
sys.path.insert(0, os.path.join(MARATHON, "lib"))
from kurz_marathon import definitions, teams  # noqa: E402

TEAM_FILES = ("stage1/monolith.json", "stage1/monolith-x3.json", "stage2/kurz.json", "stage3/kurz.json",
              "infra/redis.json", "canary/redirect-canary.json")
SHARED = ("infra/registry.json", "infra/prometheus.json")
ROOM = ["team%02d" % i for i in range(1, 16)]


# render fills the definitions' ${KURZ_API_KEY} / ${KURZ_REDIS_PASSWORD}, as a facilitator exports them.
SECRETS = {"KURZ_API_KEY": "test-api-key-0123456789", "KURZ_REDIS_PASSWORD": "test-redis-pass-0123456789"}


def run(*args):
    p = subprocess.run([sys.executable] + list(args), capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, **SECRETS))
    return p.returncode, p.stdout, p.stderr


class Room(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="kurz-room-")
        cls.files = {}
        for team in ROOM:
            for rel in TEAM_FILES:
                path = os.path.join(cls.tmp.name, "%s-%s" % (team, rel.replace("/", "-")))
                rc, out, err = run(os.path.join(MARATHON, "render"), "--team", team, os.path.join(MARATHON, rel))
                assert rc == 0, err
                with open(path, "w") as f:
                    f.write(out)
                cls.files[(team, rel)] = path
        rc, out, err = run(os.path.join(MARATHON, "render"), "--room", ",".join(ROOM),
                           os.path.join(MARATHON, "infra/marathon-lb.json"))
        assert rc == 0, err
        cls.lb = os.path.join(cls.tmp.name, "marathon-lb.json")
        with open(cls.lb, "w") as f:
            f.write(out)
        cls.shared = [os.path.join(MARATHON, rel) for rel in SHARED]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def validate(self, *paths):
        return run(os.path.join(MARATHON, "validate"), *paths)

    def test_fifteen_teams_validate_together(self):
        rc, out, err = self.validate(*(list(self.files.values()) + [self.lb] + self.shared))
        self.assertEqual(rc, 0, out + err)
        self.assertIn("%d file(s) valid" % (len(self.files) + 1 + len(SHARED)), err)

    def test_everything_per_team_is_unique(self):
        seen = {}
        for team in ROOM:
            data = definitions.load(self.files[(team, "stage3/kurz.json")])
            for app_id, item, _, _ in definitions.walk(data):
                labels = item.get("labels") or {}
                env = item.get("env") or {}
                self.assertTrue(app_id.startswith("/%s/kurz/" % team), app_id)
                self.assertEqual(labels["KURZ_TEAM"], team)
                keys = [("id", app_id), ("dns", definitions.mesos_dns_name(app_id))]
                if "HAPROXY_0_PORT" in labels:
                    lo, hi = teams.service_port_block(int(team[4:]))
                    self.assertTrue(lo <= int(labels["HAPROXY_0_PORT"]) <= hi)
                    self.assertEqual(labels["HAPROXY_GROUP"], "external-" + team)
                    self.assertEqual(labels["HAPROXY_0_VHOST"], team + ".kurz.example")
                    self.assertEqual(env["PUBLIC_BASE_URL"], "http://%s.kurz.example" % team)
                    keys.append(("port", labels["HAPROXY_0_PORT"]))
                if "REDIS_URL" in env:
                    self.assertEqual(env["REDIS_URL"], "redis://:%s@redis-kurz-%s.marathon.mesos:%d"
                                     % (SECRETS["KURZ_REDIS_PASSWORD"], team, teams.redis_host_port(int(team[4:]))))
                for m in definitions.port_mappings(item):
                    if m.get("hostPort"):
                        keys.append(("hostPort", m["hostPort"]))
                for key in keys:
                    self.assertNotIn(key, seen, "%s of %s and %s" % (key, app_id, seen.get(key)))
                    seen[key] = app_id
        canary = definitions.load(self.files[("team07", "canary/redirect-canary.json")])
        self.assertEqual(canary["labels"]["HAPROXY_DEPLOYMENT_GROUP"], "team07-kurz-redirect")
        self.assertEqual(canary["labels"]["KURZ_CANARY_OF"], "/team07/kurz/redirect")

    def test_room_marathon_lb_watches_every_team(self):
        lb = definitions.load(self.lb)
        groups = [lb["args"][i + 1] for i, a in enumerate(lb["args"][:-1]) if a == "--group"]
        self.assertEqual(groups, ["external-" + t for t in ROOM])
        ports = {p["port"] for p in lb["portDefinitions"]}
        for team in ROOM:
            for app_id, item, _, _ in definitions.walk(definitions.load(self.files[(team, "stage3/kurz.json")])):
                if "HAPROXY_0_PORT" in (item.get("labels") or {}):
                    self.assertIn(int(item["labels"]["HAPROXY_0_PORT"]), ports)

    def test_same_slot_collides_and_names_both_files(self):
        path = os.path.join(self.tmp.name, "other.json")
        rc, out, err = run(os.path.join(MARATHON, "render"), "--team", "alpha", "--slot", "3",
                           os.path.join(MARATHON, "stage3/kurz.json"))
        self.assertEqual(rc, 0, err)
        with open(path, "w") as f:
            f.write(out)
        team03 = self.files[("team03", "stage3/kurz.json")]
        rc, out, err = self.validate(team03, path)
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(out, re.escape(path) + r": /alpha/kurz/links: marathon-lb-service-port: collision: "
                         r"marathon-lb service port 10311 is also /team03/kurz/links's in " + re.escape(team03))
        self.assertRegex(out, r"fixed host port 6403 is also /team03/kurz/redis's in " + re.escape(team03))

    def test_unrendered_files_of_two_teams_collide(self):
        stage3 = os.path.join(MARATHON, "stage3/kurz.json")
        team = self.files[("team05", "stage3/kurz.json")]
        # a team that deployed the plain file and one that deployed its own: fine (no shared key)
        rc, out, err = self.validate(stage3, team)
        self.assertEqual(rc, 0, out + err)
        # the same team name with another slot: the same ids, different teams' content
        path = os.path.join(self.tmp.name, "team05-again.json")
        rc, text, err = run(os.path.join(MARATHON, "render"), "--team", "team05", "--slot", "9", stage3)
        with open(path, "w") as f:
            f.write(text)
        rc, out, err = self.validate(team, path)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("%s: /team05/kurz/links" % path, out)
        self.assertIn("differs from %s" % team, out)

    def test_vhost_and_deployment_group_collisions(self):
        a = definitions.load(self.files[("team01", "canary/redirect-canary.json")])
        a["id"] = "/team01/kurz/redirect-old"  # not a canary: a second app on the same routes
        del a["labels"]["KURZ_CANARY_OF"]
        a["labels"]["HAPROXY_0_PORT"] = "10199"
        path = os.path.join(self.tmp.name, "canary2.json")
        with open(path, "w") as f:
            f.write(definitions.dumps(a))
        rc, out, err = self.validate(self.files[("team01", "stage3/kurz.json")],
                                     self.files[("team01", "canary/redirect-canary.json")], path)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("collision: marathon-lb deployment group team01-kurz-redirect is also "
                      "/team01/kurz/redirect's in " + self.files[("team01", "stage3/kurz.json")], out)
        self.assertIn("collision: vhost and path team01.kurz.example (no path: the rest of the vhost) is also "
                      "/team01/kurz/redirect's in " + self.files[("team01", "stage3/kurz.json")], out)

    def test_bad_usage(self):
        render = os.path.join(MARATHON, "render")
        for args, message in (
                (["--team", "Team 1", "marathon/stage3/kurz.json"], "is not a DNS label"),
                (["--team", "alpha", "marathon/stage3/kurz.json"], "--slot N"),
                (["--team", "alpha", "--slot", "100", "marathon/stage3/kurz.json"], "not in 1..99"),
                (["--team", "team01", "marathon/infra/registry.json"], "shared by the whole room"),
                (["--team", "team01", "marathon/infra/marathon-lb.json"], "shared by the whole room"),
                (["--room", "team01,team01", "marathon/infra/marathon-lb.json"], "the same name"),
                (["--room", "a:1,b:1", "marathon/infra/marathon-lb.json"], "the same slot"),
                (["--room", "team01", "marathon/stage3/kurz.json"], "renders /infra/marathon-lb only"),
                (["--slot", "2", "marathon/stage3/kurz.json"], "--slot needs --team")):
            rc, out, err = run(render, *[os.path.join(ROOT, a) if a.startswith("marathon/") else a for a in args])
            self.assertEqual(rc, 2, (args, err))
            self.assertIn(message, err)
            self.assertNotIn("Traceback", err)
        twice = self.files[("team02", "stage3/kurz.json")]
        rc, out, err = run(render, "--team", "team03", twice)
        self.assertEqual((rc, "already rendered for team team02" in err), (2, True), err)

    def test_prometheus_job_per_team(self):
        with open(os.path.join(ROOT, "docker/prometheus/marathon.yml")) as f:
            config = yaml.safe_load(f)
        relabels = [r for job in config["scrape_configs"] for r in job.get("relabel_configs", [])]

        def apply(meta):
            labels = dict(meta)
            for r in relabels:
                value = (r.get("separator", ";")).join(labels.get(s, "") for s in r.get("source_labels", []))
                m = re.fullmatch(r.get("regex", "(.*)"), value)
                action = r.get("action", "replace")
                if action == "keep":
                    if not m:
                        return None
                elif m and action == "replace":
                    labels[r["target_label"]] = m.expand(r.get("replacement", "${1}").replace("${", "\\g<").replace("}", ">"))
            return labels

        base = {"__meta_marathon_port_mapping_label_metrics": "/metrics",
                "__meta_marathon_image": "registry-infra.marathon.mesos:5000/kurz/redirect:0.1.0",
                "__meta_marathon_app": "/team07/kurz/redirect", "__meta_marathon_task": "t1"}
        self.assertEqual(apply(dict(base, __meta_marathon_app_label_KURZ_TEAM="team07"))["job"], "team07-redirect")
        self.assertEqual(apply(dict(base, __meta_marathon_app_label_KURZ_TEAM="team07"))["team"], "team07")
        self.assertEqual(apply(base)["job"], "redirect")
        self.assertNotIn("team", apply(base))


if __name__ == "__main__":
    unittest.main()
