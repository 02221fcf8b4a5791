"""`marathon/deploy preflight [STAGE] [--teams N]`: can this cluster take STAGE for N teams? One line
per check, `ok`, `WARN`, `FAIL` or `skip`, each failure with what to do. Read-only: GET requests only.

Sources: Marathon's GET /v2/info (name, version, leader, marathon_config.mesos_role and
framework_name); with MESOS_URL (or --mesos) the Mesos master's GET /master/state (agents:
resources, used_resources, reserved_resources by role, active; frameworks: name, role/roles,
principal); the registry's GET /v2/ (Docker Registry HTTP API V2: 200, or 401 when it wants a
login); a Mesos-DNS name resolved on this machine.

What a stage needs is read from the definitions themselves (marathon/<stage>/...): per team the
apps' cpus and mem times their peak instances during an upgrade (floor(n * (1 + maximumOverCapacity))),
plus the room's shared apps once (/infra/registry, /infra/prometheus on private agents; marathon-lb
on a slave_public agent); an upgrade adds the largest one app's extra tasks per file and team. Persistent volumes (Redis, the registry) need a Marathon role other than
"*" and a principal. Exit 0 when nothing FAILs, 1 otherwise.
"""
import json
import math
import os
import socket
import typing
import urllib.error
import urllib.parse
import urllib.request

from . import definitions, identity

STAGE_FILES = {"stage1": ["stage1/monolith-x3.json"], "stage2": ["stage2/kurz.json"],
               "stage3": ["stage3/kurz.json", "canary/redirect-canary.json"]}
SHARED_FILES = ["infra/registry.json", "infra/prometheus.json"]
LB_FILE = "infra/marathon-lb.json"
SUPPORTED = ((1, 5), (1, 10))
PUBLIC_ROLE = "slave_public"
CHECKS = ("marathon", "version", "role", "principal", "public-agent", "resources", "registry", "dns")


def peak_instances(app):
    n = int(app.get("instances", 1) or 0)
    if "residency" in app:
        return n
    over = (app.get("upgradeStrategy") or {}).get("maximumOverCapacity", 1.0)
    return max(n, int(math.floor(n * (1 + over) + 1e-9)))


class Needs(typing.NamedTuple):
    """What a room needs on private agents."""
    cpus: float
    mem: float  # MB
    persistent: list  # ids of the apps with local persistent volumes
    files: list  # the definition files counted, relative to marathon/


def needs(stage, teams):
    """Needs (cpus, mem MB, [apps with persistent volumes], [files]) on private agents for STAGE x teams:
    every app's instances, plus per team the largest extra one app's upgrade starts
    (floor(n * (1 + maximumOverCapacity)) - n), plus the room's shared apps once."""
    stages = list(STAGE_FILES) if stage == "all" else [stage]
    cpus = mem = 0.0
    persistent, files = [], []
    for rel, times in [(f, teams) for s in stages for f in STAGE_FILES[s]] + [(f, 1) for f in SHARED_FILES]:
        data = definitions.load(os.path.join(definitions.MARATHON_DIR, rel))
        files.append(rel)
        extra = (0.0, 0.0)
        for app_id, app, _, _ in definitions.walk(data):
            n = int(app.get("instances", 1) or 0)
            c, m = float(app.get("cpus", 1)), float(app.get("mem", 128))
            cpus += c * n * times
            mem += m * n * times
            more = peak_instances(app) - n
            extra = max(extra, (c * more, m * more))
            volumes = (app.get("container") or {}).get("volumes") or []
            if any(isinstance(v, dict) and v.get("persistent") for v in volumes) and app_id not in persistent:
                persistent.append(app_id)
        cpus += extra[0] * times
        mem += extra[1] * times
    return Needs(cpus, mem, persistent, files)


def _get_json(url, timeout):
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read().decode("utf-8", "replace"))


def _scalar(resources, key):
    value = (resources or {}).get(key, 0)
    return float(value) if isinstance(value, (int, float)) else 0.0


def agent_free(agent, role):
    """(cpus, mem) this agent still has for a framework of `role`: its unreserved resources plus those
    reserved for the role, minus what runs there (used_resources), never below 0."""
    reserved = (agent.get("reserved_resources") or {}).get(role) if role != "*" else None
    usable = [_scalar(agent.get("unreserved_resources", agent.get("resources")), k) + _scalar(reserved, k)
              for k in ("cpus", "mem")]
    used = [_scalar(agent.get("used_resources"), k) for k in ("cpus", "mem")]
    return max(0.0, usable[0] - used[0]), max(0.0, usable[1] - used[1])


