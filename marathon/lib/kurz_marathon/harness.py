"""The contract harness: each app of a Marathon definition run the way the Mesos Docker executor
runs it (executor.py), its health check as the executor does it and its readiness check as Marathon
does it (probes.py), then the kill path under a balancer's traffic (balancer.py).

    marathon/harness [--registry R] [--tag T] FILE [--app ID]...

Apps start in `dependencies` order, one dependency level at a time (the apps of a level together,
as Marathon deploys them); each must be healthy AND ready within its health check's
gracePeriodSeconds before the next level starts. Then the tasks are killed in the reverse order:
`docker stop -t <taskKillGracePeriodSeconds>` while the balancer sends requests; the task must exit
0 within the grace and no request may fail. Exit 0: every app passed; 1: a contract failed (the
check and the reason are printed); 2: bad usage. Every container and sandbox is removed at the end,
also on failure, SIGTERM or Ctrl-C.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import typing

from . import balancer as balancer_mod
from . import credentials, definitions
from . import executor
from . import probes

_print_lock = threading.Lock()


def say(msg):
    with _print_lock:
        print(msg, flush=True)


class AppRun:
    """What happens to one app: its task, checks, figures, and the first contract failure."""

    def __init__(self, app_id, app):
        self.app_id, self.app = app_id, app
        self.task = None
        self.skipped = None
        self.failure = None  # (check, message)
        self.figures = {}
        self.health = []
        self.readiness = None
        self.stop_checks = threading.Event()

    def fail(self, check, message):
        if self.failure is None:
            self.failure = (check, message)
            say("FAIL %s: %s: %s" % (self.app_id, check, message))


# --- deploying one app ---------------------------------------------------------------------------

def health_checks(run):
    """[(spec, container port)] for the app's health checks; ContractError when one cannot run."""
    out = []
    mappings = run.task.mappings
    for check in run.app.get("healthChecks") or []:
        spec = probes.health_spec(check)
        if spec["protocol"] not in ("MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"):
            raise executor.ContractError("health check", "protocol %s: the harness runs the executor's "
                                         "checks (MESOS_HTTP, MESOS_HTTPS, MESOS_TCP)" % spec["protocol"])
        if check.get("port"):
            port = int(check["port"])
        else:
            index = int(spec["portIndex"])
            if index >= len(mappings):
                raise executor.ContractError("health check", "portIndex %d but the app has %d port "
                                             "mapping(s)" % (index, len(mappings)))
            port = int(mappings[index]["containerPort"])
        out.append((spec, port))
    return out


def readiness_check(run):
    """(spec, host port) of the app's readiness check, or None."""
    checks = run.app.get("readinessChecks") or []
    if not checks:
        return None
    spec = probes.readiness_spec(checks[0])
    if spec["protocol"] not in ("HTTP", "HTTPS"):
        raise executor.ContractError("readiness check", "protocol %s" % spec["protocol"])
    port = run.task.host_port_named(spec["portName"])
    if port is None:
        raise executor.ContractError("readiness check", "portName %r names no port mapping (names: %s)"
                                     % (spec["portName"], [m.get("name") for m in run.task.mappings]))
    return spec, port


def exit_reason(task):
    tail = task.output_tail()
    hint = ""
    if task.app.get("cmd"):
        hint = " (the definition sets `cmd`: Mesos runs it as --entrypoint /bin/sh -c, and the image " \
               "has no shell; use `args`)"
    if task.app.get("container", {}).get("volumes") and "ermission denied" in tail:
        hint += " (the sandbox and its persistent volumes belong to the task user %s, as Mesos chowns " \
                "them; the image runs as %s)" % (task.app.get("user") or "root (Marathon's default)",
                                                  executor.image_user(task.image) or "root")
    return "the container exited with code %s%s%s" % (task.exit_code, hint,
                                                      (": " + tail) if tail else "")


