"""docker.stacks, the images: size (<= 40 MB), user, labels, health check, no shell; `docker run`
of the monolith image alone: time to healthy, read-only root filesystem.

Run (in tests/docker):  python3 -m unittest -v test_images   (ctest docker.stacks runs it first)
The shared fixtures (images built once per run, the report): stackfixture.py."""
import time
import unittest

from stackfixture import (REPORT, TAG, TARGET, finish, inspect, log, prepare, remove_container, request,
                          run, run_container, wait_until)
import dockerenv  # tests/support, on sys.path through stackfixture

MAX_IMAGE_BYTES = 40 * 1000 * 1000
# Prometheus (a 50 MB Go binary) is exempt from the size target.
SIZE_EXEMPT = {"prometheus"}


def setUpModule():
    prepare()


def tearDownModule():
    finish()


class Images(unittest.TestCase):
    def test_images_are_small_non_root_labelled_and_shell_free(self):
        for name in dockerenv.ALL_IMAGES:
            image = "kurz/%s:%s" % (name, TAG)
            info = inspect(image)
            REPORT.setdefault("image_mb", {})[name] = round(info["Size"] / 1e6, 1)
            log("%s: %.1f MB" % (image, info["Size"] / 1e6))
            if name not in SIZE_EXEMPT:
                self.assertLessEqual(info["Size"], MAX_IMAGE_BYTES, image)
            config = info["Config"]
            self.assertEqual(config["User"], "10001:10001", image)
            self.assertTrue(config.get("Healthcheck", {}).get("Test"), image + " has no HEALTHCHECK")
            probe = "/usr/local/bin/redis-cli" if name == "redis" else "/usr/local/bin/kurz-probe"
            self.assertIn(probe, config["Healthcheck"]["Test"])
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
        cid = run_container("--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true",
                            "-p", "127.0.0.1::8080", "kurz/monolith:" + TAG)
        port = run(["docker", "port", cid, "8080/tcp"], timeout=30).stdout.split()[0].rsplit(":", 1)[1]
        base = "http://127.0.0.1:" + port
        wait_until("first 200 on /health/live", lambda: request(base, "GET", "/health/live", timeout=1).status == 200,
                   30, interval=0.02)
        first_200 = time.monotonic() - t0
        wait_until("healthy", lambda: inspect(cid)["State"]["Health"]["Status"] == "healthy", 30, interval=0.1)
        healthy = time.monotonic() - t0
        REPORT["docker_run_first_200_s"] = round(first_200, 2)
        REPORT["docker_run_healthy_s"] = round(healthy, 2)
        log("docker run -> first 200: %.2fs, -> healthy: %.2fs (HEALTHCHECK interval 5s)" % (first_200, healthy))
        status, _, body = request(base, "POST", "/api/links", {"url": TARGET + "ro"})
        self.assertEqual(status, 201, body)  # serves with a read-only root filesystem
        remove_container(cid)


if __name__ == "__main__":
    unittest.main(verbosity=2)
