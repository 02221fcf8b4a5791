"""Load-testing on Marathon, the documented way (docs/marathon.md, "Load-testing through
marathon-lb"), with the real pieces on one machine: stage 3's Redis and links run with the
arguments and environment of the rendered definition (marathon/render, secrets from the
environment), behind a real HAProxy built from the app's marathon-lb labels
(HAPROXY_0_BACKEND_HEAD, HAPROXY_0_BACKEND_SERVER_OPTIONS, `option forwardfor` as marathon-lb
sets it), so every request reaches links from the balancer's address, as through marathon-lb.
- bench/load seeds more links than RATE_LIMIT_CREATES allows: refused (429) without the API key,
  done with `--api-key`.
- Redis requires its password (the definition's --requirepass), and the services use it.
- /metrics is refused by the balancer and answered by the task itself (Prometheus' way).
Needs KURZ_LINKS and KURZ_LOAD (ctest sets them), redis-server and haproxy."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "marathon", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "process"))

from kurz_marathon import credentials, definitions  # noqa: E402
from kurz_process import Service, free_port  # noqa: E402
from kurzops import web  # noqa: E402  (scripts/ on sys.path through kurz_process)
from kurzops.wait import wait_http, wait_until  # noqa: E402

SECRETS = {"KURZ_API_KEY": "load-api-key-0123456789", "KURZ_REDIS_PASSWORD": "load-redis-pass-0123456789"}
STAGE3 = os.path.join(ROOT, "marathon", "stage3", "kurz.json")


def status_of(url):
    """The status of GET `url` (a redirect not followed)."""
    return web.request(url, timeout=5).status


@unittest.skipUnless(os.environ.get("KURZ_LINKS") and os.environ.get("KURZ_LOAD")
                     and shutil.which("redis-server") and shutil.which("haproxy"),
                     "needs KURZ_LINKS, KURZ_LOAD, redis-server and haproxy")
class LoadThroughTheBalancer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kurz-load-test.")
        stage = credentials.fill(definitions.load(STAGE3), SECRETS)
        redis_app, links_app = definitions.app(stage, "/kurz/redis"), definitions.app(stage, "/kurz/links")
        cls.limit = int(links_app["env"]["RATE_LIMIT_CREATES"])
        # Redis with the definition's arguments, on this machine's loopback and a free port.
        args = list(redis_app["args"])
        cls.redis_port = free_port()
        for flag, value in (("--bind", "127.0.0.1"), ("--port", str(cls.redis_port)), ("--dir", cls.tmp)):
            args[args.index(flag) + 1] = value
        cls.redis = subprocess.Popen(["redis-server"] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until("redis-server answering on %d" % cls.redis_port,
                   lambda: subprocess.run(["redis-cli", "-p", str(cls.redis_port), "ping"], capture_output=True,
                                          text=True).stdout.strip() in ("PONG", "NOAUTH Authentication required."),
                   10)
        # links with the definition's environment; Redis by its address here instead of Mesos-DNS.
        env = dict(links_app["env"])
        env["REDIS_URL"] = env["REDIS_URL"].replace("redis-kurz.marathon.mesos:6379", "127.0.0.1:%d" % cls.redis_port)
        env["LINKS_PORT"] = str(free_port())
        cls.links = Service(os.environ["KURZ_LINKS"], env)
        cls.task = "http://127.0.0.1:%d" % cls.links.port
        # HAProxy as marathon-lb builds it from the app's labels.
        labels = links_app["labels"]
        cls.lb_port = free_port()
        backend = labels["HAPROXY_0_BACKEND_HEAD"].format(backend="kurz_links_10011", balance="roundrobin",
                                                          mode="http")
        server = labels["HAPROXY_0_BACKEND_SERVER_OPTIONS"].format(
            serverName="task1", host_ipv4="127.0.0.1", port=cls.links.port, cookieOptions="")
        cfg = os.path.join(cls.tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("global\n  maxconn 512\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n"
                    "  timeout server 10s\nfrontend kurz_10011\n  bind 127.0.0.1:%d\n  option forwardfor\n"
                    "  default_backend kurz_links_10011\n%s%s" % (cls.lb_port, backend, server))
        check = subprocess.run(["haproxy", "-c", "-f", cfg], capture_output=True, text=True)
        if check.returncode != 0:
            cls.tearDownClass()
            raise AssertionError("the labels make no valid HAProxy backend:\n" + check.stdout + check.stderr)
        cls.haproxy = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        cls.lb = "http://127.0.0.1:%d" % cls.lb_port
        try:
            wait_http(cls.lb + "/health/ready", 20, pid=cls.haproxy.pid, interval=0.1)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for name in ("haproxy", "redis"):
            proc = getattr(cls, name, None)
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
        if getattr(cls, "links", None) is not None:
            cls.links.terminate()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def load(self, *extra):
        return subprocess.run([os.environ["KURZ_LOAD"], "--base-url", self.lb, "--links", str(self.limit + 40),
                               "--mode", "rate", "--rate", "20", "--duration", "1", "--warmup", "0",
                               "--mix", "create=100", "--quiet"] + list(extra),
                              capture_output=True, text=True, timeout=120)

    def test_seeding_needs_the_api_key(self):
        # Order matters: the refused run first, while this client's window is fresh.
        refused = self.load()
        self.assertEqual(refused.returncode, 1, refused.stdout + refused.stderr)
        self.assertIn("with 429", refused.stderr)
        self.assertIn("--api-key", refused.stderr)
        done = self.load("--api-key", SECRETS["KURZ_API_KEY"])
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        result = json.loads(done.stdout) if done.stdout.strip().startswith("{") else None
        if result is not None:
            self.assertEqual(result.get("errors"), 0, done.stdout)

    def test_redis_requires_the_password(self):
        proc = subprocess.run(["redis-cli", "-p", str(self.redis_port), "set", "x", "1"], capture_output=True,
                              text=True)
        self.assertIn("NOAUTH", proc.stdout + proc.stderr)
        self.assertEqual(status_of(self.task + "/health/ready"), 200)  # links authenticated

    def test_metrics_only_on_the_task(self):
        self.assertEqual(status_of(self.lb + "/metrics"), 404)
        self.assertEqual(status_of(self.lb + "/metrics/"), 404)
        self.assertEqual(status_of(self.task + "/metrics"), 200)
        self.assertEqual(status_of(self.lb + "/health/ready"), 200)


if __name__ == "__main__":
    unittest.main()
