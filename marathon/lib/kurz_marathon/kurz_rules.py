"""Layer 3: kurz's own rules (marathon/README.md, "Rules"): how a kurz service must be run by the
Mesos Docker executor and fronted by marathon-lb (probes, labels, edge paths, secrets, Redis and its
sentinels, upgrade room), and, across files, that the same app agrees with itself and a canary with
its stable app. Standard library only.
"""
import collections
import math
import re

from . import definitions
from .problems import Layer, Problem, short
from .routes import EDGE_EXACT_PATHS, EDGE_PATHS

# The kurz HTTP services (docker/<name>.Dockerfile). How marathon-lb routes to them on the shared
# vhost comes from the edge's route table (edge/routes.json, read by routes.py): EDGE_PATHS, the
# HAPROXY_0_PATH each must carry (None for the catch-all), and EDGE_EXACT_PATHS, the exact paths
# its HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH template routes to it besides.
SERVICES = ("monolith", "links", "redirect", "stats", "qr", "web")
# Services that cannot run without Redis (the stage 1 monolith runs without; web never needs it).
NEEDS_REDIS = ("links", "redirect", "stats", "qr")
CONTAINER_PORT = 8080
REDIS_PORT = 6379
SENTINEL_PORT = 26379
# Where a sentinel keeps the config file it rewrites: a fresh Docker volume filled from the image's
# empty /etc/kurz/sentinel/sentinel.conf (docker/redis.Dockerfile; the image has no shell to make one).
SENTINEL_CONFIG = "/etc/kurz/sentinel/sentinel.conf"
SENTINEL_MOUNT = "type=volume,dst=/etc/kurz/sentinel"
AGENTS = 3  # the workshop cluster: constraints must leave every upgrade room on 3 agents
MAX_HEALTH_DELAY_S = 5  # the contract harness waits delaySeconds out in CI
HARDENING = {"read-only": "true", "cap-drop": "ALL", "security-opt": "no-new-privileges"}
NEEDS_API_KEY = ("links", "monolith")  # the services with routes API_KEY guards (list, delete)
SECRET_VALUE = re.compile(r"\$\{KURZ_[A-Z0-9_]+\}|[A-Za-z0-9._~-]{16,128}")  # credentials.py
METRICS_ACL = re.compile(r"acl\s+(\S+)\s+path(?:_beg)?\s+/metrics\b")  # then http-request deny if <acl>


