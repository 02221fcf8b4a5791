"""Static checks of swarm/ (no cluster needed; ctest swarm.static).

  * swarm/kurz.yml: compose format 3.8; the five services, Redis, HAProxy, Prometheus; every service:
    replicas, resources.limits, a health check, stop_grace_period above its drain
    (SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS), update_config start-first (stop-first for the single
    stateful/host-port ones) with failure_action rollback and a monitor window, rollback_config,
    read-only root, no capabilities, dnsrr; Redis on a named volume with a placement constraint;
    images from the registry with the tag variable; `docker-compose config` accepts it;
  * swarm/kurz-ha.yml: the rest is kurz.yml; three data nodes and three sentinels, one of each per node
    slot, the first primary by configuration, names announced, REDIS_SENTINELS in the services;
  * swarm/haproxy.cfg: `haproxy -c` with common.cfg; a server-template on tasks.<service> per service;
  * swarm/prometheus.yml: `promtool check config`; a dns_sd_configs job on tasks.<service> per service.
Run: /usr/bin/python3 -m unittest -v check_swarm   (in tests/swarm)
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SWARM = os.path.join(ROOT, "swarm")
STATELESS = ("links", "redirect", "stats", "qr", "web")


def duration_s(text):
    total = 0.0
    for value, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", str(text)):
        total += float(value) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3}[unit]
    return total


def assert_compose_accepts(test, name):
    """`docker-compose config -q` accepts swarm/<name> (skipped without docker-compose)."""
    exe = shutil.which("docker-compose")
    if exe is None:
        test.skipTest("docker-compose is not installed")
    proc = subprocess.run([exe, "-f", os.path.join(SWARM, name), "config", "-q"], cwd=SWARM,
                          capture_output=True, text=True, timeout=60)
    test.assertEqual(proc.returncode, 0, proc.stderr)


def stack():
    with open(os.path.join(SWARM, "kurz.yml")) as f:
        return yaml.safe_load(f)


class StackFile(unittest.TestCase):
    def test_services(self):
        doc = stack()
        self.assertEqual(doc["version"], "3.8")
        services = doc["services"]
        self.assertEqual(set(services), set(STATELESS) | {"redis", "haproxy", "prometheus"})
        for name, svc in services.items():
            d = svc["deploy"]
            self.assertRegex(svc["image"], r"^\$\{KURZ_REGISTRY:-registry:5000\}/kurz/%s:\$\{KURZ_TAG:-dev\}$" % name)
            self.assertGreaterEqual(d["replicas"], 2 if name in STATELESS else 1, name)
            self.assertIn("cpus", d["resources"]["limits"], name)
            self.assertIn("memory", d["resources"]["limits"], name)
            self.assertIn("test", svc["healthcheck"], name)
            self.assertIs(svc["read_only"], True, name)
            self.assertEqual(svc["cap_drop"], ["ALL"], name)
            self.assertEqual(d["endpoint_mode"], "dnsrr", name)
            up, back = d["update_config"], d["rollback_config"]
            self.assertEqual(up["failure_action"], "rollback", name)
            self.assertIn("monitor", up, name)
            self.assertIn("order", back, name)
            self.assertEqual(up["order"], "start-first" if name in STATELESS else "stop-first", name)
            env = svc.get("environment") or {}
            if "SHUTDOWN_DELAY_MS" in env:
                budget = (int(env["SHUTDOWN_DELAY_MS"]) + int(env["DRAIN_TIMEOUT_MS"]) +
                          int(env.get("CLICK_SHUTDOWN_FLUSH_MS", 5000) if name == "redirect" else 0)) / 1000
                self.assertGreater(duration_s(svc["stop_grace_period"]), budget, name)
            for port in svc.get("ports", []):
                self.assertEqual(port["mode"], "host", name)
                self.assertIn("node.role == manager", d["placement"]["constraints"], name)
        redis = services["redis"]
        self.assertIn("redis-data:/data", redis["volumes"])
        self.assertIn("redis-data", doc["volumes"])
        self.assertEqual(redis["deploy"]["placement"]["constraints"], ["node.labels.kurz.redis == true"])

    def test_docker_compose_accepts_it(self):
        assert_compose_accepts(self, "kurz.yml")


HA_REDIS_ENV = ("REDIS_SENTINELS", "REDIS_MASTER_NAME", "REDIS_WAIT_REPLICAS", "REDIS_WAIT_TIMEOUT_MS")


class HaStackFile(unittest.TestCase):
    """swarm/kurz-ha.yml: kurz.yml with Redis replaced by a primary, two replicas and three sentinels,
    one data node and one sentinel per node slot (cluster.sh labels kurz.slot=1..3)."""

    def setUp(self):
        with open(os.path.join(SWARM, "kurz-ha.yml")) as f:
            self.doc = yaml.safe_load(f)
        self.services = self.doc["services"]

    def test_the_rest_is_kurz_yml(self):
        plain = stack()["services"]
        data = ("redis", "redis-replica-1", "redis-replica-2")
        sentinels = ("sentinel-1", "sentinel-2", "sentinel-3")
        self.assertEqual(set(self.services), set(plain) | set(data) | set(sentinels))
        for name in set(plain) - {"redis"}:
            ha, base = dict(self.services[name]), dict(plain[name])
            env_ha, env_base = ha.pop("environment", None), base.pop("environment", None)
            self.assertEqual(ha, base, name)
            if env_base and "REDIS_URL" in env_base:
                self.assertEqual({k: v for k, v in env_ha.items() if k not in HA_REDIS_ENV},
                                 {k: v for k, v in env_base.items() if k != "REDIS_URL"}, name)
                self.assertNotIn("REDIS_URL", env_ha, name)
                self.assertEqual(env_ha["REDIS_SENTINELS"], ",".join("%s:26379" % s for s in sentinels), name)
                self.assertEqual(env_ha["REDIS_MASTER_NAME"], "kurz", name)

    def test_data_nodes_and_sentinels(self):
        slots = {}
        for name in ("redis", "redis-replica-1", "redis-replica-2"):
            svc = self.services[name]
            cmd = svc["command"]
            self.assertIn("%s-data:/data" % name, svc["volumes"])
            self.assertIn("%s-data" % name, self.doc["volumes"])
            self.assertEqual(cmd[cmd.index("--replica-announce-ip") + 1], name)
            self.assertEqual(cmd[cmd.index("--dir") + 1], "/data")
            if name == "redis":
                self.assertNotIn("--replicaof", cmd)  # the first primary, by configuration
            else:
                self.assertEqual(cmd[cmd.index("--replicaof") + 1:cmd.index("--replicaof") + 3], ["redis", "6379"])
            self.assertEqual(svc["deploy"]["update_config"]["order"], "stop-first")
            slots.setdefault("data", []).append(svc["deploy"]["placement"]["constraints"])
        for i in (1, 2, 3):
            svc = self.services["sentinel-%d" % i]
            cmd = svc["command"]
            self.assertEqual(cmd[:2], ["/etc/kurz/sentinel/sentinel.conf", "--sentinel"])
            self.assertEqual(svc["volumes"], [{"type": "volume", "target": "/etc/kurz/sentinel"}])
            text = " ".join(cmd)
            for directive in ("resolve-hostnames yes", "announce-hostnames yes", "announce-ip sentinel-%d" % i,
                              "monitor kurz redis 6379 2", "announce-port 26379"):
                self.assertIn("--sentinel " + directive, text)
            self.assertLess(text.index("resolve-hostnames"), text.index("monitor"))
            self.assertIn("26379", " ".join(svc["healthcheck"]["test"]))
            slots.setdefault("sentinel", []).append(svc["deploy"]["placement"]["constraints"])
        for kind, got in slots.items():
            self.assertEqual(got, [["node.labels.kurz.slot == %d" % i] for i in (1, 2, 3)], kind)

    def test_cluster_labels_the_slots(self):
        with open(os.path.join(ROOT, "scripts", "swarm", "cluster.sh")) as f:
            script = f.read()
        self.assertIn('--label-add "kurz.slot=$i"', script)
        self.assertIn("KURZ_SWARM_STACK", script)

    def test_docker_compose_accepts_it(self):
        assert_compose_accepts(self, "kurz-ha.yml")


def read_stage3():
    with open(os.path.join(ROOT, "docker", "haproxy", "stage3.cfg")) as f:
        return f.read()


def backend(cfg, name):
    """The directives of `backend <name>` (comments and blank lines dropped), one per line."""
    section = re.search(r"\nbackend %s\n(.*?)(?=\n\S|\Z)" % name, cfg, re.S).group(1)
    return "".join(l + "\n" for l in section.splitlines() if l.strip() and not l.strip().startswith("#"))


class Configs(unittest.TestCase):
    def test_haproxy(self):
        with open(os.path.join(SWARM, "haproxy.cfg")) as f:
            cfg = f.read()
        for name in STATELESS:
            # Server options may follow (redirect: observe layer4 ...).
            self.assertRegex(cfg, r"\n    server-template %s- 10 tasks\.%s:8080( [^\n]*)?\n" % (name, name))
        self.assertEqual(backend(cfg, "redirect").replace("    timeout server 3s\n", ""),
                         backend(read_stage3(), "redirect").replace(" redirect-live:8080 ", " redirect:8080 ")
                         .replace(" redirect:8080 observe", " tasks.redirect:8080 observe"),
                         "the Swarm redirect backend is stage 3's (Redis-outage fallback included), on "
                         "Swarm's DNS names, with the Swarm timeout")
        exe = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
        if exe is None:
            self.skipTest("haproxy is not installed")
        proc = subprocess.run([exe, "-c", "-f", os.path.join(ROOT, "docker", "haproxy", "common.cfg"), "-f",
                               os.path.join(SWARM, "haproxy.cfg")], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_prometheus(self):
        with open(os.path.join(SWARM, "prometheus.yml")) as f:
            prom = yaml.safe_load(f)
        jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
        for name in STATELESS:
            sd = jobs[name]["dns_sd_configs"][0]
            self.assertEqual((sd["names"], sd["type"], sd["port"]), (["tasks." + name], "A", 8080))
        exe = shutil.which("promtool")
        if exe is None:
            self.skipTest("promtool is not installed")
        # As in the image: alerts.yml beside the configuration.
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(os.path.join(SWARM, "prometheus.yml"), tmp)
            shutil.copy(os.path.join(ROOT, "docker", "prometheus", "alerts.yml"), tmp)
            proc = subprocess.run([exe, "check", "config", os.path.join(tmp, "prometheus.yml")],
                                  capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
