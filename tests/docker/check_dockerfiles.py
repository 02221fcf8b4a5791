"""Static checks of docker/, the compose files and the HAProxy configs (no Docker engine needed).

  * every docker/*.Dockerfile starts with the SAME build stage (so Docker's layer cache compiles
    the code once for all images), installs the build packages of scripts/lib.sh (less the
    test-only ones), and has a non-root USER, a HEALTHCHECK with kurz-probe, OCI labels and an
    ENTRYPOINT;
  * every service Dockerfile EXPOSEs 8080 with ENV PORT=8080;
  * every compose file: format 2.4, read-only root filesystems, cap_drop ALL, no-new-privileges,
    cpus and mem_limit, a healthcheck, ports published on 127.0.0.1 only, kurz images buildable;
  * `haproxy -c` accepts common.cfg with each stage file (skipped when haproxy is not installed).
Run: python3 -m unittest -v tests/docker/check_dockerfiles.py
"""
import glob
import os
import re
import shutil
import subprocess
import unittest

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOCKER = os.path.join(ROOT, "docker")
BUILD_STAGE = re.compile(r"^# ---- build \(shared\).*?^# ---- end of the shared build stage.*?$", re.S | re.M)
TEST_ONLY_PACKAGES = {"libgtest-dev", "libgmock-dev", "libbenchmark-dev"}


def dockerfiles():
    return sorted(glob.glob(os.path.join(DOCKER, "*.Dockerfile")))


def read(path):
    with open(path) as f:
        return f.read()


def compose_files():
    return sorted(glob.glob(os.path.join(ROOT, "docker-compose*.yml")))


class Dockerfiles(unittest.TestCase):
    def test_there_are_dockerfiles(self):
        names = [os.path.basename(p) for p in dockerfiles()]
        self.assertIn("monolith.Dockerfile", names)
        self.assertIn("haproxy.Dockerfile", names)

    def test_build_stage_is_identical_everywhere(self):
        stages = {}
        for path in dockerfiles():
            m = BUILD_STAGE.search(read(path))
            self.assertIsNotNone(m, "%s: no shared build stage between the marker comments" % path)
            stages[os.path.basename(path)] = m.group(0)
        reference = stages["monolith.Dockerfile"]
        self.assertIn("FROM debian:bookworm-slim AS build", reference)
        self.assertIn("cmake --preset release", reference)
        self.assertIn("cmake --build --preset release", reference)
        for name, stage in stages.items():
            self.assertEqual(stage, reference, "%s: the build stage differs from monolith.Dockerfile's" % name)

    def test_build_stage_installs_the_build_packages_of_lib_sh(self):
        lib = read(os.path.join(ROOT, "scripts", "lib.sh"))
        m = re.search(r"KURZ_BUILD_PACKAGES=\((.*?)\)", lib, re.S)
        self.assertIsNotNone(m)
        wanted = set(m.group(1).split()) - TEST_ONLY_PACKAGES
        stage = BUILD_STAGE.search(read(os.path.join(DOCKER, "monolith.Dockerfile"))).group(0)
        install = re.search(r"apt-get install -y --no-install-recommends(.*?)&&", stage, re.S).group(1)
        installed = set(install.replace("\\", " ").split())
        self.assertEqual(wanted - installed, set(), "build packages of scripts/lib.sh missing in the build stage")

    def test_runtime_stage(self):
        for path in dockerfiles():
            text = read(path)
            final = text[text.rindex("\nFROM "):]
            name = os.path.basename(path)
            self.assertRegex(final, r"^\nFROM scratch", name)
            self.assertRegex(final, r"\nUSER 10001:10001\n", name)
            self.assertRegex(final, r"\nHEALTHCHECK [^\n]*\\\n\s*CMD \[\"/usr/local/bin/kurz-probe\"", name)
            self.assertIn("\nENTRYPOINT [", final, name)
            for label in ("title", "description", "version", "revision", "source"):
                self.assertIn("org.opencontainers.image.%s=" % label, final, name)
            if name != "haproxy.Dockerfile":
                self.assertIn("\nEXPOSE 8080\n", final, name)
                self.assertIn("\nENV PORT=8080\n", final, name)
                self.assertIn("http://127.0.0.1:8080/health/live", final, name)
                service = name[:-len(".Dockerfile")]
                self.assertIn('ENTRYPOINT ["/usr/local/bin/kurz-%s"]' % service, final, name)

    def test_dockerignore_keeps_build_trees_out(self):
        lines = read(os.path.join(ROOT, ".dockerignore")).split()
        self.assertEqual(lines[lines.index("*")], "*")
        for needed in ("!CMakeLists.txt", "!CMakePresets.json", "!cmake/", "!health/", "!platform/",
                       "!services/", "!docker/"):
            self.assertIn(needed, lines)


class ComposeFiles(unittest.TestCase):
    def test_compose_files(self):
        files = compose_files()
        self.assertTrue(any(f.endswith("docker-compose.stage1.yml") for f in files))
        for path in files:
            name = os.path.basename(path)
            doc = yaml.safe_load(read(path))
            self.assertEqual(str(doc.get("version")), "2.4", name)
            for svc, spec in doc["services"].items():
                where = "%s: %s" % (name, svc)
                self.assertIs(spec.get("read_only"), True, where)
                self.assertIn("ALL", spec.get("cap_drop", []), where)
                self.assertIn("no-new-privileges:true", spec.get("security_opt", []), where)
                self.assertIn("cpus", spec, where)
                self.assertIn("mem_limit", spec, where)
                self.assertIn("healthcheck", spec, where)
                for port in spec.get("ports", []):
                    self.assertTrue(str(port).startswith("127.0.0.1:"), "%s: %s not on 127.0.0.1" % (where, port))
                image = spec.get("image", "")
                if image.startswith("kurz/"):
                    dockerfile = spec["build"]["dockerfile"]
                    self.assertTrue(os.path.exists(os.path.join(ROOT, dockerfile)), where)
                for dep, cond in (spec.get("depends_on") or {}).items():
                    self.assertEqual(cond, {"condition": "service_healthy"}, where)

    def test_docker_compose_accepts_them(self):
        exe = shutil.which("docker-compose")
        if exe is None:
            self.skipTest("docker-compose is not installed")
        for path in compose_files():
            proc = subprocess.run([exe, "-f", path, "config", "-q"], cwd=ROOT, capture_output=True, text=True,
                                  timeout=60)
            self.assertEqual(proc.returncode, 0, "%s: %s" % (path, proc.stderr))


class HAProxyConfigs(unittest.TestCase):
    def test_haproxy_accepts_every_stage(self):
        exe = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
        if exe is None:
            self.skipTest("haproxy is not installed (Debian package haproxy)")
        common = os.path.join(DOCKER, "haproxy", "common.cfg")
        stages = [p for p in sorted(glob.glob(os.path.join(DOCKER, "haproxy", "*.cfg"))) if p != common]
        self.assertTrue(stages)
        for stage in stages:
            proc = subprocess.run([exe, "-c", "-f", common, "-f", stage], capture_output=True, text=True,
                                  timeout=60)
            self.assertEqual(proc.returncode, 0, "%s: %s%s" % (stage, proc.stdout, proc.stderr))


if __name__ == "__main__":
    unittest.main(verbosity=2)
