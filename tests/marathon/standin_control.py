"""The Marathon stand-in's own control endpoints (NOT Marathon's; no auth): scenarios, locks, killed
tasks and the request log, for tests and for the chapter's demonstrations (see standin.py)."""
import json

import standin_api  # noqa: E402  (its Reply; standin_api imports this module too)
from kurz_marathon import definitions


def control(api, method, path, raw):
    Reply = standin_api.Reply
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return Reply(400, {"message": "not JSON"})
    w = api.world
    with w.lock:
        if path == "/_standin/requests" and method == "GET":
            return Reply(200, api.log)
        if path == "/_standin/scenario" and method == "POST":
            w.hang, w.fail = list(body.get("hang", w.hang)), list(body.get("fail", w.fail))
            w.hold = bool(body.get("hold", w.hold))
            if body.get("release"):  # held deployments (not /_standin/lock's) progress again
                for dep in w.deployments.values():
                    if not getattr(dep, "locked", False):
                        dep.hold = False
            return Reply(200, {"hang": w.hang, "fail": w.fail, "hold": w.hold})
        app = w.apps.get(definitions.absolute_id(body.get("app", "")))
        if app is None:
            return Reply(404, {"message": "no app %s" % body.get("app")})
        if path == "/_standin/lock" and method == "POST":
            dep = w.start([[{"action": "ScaleApplication", "app": app.id}]], {}, hold=True,
                          dep_id=body.get("id"))
            dep.locked = True
            return api.result(dep)
        if path == "/_standin/kill" and method == "POST":
            running = [t for t in app.alive() if t.state == "TASK_RUNNING"]
            if not running:
                return Reply(409, {"message": "no running task"})
            task = running[0]
            app.tasks.remove(task)
            app.last_failure = {"appId": app.id, "host": task.host, "state": "TASK_KILLED",
                                "message": "stand-in: killed on request", "taskId": task.id,
                                "timestamp": w.timestamp(), "version": task.version}
            return Reply(200, {"killed": task.id})
    return Reply(404, {"message": "no such stand-in endpoint"})

