"""The edge's route table (edge/routes.json) and its consumers (ctest edge.routes, fast, no server):

  * `scripts/edge/routes.py check` passes on the repository: every consumer is the table's;
  * on a copy of the repository, each consumer edited by hand once makes `check` fail naming that
    file, and `generate` puts it back;
  * a table that breaks a rule of edge/README.md is refused with a message saying which (exit 2).
Run: /usr/bin/python3 -m unittest -v test_routes   (in tests/edge)
"""
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "edge", "routes.py")
sys.path.insert(0, os.path.join(ROOT, "marathon", "lib"))
from kurz_marathon import kurz_rules, routes  # noqa: E402

# What the copy needs: the table and every consumer.
COPIED = ("edge", "docker/haproxy", "swarm", "k8s", "marathon")


def run(*args):
    proc = subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout + proc.stderr


class Repository(unittest.TestCase):
    def test_every_consumer_matches_the_table(self):
        code, out = run("check")
        self.assertEqual(code, 0, out)
        self.assertIn("every consumer matches edge/routes.json", out)

    def test_the_validator_reads_the_table(self):
        table = routes.load()
        self.assertIs(kurz_rules.EDGE_PATHS, routes.EDGE_PATHS)
        for service in table.services():
            self.assertEqual(kurz_rules.EDGE_PATHS[service], table.prefixes(service)[0])
            self.assertEqual(kurz_rules.EDGE_EXACT_PATHS.get(service, ()), tuple(table.exact(service)))
        self.assertIsNone(kurz_rules.EDGE_PATHS[table.default])


