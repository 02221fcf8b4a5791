"""marathon/validate, marathon/render and the Prometheus configuration for Marathon.

  * every definition under marathon/ passes (JSON Schema, Marathon's submission-time rules, kurz's
    rules, and the rules across files);
  * for every rule, a real definition is broken in exactly that respect and the validator must exit 1
    with the expected `FILE: /app/id: path: message` line;
  * bad usage (missing file, not JSON, an array, an unknown option) exits 2 with a message, no traceback;
  * marathon/render rewrites the registry and tag of every kurz image and nothing else;
  * `promtool check config` accepts docker/prometheus/marathon.yml (skipped without promtool).
No Docker, no network: runs in a few seconds.
"""
import contextlib
import copy
import importlib.machinery
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import unittest.mock

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MARATHON = os.path.join(ROOT, "marathon")
sys.path.insert(0, os.path.join(MARATHON, "lib"))
from kurz_marathon import credentials, definitions as d  # noqa: E402

VALIDATE = os.path.join(MARATHON, "validate")
RENDER = os.path.join(MARATHON, "render")


def _load_script(path, name):
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


validate_cli = _load_script(VALIDATE, "kurz_validate_cli")
render_cli = _load_script(RENDER, "kurz_render_cli")


def original(rel):
    return d.load(os.path.join(MARATHON, rel))


