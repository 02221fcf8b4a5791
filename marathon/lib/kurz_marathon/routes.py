"""The edge's route table (edge/routes.json; its format in edge/README.md), read and checked once for
every consumer: scripts/edge/routes.py writes the HAProxy, Ingress and Marathon routing from it, and
the validator takes EDGE_PATHS and EDGE_EXACT_PATHS from here.

Standard library only. The table is edge/routes.json of the repository this package sits in
(marathon/lib/kurz_marathon -> the repository): the Marathon tools run from a checkout (in the
tests, the stand-ins and the harness too), as definitions.py finds CMakeLists.txt. A table that is
missing or malformed raises TableError with the file and what is wrong.
"""
import collections
import json
import os

from . import definitions as d

TABLE = os.path.join(d.ROOT, "edge", "routes.json")
MATCHES = ("exact", "prefix")
CODE = "{code}"  # in a sample: the code of a link that exists (the tests create one)

Route = collections.namedtuple("Route", "service match path sample")


class TableError(Exception):
    """The route table is missing or malformed."""


class Table(collections.namedtuple("Table", "path default default_samples routes")):
    """default: the service that takes every path no route names; default_samples: paths it must
    answer; routes: [Route] in the table's order."""

    def services(self):
        """The routed services in the order they first appear (the default one not included)."""
        return list(dict.fromkeys(r.service for r in self.routes))

    def exact(self, service):
        return [r.path for r in self.routes if r.service == service and r.match == "exact"]

    def prefixes(self, service):
        return [r.path for r in self.routes if r.service == service and r.match == "prefix"]

    def service_of(self, path):
        """Where the edge sends `path` (no query string): the service of the exact route or of the
        prefix route that matches, else the default service."""
        for route in self.routes:
            if (path == route.path) if route.match == "exact" else path.startswith(route.path):
                return route.service
        return self.default


def load(path=None):
    """The Table in `path` (default: the repository's); TableError naming the problem otherwise."""
    path = path or TABLE
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise TableError("%s: cannot read the route table: %s" % (path, e.strerror or e))
    except ValueError as e:
        raise TableError("%s: not JSON: %s" % (path, e))
    return parse(data, path)


def _fail(path, message):
    raise TableError("%s: %s" % (path, message))


def _path_ok(value):
    return isinstance(value, str) and value.startswith("/") and not any(c in value for c in " \t\n?#")


