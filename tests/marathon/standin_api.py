"""The routes of the Marathon stand-in (NOT Marathon; see standin.py for the endpoint list): each turns
a request into a change of the World (standin_world.py) and a reply shaped like Marathon's. The
stand-in's own control endpoints (/_standin/...) are in standin_control.py."""
import copy
import json

import standin_control
from kurz_marathon import definitions, submission
from standin_world import App

LOCKED = ("App is locked by one or more deployments. Override with the option '?force=true'. "
          "View details at '/v2/deployments/<DEPLOYMENT_ID>'.")
STATUS_FIELDS = ("version", "versionInfo", "tasks", "tasksStaged", "tasksRunning", "tasksHealthy",
                 "tasksUnhealthy", "deployments", "lastTaskFailure", "readinessCheckResults")


class Reply:
    def __init__(self, status, body=None, headers=None):
        self.status, self.body, self.headers = status, body, headers or {}


def not_found(app_id):
    return Reply(404, {"message": "App '%s' does not exist" % app_id})


def invalid(details):
    return Reply(422, {"message": "Object is not valid", "details": details})


def normalized(app, app_id):
    """The definition as stored: the given fields without Marathon's status fields."""
    out = {k: v for k, v in copy.deepcopy(app).items() if k not in STATUS_FIELDS}
    out["id"] = app_id
    out.setdefault("instances", 1)
    return out


def levels(apps):
    """{app id: dependency depth} (0: depends on nothing here); None on a cycle."""
    deps = {}
    for app_id, app in apps.items():
        parent = app_id.rsplit("/", 1)[0] or "/"
        targets = set()
        for d in app.get("dependencies") or []:
            d = definitions.absolute_id(d, parent)
            targets |= {a for a in apps if a == d or a.startswith(d.rstrip("/") + "/")}
        deps[app_id] = targets - {app_id}
    depth = {}

    def visit(a, seen):
        if a in seen:
            raise ValueError(a)
        if a not in depth:
            depth[a] = 1 + max([visit(b, seen | {a}) for b in deps[a]], default=-1)
        return depth[a]

    try:
        for a in apps:
            visit(a, frozenset())
    except ValueError:
        return None
    return depth


