"""What every Docker-based test needs: bounded commands, a Docker engine (started when none
answers), the compose CLI, and the kurz images built the project's way.

Import it with tests/support on sys.path:
    sys.path.insert(0, os.path.join(ROOT, "tests", "support")); import dockerenv
"""
import os
import shutil
import subprocess
import time

import opspath  # noqa: F401  (scripts/ on sys.path)
from kurzops import compose, wait

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts", "docker")
# Every kurz image (docker/<name>.Dockerfile).
ALL_IMAGES = ("monolith", "haproxy", "redis", "prometheus", "links", "redirect", "stats", "qr", "web")


def run(cmd, timeout, env=None, check=True, capture=True):
    """Runs a command with a time bound; returns CompletedProcess. Output captured as text."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        proc = subprocess.run(cmd, env=full_env, timeout=timeout, text=True,
                              stdout=subprocess.PIPE if capture else None,
                              stderr=subprocess.STDOUT if capture else None)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("timed out after %ss: %s\n%s" % (timeout, " ".join(cmd), e.output or ""))
    if check and proc.returncode != 0:
        raise AssertionError("failed (exit %d): %s\n%s" % (proc.returncode, " ".join(cmd),
                                                          (proc.stdout or "")[-4000:]))
    return proc


def compose_command():
    """The compose command (kurzops.compose: $KURZ_COMPOSE, `docker compose` v2, `docker-compose`
    1.29), or None when there is none."""
    try:
        return compose.compose_command()
    except compose.NoCompose:
        return None


def docker_answers():
    return subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=30).returncode == 0


def ensure_dockerd(artifacts, log=print):
    """Starts dockerd in the background when no engine answers (its log in `artifacts`/dockerd.log,
    left running); waits, bounded, for it to answer."""
    if docker_answers():
        return
    if "DOCKER_HOST" in os.environ:
        raise AssertionError("DOCKER_HOST=%s does not answer" % os.environ["DOCKER_HOST"])
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if os.path.exists("/usr/sbin/dockerd") else None)
    if dockerd is None:
        raise AssertionError("no Docker engine answers and dockerd is not installed (Debian package docker.io)")
    if os.geteuid() != 0:
        raise AssertionError("no Docker engine answers, and starting dockerd needs root")
    os.makedirs(artifacts, exist_ok=True)
    logfile = open(os.path.join(artifacts, "dockerd.log"), "ab")
    log("starting dockerd (log: %s/dockerd.log); it keeps running after the tests" % artifacts)
    subprocess.Popen([dockerd], stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                     start_new_session=True)
    try:
        wait.wait_until("dockerd", lambda: os.path.exists("/var/run/docker.sock") and docker_answers(), 60,
                        interval=0.5)
    except wait.Timeout:
        raise AssertionError("dockerd did not answer within 60 s: see %s/dockerd.log" % artifacts) from None


def build_images(names, tag, artifacts, log=print):
    """Makes debian:bookworm-slim (pull, else debootstrap) and builds kurz/<name>:<tag> for each
    name, one after the other (the shared build stage compiles once). Returns (base_s, images_s)."""
    t0 = time.monotonic()
    log("making the base image debian:bookworm-slim ...")
    run([os.path.join(SCRIPTS, "base-image.sh")], timeout=900, capture=False)
    base_s = time.monotonic() - t0
    t0 = time.monotonic()
    log("building the images %s (the first compiles the code, the others reuse the build stage) ..."
        % " ".join(names))
    run([os.path.join(SCRIPTS, "build-images.sh"), *names], timeout=2400, capture=False,
        env={"KURZ_TAG": tag, "KURZ_BUILD_LOGS": artifacts})
    return base_s, time.monotonic() - t0
