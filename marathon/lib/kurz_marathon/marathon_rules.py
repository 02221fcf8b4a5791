"""Layer 2: the submission-time rules Marathon's API applies that its JSON Schema does not express
(read from Marathon's AppValidation / AppDefinition / ResourceRole / UpgradeStrategy validators and
the reference README): one networking style, ports, health and readiness checks,
constraints, resident tasks (local persistent volumes), single-instance apps, group ids and
dependencies. What Marathon would refuse (422) or run wrongly. Standard library only.
"""
import re

from . import definitions
from .problems import Layer

MESOS_CHECKS = ("COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP")


class MarathonRules(Layer):
    """Marathon's own rules over an app or a group."""

    def check(self):
        if definitions.is_group(self.definition):
            self._group_rules()
        else:
            app_id = str(self.definition.get("id", ""))
            if not app_id.startswith("/"):
                self.add(app_id, ("id",), "an app submitted on its own needs an absolute id (/...)")
        for app_id, item, group_id, _ in definitions.walk(self.definition):
            self._app_rules(app_id, item, group_id)

    def _group_rules(self):
        seen = {}
        for gpath, gid in definitions.group_paths(self.definition, (), "/"):
            seen.setdefault(gid, []).append("group")
        apps = list(definitions.walk(self.definition))
        for app_id, _, group_id, _ in apps:
            seen.setdefault(app_id, []).append("app")
            if not app_id.startswith(group_id.rstrip("/") + "/"):
                self.add(app_id, ("id",), "the app id is not inside its group %s" % group_id)
        for item_id, kinds in seen.items():
            if len(kinds) > 1:
                self.add(item_id, ("id",), "id %s is used %d times in this definition" % (item_id, len(kinds)))
        deps = definitions.dependencies(self.definition)
        known = set(seen)
        for app_id, wanted in deps.items():
            for dep in wanted:
                if dep == app_id:
                    self.add(app_id, ("dependencies",), "the app depends on itself")
                elif dep not in known and not any(k.startswith(dep.rstrip("/") + "/") for k in known):
                    self.add(app_id, ("dependencies",), "dependency %s is not in this group" % dep)
        cycle = _find_cycle({a: [x for x in w if x in deps] for a, w in deps.items()})
        if cycle:
            self.add(cycle[0], ("dependencies",), "dependency cycle: %s" % " -> ".join(cycle))

    def _app_rules(self, app_id, item, group_id):
        if app_id == "/":
            self.add(app_id, ("id",), "an app id must not be the root /")
        container = item.get("container") or {}
        docker = container.get("docker") or {}
        networks = item.get("networks") or []
        modes = [n.get("mode", "container") for n in networks if isinstance(n, dict)]
        mappings = container.get("portMappings") or docker.get("portMappings") or []
        port_defs = item.get("portDefinitions") or []
        if docker.get("network") and networks:
            self.add(app_id, ("container", "docker", "network"),
                     "must not specify both container.docker.network and networks")
        if item.get("ipAddress") and networks:
            self.add(app_id, ("ipAddress",), "must not specify both networks and ipAddress")
        if "host" in modes and mappings:
            self.add(app_id, ("container", "portMappings"), "portMappings are not allowed with host-networking")
        if port_defs and (any(m != "host" for m in modes) or docker.get("network") in ("BRIDGE", "USER")):
            self.add(app_id, ("portDefinitions",), "portDefinitions are only allowed with host-networking")
        if mappings and not networks and docker.get("network") not in ("BRIDGE", "USER"):
            self.add(app_id, ("container", "portMappings"),
                     "portMappings need container or container/bridge networking (networks)")
        if container.get("type", "DOCKER") == "DOCKER" and modes.count("container") > 1:
            self.add(app_id, ("networks",),
                     "may only specify a single container network when using the Docker container engine")
        for key, ports in (("portMappings", mappings), ("portDefinitions", port_defs)):
            names = [p.get("name") for p in ports if isinstance(p, dict) and p.get("name")]
            for name in sorted({n for n in names if names.count(n) > 1}):
                self.add(app_id, ("container", key) if key == "portMappings" else (key,),
                         "Port names must be unique: %s is used twice" % name)
        numbers = [p.get("port") for p in port_defs if isinstance(p, dict) and p.get("port")]
        if len(numbers) != len(set(numbers)):
            self.add(app_id, ("portDefinitions",), "Ports must be unique.")
        if not item.get("cmd") and not item.get("args") and not (docker.get("image") or container.get("appc")):
            self.add(app_id, (), "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.")
        if item.get("cmd") is not None and len(str(item.get("cmd"))) <= 1:
            self.add(app_id, ("cmd",), "must not be an empty string")
        # The legacy `ports` array (Marathon < 1.0 style, still accepted) declares ports too.
        legacy = [{"port": p} for p in item.get("ports") or [] if isinstance(p, int)]
        ports = mappings or port_defs or legacy
        self._health_rules(app_id, item, ports)
        self._readiness_rules(app_id, item, mappings, port_defs)
        self._constraint_rules(app_id, item)
        self._volume_rules(app_id, item, container)
        self._resident_rules(app_id, item, container)
        labels = item.get("labels") or {}
        if str(labels.get("MARATHON_SINGLE_INSTANCE_APP", "")).lower() == "true":
            if int(item.get("instances", 1) or 0) > 1:
                self.add(app_id, ("instances",), "Single instance app may only have one instance")
            strategy = item.get("upgradeStrategy") or {}
            for key in ("minimumHealthCapacity", "maximumOverCapacity"):
                if strategy.get(key, 1) != 0:
                    self.add(app_id, ("upgradeStrategy", key),
                             "a single instance app needs %s 0 (got %s)" % (key, strategy.get(key, 1)))

    def _health_rules(self, app_id, item, ports):
        checks = [c for c in item.get("healthChecks") or [] if isinstance(c, dict)]
        mesos = [c for c in checks if c.get("protocol", "HTTP") in MESOS_CHECKS and c.get("protocol") != "COMMAND"]
        if len(mesos) > 1:
            self.add(app_id, ("healthChecks",), "AppDefinition can contain at most one Mesos health check")
        for i, check in enumerate(checks):
            if check.get("protocol") == "COMMAND" or "command" in check:
                continue
            index = check.get("portIndex")
            if index is None:
                ok = "port" in check or len(ports) == 1
            else:
                ok = isinstance(index, int) and 0 <= index < len(ports)
            if not ok:
                self.add(app_id, ("healthChecks", i, "portIndex"),
                         "Health check port indices must address an element of the ports array or container "
                         "port mappings (portIndex %s, %d port(s))" % (index, len(ports)))

    def _readiness_rules(self, app_id, item, mappings, port_defs):
        checks = item.get("readinessChecks") or []
        if len(checks) > 1:
            self.add(app_id, ("readinessChecks",), "an app can have at most one readiness check (got %d)" % len(checks))
        names = {p.get("name") for p in (mappings or port_defs) if isinstance(p, dict) and p.get("name")}
        for i, check in enumerate(checks):
            if not isinstance(check, dict):
                continue
            name = check.get("portName", "http-api")
            if name not in names:
                self.add(app_id, ("readinessChecks", i, "portName"),
                         "No port definition reference for portName %s" % name)
            timeout, interval = check.get("timeoutSeconds", 10), check.get("intervalSeconds", 30)
            if not timeout < interval:
                self.add(app_id, ("readinessChecks", i, "timeoutSeconds"),
                         "timeoutSeconds (%s) must be below intervalSeconds (%s)" % (timeout, interval))

    def _constraint_rules(self, app_id, item):
        for i, c in enumerate(item.get("constraints") or []):
            if not isinstance(c, list) or len(c) < 2:
                continue
            op, value = c[1], c[2] if len(c) > 2 else None
            where = ("constraints", i)
            if op == "UNIQUE" and value:
                self.add(app_id, where, "UNIQUE: Value specified but not used")
            elif op == "CLUSTER" and not value:
                self.add(app_id, where, "CLUSTER: Missing value")
            elif op == "GROUP_BY" and value is not None and not re.fullmatch(r"-?\d+", value):
                self.add(app_id, where, "GROUP_BY: Value was specified but is not a number")
            elif op == "MAX_PER" and not (value and re.fullmatch(r"-?\d+", value)):
                self.add(app_id, where, "MAX_PER: Value was not specified or is not a number")
            elif op in ("LIKE", "UNLIKE"):
                if value is None:
                    self.add(app_id, where, "%s: A regular expression value must be provided" % op)
                else:
                    try:
                        re.compile(value)
                    except re.error:
                        self.add(app_id, where, "%s: '%s' is not a valid regular expression" % (op, value))

    def _volume_rules(self, app_id, item, container):
        for i, volume in enumerate(container.get("volumes") or []):
            if not isinstance(volume, dict):
                continue
            where = ("container", "volumes", i)
            persistent, external = volume.get("persistent"), volume.get("external")
            if persistent and external:
                self.add(app_id, where, "illegal combination of persistent and external volume fields")
            elif persistent is not None:
                path = str(volume.get("containerPath", ""))
                if path in ("", ".", "..") or "/" in path:
                    self.add(app_id, where + ("containerPath",),
                             "a persistent volume's containerPath is one relative name without \"/\" (got %r)" % path)
                if volume.get("mode", "RW") != "RW":
                    self.add(app_id, where + ("mode",), "a persistent volume's mode must be RW")
                if not persistent.get("size", 0) > 0:
                    self.add(app_id, where + ("persistent", "size"), "a persistent volume's size must be above 0")
                kind = persistent.get("type", "root")
                if "maxSize" in persistent and kind != "mount":
                    self.add(app_id, where + ("persistent", "maxSize"), "Only mount volumes can have maxSize")
                if "maxSize" in persistent and not persistent["maxSize"] > persistent.get("size", 0):
                    self.add(app_id, where + ("persistent", "maxSize"), "Max size must be larger than size")
                if kind == "root" and persistent.get("constraints"):
                    self.add(app_id, where + ("persistent", "constraints"),
                             "Constraints on root volumes are not supported")
            elif external is None and not volume.get("hostPath"):
                self.add(app_id, where + ("hostPath",), "a host volume needs a non-empty hostPath")

    def _resident_rules(self, app_id, item, container):
        persistent = any(isinstance(v, dict) and v.get("persistent") is not None
                         for v in container.get("volumes") or [])
        resident = "residency" in item
        if persistent != resident:
            self.add(app_id, ("residency",), "App must contain persistent volumes and define residency")
        if not (persistent or resident):
            return
        strategy = item.get("upgradeStrategy") or {}
        if strategy.get("minimumHealthCapacity", 0.5) > 0.5:
            self.add(app_id, ("upgradeStrategy", "minimumHealthCapacity"),
                     "a resident app needs minimumHealthCapacity 0.5 or less (got %s)"
                     % strategy["minimumHealthCapacity"])
        if strategy.get("maximumOverCapacity", 0) != 0:
            self.add(app_id, ("upgradeStrategy", "maximumOverCapacity"),
                     "a resident app needs maximumOverCapacity 0 (got %s)" % strategy["maximumOverCapacity"])
        if "unreachableStrategy" in item and item["unreachableStrategy"] != "disabled":
            self.add(app_id, ("unreachableStrategy",), "unreachableStrategy must be disabled for resident tasks")
        roles = item.get("acceptedResourceRoles")
        if roles is not None and roles != ["*"]:
            self.add(app_id, ("acceptedResourceRoles",), 'A resident app must have `acceptedResourceRoles = ["*"]`.')


def _find_cycle(graph):
    """A list of ids forming a cycle in {id: [ids it depends on]}, or None."""
    state = {}
    stack = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None
