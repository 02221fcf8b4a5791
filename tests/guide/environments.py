"""Where the guide's runnable blocks run: one class per kind of the `<!-- run: KIND -->` marker.

The guide's commands are written for a reader with the default ports (localhost:8080, the project
kurz-stage3, build/release/...). Each environment starts what the reader would have started, on free
ports of 127.0.0.1 and under unique names, and lists the `substitutions` that turn the reader's
command into the one that reaches it; the same pairs, reversed, turn the output back into what the
reader would have seen, so that expected blocks are written with the default ports too.
"""
import os
import secrets
import subprocess
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
sys.path.insert(0, os.path.join(ROOT, "tests", "process"))
import dockerenv  # noqa: E402
from kurz_process import RedisServer, Service, free_port  # noqa: E402
from kurzops.tools import load_tool  # noqa: E402  (scripts/ on sys.path through dockerenv)

ARTIFACTS = os.path.join(ROOT, "test-artifacts", "guide")
RUN_ID = uuid.uuid4().hex[:8]


def log(msg):
    print("guide-test: " + msg, flush=True)


def bin_dir():
    """The service binaries the test uses in place of the reader's build/release/services."""
    path = os.environ.get("KURZ_BIN_DIR")
    if not path:
        monolith = os.environ.get("KURZ_MONOLITH")
        if not monolith:
            raise AssertionError("set KURZ_BIN_DIR (build/ci/services) or KURZ_MONOLITH")
        path = os.path.dirname(os.path.dirname(monolith))
    return path


def binary(name):
    path = os.environ.get("KURZ_MONOLITH") if name == "monolith" else None
    return path or os.path.join(bin_dir(), name, "kurz-" + name)


def _url_pairs(default_port, real_port):
    return [("localhost:%d" % default_port, "localhost:%d" % real_port),
            ("127.0.0.1:%d" % default_port, "127.0.0.1:%d" % real_port)]


class Environment:
    """Base: no processes. Subclasses start things in start() and stop them in stop()."""
    kind = None
    needs = None  # why it cannot run here, or None when it can
    setup_block_runs = False  # True: the guide's `setup` block is what brings it up

    def __init__(self):
        self.pairs = [("build/release/services/", bin_dir().rstrip("/") + "/")]
        self.extra_env = {}
        try:  # bench/load's binary: KURZ_LOAD (ctest: the build under test), else kurzops finds one
            self.extra_env["KURZ_LOAD"] = load_tool()
        except FileNotFoundError:
            pass  # bench/load builds it

    def start(self):
        pass

    def after_setup(self):
        pass

    def stop(self):
        pass

    def substitute(self, text):
        for old, new in self.pairs:
            text = text.replace(old, new)
        return text

    def unsubstitute(self, text):
        for old, new in sorted(self.pairs, key=lambda p: -len(p[1])):
            text = text.replace(new, old)
        return text


class Local(Environment):
    """Nothing started: commands on the repository itself (validators, renderers)."""
    kind = "local"


class Monolith(Environment):
    """One stage 1 monolith (state in memory), as `scripts/run.sh` starts it: localhost:8080."""
    kind = "monolith"

    def start(self):
        self.services = [Service(binary("monolith"), {"HOSTNAME": "kurz-1"})]
        self.pairs += _url_pairs(8080, self.services[0].port)

    def stop(self):
        for s in getattr(self, "services", []):
            s.terminate()


class MonolithUnlimited(Monolith):
    """The monolith without the creation rate limit (RATE_LIMIT_CREATES=0), as chapter 6 starts
    it for the load tool, which creates links: localhost:8080."""
    kind = "monolith-nolimit"

    def start(self):
        self.services = [Service(binary("monolith"), {"HOSTNAME": "kurz-1", "RATE_LIMIT_CREATES": "0"})]
        self.pairs += _url_pairs(8080, self.services[0].port)


class MonolithPair(Environment):
    """Two stage 1 monoliths, each with its own memory: localhost:8081 and localhost:8082."""
    kind = "monolith-x2"
    redis_url = None

    def start(self):
        env = {"REDIS_URL": self.redis_url} if self.redis_url else {}
        self.services = []
        for n, port in ((1, 8081), (2, 8082)):
            s = Service(binary("monolith"), dict(env, HOSTNAME="kurz-%d" % n))
            self.services.append(s)
            self.pairs += _url_pairs(port, s.port)

    def stop(self):
        for s in getattr(self, "services", []):
            s.terminate()


class Stage2Pair(MonolithPair):
    """Stage 2 without Docker: a redis-server (127.0.0.1:6379) and two monoliths sharing it
    (localhost:8081 and localhost:8082)."""
    kind = "stage2-x2"

    def start(self):
        self.redis = RedisServer()
        self.redis_url = self.redis.url
        self.pairs += [("127.0.0.1:6379", "127.0.0.1:%d" % self.redis.port),
                       ("-p 6379", "-p %d" % self.redis.port)]
        super().start()

    def stop(self):
        super().stop()
        if getattr(self, "redis", None):
            self.redis.close()