class Api:
    def __init__(self, world, auth):
        self.world, self.auth, self.log = world, auth, []
        self.leader = "127.0.0.1:8080"  # set by standin.py to the address it listens on
        self.lockstep = False  # True (--tick 0): the world ticks once per GET /v2/deployments
        self.mesos_role = "kurz"  # marathon_config.mesos_role in /v2/info (standin.py --mesos-role)

    def authorized(self, header):
        return not self.auth or header in self.auth

    def control(self, method, path, raw):
        return standin_control.control(self, method, path, raw)

    # -- dispatch
    def handle(self, method, path, query, raw, raw_query=""):
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return Reply(400, {"message": "Invalid JSON", "details": [
                    {"path": "/", "errors": ["error.expected.jsobject"]}]})
        force = query.get("force", ["false"])[0] == "true"
        with self.world.lock:
            self.log.append({"method": method, "path": path,
                             "query": {k: v[0] for k, v in query.items()}, "rawQuery": raw_query,
                             "body": body})
            if path == "/v2/info" and method == "GET":
                return Reply(200, self.info())
            if path == "/v2/tasks" and method == "GET":
                return Reply(200, {"tasks": [t.to_json(a) for a in sorted(self.world.apps.values(), key=lambda a: a.id)
                                             for t in a.alive()]})
            if path == "/v2/apps" and method == "POST":
                return self.post_app(body, force)
            if path == "/v2/deployments" and method == "GET":
                if self.lockstep:  # one tick per poll: every state is seen, whatever the load
                    self.world.tick()
                return Reply(200, self.world.deployments_json())
            if path.startswith("/v2/deployments/") and method == "DELETE":
                return self.cancel(path[len("/v2/deployments/"):], force)
            if path == "/v2/apps" and method == "GET":
                return Reply(200, {"apps": [self.app_json(a, False) for a in
                                            sorted(self.world.apps.values(), key=lambda a: a.id)]})
            if path.startswith("/v2/groups") and method == "PUT":
                gid = definitions.absolute_id(path[len("/v2/groups"):] or "/")
                return self.put_group(gid, body, force)
            if path.startswith("/v2/apps/"):
                rest = path[len("/v2/apps"):]
                if rest.endswith("/restart") and method == "POST":
                    return self.restart(definitions.absolute_id(rest[:-len("/restart")]), force)
                if rest.endswith("/tasks") and method == "GET":
                    app = self.world.apps.get(definitions.absolute_id(rest[:-len("/tasks")]))
                    if app is None:
                        return not_found(definitions.absolute_id(rest[:-len("/tasks")]))
                    return Reply(200, {"tasks": [t.to_json(app) for t in app.alive()]})
                if rest.endswith("/versions") and method == "GET":
                    app = self.world.apps.get(definitions.absolute_id(rest[:-len("/versions")]))
                    if app is None:
                        return not_found(definitions.absolute_id(rest[:-len("/versions")]))
                    return Reply(200, {"versions": sorted(app.versions, reverse=True)})
                app_id = definitions.absolute_id(rest)
                if method == "GET":
                    app = self.world.apps.get(app_id)
                    return Reply(200, {"app": self.app_json(app, True)}) if app else not_found(app_id)
                if method == "PUT":
                    partial = query.get("partialUpdate", ["true"])[0] != "false"
                    return self.put_app(app_id, body, force, partial)
                if method == "DELETE":
                    return self.delete_app(app_id, force)
            return Reply(404 if method == "GET" else 405, {"message": "stand-in: no such endpoint: "
                                                           "%s %s" % (method, path)})

    # -- reads
    def info(self):
        """GET /v2/info with the fields Marathon 1.10's InfoResource sends (and no others: clients such
        as python3-marathon build an object from every key). buildref says it is the stand-in."""
        return {"name": "marathon", "version": "1.10.26-standin",
                "buildref": "standin (tests/marathon/standin.py, not Marathon)", "elected": True,
                "leader": self.leader, "frameworkId": "standin-framework",
                "marathon_config": {"master": "zk://127.0.0.1:2181/mesos", "failover_timeout": 604800,
                                    "framework_name": "marathon", "ha": True, "checkpoint": True,
                                    "local_port_min": 10000, "local_port_max": 20000, "executor": "//cmd",
                                    "hostname": "127.0.0.1", "webui_url": None,
                                    "mesos_role": self.mesos_role, "task_launch_timeout": 600000,
                                    "task_reservation_timeout": 20000, "reconciliation_initial_delay": 15000,
                                    "reconciliation_interval": 600000, "mesos_user": "root",
                                    "leader_proxy_connection_timeout_ms": 5000,
                                    "leader_proxy_read_timeout_ms": 10000, "features": [],
                                    "mesos_leader_ui_url": "http://127.0.0.1:5050/"},
                "zookeeper_config": {"zk": "zk://127.0.0.1:2181/marathon", "zk_timeout": 10000,
                                     "zk_session_timeout": 10000, "zk_max_versions": 50},
                "http_config": {"http_port": int(self.leader.rsplit(":", 1)[1]), "https_port": 8443}}

    def app_json(self, app, embed):
        w, d = self.world, app.definition
        out = copy.deepcopy(d)
        alive = app.alive()
        deps = [{"id": dep.id} for dep in w.deployments.values() if app.id in dep.affected]
        out.update({"version": app.version, "versionInfo": dict(app.version_info),
                    "tasksStaged": sum(1 for t in alive if t.state == "TASK_STAGING"),
                    "tasksRunning": sum(1 for t in alive if t.state == "TASK_RUNNING"),
                    "tasksHealthy": sum(1 for t in alive if t.healthy) if d.get("healthChecks") else 0,
                    "tasksUnhealthy": sum(1 for t in alive if t.state == "TASK_RUNNING" and not t.healthy)
                    if d.get("healthChecks") else 0,
                    "deployments": deps})
        if embed:
            out["tasks"] = [t.to_json(app) for t in alive]
            if app.last_failure:
                out["lastTaskFailure"] = dict(app.last_failure)
        return out

    # -- changes
    def result(self, dep, status=200):
        return Reply(status, {"deploymentId": dep.id, "version": dep.version},
                     {"Marathon-Deployment-Id": dep.id})

    def check_lock(self, app_ids, force):
        holders = self.world.locking(app_ids)
        if holders and not force:
            return Reply(409, {"message": LOCKED, "deployments": [{"id": d.id} for d in holders]})
        for d in holders:
            del self.world.deployments[d.id]
        return None

    def change(self, app, definition):
        """Sets a new definition (new version); returns the action that moves the tasks there."""
        version = self.world.timestamp()
        only_scale = ({k: v for k, v in definition.items() if k != "instances"} ==
                      {k: v for k, v in app.definition.items() if k != "instances"})
        app.definition, app.version = definition, version
        app.version_info["lastScalingAt"] = version
        if not only_scale:
            app.version_info["lastConfigChangeAt"] = version
        app.versions[version] = copy.deepcopy(definition)
        if only_scale:
            return {"action": "ScaleApplication", "app": app.id}
        return {"action": "RestartApplication", "app": app.id, "version": version}

    def put_app(self, app_id, body, force, partial):
        if not isinstance(body, dict):
            return Reply(400, {"message": "Invalid JSON", "details": [
                {"path": "/", "errors": ["error.expected.jsobject"]}]})
        w = self.world
        app = w.apps.get(app_id)
        if set(body) == {"version"}:
            if app is None:
                return not_found(app_id)
            if body["version"] not in app.versions:
                return Reply(404, {"message": "App '%s' in version '%s' does not exist" % (
                    app_id, body["version"])})
            target = copy.deepcopy(app.versions[body["version"]])
        elif app is not None and partial:
            target = normalized(dict(app.definition, **body), app_id)
        else:
            target = normalized(body, app_id)
        details = submission.details(target)
        if details:
            return invalid(details)
        locked = self.check_lock([app_id], force)
        if locked:
            return locked
        if app is None:
            app = w.apps[app_id] = App(target, w.timestamp())
            dep = w.start([[{"action": "StartApplication", "app": app_id}],
                           [{"action": "ScaleApplication", "app": app_id}]], {app_id: None},
                          version=app.version)
            return self.result(dep, 201)
        original = app.snapshot()
        action = self.change(app, target)
        return self.result(w.start([[action]], {app_id: original}, version=app.version))

    def post_app(self, body, force):
        """POST /v2/apps: creates an app (201, the app as stored with its deployment, a Location and a
        Marathon-Deployment-Id header); 409 when the id exists, as Marathon answers."""
        if not isinstance(body, dict) or not body.get("id"):
            return Reply(400 if not isinstance(body, dict) else 422, {"message": "Object is not valid", "details": [
                {"path": "/id", "errors": ["error.path.missing"]}]})
        app_id = definitions.absolute_id(body["id"])
        if app_id in self.world.apps:
            return Reply(409, {"message": "An app with id [%s] already exists." % app_id})
        reply = self.put_app(app_id, body, force, False)
        if reply.status != 201:
            return reply
        app = self.world.apps[app_id]
        out = self.app_json(app, False)
        out["deployments"] = [{"id": reply.body["deploymentId"]}]
        return Reply(201, out, dict(reply.headers, Location="/v2/apps" + app_id))

    def put_group(self, gid, body, force):
        if not isinstance(body, dict):
            return Reply(400, {"message": "Invalid JSON", "details": [
                {"path": "/", "errors": ["error.expected.jsobject"]}]})
        body = dict(body, id=body.get("id", gid))
        if definitions.absolute_id(body["id"]) != gid:
            return invalid([{"path": "/id", "errors": ["group id %s does not match the URL's %s" % (
                body["id"], gid)]}])
        details = submission.details(body)
        if details:
            return invalid(details)
        w = self.world
        wanted = {a: normalized(app, a) for a, app in definitions.apps(body).items()}
        prefix = gid.rstrip("/") + "/"
        everything = {a: app.definition for a, app in w.apps.items() if not a.startswith(prefix)}
        everything.update(wanted)
        depth = levels(everything)
        if depth is None:
            return invalid([{"path": "/", "errors": ["Dependency graph has cyclic dependencies."]}])
        removed = [a for a in w.apps if a.startswith(prefix) and a not in wanted]
        new = [a for a in wanted if a not in w.apps]
        changed = [a for a in wanted if a in w.apps and w.apps[a].definition != wanted[a]]
        locked = self.check_lock(removed + new + changed, force)
        if locked:
            return locked
        version = w.timestamp()
        originals = {a: (w.apps[a].snapshot() if a in w.apps else None) for a in removed + new + changed}
        stops = []
        for a in removed:
            w.stopping.append(w.apps.pop(a))
            stops.append({"action": "StopApplication", "app": a})
        by_level = {}
        for a in new:
            w.apps[a] = App(wanted[a], version)
            by_level.setdefault(depth[a], []).append({"action": "ScaleApplication", "app": a})
        for a in changed:
            action = self.change(w.apps[a], wanted[a])
            by_level.setdefault(depth[a], []).append(action)
        steps = [stops, [{"action": "StartApplication", "app": a} for a in new]]
        steps += [sorted(by_level[k], key=lambda x: x["app"]) for k in sorted(by_level)]
        return self.result(w.start(steps, originals, version=version))

    def restart(self, app_id, force):
        app = self.world.apps.get(app_id)
        if app is None:
            return not_found(app_id)
        locked = self.check_lock([app_id], force)
        if locked:
            return locked
        original = app.snapshot()
        version = self.world.timestamp()
        app.version = app.version_info["lastScalingAt"] = version
        app.versions[version] = copy.deepcopy(app.definition)
        return self.result(self.world.start(
            [[{"action": "RestartApplication", "app": app_id, "version": version}]], {app_id: original},
            version=version))

    def delete_app(self, app_id, force):
        w = self.world
        app = w.apps.get(app_id)
        if app is None:
            return not_found(app_id)
        locked = self.check_lock([app_id], force)
        if locked:
            return locked
        original = app.snapshot()
        w.stopping.append(w.apps.pop(app_id))
        return self.result(w.start([[{"action": "StopApplication", "app": app_id}]], {app_id: original}))

    def cancel(self, dep_id, force):
        w = self.world
        dep = w.deployments.pop(dep_id, None)
        if dep is None:
            return Reply(404, {"message": "DeploymentPlan %s does not exist" % dep_id})
        if force:
            return Reply(202)
        return self.result(w.revert(dep))
