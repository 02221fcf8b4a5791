"""kurz's Marathon definitions as data: find and load the JSON files under marathon/, walk the apps of
a group, read the facts the harness and the deploy tool need (named port, checks, grace, the
service's port variable, Mesos-DNS names), and rewrite the kurz images' registry and tag.

Standard library only. Contract:
- A definition file holds one app (`{"id", ...}` with no "apps"/"groups") or one group
  (`{"id", "apps": [...], "groups": [...]}`); ids in a group are absolute or relative to the group.
- A kurz image is `[REGISTRY/]kurz/<name>:<tag>`; `<name>` is the image's service (monolith,
  links, redirect, stats, qr, web, redis, prometheus, registry).
- A kurz service binds `<NAME>_PORT` (upper case) inside the container; the definitions set it to
  the containerPort of the named port mapping (PORT0 is the HOST port in bridge mode).
"""
import copy
import json
import os
import re
import typing

HERE = os.path.dirname(os.path.abspath(__file__))
MARATHON_DIR = os.path.dirname(os.path.dirname(HERE))  # marathon/
ROOT = os.path.dirname(MARATHON_DIR)  # the repository
STAGE_DIRS = ("stage1", "stage2", "stage3", "stage3-ha", "infra", "canary")

# The registry the workshop's private registry app (/infra/registry) answers on: found through
# Mesos-DNS by the agents' Docker daemons (fixed host port 5000; see marathon/README.md).
DEFAULT_REGISTRY = "registry-infra.marathon.mesos:5000"
# The app whose image cannot come from the workshop registry (it IS the registry): it carries no
# registry prefix, and render rewrites only its tag.
BOOTSTRAP_APPS = ("/infra/registry",)

