"""Stages 2 and 3 against a real Redis: several instances of every service share one Redis,
Redis goes away and comes back while requests run, and a stats worker is SIGKILLed mid-stream
without a click being lost or counted twice."""
import datetime
import json
import os
import random
import signal
import threading
import time
import unittest

from kurz_process import Instances, RedisServer, request
from kurzops.wait import wait_until  # noqa: E402  (kurz_process puts scripts/ on sys.path)

BIN = {name: os.environ["KURZ_" + name.upper()]
       for name in ("links", "redirect", "stats", "qr", "web", "monolith")}
JSON = {"Content-Type": "application/json"}


def create(service, url, slug=None):
    body = {"url": url}
    if slug:
        body["slug"] = slug
    status, _, data = request(service, "POST", "/api/links", json.dumps(body), JSON)
    assert status == 201, (status, data)
    return json.loads(data)


def stats_total(service, code):
    status, _, data = request(service, "GET", "/api/stats/" + code)
    return json.loads(data)["total"] if status == 200 else None


class Stage3Case(Instances, unittest.TestCase):
    binaries = BIN

    def setUp(self):
        self.redis = RedisServer()
        self.services = []
        self.env = {"REDIS_URL": self.redis.url, "PUBLIC_BASE_URL": "http://kurz.test",
                    "RATE_LIMIT_CREATES": "0", "STATS_CLAIM_IDLE_MS": "500",
                    "LINK_CACHE_TTL_MS": "1000", "HTTP_THREADS": "2"}

    def tearDown(self):
        for service in self.services:
            if service.proc.poll() is None:
                self.assertEqual(service.terminate(), 0, "%s did not exit 0" % service.proc.args)
        self.redis.close()


