"""The state of the Marathon stand-in (NOT Marathon): apps with their versions and tasks, and the
deployments that move tasks towards the apps' definitions, step by step, one tick at a time.

Modelled on shared/reference/marathon/RUNTIME.md and examples/ (Marathon 1.5-1.10):
- A task goes TASK_STAGING -> TASK_RUNNING -> healthy (apps with health checks) -> ready (apps with
  readiness checks), one state per tick. Tasks whose image contains a "hang" pattern stay unhealthy;
  "fail" tasks end TASK_FAILED while staging (recorded as the app's lastTaskFailure) and are
  relaunched, like Marathon does with its backoff. Tasks whose REDIS_URL names a Mesos-DNS name
  that no app has get healthy (live) but never ready, as kurz does when Redis cannot be found.
- A deployment is a list of steps of actions (StopApplication, StartApplication, ScaleApplication,
  RestartApplication); a step is done when each of its apps has its target count of tasks at the
  target version, all healthy and ready. A restart replaces tasks within the app's upgradeStrategy
  (minimumHealthCapacity / maximumOverCapacity, with Marathon's one-over-capacity rule when they
  leave no room). Group steps follow the apps' dependencies.
- Every deployment remembers the apps as they were, so DELETE /v2/deployments/{id} can start the
  reverting deployment. A deployment holding an app locks it (409) until it is gone.
All methods are called with `World.lock` held.
"""
import copy
import datetime
import math
import threading
import urllib.parse
import uuid

from kurz_marathon import definitions

ACTIONS_ORDER = ("StopApplication", "StartApplication")


class Task:
    def __init__(self, app_id, version, behaviour, host, port):
        self.id = "%s.instance-%s._app.1" % (app_id.strip("/").replace("/", "_"), uuid.uuid4())
        self.app_id, self.version, self.behaviour = app_id, version, behaviour
        self.host, self.port = host, port
        self.state, self.healthy, self.ready = "TASK_STAGING", False, False
        self.staged_at = self.started_at = None
        self.real = None  # a standin_docker.RealTask when the stand-in runs real containers
        self.failure_message = "Container exited with status 1 (stand-in: the image matches a fail pattern)"

    def ok(self, app):
        return (self.state == "TASK_RUNNING" and (self.healthy or not app.definition.get("healthChecks"))
                and (self.ready or not app.definition.get("readinessChecks")))

    def to_json(self, app):
        out = {"id": self.id, "appId": self.app_id, "host": self.host, "ports": [self.port],
               "slaveId": "standin-agent-" + self.host[-1], "state": self.state,
               "stagedAt": self.staged_at, "startedAt": self.started_at, "version": self.version}
        if app.definition.get("healthChecks") and self.state == "TASK_RUNNING":
            out["healthCheckResults"] = [{"alive": self.healthy, "consecutiveFailures": 0 if self.healthy else 1,
                                          "firstSuccess": self.started_at if self.healthy else None,
                                          "instanceId": self.id.rsplit("._app", 1)[0],
                                          "lastSuccess": self.started_at if self.healthy else None,
                                          "lastFailure": None, "lastFailureCause": None}]
        return out


class App:
    def __init__(self, definition, version):
        self.definition, self.version = definition, version
        self.version_info = {"lastScalingAt": version, "lastConfigChangeAt": version}
        self.versions = {version: copy.deepcopy(definition)}
        self.tasks, self.last_failure = [], None

    @property
    def id(self):
        return self.definition["id"]

    def snapshot(self):
        return copy.deepcopy((self.definition, self.version, self.version_info))

    def alive(self):
        return [t for t in self.tasks if t.state in ("TASK_STAGING", "TASK_RUNNING")]

    def image(self):
        return ((self.definition.get("container") or {}).get("docker") or {}).get("image", "")


class Deployment:
    def __init__(self, dep_id, version, steps, originals, hold=False):
        self.id, self.version, self.steps, self.originals = dep_id, version, steps, originals
        self.current, self.hold = 0, hold

    @property
    def affected(self):
        return sorted({a["app"] for step in self.steps for a in step})


