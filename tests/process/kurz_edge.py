"""A real HAProxy on 127.0.0.1 running a shipped edge configuration (docker/haproxy/common.cfg plus a
stage file such as stage3.cfg) in front of kurz processes: each backend's server-template (Docker
DNS slots) becomes one `server` line per given address; everything else of the files stays as
shipped (the routing, retries, checks). Standard library only."""
import os
import re
import signal
import subprocess
import tempfile

from kurz_process import free_port
from kurzops.tools import haproxy_exe  # noqa: E402,F401  (kurz_process puts scripts/ on sys.path)

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
HAPROXY_DIR = os.path.join(ROOT, "docker", "haproxy")
# Added by Edge(tag_backend=True) to every response: the backend and the server that answered it.
BACKEND_HEADER = "X-Edge-Backend"
SERVER_HEADER = "X-Edge-Server"


def host_config(stage_text, servers, port, stats_port, tag_backend=False):
    """common.cfg + `stage_text` for 127.0.0.1: `servers` {backend: ["127.0.0.1:port", ...]} replace
    each backend's server-templates, with the templates' options (the `-live-` fallback slots
    become backup servers on the same addresses); a backend not in `servers` has none. With `tag_backend`, every response carries
    BACKEND_HEADER and SERVER_HEADER: the names of the backend and the server that answered it."""
    with open(os.path.join(HAPROXY_DIR, "common.cfg"), encoding="utf-8") as f:
        common = f.read()
    common = common.replace("bind :8404", "bind 127.0.0.1:%d" % stats_port)
    common = common.replace(" init-addr none resolvers docker resolve-prefer ipv4", "")
    if "bind :8080" not in stage_text:
        raise ValueError("the stage configuration has no `bind :8080`")
    stage = stage_text.replace("bind :8080", "bind 127.0.0.1:%d" % port)
    if tag_backend:
        stage = stage.replace("\nfrontend http\n", "\nfrontend http\n    http-response set-header %s %%[be_name]\n"
                              "    http-response set-header %s %%[srv_name]\n" % (BACKEND_HEADER, SERVER_HEADER), 1)

    def server_lines(match):  # the template's own options stay (observe, backup, no-check ...)
        indent, backend, live, options = match.group(1), match.group(2), match.group(3), match.group(4)
        return "".join("%sserver %s%s-%d %s%s\n" % (indent, backend, live or "", i + 1, address, options or "")
                       for i, address in enumerate(servers.get(backend, [])))
    stage = re.sub(r"^([ \t]+)server-template (\w+)(-live)?- \d+ \S+( [^\n]*)?\n", server_lines, stage, flags=re.M)
    if re.search(r"^\s*server-template ", stage, re.M):
        raise ValueError("a server-template was left in the configuration")
    return common + "\n" + stage


class Edge:
    """HAProxy running host_config(...) on a free port; stop() ends it."""

    def __init__(self, stage_cfg, servers, tag_backend=False):
        exe = haproxy_exe()
        if exe is None:
            raise FileNotFoundError("haproxy is not installed (Debian package haproxy)")
        with open(stage_cfg, encoding="utf-8") as f:
            text = f.read()
        self.port = free_port()
        fd, self.config = tempfile.mkstemp(prefix="kurz-edge-", suffix=".cfg")
        with os.fdopen(fd, "w") as f:
            f.write(host_config(text, servers, self.port, free_port(), tag_backend))
        env = {k: v for k, v in os.environ.items() if k != "KURZ_HAPROXY_LOG_ALL"}
        self.proc = subprocess.Popen([exe, "-db", "-f", self.config], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=env)
        self.output = ""

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGUSR1 (soft stop), then what HAProxy printed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)
        try:
            self.output = self.proc.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.output = self.proc.communicate(timeout=20)[0]
        os.remove(self.config)
        return self.output

