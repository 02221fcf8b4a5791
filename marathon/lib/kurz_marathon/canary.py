"""Canary releases the marathon-lb way: a second app with the new image behind the SAME marathon-lb
service port as the main app (same HAPROXY_GROUP, HAPROXY_0_PORT, vhost/path and check labels) and
the same HAPROXY_DEPLOYMENT_GROUP: marathon-lb merges the tasks of both apps into one HAProxy
backend with equal weights, so the canary gets canary/(main + canary) of the requests. It drains
max(0, healthy new + old - HAPROXY_DEPLOYMENT_TARGET_INSTANCES) old tasks of the app with the later
HAPROXY_DEPLOYMENT_STARTED_AT (marathon_lb.py), so `canary start` sets on the canary
TARGET_INSTANCES = main + canary instances (no stable task drained), NEW_INSTANCES = its instances
and STARTED_AT = now. The canary names its main app in the label KURZ_CANARY_OF.

Requests:
  canary start FILE   GET /v2/apps/{main} (KURZ_CANARY_OF: it must be running);
                      PUT /v2/apps/{canary}?partialUpdate=false   body: the file (instances from
                      --instances, the HAPROXY_DEPLOYMENT_* labels as above); then GET /v2/apps to
                      show the traffic split
  promote APP CANARY  GET /v2/apps/{app}, GET /v2/apps/{canary};
                      PUT /v2/apps/{app}   body: {"container": <app's, with the canary's image>,
                                                  "env": <the canary's env>}   (a rolling update
                      under the app's upgradeStrategy); when it is done: DELETE /v2/apps/{canary}
  canary abort CANARY DELETE /v2/apps/{canary}
"""
import copy
import datetime

from . import client, commands, definitions

CANARY_OF = "KURZ_CANARY_OF"
# Set on the main app by `promote`: the image it got from which canary. `deploy` and `plan` warn
# when a definition would put another image back (redeploying stage3/kurz.json after a promotion).
PROMOTED_IMAGE = "KURZ_PROMOTED_IMAGE"
PROMOTED_FROM = "KURZ_PROMOTED_FROM"


def service_port(app):
    """The marathon-lb service port of an app's first port: HAPROXY_0_PORT, else the first port
    mapping's servicePort (Marathon assigns one when none is given), else None."""
    label = (app.get("labels") or {}).get("HAPROXY_0_PORT")
    if label:
        return str(label)
    mappings = definitions.port_mappings(app) or (app.get("container") or {}).get(
        "docker", {}).get("portMappings") or []
    for mapping in mappings:
        if mapping.get("servicePort"):
            return str(mapping["servicePort"])
    ports = app.get("portDefinitions") or []
    if ports and ports[0].get("port"):
        return str(ports[0]["port"])
    return None


def frontend(app):
    """What marathon-lb puts in one backend: (HAPROXY_GROUP, service port, deployment group)."""
    labels = app.get("labels") or {}
    return (labels.get("HAPROXY_GROUP", "external"), service_port(app),
            labels.get("HAPROXY_DEPLOYMENT_GROUP") or app.get("id"))


def traffic_split(apps, canary_id):
    """[(app id, instances)] of the apps behind the canary's marathon-lb frontend, and the canary's
    share of the requests (0..1), from instance counts."""
    by_id = {a["id"]: a for a in apps}
    canary = by_id.get(canary_id)
    if canary is None or frontend(canary)[1] is None:
        return [], None
    peers = [(a["id"], int(a.get("instances", 0))) for a in apps if frontend(a) == frontend(canary)]
    total = sum(n for _, n in peers)
    return peers, (int(canary.get("instances", 0)) / total if total else None)


def show_split(session, canary_id):
    apps = session.api.get("/v2/apps").get("apps") or []
    peers, share = traffic_split(apps, canary_id)
    if share is None:
        session.out("canary %s: no marathon-lb service port found, so no traffic split" % canary_id)
        return
    group, port, _ = frontend(next(a for a in apps if a["id"] == canary_id))
    session.out("marathon-lb %s service port %s: %s; the canary gets about %d%% of the requests" % (
        group, port, ", ".join("%s %d" % p for p in peers), round(share * 100)))


def now_label():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_deployment_labels(canary, main_instances, started_at):
    """The marathon-lb HAPROXY_DEPLOYMENT_* labels of a canary beside `main_instances` stable tasks."""
    labels = canary.setdefault("labels", {})
    if "HAPROXY_DEPLOYMENT_GROUP" not in labels:
        return
    instances = int(canary.get("instances", 1))
    labels["HAPROXY_DEPLOYMENT_TARGET_INSTANCES"] = str(main_instances + instances)
    labels["HAPROXY_DEPLOYMENT_NEW_INSTANCES"] = str(instances)
    labels["HAPROXY_DEPLOYMENT_STARTED_AT"] = started_at


