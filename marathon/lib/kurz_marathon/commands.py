"""The commands of marathon/deploy that change one app or group: deploy, scale, restart, rollback.

Requests (exactly these; docs/marathon.md shows them with their bodies):
  deploy FILE (group)   PUT /v2/groups/{id}                          body: the file
  deploy FILE (app)     PUT /v2/apps/{id}?partialUpdate=false        body: the file
  scale APP N           GET /v2/apps/{id}; PUT /v2/apps/{id}         body: {"instances": N}
  restart APP           POST /v2/apps/{id}/restart
  rollback APP [VER]    GET /v2/apps/{id}; GET /v2/apps/{id}/versions;
                        PUT /v2/apps/{id}                            body: {"version": VER}
Each call that starts a deployment gets `force=true` added when the app is locked and --force is
given, and is followed through GET /v2/deployments (session.py, follow.py).
"""
import os

from . import client, credentials, definitions


class UsageError(Exception):
    """Bad input from the user (exit 2)."""


def app_path(app_id):
    return "/v2/apps/" + client.quote_id(app_id)


def group_path(group_id):
    quoted = client.quote_id(group_id)
    return "/v2/groups/" + quoted if quoted else "/v2/groups"


def normalize_id(app_id):
    app_id = "/" + app_id.strip().strip("/")
    if app_id == "/" or "//" in app_id:
        raise UsageError("not an app id: %r" % app_id)
    return app_id


def load_definition(path, registry=None, tag=None, dcos_secrets=False):
    """The file's definition with the kurz images' registry/tag replaced when given, and its
    secrets' placeholders filled from the environment (credentials.py)."""
    try:
        doc = credentials.fill(definitions.load(path), os.environ, dcos=dcos_secrets)
    except definitions.DefinitionError as e:
        raise UsageError(str(e))
    except credentials.CredentialError as e:
        raise UsageError("%s: %s" % (path, e))
    if not doc.get("id"):
        raise UsageError("%s: the definition has no \"id\"" % path)
    if registry is not None or tag is not None:
        doc = definitions.set_images(doc, registry=registry, tag=tag)
    return doc


def force_query(force, extra=None):
    query = dict(extra or {})
    if force:
        query["force"] = "true"
    return query or None


def put_definition(session, doc):
    """Starts the deployment of a group or app definition; returns the exit code."""
    if definitions.is_group(doc):
        gid = definitions.absolute_id(doc["id"])
        what = "group %s" % gid
        apps = sorted(definitions.apps(doc))
        session.out("%s: PUT %s (%d apps: %s)" % (what, group_path(gid), len(apps), ", ".join(apps)))
        return session.deploy(what, lambda force: session.api.request(
            "PUT", group_path(gid), doc, force_query(force)))
    aid = definitions.absolute_id(doc["id"])
    what = "app %s" % aid
    session.out("%s: PUT %s (%s instances, image %s)" % (
        what, app_path(aid), doc.get("instances", 1), definitions.docker_image(doc) or "-"))
    return session.deploy(what, lambda force: session.api.request(
        "PUT", app_path(aid), doc, force_query(force, {"partialUpdate": "false"})))


def deploy(session, path, registry=None, tag=None, dcos_secrets=False):
    from . import plan
    doc = load_definition(path, registry, tag, dcos_secrets)
    for warning in plan.compute(session, doc)[1]:
        session.err("warning: " + warning)
    return put_definition(session, doc)


def get_app(session, app_id):
    return session.api.get(app_path(app_id))["app"]


def scale(session, app_id, instances):
    app = get_app(session, app_id)
    what = "app %s" % app_id
    session.out("%s: scale from %s to %d instances" % (what, app.get("instances"), instances))
    return session.deploy(what, lambda force: session.api.request(
        "PUT", app_path(app_id), {"instances": instances}, force_query(force)))


def restart(session, app_id):
    what = "app %s" % app_id
    session.out("%s: rolling restart" % what)
    return session.deploy(what, lambda force: session.api.request(
        "POST", app_path(app_id) + "/restart", None, force_query(force)))


def previous_version(app, versions):
    """The newest version older than the app's current configuration (versionInfo.
    lastConfigChangeAt, else its version): scaling-only versions after it are skipped, so this is
    the configuration that was running before the last change. None when there is none."""
    current = (app.get("versionInfo") or {}).get("lastConfigChangeAt") or app.get("version")
    older = sorted((v for v in versions if v < current), reverse=True)
    return older[0] if older else None


def rollback(session, app_id, version=None):
    """A deployment still running on the app (an interrupted rollback, or a stuck deploy) is
    followed first, and cancelled and reverted if it fails; after one, a rollback without VERSION
    stops there (the next run would go back one configuration more)."""
    settled = session.settle("app %s" % app_id, [app_id])
    if settled == 1:
        return 1
    if settled == 0 and version is None:
        app = get_app(session, app_id)
        session.out("app %s: now at version %s, image %s; not going back further (run rollback again "
                    "to go back one more configuration)" % (app_id, app.get("version"),
                                                             definitions.docker_image(app) or "-"))
        return 0
    app = get_app(session, app_id)
    versions = session.api.get(app_path(app_id) + "/versions").get("versions") or []
    what = "app %s" % app_id
    if version is None:
        version = previous_version(app, versions)
        if version is None:
            session.err("%s has no version before %s (versions: %s)" % (
                app_id, app.get("version"), ", ".join(versions) or "none"))
            return 1
    elif version not in versions:
        session.err("%s has no version %s; it has: %s" % (app_id, version, ", ".join(versions[:10])))
        return 1
    session.out("%s: roll back from version %s to %s" % (what, app.get("version"), version))
    return session.deploy(what, lambda force: session.api.request(
        "PUT", app_path(app_id), {"version": version}, force_query(force)))