class Copy(unittest.TestCase):
    """A copy of the table and the consumers; each test edits one of them."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="kurz-routes-")
        self.addCleanup(shutil.rmtree, self.root, True)
        for rel in COPIED:
            shutil.copytree(os.path.join(ROOT, rel), os.path.join(self.root, rel),
                            ignore=shutil.ignore_patterns("__pycache__", "node_modules"))

    def path(self, rel):
        return os.path.join(self.root, rel)

    def edit(self, rel, old, new):
        with open(self.path(rel)) as f:
            text = f.read()
        self.assertIn(old, text, rel)
        with open(self.path(rel), "w") as f:
            f.write(text.replace(old, new, 1))

    def read(self, rel):
        with open(self.path(rel)) as f:
            return f.read()

    def assert_caught_and_repaired(self, rel):
        before = {r: self.read(r) for r in (rel, "edge/routes.json")}
        code, out = run("check", "--root", self.root)
        self.assertEqual(code, 1, out)
        self.assertEqual(re.findall(r"routes: (\S+) differs", out), [rel], out)
        code, out = run("generate", "--root", self.root)
        self.assertEqual((code, out.strip()), (0, "routes: wrote %s" % rel))
        self.assertEqual(run("check", "--root", self.root)[0], 0)
        with open(os.path.join(ROOT, rel)) as f:
            self.assertEqual(self.read(rel), f.read(), "generate restores it")
        self.assertNotEqual(before[rel], self.read(rel))

    def test_stage3_cfg_edited_by_hand(self):
        self.edit("docker/haproxy/stage3.cfg", "acl to_qr    path_beg /qr/", "acl to_qr    path_beg /qr")
        self.assert_caught_and_repaired("docker/haproxy/stage3.cfg")

    def test_swarm_cfg_edited_by_hand(self):
        self.edit("swarm/haproxy.cfg", "    use_backend web   if to_web\n", "")
        self.assert_caught_and_repaired("swarm/haproxy.cfg")

    def test_ingress_edited_by_hand(self):
        self.edit("k8s/ingress.yaml", "{path: /info/qr, pathType: Exact, backend: {service: {name: qr",
                  "{path: /info/qr, pathType: Exact, backend: {service: {name: redirect")
        self.assert_caught_and_repaired("k8s/ingress.yaml")

    def test_marathon_labels_edited_by_hand(self):
        for rel, app in (("marathon/stage3/kurz.json", "web"), ("marathon/stage3-ha/kurz.json", "links")):
            with self.subTest(rel):
                doc = json.loads(self.read(rel))
                (item,) = [a for a in doc["apps"] if a["id"].endswith("/" + app)]
                item["labels"]["HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH"] = item["labels"][
                    "HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH"].replace(" /info/%s" % app, "")
                with open(self.path(rel), "w") as f:
                    f.write(json.dumps(doc, indent=2) + "\n")
                self.assert_caught_and_repaired(rel)

    def test_a_path_on_the_default_service_is_removed(self):
        doc = json.loads(self.read("marathon/canary/redirect-canary.json"))
        doc["labels"]["HAPROXY_0_PATH"] = "/r/"
        with open(self.path("marathon/canary/redirect-canary.json"), "w") as f:
            f.write(json.dumps(doc, indent=2) + "\n")
        self.assert_caught_and_repaired("marathon/canary/redirect-canary.json")

    def test_a_route_changed_in_the_table_reaches_every_consumer(self):
        table = json.loads(self.read("edge/routes.json"))
        table["routes"].append({"service": "qr", "match": "exact", "path": "/qr-help"})
        with open(self.path("edge/routes.json"), "w") as f:
            json.dump(table, f)
        code, out = run("check", "--root", self.root)
        self.assertEqual(code, 1, out)
        self.assertEqual(set(re.findall(r"routes: (\S+) differs", out)),
                         {"docker/haproxy/stage3.cfg", "swarm/haproxy.cfg", "k8s/ingress.yaml",
                          "marathon/stage3/kurz.json", "marathon/stage3-ha/kurz.json"})
        self.assertEqual(run("generate", "--root", self.root)[0], 0)
        self.assertIn("acl to_qr    path     /info/qr /qr-help\n", self.read("docker/haproxy/stage3.cfg"))
        self.assertIn("{path: /qr-help, pathType: Exact, backend: {service: {name: qr,", self.read("k8s/ingress.yaml"))
        self.assertIn("acl path_{backend} path /info/qr /qr-help", self.read("marathon/stage3/kurz.json"))

    def test_missing_markers_are_an_error(self):
        self.edit("k8s/ingress.yaml", "# END generated by scripts/edge/routes.py", "")
        code, out = run("check", "--root", self.root)
        self.assertEqual(code, 2, out)
        self.assertIn("k8s/ingress.yaml: expected one `# BEGIN generated by scripts/edge/routes.py` line", out)


GOOD = {"default": {"service": "redirect", "samples": ["/{code}"]},
        "routes": [{"service": "qr", "match": "prefix", "path": "/qr/", "sample": "/qr/{code}.svg"},
                   {"service": "qr", "match": "exact", "path": "/info/qr"}]}


def changed(change):
    table = copy.deepcopy(GOOD)
    change(table)
    return table


class TableRules(unittest.TestCase):
    def test_the_good_table(self):
        table = routes.parse(GOOD)
        self.assertEqual((table.default, table.services()), ("redirect", ["qr"]))
        self.assertEqual([table.service_of(p) for p in ("/qr/x", "/qr", "/qrx", "/info/qr", "/abc")],
                         ["qr", "redirect", "redirect", "qr", "redirect"])

    def test_broken_tables_are_refused_with_the_reason(self):
        cases = [
            ("an unknown key", lambda t: t.update(extra=1), "exactly the keys default and routes"),
            ("a prefix without its slash", lambda t: t["routes"][0].update(path="/qr"), "a prefix ends with /"),
            ("a prefix without a sample", lambda t: t["routes"][0].pop("sample"), "needs a sample"),
            ("a sample outside its prefix", lambda t: t["routes"][0].update(sample="/x"), "is not under the prefix"),
            ("an exact route with another sample", lambda t: t["routes"][1].update(sample="/x"),
             "an exact route's sample is its path"),
            ("a route of the default service", lambda t: t["routes"][1].update(service="redirect"),
             "redirect is the default service"),
            ("a path under another service's prefix",
             lambda t: t["routes"].append({"service": "web", "match": "exact", "path": "/qr/help"}),
             "lies under the prefix /qr/ (qr)"),
            ("a route twice", lambda t: t["routes"].append(dict(t["routes"][1])), "exact /info/qr is routed twice"),
            ("a service without a prefix",
             lambda t: t["routes"].append({"service": "web", "match": "exact", "path": "/"}),
             "web has no prefix route"),
            ("a default sample another service takes", lambda t: t["default"].update(samples=["/qr/x"]),
             "/qr/x is routed to qr"),
            ("an unknown match", lambda t: t["routes"][1].update(match="regex"), "expected exact or prefix"),
            ("a path with a query", lambda t: t["routes"][1].update(path="/info?x"), "expected a path starting"),
        ]
        for name, change, message in cases:
            with self.subTest(name):
                with self.assertRaises(routes.TableError) as caught:
                    routes.parse(changed(change), "t.json")
                self.assertIn(message, str(caught.exception))
                self.assertTrue(str(caught.exception).startswith("t.json: "))

    def test_the_script_reports_a_broken_table(self):
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "edge"))
            with open(os.path.join(root, "edge", "routes.json"), "w") as f:
                f.write("{not json")
            code, out = run("check", "--root", root)
        self.assertEqual(code, 2, out)
        self.assertIn("routes.json: not JSON", out)
        self.assertNotIn("Traceback", out)

    def test_bad_usage(self):
        self.assertEqual(run()[0], 2)
        self.assertEqual(run("frobnicate")[0], 2)
        self.assertEqual(run("check", "--root")[0], 2)


if __name__ == "__main__":
    unittest.main()