class Report:
    def __init__(self, out, only):
        self.out, self.only, self.failed = out, only, 0

    def wanted(self, name):
        return not self.only or name in self.only

    def line(self, state, name, text, fix=None):
        if not self.wanted(name):
            return
        if state == "FAIL":
            self.failed += 1
        self.out("%-4s  %-12s %s%s" % (state, name, text, "; fix: " + fix if fix and state != "ok" else ""))


def run(session, args):
    env = getattr(args, "env", os.environ)
    only = set(c.strip() for c in (args.only or "").split(",") if c.strip())
    unknown = only - set(CHECKS)
    if unknown:
        from .commands import UsageError
        raise UsageError("--only: unknown check(s) %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(CHECKS)))
    r = Report(session.out, only)
    url = session.api.url
    cpus, mem, persistent, files = needs(args.stage, args.teams)
    session.out("preflight: %s x %d team(s) needs %.1f CPUs and %d MB on private agents (peak during upgrades, "
                "shared apps once), marathon-lb on a %s agent%s" % (
                    args.stage, args.teams, cpus, mem, PUBLIC_ROLE,
                    ", persistent volumes (%s)" % ", ".join(persistent) if persistent else ""))
    finding = identity.probe(url, session.api.authorization, timeout=min(5.0, session.api.request_timeout))
    info = None
    if finding is None:
        r.line("FAIL", "marathon", "nothing answers at %s" % url,
               "check MARATHON_URL; on DC/OS https://<cluster>/service/marathon with DCOS_TOKEN")
    elif not finding.marathon:
        r.line("FAIL", "marathon", identity.not_marathon_message(url, finding).split(". Set")[0],
               "set MARATHON_URL to Marathon's address (e.g. http://marathon.mesos:8080)")
    elif finding.info is None:
        r.line("FAIL", "marathon", "%s at %s (%s)" % (finding.what, url, finding.evidence),
               "set DCOS_TOKEN, or MARATHON_USER and MARATHON_PASSWORD")
    else:
        info = finding.info
        r.line("ok", "marathon", "Marathon at %s (leader %s)" % (url, info.get("leader", "?")))
    config = (info or {}).get("marathon_config") or {}
    if info is None:
        r.line("skip", "version", "needs Marathon")
    else:
        version = str(info.get("version", ""))
        parts = tuple(int(p) for p in version.split("-")[0].split(".")[:2] if p.isdigit())
        if len(parts) == 2 and SUPPORTED[0] <= parts <= SUPPORTED[1]:
            r.line("ok", "version", "Marathon %s (kurz's definitions target 1.5 to 1.10)" % version)
        else:
            r.line("WARN", "version", "Marathon %s: kurz's definitions are written for 1.5 to 1.10" % version,
                   "check the fields in marathon/README.md against this version's API")
    role = config.get("mesos_role")
    if info is None:
        r.line("skip", "role", "needs Marathon")
    elif not persistent:
        r.line("ok", "role", "%s: no persistent volume needed" % args.stage)
    elif role and role != "*":
        r.line("ok", "role", "Marathon's --mesos_role is %s (persistent volumes can be reserved)" % role)
    else:
        r.line("FAIL", "role", "Marathon's --mesos_role is %s: %s (persistent volumes) would wait forever "
               "for an offer" % (role or "unset (\"*\")", ", ".join(persistent)),
               "restart Marathon with --mesos_role kurz and --mesos_authentication_principal <principal> "
               "(DC/OS: the role is slave_public/marathon's own; see docs/marathon.md, Prerequisites)")
    mesos_url = getattr(args, "mesos", None) or env.get("MESOS_URL")
    state = None
    if not mesos_url:
        for name in ("principal", "public-agent", "resources"):
            r.line("skip", name, "set MESOS_URL (the Mesos master, e.g. http://leader.mesos:5050) to check")
    else:
        try:
            state = _get_json(mesos_url.rstrip("/") + "/master/state", min(10.0, session.api.request_timeout))
        except urllib.error.HTTPError as e:
            for name in ("principal", "public-agent", "resources"):
                r.line("FAIL", name, "GET %s/master/state answers %d: not a Mesos master" % (mesos_url.rstrip("/"), e.code),
                       "set MESOS_URL to the leading Mesos master, e.g. http://leader.mesos:5050")
        except (OSError, ValueError, urllib.error.URLError) as e:
            for name in ("principal", "public-agent", "resources"):
                r.line("FAIL", name, "GET %s/master/state: %s" % (mesos_url.rstrip("/"), getattr(e, "reason", e)),
                       "check MESOS_URL (the leading master, port 5050)")
        if state is not None and not (isinstance(state, dict) and isinstance(state.get("slaves"), list)):
            for name in ("principal", "public-agent", "resources"):
                r.line("FAIL", name, "%s/master/state is not a Mesos master's state (no slaves list)" % mesos_url,
                       "set MESOS_URL to the Mesos master, port 5050")
            state = None
    if state is not None:
        _mesos_checks(r, state, config, role or "*", persistent, cpus, mem)
    registry = args.registry or definitions.DEFAULT_REGISTRY
    try:
        req = urllib.request.Request("http://%s/v2/" % registry, method="GET")
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                code = resp.status
        except urllib.error.HTTPError as e:
            code = e.code
        if code in (200, 401):
            r.line("ok", "registry", "http://%s/v2/ answers %d (a Docker registry)" % (registry, code))
        else:
            r.line("FAIL", "registry", "http://%s/v2/ answers %d, not a Docker registry" % (registry, code),
                   "deploy marathon/infra/registry.json, or give --registry HOST:PORT")
    except (OSError, urllib.error.URLError, ValueError) as e:
        r.line("FAIL", "registry", "http://%s/v2/: %s" % (registry, getattr(e, "reason", e)),
               "deploy marathon/infra/registry.json first; every agent's Docker needs \"insecure-registries\": "
               "[\"%s\"] (a dockerd restart per agent)" % registry)
    try:
        addresses = sorted({a[4][0] for a in socket.getaddrinfo(args.dns_name, None)})
        r.line("ok", "dns", "%s resolves (%s)" % (args.dns_name, ", ".join(addresses[:3])))
    except (OSError, UnicodeError) as e:
        r.line("FAIL", "dns", "%s does not resolve here: %s" % (args.dns_name, getattr(e, "strerror", None) or e),
               "use Mesos-DNS as this machine's and every agent's resolver (nameserver in /etc/resolv.conf)")
    if r.failed:
        verdict = "%d check(s) failed" % r.failed
    elif only:
        verdict = "the %d check(s) asked for passed" % len(only)
    else:
        verdict = "the cluster can take it"
    session.out("preflight: " + verdict)
    return 1 if r.failed else 0


def _mesos_checks(r, state, config, role, persistent, cpus, mem):
    name = config.get("framework_name") or "marathon"
    frameworks = [f for f in state.get("frameworks") or [] if isinstance(f, dict) and f.get("name") == name]
    if not frameworks:
        r.line("FAIL", "principal", "no framework %r is registered with this Mesos master" % name,
               "start Marathon with --master pointing at this Mesos (zk://.../mesos)")
    else:
        fw = frameworks[0]
        roles = fw.get("roles") or ([fw["role"]] if fw.get("role") else [])
        if persistent and not fw.get("principal"):
            r.line("FAIL", "principal", "framework %s has no principal: Mesos refuses its reservations" % name,
                   "restart Marathon with --mesos_authentication_principal <principal> (and a secret if "
                   "the master authenticates frameworks)")
        else:
            r.line("ok", "principal", "framework %s, principal %s, role(s) %s" % (
                name, fw.get("principal") or "-", ",".join(roles) or "*"))
    agents = [a for a in state.get("slaves") or [] if isinstance(a, dict) and a.get("active", True)]
    public = [a for a in agents if PUBLIC_ROLE in (a.get("reserved_resources") or {})]
    if public:
        r.line("ok", "public-agent", "%d %s agent(s) for marathon-lb: %s" % (
            len(public), PUBLIC_ROLE, ", ".join(a.get("hostname", "?") for a in public)))
    else:
        r.line("FAIL", "public-agent", "no active agent has resources for role %s: marathon-lb "
               "(acceptedResourceRoles [%s]) would wait forever" % (PUBLIC_ROLE, PUBLIC_ROLE),
               "start one agent with --default_role=%s (DC/OS: a public agent)" % PUBLIC_ROLE)
    private = [a for a in agents if a not in public]
    free = [agent_free(a, role) for a in private]
    have_cpus, have_mem = sum(f[0] for f in free), sum(f[1] for f in free)
    text = "%d private agent(s) have %.1f CPUs and %d MB free; needed %.1f CPUs and %d MB" % (
        len(private), have_cpus, have_mem, cpus, mem)
    if have_cpus + 1e-9 >= cpus and have_mem + 1e-9 >= mem:
        r.line("ok", "resources", text)
    else:
        r.line("FAIL", "resources", text, "add agents, or fewer teams (--teams), or scale the stage down "
               "(instances in marathon/<stage>/)")