def run_main(module, argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = module.main(argv)
        except SystemExit as e:
            rc = e.code
    return rc, out.getvalue(), err.getvalue()


# ---- the mutations: each breaks one rule of a real definition -----------------------------------
def app(defn, app_id):
    return d.app(defn, app_id)


def setter(app_id, *keys, value=None, delete=False):
    """A mutation that sets (or deletes) app[keys...]."""
    def mutate(defn):
        node = app(defn, app_id)
        for key in keys[:-1]:
            node = node[key]
        if delete:
            del node[keys[-1]]
        else:
            node[keys[-1]] = copy.deepcopy(value)
    return mutate


def on(app_id, fn):
    return lambda defn: fn(app(defn, app_id))


def group_set(key, value):
    def mutate(defn):
        defn[key] = value
    return mutate


def extra_app(defn, new):
    defn["apps"].append(new)


S1 = "stage1/monolith.json"
S2 = "stage2/kurz.json"
S3 = "stage3/kurz.json"
REDIS = "infra/redis.json"
LB = "infra/marathon-lb.json"
CANARY = "canary/redirect-canary.json"
M1 = "/kurz-stage1/monolith"


def _add_mesos_check(a):
    a["healthChecks"].append({"protocol": "MESOS_TCP", "portIndex": 0})


def _second_port(a, name="admin"):
    a["container"]["portMappings"].append({"name": name, "containerPort": 9000, "hostPort": 0})


def _readiness_on_second_port(a):
    _second_port(a)
    a["readinessChecks"][0]["portName"] = "admin"


def _two_networks(a):
    a["networks"] = [{"mode": "container", "name": "a"}, {"mode": "container", "name": "b"}]


def _cycle(defn):
    app(defn, "/kurz/redis").setdefault("dependencies", []).append("/kurz/web")


def _duplicate_id(defn):
    defn["apps"].append(copy.deepcopy(app(defn, "/kurz/qr")))


def _outside(defn):
    app(defn, "/kurz/qr")["id"] = "/elsewhere/qr"


def _no_residency(a):
    del a["residency"]


def _external_and_persistent(a):
    a["container"]["volumes"][0]["external"] = {"name": "v", "provider": "dvdi"}


def _host_volume_without_path(a):
    a["container"]["volumes"].append({"containerPath": "/cache", "mode": "RW"})


def _portmappings_in_docker(a):
    a["container"]["docker"]["portMappings"] = a["container"].pop("portMappings")


def _drop_hardening(a):
    a["container"]["docker"]["parameters"] = [p for p in a["container"]["docker"]["parameters"]
                                              if p["key"] != "read-only"]


def _no_container(a):
    del a["container"]
    del a["networks"]


def _no_metrics_label(a):
    del a["container"]["portMappings"][0]["labels"]


def _two_checks(a):
    a["healthChecks"].append({"protocol": "HTTP", "path": "/health/live", "portIndex": 0})


def _no_requirepass(a):
    i = a["args"].index("--requirepass")
    del a["args"][i:i + 2]


def _metrics_routed(a):
    head = a["labels"]["HAPROXY_0_BACKEND_HEAD"]
    a["labels"]["HAPROXY_0_BACKEND_HEAD"] = "".join(line for line in head.splitlines(True) if "kurz_metrics" not in line)


def _brace_in_template(a):
    a["labels"]["HAPROXY_0_BACKEND_HEAD"] += "  http-request deny if { path /admin }\n"


def _persistent_off(a):
    a["container"]["volumes"] = []
    del a["residency"]


# (name, file, app id, mutation, expected message, expected path or None)
SCHEMA = [
    ("unknown field (tty, 1.10+ only)", S1, M1, setter(M1, "tty", value=True),
     "schema: Additional properties are not allowed ('tty' was unexpected)", "(top)"),
    ("resourceLimits is not in the 1.7 field set", S1, M1, setter(M1, "resourceLimits", value={"mem": 256}),
     "'resourceLimits' was unexpected", "(top)"),
    ("cmd and args together", S1, M1, lambda x: x.update(cmd="kurz-monolith", args=["--x"]),
     "schema: 'cmd' and 'args' cannot both be set", "(top)"),
    ("constraint operator IS (1.8+)", S1, M1, setter(M1, "constraints", value=[["hostname", "IS", "a"]]),
     "schema: 'IS' is not one of", "constraints[0][1]"),
    ("id with capitals", S1, "/Kurz-Stage1/monolith", setter(M1, "id", value="/Kurz-Stage1/monolith"),
     "does not match", "id"),
    ("an app nested in a group (mem as a string)", S3, "/kurz/links", setter("/kurz/links", "mem", value="64"),
     "schema: '64' is not of type 'number'", "mem"),
    ("a field a group does not have", S3, "/kurz", group_set("instances", 2),
     "schema: Additional properties are not allowed ('instances' was unexpected)", "(top)"),
    ("unreachableStrategy neither disabled nor an object", REDIS, "/kurz/redis",
     setter("/kurz/redis", "unreachableStrategy", value="sometimes"),
     "schema: 'sometimes' is not valid under any of the allowed forms", "unreachableStrategy"),
    ("upgradeStrategy above 1", S1, M1, setter(M1, "upgradeStrategy", "maximumOverCapacity", value=1.5),
     "schema: 1.5 is greater than the maximum of 1.0", "upgradeStrategy.maximumOverCapacity"),
]

MARATHON_RULES = [
    ("docker.network with networks", S1, M1, setter(M1, "container", "docker", "network", value="BRIDGE"),
     "must not specify both container.docker.network and networks", "container.docker.network"),
    ("ipAddress with networks", S1, M1, setter(M1, "ipAddress", value={"networkName": "dcos"}),
     "must not specify both networks and ipAddress", "ipAddress"),
    ("portDefinitions in bridge mode", S1, M1, setter(M1, "portDefinitions", value=[{"port": 0}]),
     "portDefinitions are only allowed with host-networking", "portDefinitions"),
    ("portMappings in host mode", S1, M1, setter(M1, "networks", value=[{"mode": "host"}]),
     "portMappings are not allowed with host-networking", "container.portMappings"),
    ("two Mesos health checks", S1, M1, on(M1, _add_mesos_check),
     "AppDefinition can contain at most one Mesos health check", "healthChecks"),
    ("two readiness checks", S1, M1, on(M1, lambda a: a["readinessChecks"].append(dict(a["readinessChecks"][0]))),
     "an app can have at most one readiness check (got 2)", "readinessChecks"),
    ("readiness portName not declared", S1, M1, setter(M1, "readinessChecks", 0, "portName", value="web"),
     "No port definition reference for portName web", "readinessChecks[0].portName"),
    ("readiness timeout not below interval", S1, M1, setter(M1, "readinessChecks", 0, "timeoutSeconds", value=2),
     "timeoutSeconds (2) must be below intervalSeconds (2)", "readinessChecks[0].timeoutSeconds"),
    ("health portIndex past the ports", S1, M1, setter(M1, "healthChecks", 0, "portIndex", value=3),
     "Health check port indices must address an element", "healthChecks[0].portIndex"),
    ("duplicate port names", S1, M1, on(M1, lambda a: _second_port(a, "http")),
     "Port names must be unique: http is used twice", "container.portMappings"),
    ("duplicate host ports", LB, "/infra/marathon-lb", setter("/infra/marathon-lb", "portDefinitions", 1, "port", value=80),
     "Ports must be unique.", "portDefinitions"),
    ("two container networks with Docker", S1, M1, on(M1, _two_networks),
     "may only specify a single container network when using the Docker container engine", "networks"),
    ("no cmd, args or container", S1, M1, on(M1, _no_container),
     "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.", "(top)"),
    ("a one-character cmd", S1, M1, setter(M1, "cmd", value="x"), "must not be an empty string", "cmd"),
    ("a relative id for an app on its own", S1, "kurz-stage1/monolith", setter(M1, "id", value="kurz-stage1/monolith"),
     "an app submitted on its own needs an absolute id", "id"),
    ("the root as an app id", S1, "/", setter(M1, "id", value="/"), "an app id must not be the root /", "id"),
    ("an app outside its group", S3, "/elsewhere/qr", _outside, "the app id is not inside its group /kurz", "id"),
    ("an id used twice", S3, "/kurz/qr", _duplicate_id, "id /kurz/qr is used 2 times in this definition", "id"),
    ("a dependency that is not there", S3, "/kurz/web", setter("/kurz/web", "dependencies", value=["/kurz/nope"]),
     "dependency /kurz/nope is not in this group", "dependencies"),
    ("a dependency on itself", S3, "/kurz/qr", setter("/kurz/qr", "dependencies", value=["/kurz/qr"]),
     "the app depends on itself", "dependencies"),
    ("a dependency cycle", S3, "/kurz/links", _cycle,
     "dependency cycle: /kurz/links -> /kurz/redis -> /kurz/web -> /kurz/links",
     "dependencies"),
    ("persistent volume without residency", REDIS, "/kurz/redis", on("/kurz/redis", _no_residency),
     "App must contain persistent volumes and define residency", "residency"),
    ("resident minimumHealthCapacity above 0.5", REDIS, "/kurz/redis",
     setter("/kurz/redis", "upgradeStrategy", "minimumHealthCapacity", value=1),
     "a resident app needs minimumHealthCapacity 0.5 or less (got 1)", "upgradeStrategy.minimumHealthCapacity"),
    ("resident maximumOverCapacity above 0", REDIS, "/kurz/redis",
     setter("/kurz/redis", "upgradeStrategy", "maximumOverCapacity", value=0.5),
     "a resident app needs maximumOverCapacity 0 (got 0.5)", "upgradeStrategy.maximumOverCapacity"),
    ("resident unreachableStrategy not disabled", REDIS, "/kurz/redis",
     setter("/kurz/redis", "unreachableStrategy", value={"inactiveAfterSeconds": 60, "expungeAfterSeconds": 120}),
     "unreachableStrategy must be disabled for resident tasks", "unreachableStrategy"),
    ("resident acceptedResourceRoles other than *", REDIS, "/kurz/redis",
     setter("/kurz/redis", "acceptedResourceRoles", value=["slave_public"]),
     'A resident app must have `acceptedResourceRoles = ["*"]`.', "acceptedResourceRoles"),
    ("persistent containerPath with a slash", REDIS, "/kurz/redis",
     setter("/kurz/redis", "container", "volumes", 0, "containerPath", value="/data"),
     "a persistent volume's containerPath is one relative name", "container.volumes[0].containerPath"),
    ("persistent volume read-only", REDIS, "/kurz/redis", setter("/kurz/redis", "container", "volumes", 0, "mode", value="RO"),
     "a persistent volume's mode must be RW", "container.volumes[0].mode"),
    ("persistent size 0", REDIS, "/kurz/redis", setter("/kurz/redis", "container", "volumes", 0, "persistent", "size", value=0),
     "a persistent volume's size must be above 0", "container.volumes[0].persistent.size"),
    ("maxSize on a root volume", REDIS, "/kurz/redis",
     setter("/kurz/redis", "container", "volumes", 0, "persistent", "maxSize", value=4096),
     "Only mount volumes can have maxSize", "container.volumes[0].persistent.maxSize"),
    ("maxSize not above size", REDIS, "/kurz/redis",
     lambda x: x["container"]["volumes"][0]["persistent"].update(type="mount", maxSize=512),
     "Max size must be larger than size", "container.volumes[0].persistent.maxSize"),
    ("constraints on a root volume", REDIS, "/kurz/redis",
     setter("/kurz/redis", "container", "volumes", 0, "persistent", "constraints", value=[["path", "LIKE", "/mnt/.*"]]),
     "Constraints on root volumes are not supported", "container.volumes[0].persistent.constraints"),
    ("persistent and external at once", REDIS, "/kurz/redis", on("/kurz/redis", _external_and_persistent),
     "illegal combination of persistent and external volume fields", "container.volumes[0]"),
    ("a host volume without hostPath", REDIS, "/kurz/redis", on("/kurz/redis", _host_volume_without_path),
     "a host volume needs a non-empty hostPath", "container.volumes[1].hostPath"),
    ("a single instance app scaled to 2", REDIS, "/kurz/redis", setter("/kurz/redis", "instances", value=2),
     "Single instance app may only have one instance", "instances"),
    ("a single instance app keeping one up", S1, M1,
     setter(M1, "labels", "MARATHON_SINGLE_INSTANCE_APP", value="true"),
     "a single instance app needs minimumHealthCapacity 0 (got 1)", "upgradeStrategy.minimumHealthCapacity"),
    ("UNIQUE with a value", S1, M1, setter(M1, "constraints", value=[["hostname", "UNIQUE", "x"]]),
     "UNIQUE: Value specified but not used", "constraints[0]"),
    ("CLUSTER without a value", S1, M1, setter(M1, "constraints", value=[["hostname", "CLUSTER"]]),
     "CLUSTER: Missing value", "constraints[0]"),
    ("GROUP_BY with a word", S1, M1, setter(M1, "constraints", value=[["hostname", "GROUP_BY", "many"]]),
     "GROUP_BY: Value was specified but is not a number", "constraints[0]"),
    ("MAX_PER without a number", S1, M1, setter(M1, "constraints", value=[["hostname", "MAX_PER", "two"]]),
     "MAX_PER: Value was not specified or is not a number", "constraints[0]"),
    ("LIKE with a broken regular expression", S1, M1, setter(M1, "constraints", value=[["hostname", "LIKE", "a("]]),
     "LIKE: 'a(' is not a valid regular expression", "constraints[0]"),
    ("UNLIKE without a value", S1, M1, setter(M1, "constraints", value=[["hostname", "UNLIKE"]]),
     "UNLIKE: A regular expression value must be provided", "constraints[0]"),
]

HA = "stage3-ha/kurz.json"


def _args_replace(old, new):
    def mutate(a):
        a["args"] = [new if x == old else x for x in a["args"]]
    return mutate


def _sentinels_env(value):
    return lambda a: a["env"].update(REDIS_SENTINELS=value)


def _drop_sentinel_mount(a):
    a["container"]["docker"]["parameters"] = [p for p in a["container"]["docker"]["parameters"]
                                              if p["key"] != "mount"]


def _drop_arg_pair(flag):
    def mutate(a):
        i = a["args"].index(flag)
        del a["args"][i:i + 2]
    return mutate


_S1_DNS = "sentinel-1-kurz-ha.marathon.mesos:26379"
_S2_DNS = "sentinel-2-kurz-ha.marathon.mesos:26379"

# stage3-ha: Redis with replicas and Sentinel (each rule broken once in the real file).
HA_RULES = [
    ("REDIS_SENTINELS missing a sentinel", HA, "/kurz-ha/links", on("/kurz-ha/links", _sentinels_env(_S1_DNS + "," + _S2_DNS)),
     "kurz: REDIS_SENTINELS must name every sentinel of the definition", "env.REDIS_SENTINELS"),
    ("REDIS_SENTINELS on the data port", HA, "/kurz-ha/stats",
     on("/kurz-ha/stats", _sentinels_env("sentinel-1-kurz-ha.marathon.mesos:6379")),
     "kurz: REDIS_SENTINELS is host:port,... with Mesos-DNS names and port 26379", "env.REDIS_SENTINELS"),
    ("REDIS_URL beside REDIS_SENTINELS without the password", HA, "/kurz-ha/qr",
     setter("/kurz-ha/qr", "env", "REDIS_URL", value="redis://redis-kurz-ha.marathon.mesos:6379"),
     "kurz: REDIS_URL must carry Redis's password", "env.REDIS_URL"),
    ("REDIS_SENTINELS without REDIS_URL (no password)", HA, "/kurz-ha/stats",
     setter("/kurz-ha/stats", "env", "REDIS_URL", delete=True),
     "kurz: with REDIS_SENTINELS, REDIS_URL still carries Redis's password", "env.REDIS_URL"),
    ("a replica without --requirepass", HA, "/kurz-ha/redis-replica-2",
     on("/kurz-ha/redis-replica-2", _drop_arg_pair("--requirepass")),
     "kurz: Redis must require a password", "args"),
    ("a replica without --masterauth", HA, "/kurz-ha/redis-replica-1",
     on("/kurz-ha/redis-replica-1", _drop_arg_pair("--masterauth")),
     "kurz: --masterauth ${KURZ_REDIS_PASSWORD}", "args"),
    ("a primary without --masterauth (a replica after a failover)", HA, "/kurz-ha/redis",
     on("/kurz-ha/redis", _drop_arg_pair("--masterauth")),
     "kurz: --masterauth ${KURZ_REDIS_PASSWORD}", "args"),
    ("a sentinel without auth-pass", HA, "/kurz-ha/sentinel-3",
     on("/kurz-ha/sentinel-3", _args_replace("auth-pass", "auth-user")),
     "kurz: the data nodes require a password: --sentinel auth-pass kurz", "args"),
    ("a service that does not wait for a sentinel", HA, "/kurz-ha/redirect",
     setter("/kurz-ha/redirect", "dependencies", value=["/kurz-ha/sentinel-1", "/kurz-ha/sentinel-2"]),
     "kurz: the app must depend on /kurz-ha/sentinel-3", "dependencies"),
    ("another master name than the sentinels monitor", HA, "/kurz-ha/links",
     setter("/kurz-ha/links", "env", "REDIS_MASTER_NAME", value="other"),
     "kurz: REDIS_MASTER_NAME other is not the name /kurz-ha/sentinel-1 monitors", "env.REDIS_MASTER_NAME"),
    ("a quorum of one", HA, "/kurz-ha/sentinel-2",
     on("/kurz-ha/sentinel-2", lambda a: a["args"].__setitem__(a["args"].index("monitor") + 4, "1")),
     "kurz: the quorum must be a majority of the 3 sentinels, 2 (got 1)", "args"),
    ("a sentinel monitoring a name outside the group", HA, "/kurz-ha/sentinel-1",
     on("/kurz-ha/sentinel-1", _args_replace("redis-kurz-ha.marathon.mesos", "redis-kurz.marathon.mesos")),
     "kurz: --sentinel monitor <name> <a data node of the definition", "args"),
    ("a sentinel announcing another sentinel's name", HA, "/kurz-ha/sentinel-3",
     on("/kurz-ha/sentinel-3", _args_replace("sentinel-3-kurz-ha.marathon.mesos", "sentinel-1-kurz-ha.marathon.mesos")),
     "kurz: --sentinel announce-ip must be the app's Mesos-DNS name sentinel-3-kurz-ha.marathon.mesos", "args"),
    ("a sentinel without resolve-hostnames", HA, "/kurz-ha/sentinel-1",
     on("/kurz-ha/sentinel-1", _args_replace("resolve-hostnames", "resolve-hostnamez")),
     "kurz: --sentinel resolve-hostnames yes", "args"),
    ("a sentinel without a writable config volume", HA, "/kurz-ha/sentinel-2", on("/kurz-ha/sentinel-2", _drop_sentinel_mount),
     "kurz: a sentinel runs `/etc/kurz/sentinel/sentinel.conf --sentinel` with docker parameter mount=", "args"),
    ("a sentinel on the data port", HA, "/kurz-ha/sentinel-1",
     setter("/kurz-ha/sentinel-1", "container", "portMappings", 0, "hostPort", value=6379),
     "kurz: hostPort must be 26379", "container.portMappings[0].hostPort"),
    ("a replica of a replica", HA, "/kurz-ha/redis-replica-2",
     on("/kurz-ha/redis-replica-2", _args_replace("redis-kurz-ha.marathon.mesos", "redis-replica-1-kurz-ha.marathon.mesos")),
     "kurz: --replicaof must name the definition's first primary (redis-kurz-ha.marathon.mesos 6379", "args"),
    ("a replica announcing the primary's name", HA, "/kurz-ha/redis-replica-1",
     on("/kurz-ha/redis-replica-1", _args_replace("redis-replica-1-kurz-ha.marathon.mesos", "redis-kurz-ha.marathon.mesos")),
     "kurz: --replica-announce-ip must be the app's Mesos-DNS name redis-replica-1-kurz-ha.marathon.mesos", "args"),
    ("a replica without its persistent volume", HA, "/kurz-ha/redis-replica-1", on("/kurz-ha/redis-replica-1", _persistent_off),
     "kurz: Redis keeps its AOF on a local persistent volume", "container.volumes"),
]

KURZ_RULES = [
    ("host networking for a service", S1, M1,
     lambda x: (x.update(networks=[{"mode": "host"}]), x["container"].pop("portMappings")),
     'kurz: networks must be [{"mode": "container/bridge"}]', "networks"),
    ("the Mesos containerizer", S1, M1, setter(M1, "container", "type", value="MESOS"),
     "kurz: the Docker containerizer (type DOCKER)", "container.type"),
    ("port mappings in the deprecated docker place", S1, M1, on(M1, _portmappings_in_docker),
     "docker.portMappings is deprecated", "container.docker.portMappings"),
    ("an unnamed port", S1, M1, setter(M1, "container", "portMappings", 0, "name", delete=True),
     "kurz: the first port mapping must be named", "container.portMappings"),
    ("containerPort not 8080", S1, M1, setter(M1, "container", "portMappings", 0, "containerPort", value=9000),
     "kurz: containerPort must be 8080 (got 9000)", "container.portMappings[0].containerPort"),
    ("a fixed host port for a service", S1, M1, setter(M1, "container", "portMappings", 0, "hostPort", value=31000),
     "kurz: hostPort must be 0 (Marathon picks one) (got 31000)", "container.portMappings[0].hostPort"),
    ("Redis on a random host port", REDIS, "/kurz/redis",
     setter("/kurz/redis", "container", "portMappings", 0, "hostPort", value=0),
     "kurz: hostPort must be 6379 (fixed: Mesos-DNS A records carry no port)", "container.portMappings[0].hostPort"),
    ("<SERVICE>_PORT not the container port", S3, "/kurz/redirect", setter("/kurz/redirect", "env", "REDIRECT_PORT", value="31000"),
     "kurz: REDIRECT_PORT must be the containerPort 8080", "env.REDIRECT_PORT"),
    ("<SERVICE>_PORT missing (binding PORT0, the host port)", S1, M1, setter(M1, "env", "MONOLITH_PORT", delete=True),
     "kurz: MONOLITH_PORT must be the containerPort 8080", "env.MONOLITH_PORT"),
    ("INSTANCE_ID set", S1, M1, setter(M1, "env", "INSTANCE_ID", value="a"),
     "kurz: do not set INSTANCE_ID", "env.INSTANCE_ID"),
    ("cmd instead of args", S1, M1, setter(M1, "cmd", value="kurz-monolith"),
     "kurz: use args, never cmd", "cmd"),
    ("two health checks", S1, M1, on(M1, _two_checks), "kurz: exactly one health check (got 2)", "healthChecks"),
    ("no health check", S1, M1, setter(M1, "healthChecks", value=[]), "kurz: exactly one health check (got 0)",
     "healthChecks"),
    ("an HTTP health check (Marathon's, not the executor's)", S1, M1, setter(M1, "healthChecks", 0, "protocol", value="HTTP"),
     "kurz: the health check is MESOS_HTTP on /health/live, portIndex 0", "healthChecks[0]"),
    ("the health check on readiness", S1, M1, setter(M1, "healthChecks", 0, "path", value="/health/ready"),
     "kurz: the health check is MESOS_HTTP on /health/live", "healthChecks[0]"),
    ("no readiness check", S1, M1, setter(M1, "readinessChecks", value=[]),
     "kurz: exactly one readiness check (got 0)", "readinessChecks"),
    ("readiness on /health/live", S1, M1, setter(M1, "readinessChecks", 0, "path", value="/health/live"),
     "kurz: the readiness check is HTTP on /health/ready", "readinessChecks[0].path"),
    ("readiness naming another port", S1, M1, on(M1, _readiness_on_second_port),
     "kurz: the readiness check must name the port mapping http (got admin)", "readinessChecks[0].portName"),
    ("SHUTDOWN_DELAY_MS not set", S1, M1, setter(M1, "env", "SHUTDOWN_DELAY_MS", delete=True),
     "kurz: set SHUTDOWN_DELAY_MS", "env.SHUTDOWN_DELAY_MS"),
    ("kill grace not above delay + drain", S1, M1, setter(M1, "taskKillGracePeriodSeconds", value=13),
     "kurz: taskKillGracePeriodSeconds (13) must be above (SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS)/1000 = 13",
     "taskKillGracePeriodSeconds"),
    ("redirect's kill grace without room for the click flush", S3, "/kurz/redirect",
     setter("/kurz/redirect", "taskKillGracePeriodSeconds", value=15),
     "kurz: taskKillGracePeriodSeconds (15) must be above "
     "(SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS + CLICK_SHUTDOWN_FLUSH_MS)/1000 = 18", "taskKillGracePeriodSeconds"),
    ("the stage 2 monolith without CLICK_SHUTDOWN_FLUSH_MS", S2, "/kurz-stage2/monolith",
     setter("/kurz-stage2/monolith", "env", "CLICK_SHUTDOWN_FLUSH_MS", delete=True),
     "kurz: set CLICK_SHUTDOWN_FLUSH_MS", "env.CLICK_SHUTDOWN_FLUSH_MS"),
    ("kill grace unset (the agent's 5 s)", S1, M1, setter(M1, "taskKillGracePeriodSeconds", delete=True),
     "kurz: set taskKillGracePeriodSeconds", "taskKillGracePeriodSeconds"),
    ("image tag latest", S1, M1, setter(M1, "container", "docker", "image", value="registry-infra.marathon.mesos:5000/kurz/monolith:latest"),
     "kurz: pin the image by a tag other than latest", "container.docker.image"),
    ("image without a tag", LB, "/infra/marathon-lb", setter("/infra/marathon-lb", "container", "docker", "image", value="mesosphere/marathon-lb"),
     "kurz: pin the image by a tag other than latest (got mesosphere/marathon-lb)", "container.docker.image"),
    ("kurz image without a registry", S1, M1, setter(M1, "container", "docker", "image", value="kurz/monolith:0.1.0"),
     "kurz: a kurz image needs a registry prefix", "container.docker.image"),
    ("cpus not set", S1, M1, setter(M1, "cpus", delete=True), "kurz: set cpus", "cpus"),
    ("upgradeStrategy not set", S1, M1, setter(M1, "upgradeStrategy", delete=True), "kurz: set upgradeStrategy",
     "upgradeStrategy"),
    ("mem below the Mesos floor", S1, M1, setter(M1, "mem", value=16), "kurz: mem below 32 MB", "mem"),
    ("no API_KEY: anyone deletes every link", S1, M1, setter(M1, "env", "API_KEY", delete=True),
     "kurz: set API_KEY to ${KURZ_API_KEY}", "env.API_KEY"),
    ("a weak literal API_KEY in the file", S3, "/kurz/links", setter("/kurz/links", "env", "API_KEY", value="secret"),
     "kurz: set API_KEY to ${KURZ_API_KEY}", "env.API_KEY"),
    ("API_KEY naming an undeclared DC/OS secret", S1, M1, setter(M1, "env", "API_KEY", value={"secret": "nope"}),
     "kurz: API_KEY names the secret nope, which the app's secrets do not declare", "env.API_KEY"),
    ("KURZ_VERSION overriding the image's version", S3, "/kurz/redirect",
     setter("/kurz/redirect", "env", "KURZ_VERSION", value="0.2.0"),
     "kurz: do not set KURZ_VERSION", "env.KURZ_VERSION"),
    ("REDIS_URL without Redis's password", S3, "/kurz/stats",
     setter("/kurz/stats", "env", "REDIS_URL", value="redis://redis-kurz.marathon.mesos:6379"),
     "kurz: REDIS_URL must carry Redis's password", "env.REDIS_URL"),
    ("Redis without a password", S3, "/kurz/redis", on("/kurz/redis", _no_requirepass),
     "kurz: Redis must require a password: --requirepass", "args"),
    ("/metrics routed through marathon-lb", S3, "/kurz/redirect", on("/kurz/redirect", _metrics_routed),
     "kurz: marathon-lb must not route /metrics", "labels.HAPROXY_0_BACKEND_HEAD"),
    ("a literal brace in a marathon-lb template", S3, "/kurz/stats", on("/kurz/stats", _brace_in_template),
     "kurz: marathon-lb fills its templates with Python's str.format", "labels.HAPROXY_0_BACKEND_HEAD"),
    ("a long health delay", S1, M1, setter(M1, "healthChecks", 0, "delaySeconds", value=15),
     "kurz: keep delaySeconds at most 5 (got 15)", "healthChecks[0].delaySeconds"),
    ("health timeout not below interval", S1, M1, setter(M1, "healthChecks", 0, "timeoutSeconds", value=3),
     "kurz: a health check's timeoutSeconds must be below its intervalSeconds", "healthChecks[0].timeoutSeconds"),
    ("a writable root filesystem", S1, M1, on(M1, _drop_hardening),
     "kurz: docker parameter read-only=true", "container.docker.parameters"),
    ("TRUSTED_PROXIES missing", S1, M1, setter(M1, "env", "TRUSTED_PROXIES", delete=True),
     "kurz: set TRUSTED_PROXIES", "env.TRUSTED_PROXIES"),
    ("no metrics label for Prometheus", S1, M1, on(M1, _no_metrics_label),
     "kurz: label the port mapping metrics=/metrics", "container.portMappings[0].labels"),
    ("HAPROXY_GROUP not external", S1, M1, setter(M1, "labels", "HAPROXY_GROUP", value="internal"),
     "kurz: HAPROXY_GROUP must be external", "labels.HAPROXY_GROUP"),
    ("no vhost", S1, M1, setter(M1, "labels", "HAPROXY_0_VHOST", delete=True), "kurz: set HAPROXY_0_VHOST",
     "labels.HAPROXY_0_VHOST"),
    ("TCP mode", S1, M1, setter(M1, "labels", "HAPROXY_0_MODE", value="tcp"), "kurz: HAPROXY_0_MODE must be http",
     "labels.HAPROXY_0_MODE"),
    ("no service port label", S1, M1, setter(M1, "labels", "HAPROXY_0_PORT", delete=True),
     "kurz: set HAPROXY_0_PORT", "labels.HAPROXY_0_PORT"),
    ("links on the wrong path", S3, "/kurz/links", setter("/kurz/links", "labels", "HAPROXY_0_PATH", value="/api"),
     "kurz: links must be routed by HAPROXY_0_PATH /api/links/ (got /api)", "labels.HAPROXY_0_PATH"),
    ("qr without a path", S3, "/kurz/qr", setter("/kurz/qr", "labels", "HAPROXY_0_PATH", delete=True),
     "kurz: qr must be routed by HAPROXY_0_PATH /qr/ (got None)", "labels.HAPROXY_0_PATH"),
    ("redirect with a path (it takes the rest)", S3, "/kurz/redirect",
     setter("/kurz/redirect", "labels", "HAPROXY_0_PATH", value="/r"),
     "kurz: redirect takes the rest of the vhost: no HAPROXY_0_PATH (got /r)", "labels.HAPROXY_0_PATH"),
    ("web without /index.html at the edge", S3, "/kurz/web",
     setter("/kurz/web", "labels", "HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH",
            value="  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n  acl path_{backend} path_beg {path}\n"
                  "  acl path_{backend} path /\n  use_backend {backend} if host_{cleanedUpHostname} path_{backend}\n"),
     "kurz: web must also get /, /index.html, /info/web", "labels.HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH"),
    ("web without its frontend template (/ and /index.html fall to redirect)", S3, "/kurz/web",
     setter("/kurz/web", "labels", "HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH", delete=True),
     "(missing: /, /index.html, /info/web)", "labels.HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH"),
    ("links without /info/links at the edge", S3, "/kurz/links",
     setter("/kurz/links", "labels", "HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH", delete=True),
     "kurz: links must also get /api/links, /info/links", "labels.HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH"),
    ("marathon-lb not checking readiness", S3, "/kurz/web", setter("/kurz/web", "labels", "HAPROXY_0_BACKEND_HEAD", delete=True),
     "kurz: marathon-lb must check /health/ready", "labels.HAPROXY_0_BACKEND_HEAD"),
    ("links without REDIS_URL", S3, "/kurz/links", setter("/kurz/links", "env", "REDIS_URL", delete=True),
     "kurz: links needs REDIS_URL", "env.REDIS_URL"),
    ("the stage 2 monolith without REDIS_URL", S2, "/kurz-stage2/monolith",
     setter("/kurz-stage2/monolith", "env", "REDIS_URL", delete=True), "kurz: monolith needs REDIS_URL", "env.REDIS_URL"),
    ("Redis by a host that is not Mesos-DNS", S3, "/kurz/stats", setter("/kurz/stats", "env", "REDIS_URL", value="redis://localhost:6379"),
     "kurz: REDIS_URL must name Redis by Mesos-DNS", "env.REDIS_URL"),
    ("another group's Redis", S3, "/kurz/stats",
     setter("/kurz/stats", "env", "REDIS_URL", value="redis://redis-kurz-stage2.marathon.mesos:6379"),
     "kurz: REDIS_URL host redis-kurz-stage2.marathon.mesos is not the Mesos-DNS name of this definition's Redis "
     "(redis-kurz.marathon.mesos)", "env.REDIS_URL"),
    ("Redis used without depending on it", S3, "/kurz/qr", setter("/kurz/qr", "dependencies", delete=True),
     "kurz: the app must depend on /kurz/redis", "dependencies"),
    ("Redis checked over HTTP", REDIS, "/kurz/redis", setter("/kurz/redis", "healthChecks", 0, "protocol", value="MESOS_HTTP"),
     "kurz: Redis is checked by MESOS_TCP on portIndex 0", "healthChecks[0]"),
    ("Redis without a persistent volume", REDIS, "/kurz/redis", on("/kurz/redis", _persistent_off),
     "kurz: Redis keeps its AOF on a local persistent volume", "container.volumes"),
    ("Redis with the default unreachableStrategy", REDIS, "/kurz/redis", setter("/kurz/redis", "unreachableStrategy", delete=True),
     "kurz: a resident Redis sets unreachableStrategy disabled", "unreachableStrategy"),
    ("Redis that could be scaled", REDIS, "/kurz/redis", setter("/kurz/redis", "labels", value={}),
     "kurz: Redis is a single instance app", "labels.MARATHON_SINGLE_INSTANCE_APP"),
    ("UNIQUE hostname with more tasks than agents during an upgrade", S3, "/kurz/links",
     setter("/kurz/links", "instances", value=4),
     "kurz: an upgrade runs up to 4 tasks of this app, but [\"hostname\", \"UNIQUE\"] allows 3 on 3 agents",
     "constraints[0]"),
    ("MAX_PER too tight for the over-capacity", S3, "/kurz/redirect", setter("/kurz/redirect", "instances", value=6),
     "kurz: an upgrade runs up to 8 tasks of this app, but [\"hostname\", \"MAX_PER\", \"2\"] allows 6 on 3 agents",
     "constraints[0]"),
    ("UNIQUE with minimumHealthCapacity 1 and no over-capacity (Marathon adds one)", S1, M1,
     lambda x: x.update(instances=3, constraints=[["hostname", "UNIQUE"]],
                        upgradeStrategy={"minimumHealthCapacity": 1, "maximumOverCapacity": 0}),
     "kurz: an upgrade runs up to 4 tasks of this app", "constraints[0]"),
]


def _canary_vhost(x):
    x["labels"]["HAPROXY_0_VHOST"] = "canary.example"


def _canary_target(x):
    x["labels"]["HAPROXY_DEPLOYMENT_TARGET_INSTANCES"] = "3"


def _canary_no_started(x):
    del x["labels"]["HAPROXY_DEPLOYMENT_STARTED_AT"]


def _canary_image(x):
    x["container"]["docker"]["image"] = "registry-infra.marathon.mesos:5000/kurz/links:0.1.0"
    x["env"]["LINKS_PORT"] = x["env"].pop("REDIRECT_PORT")


def _redis_mem(x):
    x["mem"] = 512


# (name, files, file broken, app id, mutation, expected message)
ACROSS = [
    ("infra/redis.json differs from stage 3's /kurz/redis", [S3, REDIS], REDIS, "/kurz/redis", _redis_mem,
     "kurz: differs from"),
    ("canary on another vhost", [S3, CANARY], CANARY, "/kurz/redirect-canary", _canary_vhost,
     "kurz: HAPROXY_0_VHOST must equal /kurz/redirect's"),
    ("canary target instances not stable + canary", [S3, CANARY], CANARY, "/kurz/redirect-canary", _canary_target,
     "kurz: must be 4 (/kurz/redirect + /kurz/redirect-canary instances) so marathon-lb drains no stable task"),
    ("canary without a start time", [S3, CANARY], CANARY, "/kurz/redirect-canary", _canary_no_started,
     "kurz: a canary needs HAPROXY_DEPLOYMENT_STARTED_AT"),
    ("canary of another image", [S3, CANARY], CANARY, "/kurz/redirect-canary", _canary_image,
     "kurz: a canary runs the same kurz image as /kurz/redirect"),
    ("canary without its stable app", [CANARY], None, "/kurz/redirect-canary", None,
     "kurz: the stable app /kurz/redirect is in none of the files checked"),
]


class ValidatorTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kurz-validate-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, rel, data):
        path = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(d.dumps(data))
        return path

    def assert_fails(self, files, broken, app_id, message, path=None):
        rc, out, err = run_main(validate_cli, files)
        self.assertEqual(rc, 1, "expected exit 1\n%s%s" % (out, err))
        prefix = "%s: %s: " % (broken, app_id)
        lines = [line for line in out.splitlines() if line.startswith(prefix) and message in line]
        self.assertTrue(lines, "no line %r ... %r in:\n%s" % (prefix, message, out))
        if path is not None:
            self.assertTrue(any(line.startswith(prefix + path + ": ") for line in lines),
                            "path %s expected in %s" % (path, lines))
        self.assertNotIn("Traceback", out + err)

    def test_every_definition_passes(self):
        files = d.definition_files()
        rels = sorted(os.path.relpath(f, MARATHON) for f in files)
        for needed in (S1, "stage1/monolith-x3.json", S2, S3, REDIS, LB, "infra/prometheus.json",
                       "infra/registry.json", CANARY, HA):
            self.assertIn(needed, rels)
        rc, out, err = run_main(validate_cli, [])
        self.assertEqual((rc, out), (0, ""), err)
        self.assertIn("10 file(s) valid", err)

    def test_the_layout_the_other_tools_rely_on(self):
        self.assertEqual(original(S1)["instances"], 1)
        self.assertEqual(original("stage1/monolith-x3.json")["instances"], 3)
        self.assertEqual(sorted(d.apps(original(S2))), ["/kurz-stage2/monolith", "/kurz-stage2/redis"])
        self.assertEqual(sorted(d.apps(original(S3))),
                         sorted("/kurz/" + n for n in ("redis", "links", "redirect", "stats", "qr", "web")))
        self.assertEqual(original(REDIS), d.app(original(S3), "/kurz/redis"))
        self.assertEqual(d.mesos_dns_name("/kurz/redis"), "redis-kurz.marathon.mesos")
        self.assertEqual(d.mesos_dns_name("/kurz-stage2/redis"), "redis-kurz-stage2.marathon.mesos")
        for app_id, item, _, _ in d.walk(original(S3)):
            if app_id != "/kurz/redis":
                self.assertIn("/kurz/redis", d.dependencies(original(S3))[app_id] +
                              sum((d.dependencies(original(S3))[x] for x in d.dependencies(original(S3))[app_id]), []))

    def test_images_are_pinned_to_the_project_version(self):
        version = d.project_version()
        for path in d.definition_files():
            for app_id, item, _, _ in d.walk(d.load(path)):
                parsed = d.parse_image(d.docker_image(item))
                if parsed:
                    self.assertEqual(parsed[2], version, "%s %s" % (path, app_id))
                    self.assertEqual(parsed[0], d.DEFAULT_REGISTRY, "%s %s" % (path, app_id))

    def _case(self, rel, app_id, mutate, message, path):
        data = original(rel)
        mutate(data)
        broken = self.write(rel, data)
        self.assert_fails([broken], broken, app_id, message, path)

    def test_schema_rules(self):
        for name, rel, app_id, mutate, message, path in SCHEMA:
            with self.subTest(name):
                self._case(rel, app_id, mutate, message, path)

    def test_marathon_submission_rules(self):
        for name, rel, app_id, mutate, message, path in MARATHON_RULES:
            with self.subTest(name):
                self._case(rel, app_id, mutate, message, path)

    def test_kurz_rules(self):
        for name, rel, app_id, mutate, message, path in KURZ_RULES:
            with self.subTest(name):
                self._case(rel, app_id, mutate, message, path)

    def test_ha_rules(self):
        for name, rel, app_id, mutate, message, path in HA_RULES:
            with self.subTest(name):
                self._case(rel, app_id, mutate, message, path)

    def test_ha_layout(self):
        apps = d.apps(original(HA))
        data = [i for i, a in apps.items() if d.kurz_image_name(a) == "redis" and not d.is_sentinel(a)]
        sentinels = [i for i, a in apps.items() if d.is_sentinel(a)]
        self.assertEqual(data, ["/kurz-ha/redis", "/kurz-ha/redis-replica-1", "/kurz-ha/redis-replica-2"])
        self.assertEqual(sentinels, ["/kurz-ha/sentinel-%d" % i for i in (1, 2, 3)])
        for i in data:  # the same fixed host port: Mesos puts at most one of them on an agent
            self.assertEqual(apps[i]["container"]["portMappings"][0]["hostPort"], 6379)
        for i in sentinels:
            self.assertEqual(apps[i]["container"]["portMappings"][0]["hostPort"], 26379)
        self.assertEqual(d.sentinel_directive(apps[sentinels[0]], "monitor"),
                         ["kurz", "redis-kurz-ha.marathon.mesos", "6379", "2"])
        # The stage 3 services, the same but for how they find Redis and their vhost and ports.
        s3 = d.apps(original(S3))
        for name in ("links", "redirect", "stats", "qr", "web"):
            ha, plain = apps["/kurz-ha/" + name], s3["/kurz/" + name]
            self.assertEqual(d.docker_image(ha), d.docker_image(plain))
            self.assertEqual({k: v for k, v in ha["env"].items() if not k.startswith(("REDIS_", "PUBLIC_BASE_URL"))},
                             {k: v for k, v in plain["env"].items() if not k.startswith(("REDIS_", "PUBLIC_BASE_URL"))})
            if name != "web":  # the sentinels name the primary, REDIS_URL gives the password
                self.assertEqual(ha["env"]["REDIS_URL"],
                                 "redis://:${KURZ_REDIS_PASSWORD}@redis-kurz-ha.marathon.mesos:6379")
        for i in sentinels:
            self.assertEqual(d.sentinel_directive(apps[i], "auth-pass"), ["kurz", "${KURZ_REDIS_PASSWORD}"])

    def test_rules_across_files(self):
        for name, rels, broken_rel, app_id, mutate, message in ACROSS:
            with self.subTest(name):
                paths = {}
                for rel in rels:
                    data = original(rel)
                    if rel == broken_rel:
                        mutate(data)
                    paths[rel] = self.write(rel, data)
                shown = paths[broken_rel or rels[-1]]
                self.assert_fails([paths[r] for r in rels], shown, app_id, message)

    def test_legacy_ports_declare_ports_for_health_checks(self):
        # Marathon's own examples/group.json: host networking, the legacy `ports` array, and a
        # health check with portIndex 0. Marathon accepts it, so the Marathon layers must too.
        from kurz_marathon import validation
        app = {"id": "/tools/oauth-server", "cmd": "./oauth-server", "ports": [0], "cpus": 0.1, "mem": 64,
               "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0}]}
        checker = validation.Checker(app)
        checker.schema()
        checker.marathon()
        self.assertEqual(checker.problems, [])
        app["healthChecks"][0]["portIndex"] = 1
        checker = validation.Checker(app)
        checker.marathon()
        self.assertTrue(any("portIndex" in p.path for p in checker.problems), checker.problems)

    def test_the_untouched_copies_pass(self):
        # The cases above start from these files: written the same way, they are valid.
        files = [self.write(rel, original(rel)) for rel in (S1, S2, S3, REDIS, LB, CANARY, HA)]
        rc, out, err = run_main(validate_cli, files)
        self.assertEqual((rc, out), (0, ""), err)

    def test_bad_usage(self):
        rc, out, err = run_main(validate_cli, [os.path.join(self.tmp, "missing.json")])
        self.assertEqual(rc, 2)
        self.assertIn("cannot read", err)
        for text, expected in (("{", "not JSON"), ("[]", "expected a JSON object, got list"),
                               ("\xff", "not UTF-8")):
            path = os.path.join(self.tmp, "bad.json")
            with open(path, "wb") as f:
                f.write(text.encode("latin-1"))
            rc, out, err = run_main(validate_cli, [path])
            self.assertEqual(rc, 2, text)
            self.assertIn(expected, err)
        rc, out, err = run_main(validate_cli, ["--strict"])
        self.assertEqual(rc, 2)
        self.assertIn("unknown option --strict", err)

    def test_command_line(self):
        # The real executable, as CI and people run it: exit codes and no traceback.
        ok = subprocess.run([sys.executable, VALIDATE], capture_output=True, text=True, timeout=60)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        data = original(S1)
        data["cmd"] = "kurz-monolith"
        broken = self.write(S1, data)
        bad = subprocess.run([sys.executable, VALIDATE, broken], capture_output=True, text=True, timeout=60)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("%s: /kurz-stage1/monolith: cmd: kurz: use args, never cmd" % broken, bad.stdout)
        missing = subprocess.run([sys.executable, VALIDATE, broken + ".nope"], capture_output=True, text=True,
                                 timeout=60)
        self.assertEqual(missing.returncode, 2)
        self.assertNotIn("Traceback", missing.stderr)


SECRETS = {"KURZ_API_KEY": "test-api-key-0123456789", "KURZ_REDIS_PASSWORD": "test-redis-pass-0123456789"}


class RenderTest(unittest.TestCase):
    def setUp(self):
        patcher = unittest.mock.patch.dict(os.environ, SECRETS)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_secrets_come_from_the_environment(self):
        data = json.loads(self.render(os.path.join(MARATHON, S3))[1])
        self.assertEqual(d.app(data, "/kurz/links")["env"]["API_KEY"], SECRETS["KURZ_API_KEY"])
        self.assertEqual(d.app(data, "/kurz/stats")["env"]["REDIS_URL"],
                         "redis://:%s@redis-kurz.marathon.mesos:6379" % SECRETS["KURZ_REDIS_PASSWORD"])
        args = d.app(data, "/kurz/redis")["args"]
        self.assertEqual(args[args.index("--requirepass") + 1], SECRETS["KURZ_REDIS_PASSWORD"])
        # The files themselves carry placeholders only.
        for path in d.definition_files():
            with open(path) as f:
                text = f.read()
            self.assertNotIn(SECRETS["KURZ_API_KEY"], text)
        for rel in (S1, S3):
            raw = d.apps(original(rel))
            for app_id, item in raw.items():
                if "API_KEY" in (item.get("env") or {}):
                    self.assertEqual(item["env"]["API_KEY"], "${KURZ_API_KEY}", app_id)
        with unittest.mock.patch.dict(os.environ, {"KURZ_API_KEY": "", "KURZ_REDIS_PASSWORD": "short"}):
            rc, out, err = self.render(os.path.join(MARATHON, S3))
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("KURZ_API_KEY is not set", err)
        self.assertIn("KURZ_REDIS_PASSWORD must be 16 to 128 characters", err)

    def test_dcos_secrets(self):
        rc, out, err = self.render("--dcos-secrets", os.path.join(MARATHON, S3))
        self.assertEqual(rc, 0, err)
        links = d.app(json.loads(out), "/kurz/links")
        self.assertEqual(links["env"]["API_KEY"], {"secret": "kurz-api-key"})
        self.assertEqual(links["secrets"], {"kurz-api-key": {"source": "kurz/api-key"}})
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "kurz.json")
            with open(path, "w") as f:
                f.write(out)
            rc, vout, verr = run_main(validate_cli, [path])
            self.assertEqual((rc, vout), (0, ""), verr)

    def render(self, *argv):
        rc, out, err = run_main(render_cli, list(argv))
        return rc, out, err

    def test_local_images_for_the_harness(self):
        rc, out, err = self.render("--registry", "", "--tag", "dev", os.path.join(MARATHON, S3))
        self.assertEqual(rc, 0, err)
        data = json.loads(out)
        images = {a: d.docker_image(i) for a, i in d.apps(data).items()}
        self.assertEqual(images["/kurz/redirect"], "kurz/redirect:dev")
        self.assertEqual(images["/kurz/redis"], "kurz/redis:dev")
        # Nothing but the images changes.
        for app_id, item in d.apps(data).items():
            before = copy.deepcopy(d.app(credentials.fill(original(S3), SECRETS), app_id))
            before["container"]["docker"]["image"] = item["container"]["docker"]["image"]
            self.assertEqual(item, before)

    def test_workshop_registry_and_tag(self):
        rc, out, err = self.render("--registry", "10.0.0.5:5000", "--tag", "0.2.0", os.path.join(MARATHON, S1))
        self.assertEqual(rc, 0, err)
        self.assertEqual(d.docker_image(json.loads(out)), "10.0.0.5:5000/kurz/monolith:0.2.0")
        rc, out, _ = self.render("--tag", "0.2.0", os.path.join(MARATHON, "infra/prometheus.json"))
        self.assertEqual(d.docker_image(json.loads(out)), d.DEFAULT_REGISTRY + "/kurz/prometheus:0.2.0")

    def test_other_images_are_left_alone(self):
        for rel in (LB, "infra/registry.json"):
            rc, out, _ = self.render("--registry", "", "--tag", "dev", os.path.join(MARATHON, rel))
            self.assertEqual(json.loads(out), original(rel))

    def test_the_bootstrap_registry_keeps_its_place(self):
        data = {"id": "/infra/registry", "container": {"docker": {"image": "kurz/registry:0.1.0"}}}
        self.assertEqual(d.docker_image(d.set_images(data, "10.0.0.5:5000", "dev")), "kurz/registry:dev")

    def test_rendered_output_validates(self):
        with tempfile.TemporaryDirectory() as tmp:
            rc, out, _ = self.render("--registry", "10.0.0.5:5000", os.path.join(MARATHON, S3))
            path = os.path.join(tmp, "kurz.json")
            with open(path, "w") as f:
                f.write(out)
            rc, vout, verr = run_main(validate_cli, [path])
            self.assertEqual((rc, vout), (0, ""), verr)

    def test_bad_usage(self):
        self.assertEqual(self.render()[0], 2)
        rc, _, err = self.render("--tag", "bad tag", os.path.join(MARATHON, S1))
        self.assertEqual(rc, 2)
        self.assertIn("not a Docker tag", err)
        rc, _, err = self.render("--registry", "http://x/", os.path.join(MARATHON, S1))
        self.assertEqual(rc, 2)
        rc, _, err = self.render(os.path.join(MARATHON, "nope.json"))
        self.assertEqual(rc, 2)
        self.assertIn("cannot read", err)