def start(session, path, instances=None, registry=None, tag=None, dcos_secrets=False):
    doc = commands.load_definition(path, registry, tag, dcos_secrets)
    if definitions.is_group(doc):
        raise commands.UsageError("%s: a canary is one app, not a group" % path)
    if instances is not None:
        doc["instances"] = instances
    canary_id = definitions.absolute_id(doc["id"])
    if session.settle("app %s" % canary_id, [canary_id]) == 1:
        return 1
    main_id = (doc.get("labels") or {}).get(CANARY_OF)
    if main_id:
        main = commands.get_app(session, definitions.absolute_id(main_id))  # 404: not deployed
        set_deployment_labels(doc, int(main.get("instances", 0)), now_label())
        session.out("canary %s beside %s (%s instances)" % (canary_id, main["id"], main.get("instances")))
    code = commands.put_definition(session, doc)
    if code == 0:
        show_split(session, canary_id)
    return code


def promotion(main, canary):
    """The partial update that gives the main app the canary's image and environment, and labels
    saying so (PROMOTED_IMAGE, PROMOTED_FROM)."""
    container = copy.deepcopy(main.get("container") or {})
    image = definitions.docker_image(canary)
    if not image:
        raise commands.UsageError("%s runs no Docker image" % canary.get("id"))
    container.setdefault("docker", {})["image"] = image
    labels = dict(main.get("labels") or {})
    labels.update({PROMOTED_IMAGE: image, PROMOTED_FROM: canary.get("id", "")})
    return {"container": container, "env": copy.deepcopy(canary.get("env") or {}), "labels": labels}


def promoted(main, update):
    """True when the main app already has what the promotion gives it (an earlier run got that far)."""
    return (definitions.docker_image(main) == update["container"]["docker"]["image"]
            and (main.get("env") or {}) == update["env"])


def promote(session, app_id, canary_id):
    """Ordered so that stopping at any point leaves a state the next run completes: (1) finish any
    deployment still running on either app (an interrupted run's), (2) give the main app the
    canary's image unless it has it already, (3) remove the canary unless it is gone already."""
    if session.settle("promote", [app_id, canary_id]) == 1:
        return 1
    main = commands.get_app(session, app_id)
    try:
        canary = commands.get_app(session, canary_id)
    except client.NotFound:
        session.out("promote: %s does not exist (an earlier promote or abort removed it): nothing left "
                    "to do; %s runs %s" % (canary_id, app_id, definitions.docker_image(main)))
        return 0
    named = (canary.get("labels") or {}).get(CANARY_OF)
    if named and definitions.absolute_id(named) != app_id:
        session.err("warning: %s says it is the canary of %s (label %s), not of %s" % (
            canary_id, named, CANARY_OF, app_id))
    if frontend(main) != frontend(canary):
        session.err("warning: %s and %s are not in the same marathon-lb backend (group, service "
                    "port, deployment group: %s vs %s)" % (app_id, canary_id, frontend(main), frontend(canary)))
    update = promotion(main, canary)
    what = "app %s" % app_id
    if promoted(main, update):
        session.out("%s already runs %s with the canary's environment: only the canary is left to "
                    "remove" % (what, update["container"]["docker"]["image"]))
        return abort(session, canary_id)
    session.out("%s: promote %s: image %s -> %s (rolling update)" % (
        what, canary_id, definitions.docker_image(main), update["container"]["docker"]["image"]))
    code = session.deploy(what, lambda force: session.api.request(
        "PUT", commands.app_path(app_id), update, commands.force_query(force)))
    if code != 0:
        session.err("the canary %s is still running (remove it: marathon/deploy canary abort %s)"
                    % (canary_id, canary_id))
        return code
    return abort(session, canary_id)


def abort(session, canary_id):
    what = "app %s" % canary_id
    settled = session.settle(what, [canary_id])
    if settled == 1:
        return 1
    try:
        commands.get_app(session, canary_id)
    except client.NotFound:
        if settled is None:
            raise  # never there, or removed long ago: a typo is an error
        session.out("%s: removed (by the deployment just followed)" % what)
        return 0
    session.out("%s: remove (DELETE %s)" % (what, commands.app_path(canary_id)))
    return session.deploy(what, lambda force: session.api.request(
        "DELETE", commands.app_path(canary_id), None, commands.force_query(force)))
