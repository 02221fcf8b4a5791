"""Following a Marathon deployment to its end, the way RUNTIME.md says Marathon reports one.

Contract:
- A deployment is done when `GET /v2/deployments` no longer lists it (there is no GET for one
  deployment). `Follower.follow(id, seconds)` polls that list every `interval` seconds (no fixed
  sleeps: it returns as soon as the deployment is gone) and prints progress only when it changes:
  "step n of m" with the current actions, then per app of the current step (from
  `GET /v2/apps/{id}`; every affected app once the deployment is gone) the tasks running,
  healthy (apps with health checks), ready (apps with readiness checks, from the deployment's
  `readinessCheckResults`), staged and unhealthy, and every new `lastTaskFailure`.
- It returns DONE, TIMEOUT (not gone within `seconds`) or FAILED (`max_failures` distinct tasks of
  the affected apps failed since following began: Marathon itself never gives up, it relaunches with
  a backoff, so this is where the tool decides the deployment is failing).
- `cancel(id)` is `DELETE /v2/deployments/{id}`: Marathon stops the deployment and starts a reverting
  one, whose id it returns (None when the deployment had already finished).
- Lost connections while following are retried for `patience` polls in a row, then Unreachable.
"""
import time

from . import client

DONE, TIMEOUT, FAILED = "done", "timeout", "failed"
APP_EMBEDS = ["app.tasks", "app.counts", "app.deployments", "app.readiness", "app.lastTaskFailure"]


def describe_actions(actions):
    return ", ".join("%s %s" % (a.get("action", "?"), a.get("app") or a.get("pod") or "")
                     for a in actions or []) or "(none)"


def describe_step(dep):
    return "step %s of %s: %s" % (dep.get("currentStep", "?"), dep.get("totalSteps", "?"),
                                  describe_actions(dep.get("currentActions")))


def app_counts(app, ready=None):
    """'2/3 running, 2 healthy, 1 ready' (+ staged / unhealthy when there are any)."""
    parts = ["%d/%d running" % (app.get("tasksRunning", 0), app.get("instances", 0))]
    if app.get("healthChecks"):
        parts.append("%d healthy" % app.get("tasksHealthy", 0))
    if app.get("readinessChecks") and ready is not None:
        parts.append("%d ready" % ready)
    if app.get("tasksStaged"):
        parts.append("%d staged" % app["tasksStaged"])
    if app.get("tasksUnhealthy"):
        parts.append("%d unhealthy" % app["tasksUnhealthy"])
    return ", ".join(parts)


class Follower:
    def __init__(self, api, out, interval=1.0, max_failures=3, patience=5,
                 clock=time.monotonic, sleep=time.sleep):
        self.api, self.out, self.interval = api, out, interval
        self.max_failures, self.patience = max_failures, patience
        self.clock, self.sleep = clock, sleep

    def list_deployments(self):
        return self.api.get("/v2/deployments") or []

    def follow(self, dep_id, seconds):
        start = self.clock()
        deadline = start + seconds
        last_step, last_counts, failures, baseline, errors = None, {}, set(), {}, 0
        affected = []
        while True:
            try:
                deps = self.list_deployments()
                errors = 0
            except client.Unreachable as e:
                errors += 1
                if errors >= self.patience:
                    raise
                self.out("  (%s; retrying)" % e)
                deps = None
            if deps is not None:
                mine = next((d for d in deps if d.get("id") == dep_id), None)
                if mine is None:
                    self.out("[%5.1fs] deployment %s finished" % (self.clock() - start, dep_id))
                    self._final(affected)
                    return DONE
                affected = mine.get("affectedApps") or affected
                step = describe_step(mine)
                if step != last_step:
                    self.out("[%5.1fs] %s" % (self.clock() - start, step))
                    last_step = step
                acting = [a.get("app") for a in mine.get("currentActions") or [] if a.get("app")]
                for app_id in acting or mine.get("affectedApps") or []:
                    line, failure = self._app_state(app_id, mine)
                    if line is not None and line != last_counts.get(app_id):
                        self.out("[%5.1fs]   %s: %s" % (self.clock() - start, app_id, line))
                        last_counts[app_id] = line
                    if failure and failure.get("taskId"):
                        task = failure["taskId"]
                        if app_id not in baseline:
                            baseline[app_id] = task  # a failure from before we started watching
                        elif task != baseline[app_id] and task not in failures:
                            failures.add(task)
                            self.out("[%5.1fs]   %s: task %s %s on %s: %s" % (
                                self.clock() - start, app_id, task, failure.get("state", "failed"),
                                failure.get("host", "?"), failure.get("message", "")))
                    else:
                        baseline.setdefault(app_id, None)
                if len(failures) >= self.max_failures:
                    self.out("deployment %s is failing: %d tasks failed" % (dep_id, len(failures)))
                    return FAILED
            now = self.clock()
            if now >= deadline:
                self.out("deployment %s did not finish within %gs" % (dep_id, seconds))
                return TIMEOUT
            self.sleep(min(self.interval, deadline - now))

    def _final(self, app_ids):
        for app_id in app_ids:
            line, _ = self._app_state(app_id, {})
            if line is not None:
                self.out("  %s: %s" % (app_id, line))

    def _app_state(self, app_id, dep):
        try:
            app = self.api.get("/v2/apps/" + client.quote_id(app_id), {"embed": APP_EMBEDS})["app"]
        except client.NotFound:
            return "removed", None
        except (client.Unreachable, KeyError, TypeError):
            return None, None
        ready = None
        for action in dep.get("currentActions") or []:
            if action.get("app") == app_id and "readinessCheckResults" in action:
                results = action.get("readinessCheckResults") or []
                ready = sum(1 for r in results if r.get("ready"))
        return app_counts(app, ready), app.get("lastTaskFailure")

    def cancel(self, dep_id):
        """DELETE /v2/deployments/{id}: the reverting deployment's id, or None if it was gone."""
        try:
            reply = self.api.request("DELETE", "/v2/deployments/" + dep_id)
        except client.NotFound:
            return None
        return reply.deployment()[0]