def listen_hint(run, pid, port):
    """Where the service listens instead, when it does not listen on the checked port."""
    ports = probes.listening_ports(pid)
    if port in ports:
        return ""
    names = {}
    env = run.task.environment("")
    for key in sorted(env, key=lambda k: (not k[4:].isdigit(), k)):
        value = env[key]
        if key.startswith("PORT") and value.isdigit():
            names.setdefault(int(value), key)
    where = ", ".join("%d%s" % (p, " (%s: a HOST port)" % names[p] if p in names else "") for p in ports)
    return "; the container listens on %s, not on %d" % (where or "no TCP port", port)


def deploy(run, workdir, gateway, hosts, version):
    """Starts the task and waits until it is healthy and ready within the health check's grace."""
    try:
        run.task = executor.Task(run.app, workdir, gateway, hosts)
        specs = health_checks(run)
        ready = readiness_check(run)
        run.task.start(version, say)
    except executor.ContractError as e:
        run.fail(e.check, e.message)
        return
    task = run.task
    grace = float(specs[0][0]["gracePeriodSeconds"]) if specs else probes.HEALTH_DEFAULTS["gracePeriodSeconds"]
    deadline = task.started_at + grace
    pid = task.container_pid(timeout_s=min(grace, 60))
    if pid is None:
        task.exited()
        run.fail("start", exit_reason(task) if task.exit_code is not None else "no running container")
        return
    run.figures["running_s"] = time.monotonic() - task.started_at
    for spec, port in specs:
        checker = probes.HealthChecker(spec, pid, port, task.started_at, run.stop_checks)
        run.health.append(checker)
        checker.start()
    if ready:
        run.readiness = probes.ReadinessChecker(ready[0], gateway, ready[1], task.started_at, run.stop_checks)
        run.readiness.start()
    while time.monotonic() < deadline:
        if task.exited():
            run.fail("start", exit_reason(task) + " (before it was healthy and ready)")
            return
        killed = [c.killed for c in run.health if c.killed]
        if killed:
            run.fail("health check", killed[0])
            return
        if all(c.healthy_at is not None for c in run.health) and (
                run.readiness is None or run.readiness.ready_at is not None):
            break
        time.sleep(0.05)
    else:
        for c in run.health:
            if c.healthy_at is None:
                run.fail("health check", "%s on container port %d%s not healthy within gracePeriodSeconds="
                         "%g s (%d probes; last: %s)%s" % (c.spec["protocol"], c.port,
                                                            c.spec["path"] if c.spec["protocol"] != "MESOS_TCP" else "",
                                                            grace, c.probes, c.last or "no probe yet",
                                                            listen_hint(run, pid, c.port)))
                return
        r = run.readiness
        run.fail("readiness check", "http://%s:%d%s not ready (status in %s) within the health check's grace "
                 "of %g s (%d probes; last: %s)" % (gateway, r.port, r.spec["path"],
                                                    r.spec["httpStatusCodesForReady"], grace, r.probes, r.last))
        return
    if run.health:
        run.figures["healthy_s"] = max(c.healthy_at for c in run.health)
    if run.readiness:
        run.figures["ready_s"] = run.readiness.ready_at
    say("%s: healthy after %s, ready after %s (grace %g s)" % (
        run.app_id, fmt_s(run.figures.get("healthy_s")), fmt_s(run.figures.get("ready_s")), grace))


# --- killing one app -----------------------------------------------------------------------------

def request_path(run):
    """The balancer's requests go to the liveness path (every HTTP app serves it until it exits)."""
    for c in run.health:
        if c.spec["protocol"] in ("MESOS_HTTP", "MESOS_HTTPS"):
            return c.spec["path"]
    return "/"


