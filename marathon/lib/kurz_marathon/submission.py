"""What Marathon refuses when a definition is submitted, as Marathon says it: a list of
{"path", "errors"} details (the 422 body's `details`), empty when the definition is accepted.

Two parts, as shared/reference/marathon/README.md describes:
- Marathon's own JSON Schema (AppDefinition.json, Group.json, draft-04) when python3-jsonschema is
  installed (`schema_available()`); Group.json's reference to ./AppDefinition.json is resolved
  locally.
- The submission-time rules the schema does not check: one networking style; portDefinitions only
  in host mode, portMappings only with container networks; at most one Mesos-level health check and
  one readiness check; a readiness check's portName names a declared port and its timeout is below
  its interval; a health check's portIndex points at a declared port; the apps of a group are its
  children; a resident app (persistent volumes) has upgradeStrategy 0/0.
Paths follow Marathon's style: `/apps(0)/healthChecks(1)/portIndex`.
Used by the Marathon stand-in (tests/marathon/standin.py); standard library apart from jsonschema.
"""
import json
import os

from . import definitions

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(definitions.ROOT, "..", "shared", "reference", "marathon")
SCHEMA_BASE = ("https://raw.githubusercontent.com/mesosphere/marathon/master/docs/docs/rest-api/"
               "public/api/v2/schema/")
MESOS_LEVEL = ("MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP", "COMMAND")
_validators = {}


def reference_dir():
    """Where AppDefinition.json and Group.json are: $KURZ_MARATHON_REFERENCE, else the package's
    schema/ copy, else shared/reference/marathon beside the repository."""
    for folder in (os.environ.get("KURZ_MARATHON_REFERENCE"), os.path.join(HERE, "schema"), REFERENCE):
        if folder and os.path.exists(os.path.join(folder, "AppDefinition.json")):
            return os.path.normpath(folder)
    return os.path.normpath(REFERENCE)


def schema_available():
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        return False
    return os.path.exists(os.path.join(reference_dir(), "AppDefinition.json"))


def _validator(kind):
    if kind not in _validators:
        import jsonschema
        schemas = {}
        for name in ("AppDefinition", "Group"):
            with open(os.path.join(reference_dir(), name + ".json"), encoding="utf-8") as f:
                schemas[name] = json.load(f)
        store = {SCHEMA_BASE + n + ".json": s for n, s in schemas.items()}
        resolver = jsonschema.RefResolver(SCHEMA_BASE + kind + ".json", schemas[kind], store=store)
        _validators[kind] = jsonschema.Draft4Validator(schemas[kind], resolver=resolver)
    return _validators[kind]


def path_text(parts):
    out = ""
    for p in parts:
        out += "(%d)" % p if isinstance(p, int) else "/" + str(p)
    return out or "/"


def schema_details(doc, kind):
    if not schema_available():
        return []
    errors = {}
    for e in sorted(_validator(kind).iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        errors.setdefault(path_text(e.absolute_path), []).append(e.message)
    return [{"path": p, "errors": errs} for p, errs in errors.items()]


def _network_mode(app):
    networks = app.get("networks") or []
    return networks[0].get("mode", "host") if networks else "host"


def app_rules(app):
    """[(relative path parts, error)] for one app."""
    out = []
    container = app.get("container") or {}
    docker = container.get("docker") or {}
    mode = _network_mode(app)
    if docker.get("network") and app.get("networks"):
        out.append((("container", "docker", "network"),
                    "must not be set together with networks; use networks only"))
    if docker.get("network"):
        mode = {"BRIDGE": "container/bridge", "USER": "container"}.get(docker["network"], "host")
    mappings = container.get("portMappings") or docker.get("portMappings") or []
    if app.get("portDefinitions") and mode != "host":
        out.append((("portDefinitions",), "portDefinitions are only allowed with host networking"))
    if container.get("portMappings") and mode == "host":
        out.append((("container", "portMappings"),
                    "portMappings are only allowed with container or container/bridge networking"))
    ports = mappings if mode != "host" else (
        app.get("portDefinitions") or [{"port": p} for p in app.get("ports") or []])
    names = {p.get("name") for p in ports if p.get("name")}
    checks = app.get("healthChecks") or []
    if sum(1 for c in checks if c.get("protocol") in MESOS_LEVEL) > 1:
        out.append((("healthChecks",), "AppDefinition can contain at most one Mesos health check"))
    for i, check in enumerate(checks):
        if "port" not in check and check.get("protocol") != "COMMAND":
            index = check.get("portIndex", 0)
            if not isinstance(index, int) or index >= len(ports):
                out.append((("healthChecks", i, "portIndex"),
                            "Health check port indices must address an element of the ports array "
                            "or container port mappings."))
    readiness = app.get("readinessChecks") or []
    if len(readiness) > 1:
        out.append((("readinessChecks",), "only one readinessCheck is supported right now"))
    for i, check in enumerate(readiness):
        if check.get("portName", "http-api") not in names:
            out.append((("readinessChecks", i), "The readinessCheck portName %s must be defined in "
                        "portDefinitions or portMappings" % check.get("portName", "http-api")))
        if check.get("timeoutSeconds", 10) >= check.get("intervalSeconds", 30):
            out.append((("readinessChecks", i), "The readinessCheck timeoutSeconds must be smaller "
                        "than intervalSeconds"))
    persistent = any("persistent" in v for v in container.get("volumes") or [] if isinstance(v, dict))
    strategy = app.get("upgradeStrategy") or {}
    if persistent and (strategy.get("minimumHealthCapacity", 1) > 0.5 or
                       strategy.get("maximumOverCapacity", 1) != 0):
        out.append((("upgradeStrategy",), "Resident apps need upgradeStrategy "
                    "minimumHealthCapacity <= 0.5 and maximumOverCapacity 0"))
    return out


def _group_rules(group, parent, prefix):
    out = []
    gid = definitions.absolute_id(group.get("id", ""), parent)
    for i, app in enumerate(group.get("apps") or []):
        if not isinstance(app, dict):
            continue
        aid = definitions.absolute_id(app.get("id", ""), gid)
        if str(app.get("id", "")).startswith("/") and not aid.startswith(gid.rstrip("/") + "/"):
            out.append((prefix + ("apps", i, "id"), "identifier %s is not child of %s. Hint: use "
                        "relative paths." % (aid, gid)))
        out += [(prefix + ("apps", i) + p, e) for p, e in app_rules(app)]
    for i, sub in enumerate(group.get("groups") or []):
        if isinstance(sub, dict):
            out += _group_rules(sub, gid, prefix + ("groups", i))
    return out


def details(doc, parent="/"):
    """Every reason Marathon would refuse this app or group definition, as 422 details."""
    kind = "Group" if definitions.is_group(doc) else "AppDefinition"
    found = schema_details(doc, kind)
    rules = _group_rules(doc, parent, ()) if kind == "Group" else app_rules(doc)
    merged = {d["path"]: d["errors"] for d in found}
    for parts, error in rules:
        merged.setdefault(path_text(parts), []).append(error)
    return [{"path": p, "errors": e} for p, e in merged.items()]
