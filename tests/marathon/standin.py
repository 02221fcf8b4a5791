#!/usr/bin/env python3
"""A STAND-IN for Marathon's REST API, NOT Marathon: exactly the endpoints marathon/deploy uses, with
bodies shaped like shared/reference/marathon/examples/ and RUNTIME.md, for testing the tool where
Marathon and Mesos cannot run.

  python3 tests/marathon/standin.py --port 0 [--tick S|0] [--token T] [--basic USER:PASS]
                                    [--hang PATTERN]... [--fail PATTERN]... [--lifetime S]
prints its port on the first line of stdout, serves until --lifetime seconds passed (default 900)
or SIGTERM. Tasks change state every --tick seconds (default 0.1); with --tick 0 the stand-in
moves one tick per GET /v2/deployments instead (lockstep: the tests see every state, however
loaded the machine is).

Marathon endpoints: GET /v2/info (the fields Marathon 1.10 sends: name "marathon", version
"1.10.26-standin", buildref naming the stand-in, marathon_config with --mesos-role, ...); PUT /v2/groups/{id};
POST /v2/apps (201, the app with its deployment; 409 when it exists); GET /v2/tasks and
GET /v2/apps/{id}/tasks ({"tasks": [...]} as examples/app_tasks.json); ids may carry their leading
slash (/v2/apps//kurz/redis); PUT, GET, DELETE /v2/apps/{id} (PUT: 201 created, 200
updated; ?partialUpdate=false replaces, otherwise the fields given are merged; {"version": V} rolls
back); GET /v2/apps; POST /v2/apps/{id}/restart; GET /v2/apps/{id}/versions; GET /v2/deployments;
DELETE /v2/deployments/{id} (a reverting deployment; ?force=true: 202, no body). Every deployable
call answers {"deploymentId", "version"} with a Marathon-Deployment-Id header, 409 while a deployment
holds the app (?force=true overrides: the holder is dropped), 422 with Marathon's JSON Schema and
submission rules (kurz_marathon.submission, i.e. validation.py's first two layers), 400 on a body that is not JSON, 404 for unknown apps,
401 when --token/--basic is set and the request has no matching Authorization header.

With --docker every task is a real container (standin_docker.py: the contract harness's executor
and probes); the states below are then the container's own.
Scenarios: tasks of an image containing a --hang pattern never get healthy (the deployment hangs);
a --fail pattern makes tasks fail while staging (the deployment fails). Stand-in control endpoints
(no auth, not Marathon): POST /_standin/scenario {"hang": [...], "fail": [...], "hold": bool}
(hold: deployments started from then on never progress, reverting ones too; release: the held
ones progress again);
POST /_standin/lock {"app": ID} starts a deployment of that app that never ends (409 for others);
POST /_standin/kill {"app": ID} fails one running task (Marathon replaces it);
GET /_standin/requests lists every Marathon request received (method, path, query: first value of
each parameter, rawQuery, body).
"""
import argparse
import base64
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "marathon", "lib"))
sys.path.insert(0, HERE)

import standin_world  # noqa: E402
from standin_api import Api, Reply  # noqa: E402


class Handler(BaseHTTPRequestHandler):
    server_version = "marathon-standin/1.10"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the tests read the request log instead
        pass

    def _handle(self, method):
        parsed = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parsed.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        api = self.server.api
        if parsed.path.startswith("/_standin/"):
            reply = api.control(method, parsed.path, raw)
        elif not api.authorized(self.headers.get("Authorization")):
            reply = Reply(401, {"message": "Unauthorized: this cluster needs a token "
                                "(Authorization: token=...)"}, {"WWW-Authenticate": "acsjwt"})
        else:
            try:
                reply = api.handle(method, parsed.path, query, raw, parsed.query)
            except Exception as e:  # a bug of the stand-in: answer it, as Marathon answers a 500
                reply = Reply(500, {"message": "stand-in error: %s: %s" % (type(e).__name__, e)})
        body = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if reply.body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._handle("GET")

    def do_PUT(self):
        self._handle("PUT")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_PATCH(self):
        self._handle("PATCH")


def main():
    p = argparse.ArgumentParser(description="A stand-in for Marathon's REST API (not Marathon).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tick", type=float, default=0.1,
                   help="seconds per task state change; 0: one change per GET /v2/deployments")
    p.add_argument("--token", help="require 'Authorization: token=TOKEN' (DC/OS)")
    p.add_argument("--basic", metavar="USER:PASS", help="require HTTP basic auth")
    p.add_argument("--hang", action="append", default=[], metavar="PATTERN")
    p.add_argument("--fail", action="append", default=[], metavar="PATTERN")
    p.add_argument("--lifetime", type=float, default=900.0)
    p.add_argument("--mesos-role", default="kurz",
                   help="marathon_config.mesos_role in /v2/info (Marathon's --mesos_role; \"*\" is its default)")
    p.add_argument("--docker", action="store_true",
                   help="tasks are real containers (standin_docker.py); use local images")
    args = p.parse_args()
    world = standin_world.World(args.hang, args.fail)
    if args.docker:
        import standin_docker
        world.driver = standin_docker.Driver(world)
    auth = []
    if args.token:
        auth.append("token=" + args.token)
    if args.basic:
        auth.append("Basic " + base64.b64encode(args.basic.encode()).decode())
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.api = Api(world, auth)
    server.api.leader = "%s:%d" % (args.host, server.server_address[1])
    stop = threading.Event()  # set by the main thread only (never from a signal handler: deadlock)

    def on_sigterm(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)

    def ticker():
        while not stop.wait(args.tick):
            with world.lock:
                world.tick()

    server.api.lockstep = args.tick <= 0
    server.api.mesos_role = args.mesos_role
    if not server.api.lockstep:
        threading.Thread(target=ticker, daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    print("Marathon stand-in (not Marathon) on http://%s:%d" % (args.host, server.server_address[1]),
          file=sys.stderr, flush=True)
    try:
        time.sleep(args.lifetime)
    except KeyboardInterrupt:  # SIGINT or SIGTERM
        pass
    stop.set()
    server.shutdown()
    if world.driver is not None:
        with world.lock:
            world.driver.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
