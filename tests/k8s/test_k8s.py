"""k8s/ validated without a cluster (ctest k8s.validate, label k8s).

  * validate.mjs (Node, kubernetes-models pinned in package-lock.json: the Kubernetes API schemas)
    accepts k8s/ as it is, and fails, naming the file and the field, on each broken copy: a wrong
    type, a wrong enum value, a missing required field, an unknown kind, a resource missing from the
    kustomization or not listed in it, an image whose tag the kustomization does not set;
  * the kurz rules, per stateless service: Deployment + Service + PodDisruptionBudget + HPA;
    liveness on /health/live, readiness on /health/ready; preStop + SHUTDOWN_DELAY_MS +
    DRAIN_TIMEOUT_MS inside terminationGracePeriodSeconds; no `exec` preStop (no shell in the
    images); non-root, read-only root, no capabilities; requests and limits; Prometheus
    annotations; Redis a StatefulSet with a PersistentVolumeClaim; the Ingress routes every path
    HAProxy routes to the same service;
  * k8s-ha (the overlay with Redis failover), rendered by `kubectl kustomize`, valid against the same
    schemas, wired as marathon/stage3-ha and swarm/kurz-ha.yml are.
Run: /usr/bin/python3 -m unittest -v test_k8s   (in tests/k8s; runs `npm ci` when node_modules is
missing or older than package-lock.json)
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
K8S = os.path.join(ROOT, "k8s")
STATELESS = ("links", "redirect", "stats", "qr", "web")
sys.path.insert(0, os.path.join(ROOT, "marathon", "lib"))
from kurz_marathon import routes  # noqa: E402  (the edge's route table, edge/routes.json)


def ingress_service(rules, path):
    """The service an Ingress with `rules` [(path, pathType, service)] sends `path` to, by the
    Kubernetes rules: an Exact match wins; else the longest Prefix whose path elements are a leading
    part of the request's (a trailing / ignored); None if nothing matches."""
    for rule_path, kind, service in rules:
        if kind == "Exact" and rule_path == path:
            return service
    best = None
    for rule_path, kind, service in rules:
        elements = [e for e in rule_path.split("/") if e]
        if kind == "Prefix" and path.split("/")[1:len(elements) + 1] == elements:
            if best is None or len(elements) > best[0]:
                best = (len(elements), service)
    return best and best[1]


def npm_ci():
    stamp = os.path.join(HERE, "node_modules", ".package-lock.json")
    lock = os.path.join(HERE, "package-lock.json")
    if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(lock) and \
            os.path.isdir(os.path.join(HERE, "node_modules", "kubernetes-models")):
        return
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise AssertionError("%s is missing: install Debian's nodejs and npm" % tool)
    proc = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise AssertionError("npm ci failed: %s%s" % (proc.stdout, proc.stderr))


def validate(folder):
    return subprocess.run(["node", os.path.join(HERE, "validate.mjs"), folder], capture_output=True, text=True,
                          timeout=120, cwd=HERE)


def documents(folder=K8S):
    docs = []
    for path in sorted(glob.glob(os.path.join(folder, "*.yaml"))):
        if path.endswith("kustomization.yaml"):
            continue
        with open(path) as f:
            docs += [(os.path.basename(path), d) for d in yaml.safe_load_all(f) if d]
    return docs


def setUpModule():
    npm_ci()


