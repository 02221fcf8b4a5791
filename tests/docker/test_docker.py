"""Docker tests: the images and the compose stacks of stage 1, end to end.

Run from anywhere:  python3 -m unittest -v tests/docker/test_docker.py   (ctest label `docker`)

Needs the Docker CLI, an engine (started here when none answers: `dockerd` in the background,
logging to test-artifacts/docker/dockerd.log, and left running), `docker compose` v2 or
`docker-compose` 1.29, and, where debian:bookworm-slim cannot be pulled, debootstrap and root.
It installs nothing: Debian packages docker.io docker-compose debootstrap.

What it does, with every request on 127.0.0.1 published ports (Docker picks free ones) and a
unique compose project per run, torn down on exit even on failure:
  * builds the base image and the images, and checks size (<= 40 MB), user, labels, no shell;
  * `docker run` of the monolith image alone: time to healthy, read-only root filesystem;
  * stage 1: up; smoke test (create, 302 without following it, stats, QR svg and png, UI page,
    /metrics, /health/ready); non-root, read-only, no capabilities; down;
  * stage 1 scaled to 2 behind HAProxy: links created through the balancer are 404 on the other
    replica (asserted and measured), and auto-generated codes collide across replicas (measured).
Figures go to stdout and to test-artifacts/docker/report.json.
Environment: KURZ_DOCKER_KEEP=1 leaves the stacks up for a look; KURZ_TAG (default dev).
"""
import atexit
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import unittest
import urllib.parse
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts", "docker")
ARTIFACTS = os.path.join(ROOT, "test-artifacts", "docker")
TAG = os.environ.get("KURZ_TAG", "dev")
MAX_IMAGE_BYTES = 40 * 1000 * 1000
# Targets of the links: never fetched (no redirect is followed), and unroutable anyway.
TARGET = "http://127.0.0.1:9/kurz-docker-test/"

REPORT = {}
_STACKS = []  # (stage, project) started and not yet taken down
_CONTAINERS = []  # ids from plain `docker run`


def log(msg):
    print("docker-test: " + msg, flush=True)


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
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def docker_answers():
    return subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=30).returncode == 0