class InstancesShareRedisTest(Stage3Case):
    def test_links_are_unique_and_visible_on_every_instance(self):
        a, b = self.start("links"), self.start("links")
        codes = [create((a, b)[i % 2], "http://127.0.0.1:9/%d" % i)["code"] for i in range(40)]
        self.assertEqual(len(set(codes)), 40, "generated codes collide across instances")
        for code in codes:
            for instance in (a, b):
                self.assertEqual(request(instance, "GET", "/api/links/" + code)[0], 200)
        self.assertEqual(request(a, "DELETE", "/api/links/" + codes[0])[0], 204)
        self.assertEqual(request(b, "GET", "/api/links/" + codes[0])[0], 404)
        listed = json.loads(request(b, "GET", "/api/links?limit=100")[2])["items"]
        self.assertEqual([item["code"] for item in listed], list(reversed(codes[1:])))
        create(a, "http://127.0.0.1:9/slug", "shared-slug")
        status, _, body = request(b, "POST", "/api/links",
                                  json.dumps({"url": "http://127.0.0.1:9/x", "slug": "shared-slug"}),
                                  JSON)
        self.assertEqual(status, 409, body)

    def test_redirects_and_stats_agree_across_instances(self):
        links = self.start("links")
        redirects = [self.start("redirect"), self.start("redirect")]
        stats = [self.start("stats"), self.start("stats")]
        qrs = [self.start("qr"), self.start("qr")]
        codes = [create(links, "http://127.0.0.1:9/%d" % i)["code"] for i in range(10)]
        served = {}
        for n, code in enumerate(codes):
            for k in range(n + 1):
                status, headers, _ = request(redirects[k % 2], "GET", "/" + code)
                self.assertEqual(status, 302)
                self.assertEqual(headers["location"], "http://127.0.0.1:9/%d" % n)
            served[code] = n + 1
            for qr in qrs:
                self.assertEqual(request(qr, "GET", "/qr/%s.svg" % code)[0], 200)
        for code, count in served.items():
            for instance in stats:
                wait_until("stats of " + code, lambda: stats_total(instance, code) == count, 10)
        top = [json.loads(request(s, "GET", "/api/stats/top?limit=3")[2]) for s in stats]
        self.assertEqual(top[0], top[1])
        self.assertEqual(top[0]["items"][0], {"code": codes[-1], "clicks": 10})

    def test_stage2_monoliths_share_state(self):
        a, b = self.start("monolith"), self.start("monolith")
        self.assertEqual(json.loads(request(a, "GET", "/info")[2])["stage"], "2")
        link = create(a, "http://127.0.0.1:9/stage2")
        self.assertEqual(request(b, "GET", "/" + link["code"])[0], 302)
        self.assertEqual(request(a, "GET", "/" + link["code"])[0], 302)
        for instance in (a, b):
            wait_until("stage 2 stats", lambda: stats_total(instance, link["code"]) == 2, 10)

    def test_the_edges_are_the_same_in_stage_3_and_stage_2(self):
        # Issue 20: Location as a URI, expired everywhere, unknown members refused, by the
        # stage 3 services and the stage 2 monolith alike (one shared implementation).
        links, redirect, qr = self.start("links"), self.start("redirect"), self.start("qr")
        monolith = self.start("monolith")
        target = "https://b\u00fccher.example/stra\u00dfe?q=\u00fc&r=%C3%A4"
        uri = "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%BC&r=%C3%A4"
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)
        status, _, data = request(links, "POST", "/api/links", json.dumps(
            {"url": target, "slug": "edges", "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}),
            JSON)
        self.assertEqual(status, 201, data)
        self.assertEqual(json.loads(data)["url"], target)
        self.assertIs(json.loads(data)["expired"], False)
        for instance in (redirect, monolith):
            status, headers, _ = request(instance, "GET", "/edges")
            self.assertEqual((status, headers["location"]), (302, uri))
        for instance in (links, monolith):
            status, _, data = request(instance, "POST", "/api/links",
                                      json.dumps({"url": target, "slg": "typo"}), JSON)
            self.assertEqual((status, json.loads(data)["error"]["code"]), (400, "unknown_field"))
        wait_until("the expiry", lambda: request(redirect, "GET", "/edges")[0] == 410, 10)
        self.assertEqual(request(monolith, "GET", "/edges")[0], 410)
        for instance in (qr, monolith):
            for path in ("/qr/edges.svg", "/qr/edges.png"):
                status, _, data = request(instance, "GET", path)
                self.assertEqual((status, json.loads(data)["error"]["code"]), (410, "gone"))
        for instance in (links, monolith):
            self.assertIs(json.loads(request(instance, "GET", "/api/links/edges")[2])["expired"],
                          True)

    def test_web_needs_no_redis(self):
        web = self.start("web", REDIS_URL="")
        self.assertEqual(request(web, "GET", "/")[0], 200)
        self.assertEqual(request(web, "GET", "/health/ready")[0], 200)


class RedisOutageTest(Stage3Case):
    def test_services_degrade_and_recover_by_themselves(self):
        links, redirect, stats = self.start("links"), self.start("redirect"), self.start("stats")
        code = create(links, "http://127.0.0.1:9/cached")["code"]
        self.assertEqual(request(redirect, "GET", "/" + code)[0], 302)  # now cached
        stop = threading.Event()
        errors = []

        def traffic():  # requests keep running through the outage
            while not stop.is_set():
                try:
                    request(redirect, "GET", "/" + code, timeout=2)
                    request(links, "GET", "/api/links/" + code, timeout=2)
                except OSError as error:
                    errors.append(error)
                time.sleep(0.01)

        thread = threading.Thread(target=traffic)
        thread.start()
        try:
            self.redis.stop()
            for service in (links, redirect, stats):
                wait_until("readiness 503", lambda: request(service, "GET", "/health/ready")[0] == 503, 3)
                self.assertEqual(request(service, "GET", "/health/live")[0], 200)
            self.assertEqual(request(redirect, "GET", "/" + code)[0], 302, "cached redirect")
            status, _, body = request(links, "POST", "/api/links",
                                      json.dumps({"url": "http://127.0.0.1:9/y"}), JSON)
            self.assertEqual(status, 503)
            self.assertEqual(json.loads(body)["error"]["code"], "unavailable")
            self.assertEqual(request(stats, "GET", "/api/stats/" + code)[0], 503)
            time.sleep(1)
            restarted = time.monotonic()
            self.redis.start()
            for service in (links, redirect, stats):
                wait_until("readiness back", lambda: request(service, "GET", "/health/ready")[0] == 200, 5)
            create(links, "http://127.0.0.1:9/after")
            print("recovered %.2f s after Redis came back" % (time.monotonic() - restarted))
        finally:
            stop.set()
            thread.join()
        self.assertEqual(errors, [], "requests failed at the socket level")
        for service in self.services:
            self.assertIsNone(service.proc.poll(), "a service died during the outage")
        wait_until("clicks recorded during the outage counted afterwards",
                   lambda: stats_total(stats, code) is not None and stats_total(stats, code) >= 2, 10)


class ShutdownFlushTest(Stage3Case):
    """A redirect replica stops while Redis is away (a whole stack restarting at once): the clicks
    it buffered reach Redis if it returns within CLICK_SHUTDOWN_FLUSH_MS, and are counted as
    dropped, logged and bounded in time if it does not."""

    def serve_during_outage(self, count):
        links = self.start("links")
        redirect = self.start("redirect", SHUTDOWN_DELAY_MS="0", DRAIN_TIMEOUT_MS="1000",
                              CLICK_SHUTDOWN_FLUSH_MS=self.flush_ms)
        code = create(links, "http://127.0.0.1:9/flush")["code"]
        self.assertEqual(request(redirect, "GET", "/" + code)[0], 302)  # cached, and clicked
        time.sleep(0.3)  # that click is published (every CLICK_FLUSH_MS)
        self.redis.stop()
        for _ in range(count):
            self.assertEqual(request(redirect, "GET", "/" + code)[0], 302)  # from the cache
        time.sleep(2.5)  # the buffer's retries back off, as in a real outage
        return redirect, code

    def shutdown_line(self, service):
        lines = [l for l in service.lines if str(l.get("msg", "")).startswith("clicks ")
                 and "at shutdown" in str(l.get("msg", ""))]
        self.assertEqual(len(lines), 1, service.lines[-10:])
        return lines[0]

    def test_clicks_buffered_while_redis_is_away_reach_it_at_shutdown(self):
        self.flush_ms = "8000"
        redirect, code = self.serve_during_outage(40)
        redirect.proc.terminate()
        time.sleep(2.5)  # Redis comes back while the replica waits for its buffer
        self.redis.start()
        self.assertEqual(redirect.proc.wait(timeout=15), 0)
        redirect.stderr()  # closes the pipe
        line = self.shutdown_line(redirect)
        self.assertEqual((line["pending"], line["published"], line["dropped"]), (40, 40, 0), line)
        print("40 clicks buffered during the outage published at shutdown after %d ms" % line["waited_ms"])
        stats = self.start("stats")
        wait_until("all 41 clicks counted", lambda: stats_total(stats, code) == 41, 10)

    def test_the_wait_is_bounded_and_what_misses_it_is_counted(self):
        self.flush_ms = "500"
        redirect, _ = self.serve_during_outage(25)
        started = time.monotonic()
        self.assertEqual(redirect.terminate(), 0)
        took = time.monotonic() - started
        line = self.shutdown_line(redirect)
        self.assertEqual((line["level"], line["pending"], line["dropped"]), ("warning", 25, 25), line)
        self.assertGreaterEqual(line["waited_ms"], 450, line)
        self.assertLess(took, 5.0)


class ExactlyOnceTest(Stage3Case):
    def test_a_killed_stats_worker_loses_and_doubles_nothing(self):
        links = self.start("links")
        redirect = self.start("redirect")
        worker_a = self.start("stats", HOSTNAME="stats-a")
        worker_b = self.start("stats", HOSTNAME="stats-b")
        codes = [create(links, "http://127.0.0.1:9/%d" % i)["code"] for i in range(8)]
        served = {code: 0 for code in codes}
        lock = threading.Lock()
        total = 3000

        def fire(count):
            rng = random.Random(count)
            for _ in range(count):
                code = rng.choice(codes)
                if request(redirect, "GET", "/" + code)[0] == 302:
                    with lock:
                        served[code] += 1

        threads = [threading.Thread(target=fire, args=(total // 4,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        wait_until("a third of the load", lambda: sum(served.values()) > total // 3, 60)
        worker_a.kill()
        wait_until("two thirds of the load", lambda: sum(served.values()) > 2 * total // 3, 60)
        self.start("stats", HOSTNAME="stats-a")  # the same consumer name comes back
        for thread in threads:
            thread.join()
        self.assertEqual(sum(served.values()), total)
        for code in codes:
            wait_until("exact count for %s (%d served)" % (code, served[code]),
                       lambda: stats_total(worker_b, code) == served[code], 20)
        print("counted exactly %d clicks across a SIGKILLed worker" % total)


if __name__ == "__main__":
    unittest.main()