def _compose_pairs():
    cmd = dockerenv.compose_command()
    if cmd and cmd != ["docker-compose"]:
        return [("docker-compose ", " ".join(cmd) + " ")]
    return []


class DockerMonolith(Environment):
    """A Docker engine (started when none answers). The guide's own blocks build kurz/monolith:dev
    (chapter 1, before any block uses it). Containers the guide names `kurz-demo...` get a unique
    name here (and are removed at the end); the port 8080 it publishes is a free one."""
    kind = "docker"

    def start(self):
        dockerenv.ensure_dockerd(ARTIFACTS, log)
        port = free_port()
        self.prefix = "guide%s-" % RUN_ID
        self.pairs += [("kurz-demo", self.prefix + "kurz-demo"),
                       ("127.0.0.1:8080:8080", "127.0.0.1:%d:8080" % port)] + _url_pairs(8080, port)
        self.pairs += _compose_pairs()

    def stop(self):
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", "name=" + getattr(self, "prefix", "-")],
                             capture_output=True, text=True, timeout=30).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, timeout=60)


class Stage3Stack(Environment):
    """The stage 3 compose stack, brought up by the guide's own `run: stage3 setup` block
    (scripts/docker/stack.sh up stage3) under a unique project with free ports."""
    kind = "stage3"
    setup_block_runs = True

    def start(self):
        dockerenv.ensure_dockerd(ARTIFACTS, log)
        self.project = "guide%s" % RUN_ID
        self.extra_env.update({"KURZ_PROJECT": self.project, "KURZ_HTTP_PORT": "", "KURZ_LB_STATS_PORT": "",
                               "KURZ_PROMETHEUS_PORT": "", "KURZ_TAG": "dev", "KURZ_BUILD_LOGS": ARTIFACTS})
        self.pairs += [("kurz-stage3", self.project)] + _compose_pairs()
        self.up = False

    def _published(self, service, port):
        cmd = dockerenv.compose_command()
        out = dockerenv.run([*cmd, "-p", self.project, "-f", os.path.join(ROOT, "docker-compose.yml"),
                             "port", service, str(port)], timeout=60, env=self.extra_env).stdout.split()
        return int(out[-1].rpartition(":")[2])

    def after_setup(self):
        self.up = True
        for service, port in (("haproxy", 8080), ("haproxy", 8404), ("prometheus", 9090)):
            self.pairs += _url_pairs(port, self._published(service, port))

    def stop(self):
        if getattr(self, "project", None) is None:
            return
        if os.environ.get("KURZ_DOCKER_KEEP") == "1":
            log("KURZ_DOCKER_KEEP=1: left the stage 3 stack up (project %s)" % self.project)
            return
        subprocess.run([os.path.join(ROOT, "scripts", "docker", "stack.sh"), "down", "stage3"],
                       env=dict(os.environ, **self.extra_env), capture_output=True, timeout=180)


MARATHON_STANDIN = os.path.join(ROOT, "tests", "marathon", "standin.py")
MARATHON_DEPLOY = os.path.join(ROOT, "marathon", "deploy")


class Marathon(Environment):
    """Blocks written for a real Marathon (MARATHON_URL, set here to the stand-in's URL; the guide's
    localhost:8080 is the stand-in's port, marathon/deploy has no default). Run against the Marathon stand-in
    (tests/marathon/standin.py) when it and marathon/deploy have landed; otherwise not runnable."""
    kind = "marathon"
    needs = None if (os.path.exists(MARATHON_STANDIN) and os.path.exists(MARATHON_DEPLOY)) else \
        "a Marathon cluster; its stand-in (tests/marathon/standin.py with marathon/deploy) has not landed"

    def start(self):
        # The stand-in prints its port on its first line; --lifetime bounds it if we are killed.
        self.proc = subprocess.Popen([sys.executable, MARATHON_STANDIN, "--port", "0", "--lifetime", "900"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first = self.proc.stdout.readline().strip()
        if not first.isdigit():
            raise AssertionError("the Marathon stand-in did not start: %r" % first)
        port = int(first)
        self.pairs += _url_pairs(8080, port)
        self.extra_env["MARATHON_URL"] = "http://localhost:%d" % port
        # The definitions' secrets, as the chapter's no-run block exports them (render and deploy
        # refuse without them).
        for key in ("KURZ_API_KEY", "KURZ_REDIS_PASSWORD"):
            self.extra_env.setdefault(key, os.environ.get(key) or secrets.token_hex(24))

    def stop(self):
        if getattr(self, "proc", None):
            if self.proc.poll() is None:
                self.proc.terminate()
                self.proc.wait(timeout=10)
            self.proc.stdout.close()


KINDS = {cls.kind: cls for cls in (Local, Monolith, MonolithUnlimited, MonolithPair, Stage2Pair, DockerMonolith, Stage3Stack, Marathon)}

