"""What two definitions deployed to one cluster must never share (marathon/validate, across the files
it is given): an app id used by two teams, a marathon-lb service port, a fixed host port, a vhost and
path, a marathon-lb deployment group. Every collision names both files.

Allowed on purpose: the same app in two files of one team (stage 1's monolith.json and
monolith-x3.json, infra/redis.json and stage 3's /kurz/redis: validation.check_files checks they
agree); a canary and its stable app (label KURZ_CANARY_OF) share the service port, vhost, path and
deployment group; the stages of one team may reuse its Redis host port (they run one after the
other). Teams are told apart by the label KURZ_TEAM (marathon/render --team); files without it are
one team, the un-rendered workshop.
"""
import collections

from . import definitions
from .validation import Problem

TEAM_LABEL = "KURZ_TEAM"


def _entries(loaded):
    for path, data in loaded:
        for app_id, item, _, _ in definitions.walk(data):
            if isinstance(item, dict):
                yield path, app_id, item


def _related(a, b):
    """The same app, or a canary and its stable app (they share marathon-lb's routing on purpose)."""
    (_, id_a, item_a), (_, id_b, item_b) = a, b
    if id_a == id_b:
        return True
    canary_of = lambda item: (item.get("labels") or {}).get("KURZ_CANARY_OF")  # noqa: E731
    return canary_of(item_a) == id_b or canary_of(item_b) == id_a


def _team(item):
    return (item.get("labels") or {}).get(TEAM_LABEL) or ""


def _fixed_host_ports(item):
    ports = [m.get("hostPort") for m in definitions.port_mappings(item) if isinstance(m, dict)]
    if item.get("requirePorts"):
        ports += [p.get("port") for p in item.get("portDefinitions") or [] if isinstance(p, dict)]
    return [p for p in ports if isinstance(p, int) and p > 0]


def _routes(item):
    """(kind, key) pairs marathon-lb must not give to two apps."""
    labels = item.get("labels") or {}
    out = []
    for key, value in labels.items():
        if key.startswith("HAPROXY_") and key.endswith("_PORT") and key.count("_") == 2:
            out.append(("marathon-lb service port", str(value)))
        if key.startswith("HAPROXY_") and key.endswith("_VHOST") and key.count("_") == 2:
            index = key.split("_")[1]
            path = labels.get("HAPROXY_%s_PATH" % index) or "(no path: the rest of the vhost)"
            for host in str(value).split(","):
                out.append(("vhost and path", "%s %s" % (host.strip(), path)))
    if labels.get("HAPROXY_DEPLOYMENT_GROUP"):
        out.append(("marathon-lb deployment group", labels["HAPROXY_DEPLOYMENT_GROUP"]))
    return out


def check(loaded):
    """[(path, Problem)] for every collision between the loaded files [(path, definition)]."""
    out = []
    entries = list(_entries(loaded))

    def clash(kind, key, first, second, why):
        (path_a, id_a, _), (path_b, id_b, _) = first, second
        out.append((path_b, Problem(id_b, kind.replace(" ", "-"), "collision: %s %s is also %s's in %s (%s)"
                                    % (kind, key, id_a, path_a, why))))

    teams_of = collections.defaultdict(list)
    for entry in entries:
        teams_of[entry[1]].append(entry)
    for app_id, places in teams_of.items():
        first = places[0]
        for other in places[1:]:
            if _team(other[2]) != _team(first[2]):
                clash("app id", app_id, first, other, "teams %s and %s would overwrite each other; render with "
                      "marathon/render --team" % (_team(first[2]) or "(none)", _team(other[2]) or "(none)"))
    seen = {}
    for entry in entries:
        for kind, key in _routes(entry[2]):
            prior = seen.setdefault((kind, key), entry)
            if prior is not entry and not _related(prior, entry):
                clash(kind, key, prior, entry, "one cluster, one marathon-lb: give each team its own block with "
                      "marathon/render --team NAME --slot N")
    seen = {}
    for entry in entries:
        for port in _fixed_host_ports(entry[2]):
            prior = seen.setdefault(port, entry)
            if prior is not entry and prior[1] != entry[1] and _team(prior[2]) != _team(entry[2]):
                clash("fixed host port", str(port), prior, entry,
                      "two teams' tasks could not share an agent; render with a different --slot")
    return out
