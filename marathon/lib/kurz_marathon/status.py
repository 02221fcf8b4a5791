"""`marathon/deploy status [APP]`: what runs and what is being deployed. Read-only.

Requests: GET /v2/info, GET /v2/apps and GET /v2/deployments; with APP, GET /v2/apps/{id} (embedding tasks,
counts, deployments, readiness and the last task failure). When APP is not an app, the apps whose
id starts with APP/ are listed (a group: `status /kurz`).
"""
from . import canary, client, commands, definitions, follow


def table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def apps_table(apps):
    rows = [("APP", "INSTANCES", "RUNNING", "HEALTHY", "UNHEALTHY", "STAGED", "LB PORT", "VERSION",
             "IMAGE")]
    for a in sorted(apps, key=lambda a: a["id"]):
        rows.append((a["id"], a.get("instances", 0), a.get("tasksRunning", 0), a.get("tasksHealthy", 0),
                     a.get("tasksUnhealthy", 0), a.get("tasksStaged", 0),
                     canary.service_port(a) or "-", a.get("version", "-"),
                     definitions.docker_image(a) or "-"))
    return table(rows)


def deployments_lines(deps):
    if not deps:
        return ["no deployment running"]
    return ["deployment %s: %s (apps %s)" % (d.get("id"), follow.describe_step(d),
                                            ", ".join(d.get("affectedApps") or []) or "-")
            for d in deps]


def task_health(task):
    results = task.get("healthCheckResults") or []
    if not results:
        return "-"
    return "healthy" if all(r.get("alive") for r in results) else "unhealthy"


def lb_text(app):
    group, port, backend = canary.frontend(app)
    if port is None:
        return "no service port"
    return "group %s, service port %s, backend %s" % (group, port, backend)


def app_lines(app):
    lines = ["%s  version %s  image %s" % (app["id"], app.get("version"),
                                          definitions.docker_image(app) or "-"),
             "  %s" % follow.app_counts(app),
             "  marathon-lb: %s" % lb_text(app)]
    tasks = app.get("tasks") or []
    if tasks:
        rows = [("TASK", "HOST", "PORTS", "STATE", "HEALTH", "VERSION")]
        for t in sorted(tasks, key=lambda t: t.get("id", "")):
            rows.append((t.get("id"), t.get("host", "-"), ",".join(str(p) for p in t.get("ports") or [])
                         or "-", t.get("state", "-"), task_health(t), t.get("version", "-")))
        lines += ["  " + line for line in table(rows)]
    else:
        lines.append("  no tasks")
    failure = app.get("lastTaskFailure")
    if failure:
        lines.append("  last task failure: %s %s on %s at %s: %s" % (
            failure.get("taskId"), failure.get("state"), failure.get("host"),
            failure.get("timestamp"), failure.get("message", "")))
    return lines


def status(session, app_id=None):
    info = session.api.get("/v2/info") or {}
    session.out("%s %s at %s (leader %s)" % (info.get("name", "marathon"), info.get("version", "?"),
                                             session.api.url, info.get("leader", "?")))
    deps = session.follower.list_deployments()
    if app_id is None:
        apps = session.api.get("/v2/apps").get("apps") or []
        lines = apps_table(apps) if apps else ["no apps"]
    else:
        try:
            app = session.api.get(commands.app_path(app_id), {"embed": follow.APP_EMBEDS})["app"]
            lines = app_lines(app)
            deps = [d for d in deps if app_id in (d.get("affectedApps") or [])]
        except client.NotFound:
            apps = [a for a in session.api.get("/v2/apps").get("apps") or []
                    if a["id"].startswith(app_id + "/")]
            if not apps:
                raise
            lines = apps_table(apps)
            deps = [d for d in deps if any(x.startswith(app_id + "/") for x in d.get("affectedApps") or [])]
    for line in lines + [""] + deployments_lines(deps):
        session.out(line)
    return 0