def parse(data, path="routes.json"):
    """A Table from the decoded JSON `data`, every rule of edge/README.md checked."""
    if not isinstance(data, dict) or set(data) != {"default", "routes"}:
        _fail(path, "expected an object with exactly the keys default and routes")
    default = data["default"]
    if not isinstance(default, dict) or set(default) != {"service", "samples"}:
        _fail(path, "default: expected {\"service\": NAME, \"samples\": [PATH, ...]}")
    name = default["service"]
    if not isinstance(name, str) or not name.isidentifier():
        _fail(path, "default.service: expected a service name, got %r" % (name,))
    samples = default["samples"]
    if not isinstance(samples, list) or not samples or not all(_path_ok(s) for s in samples):
        _fail(path, "default.samples: expected a non-empty list of paths starting with /")
    if not isinstance(data["routes"], list) or not data["routes"]:
        _fail(path, "routes: expected a non-empty list")
    routes = []
    for i, item in enumerate(data["routes"]):
        where = "routes[%d]" % i
        if not isinstance(item, dict) or not {"service", "match", "path"} <= set(item) <= {
                "service", "match", "path", "sample"}:
            _fail(path, "%s: expected the keys service, match, path and (optional) sample" % where)
        service, match, route_path = item["service"], item["match"], item["path"]
        if not isinstance(service, str) or not service.isidentifier():
            _fail(path, "%s.service: expected a service name, got %r" % (where, service))
        if service == name:
            _fail(path, "%s: %s is the default service: it takes every path no route names, so it "
                        "has no routes of its own" % (where, service))
        if match not in MATCHES:
            _fail(path, "%s.match: expected exact or prefix, got %r" % (where, match))
        if not _path_ok(route_path):
            _fail(path, "%s.path: expected a path starting with / (no blank, ? or #), got %r" % (where, route_path))
        if match == "prefix" and (not route_path.endswith("/") or route_path == "/"):
            _fail(path, "%s.path: a prefix ends with / and is not / itself (got %s): it matches "
                        "whole path segments, as Kubernetes' Prefix does" % (where, route_path))
        sample = item.get("sample", route_path if match == "exact" else None)
        if match == "prefix" and sample is None:
            _fail(path, "%s: a prefix route needs a sample (a path under %s its service answers)" % (where, route_path))
        if not _path_ok(sample):
            _fail(path, "%s.sample: expected a path starting with /, got %r" % (where, sample))
        if match == "exact" and sample != route_path:
            _fail(path, "%s.sample: an exact route's sample is its path (%s), got %s" % (where, route_path, sample))
        if match == "prefix" and (not sample.startswith(route_path) or sample == route_path):
            _fail(path, "%s.sample: %s is not under the prefix %s" % (where, sample, route_path))
        routes.append(Route(service, match, route_path, sample))
    seen = {}
    for route in routes:
        key = (route.match, route.path)
        if key in seen:
            _fail(path, "%s %s is routed twice (%s and %s)" % (route.match, route.path, seen[key], route.service))
        seen[key] = route.service
    for a in routes:
        for b in routes:
            if a.match == "prefix" and b.service != a.service and b.path.startswith(a.path):
                _fail(path, "%s %s (%s) lies under the prefix %s (%s): the edges would disagree on "
                            "which wins" % (b.match, b.path, b.service, a.path, a.service))
    table = Table(path, name, list(samples), routes)
    for service in table.services():
        if not table.prefixes(service):
            _fail(path, "%s has no prefix route: marathon-lb routes a service by its HAPROXY_0_PATH "
                        "prefix, so every routed service needs one" % service)
    for sample in samples:
        if table.service_of(sample.replace(CODE, "abc")) != name:
            _fail(path, "default.samples: %s is routed to %s, not to the default service %s"
                  % (sample, table.service_of(sample), name))
    return table


# --- Marathon (marathon-lb labels) ---------------------------------------------------------------

ACL_TEMPLATE_HOST = "  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n"
ACL_TEMPLATE_USE = "  use_backend {backend} if host_{cleanedUpHostname} path_{backend}\n"


def marathon_labels(table, service):
    """{label: value} of the marathon-lb path routing of `service`; None for a label the app must
    not carry. The default service has no path: marathon-lb orders the backends with a path first,
    so the one without takes the rest of the vhost."""
    if service == table.default:
        return {"HAPROXY_0_PATH": None, "HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH": None}
    first, *more = table.prefixes(service)
    template = ACL_TEMPLATE_HOST + "  acl path_{backend} path_beg {path}\n"
    template += "".join("  acl path_{backend} path_beg %s\n" % p for p in more)
    if table.exact(service):
        template += "  acl path_{backend} path %s\n" % " ".join(table.exact(service))
    return {"HAPROXY_0_PATH": first, "HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH": template + ACL_TEMPLATE_USE}


def edge_paths(table):
    """(EDGE_PATHS, EDGE_EXACT_PATHS) as the validator reads them: the HAPROXY_0_PATH of each kurz
    service (None: no path; the monolith of stages 1 and 2 has a vhost of its own and takes all of
    it) and the exact paths its HAPROXY_0_HTTP_FRONTEND_ACL_WITH_PATH must route."""
    paths = {"monolith": None, table.default: None}
    paths.update((s, table.prefixes(s)[0]) for s in table.services())
    exact = {s: tuple(table.exact(s)) for s in table.services() if table.exact(s)}
    return paths, exact


def __getattr__(name):
    """EDGE_PATHS and EDGE_EXACT_PATHS, from the table at first use (scripts/edge/routes.py imports
    this module without them, and reports a broken table itself)."""
    if name in ("EDGE_PATHS", "EDGE_EXACT_PATHS"):
        paths, exact = edge_paths(load())
        globals().update(EDGE_PATHS=paths, EDGE_EXACT_PATHS=exact)
        return globals()[name]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