class PrometheusConfigTest(unittest.TestCase):
    def test_promtool_accepts_marathon_yml(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool missing (Debian package prometheus; scripts/test.sh installs it)")
        path = os.path.join(ROOT, "docker", "prometheus", "marathon.yml")
        proc = subprocess.run([promtool, "check", "config", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("SUCCESS", proc.stdout + proc.stderr)

    def test_scrapes_what_the_definitions_label(self):
        import yaml
        with open(os.path.join(ROOT, "docker", "prometheus", "marathon.yml")) as f:
            config = yaml.safe_load(f)
        kurz = [j for j in config["scrape_configs"] if j["job_name"] == "kurz"][0]
        self.assertEqual(kurz["marathon_sd_configs"][0]["servers"], ["http://marathon.mesos:8080"])
        keep = [r for r in kurz["relabel_configs"] if r.get("action") == "keep"][0]
        self.assertEqual(keep["source_labels"], ["__meta_marathon_port_mapping_label_metrics"])
        # Every kurz service's port mapping carries that label; the prometheus app's args load the file.
        prom = original("infra/prometheus.json")
        self.assertIn("--config.file=/etc/prometheus/marathon.yml", prom["args"])
        import re
        job = [r for r in kurz["relabel_configs"] if r.get("target_label") == "job"][0]
        self.assertEqual(re.fullmatch(job["regex"], d.DEFAULT_REGISTRY + "/kurz/redirect:0.1.0").group(1), "redirect")


if __name__ == "__main__":
    unittest.main()
