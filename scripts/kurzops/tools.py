"""Where the project's own programs are."""
import os

from . import ROOT

LOAD_CANDIDATES = ("build/release/bench/kurz-load", "build/ci/bench/kurz-load")


def load_tool():
    """The kurz-load binary: $KURZ_LOAD when set, else the release build's, else the ci build's.
    FileNotFoundError says how to build it."""
    env = os.environ.get("KURZ_LOAD")
    candidates = [env] if env else [os.path.join(ROOT, c) for c in LOAD_CANDIDATES]
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise FileNotFoundError("no kurz-load binary (%s); bench/load builds it"
                            % (("KURZ_LOAD=" + env) if env else " or ".join(LOAD_CANDIDATES)))


def haproxy_exe():
    """Debian's haproxy binary (it lives in /usr/sbin, which a non-root PATH may lack), or None
    when it is not installed (Debian package haproxy)."""
    import shutil
    return shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
