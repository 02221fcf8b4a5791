"""A stand-in for the Mesos Docker executor on one machine: the `docker run` that Mesos 1.11 builds
for a Marathon 1.10 app in bridge mode (src/docker/docker.cpp, Docker::RunOptions::create), the
environment Marathon injects (TaskBuilder.scala, EnvironmentHelper.scala), the sandbox, and the kill
path (`docker stop -t <taskKillGracePeriodSeconds>`). See shared/reference/marathon/RUNTIME.md.

The docker bridge gateway (docker0) plays the agent: HOST is its address, every host port is
published on it (never on 0.0.0.0), and the Mesos-DNS name of every app of the file resolves to it
(`--add-host`), as an A record resolves to the agent that runs the task.
Deliberate differences from a real agent, all visible in the printed command: `-p` names the gateway
address; `--add-host` stands in for Mesos-DNS; the image is never pulled (forcePullImage ignored).
"""
import datetime
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

MESOS_SANDBOX = "/mnt/mesos/sandbox"
AGENT_KILL_GRACE_S = 5  # the agent's --executor_shutdown_grace_period default
MIN_CPU_SHARES = 2
MIN_MEMORY_MB = 32
FIXED_PORT_WAIT_S = 60


# Every task this process started, so that all of them are removed at the end (also on Ctrl-C);
# once `closing` is set no new container starts.
_live_lock = threading.Lock()
_live = []
closing = threading.Event()


def remove_all():
    """Removes every task's container and sandbox (idempotent); no task starts afterwards."""
    with _live_lock:
        closing.set()
        tasks = list(_live)
        _live.clear()
    errors = []
    for task in tasks:
        try:
            task.remove()
        except Exception as e:  # keep removing the others
            errors.append("%s: %s" % (task.name, e))
    return errors


class ContractError(Exception):
    """The definition cannot run the way Mesos would run it: `check` names the check."""

    def __init__(self, check, message):
        super().__init__("%s: %s" % (check, message))
        self.check = check
        self.message = message