def kill(run, gateway):
    """The kill path under a balancer's traffic; records the figures and the failures."""
    task = run.task
    killed = [c.killed for c in run.health if c.killed]
    if killed:
        run.fail("health check", killed[0] + " (after it was healthy)")
        return
    if task.exited():
        run.fail("running", exit_reason(task) + " (before the kill)")
        return
    grace = task.kill_grace_s
    run.figures["grace_s"] = grace
    lb = None
    check = balancer_mod.check_for(run.app, run.readiness.spec if run.readiness else None)
    labels = run.app.get("labels") or {}
    if check is None and "HAPROXY_GROUP" in labels:
        run.fail("kill path", "behind marathon-lb (HAPROXY_GROUP) without a readiness check or an "
                 "httpchk: nothing tells the balancer to stop routing to a stopping task")
        task.stop()
        return
    if check is None:
        run.figures["traffic"] = "no balancer routes to it (no HAPROXY_GROUP label): exit code and time only"
    else:
        run.figures["traffic"] = "balancer: " + check.describe()
        lb = balancer_mod.Balancer(gateway, task.host_ports[0], request_path(run), check)
        lb.start()
    if lb is not None:
        if not lb.wait_for_poll(check.inter_s * 3 + 2) or lb.figures(time.monotonic())["failed"]:
            lb.finish()
            f = lb.figures(time.monotonic())
            run.fail("kill path", "the balancer could not route to the task before the stop (%d of %d "
                     "requests failed%s; last check: %s)" % (
                         f["failed"], f["sent_before"], (": " + ", ".join(f["failures"])) if f["failed"] else "",
                         lb.last_poll or "none"))
            task.stop()
            return
    for c in run.health:
        c.paused.set()  # the executor pauses its checks when it kills the task
    t_stop = time.monotonic()
    result = {}
    stopper = threading.Thread(target=lambda: result.update(zip(("seconds", "code"), task.stop())), daemon=True)
    stopper.start()
    if lb is not None:
        lb.wait_removed(timeout_s=grace + check.inter_s * check.fall + 10)
    stopper.join(timeout=grace + 90)
    seconds, code = result.get("seconds"), result.get("code")
    run.figures.update({"stop_s": seconds, "exit_code": code})
    if lb is not None:
        f = lb.figures(t_stop)
        run.figures.update(f)
        if lb.removed_at is not None:
            run.figures["removed_s"] = lb.removed_at - t_stop
    if code != 0:
        why = " (SIGKILL after taskKillGracePeriodSeconds=%g s: the task needs longer to shut down)" % grace \
            if code == 137 else ""
        run.fail("kill path", "docker stop -t %d: exit code %s after %s%s" % (grace, code, fmt_s(seconds), why))
    if lb is not None:
        f = run.figures
        if f["failed"]:
            run.fail("kill path", "%d request(s) failed (%d sent after SIGTERM): %s" % (
                f["failed"], f["sent_during"], ", ".join(f["failures"])))
        elif f["sent_during"] == 0:
            run.fail("kill path", "no request was sent after SIGTERM: the stop was not exercised under load")
        elif lb.removed_at is None:
            run.fail("kill path", "the balancer's check never failed during the stop: it would keep "
                     "routing to the stopping task")
    f = run.figures
    if lb is not None:
        say("%s: kill: docker stop -t %d; the balancer (%s) took it out %s after SIGTERM; %d requests "
            "sent after SIGTERM, %d failed (%d before); exit %s after %s" % (
                run.app_id, grace, check.describe(), fmt_s(f.get("removed_s")), f["sent_during"],
                f["failed_during"], f["sent_before"], f["exit_code"], fmt_s(f["stop_s"])))
    else:
        say("%s: kill: docker stop -t %d; %s; exit %s after %s" % (
            run.app_id, grace, f["traffic"], f["exit_code"], fmt_s(f["stop_s"])))


# --- the run -------------------------------------------------------------------------------------

def guarded(step, run, *args):
    """Runs deploy or kill; an unexpected error (Docker gone, a full disk) fails the app, with a
    message instead of a stack trace."""
    try:
        step(run, *args)
    except Exception as e:
        run.fail("harness", "%s failed: %s: %s" % (step.__name__, e.__class__.__name__, e))

