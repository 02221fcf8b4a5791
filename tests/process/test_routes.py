"""Every route of the edge's route table (edge/routes.json) is answered by the service it points to:
the real stage 3 services on a real Redis get each route's sample directly (not 404, not 5xx), then
through a real HAProxy running the shipped common.cfg and the generated docker/haproxy/stage3.cfg,
where the same answer must come from the backend the table names."""
import json
import os
import sys
import unittest

from kurz_edge import BACKEND_HEADER, HAPROXY_DIR, ROOT, Edge, haproxy_exe
from kurz_process import RedisServer, Service, request, wait_for

sys.path.insert(0, os.path.join(ROOT, "marathon", "lib"))
from kurz_marathon import routes  # noqa: E402

BIN = {name: os.environ["KURZ_" + name.upper()] for name in ("links", "redirect", "stats", "qr", "web")}
JSON = {"Content-Type": "application/json"}


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

    def test_the_generated_stage3_edge_sends_each_route_to_its_service(self):
        if haproxy_exe() is None:
            self.skipTest("haproxy is not installed (Debian package haproxy)")
        servers = {name: ["127.0.0.1:%d" % s.port] for name, s in self.services.items()}
        edge = Edge(os.path.join(HAPROXY_DIR, "stage3.cfg"), servers, tag_backend=True)
        self.addCleanup(edge.stop)
        for name in self.services:  # up, and every backend's server checked UP
            wait_for(lambda: edge.alive() and status_of(edge, "/info/" + name) == 200, 20,
                     "the edge to reach %s (%s)" % (name, edge.output))
        for path, service in self.samples():
            with self.subTest(path=path, service=service):
                direct = request(self.services[service], "GET", path)
                status, headers, body = request(edge, "GET", path)
                self.assertEqual(header(headers, BACKEND_HEADER), service, "%s went elsewhere" % path)
                self.assertEqual(status, direct[0], body[:200])
                if path.startswith("/info"):  # the body says who answered, too
                    self.assertEqual(json.loads(body)["service"], service)

    def test_a_path_the_table_does_not_name_goes_to_the_default_service(self):
        if haproxy_exe() is None:
            self.skipTest("haproxy is not installed (Debian package haproxy)")
        servers = {name: ["127.0.0.1:%d" % s.port] for name, s in self.services.items()}
        edge = Edge(os.path.join(HAPROXY_DIR, "stage3.cfg"), servers, tag_backend=True)
        self.addCleanup(edge.stop)
        wait_for(lambda: edge.alive() and status_of(edge, "/info/redirect") == 200, 20, "the edge")
        for route in self.table.routes:
            if route.match == "prefix":  # /qr/ takes /qr/x, not /qr nor /qrx
                for path in (route.path.rstrip("/"), route.path.rstrip("/") + "x"):
                    with self.subTest(path=path):
                        want = self.table.service_of(path)
                        self.assertEqual(header(request(edge, "GET", path)[1], BACKEND_HEADER), want, path)


if __name__ == "__main__":
    unittest.main()
