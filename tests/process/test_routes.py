"""Every route of the edge's route table (edge/routes.json) is answered by the service it points to:
the real stage 3 services on a real Redis get each route's sample directly (not 404, not 5xx), then
through a real HAProxy running the shipped common.cfg and each generated edge (compose stage 3's
docker/haproxy/stage3.cfg, Swarm's swarm/haproxy.cfg), where the same answer must come from the
backend the table names. And both edges keep redirecting cached links while Redis is away (the
unchecked fallback servers of their redirect backend)."""
import json
import os
import sys
import unittest

from kurz_edge import BACKEND_HEADER, HAPROXY_DIR, ROOT, SERVER_HEADER, Edge, haproxy_exe
from kurz_process import RedisServer, Service, request
from kurzops.wait import wait_until  # noqa: E402  (kurz_process puts scripts/ on sys.path)

sys.path.insert(0, os.path.join(ROOT, "marathon", "lib"))
from kurz_marathon import routes  # noqa: E402

BIN = {name: os.environ["KURZ_" + name.upper()] for name in ("links", "redirect", "stats", "qr", "web")}
JSON = {"Content-Type": "application/json"}
EDGES = {"compose stage 3": os.path.join(HAPROXY_DIR, "stage3.cfg"), "swarm": os.path.join(ROOT, "swarm", "haproxy.cfg")}


def status_of(service, path):
    """The status of a GET, 0 while nothing listens yet."""
    try:
        return request(service, "GET", path, timeout=2)[0]
    except OSError:
        return 0


def header(headers, name):
    return {k.lower(): v for k, v in headers.items()}.get(name.lower())


class RoutesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.table = routes.load()
        cls.redis = RedisServer()
        cls.services = {}
        try:
            env = {"REDIS_URL": cls.redis.url, "PUBLIC_BASE_URL": "http://kurz.test", "RATE_LIMIT_CREATES": "0",
                   "HTTP_THREADS": "2"}
            for name in [cls.table.default] + cls.table.services():
                cls.services[name] = Service(BIN[name], dict(env, HOSTNAME="%s-routes" % name))
            status, _, body = request(cls.services["links"], "POST", "/api/links",
                                      json.dumps({"url": "http://127.0.0.1:9/routes"}), JSON)
            assert status == 201, (status, body)
            cls.code = json.loads(body)["code"]
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for service in cls.services.values():
            if service.proc.poll() is None:
                service.terminate()
        cls.redis.close()

    def samples(self):
        """[(path, service)]: each route's sample and each of the default service's."""
        out = [(r.sample, r.service) for r in self.table.routes]
        out += [(s, self.table.default) for s in self.table.default_samples]
        return [(path.replace(routes.CODE, self.code), service) for path, service in out]

    def test_the_table_names_every_service(self):
        self.assertEqual(set(self.services), set(BIN))

    def test_each_service_answers_its_routes(self):
        for path, service in self.samples():
            with self.subTest(path=path, service=service):
                status, _, body = request(self.services[service], "GET", path)
                self.assertNotEqual(status, 404, "%s answers %s with 404: %s" % (service, path, body[:200]))
                self.assertLess(status, 500, "%s answers %s with %d: %s" % (service, path, status, body[:200]))

    def start_edge(self, cfg):
        if haproxy_exe() is None:
            self.skipTest("haproxy is not installed (Debian package haproxy)")
        servers = {name: ["127.0.0.1:%d" % s.port] for name, s in self.services.items()}
        edge = Edge(cfg, servers, tag_backend=True)
        self.addCleanup(edge.stop)
        for name in self.services:  # up, and every backend's server checked UP
            wait_until("the edge to reach %s (%s)" % (name, edge.output),
                       lambda: edge.alive() and status_of(edge, "/info/" + name) == 200, 20)
        return edge

    def test_the_generated_edges_send_each_route_to_its_service(self):
        for edge_name, cfg in EDGES.items():
            edge = self.start_edge(cfg)
            for path, service in self.samples():
                with self.subTest(edge=edge_name, path=path, service=service):
                    direct = request(self.services[service], "GET", path)
                    status, headers, body = request(edge, "GET", path)
                    self.assertEqual(header(headers, BACKEND_HEADER), service, "%s went elsewhere" % path)
                    self.assertEqual(status, direct[0], body[:200])
                    if path.startswith("/info"):  # the body says who answered, too
                        self.assertEqual(json.loads(body)["service"], service)

    def test_a_path_the_table_does_not_name_goes_to_the_default_service(self):
        for edge_name, cfg in EDGES.items():
            edge = self.start_edge(cfg)
            for route in self.table.routes:
                if route.match == "prefix":  # /qr/ takes /qr/x, not /qr nor /qrx
                    for path in (route.path.rstrip("/"), route.path.rstrip("/") + "x"):
                        with self.subTest(edge=edge_name, path=path):
                            want = self.table.service_of(path)
                            self.assertEqual(header(request(edge, "GET", path)[1], BACKEND_HEADER), want, path)


class RedisOutageEdgeTest(unittest.TestCase):
    """Redis stops: every redirect replica's readiness turns 503 and HAProxy takes them out, yet a
    cached link still redirects through the edge, answered by a fallback (`redirect-live-`) server."""

    def outage(self, cfg):
        if haproxy_exe() is None:
            self.skipTest("haproxy is not installed (Debian package haproxy)")
        redis = RedisServer()
        self.addCleanup(redis.close)
        env = {"REDIS_URL": redis.url, "PUBLIC_BASE_URL": "http://kurz.test", "RATE_LIMIT_CREATES": "0",
               "HTTP_THREADS": "2", "LINK_CACHE_TTL_MS": "60000"}
        links = Service(BIN["links"], dict(env, HOSTNAME="links-outage"))
        self.addCleanup(links.terminate)
        redirect = Service(BIN["redirect"], dict(env, HOSTNAME="redirect-outage"))
        self.addCleanup(redirect.terminate)
        edge = Edge(cfg, {"links": ["127.0.0.1:%d" % links.port], "redirect": ["127.0.0.1:%d" % redirect.port]},
                    tag_backend=True)
        self.addCleanup(edge.stop)
        status, _, body = request(links, "POST", "/api/links", json.dumps({"url": "http://127.0.0.1:9/out"}), JSON)
        self.assertEqual(status, 201, body)
        path = "/" + json.loads(body)["code"]
        answer = wait_until("the edge up (%s)" % edge.output,  # and the link now in redirect's cache
                            lambda: edge.alive() and status_of(edge, path) == 302 and request(edge, "GET", path), 20)
        self.assertEqual(header(answer[1], SERVER_HEADER), "redirect-1")
        redis.stop()
        wait_until("readiness 503 without Redis", lambda: status_of(redirect, "/health/ready") == 503, 10)

        def from_fallback():
            status, headers, _ = request(edge, "GET", path)
            return status == 302 and header(headers, SERVER_HEADER).startswith("redirect-live-")
        wait_until("%s answered 302 by a fallback server once redirect-1 is out" % path, from_fallback, 15)

    def test_compose_stage3_edge(self):
        self.outage(EDGES["compose stage 3"])

    def test_swarm_edge(self):
        self.outage(EDGES["swarm"])

if __name__ == "__main__":
    unittest.main()