def levels(ids, deps):
    """Dependency levels (lists of ids) of the selected apps; ValueError on a cycle."""
    placed, out = set(), []
    remaining = list(ids)
    while remaining:
        level = [i for i in remaining if all(d in placed or d not in ids for d in deps.get(i, []))]
        if not level:
            raise ValueError("dependencies form a cycle among %s" % ", ".join(remaining))
        out.append(level)
        placed.update(level)
        remaining = [i for i in remaining if i not in placed]
    return out


def with_dependencies(selected, deps):
    out, todo = [], list(selected)
    while todo:
        i = todo.pop(0)
        if i not in out:
            out.append(i)
            todo += deps.get(i, [])
    return out


def fmt_s(value):
    return "-" if value is None else "%.1f s" % value


def report(runs):
    say("")
    say("%-28s %-6s %8s %8s %8s %10s %7s %7s %8s %5s  %s" % (
        "app", "result", "running", "healthy", "ready", "sent/stop", "failed", "lb out", "stop", "exit", "reason"))
    for r in runs:
        f = r.figures
        result = "skip" if r.skipped else ("FAIL" if r.failure else "pass")
        reason = r.skipped or ("%s: %s" % r.failure if r.failure else "")
        reason = reason if len(reason) <= 110 else reason[:107] + "..."
        sent = "%d/%d" % (f["sent_before"] + f["sent_during"], f["sent_during"]) if "sent_during" in f else "-"
        say("%-28s %-6s %8s %8s %8s %10s %7s %7s %8s %5s  %s" % (
            r.app_id, result, fmt_s(f.get("running_s")), fmt_s(f.get("healthy_s")), fmt_s(f.get("ready_s")),
            sent, f.get("failed", "-"), fmt_s(f.get("removed_s")), fmt_s(f.get("stop_s")),
            "-" if f.get("exit_code") is None else f["exit_code"], reason))
    say("(seconds after docker run: running, healthy, ready; sent/stop: requests the balancer sent in all /"
        " after SIGTERM; lb out: SIGTERM until the balancer took the task out; stop: docker stop -t <grace>"
        " until the container exited)")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="marathon/harness",
        description="Run each app of a Marathon definition the way the Mesos Docker executor does "
                    "(real Docker): docker run, health and readiness checks, then the kill path under load.")
    parser.add_argument("file", metavar="FILE", help="a Marathon app or group definition (JSON)")
    parser.add_argument("--app", action="append", default=[], metavar="ID",
                        help="run only this app (and what it depends on); repeatable")
    parser.add_argument("--with", dest="with_files", action="append", default=[], metavar="FILE",
                        help="another definition whose apps the FILE's apps need (their dependencies, or "
                             "Mesos-DNS names in their env) are run first; repeatable")
    parser.add_argument("--registry", default=None, help='registry prefix of the kurz images ("" for none)')
    parser.add_argument("--tag", default=None, help="tag of the kurz images")
    return parser.parse_args(argv)


_GENERATED = {}


def run_credentials():
    """The environment's KURZ_API_KEY / KURZ_REDIS_PASSWORD, or a random value for this run (the
    harness runs every app on one machine: any value works, the same one for all apps)."""
    import secrets
    env = dict(os.environ)
    for name in credentials.KNOWN:
        if not env.get(name):
            env[name] = _GENERATED.setdefault(name, secrets.token_hex(16))
    return env


def load_apps(path, args):
    """({app id: app}, {app id: [dependencies]}) of a file, with the images rewritten."""
    definition = credentials.fill(definitions.load(path), run_credentials())
    if args.registry is not None or args.tag is not None:
        definition = definitions.set_images(definition, registry=args.registry, tag=args.tag)
    return definitions.apps(definition), definitions.dependencies(definition)


def references(app_id, app, deps, dns):
    """The apps an app needs: its dependencies and the apps whose Mesos-DNS names its env uses."""
    values = " ".join(str(v) for v in (app.get("env") or {}).values())
    return list(deps.get(app_id, [])) + [i for name, i in sorted(dns.items()) if name in values]