def ensure_dockerd():
    """Starts dockerd in the background when no engine answers; waits (bounded) for its socket."""
    if docker_answers():
        return
    if "DOCKER_HOST" in os.environ:
        raise AssertionError("DOCKER_HOST=%s does not answer" % os.environ["DOCKER_HOST"])
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if os.path.exists("/usr/sbin/dockerd") else None)
    if dockerd is None:
        raise AssertionError("no Docker engine answers and dockerd is not installed (Debian package docker.io)")
    if os.geteuid() != 0:
        raise AssertionError("no Docker engine answers, and starting dockerd needs root")
    os.makedirs(ARTIFACTS, exist_ok=True)
    logfile = open(os.path.join(ARTIFACTS, "dockerd.log"), "ab")
    log("starting dockerd (log: test-artifacts/docker/dockerd.log); it keeps running after the tests")
    subprocess.Popen([dockerd], stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                     start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.path.exists("/var/run/docker.sock") and docker_answers():
            return
        time.sleep(0.5)
    raise AssertionError("dockerd did not answer within 60 s: see test-artifacts/docker/dockerd.log")


def stack(cmd, stage, project, *args, timeout=600, env=None):
    full_env = {"KURZ_PROJECT": project, "KURZ_HTTP_PORT": "", "KURZ_LB_STATS_PORT": "", "KURZ_TAG": TAG,
                "KURZ_BUILD_LOGS": ARTIFACTS}
    full_env.update(env or {})
    return run([os.path.join(SCRIPTS, "stack.sh"), cmd, stage, *args], timeout=timeout, env=full_env)


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


def request(base, method, path, body=None, headers=None, timeout=5):
    """One HTTP request on 127.0.0.1; redirects are never followed. Returns (status, headers, body)."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def wait_until(what, predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, http.client.HTTPException) as e:
            last = e
        time.sleep(interval)
    raise AssertionError("%s: not within %ss (last error: %s)" % (what, timeout, last))


def inspect(obj):
    return json.loads(run(["docker", "inspect", obj], timeout=30).stdout)[0]


def project_name(stage):
    return "kurzt%s%s" % (stage.replace("-", ""), uuid.uuid4().hex[:8])


def write_report():
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, "report.json"), "w") as f:
        json.dump(REPORT, f, indent=2, sort_keys=True)


def setUpModule():
    missing = [name for name in ("docker",) if shutil.which(name) is None]
    if missing or compose_command() is None:
        raise AssertionError("Docker tests need the Docker CLI and docker compose v2 or docker-compose 1.29; "
                             "install the Debian packages: docker.io docker-compose debootstrap")
    os.makedirs(ARTIFACTS, exist_ok=True)
    ensure_dockerd()
    REPORT["compose"] = " ".join(compose_command())
    t0 = time.monotonic()
    log("making the base image debian:bookworm-slim ...")
    run([os.path.join(SCRIPTS, "base-image.sh")], timeout=900, capture=False)
    REPORT["base_image_s"] = round(time.monotonic() - t0, 1)
    t0 = time.monotonic()
    log("building the stage 1 images ...")
    run([os.path.join(SCRIPTS, "build-images.sh"), "monolith", "haproxy"], timeout=2400, capture=False,
        env={"KURZ_TAG": TAG, "KURZ_BUILD_LOGS": ARTIFACTS})
    REPORT["images_build_s"] = round(time.monotonic() - t0, 1)
    log("base image %.1fs, images %.1fs" % (REPORT["base_image_s"], REPORT["images_build_s"]))


def tearDownModule():
    teardown_all()
    write_report()
    log("report: " + json.dumps(REPORT, sort_keys=True))


class Images(unittest.TestCase):
    def test_images_are_small_non_root_labelled_and_shell_free(self):
        for name in ("monolith", "haproxy"):
            image = "kurz/%s:%s" % (name, TAG)
            info = inspect(image)
            REPORT.setdefault("image_mb", {})[name] = round(info["Size"] / 1e6, 1)
            log("%s: %.1f MB" % (image, info["Size"] / 1e6))
            self.assertLessEqual(info["Size"], MAX_IMAGE_BYTES, image)
            config = info["Config"]
            self.assertEqual(config["User"], "10001:10001", image)
            self.assertTrue(config.get("Healthcheck", {}).get("Test"), image + " has no HEALTHCHECK")
            self.assertIn("/usr/local/bin/kurz-probe", config["Healthcheck"]["Test"])
            labels = config.get("Labels") or {}
            for key in ("title", "description", "version", "revision"):
                self.assertTrue(labels.get("org.opencontainers.image." + key), "%s: label %s" % (image, key))
            # No shell and no package manager in the runtime image.
            for tool in ("/bin/sh", "/usr/bin/apt-get", "/usr/bin/dpkg"):
                proc = run(["docker", "run", "--rm", "--entrypoint", tool, image, "--version"], timeout=60,
                           check=False)
                self.assertNotEqual(proc.returncode, 0, "%s has %s" % (image, tool))
        self.assertIn("8080/tcp", inspect("kurz/monolith:" + TAG)["Config"]["ExposedPorts"])
        self.assertIn("PORT=8080", inspect("kurz/monolith:" + TAG)["Config"]["Env"])

    def test_docker_run_to_healthy_with_read_only_rootfs(self):
        """`docker run` with the image's own HEALTHCHECK (every 5 s): the time to healthy."""
        t0 = time.monotonic()
        cid = run(["docker", "run", "-d", "--read-only", "--cap-drop", "ALL", "--security-opt",
                   "no-new-privileges:true", "-p", "127.0.0.1::8080", "kurz/monolith:" + TAG],
                  timeout=60).stdout.strip()
        _CONTAINERS.append(cid)
        port = run(["docker", "port", cid, "8080/tcp"], timeout=30).stdout.split()[0].rsplit(":", 1)[1]
        base = "http://127.0.0.1:" + port
        wait_until("first 200 on /health/live", lambda: request(base, "GET", "/health/live", timeout=1)[0] == 200,
                   30, interval=0.02)
        first_200 = time.monotonic() - t0
        wait_until("healthy", lambda: inspect(cid)["State"]["Health"]["Status"] == "healthy", 30, interval=0.1)
        healthy = time.monotonic() - t0
        REPORT["docker_run_first_200_s"] = round(first_200, 2)
        REPORT["docker_run_healthy_s"] = round(healthy, 2)
        log("docker run -> first 200: %.2fs, -> healthy: %.2fs (HEALTHCHECK interval 5s)" % (first_200, healthy))
        status, _, body = request(base, "POST", "/api/links", {"url": TARGET + "ro"})
        self.assertEqual(status, 201, body)  # serves with a read-only root filesystem
        run(["docker", "rm", "-f", cid], timeout=60)
        _CONTAINERS.remove(cid)


class Stage1(unittest.TestCase):
    def test_stage1_smoke(self):
        project = project_name("stage1")
        t0 = time.monotonic()
        _STACKS.append(("stage1", project))
        stack("up", "stage1", project, timeout=900)
        REPORT["stage1_up_healthy_s"] = round(time.monotonic() - t0, 1)
        base = stack("url", "stage1", project, timeout=60).stdout.strip().splitlines()[-1]
        self.assertTrue(base.startswith("http://127.0.0.1:"), base)
        log("stage1 up and healthy in %.1fs (incl. cached image builds) at %s" % (REPORT["stage1_up_healthy_s"], base))

        # Hardening of the running container.
        cid = self._container(project, "stage1")
        info = inspect(cid)
        self.assertEqual(info["State"]["Health"]["Status"], "healthy")
        self.assertTrue(info["HostConfig"]["ReadonlyRootfs"])
        self.assertIn("ALL", info["HostConfig"]["CapDrop"] or [])
        self.assertIn("no-new-privileges:true", info["HostConfig"]["SecurityOpt"] or [])
        uids = [line.split()[1] for line in
                run(["docker", "top", cid, "-o", "pid,uid"], timeout=30).stdout.splitlines()[1:] if line.strip()]
        self.assertTrue(uids and all(u == "10001" for u in uids), uids)

        # Smoke test through the published port.
        status, headers, body = request(base, "POST", "/api/links", {"url": TARGET + "smoke"})
        self.assertEqual(status, 201, body)
        link = json.loads(body)
        code = link["code"]
        self.assertTrue(headers.get("x-instance-id"))
        status, headers, _ = request(base, "GET", "/" + code)
        self.assertEqual(status, 302)
        self.assertEqual(headers.get("location"), TARGET + "smoke")

        def clicked():
            s, _, b = request(base, "GET", "/api/stats/" + code)
            return s == 200 and json.loads(b).get("total", 0) >= 1
        wait_until("stats count the click", clicked, 5)
        status, headers, body = request(base, "GET", "/qr/%s.svg" % code)
        self.assertEqual(status, 200)
        self.assertIn("image/svg+xml", headers.get("content-type", ""))
        self.assertIn(b"<svg", body[:400])
        status, headers, body = request(base, "GET", "/qr/%s.png" % code)
        self.assertEqual(status, 200)
        self.assertEqual(body[:8], b"\x89PNG\r\n\x1a\n")
        status, headers, body = request(base, "GET", "/")
        self.assertEqual(status, 200)
        self.assertIn("text/html", headers.get("content-type", ""))
        status, _, body = request(base, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"kurz_links_created_total", body)
        status, _, body = request(base, "GET", "/health/ready")
        self.assertEqual(status, 200, body)
        status, _, body = request(base, "GET", "/info")
        self.assertEqual(json.loads(body)["service"], "monolith")

        t0 = time.monotonic()
        stack("down", "stage1", project, timeout=120)
        _STACKS.remove(("stage1", project))
        REPORT["stage1_down_s"] = round(time.monotonic() - t0, 1)

    @staticmethod
    def _container(project, stage):
        ids = [i for i in stack("ps", stage, project, "-q", timeout=60).stdout.split() if len(i) >= 12]
        if not ids:
            raise AssertionError("no container in project " + project)
        return ids[0]


class Stage1Scaled(unittest.TestCase):
    LINKS = 40  # per kind (custom slug, generated code)
    LOOKUPS = 4  # per link

    def test_links_are_404_on_the_other_replica(self):
        project = project_name("stage1-scaled")
        t0 = time.monotonic()
        _STACKS.append(("stage1-scaled", project))
        stack("up", "stage1-scaled", project, timeout=900)
        REPORT["stage1_scaled_up_healthy_s"] = round(time.monotonic() - t0, 1)
        out = stack("url", "stage1-scaled", project, timeout=60).stdout.strip().splitlines()
        base = out[-1]
        self.assertTrue(base.startswith("http://127.0.0.1:"), base)

        # HAProxy has found both replicas through Docker's DNS and checked them.
        def two_backends():
            seen = set()
            for _ in range(6):
                s, h, _ = request(base, "GET", "/info")
                if s == 200:
                    seen.add(h.get("x-instance-id"))
            return len(seen) >= 2
        wait_until("both replicas get traffic through HAProxy", two_backends, 30, interval=0.5)

        run_id = uuid.uuid4().hex[:6]
        slugs, generated = [], []
        # Two separate rounds: round robin spreads each kind over both replicas.
        for i in range(self.LINKS):
            slug = "t%s-%d" % (run_id, i)
            s, _, b = request(base, "POST", "/api/links", {"url": TARGET + slug, "slug": slug})
            self.assertEqual(s, 201, b)
            slugs.append((slug, TARGET + slug))
        for i in range(self.LINKS):
            url = TARGET + "gen-%s-%d" % (run_id, i)
            s, _, b = request(base, "POST", "/api/links", {"url": url})
            self.assertEqual(s, 201, b)
            generated.append((json.loads(b)["code"], url))

        def lookups(links):
            counts = {"302": 0, "302_wrong_target": 0, "404": 0, "other": 0}
            instances = set()
            # Shuffled: in creation order, strict round robin would send each lookup to the very
            # replica that created the link (the same phase), and hide the lesson.
            rng = random.Random(20240601)
            for _ in range(self.LOOKUPS):
                for code, url in rng.sample(links, len(links)):
                    s, h, _ = request(base, "GET", "/" + code)
                    instances.add(h.get("x-instance-id"))
                    if s == 302:
                        counts["302" if h.get("location") == url else "302_wrong_target"] += 1
                    elif s == 404:
                        counts["404"] += 1
                    else:
                        counts["other"] += 1
            return counts, instances

        by_slug, instances = lookups(slugs)
        by_code, _ = lookups(generated)
        total = self.LINKS * self.LOOKUPS
        REPORT["stage1_scaled"] = {
            "replicas": len(instances), "links_per_kind": self.LINKS, "lookups_per_kind": total,
            "custom_slugs": by_slug, "generated_codes": by_code,
            "slug_lookups_404_pct": round(100.0 * by_slug["404"] / total, 1),
            "generated_lookups_wrong_or_404_pct":
                round(100.0 * (by_code["404"] + by_code["302_wrong_target"]) / total, 1),
        }
        log("stage1 x%d behind HAProxy: custom slugs: %.0f%% of %d lookups 404 (%s); generated codes: "
            "%.0f%% of lookups wrong target or 404 (%s)" % (
                len(instances), REPORT["stage1_scaled"]["slug_lookups_404_pct"], total, by_slug,
                REPORT["stage1_scaled"]["generated_lookups_wrong_or_404_pct"], by_code))
        self.assertGreaterEqual(len(instances), 2)
        self.assertEqual(by_slug["other"] + by_code["other"], 0)
        # The lesson: a link lives on the replica that created it.
        self.assertGreater(by_slug["404"], 0, "no 404: the replicas share state?")
        self.assertGreater(by_slug["302"], 0)
        self.assertGreater(by_code["404"] + by_code["302_wrong_target"], 0)

        t0 = time.monotonic()
        stack("down", "stage1-scaled", project, timeout=120)
        _STACKS.remove(("stage1-scaled", project))
        REPORT["stage1_scaled_down_s"] = round(time.monotonic() - t0, 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
