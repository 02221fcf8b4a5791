"""The workshop guide (docs/guide/) kept true: every block marked `<!-- run: KIND -->` is run, in
reading order, in the environment KIND (tests/guide/environments.py), and fails the test when it
exits non-zero or when its `<!-- expect -->` block no longer matches (tests/guide/guidedoc.py has
the rules). The markers are documented for writers in docs/guide/README.md.

Run:  cd tests/guide && KURZ_BIN_DIR=build/ci/services /usr/bin/python3 -m unittest -v test_guide
(ctest guide.blocks). KURZ_GUIDE_KINDS=monolith,stage2-x2 runs only those kinds (for writing);
KURZ_DOCKER_KEEP=1 leaves the stage 3 stack up; KURZ_GUIDE_SHOW=1 prints every block's output. Each kind's environment is started once and
stopped at the end of its blocks: one compose stack in all.
"""
import atexit
import glob
import os
import re
import signal
import subprocess
import sys
import time
import unittest

import guidedoc
import sourcelinks
from environments import KINDS, ROOT, log

GUIDE = os.path.join(ROOT, "docs", "guide")
BLOCK_TIMEOUT_S = 600  # a block may build an image (chapter 1) on a machine whose cache is cold
SETUP_TIMEOUT_S = 1200  # a cold machine builds the images first


def guide_files():
    return sorted(glob.glob(os.path.join(GUIDE, "*.md")))


def load_guide():
    blocks = []
    for path in guide_files():
        with open(path, encoding="utf-8") as f:
            blocks += guidedoc.parse(os.path.relpath(path, ROOT), f.read(), set(KINDS))
    return blocks


def run_block(block, env, timeout):
    """Runs the block with bash in the repository root; returns (exit code, raw output): None for
    a timeout. env.unsubstitute() turns the output into what the reader would have seen."""
    script = env.substitute(block.text)
    full_env = dict(os.environ, **env.extra_env)
    proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, (out or "") + "\n(timed out after %ss)" % timeout
    return proc.returncode, out


_ACTIVE = []


def _stop_all():
    while _ACTIVE:
        env = _ACTIVE.pop()  # popped first: a signal during stop() does not stop it twice
        try:
            env.stop()
        except Exception as e:  # teardown must go on for the others
            log("stopping %s failed: %s" % (env.kind, e))


atexit.register(_stop_all)
def _on_signal(signum, _frame):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # a second signal must not cut the teardown short
    _stop_all()
    sys.exit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