class Refused(Exception):
    """The harness cannot run as asked: `message` goes to stderr, `code` is the exit status."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


class Plan(typing.NamedTuple):
    """What a run does: the apps to start and in which order, and what they need."""
    apps: dict  # app id -> app, the FILE's and those taken from --with files
    selected: list  # the app ids to run, --with apps first
    deps: dict  # app id -> the ids it waits for (its dependencies and the --with apps it uses)
    start_levels: list  # lists of app ids started together, in order
    kill_levels: list  # lists of app ids killed together, in order
    hosts: list  # the Mesos-DNS names the containers resolve to the agent


def load_files(args):
    """(the FILE's apps, {app id: (app, path)} of the --with files' other apps, dependencies)."""
    try:
        main_apps, deps = load_apps(args.file, args)
        context = {}
        for path in args.with_files:
            more, more_deps = load_apps(path, args)
            for i, app in more.items():
                if i not in main_apps and i not in context:
                    context[i] = (app, path)
                    deps[i] = more_deps[i]
    except definitions.DefinitionError as e:
        raise Refused(2, str(e))
    if not main_apps:
        raise Refused(2, "%s holds no app" % args.file)
    return main_apps, context, deps


def select_apps(args, main_apps, deps):
    """The FILE's apps to run: all, or those --app names and what they depend on."""
    if not args.app:
        return list(main_apps)
    wanted = [definitions.absolute_id(a) for a in args.app]
    unknown = [a for a in wanted if a not in main_apps]
    if unknown:
        raise Refused(2, "no app %s in %s (apps: %s)" % (", ".join(unknown), args.file, ", ".join(main_apps)))
    return [a for a in main_apps if a in with_dependencies(wanted, deps)]


def needed_from_context(selected, main_apps, context, deps):
    """The --with apps the selected apps need (dependencies, Mesos-DNS names in env), in the order
    found; each becomes a dependency of the app that uses it (already running on the cluster: it
    comes first, goes last)."""
    dns = {definitions.mesos_dns_name(i): i for i in context}
    extra, todo = [], list(selected)
    while todo:
        i = todo.pop(0)
        app = main_apps[i] if i in main_apps else context[i][0]
        for ref in references(i, app, deps, dns):
            if ref in context and ref not in deps.setdefault(i, []):
                deps[i].append(ref)
            if ref in context and ref not in extra:
                extra.append(ref)
                todo.append(ref)
    return extra


def make_plan(args):
    main_apps, context, deps = load_files(args)
    selected = select_apps(args, main_apps, deps)
    extra = needed_from_context(selected, main_apps, context, deps)
    all_apps = dict(main_apps)
    all_apps.update({i: context[i][0] for i in extra})
    selected = [i for i in context if i in extra] + selected
    # Kill order: an app goes before the apps it needs, also those it finds by Mesos-DNS name only
    # (each task's kill path is checked with everything it uses still running).
    all_dns = {definitions.mesos_dns_name(i): i for i in all_apps}
    uses = {i: [r for r in references(i, all_apps[i], deps, all_dns) if r != i] for i in selected}
    try:
        order = levels(selected, deps)
        kill_order = list(reversed(levels(selected, uses)))
    except ValueError as e:
        raise Refused(1, "%s: %s" % (args.file, e))
    missing = sorted(set(d for i in selected for d in deps.get(i, []) if d not in all_apps))
    if missing:
        print("harness: %s: dependencies in no file given are not started: %s (add the file that holds "
              "them with --with)" % (args.file, ", ".join(missing)), file=sys.stderr)
    for i in extra:
        say("harness: %s from %s (needed by the apps of %s)" % (i, context[i][1], args.file))
    hosts = sorted(set(definitions.mesos_dns_name(i) for i in list(main_apps) + list(context)))
    return Plan(all_apps, selected, deps, order, kill_order, hosts)


