"""One room, one cluster: kurz's definitions rewritten per team so that any number of teams deploy
the same files side by side without touching each other (marathon/render --team NAME [--slot N]).

Contract (what render_team changes; everything else is kept byte for byte):
- A team has a NAME (a DNS label: lower-case letters, digits, '-', at most 20 characters, starting
  with a letter) and a SLOT 1..99 (default: the number NAME ends with, team07 -> 7). Two teams of
  one room need different names AND different slots; marathon/validate finds both mistakes.
- App and group ids move under /NAME: /kurz/redis -> /NAME/kurz/redis (Mesos-DNS:
  redis-kurz-NAME.marathon.mesos), dependencies and KURZ_CANARY_OF likewise.
- Every env value and label that names a Mesos-DNS name of a renamed app is rewritten
  (REDIS_URL=redis://:PASSWORD@redis-kurz.marathon.mesos:6379 -> redis://:PASSWORD@redis-kurz-NAME.marathon.mesos:<port>;
  the password stays).
- marathon-lb service ports (HAPROXY_<n>_PORT, 10001..10099) move to the team's block:
  10000 + 100 * SLOT + (port - 10000), so team 7's stage 3 web is 10715 instead of 10015.
- Redis's fixed host port 6379 becomes REDIS_HOST_PORT_BASE + SLOT (6407 for slot 7), in the
  port mapping and in every REDIS_URL that points at it (Mesos-DNS A records carry no port).
- Vhosts: HAPROXY_<n>_VHOST and PUBLIC_BASE_URL get NAME as first label (NAME.kurz.example).
- HAPROXY_GROUP external -> external-NAME (the room's marathon-lb is rendered with --room and
  watches every team's group); HAPROXY_DEPLOYMENT_GROUP gets a NAME- prefix.
- Every app gets the label KURZ_TEAM=NAME (Prometheus' marathon.yml makes the job NAME-<image>).
- The room's shared apps (/infra/*: the registry, marathon-lb, Prometheus) are not per team:
  render_team refuses them; render_room gives marathon-lb every team's group and service ports.
"""
import copy
import re

from . import definitions

SERVICE_PORT_BASE = 10000
SERVICE_PORTS_PER_TEAM = 100
MAX_SLOT = 99
REDIS_PORT = 6379
REDIS_HOST_PORT_BASE = 6400
SHARED_PREFIX = "/infra/"
TEAM_LABEL = "KURZ_TEAM"
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_PORT_LABEL = re.compile(r"^HAPROXY_(\d+)_PORT$")
_VHOST_LABEL = re.compile(r"^HAPROXY_(\d+)_VHOST$")


class TeamError(Exception):
    """A team name, slot or definition that cannot be rendered per team (bad usage)."""


def parse_team(name, slot=None):
    """(name, slot) checked; slot None takes the number NAME ends with."""
    if not _NAME.match(name or "") or name.endswith("-"):
        raise TeamError("team %r is not a DNS label (a-z, 0-9, '-', starting with a letter, at most 20)" % name)
    if slot is None:
        match = re.search(r"(\d+)$", name)
        if not match:
            raise TeamError("team %r ends with no number: give its slot with --slot N (1..%d)" % (name, MAX_SLOT))
        slot = int(match.group(1))
    if not isinstance(slot, int) or not 1 <= slot <= MAX_SLOT:
        raise TeamError("slot %r of team %s is not in 1..%d" % (slot, name, MAX_SLOT))
    return name, slot


def service_port(port, slot):
    """The team's service port for a definition's service port (10001..10099)."""
    port = int(port)
    offset = port - SERVICE_PORT_BASE
    if not 1 <= offset < SERVICE_PORTS_PER_TEAM:
        raise TeamError("service port %d is outside %d..%d: cannot give it a per-team block"
                        % (port, SERVICE_PORT_BASE + 1, SERVICE_PORT_BASE + SERVICE_PORTS_PER_TEAM - 1))
    return SERVICE_PORT_BASE + SERVICE_PORTS_PER_TEAM * slot + offset


def service_port_block(slot):
    """(first, last) service port of a team's block."""
    first = SERVICE_PORT_BASE + SERVICE_PORTS_PER_TEAM * slot
    return first + 1, first + SERVICE_PORTS_PER_TEAM - 1


def redis_host_port(slot):
    return REDIS_HOST_PORT_BASE + slot


def team_id(app_id, name):
    return "/" + name + definitions.absolute_id(app_id)


_DNS = re.compile(r"(?<![A-Za-z0-9.-])([a-z0-9][a-z0-9-]*)\.marathon\.mesos(:%d\b)?" % REDIS_PORT)


def _rename_text(text, name, slot):
    """Mesos-DNS names of the team's apps (<app>-<group>.marathon.mesos, not the room's shared
    *-infra apps nor marathon.mesos itself) get the team: redis-kurz -> redis-kurz-NAME; a Redis
    port 6379 after such a name becomes the team's Redis host port."""
    def fix(match):
        label, port = match.group(1), match.group(2)
        if label.endswith("-infra") or label.endswith("-" + name):
            return match.group(0)
        return "%s-%s.marathon.mesos%s" % (label, name, ":%d" % redis_host_port(slot) if port else "")
    return _DNS.sub(fix, text)


def _vhost(host, name):
    return host if host.startswith(name + ".") else name + "." + host