def docker_gateway():
    """The docker bridge gateway address (docker0): the stand-in agent's address."""
    out = subprocess.run(["docker", "network", "inspect", "bridge", "--format",
                          "{{range .IPAM.Config}}{{.Gateway}} {{end}}"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, timeout=30).stdout.split()
    if out:
        return out[0]
    link = subprocess.run(["ip", "-4", "-o", "addr", "show", "docker0"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, timeout=10).stdout
    m = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", link)
    if not m:
        raise ContractError("agent", "no docker bridge gateway address (docker0 has no IPv4 address)")
    return m.group(1)


_ports_lock = threading.Lock()
_ports_taken = set()


def free_port(address):
    """A free TCP port on `address`, never handed out twice by this process."""
    with _ports_lock:
        for _ in range(50):
            with socket.socket() as s:
                s.bind((address, 0))
                port = s.getsockname()[1]
            if port not in _ports_taken:
                _ports_taken.add(port)
                return port
    raise ContractError("ports", "no free port on %s" % address)


def port_is_free(address, port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def port_holder(port):
    """Who listens on a TCP port (ss), for messages."""
    try:
        out = subprocess.run(["ss", "-Hltnp", "sport = :%d" % port], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, timeout=10).stdout.split("\n")
    except (OSError, subprocess.TimeoutExpired):
        return "held by another task or process"
    lines = [" ".join(l.split()) for l in out if l.strip()]
    return "held by: " + "; ".join(lines) if lines else "held by another task or process"


def mesos_dns_name(app_id):
    """Mesos-DNS A record of an app: /kurz/redis -> redis-kurz.marathon.mesos."""
    return "-".join(reversed([p for p in app_id.split("/") if p])) + ".marathon.mesos"


def scala_double(value):
    """Scala's Double.toString for the values Marathon writes: 0.5, 256.0, 0.0."""
    return repr(float(value))


def task_id(app_id):
    """Marathon 1.10's task id: kurz_redirect.instance-<uuid>._app.1."""
    return "%s.instance-%s._app.1" % (app_id.strip("/").replace("/", "_"), uuid.uuid4())


def marathon_version_now():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def label_env(labels):
    """EnvironmentHelper.labelsToEnvVars: MARATHON_APP_LABELS and MARATHON_APP_LABEL_<KEY>."""
    valid = {}
    for key, value in (labels or {}).items():
        if len(key) < 512 - len("MARATHON_APP_LABEL_") and len(str(value)) < 512:
            valid[re.sub(r"[^a-zA-Z0-9_]+", "_", key).upper()] = str(value)
    env = {"MARATHON_APP_LABELS": " ".join(valid)}
    env.update({"MARATHON_APP_LABEL_" + k: v for k, v in valid.items()})
    return env


def ports_env(mappings, host_ports):
    """EnvironmentHelper.portsEnv in bridge mode (every mapping has a host port): PORT<i>,
    PORT_<containerPort>, PORT_<NAME>, PORT, PORTS, all of them HOST ports."""
    env = {}
    if not host_ports:
        return env
    for i, port in enumerate(host_ports):
        env["PORT%d" % i] = str(port)
    for mapping, port in zip(mappings, host_ports):
        requested = int(mapping.get("containerPort", 0))
        env["PORT_%d" % (requested if requested else port)] = str(port)
    for mapping, port in zip(mappings, host_ports):
        if mapping.get("name"):
            env["PORT_" + mapping["name"].upper()] = str(port)
    env["PORT"] = str(host_ports[0])
    env["PORTS"] = ",".join(str(p) for p in host_ports)
    return env


class Task:
    """One task of an app: its ids, host ports, sandbox and `docker run` command."""

    def __init__(self, app, workdir, gateway, hosts):
        self.app = app
        self.app_id = app["id"]
        self.gateway = gateway
        self.task_id = task_id(self.app_id)
        self.container_uuid = str(uuid.uuid4())
        self.name = "mesos-" + self.container_uuid
        container = app.get("container") or {}
        docker = container.get("docker") or {}
        self.image = docker.get("image")
        if (container.get("type") or "DOCKER") != "DOCKER" or not self.image:
            raise ContractError("container", "not a Docker app (container.type DOCKER with docker.image)")
        self.mappings = list(container.get("portMappings") or docker.get("portMappings") or [])
        self.network = self._network_mode()
        self.host_ports = self._host_ports()
        self.kill_grace_s = app.get("taskKillGracePeriodSeconds") or AGENT_KILL_GRACE_S
        self.sandbox = os.path.join(workdir, "sandbox-" + self.container_uuid)
        self.hosts = hosts
        self.proc = None
        self.started_at = None
        self.exit_code = None

    def _network_mode(self):
        networks = self.app.get("networks") or [{"mode": "host"}]
        modes = [n.get("mode", "container") for n in networks]
        if modes == ["container/bridge"]:
            return "bridge"
        if modes == ["host"] and not self.mappings:
            raise ContractError("network", "host networking: the harness runs bridge-mode apps only "
                                "(a host-mode app shares the agent's network; house rules forbid it here)")
        raise ContractError("network", "networks %s: the harness runs [{\"mode\": \"container/bridge\"}]"
                            % modes)

    def _host_ports(self):
        ports = []
        for m in self.mappings:
            if not m.get("containerPort"):
                raise ContractError("ports", "portMapping %s has no containerPort: in bridge mode the "
                                    "service would not know which port to bind" % (m.get("name") or m))
            fixed = int(m.get("hostPort") or 0)
            if fixed:
                # Marathon waits for an offer that holds the port: wait a while, then give up.
                deadline = time.monotonic() + FIXED_PORT_WAIT_S
                while not port_is_free(self.gateway, fixed) and time.monotonic() < deadline:
                    time.sleep(0.5)
                if not port_is_free(self.gateway, fixed):
                    raise ContractError("ports", "fixed hostPort %d stayed taken on %s for %d s (%s)" % (
                        fixed, self.gateway, FIXED_PORT_WAIT_S, port_holder(fixed)))
                ports.append(fixed)
            else:
                ports.append(free_port(self.gateway))
        return ports

    def host_port_named(self, name):
        for m, port in zip(self.mappings, self.host_ports):
            if m.get("name") == name:
                return port
        return None

    def environment(self, version):
        """The task environment, sorted: Marathon's, the app's env over it, then the executor's."""
        app = self.app
        env = {"MESOS_TASK_ID": self.task_id, "MARATHON_APP_ID": self.app_id,
               "MARATHON_APP_VERSION": version, "MARATHON_APP_DOCKER_IMAGE": self.image,
               "MARATHON_APP_RESOURCE_CPUS": scala_double(app.get("cpus", 1)),
               "MARATHON_APP_RESOURCE_MEM": scala_double(app.get("mem", 128)),
               "MARATHON_APP_RESOURCE_DISK": scala_double(app.get("disk", 0)),
               "MARATHON_APP_RESOURCE_GPUS": str(int(app.get("gpus", 0)))}
        env.update(label_env(app.get("labels")))
        env.update(ports_env(self.mappings, self.host_ports))
        env["HOST"] = self.gateway
        for key, value in (app.get("env") or {}).items():
            if not isinstance(value, str):
                raise ContractError("env", "env %s is %r: the harness supports plain strings only "
                                    "(no secrets)" % (key, value))
            env[key] = value
        env["MESOS_SANDBOX"] = MESOS_SANDBOX
        env["MESOS_CONTAINER_NAME"] = self.name
        env["MESOS_ALLOCATION_ROLE"] = app.get("role") or "*"
        return dict(sorted(env.items()))

    def _task_user(self):
        """The sandbox owner: the app's `user`, else Marathon's default (the user Marathon runs
        as; root here). Mesos chowns the sandbox to it and fails the task when it does not exist."""
        user = self.app.get("user") or "root"
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            raise ContractError("sandbox", "Failed to chown directory to '%s': no such user on the agent"
                                % user)
        return entry.pw_uid, entry.pw_gid

    def make_sandbox(self):
        """The sandbox (0750, owned by the task user) and the persistent volumes in it (owned like
        the sandbox, Mesos' os::chown of the volume)."""
        uid, gid = self._task_user()
        os.makedirs(self.sandbox)
        os.chmod(self.sandbox, 0o750)
        os.chown(self.sandbox, uid, gid)
        for vol in self._volumes():
            if vol.get("persistent") is not None:
                path = os.path.join(self.sandbox, vol["containerPath"])
                os.makedirs(path, exist_ok=True)
                os.chown(path, uid, gid)
        with open(os.path.join(self.sandbox, "stdout"), "w"), \
                open(os.path.join(self.sandbox, "stderr"), "w"):
            pass

    def _volumes(self):
        return list((self.app.get("container") or {}).get("volumes") or [])

    def _volume_args(self):
        args = ["-v", "%s:%s" % (self.sandbox, MESOS_SANDBOX)]
        for vol in self._volumes():
            cpath = vol.get("containerPath", "")
            mode = ":ro" if vol.get("mode", "RW") == "RO" else ":rw"
            if vol.get("persistent") is not None:
                if "/" in cpath:
                    raise ContractError("volumes", "persistent volume containerPath %r: Mesos needs a "
                                        "relative path without '/' (it lives in the sandbox)" % cpath)
                continue  # in the sandbox, so under /mnt/mesos/sandbox/<containerPath>
            if vol.get("external") is not None or vol.get("secret") is not None:
                raise ContractError("volumes", "volume %r: external and secret volumes are not "
                                    "supported by the harness" % cpath)
            host = vol.get("hostPath")
            if host is None:
                raise ContractError("volumes", "volume %r has no hostPath" % cpath)
            if not host.startswith("/"):
                host = os.path.join(self.sandbox, host)  # relative: in the sandbox
            elif not host.startswith(self.sandbox):
                raise ContractError("volumes", "volume %r mounts the agent's %s: the harness mounts "
                                    "sandbox paths only" % (cpath, host))
            args += ["-v", "%s:%s%s" % (host, cpath, mode)]
        return args

    def run_command(self, version):
        """The `docker run` argv (as Mesos builds it; the differences in the module doc)."""
        app = self.app
        docker = app["container"]["docker"]
        argv = ["docker", "run",
                "--cpu-shares", str(max(MIN_CPU_SHARES, int(float(app.get("cpus", 1)) * 1024))),
                "--memory", str(int(max(float(app.get("mem", 128)), MIN_MEMORY_MB) * 1024 * 1024))]
        for key, value in self.environment(version).items():
            argv += ["-e", "%s=%s" % (key, value)]
        argv += self._volume_args()
        argv += ["--net", self.network]
        for m, port in zip(self.mappings, self.host_ports):
            for proto in (m.get("protocol") or "tcp").split(","):
                argv += ["-p", "%s:%d:%d/%s" % (self.gateway, port, int(m["containerPort"]), proto)]
        for host in self.hosts:
            argv += ["--add-host", "%s:%s" % (host, self.gateway)]
        if docker.get("privileged"):
            argv.append("--privileged")
        for p in docker.get("parameters") or []:
            argv.append("--%s=%s" % (p["key"], p["value"]))
        if app.get("cmd"):
            argv += ["--entrypoint", "/bin/sh"]
        argv += ["--name", self.name, "--label=MESOS_TASK_ID=%s" % self.task_id, self.image]
        if app.get("cmd"):
            argv += ["-c", app["cmd"]]
        else:
            argv += [str(a) for a in (app.get("args") or [])]
        return argv

    def start(self, version, log):
        """Runs `docker run` in the foreground like the executor (output to sandbox stdout/stderr)."""
        argv = self.run_command(version)
        with _live_lock:
            if closing.is_set():
                raise ContractError("start", "the harness is shutting down")
            _live.append(self)
            self.make_sandbox()
            log("%s: %s" % (self.app_id, " ".join(shell_quote(a) for a in argv)))
            out = open(os.path.join(self.sandbox, "stdout"), "ab")
            err = open(os.path.join(self.sandbox, "stderr"), "ab")
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
            out.close()
            err.close()

    def exited(self):
        if self.proc is None:
            return True
        code = self.proc.poll()
        if code is not None and self.exit_code is None:
            self.exit_code = code
        return code is not None

    def container_pid(self, timeout_s):
        """The container's init pid once it runs (for nsenter); None when it exited first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.exited():
                return None
            out = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}} {{.State.Pid}}", self.name],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                 timeout=30).stdout.split()
            if len(out) == 2 and out[0] == "true" and out[1] != "0":
                return int(out[1])
            time.sleep(0.05)
        return None

    def output_tail(self, lines=3, limit=600):
        """The last lines the task wrote (sandbox stderr, else stdout), for failure messages."""
        for name in ("stderr", "stdout"):
            try:
                with open(os.path.join(self.sandbox, name), errors="replace") as f:
                    text = [l.strip() for l in f.readlines() if l.strip()][-lines:]
            except OSError:
                continue
            if text:
                return " | ".join(text)[-limit:]
        return ""

    def stop(self):
        """`docker stop -t <grace>` as the executor kills; returns (seconds, exit code)."""
        t0 = time.monotonic()
        subprocess.run(["docker", "stop", "-t", str(int(self.kill_grace_s)), self.name],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=self.kill_grace_s + 60)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        seconds = time.monotonic() - t0
        state = subprocess.run(["docker", "inspect", "-f", "{{.State.ExitCode}}", self.name],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               timeout=30).stdout.strip()
        if state.lstrip("-").isdigit():
            code = int(state)
        self.exit_code = code
        return seconds, code

    def remove(self):
        """Removes the container and the sandbox (also after a failure or Ctrl-C)."""
        subprocess.run(["docker", "rm", "-f", "-v", self.name], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.sandbox, ignore_errors=True)


def shell_quote(arg):
    """The argument as a POSIX shell word (bash's $'...' when it holds a newline or a tab)."""
    if arg and re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", arg):
        return arg
    if "\n" in arg or "\t" in arg:
        return "$'" + arg.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\t", "\\t") + "'"
    return "'" + arg.replace("'", "'\\''") + "'"


def image_present(image):
    return subprocess.run(["docker", "image", "inspect", image], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=30).returncode == 0


def image_user(image):
    """The USER of an image ("" for root)."""
    return subprocess.run(["docker", "image", "inspect", "-f", "{{.Config.User}}", image], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, timeout=30).stdout.strip()


def make_workdir():
    return tempfile.mkdtemp(prefix="kurz-harness-")
