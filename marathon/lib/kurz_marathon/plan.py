"""`marathon/deploy plan FILE` (and `deploy --dry-run FILE`): what a definition would change in
Marathon before it is PUT, app by app: new and removed apps, image, instances and environment
(secrets masked), and a warning when it would undo a `promote` (the main app carries the label
canary.PROMOTED_IMAGE and the file puts another image back). Read-only.

Requests: a group: GET /v2/apps (the apps under the group id; PUT /v2/groups/{id} removes those
the file does not name); an app: GET /v2/apps/{id}.
"""
import re

from . import canary, client, commands, definitions

SECRET_NAMES = re.compile(r"KEY|PASSWORD|SECRET|TOKEN", re.I)


def shown(name, value):
    """An env value as the plan prints it: secrets and URL passwords masked."""
    if not isinstance(value, str):
        return "(secret %s)" % value.get("secret") if isinstance(value, dict) else str(value)
    if SECRET_NAMES.search(name):
        return "***"
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", value)


def env_changes(old, new):
    old, new = old or {}, new or {}
    out = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            out.append("+%s=%s" % (name, shown(name, new[name])))
        elif name not in new:
            out.append("-%s" % name)
        elif old[name] != new[name]:
            out.append("%s %s -> %s" % (name, shown(name, old[name]), shown(name, new[name])))
    return out


def app_changes(old, new):
    """Lines for one app: [] when nothing the plan looks at changes."""
    lines = []
    if definitions.docker_image(old) != definitions.docker_image(new):
        lines.append("image %s -> %s" % (definitions.docker_image(old), definitions.docker_image(new)))
    if int(old.get("instances", 1)) != int(new.get("instances", 1)):
        lines.append("instances %s -> %s" % (old.get("instances", 1), new.get("instances", 1)))
    changes = env_changes(old.get("env"), new.get("env"))
    if changes:
        lines.append("env " + "; ".join(changes))
    return lines


def undone_promotion(old, new):
    """The warning when `new` would take a promoted image away from `old`, else None."""
    labels = old.get("labels") or {}
    promoted = labels.get(canary.PROMOTED_IMAGE)
    if not promoted or definitions.docker_image(old) != promoted:
        return None
    if definitions.docker_image(new) == promoted:
        return None
    return ("%s runs %s, promoted from %s; this definition puts %s back: it would undo the "
            "promotion (render the file with the promoted tag, e.g. --tag %s)" % (
                old.get("id"), promoted, labels.get(canary.PROMOTED_FROM, "a canary"),
                definitions.docker_image(new), promoted.rsplit(":", 1)[-1]))


def current(session, doc):
    """{app id: the app as Marathon has it} for the apps the definition would touch."""
    if definitions.is_group(doc):
        gid = definitions.absolute_id(doc["id"])
        return {a["id"]: a for a in session.api.get("/v2/apps").get("apps") or []
                if a["id"].startswith(gid.rstrip("/") + "/")}
    aid = definitions.absolute_id(doc["id"])
    try:
        return {aid: commands.get_app(session, aid)}
    except client.NotFound:
        return {}


def compute(session, doc):
    """(lines, warnings) of what PUTting `doc` would change."""
    have = current(session, doc)
    wanted = definitions.apps(doc) if definitions.is_group(doc) else {
        definitions.absolute_id(doc["id"]): doc}
    lines, warnings = [], []
    for app_id in sorted(set(have) | set(wanted)):
        old, new = have.get(app_id), wanted.get(app_id)
        if old is None:
            lines.append("%s: new app (image %s, %s instances)" % (
                app_id, definitions.docker_image(new) or "-", new.get("instances", 1)))
            continue
        if new is None:
            lines.append("%s: removed (the group's definition does not name it)" % app_id)
            continue
        changes = app_changes(old, new)
        lines += ["%s: %s" % (app_id, c) for c in changes] or ["%s: unchanged" % app_id]
        warning = undone_promotion(old, new)
        if warning:
            warnings.append(warning)
    return lines, warnings


def plan(session, doc):
    what = "group" if definitions.is_group(doc) else "app"
    session.out("plan: %s %s (nothing is sent; without --dry-run: %s)" % (
        what, definitions.absolute_id(doc["id"]), "PUT " + (
            commands.group_path(definitions.absolute_id(doc["id"])) if what == "group"
            else commands.app_path(definitions.absolute_id(doc["id"])))))
    lines, warnings = compute(session, doc)
    for line in lines:
        session.out("  " + line)
    for warning in warnings:
        session.err("warning: " + warning)
    return 0