class KurzRules(Layer):
    """kurz's rules over an app or a group."""

    def check(self):
        redis_apps = {app_id: item for app_id, item, _, _ in definitions.walk(self.definition)
                      if definitions.kurz_image_name(item) == "redis" and not definitions.is_sentinel(item)}
        sentinels = {app_id: item for app_id, item, _, _ in definitions.walk(self.definition)
                     if definitions.is_sentinel(item)}
        deps = definitions.dependencies(self.definition)
        for app_id, item, group_id, _ in definitions.walk(self.definition):
            self._every_app(app_id, item)
            name = definitions.kurz_image_name(item)
            if name in SERVICES:
                self._service(app_id, item, name, redis_apps, deps.get(app_id, []), sentinels)
            elif name == "redis" and app_id in sentinels:
                self._sentinel(app_id, item, redis_apps, len(sentinels))
            elif name == "redis":
                self._redis(app_id, item)
                self._replica(app_id, item, redis_apps)
            elif name == "prometheus":
                self._bridge_and_port(app_id, item, 9090)
            self._upgrade_room(app_id, item)

    def _every_app(self, app_id, item):
        if "cmd" in item:
            self.add(app_id, ("cmd",), "kurz: use args, never cmd (cmd runs /bin/sh -c; the images have no shell)")
        image = definitions.docker_image(item)
        if not image:
            self.add(app_id, ("container", "docker", "image"), "kurz: every app runs a Docker image")
        else:
            tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
            if "@sha256:" not in image and (not tag or tag == "latest"):
                self.add(app_id, ("container", "docker", "image"),
                         "kurz: pin the image by a tag other than latest (got %s)" % image)
            parsed = definitions.parse_image(image)
            if parsed and not parsed[0] and app_id not in definitions.BOOTSTRAP_APPS:
                self.add(app_id, ("container", "docker", "image"),
                         "kurz: a kurz image needs a registry prefix (REGISTRY/kurz/<name>:<tag>; marathon/render "
                         "sets it)")
        if "taskKillGracePeriodSeconds" not in item:
            self.add(app_id, ("taskKillGracePeriodSeconds",),
                     "kurz: set taskKillGracePeriodSeconds (unset, the agent's default is 5 s)")
        for key in ("cpus", "mem", "upgradeStrategy"):
            if key not in item:
                self.add(app_id, (key,), "kurz: set %s (from the measured figures, marathon/README.md)" % key)
        if isinstance(item.get("mem", 32), (int, float)) and item.get("mem", 32) < 32:
            self.add(app_id, ("mem",), "kurz: mem below 32 MB is raised to 32 MB by Mesos; say what you get")
        checks = item.get("healthChecks") or []
        if len(checks) != 1:
            self.add(app_id, ("healthChecks",), "kurz: exactly one health check (got %d)" % len(checks))
        for i, check in enumerate(checks):
            if isinstance(check, dict) and check.get("delaySeconds", 15) > MAX_HEALTH_DELAY_S:
                self.add(app_id, ("healthChecks", i, "delaySeconds"),
                         "kurz: keep delaySeconds at most %d (got %s)" % (MAX_HEALTH_DELAY_S, check.get("delaySeconds", 15)))
            if isinstance(check, dict) and not check.get("timeoutSeconds", 20) < check.get("intervalSeconds", 60):
                self.add(app_id, ("healthChecks", i, "timeoutSeconds"),
                         "kurz: a health check's timeoutSeconds must be below its intervalSeconds")

    def _bridge_and_port(self, app_id, item, container_port, host_port=0):
        """container/bridge networking with a named first port mapping; returns the mapping."""
        networks = item.get("networks")
        if networks != [{"mode": "container/bridge"}]:
            self.add(app_id, ("networks",), 'kurz: networks must be [{"mode": "container/bridge"}] (got %s)'
                     % short(networks))
        container = item.get("container") or {}
        if container.get("type", "DOCKER") != "DOCKER":
            self.add(app_id, ("container", "type"), "kurz: the Docker containerizer (type DOCKER)")
        if (container.get("docker") or {}).get("portMappings"):
            self.add(app_id, ("container", "docker", "portMappings"),
                     "kurz: port mappings belong in container.portMappings (docker.portMappings is deprecated)")
        mappings = container.get("portMappings") or []
        first = mappings[0] if mappings and isinstance(mappings[0], dict) else {}
        if not first.get("name"):
            self.add(app_id, ("container", "portMappings"), "kurz: the first port mapping must be named")
        if first.get("containerPort") != container_port:
            self.add(app_id, ("container", "portMappings", 0, "containerPort"),
                     "kurz: containerPort must be %d (got %s)" % (container_port, first.get("containerPort")))
        if first.get("hostPort", 0) != host_port:
            self.add(app_id, ("container", "portMappings", 0, "hostPort"),
                     "kurz: hostPort must be %d%s (got %s)" % (host_port, " (Marathon picks one)" if host_port == 0
                                                               else " (fixed: Mesos-DNS A records carry no port)",
                                                               first.get("hostPort", 0)))
        return first

    def _service(self, app_id, item, name, redis_apps, deps, sentinels=None):
        mapping = self._bridge_and_port(app_id, item, CONTAINER_PORT)
        env = item.get("env") or {}
        var = definitions.port_variable(item)
        if env.get(var) != str(mapping.get("containerPort")):
            self.add(app_id, ("env", var), "kurz: %s must be the containerPort %s (PORT0 is the HOST port in bridge "
                     "mode; got %s)" % (var, mapping.get("containerPort"), short(env.get(var))))
        for key in ("INSTANCE_ID", "PORT0", "PORT"):
            if key in env:
                self.add(app_id, ("env", key), "kurz: do not set %s (X-Instance-Id comes from MESOS_TASK_ID; the "
                         "port from %s)" % (key, var))
        checks = item.get("healthChecks") or []
        check = checks[0] if checks and isinstance(checks[0], dict) else {}
        if check.get("protocol") != "MESOS_HTTP" or check.get("path") != "/health/live" \
                or check.get("portIndex", 0) != 0:
            self.add(app_id, ("healthChecks", 0), "kurz: the health check is MESOS_HTTP on /health/live, portIndex 0 "
                     "(got %s %s, portIndex %s)" % (check.get("protocol"), check.get("path"), check.get("portIndex")))
        ready = item.get("readinessChecks") or []
        if len(ready) != 1:
            self.add(app_id, ("readinessChecks",), "kurz: exactly one readiness check (got %d)" % len(ready))
        else:
            rc = ready[0]
            if rc.get("path") != "/health/ready" or rc.get("protocol", "HTTP") != "HTTP":
                self.add(app_id, ("readinessChecks", 0, "path"),
                         "kurz: the readiness check is HTTP on /health/ready (got %s)" % rc.get("path"))
            if rc.get("portName") != mapping.get("name"):
                self.add(app_id, ("readinessChecks", 0, "portName"), "kurz: the readiness check must name the port "
                         "mapping %s (got %s)" % (mapping.get("name"), rc.get("portName")))
        budget_keys = definitions.shutdown_budget_keys(item)
        for key in budget_keys:
            if definitions.env_int(item, key) is None:
                self.add(app_id, ("env", key), "kurz: set %s (the kill grace is sized from it)" % key)
        grace = item.get("taskKillGracePeriodSeconds")
        budget = definitions.shutdown_budget_ms(item) / 1000.0
        if isinstance(grace, (int, float)) and not grace > budget:
            self.add(app_id, ("taskKillGracePeriodSeconds",), "kurz: taskKillGracePeriodSeconds (%s) must be above "
                     "(%s)/1000 = %g" % (grace, " + ".join(budget_keys), budget))
        params = {p.get("key"): p.get("value") for p in (item.get("container") or {}).get("docker", {}).get(
            "parameters") or [] if isinstance(p, dict)}
        for key, value in HARDENING.items():
            if params.get(key) != value:
                self.add(app_id, ("container", "docker", "parameters"),
                         "kurz: docker parameter %s=%s (as in the compose stacks)" % (key, value))
        if "TRUSTED_PROXIES" not in env:
            self.add(app_id, ("env", "TRUSTED_PROXIES"), "kurz: set TRUSTED_PROXIES so the client behind marathon-lb is known")
        if not (mapping.get("labels") or {}).get("metrics"):
            self.add(app_id, ("container", "portMappings", 0, "labels"),
                     "kurz: label the port mapping metrics=/metrics (Prometheus' marathon_sd_configs keeps those)")
        self._edge_labels(app_id, item, name)
        self._redis_url(app_id, item, name, redis_apps, deps, sentinels or {})
        self._secrets(app_id, item, name)

    def _secrets(self, app_id, item, name):
        """Shared clusters: the API key from the environment or a DC/OS secret, never a literal in
        the file nor missing; the image's version not overridden."""
        env = item.get("env") or {}
        if "KURZ_VERSION" in env:
            self.add(app_id, ("env", "KURZ_VERSION"), "kurz: do not set KURZ_VERSION: the image's version "
                     "comes from its tag at build time (/info and the logs show it)")
        if name not in NEEDS_API_KEY:
            return
        key = env.get("API_KEY")
        if isinstance(key, dict):
            if key.get("secret") not in (item.get("secrets") or {}):
                self.add(app_id, ("env", "API_KEY"), "kurz: API_KEY names the secret %s, which the app's "
                         "secrets do not declare" % key.get("secret"))
        elif not isinstance(key, str) or not SECRET_VALUE.fullmatch(key):
            self.add(app_id, ("env", "API_KEY"), "kurz: set API_KEY to ${KURZ_API_KEY} (filled from the "
                     "environment at render/deploy time) or a DC/OS secret: without it anyone can list and "
                     "delete every link (got %s)" % ("nothing" if key is None else "a value that is not a "
                                                      "placeholder nor 16+ URL-safe characters"))
    def _edge_labels(self, app_id, item, name):
        labels = item.get("labels") or {}
        team = labels.get("KURZ_TEAM")
        group = "external-%s" % team if team else "external"
        if labels.get("HAPROXY_GROUP") != group:
            self.add(app_id, ("labels", "HAPROXY_GROUP"), "kurz: HAPROXY_GROUP must be %s (marathon-lb --group %s)"
                     % (group, group))
        if not labels.get("HAPROXY_0_VHOST"):
            self.add(app_id, ("labels", "HAPROXY_0_VHOST"), "kurz: set HAPROXY_0_VHOST (path routing needs a vhost)")
        if str(labels.get("HAPROXY_0_MODE", "")).lower() != "http":
            self.add(app_id, ("labels", "HAPROXY_0_MODE"), "kurz: HAPROXY_0_MODE must be http")
        if not re.fullmatch(r"\d{2,5}", str(labels.get("HAPROXY_0_PORT", ""))):
            self.add(app_id, ("labels", "HAPROXY_0_PORT"), "kurz: set HAPROXY_0_PORT (the service port marathon-lb binds)")
        want = EDGE_PATHS[name]
        got = labels.get("HAPROXY_0_PATH")
        if want is None and got is not None:
            self.add(app_id, ("labels", "HAPROXY_0_PATH"),
                     "kurz: %s takes the rest of the vhost: no HAPROXY_0_PATH (got %s)" % (name, got))
        if want is not None and (got or "").split()[-1:] != [want]:
            self.add(app_id, ("labels", "HAPROXY_0_PATH"),
                     "kurz: %s must be routed by HAPROXY_0_PATH %s (got %s)" % (name, want, got))
        exact = EDGE_EXACT_PATHS.get(name)
        if exact:
            template = str(labels.get("HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH", ""))
            routed = set()
            for line in template.splitlines():
                words = line.split()
                if words[:3] == ["acl", "path_{backend}", "path"]:
                    routed.update(words[3:])
            uses = any(line.split()[:2] == ["use_backend", "{backend}"] and "path_{backend}" in line.split()
                       for line in template.splitlines())
            missing = [p for p in exact if p not in routed]
            if missing or not uses:
                self.add(app_id, ("labels", "HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH"),
                         "kurz: %s must also get %s: HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH needs "
                         "`acl path_{backend} path %s` and `use_backend {backend} if ... path_{backend}` "
                         "(missing: %s)" % (name, ", ".join(exact), " ".join(exact),
                                            ", ".join(missing) or "use_backend"))
        head = labels.get("HAPROXY_0_BACKEND_HEAD", "")
        acl = METRICS_ACL.search(head)
        if not acl or not re.search(r"http-request\s+deny\b[^\n]*\bif\s+%s\b" % re.escape(acl.group(1)), head):
            self.add(app_id, ("labels", "HAPROXY_0_BACKEND_HEAD"),
                     "kurz: marathon-lb must not route /metrics (acl NAME path /metrics, then http-request deny "
                     "if NAME, in HAPROXY_0_BACKEND_HEAD): Prometheus scrapes the tasks directly")
        for key in ("HAPROXY_0_BACKEND_HEAD", "HAPROXY_0_BACKEND_SERVER_OPTIONS"):
            try:
                str(labels.get(key, "")).format(backend="b", balance="roundrobin", mode="http", serverName="s",
                                                host_ipv4="127.0.0.1", port=1, cookieOptions="")
            except (KeyError, IndexError, ValueError) as e:
                self.add(app_id, ("labels", key), "kurz: marathon-lb fills its templates with Python's "
                         "str.format: %s would fail (%s: write {{ and }} for a literal brace, or use a named acl)"
                         % (key, e))
        if "httpchk GET /health/ready" not in labels.get("HAPROXY_0_BACKEND_HEAD", ""):
            self.add(app_id, ("labels", "HAPROXY_0_BACKEND_HEAD"),
                     "kurz: marathon-lb must check /health/ready (option httpchk GET /health/ready) so a stopping "
                     "task leaves the backend during SHUTDOWN_DELAY_MS")

    def _redis_url(self, app_id, item, name, redis_apps, deps, sentinels):
        env = item.get("env") or {}
        url = env.get("REDIS_URL")
        needs = name in NEEDS_REDIS or (name == "monolith" and redis_apps)
        with_sentinels = "REDIS_SENTINELS" in env or bool(sentinels and needs)
        if with_sentinels:
            # The sentinels name the primary; REDIS_URL only gives the password (and db) the data
            # nodes require (platform/redis: with REDIS_SENTINELS its host is not used).
            self._redis_sentinels(app_id, env, sentinels, deps)
            if url is None:
                self.add(app_id, ("env", "REDIS_URL"), "kurz: with REDIS_SENTINELS, REDIS_URL still carries Redis's "
                         "password: redis://:${KURZ_REDIS_PASSWORD}@<primary>.marathon.mesos:%d (the sentinels name "
                         "the primary; its host is not used)" % REDIS_PORT)
                return
        elif url is None:
            if needs:
                self.add(app_id, ("env", "REDIS_URL"), "kurz: %s needs REDIS_URL" % name)
            return
        password = re.match(r"redis://:([^@/]*)@", str(url))
        if not password or not SECRET_VALUE.fullmatch(password.group(1)):
            self.add(app_id, ("env", "REDIS_URL"), "kurz: REDIS_URL must carry Redis's password, "
                     "redis://:${KURZ_REDIS_PASSWORD}@<app>.marathon.mesos:%d (Redis runs with --requirepass)"
                     % REDIS_PORT)
        match = re.fullmatch(r"redis://(?:[^@/]*@)?([a-z0-9.-]+):(\d+)(?:/\d+)?", str(url))
        port = _redis_host_port(item)
        if not match or not match.group(1).endswith(".marathon.mesos") or int(match.group(2)) != port:
            self.add(app_id, ("env", "REDIS_URL"), "kurz: REDIS_URL must name Redis by Mesos-DNS, "
                     "redis://<app>.marathon.mesos:%d (got %s)" % (port, url))
            return
        if redis_apps:
            names = {definitions.mesos_dns_name(r): r for r in redis_apps}
            if match.group(1) not in names:
                self.add(app_id, ("env", "REDIS_URL"), "kurz: REDIS_URL host %s is not the Mesos-DNS name of this "
                         "definition's Redis (%s)" % (match.group(1), ", ".join(sorted(names))))
            elif names[match.group(1)] not in deps and not with_sentinels:
                self.add(app_id, ("dependencies",), "kurz: the app must depend on %s" % names[match.group(1)])

    def _redis_sentinels(self, app_id, env, sentinels, deps):
        """REDIS_SENTINELS names every sentinel of the definition by Mesos-DNS and port 26379, the app
        depends on each, and REDIS_MASTER_NAME (default kurz) is the name they monitor."""
        value = str(env.get("REDIS_SENTINELS", ""))
        hosts = []
        for part in [p for p in value.split(",") if p]:
            match = re.fullmatch(r"([a-z0-9.-]+\.marathon\.mesos):(\d+)", part)
            if not match or int(match.group(2)) != SENTINEL_PORT:
                self.add(app_id, ("env", "REDIS_SENTINELS"), "kurz: REDIS_SENTINELS is host:port,... with Mesos-DNS "
                         "names and port %d (got %s)" % (SENTINEL_PORT, short(part)))
                return
            hosts.append(match.group(1))
        names = {definitions.mesos_dns_name(s): s for s in sentinels}
        if not hosts or sorted(hosts) != sorted(names):
            self.add(app_id, ("env", "REDIS_SENTINELS"), "kurz: REDIS_SENTINELS must name every sentinel of the "
                     "definition (%s; got %s)" % (", ".join(sorted(names)) or "none", short(value)))
            return
        for host in hosts:
            if names[host] not in deps:
                self.add(app_id, ("dependencies",), "kurz: the app must depend on %s" % names[host])
        master = env.get("REDIS_MASTER_NAME", "kurz")
        for sentinel_id, sentinel in sentinels.items():
            monitor = definitions.sentinel_directive(sentinel, "monitor")
            if monitor and monitor[0] != master:
                self.add(app_id, ("env", "REDIS_MASTER_NAME"), "kurz: REDIS_MASTER_NAME %s is not the name %s "
                         "monitors (%s)" % (master, sentinel_id, monitor[0]))

    def _replica(self, app_id, item, redis_apps):
        """A replica starts as the replica of the definition's first primary (a data node without
        --replicaof), and every data node announces its own Mesos-DNS name (bridge mode: the address
        its primary sees is the agent's, the port the container's)."""
        args = [str(a) for a in item.get("args") or []]
        announce = _arg_after(args, "--replica-announce-ip")
        if redis_apps and len(redis_apps) > 1 and announce != definitions.mesos_dns_name(app_id):
            self.add(app_id, ("args",), "kurz: --replica-announce-ip must be the app's Mesos-DNS name %s (got %s)"
                     % (definitions.mesos_dns_name(app_id), announce))
        if len(redis_apps) > 1:
            auth = _arg_after(args, "--masterauth")
            if auth is None or auth != _arg_after(args, "--requirepass"):
                self.add(app_id, ("args",), "kurz: --masterauth ${KURZ_REDIS_PASSWORD}, the --requirepass of the "
                         "other data nodes: a replica authenticates to its primary, and after a failover every node "
                         "may be a replica (got %s)" % auth)
        if "--replicaof" not in args:
            return
        i = args.index("--replicaof")
        target = args[i + 1:i + 3]
        primaries = {definitions.mesos_dns_name(r): r for r, it in redis_apps.items()
                     if "--replicaof" not in [str(a) for a in it.get("args") or []]}
        if len(target) != 2 or target[0] not in primaries or target[1] != str(REDIS_PORT):
            self.add(app_id, ("args",), "kurz: --replicaof must name the definition's first primary (%s %d; got %s)"
                     % (", ".join(sorted(primaries)) or "none", REDIS_PORT, " ".join(target)))

    def _sentinel(self, app_id, item, redis_apps, count):
        """A sentinel: fixed port 26379, its config file on a fresh volume filled from the image, host
        names resolved and announced (its own Mesos-DNS name: bridge mode hides the agent's address),
        monitoring a data node of the definition with a majority quorum."""
        self._bridge_and_port(app_id, item, SENTINEL_PORT, host_port=SENTINEL_PORT)
        checks = item.get("healthChecks") or []
        if checks and (checks[0].get("protocol") != "MESOS_TCP" or checks[0].get("portIndex", 0) != 0):
            self.add(app_id, ("healthChecks", 0), "kurz: a sentinel is checked by MESOS_TCP on portIndex 0")
        if str((item.get("labels") or {}).get("MARATHON_SINGLE_INSTANCE_APP")) != "true":
            self.add(app_id, ("labels", "MARATHON_SINGLE_INSTANCE_APP"),
                     "kurz: a sentinel is a single instance app (its Mesos-DNS name is its announced address)")
        args = [str(a) for a in item.get("args") or []]
        params = [p.get("value") for p in ((item.get("container") or {}).get("docker") or {}).get("parameters") or []
                  if isinstance(p, dict) and p.get("key") == "mount"]
        if args[:1] != [SENTINEL_CONFIG] or SENTINEL_MOUNT not in params:
            self.add(app_id, ("args",), "kurz: a sentinel runs `%s --sentinel` with docker parameter mount=%s (it "
                     "rewrites its config file; the image has no shell to create one)" % (SENTINEL_CONFIG, SENTINEL_MOUNT))
        for key in ("resolve-hostnames", "announce-hostnames"):
            if definitions.sentinel_directive(item, key) != ["yes"]:
                self.add(app_id, ("args",), "kurz: --sentinel %s yes (Mesos-DNS names, not container addresses)" % key)
        if definitions.sentinel_directive(item, "announce-ip") != [definitions.mesos_dns_name(app_id)]:
            self.add(app_id, ("args",), "kurz: --sentinel announce-ip must be the app's Mesos-DNS name %s"
                     % definitions.mesos_dns_name(app_id))
        monitor = definitions.sentinel_directive(item, "monitor")
        names = {definitions.mesos_dns_name(r) for r in redis_apps}
        if not monitor or len(monitor) != 4 or monitor[1] not in names or monitor[2] != str(REDIS_PORT):
            self.add(app_id, ("args",), "kurz: --sentinel monitor <name> <a data node of the definition: %s> %d "
                     "<quorum> (got %s)" % (", ".join(sorted(names)) or "none", REDIS_PORT, monitor))
        elif monitor[3] != str(count // 2 + 1):
            self.add(app_id, ("args",), "kurz: the quorum must be a majority of the %d sentinels, %d (got %s)"
                     % (count, count // 2 + 1, monitor[3]))
        auth = definitions.sentinel_directive(item, "auth-pass")
        if monitor and (not auth or len(auth) != 2 or auth[0] != monitor[0] or not SECRET_VALUE.fullmatch(auth[1])):
            self.add(app_id, ("args",), "kurz: the data nodes require a password: --sentinel auth-pass %s "
                     "${KURZ_REDIS_PASSWORD} after the monitor line (got %s)" % (monitor[0], auth))
        if "--requirepass" in args:
            self.add(app_id, ("args",), "kurz: no --requirepass on a sentinel: the services ask sentinels without "
                     "a password (REDIS_SENTINELS)")

    def _redis(self, app_id, item):
        mapping = self._bridge_and_port(app_id, item, REDIS_PORT, host_port=_redis_host_port(item))
        checks = item.get("healthChecks") or []
        if checks and (checks[0].get("protocol") != "MESOS_TCP" or checks[0].get("portIndex", 0) != 0):
            self.add(app_id, ("healthChecks", 0), "kurz: Redis is checked by MESOS_TCP on portIndex 0")
        if not any(isinstance(v, dict) and v.get("persistent") for v in (item.get("container") or {}).get("volumes") or []):
            self.add(app_id, ("container", "volumes"), "kurz: Redis keeps its AOF on a local persistent volume")
        if item.get("unreachableStrategy") != "disabled":
            self.add(app_id, ("unreachableStrategy",), "kurz: a resident Redis sets unreachableStrategy disabled "
                     "(an expunged instance destroys its volume)")
        args = [str(a) for a in item.get("args") or []]
        pos = args.index("--requirepass") if "--requirepass" in args else -1
        if pos < 0 or pos + 1 >= len(args) or not SECRET_VALUE.fullmatch(args[pos + 1]):
            self.add(app_id, ("args",), "kurz: Redis must require a password: --requirepass "
                     "${KURZ_REDIS_PASSWORD} (filled from the environment at render/deploy time)")
        if str((item.get("labels") or {}).get("MARATHON_SINGLE_INSTANCE_APP")) != "true":
            self.add(app_id, ("labels", "MARATHON_SINGLE_INSTANCE_APP"), "kurz: Redis is a single instance app")
        del mapping

    def _upgrade_room(self, app_id, item):
        """An upgrade must be able to place its extra tasks on 3 agents (Marathon's TaskReplaceActor:
        minHealthy = ceil(n*minimumHealthCapacity), maxCapacity = floor(n*(1+maximumOverCapacity)), one more
        when they are equal)."""
        if "residency" in item:
            return
        n = int(item.get("instances", 1) or 0)
        strategy = item.get("upgradeStrategy") or {}
        min_health = strategy.get("minimumHealthCapacity", 1.0)
        over = strategy.get("maximumOverCapacity", 1.0)
        min_healthy = math.ceil(n * min_health)
        peak = math.floor(n * (1 + over) + 1e-9)
        if n and min_healthy == peak:
            peak += 1
        for i, c in enumerate(item.get("constraints") or []):
            if not isinstance(c, list) or len(c) < 2 or c[0] != "hostname":
                continue
            per_host = 1 if c[1] == "UNIQUE" else int(c[2]) if c[1] == "MAX_PER" and len(c) > 2 and \
                str(c[2]).isdigit() else None
            if per_host is not None and peak > AGENTS * per_host:
                self.add(app_id, ("constraints", i), "kurz: an upgrade runs up to %d tasks of this app, but %s allows "
                         "%d on %d agents: the deployment would wait forever" % (peak, short(c), AGENTS * per_host, AGENTS))


def _redis_host_port(item):
    """Redis's fixed host port: 6379, or its team's (marathon/render --team: 6400 + slot, the slot read
    back from the team's service ports, which render moves to 10000 + 100 * slot + n)."""
    from . import teams
    labels = item.get("labels") or {}
    if not labels.get(teams.TEAM_LABEL):
        return REDIS_PORT
    mappings = definitions.port_mappings(item)
    if definitions.kurz_image_name(item) == "redis" and mappings and isinstance(mappings[0], dict):
        got = mappings[0].get("hostPort", 0)
        if isinstance(got, int) and teams.REDIS_HOST_PORT_BASE < got <= teams.REDIS_HOST_PORT_BASE + teams.MAX_SLOT:
            return got
        return REDIS_PORT
    try:
        port = int(labels.get("HAPROXY_0_PORT"))
    except (TypeError, ValueError):
        return REDIS_PORT
    return teams.redis_host_port((port - teams.SERVICE_PORT_BASE) // teams.SERVICE_PORTS_PER_TEAM)


def _arg_after(args, flag):
    return args[args.index(flag) + 1] if flag in args[:-1] else None



# ---- across files -----------------------------------------------------------------------------
# marathon-lb labels that decide where traffic goes: a canary must carry the stable app's exactly,
# because marathon-lb merges the apps of one HAPROXY_DEPLOYMENT_GROUP into one backend and keeps
# the configuration of one of them (marathon_lb.py get_apps).
ROUTING_LABELS = ("HAPROXY_GROUP", "HAPROXY_0_VHOST", "HAPROXY_0_PORT", "HAPROXY_0_PATH", "HAPROXY_0_MODE",
                  "HAPROXY_0_BACKEND_HEAD", "HAPROXY_0_BACKEND_SERVER_OPTIONS", "HAPROXY_DEPLOYMENT_GROUP")
SCALING = ("instances", "constraints", "upgradeStrategy")
CANARY_LABELS = ("HAPROXY_DEPLOYMENT_GROUP", "HAPROXY_DEPLOYMENT_STARTED_AT", "HAPROXY_DEPLOYMENT_NEW_INSTANCES",
                 "HAPROXY_DEPLOYMENT_TARGET_INSTANCES")


def check_files(loaded):
    """Problems across several loaded files [(path, definition)]: [(path, Problem)].
    - the same app id in two files differs at most in how it scales (instances, constraints,
      upgradeStrategy: stage 1's monolith and monolith-x3), so infra/redis.json IS stage 3's /kurz/redis;
    - a canary (label KURZ_CANARY_OF=<stable app id>) shares the stable app's routing labels and
      image name, and HAPROXY_DEPLOYMENT_TARGET_INSTANCES is the sum of both apps' instances on both
      (so marathon-lb drains none of the stable tasks)."""
    out = []
    by_id = collections.defaultdict(list)
    for path, data in loaded:
        for app_id, item, _, _ in definitions.walk(data):
            by_id[app_id].append((path, item))
    for app_id, places in by_id.items():
        first_path, first = places[0]
        for path, item in places[1:]:
            a = {k: v for k, v in first.items() if k not in SCALING}
            b = {k: v for k, v in item.items() if k not in SCALING}
            if a != b:
                keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                out.append((path, Problem(app_id, ",".join(keys), "kurz: differs from %s in %s (the same app in two "
                                          "files may differ only in %s)"
                                          % (first_path, ", ".join(keys), ", ".join(SCALING)))))
    for app_id, places in by_id.items():
        for path, item in places:
            labels = item.get("labels") or {}
            stable_id = labels.get("KURZ_CANARY_OF")
            if not stable_id:
                continue
            for key in CANARY_LABELS:
                if key not in labels:
                    out.append((path, Problem(app_id, "labels." + key, "kurz: a canary needs %s" % key)))
            if stable_id not in by_id:
                out.append((path, Problem(app_id, "labels.KURZ_CANARY_OF",
                                          "kurz: the stable app %s is in none of the files checked" % stable_id)))
                continue
            stable_path, stable = by_id[stable_id][0]
            stable_labels = stable.get("labels") or {}
            for key in ROUTING_LABELS:
                if labels.get(key) != stable_labels.get(key):
                    out.append((path, Problem(app_id, "labels." + key, "kurz: %s must equal %s's (%s in %s; got %s)"
                                              % (key, stable_id, short(stable_labels.get(key)), stable_path,
                                                 short(labels.get(key))))))
            if definitions.kurz_image_name(item) != definitions.kurz_image_name(stable):
                out.append((path, Problem(app_id, "container.docker.image",
                                          "kurz: a canary runs the same kurz image as %s" % stable_id)))
            total = int(item.get("instances", 1)) + int(stable.get("instances", 1))
            for where, ls in ((path, labels), (stable_path, stable_labels)):
                if str(ls.get("HAPROXY_DEPLOYMENT_TARGET_INSTANCES")) != str(total):
                    owner = app_id if ls is labels else stable_id
                    out.append((where, Problem(owner, "labels.HAPROXY_DEPLOYMENT_TARGET_INSTANCES",
                                               "kurz: must be %d (%s + %s instances) so marathon-lb drains no stable "
                                               "task (got %s)" % (total, stable_id, app_id,
                                                                  ls.get("HAPROXY_DEPLOYMENT_TARGET_INSTANCES")))))
    return out