class World:
    def __init__(self, hang=(), fail=()):
        self.lock = threading.RLock()
        self.apps, self.deployments, self.stopping = {}, {}, []
        self.hang, self.fail = list(hang), list(fail)
        self.hold = False  # scenario: every deployment started from now on never progresses
        self.driver = None  # standin_docker.Driver: tasks are real containers (--docker)
        self._last_ts, self._hosts = None, 0

    # -- time and names
    def timestamp(self):
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        if self._last_ts and now <= self._last_ts:
            now = self._last_ts + datetime.timedelta(milliseconds=1)
        self._last_ts = now
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)

    def behaviour(self, app):
        image = app.image()
        if any(p and p in image for p in self.fail):
            return "fail"
        if any(p and p in image for p in self.hang):
            return "hang"
        if self.unresolvable_redis(app):
            return "unready"
        return "ok"

    def unresolvable_redis(self, app):
        """Mesos-DNS as the tasks see it: REDIS_URL naming a *.marathon.mesos host that is no app's
        name does not resolve, so the service runs (live) but never gets ready (503)."""
        url = (app.definition.get("env") or {}).get("REDIS_URL")
        try:
            host = urllib.parse.urlsplit(url).hostname if isinstance(url, str) else None
        except ValueError:
            return False
        return bool(host and host.endswith(".marathon.mesos")
                    and host not in {definitions.mesos_dns_name(a) for a in self.apps})

    def launch(self, app, version):
        self._hosts += 1
        task = Task(app.id, version, self.behaviour(app), "agent-%d.standin" % (self._hosts % 3 + 1),
                    31000 + self._hosts % 1000)
        task.staged_at = self.timestamp()
        if self.driver is not None:
            try:
                task.real = self.driver.launch(app.definition, version)
                task.host, task.port = self.driver.gateway, task.real.host_port
                task.id = task.real.task.task_id  # the container's MESOS_TASK_ID
            except Exception as e:  # a definition the executor cannot run: the task fails
                task.behaviour, task.failure_message = "fail", "stand-in --docker: %s" % e
        app.tasks.append(task)

    # -- deployments
    def locking(self, app_ids):
        return [d for d in self.deployments.values() if set(d.affected) & set(app_ids)]

    def start(self, steps, originals, hold=False, dep_id=None, version=None):
        dep = Deployment(dep_id or str(uuid.uuid4()), version or self.timestamp(),
                         [s for s in steps if s], originals, hold or self.hold)
        self.deployments[dep.id] = dep
        return dep

    def deployments_json(self):
        out = []
        for d in self.deployments.values():
            current = d.steps[d.current] if d.current < len(d.steps) else []
            actions = []
            for a in current:
                item = {"action": a["action"], "app": a["app"]}
                app = self.apps.get(a["app"])
                if app and app.definition.get("readinessChecks") and a["action"] != "StopApplication":
                    item["readinessCheckResults"] = [
                        {"taskId": t.id, "name": app.definition["readinessChecks"][0].get("name", "readinessCheck"),
                         "ready": t.ready, "lastResponse": {"status": 200 if t.ready else 503,
                                                            "contentType": "application/json", "body": "{}"}}
                        for t in app.alive() if t.state == "TASK_RUNNING" and t.version == a.get("version", app.version)]
                actions.append(item)
            out.append({"id": d.id, "version": d.version, "affectedApps": d.affected, "affectedPods": [],
                        "steps": [{"actions": [{"action": a["action"], "app": a["app"]} for a in s]}
                                  for s in d.steps],
                        "currentActions": actions, "currentStep": min(d.current + 1, len(d.steps)),
                        "totalSteps": len(d.steps)})
        return out

    def revert(self, dep):
        """The reverting deployment of a cancelled one: every app back as it was."""
        stops, starts, restarts = [], [], []
        for app_id, snap in sorted(dep.originals.items()):
            app = self.apps.get(app_id)
            if snap is None:
                if app:
                    self.stopping.append(self.apps.pop(app_id))
                    stops.append({"action": "StopApplication", "app": app_id})
                continue
            definition, version, info = copy.deepcopy(snap)
            if app is None:
                app = self.apps[app_id] = App(definition, version)
                starts.append({"action": "ScaleApplication", "app": app_id})
            else:
                app.definition, app.version, app.version_info = definition, version, info
                restarts.append({"action": "RestartApplication", "app": app_id, "version": version})
        originals = {a: None for a in dep.originals}
        return self.start([stops, starts, restarts], originals)

    # -- one tick
    def tick(self):
        for app in list(self.apps.values()) + self.stopping:
            for task in list(app.tasks):
                self._advance(app, task)
        self.stopping = [a for a in self.stopping if a.tasks]
        for dep in list(self.deployments.values()):
            if dep.hold or dep.id not in self.deployments:
                continue
            if dep.current < len(dep.steps) and all(self._act(a) for a in dep.steps[dep.current]):
                dep.current += 1
            if dep.current >= len(dep.steps):
                del self.deployments[dep.id]
        busy = {a for d in self.deployments.values() for a in d.affected}
        for app in self.apps.values():
            if app.id not in busy:
                while len(app.alive()) < app.definition.get("instances", 1):
                    self.launch(app, app.version)

    def _fail(self, app, task, message):
        app.tasks.remove(task)
        app.last_failure = {"appId": app.id, "host": task.host, "message": message,
                            "state": "TASK_FAILED", "taskId": task.id, "timestamp": self.timestamp(),
                            "version": task.version, "slaveId": "standin-agent"}

    def _advance_real(self, app, task):
        real = task.real
        if task.state == "TASK_KILLING":
            if real.gone:
                app.tasks.remove(task)
        elif real.failure:
            self._fail(app, task, real.failure)
            real.kill()
        elif task.state == "TASK_STAGING" and real.pid:
            task.state, task.started_at = "TASK_RUNNING", self.timestamp()
        elif task.state == "TASK_RUNNING":
            task.healthy, task.ready = real.healthy, real.ready and real.healthy

    def _advance(self, app, task):
        if task.real is not None:
            return self._advance_real(app, task)
        if task.state == "TASK_KILLING":
            app.tasks.remove(task)
        elif task.state == "TASK_STAGING":
            if task.behaviour == "fail":
                self._fail(app, task, task.failure_message)
            else:
                task.state, task.started_at = "TASK_RUNNING", self.timestamp()
        elif task.state == "TASK_RUNNING" and task.behaviour in ("ok", "unready"):
            if not task.healthy and app.definition.get("healthChecks"):
                task.healthy = True
            elif not task.ready and task.behaviour == "ok":
                task.healthy, task.ready = True, True

    def _kill(self, task):
        task.state = "TASK_KILLING"
        if task.real is not None:
            task.real.kill()

    def _act(self, action):
        kind, app_id = action["action"], action["app"]
        if kind == "StopApplication":
            app = next((a for a in self.stopping if a.id == app_id), None)
            for t in app.alive() if app else []:
                self._kill(t)
            return app is None or not app.tasks
        app = self.apps.get(app_id)
        if app is None or kind == "StartApplication":
            return True
        target = app.definition.get("instances", 1)
        if kind == "ScaleApplication":
            alive = app.alive()
            for t in sorted(alive, key=lambda t: (t.ok(app), t.staged_at), reverse=False)[:max(0, len(alive) - target)]:
                self._kill(t)
            for _ in range(target - len(alive)):
                self.launch(app, app.version)
            alive = app.alive()
            return len(alive) == target and all(t.ok(app) for t in alive) and not self._killing(app)
        return self._restart(app, action.get("version", app.version), target)

    def _restart(self, app, version, n):
        strategy = app.definition.get("upgradeStrategy") or {}
        min_healthy = math.ceil(n * strategy.get("minimumHealthCapacity", 1))
        max_capacity = math.floor(n * (1 + strategy.get("maximumOverCapacity", 1)))
        resident = any("persistent" in v for v in (app.definition.get("container") or {}).get("volumes") or [])
        if max_capacity <= min_healthy:
            if resident:
                min_healthy = max_capacity - 1
            else:
                max_capacity = min_healthy + 1
        alive = app.alive()
        old = [t for t in alive if t.version != version]
        new = [t for t in alive if t.version == version]
        ok = sum(1 for t in alive if t.ok(app))
        for t in sorted(old, key=lambda t: t.ok(app)):
            if not t.ok(app):
                self._kill(t)
            elif ok - 1 >= min_healthy:
                self._kill(t)
                ok -= 1
        total = len([t for t in alive if t.state != "TASK_KILLING"])
        while total < max_capacity and len(new) < n:
            self.launch(app, version)
            new.append(app.tasks[-1])
            total += 1
        alive = app.alive()
        return (not [t for t in alive if t.version != version] and len(alive) == n
                and all(t.ok(app) for t in alive) and not self._killing(app))

    @staticmethod
    def _killing(app):
        """A step ends when its killed tasks are gone (TASK_KILLED), not when the kill was sent."""
        return any(t.state == "TASK_KILLING" for t in app.tasks)