class MarkerRulesTest(unittest.TestCase):
    """The checker itself can fail: each broken rule is refused, each changed output is caught."""
    KNOWN = {"monolith", "stage3"}

    def parse(self, text):
        return guidedoc.parse("x.md", text, self.KNOWN)

    def test_unknown_kind_is_refused(self):
        with self.assertRaisesRegex(guidedoc.GuideError, "unknown kind `mesos`"):
            self.parse("<!-- run: mesos -->\n```sh\ntrue\n```\n")

    def test_a_command_block_needs_a_marker(self):
        with self.assertRaisesRegex(guidedoc.GuideError, "needs <!-- run"):
            self.parse("text\n\n```sh\ncurl localhost:8080\n```\n")
        self.assertEqual(len(self.parse("```text\nplain output\n```\n")), 1)

    def test_no_run_needs_a_reason_and_expect_needs_a_run_block(self):
        with self.assertRaisesRegex(guidedoc.GuideError, "no reason"):
            self.parse("<!-- no-run: -->\n```sh\ntrue\n```\n")
        with self.assertRaisesRegex(guidedoc.GuideError, "must follow a run block"):
            self.parse("<!-- no-run: long -->\n```sh\ntrue\n```\n<!-- expect -->\n```text\nx\n```\n")
        with self.assertRaisesRegex(guidedoc.GuideError, "not followed by a fenced block"):
            self.parse("<!-- run: monolith -->\nsome prose\n```sh\ntrue\n```\n")
        with self.assertRaisesRegex(guidedoc.GuideError, "only one of setup/teardown"):
            self.parse("<!-- run: stage3 later -->\n```sh\ntrue\n```\n")

    def test_blocks_carry_kind_role_and_expectation(self):
        blocks = self.parse("<!-- run: stage3 setup -->\n```sh\nup\n```\n\n<!-- expect -->\n"
                            "```text\nok\n```\n<!-- no-run: an hour long -->\n```sh\nlong\n```\n")
        self.assertEqual((blocks[0].kind, blocks[0].role, blocks[0].expect.text), ("stage3", "setup", "ok\n"))
        self.assertEqual(blocks[2].reason, "an hour long")

    def test_expectations_compare_the_stable_parts(self):
        want = "HTTP/1.1 302 Found\nLocation: https://mesos.apache.org/\nX-Instance-Id: ...\n...\n"
        have = "HTTP/1.1 302 Found\r\nLocation: https://mesos.apache.org/\r\nX-Instance-Id: kurz-1\r\n" \
               "X-Request-Id: 6f1c\r\nContent-Length: 0\r\n"
        self.assertIsNone(guidedoc.mismatch(want, have))
        self.assertIn("302 Found", guidedoc.mismatch(want, have.replace("302 Found", "404 Not Found")))
        self.assertIsNotNone(guidedoc.mismatch("a\nb\n", "a\nb\nc\n"))  # no `...`: nothing extra
        self.assertIsNone(guidedoc.mismatch("404: ... of 160\n", "404: 92 of 160\n"))
        self.assertIsNotNone(guidedoc.mismatch("404: ... of 160\n", "404: 92 of 161\n"))


class GuideLinksTest(unittest.TestCase):
    """Every relative link of the guide names a file that exists; a link to a line names its marker."""
    LINK = re.compile(r"\]\(([^)\s]+)\)")

    def test_links_resolve(self):
        bad = []
        for path in guide_files():
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for target in self.LINK.findall(text):
                if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                    continue
                file_part, _, anchor = target.partition("#")
                full = os.path.normpath(os.path.join(os.path.dirname(path), file_part))
                if not os.path.exists(full):
                    bad.append("%s: %s does not exist" % (os.path.basename(path), target))
                    continue
                m = re.match(r"^L(\d+)(?:-L(\d+))?$", anchor)
                if m and os.path.isfile(full):
                    with open(full, encoding="utf-8", errors="replace") as f:
                        n = sum(1 for _ in f)
                    last = int(m.group(2) or m.group(1))
                    if not 1 <= int(m.group(1)) <= last <= n:
                        bad.append("%s: %s: lines outside the file (%d lines)" % (os.path.basename(path), target, n))
        self.assertEqual(bad, [])

    def test_source_links_point_at_their_markers(self):
        """Every link to a line names what is there (sourcelinks.py): the line is its marker's."""
        bad = []
        for path in guide_files():
            with open(path, encoding="utf-8") as f:
                bad += sourcelinks.check(path, f.read())[0]
        self.assertEqual(bad, [])

    def test_source_link_checker_catches_drift(self):
        doc = os.path.join(ROOT, "docs", "guide", "x.md")
        target = "../../platform/src/server.cc"
        line = sourcelinks.marker_line(os.path.join(ROOT, "platform", "src", "server.cc"), "bool Server::shutdown() {")
        self.assertIsNotNone(line)
        good = '[s](%s#L%d "bool Server::shutdown() {")' % (target, line)
        self.assertEqual(sourcelinks.check(doc, good)[0], [])
        for text, message in (
                ('[s](%s#L%d "bool Server::shutdown() {")' % (target, line + 1), "is on line %d now" % line),
                ('[s](%s#L1-L5 "bool Server::shutdown() {")' % target, "not a range"),
                ("[s](%s#L%d)" % (target, line), "needs a marker"),
                ('[s](%s#L%d "void Server::gone()")' % (target, line), "no longer in the file")):
            problems = sourcelinks.check(doc, text)[0]
            self.assertEqual(len(problems), 1, text)
            self.assertIn(message, problems[0])
        fixed = sourcelinks.check(doc, '[s](%s#L3 "bool Server::shutdown() {")' % target, fix=True)[1]
        self.assertEqual(fixed, good)


