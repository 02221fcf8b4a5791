"""The shared setup of the Swarm tests (test_swarm: swarm.cluster, test_swarm_ha: swarm.ha): the
kurz images, and a three-node cluster of our own through scripts/swarm/cluster.sh (a unique
KURZ_SWARM_NAME, every port Docker-picked on 127.0.0.1), taken down at exit, on failure and on
SIGTERM/SIGINT/SIGHUP. KURZ_SWARM_KEEP=1 leaves it up; KURZ_TAG names the images (default dev)."""
import atexit
import os
import signal
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import dockerenv  # noqa: E402  (puts scripts/ on sys.path)
from dockerenv import run  # noqa: E402

CLUSTER = os.path.join(ROOT, "scripts", "swarm", "cluster.sh")
ARTIFACTS = os.path.join(ROOT, "test-artifacts", "swarm")
TAG = os.environ.get("KURZ_TAG", "dev")
STACK_IMAGES = ("redis", "links", "redirect", "stats", "qr", "web", "haproxy", "prometheus")


def prepare_images(log, only_missing=False):
    """A Docker engine (started when none answers) and the stack's images, built the project's way
    (only those not there yet with `only_missing`). Returns the build's seconds (base, images)."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    dockerenv.ensure_dockerd(ARTIFACTS, log)
    names = STACK_IMAGES
    if only_missing:
        names = [n for n in STACK_IMAGES if run(["docker", "image", "inspect", "kurz/%s:%s" % (n, TAG)],
                                                timeout=60, check=False).returncode]
    return dockerenv.build_images(names, TAG, ARTIFACTS, log) if names else (0.0, 0.0)


class Cluster:
    """scripts/swarm/cluster.sh on a cluster named <prefix><unique>, deploying swarm/<stack>
    (kurz.yml when None); down() at exit and on a signal once start() was called."""

    def __init__(self, prefix, log, stack=None, swarm_timeout=240):
        self.name = prefix + uuid.uuid4().hex[:6]
        self.log = log
        self.env = {"KURZ_SWARM_NAME": self.name, "KURZ_TAG": TAG, "KURZ_SWARM_HTTP_PORT": "",
                    "KURZ_SWARM_STATS_PORT": "", "KURZ_SWARM_PROMETHEUS_PORT": "", "KURZ_SWARM_REGISTRY_PORT": "",
                    "KURZ_RATE_LIMIT_CREATES": "0", "KURZ_SWARM_TIMEOUT": str(swarm_timeout)}
        if stack:
            self.env["KURZ_SWARM_STACK"] = stack
        self.up = False

    def run(self, *args, timeout=300, check=True, extra=None):
        """cluster.sh `args`: the CompletedProcess (stdout and stderr together, as text)."""
        env = dict(self.env)
        env.update(extra or {})
        return run([CLUSTER, *args], timeout=timeout, env=env, check=check)

    def start(self, timeout=420):
        """cluster.sh up; from now on the cluster is taken down at exit and on a signal."""
        atexit.register(self.down)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        self.up = True
        self.run("up", timeout=timeout)

    def host_port(self, node, port):
        """The 127.0.0.1 port where the node container `node` publishes `port`."""
        out = run(["docker", "port", node, "%d/tcp" % port], timeout=30).stdout.split()
        return out[-1].rpartition(":")[2]

    def down(self):
        if not self.up:
            return
        if os.environ.get("KURZ_SWARM_KEEP") == "1":
            self.log("KURZ_SWARM_KEEP=1: cluster %s left up (KURZ_SWARM_NAME=%s scripts/swarm/cluster.sh down)"
                     % (self.name, self.name))
            return
        self.up = False
        lines = (self.run("down", timeout=180, check=False).stdout or "").strip().splitlines()
        self.log("cluster down: " + (lines[-1] if lines else "(no output)"))

    def _on_signal(self, signum, _frame):
        self.down()
        sys.exit(128 + signum)
