"""Bounded waits: every loop here ends by itself."""
import os
import time

from . import web


class Timeout(Exception):
    """A wait ran out of time; the message says what was awaited and the last thing seen."""


def wait_until(what, predicate, timeout, interval=0.05):
    """Calls `predicate` until it returns something true, and returns that. Raises Timeout after
    `timeout` seconds; the message names `what` and the last value or exception seen."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except Exception as e:  # noqa: BLE001 - reported in the Timeout's message
            last = "%s: %s" % (type(e).__name__, e)
        if time.monotonic() >= deadline:
            raise Timeout("%s: not within %.1f s (last: %r)" % (what, timeout, last))
        time.sleep(interval)


def wait_http(url, timeout, status=200, pid=None, interval=0.05):
    """Polls `url` until it answers `status`. Raises Timeout after `timeout` seconds, or at once
    (as ProcessLookupError) when the optional `pid` has exited."""
    def answered():
        if pid is not None and not _alive(pid):
            raise _Gone("process %d exited" % pid)
        return web.try_request(url, "GET", timeout=min(1.0, timeout)).status == status
    try:
        return wait_until("%s answering %d" % (url, status), answered, timeout, interval)
    except _Gone as e:
        raise ProcessLookupError(str(e)) from None


class _Gone(BaseException):
    """Escapes wait_until's retry (which catches Exception) when the awaited process is gone."""


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); /proc tells.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