def render_team(definition, name, slot=None):
    """A deep copy of the definition for team NAME (see the module contract); TeamError otherwise."""
    name, slot = parse_team(name, slot)
    out = copy.deepcopy(definition)
    found = list(definitions.walk(out))
    shared = [app_id for app_id, _, _, _ in found if app_id.startswith(SHARED_PREFIX)]
    if shared:
        raise TeamError("%s is shared by the whole room (deploy it once, without --team; marathon-lb: "
                        "marathon/render --room NAMES)" % shared[0])
    for app_id, item, _, _ in found:
        if (item.get("labels") or {}).get(TEAM_LABEL):
            raise TeamError("%s is already rendered for team %s" % (app_id, item["labels"][TEAM_LABEL]))
    renames = {app_id: team_id(app_id, name) for app_id, _, _, _ in found}

    def fix_text(value):
        return _rename_text(value, name, slot) if isinstance(value, str) else value

    if definitions.is_group(out):
        _rename_groups(out, name, "/")
    for app_id, item, group_id, _ in found:
        item["id"] = renames[app_id]
        item["dependencies"] = [team_id(definitions.absolute_id(x, group_id), name)
                                for x in item.get("dependencies") or []]
        if not item["dependencies"]:
            del item["dependencies"]
        for mapping in definitions.port_mappings(item):
            if isinstance(mapping, dict) and mapping.get("hostPort") == REDIS_PORT:
                mapping["hostPort"] = redis_host_port(slot)
        env = item.get("env") or {}
        for key, value in env.items():
            value = fix_text(value)
            if key == "PUBLIC_BASE_URL" and isinstance(value, str):
                value = re.sub(r"^(https?://)([^/:]+)", lambda m: m.group(1) + _vhost(m.group(2), name), value)
            env[key] = value
        labels = item.setdefault("labels", {})
        for key, value in list(labels.items()):
            if _PORT_LABEL.match(key):
                labels[key] = str(service_port(value, slot))
            elif _VHOST_LABEL.match(key):
                labels[key] = ",".join(_vhost(h.strip(), name) for h in str(value).split(","))
            elif key == "HAPROXY_GROUP":
                labels[key] = "%s-%s" % (value, name)
            elif key == "HAPROXY_DEPLOYMENT_GROUP":
                labels[key] = "%s-%s" % (name, value)
            elif key == "KURZ_CANARY_OF":
                labels[key] = renames.get(definitions.absolute_id(value), team_id(value, name))
            else:
                labels[key] = fix_text(value)
        labels[TEAM_LABEL] = name
        if "args" in item:
            item["args"] = [fix_text(a) for a in item["args"]]
    return out


def _rename_groups(group, name, old_parent):
    """Ids and dependencies of a group and its sub-groups (ids resolved against the old parents)."""
    old_id = definitions.absolute_id(group.get("id", "/"), old_parent)
    group["id"] = team_id(old_id, name)
    if group.get("dependencies"):
        group["dependencies"] = [team_id(definitions.absolute_id(x, old_id), name) for x in group["dependencies"]]
    for sub in group.get("groups") or []:
        if isinstance(sub, dict):
            _rename_groups(sub, name, old_id)


def parse_room(text):
    """'team01,team02' or 'alpha:1,beta:2' -> [(name, slot)], names and slots each used once."""
    room = []
    for part in [p.strip() for p in (text or "").split(",") if p.strip()]:
        team, _, slot = part.partition(":")
        if slot and not slot.isdigit():
            raise TeamError("room entry %r: the slot after ':' is not a number" % part)
        room.append(parse_team(team, int(slot) if slot else None))
    if not room:
        raise TeamError("--room needs at least one team (team01,team02,... or NAME:SLOT,...)")
    for what, index in (("name", 0), ("slot", 1)):
        seen = {}
        for entry in room:
            if entry[index] in seen:
                raise TeamError("teams %s and %s have the same %s" % (seen[entry[index]][0], entry[0], what))
            seen[entry[index]] = entry
    return room


def render_room(definition, room):
    """marathon-lb for a room: watches external-NAME for every team and reserves every team's service
    ports (the ports of the definition's own service-port definitions, moved to each team's block)."""
    out = copy.deepcopy(definition)
    if definitions.is_group(out) or definitions.absolute_id(out.get("id", "")) != "/infra/marathon-lb":
        raise TeamError("--room renders /infra/marathon-lb only (the other apps are rendered with --team)")
    args = out.get("args") or []
    groups = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--group"]
    kept = [a for i, a in enumerate(args) if a != "--group" and (i == 0 or args[i - 1] != "--group")]
    for team, _ in room:
        kept += ["--group", "%s-%s" % (groups[0] if groups else "external", team)]
    out["args"] = kept
    defs = out.get("portDefinitions") or []
    fixed = [p for p in defs if not SERVICE_PORT_BASE < int(p.get("port", 0)) < SERVICE_PORT_BASE + SERVICE_PORTS_PER_TEAM]
    service = [p for p in defs if p not in fixed]
    for team, slot in room:
        for p in service:
            q = dict(p, port=service_port(p["port"], slot))
            if q.get("name"):
                q["name"] = "%s-%s" % (team, q["name"])
            fixed.append(q)
    out["portDefinitions"] = fixed
    labels = out.setdefault("labels", {})
    labels["KURZ_ROOM"] = ",".join("%s:%d" % t for t in room)
    return out