class GuideBlocksTest(unittest.TestCase):
    def test_every_runnable_block(self):
        blocks = load_guide()
        self.assertTrue(blocks, "no blocks found in docs/guide")
        only = {k for k in os.environ.get("KURZ_GUIDE_KINDS", "").split(",") if k}
        by_kind = {}
        for b in blocks:
            if b.marker == "run":
                by_kind.setdefault(b.kind, []).append(b)
        no_run = [b for b in blocks if b.marker == "no-run"]
        for b in no_run:
            log("not run: %s: %s" % (b.where(), b.reason))
        counts = {}
        for kind, runs in by_kind.items():
            if only and kind not in only:
                log("skipped (KURZ_GUIDE_KINDS): %d %s blocks" % (len(runs), kind))
                continue
            cls = KINDS[kind]
            self._check_roles(kind, cls, runs)
            if cls.needs:
                for b in runs:
                    log("not runnable here: %s (%s): needs %s" % (b.where(), kind, cls.needs))
                continue
            counts[kind] = self._run_kind(cls, runs)
        for kind, (ran, expected, seconds) in sorted(counts.items()):
            log("%s: %d blocks run, %d expected outputs matched, %.1fs" % (kind, ran, expected, seconds))
        log("%d blocks marked no-run" % len(no_run))

    def _check_roles(self, kind, cls, runs):
        setups = [b for b in runs if b.role == "setup"]
        teardowns = [b for b in runs if b.role == "teardown"]
        self.assertLessEqual(len(setups), 1, "%s: more than one setup block" % kind)
        self.assertLessEqual(len(teardowns), 1, "%s: more than one teardown block" % kind)
        if cls.setup_block_runs:
            self.assertEqual(len(setups), 1, "%s needs exactly one `run: %s setup` block" % (kind, kind))
        if setups:
            self.assertIs(runs[0], setups[0], "%s: the setup block must come first (%s)" % (kind, setups[0].where()))
        if teardowns:
            self.assertIs(runs[-1], teardowns[0], "%s: the teardown block must come last" % kind)

    def _run_kind(self, cls, runs):
        t0 = time.monotonic()
        log("%s: starting its environment for %d blocks ..." % (cls.kind, len(runs)))
        env = cls()
        _ACTIVE.append(env)
        ran = expected = 0
        try:
            env.start()
            for b in runs:
                timeout = SETUP_TIMEOUT_S if b.role == "setup" else BLOCK_TIMEOUT_S
                tb = time.monotonic()
                code, raw = run_block(b, env, timeout)
                ran += 1
                if code == 0 and b.role == "setup":
                    env.after_setup()  # its addresses are known now, and rewritten in its output too
                out = env.unsubstitute(raw)
                if os.environ.get("KURZ_GUIDE_SHOW") == "1":
                    print("----- %s (exit %s)\n%s-----" % (b.where(), code, out), flush=True)
                log("  %s %s: exit %s in %.1fs" % (b.where(), b.role or "", code, time.monotonic() - tb))
                with self.subTest(block=b.where(), kind=cls.kind):
                    self.assertEqual(code, 0, "%s: the command failed; its output:\n%s" % (b.where(), out[-4000:]))
                    if b.expect is not None:
                        problem = guidedoc.mismatch(b.expect.text, out)
                        self.assertIsNone(problem, "%s: %s\n--- output (ports as the reader's) ---\n%s"
                                          % (b.where(), problem, out[-4000:]))
                        expected += 1
                if code != 0 and b.role == "setup":
                    break
        finally:
            if env in _ACTIVE:
                _ACTIVE.remove(env)
                env.stop()
        return ran, expected, time.monotonic() - t0


if __name__ == "__main__":
    unittest.main(verbosity=2)