_IMAGE = re.compile(r"^(?:(?P<registry>[^/]*[.:][^/]*|localhost)/)?kurz/(?P<name>[a-z0-9][a-z0-9-]*)"
                    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?$")


class DefinitionError(Exception):
    """A file that is missing, unreadable or not a JSON object (bad usage, exit 2 in the tools)."""


def project_version():
    """The project version from CMakeLists.txt (`project(kurz VERSION x.y.z ...)`): the image tag."""
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        match = re.search(r"project\s*\(\s*kurz\b[^)]*\bVERSION\s+([0-9][0-9.]*)", f.read(), re.S)
    if not match:
        raise DefinitionError("CMakeLists.txt: no project(kurz VERSION ...)")
    return match.group(1)


def definition_files(base=MARATHON_DIR):
    """Every *.json definition under marathon/<stage dir>/, sorted."""
    found = []
    for stage in STAGE_DIRS:
        folder = os.path.join(base, stage)
        for dirpath, _, names in os.walk(folder):
            found += [os.path.join(dirpath, n) for n in names if n.endswith(".json")]
    return sorted(found)


def load(path):
    """The JSON object in `path`; DefinitionError with a clear message otherwise."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise DefinitionError("%s: cannot read: %s" % (path, e.strerror or e))
    except UnicodeDecodeError as e:
        raise DefinitionError("%s: not UTF-8 text (%s)" % (path, e.reason))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DefinitionError("%s: not JSON: %s (line %d, column %d)" % (path, e.msg, e.lineno, e.colno))
    if not isinstance(data, dict):
        raise DefinitionError("%s: not a Marathon definition: expected a JSON object, got %s"
                              % (path, type(data).__name__))
    return data


def is_group(definition):
    return isinstance(definition, dict) and ("apps" in definition or "groups" in definition)


def absolute_id(item_id, parent="/"):
    """Marathon's id resolution: absolute ids stay, relative ones (also `..`) join the parent."""
    item_id = str(item_id)
    parts = [] if item_id.startswith("/") else [p for p in parent.split("/") if p]
    for part in item_id.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
        else:
            parts.append(part)
    return "/" + "/".join(parts)


class AppEntry(typing.NamedTuple):
    """One app of a definition, as walk finds it."""
    app_id: str  # absolute
    app: dict
    group_id: str  # the absolute id of the group it sits in ("/" for an app on its own)
    json_path: tuple  # keys from the top of the definition to the app, e.g. ("groups", 0, "apps", 1)


def walk(definition, parent="/"):
    """Yields an AppEntry (app_id, app, group_id, json_path) for every app of a definition (the app
    itself, or each app of the group and its sub-groups), with absolute ids."""
    if not is_group(definition):
        app_id = absolute_id(definition.get("id", ""), parent)
        yield AppEntry(app_id, definition, parent, ())
        return
    group_id = absolute_id(definition.get("id", ""), parent)
    for i, app in enumerate(definition.get("apps") or []):
        if isinstance(app, dict):
            yield AppEntry(absolute_id(app.get("id", ""), group_id), app, group_id, ("apps", i))
    for i, group in enumerate(definition.get("groups") or []):
        if isinstance(group, dict):
            for entry in walk(group, group_id):
                yield entry._replace(json_path=("groups", i) + entry.json_path)


def group_paths(group, path=(), parent="/"):
    """Yields (json_path, absolute group id) for a group and each of its sub-groups (nothing for an
    app). json_path is a tuple of keys, as in walk."""
    if not is_group(group):
        return
    gid = absolute_id(group.get("id", ""), parent)
    yield path, gid
    for i, sub in enumerate(group.get("groups") or []):
        if isinstance(sub, dict):
            yield from group_paths(sub, path + ("groups", i), gid)


def apps(definition):
    """{absolute app id: app} for every app of the definition, in file order."""
    return {app_id: app for app_id, app, _, _ in walk(definition)}


def app(definition, app_id):
    """The app with this absolute id, or KeyError."""
    return apps(definition)[absolute_id(app_id)]


def dependencies(definition):
    """{absolute app id: [absolute ids it depends on]} (an app's own and its groups' dependencies
    resolved against the group the app sits in)."""
    out = {}
    for app_id, item, group_id, _ in walk(definition):
        out[app_id] = [absolute_id(d, group_id) for d in item.get("dependencies") or []]
    return out


def parse_image(image):
    """(registry or "", name, tag or "") for a kurz image, None for any other image."""
    match = _IMAGE.match(image or "")
    if not match:
        return None
    return match.group("registry") or "", match.group("name"), match.group("tag") or ""


def kurz_image_name(item):
    """The kurz image name (e.g. "redirect") of an app, or None when it runs another image."""
    parsed = parse_image(docker_image(item))
    return parsed[1] if parsed else None


def docker_image(item):
    return ((item.get("container") or {}).get("docker") or {}).get("image", "")


def format_image(registry, name, tag):
    return "%skurz/%s%s" % (registry + "/" if registry else "", name, ":" + tag if tag else "")


def set_images(definition, registry=None, tag=None):
    """A deep copy with every kurz image's registry prefix (None: keep; "": none) and tag (None:
    keep) replaced. The bootstrap apps (the registry itself) keep their registry prefix."""
    out = copy.deepcopy(definition)
    for app_id, item, _, _ in walk(out):
        docker = (item.get("container") or {}).get("docker")
        if not docker or parse_image(docker.get("image")) is None:
            continue
        old_registry, name, old_tag = parse_image(docker["image"])
        new_registry = old_registry if registry is None or app_id in BOOTSTRAP_APPS else registry
        docker["image"] = format_image(new_registry, name, old_tag if tag is None else tag)
    return out


def port_mappings(item):
    return (item.get("container") or {}).get("portMappings") or []


def named_port(item, name=None):
    """The port mapping called `name` (default: the one the readiness check names, else the first
    named one), or None."""
    if name is None:
        check = readiness_check(item)
        name = check.get("portName") if check else None
    for mapping in port_mappings(item):
        if mapping.get("name") and (name is None or mapping.get("name") == name):
            return mapping
    return None


def health_check(item):
    """The app's one health check, or None."""
    checks = item.get("healthChecks") or []
    return checks[0] if checks else None


def readiness_check(item):
    checks = item.get("readinessChecks") or []
    return checks[0] if checks else None


def port_variable(item):
    """The variable the service binds (e.g. REDIRECT_PORT), from the kurz image name; None for
    images that are not kurz services."""
    name = kurz_image_name(item)
    return (name.upper().replace("-", "_") + "_PORT") if name else None


def env_int(item, key, default=None):
    value = (item.get("env") or {}).get(key)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def publishes_clicks(item):
    """True for the apps that buffer clicks for the Redis stream: redirect, and the monolith with
    REDIS_URL (stage 2). At shutdown they wait up to CLICK_SHUTDOWN_FLUSH_MS for the buffer."""
    name = kurz_image_name(item)
    return name == "redirect" or (name == "monolith" and bool((item.get("env") or {}).get("REDIS_URL")))


def shutdown_budget_keys(item):
    """The env settings that add up to a task's longest SIGTERM-to-exit time."""
    keys = ["SHUTDOWN_DELAY_MS", "DRAIN_TIMEOUT_MS"]
    return keys + ["CLICK_SHUTDOWN_FLUSH_MS"] if publishes_clicks(item) else keys


SHUTDOWN_DEFAULTS_MS = {"SHUTDOWN_DELAY_MS": 1000, "DRAIN_TIMEOUT_MS": 10000, "CLICK_SHUTDOWN_FLUSH_MS": 5000}


def shutdown_budget_ms(item):
    """SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS (+ CLICK_SHUTDOWN_FLUSH_MS for the apps that publish
    clicks) as configured in the app's env (the services' own defaults, 1000, 10000 and 5000, when
    unset): the longest a kurz task takes from SIGTERM to exit."""
    return sum(env_int(item, key, SHUTDOWN_DEFAULTS_MS[key]) for key in shutdown_budget_keys(item))


def is_sentinel(item):
    """A Redis Sentinel app: the kurz/redis image run with --sentinel."""
    return kurz_image_name(item) == "redis" and "--sentinel" in [str(a) for a in item.get("args") or []]


def sentinel_directive(item, key):
    """The words after `--sentinel <key>` in a sentinel app's args (e.g. monitor -> [name, host,
    port, quorum]), or None."""
    args = [str(a) for a in item.get("args") or []]
    for i, arg in enumerate(args[:-1]):
        if arg == "--sentinel" and args[i + 1] == key:
            words = []
            for word in args[i + 2:]:
                if word.startswith("--"):
                    break
                words.append(word)
            return words
    return None


def mesos_dns_name(app_id, domain="mesos"):
    """Mesos-DNS's name for a Marathon app: the path segments reversed, joined by '-', then
    `.marathon.<domain>` (/kurz/redis -> redis-kurz.marathon.mesos)."""
    parts = [p for p in absolute_id(app_id).split("/") if p]
    return "-".join(reversed(parts)) + ".marathon." + domain


def dumps(definition):
    """The canonical text of a definition file (2-space indent, trailing newline)."""
    return json.dumps(definition, indent=2) + "\n"
