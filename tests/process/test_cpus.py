"""Container-aware sizing with the real kernel: the monolith started in a cgroup v1 CPU quota, and
with a narrowed affinity mask, says in its ready line and in /info how many HTTP reactors it runs
and why, and really runs that many threads. The cgroup tests need root and a writable cgroup v1
`cpu` controller (as on this project's CI host); elsewhere they skip and say why.
Binary from the environment: KURZ_MONOLITH."""
import json
import os
import time
import unittest
import uuid

from kurz_process import Service

MONOLITH = os.environ["KURZ_MONOLITH"]
AFFINITY = len(os.sched_getaffinity(0))


def plural(n):
    return "%d CPU%s" % (n, "" if n == 1 else "s")


def v1_cpu_mount():
    """(mount point, why not) of a writable cgroup v1 hierarchy with the cpu controller."""
    if os.geteuid() != 0:
        return None, "needs root to create a cgroup"
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError as error:
        return None, "no /proc/self/mountinfo: %s" % error
    for line in lines:
        fields = line.split()
        if "-" not in fields[6:]:
            continue
        dash = fields.index("-", 6)
        if fields[dash + 1] != "cgroup" or "cpu" not in fields[dash + 3].split(","):
            continue
        point = fields[4].replace("\\040", " ")
        if fields[3] != "/":
            return None, "the cpu hierarchy is mounted from %s, not its root" % fields[3]
        if not os.access(os.path.join(point, "cgroup.procs"), os.W_OK):
            return None, "%s is not writable" % point
        return point, None
    return None, "no cgroup v1 cpu controller mounted (cgroup v2 host?)"


class Cgroup:
    """A fresh cgroup under the v1 cpu controller, removed on close (after its processes)."""

    def __init__(self, mount, quota_us, period_us=100000):
        self.path = os.path.join(mount, "kurz-test-%s" % uuid.uuid4().hex[:12])
        os.mkdir(self.path)
        self.name = "/" + os.path.basename(self.path)
        with open(os.path.join(self.path, "cpu.cfs_period_us"), "w") as f:
            f.write(str(period_us))
        with open(os.path.join(self.path, "cpu.cfs_quota_us"), "w") as f:
            f.write(str(quota_us))

    def join(self):
        """For Service(preexec=...): moves the child into the cgroup before it execs."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def close(self):
        deadline = time.monotonic() + 5
        while True:
            try:
                os.rmdir(self.path)
                return
            except OSError:  # EBUSY while an exited process is still being reaped
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def threads_of(service):
    return len(os.listdir("/proc/%d/task" % service.proc.pid))


class CpuSizingTest(unittest.TestCase):
    def start(self, env=None, preexec=None):
        service = Service(MONOLITH, dict({"ACCESS_LOG": "false"}, **(env or {})), preexec=preexec)
        self.addCleanup(service.kill)
        status, _, body = service.get("/info")
        self.assertEqual(status, 200)
        info = json.loads(body)
        self.assertEqual(info["service"], "monolith")  # the older fields are still there
        ready = service.ready_line
        self.assertEqual(ready["http_threads"], info["threads"]["http"])
        self.assertEqual(ready["http_threads_source"], info["threads"]["source"])
        return service, info["threads"]

    def cgroup(self, quota_us, period_us=100000):
        mount, why = v1_cpu_mount()
        if mount is None:
            self.skipTest("real cgroup quota test: " + why)
        group = Cgroup(mount, quota_us, period_us)
        self.addCleanup(group.close)
        return group

    def test_quarter_cpu_quota_runs_one_reactor(self):
        group = self.cgroup(25000)
        service, threads = self.start(preexec=group.join)
        with open("/proc/%d/cgroup" % service.proc.pid) as f:
            self.assertIn(":" + group.name + "\n", f.read())
        self.assertEqual(threads["http"], 1)
        self.assertEqual(threads["source"], "cgroup v1 quota 25000/100000 (0.25 CPU), affinity "
                         + plural(AFFINITY))
        one = threads_of(service)

        # The same binary without a quota runs one reactor per CPU of its affinity mask: on this
        # 2-core machine two, and one OS thread more for each extra reactor.
        unlimited = self.cgroup(-1)
        service, threads = self.start(preexec=unlimited.join)
        self.assertEqual(threads["http"], AFFINITY)
        self.assertEqual(threads["source"], "affinity %s, no cgroup CPU quota" % plural(AFFINITY))
        self.assertEqual(threads_of(service) - one, AFFINITY - 1)

    def test_fractional_quota_rounds_up_and_is_capped_by_affinity(self):
        group = self.cgroup(150000)  # 1.5 CPU
        _, threads = self.start(preexec=group.join)
        self.assertEqual(threads["http"], min(2, AFFINITY))
        self.assertIn("cgroup v1 quota 150000/100000 (1.5 CPU)", threads["source"])

        group = self.cgroup(400000, 50000)  # 8 CPUs: the affinity mask decides
        _, threads = self.start(preexec=group.join)
        self.assertEqual(threads["http"], min(8, AFFINITY))

    def test_quota_on_a_parent_cgroup_counts(self):
        parent = self.cgroup(50000)
        child = os.path.join(parent.path, "worker")
        os.mkdir(child)
        self.addCleanup(os.rmdir, child)  # runs before the parent's close

        def join():
            with open(os.path.join(child, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

        _, threads = self.start(preexec=join)
        self.assertEqual(threads["http"], 1)
        self.assertIn("(0.5 CPU, on a parent cgroup)", threads["source"])

    def test_http_threads_overrides_the_quota(self):
        group = self.cgroup(25000)
        _, threads = self.start({"HTTP_THREADS": "3"}, preexec=group.join)
        self.assertEqual(threads, {"http": 3, "source": "HTTP_THREADS"})

    def test_marathon_cpus_without_a_quota(self):
        """Mesos without --cgroups_enable_cfs gives shares, not a quota: Marathon's variable."""
        _, threads = self.start({"MARATHON_APP_RESOURCE_CPUS": "0.5"})
        self.assertEqual(threads["http"], 1)
        self.assertIn("Marathon cpus 0.5", threads["source"])

    def test_affinity_of_one_cpu_runs_one_reactor(self):
        """taskset's way: no root needed."""
        cpu = min(os.sched_getaffinity(0))
        _, threads = self.start(preexec=lambda: os.sched_setaffinity(0, {cpu}))
        self.assertEqual(threads["http"], 1)
        self.assertTrue(threads["source"].startswith("affinity 1 CPU"), threads["source"])


if __name__ == "__main__":
    unittest.main()