class Schema(unittest.TestCase):
    def test_k8s_is_valid(self):
        proc = validate(K8S)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertRegex(proc.stdout, r"valid: \d+ documents in \d+ files")

    def broken(self, edit, expected):
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "k8s")
            shutil.copytree(K8S, copy)
            edit(copy)
            proc = validate(copy)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn(expected, proc.stdout)

    @staticmethod
    def replace(folder, file, old, new):
        path = os.path.join(folder, file)
        with open(path) as f:
            text = f.read()
        assert old in text, (file, old)
        with open(path, "w") as f:
            f.write(text.replace(old, new, 1))

    def test_wrong_type(self):
        self.broken(lambda d: self.replace(d, "redirect.yaml", "  replicas: 2\n", "  replicas: two\n"),
                    "redirect.yaml: Deployment/redirect: /spec/replicas: must be integer")

    def test_wrong_enum(self):
        self.broken(lambda d: self.replace(d, "qr.yaml", "imagePullPolicy: IfNotPresent", "imagePullPolicy: Sometimes"),
                    "qr.yaml: Deployment/qr: /spec/template/spec/containers/0/imagePullPolicy: must be equal to one of the allowed values")

    def test_missing_required_field(self):
        self.broken(lambda d: self.replace(d, "links.yaml", "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: links}\n", ""),
                    "links.yaml: HorizontalPodAutoscaler/links: /spec: must have required property scaleTargetRef")

    def test_probe_port_type(self):
        self.broken(lambda d: self.replace(d, "stats.yaml", "httpGet: {path: /health/ready, port: http}",
                                           "httpGet: {path: /health/ready, port: [8080]}"),
                    "stats.yaml: Deployment/stats: /spec/template/spec/containers/0/readinessProbe/httpGet/port")

    def test_unknown_kind(self):
        self.broken(lambda d: self.replace(d, "web.yaml", "kind: PodDisruptionBudget", "kind: PodDisruptionBudgt"),
                    "unknown apiVersion/kind policy/v1 PodDisruptionBudgt")

    def test_resource_missing_or_unlisted(self):
        self.broken(lambda d: os.remove(os.path.join(d, "ingress.yaml")), "resource ingress.yaml does not exist")
        self.broken(lambda d: self.replace(d, "kustomization.yaml", "  - ingress.yaml\n", ""),
                    "ingress.yaml is not listed in resources")

    def test_image_without_tag_in_kustomization(self):
        self.broken(lambda d: self.replace(d, "kustomization.yaml",
                                           "  - {name: kurz/qr, newName: registry.example.com/kurz/qr, newTag: 0.1.0}\n", ""),
                    "image kurz/qr:dev not in the kustomization's images")

    def test_usage(self):
        proc = subprocess.run(["node", os.path.join(HERE, "validate.mjs")], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("usage:", proc.stderr)


def env_of(container, config):
    env = dict(config)
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
    return env


class KurzRules(unittest.TestCase):
    def setUp(self):
        self.docs = documents()
        self.by = {(d["kind"], d["metadata"]["name"]): d for _, d in self.docs}
        self.config = self.by[("ConfigMap", "kurz-config")]["data"]

    def test_every_stateless_service(self):
        for name in STATELESS:
            for kind in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
                self.assertIn((kind, name), self.by, name)
            dep = self.by[("Deployment", name)]
            pod = dep["spec"]["template"]
            spec = pod["spec"]
            (c,) = spec["containers"]
            self.assertEqual(c["image"], "kurz/%s:dev" % name)
            self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/health/live", name)
            self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/health/ready", name)
            pre = c["lifecycle"]["preStop"]
            self.assertNotIn("exec", pre, "%s: the images have no shell" % name)
            env = env_of(c, self.config)
            # redirect also waits for its click buffer (CLICK_SHUTDOWN_FLUSH_MS, default 5 s).
            flush = int(env.get("CLICK_SHUTDOWN_FLUSH_MS", 5000)) if name == "redirect" else 0
            budget = pre["sleep"]["seconds"] + (int(env["SHUTDOWN_DELAY_MS"]) + int(env["DRAIN_TIMEOUT_MS"]) + flush) / 1000
            self.assertGreater(spec["terminationGracePeriodSeconds"], budget, name)
            self.assertIs(spec["securityContext"]["runAsNonRoot"], True, name)
            self.assertEqual(spec["securityContext"]["runAsUser"], 10001, name)
            sc = c["securityContext"]
            self.assertIs(sc["readOnlyRootFilesystem"], True, name)
            self.assertIs(sc["allowPrivilegeEscalation"], False, name)
            self.assertEqual(sc["capabilities"]["drop"], ["ALL"], name)
            for key in ("requests", "limits"):
                self.assertEqual(set(c["resources"][key]), {"cpu", "memory"}, name)
            self.assertEqual(pod["metadata"]["annotations"]["prometheus.io/scrape"], "true", name)
            self.assertEqual(pod["metadata"]["annotations"]["prometheus.io/port"], "8080", name)
            self.assertEqual(dep["spec"]["strategy"]["rollingUpdate"], {"maxSurge": 1, "maxUnavailable": 0}, name)
            hpa = self.by[("HorizontalPodAutoscaler", name)]["spec"]
            self.assertEqual(hpa["scaleTargetRef"]["name"], name)
            self.assertGreaterEqual(hpa["minReplicas"], 2, name)
            pdb = self.by[("PodDisruptionBudget", name)]["spec"]
            self.assertLess(pdb["minAvailable"], hpa["minReplicas"], "%s: a PDB that blocks every drain" % name)
            if name != "web":
                self.assertEqual(env["REDIS_URL"], "redis://redis:6379", name)

    def test_redis_statefulset(self):
        sts = self.by[("StatefulSet", "redis")]["spec"]
        self.assertEqual(sts["replicas"], 1)
        (claim,) = sts["volumeClaimTemplates"]
        mounts = sts["template"]["spec"]["containers"][0]["volumeMounts"]
        self.assertIn({"name": claim["metadata"]["name"], "mountPath": "/data"}, mounts)
        self.assertEqual(sts["template"]["spec"]["securityContext"]["fsGroup"], 10001)
        self.assertIn(("Service", "redis"), self.by)

    def test_ingress_routes_like_haproxy(self):
        """Every path the route table names (its routes, their samples, each prefix without its
        slash and with a letter more) goes where the table sends it (edge/routes.json, HAProxy's
        first match), under Kubernetes' own matching rules."""
        table = routes.load()
        rules = [(p["path"], p["pathType"], p["backend"]["service"]["name"])
                 for p in self.by[("Ingress", "kurz")]["spec"]["rules"][0]["http"]["paths"]]
        probes = {"/", "/abc123", "/x/y"} | {s.replace(routes.CODE, "abc123") for s in table.default_samples}
        for route in table.routes:
            probes |= {route.path, route.path.rstrip("/"), route.path.rstrip("/") + "x",
                       route.sample.replace(routes.CODE, "abc123")}
        for path in sorted(probes):
            self.assertEqual(ingress_service(rules, path), table.service_of(path), path)
        with open(os.path.join(ROOT, "docker", "haproxy", "stage3.cfg")) as f:
            cfg = f.read()
        for service in STATELESS:
            self.assertIn("use_backend %s" % service if service != "redirect" else "default_backend redirect", cfg)


K8S_HA = os.path.join(ROOT, "k8s-ha")
SENTINELS = "sentinel-0.sentinel-headless:26379,sentinel-1.sentinel-headless:26379,sentinel-2.sentinel-headless:26379"


def render_ha():
    """k8s-ha rendered by kubectl's kustomize (the overlay of k8s/ with Redis failover)."""
    if shutil.which("kubectl") is None:
        raise unittest.SkipTest("kubectl is not installed (its kustomize renders k8s-ha)")
    proc = subprocess.run(["kubectl", "kustomize", K8S_HA], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError("kubectl kustomize k8s-ha failed: %s" % proc.stderr)
    return proc.stdout


class HaOverlay(unittest.TestCase):
    """k8s-ha: rendered, then validated like k8s/ (the API schemas) and checked for the wiring:
    redis-0 the first primary, two replicas of it, three sentinels with quorum 2, names announced,
    the services on REDIS_SENTINELS without REDIS_URL."""

    @classmethod
    def setUpClass(cls):
        cls.text = render_ha()
        cls.docs = [d for d in yaml.safe_load_all(cls.text) if d]
        cls.by = {(d["kind"], d["metadata"]["name"]): d for d in cls.docs}

    def test_rendered_overlay_is_valid(self):
        images = set()
        for doc in self.docs:
            spec = doc.get("spec", {}).get("template", {}).get("spec", {})
            for c in spec.get("initContainers", []) + spec.get("containers", []):
                images.add(c["image"])
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "all.yaml"), "w") as f:
                f.write(self.text)
            kust = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                    "resources": ["all.yaml"],
                    "images": [{"name": i.rsplit(":", 1)[0], "newTag": i.rsplit(":", 1)[1]} for i in sorted(images)]}
            with open(os.path.join(tmp, "kustomization.yaml"), "w") as f:
                yaml.safe_dump(kust, f)
            proc = validate(tmp)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        for doc in self.docs:
            self.assertEqual(doc["metadata"].get("namespace", "kurz"), "kurz", doc["metadata"]["name"])

    def test_services_use_the_sentinels(self):
        config = self.by[("ConfigMap", "kurz-config")]["data"]
        self.assertEqual(config["REDIS_SENTINELS"], SENTINELS)
        self.assertEqual(config["REDIS_MASTER_NAME"], "kurz")
        for name in ("links", "redirect", "stats", "qr"):
            c = self.by[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]
            self.assertNotIn("REDIS_URL", [e["name"] for e in c.get("env", [])], name)
            self.assertIn({"configMapRef": {"name": "kurz-config"}}, c["envFrom"], name)

    def test_data_nodes_and_sentinels(self):
        primary = self.by[("StatefulSet", "redis")]["spec"]
        self.assertEqual(primary["replicas"], 1)
        args = primary["template"]["spec"]["containers"][0]["args"]
        self.assertNotIn("--replicaof", args)  # redis-0: the first primary, by configuration
        self.assertEqual(args[args.index("--replica-announce-ip") + 1], "redis-0.redis-headless")
        replica = self.by[("StatefulSet", "redis-replica")]["spec"]
        self.assertEqual(replica["replicas"], 2)
        args = replica["template"]["spec"]["containers"][0]["args"]
        self.assertEqual(args[args.index("--replicaof") + 1:args.index("--replicaof") + 3], ["redis-0.redis-headless", "6379"])
        self.assertEqual(args[args.index("--replica-announce-ip") + 1], "$(POD_NAME).redis-replica-headless")
        self.assertEqual(replica["volumeClaimTemplates"][0]["spec"]["accessModes"], ["ReadWriteOnce"])
        sentinel = self.by[("StatefulSet", "sentinel")]["spec"]
        self.assertEqual(sentinel["replicas"], 3)
        pod = sentinel["template"]["spec"]
        text = " ".join(pod["containers"][0]["args"])
        self.assertTrue(text.startswith("/etc/kurz/sentinel/sentinel.conf --sentinel"))
        for directive in ("resolve-hostnames yes", "announce-hostnames yes", "announce-ip $(POD_NAME).sentinel-headless",
                          "monitor kurz redis-0.redis-headless 6379 2"):
            self.assertIn("--sentinel " + directive, text)
        self.assertEqual(pod["initContainers"][0]["command"], ["touch", "/etc/kurz/sentinel/sentinel.conf"])
        for headless in ("redis-replica-headless", "sentinel-headless"):
            self.assertIs(self.by[("Service", headless)]["spec"]["publishNotReadyAddresses"], True)
        for sts in (replica, sentinel):
            term = sts["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
            self.assertEqual(term["topologyKey"], "kubernetes.io/hostname")


if __name__ == "__main__":
    unittest.main(verbosity=2)
