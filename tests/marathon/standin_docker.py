"""Docker-backed tasks for the Marathon stand-in (`standin.py --docker`; still NOT Marathon): each task
is a real container, started the way the Mesos Docker executor starts it (kurz_marathon.executor,
the contract harness's `docker run`), health-checked the way the executor checks it (in the
container's network namespace) and readiness-checked the way Marathon does (the agent's host port,
kurz_marathon.probes); a kill is `docker stop -t <taskKillGracePeriodSeconds>`. The stand-in's
simulated task states are replaced by what the container does. The images are never pulled: deploy
with the local ones (`marathon/deploy deploy --registry "" --tag dev FILE`).
"""
import shutil
import sys
import threading
import time
import types

from kurz_marathon import definitions, executor, harness, probes


class RealTask(threading.Thread):
    """One container and its checks. `pid`, `healthy`, `ready`, `failure`, `gone` are read by the
    stand-in's tick under its lock; they only ever change from None/False to a value."""

    def __init__(self, driver, definition, version):
        super().__init__(daemon=True)
        self.driver, self.definition, self.version = driver, definition, version
        self.stop_checks = threading.Event()
        self.pid = self.failure = None
        self.healthy = self.ready = self.gone = False
        self.task = executor.Task(definition, driver.workdir, driver.gateway, driver.hosts())
        self.host_port = self.task.host_ports[0] if self.task.host_ports else 0

    def run(self):
        run = types.SimpleNamespace(task=self.task, app=self.definition)
        try:
            specs = harness.health_checks(run)
            ready = harness.readiness_check(run)
            self.task.start(self.version, self.driver.log)
        except executor.ContractError as e:
            self.failure = str(e)
            return
        pid = self.task.container_pid(timeout_s=60)
        if pid is None:
            self.task.exited()
            self.failure = harness.exit_reason(self.task)
            return
        self.pid = pid
        checkers = [probes.HealthChecker(spec, pid, port, self.task.started_at, self.stop_checks)
                    for spec, port in specs]
        readiness = (probes.ReadinessChecker(ready[0], self.driver.gateway, ready[1], self.task.started_at,
                                             self.stop_checks) if ready else None)
        for c in checkers + ([readiness] if readiness else []):
            c.start()
        while not self.stop_checks.wait(0.1):
            if self.task.exited():
                self.failure = harness.exit_reason(self.task)
                return
            killed = [c.killed for c in checkers if c.killed]
            if killed:
                self.failure = killed[0]
                return
            self.healthy = self.healthy or all(c.healthy_at is not None for c in checkers)
            self.ready = self.ready or readiness is None or readiness.ready_at is not None

    def kill(self):
        """docker stop -t <grace>, then removes the container (in the background)."""
        def stop():
            self.stop_checks.set()
            try:
                if self.task.proc is not None:
                    self.task.stop()
            finally:
                self.task.remove()
                self.gone = True
        threading.Thread(target=stop, daemon=True).start()


class Driver:
    """Starts RealTasks for the stand-in's World; `close()` removes every container."""

    def __init__(self, world, log=None):
        self.world = world
        self.log = log or (lambda line: print("standin: " + line, file=sys.stderr, flush=True))
        self.gateway = executor.docker_gateway()
        self.workdir = executor.make_workdir()

    def hosts(self):
        """The Mesos-DNS names of every app, all resolving to the one agent (the docker gateway)."""
        return sorted(definitions.mesos_dns_name(a) for a in self.world.apps)

    def launch(self, definition, version):
        real = RealTask(self, definition, version)
        real.start()
        return real

    def close(self):
        self.log("removing every task's container (%d)" % len(executor._live))
        for error in executor.remove_all():
            self.log("cleanup: " + error)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(t.is_alive() for t in threading.enumerate()
                                                  if isinstance(t, RealTask)):
            time.sleep(0.1)
        shutil.rmtree(self.workdir, ignore_errors=True)
