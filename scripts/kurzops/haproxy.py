"""HAProxy's statistics CSV (`/stats;csv`), read by column name, never by position."""
import csv
import io
from typing import NamedTuple

from . import web


class Server(NamedTuple):
    backend: str
    name: str
    address: str  # host part of addr ("" without `stats show-legends`, or for an empty DNS slot)
    status: str  # UP, DOWN, MAINT, "UP 1/3", no check ...
    backup: bool

    @property
    def up(self):
        return self.status.startswith("UP")


def parse_stats(text):
    """The CSV as a list of dicts (column name -> value), the "# " of the header removed."""
    rows = csv.reader(io.StringIO(text.lstrip("# ")))
    try:
        header = next(rows)
    except StopIteration:
        return []
    return [dict(zip(header, r)) for r in rows if r]


def stats(base, timeout=3.0):
    """The rows of HAProxy's statistics at `base` (http://host:port of the stats listener);
    [] when it does not answer 200."""
    resp = web.try_request(base, "GET", "/stats;csv", timeout=timeout)
    return parse_stats(resp.body.decode()) if resp.status == 200 else []


def servers(rows, backend=None):
    """The server rows (not FRONTEND/BACKEND) as Servers, of one backend when given."""
    out = []
    for r in rows:
        if r.get("svname") in ("FRONTEND", "BACKEND") or (backend and r.get("pxname") != backend):
            continue
        out.append(Server(r.get("pxname", ""), r.get("svname", ""), r.get("addr", "").rpartition(":")[0],
                          r.get("status", ""), r.get("bck") == "1"))
    return out


def servers_up(base, backend, timeout=3.0):
    """Names of `backend`'s servers that HAProxy at `base` has UP."""
    return {s.name for s in servers(stats(base, timeout), backend) if s.up}