def agent_gateway():
    """The docker bridge gateway (the agent the containers see); Refused without root or Docker."""
    if os.geteuid() != 0:
        raise Refused(2, "needs root: it enters each container's network namespace (nsenter) as the "
                         "Mesos agent does")
    try:
        if subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=30).returncode != 0:
            raise OSError("docker info failed")
        return executor.docker_gateway()
    except (OSError, subprocess.TimeoutExpired, executor.ContractError) as e:
        raise Refused(2, "no usable Docker engine (%s): start dockerd" % e)


def run_together(calls):
    """Runs each (function, args) in its own thread (a Marathon deployment step) and waits for all."""
    threads = [threading.Thread(target=guarded, args=(step,) + args, daemon=True) for step, args in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def may_start(run, runs, deps):
    """Whether the app's task can start: its dependencies came up and its image is present; if not,
    the run is marked skipped or failed with the reason."""
    blocked = [d for d in deps.get(run.app_id, []) if d in runs and (runs[d].skipped or runs[d].failure)]
    image = definitions.docker_image(run.app)
    if blocked:
        run.skipped = "depends on %s, which did not come up" % ", ".join(blocked)
    elif not executor.image_present(image):
        if definitions.parse_image(image) is None:
            run.skipped = "image %s is not present locally (not a kurz image; pull it to check it)" % image
        else:
            run.fail("image", "kurz image %s is not present locally (build it: "
                     "scripts/docker/build-images.sh)" % image)
    if run.skipped:
        say("SKIP %s: %s" % (run.app_id, run.skipped))
    return not run.skipped and not run.failure


def deploy_and_kill(plan, runs, started, gateway, workdir):
    """Starts the apps level by level (a level together), stops at the first level with a failure;
    then, when every started task came up, kills them level by level. `started` collects the runs
    whose task was started (for the clean-up)."""
    version = executor.marathon_version_now()
    for level in plan.start_levels:
        ready = [runs[i] for i in level if may_start(runs[i], runs, plan.deps)]
        started.extend(ready)
        run_together([(deploy, (run, workdir, gateway, plan.hosts, version)) for run in ready])
        if any(runs[i].failure for i in level):
            break
    up = [r for r in started if r.task is not None and r.failure is None]
    if len(up) == len(started):
        for level in plan.kill_levels:
            run_together([(kill, (runs[i], gateway)) for i in level if runs[i] in up])


def verdict(runs):
    """Prints the report and the verdict; the exit status."""
    report(list(runs.values()))
    failed = [r for r in runs.values() if r.failure]
    if failed:
        say("harness: FAILED: %s" % "; ".join("%s: %s: %s" % ((r.app_id,) + r.failure) for r in failed))
        return 1
    skipped = [r for r in runs.values() if r.skipped]
    say("harness: passed: %d app(s)%s" % (len(runs) - len(skipped), "; skipped, NOT checked: %s" % ", ".join(
        r.app_id for r in skipped) if skipped else ""))
    return 0


def _interrupt_on_sigterm(signum, frame):
    raise KeyboardInterrupt()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        plan = make_plan(args)
        gateway = agent_gateway()
    except Refused as e:
        print("harness: %s" % e.message, file=sys.stderr)
        return e.code
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    runs = {i: AppRun(i, plan.apps[i]) for i in plan.selected}
    workdir = executor.make_workdir()
    say("harness: %s: %s in %d level(s); the agent is the docker bridge gateway %s; Mesos-DNS names %s -> %s"
        % (args.file, ", ".join(plan.selected), len(plan.start_levels), gateway, ", ".join(plan.hosts), gateway))
    started = []
    try:
        deploy_and_kill(plan, runs, started, gateway, workdir)
    except KeyboardInterrupt:
        say("harness: interrupted: removing the containers and sandboxes")
        return 1
    finally:
        for run in started:
            run.stop_checks.set()
        for error in executor.remove_all():
            say("harness: could not remove %s" % error)
        shutil.rmtree(workdir, ignore_errors=True)
    return verdict(runs)
