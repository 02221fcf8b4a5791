"""The shared fixtures of the Docker stack tests (test_images, test_stage1, test_stage1_scaled,
test_stage2, test_stage3): the images built once per run, compose stacks brought up under unique
projects and taken down at exit (even on failure or a signal), the compose CLI on a stack, and the
report (test-artifacts/docker/report.json).

Environment: KURZ_DOCKER_KEEP=1 leaves the stacks up for a look; KURZ_TAG (default dev)."""
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import dockerenv  # noqa: E402  (puts scripts/ on sys.path)
from dockerenv import run  # noqa: E402,F401  (for the stage modules)
from kurzops import compose as kcompose  # noqa: E402
from stackclient import request  # noqa: E402,F401  (for the stage modules)
from kurzops.wait import wait_until  # noqa: E402

SCRIPTS = os.path.join(ROOT, "scripts", "docker")
ARTIFACTS = os.path.join(ROOT, "test-artifacts", "docker")
TAG = os.environ.get("KURZ_TAG", "dev")
# Targets of the links: never fetched (no redirect is followed), and unroutable anyway.
TARGET = "http://127.0.0.1:9/kurz-docker-test/"

REPORT = {}
_STACKS = []  # (stage, project) started and not yet taken down
_CONTAINERS = []  # ids from plain `docker run`
_PREPARED = {}  # the images are built once per process, whichever module asks first


def log(msg):
    print("docker-test: " + msg, flush=True)


def prepare():
    """Checks the Docker CLI and compose, starts dockerd when none answers, builds every image
    (once per process: the stage modules of one run share them); the times go to the report."""
    if _PREPARED:
        return
    if shutil.which("docker") is None or dockerenv.compose_command() is None:
        raise AssertionError("Docker tests need the Docker CLI and docker compose v2 or docker-compose 1.29; "
                             "install the Debian packages: docker.io docker-compose debootstrap")
    os.makedirs(ARTIFACTS, exist_ok=True)
    dockerenv.ensure_dockerd(ARTIFACTS, log)
    REPORT["compose"] = " ".join(kcompose.compose_command())
    base_s, images_s = dockerenv.build_images(dockerenv.ALL_IMAGES, TAG, ARTIFACTS, log)
    REPORT["base_image_s"] = round(base_s, 1)
    REPORT["images_build_s"] = round(images_s, 1)
    log("base image %.1fs, images %.1fs" % (REPORT["base_image_s"], REPORT["images_build_s"]))
    _PREPARED["done"] = True


def finish():
    """A stage module's tearDownModule: takes down what is left, writes the report."""
    teardown_all()
    write_report()
    log("report: " + json.dumps(REPORT, sort_keys=True))


def stack_env(project):
    # Rate limit off: the tests create many links from one client. Docker picks free host ports.
    return {"KURZ_PROJECT": project, "KURZ_HTTP_PORT": "", "KURZ_LB_STATS_PORT": "", "KURZ_PROMETHEUS_PORT": "",
            "KURZ_TAG": TAG, "KURZ_BUILD_LOGS": ARTIFACTS, "KURZ_RATE_LIMIT_CREATES": "0"}


def stack(cmd, stage, project, *args, timeout=600, env=None):
    """scripts/docker/stack.sh `cmd` `stage` on `project`."""
    full_env = stack_env(project)
    full_env.update(env or {})
    return run([os.path.join(SCRIPTS, "stack.sh"), cmd, stage, *args], timeout=timeout, env=full_env)


def project_name(stage):
    return "kurzt%s%s" % (stage.replace("-", ""), uuid.uuid4().hex[:8])


def up_stack(stage, project):
    """Brings `stage` up under `project` (torn down at exit), waits until it is healthy, records the
    time in the report, and returns the edge URL on 127.0.0.1."""
    t0 = time.monotonic()
    _STACKS.append((stage, project))
    stack("up", stage, project, timeout=900)
    REPORT[stage.replace("-", "_") + "_up_healthy_s"] = round(time.monotonic() - t0, 1)
    return stack("url", stage, project, timeout=60).stdout.strip().splitlines()[-1]


def down_stack(stage, project, timeout=120):
    """Takes `stage` down (its volumes too) and records the time in the report."""
    t0 = time.monotonic()
    stack("down", stage, project, timeout=timeout)
    _STACKS.remove((stage, project))
    REPORT[stage.replace("-", "_") + "_down_s"] = round(time.monotonic() - t0, 1)


def compose(stage, project, *args, timeout=300):
    """The compose CLI itself on a stack (same environment as stack.sh gives it)."""
    return run([*kcompose.compose_command(), "-p", project, *kcompose.stage_args(stage), *args],
               timeout=timeout, env=stack_env(project))


def published(stage, project, service, port):
    """http://127.0.0.1:<host port> where `service`'s `port` is published."""
    out = compose(stage, project, "port", service, str(port), timeout=60).stdout.split()
    return "http://127.0.0.1:" + out[-1].rpartition(":")[2]


def service_containers(stage, project, service=None):
    """The container ids of `service` (every service's when None)."""
    ids = compose(stage, project, "ps", "-q", *([service] if service else []), timeout=60).stdout.split()
    return [i for i in ids if len(i) >= 12]


def inspect(obj):
    return json.loads(run(["docker", "inspect", obj], timeout=30).stdout)[0]


def wait_healthy(cid, timeout):
    """Until the container runs and its health check passes."""
    def healthy():
        state = inspect(cid)["State"]
        return state["Status"] == "running" and (state.get("Health") or {}).get("Status") == "healthy"
    wait_until("container %s healthy" % cid[:12], healthy, timeout, interval=0.25)


def run_container(*args):
    """`docker run -d` with `args`; the container is removed at exit unless remove_container()
    removed it first. Returns its id."""
    cid = run(["docker", "run", "-d", *args], timeout=60).stdout.strip()
    _CONTAINERS.append(cid)
    return cid


def remove_container(cid):
    run(["docker", "rm", "-f", cid], timeout=60)
    _CONTAINERS.remove(cid)


def write_report():
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, "report.json"), "w") as f:
        json.dump(REPORT, f, indent=2, sort_keys=True)


def teardown_all():
    for cid in list(_CONTAINERS):
        subprocess.run(["docker", "rm", "-f", cid], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _CONTAINERS.remove(cid)
    if os.environ.get("KURZ_DOCKER_KEEP") == "1":
        for stage, project in _STACKS:
            log("KURZ_DOCKER_KEEP=1: left %s up (project %s)" % (stage, project))
        return
    for stage, project in list(_STACKS):
        try:
            stack("down", stage, project, timeout=120)
        except AssertionError as e:
            log("teardown of %s failed: %s" % (project, e))
        _STACKS.remove((stage, project))


def _on_signal(signum, _frame):
    teardown_all()
    sys.exit(128 + signum)


atexit.register(teardown_all)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)
