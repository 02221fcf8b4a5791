#!/usr/bin/env python3
"""A STAND-IN for a Mesos master's GET /master/state (and /state), NOT Mesos: for testing
`marathon/deploy preflight` where Mesos cannot run.

The body follows Mesos's documented example (docs/endpoints/master/state.md: version, git_sha,
build_*, start_time, elected_time, id, pid, hostname, activated_slaves, deactivated_slaves, cluster,
leader, log_dir, flags, slaves, frameworks, completed_frameworks, orphan_tasks,
unregistered_frameworks); the agent and framework entries carry the fields Mesos 1.11's master
writes for them (src/master/readonly_handler.cpp: an agent's id, pid, hostname, registered_time,
resources, used_resources, offered_resources, reserved_resources {role: resources},
unreserved_resources, attributes, active, version, capabilities; a framework's id, name, pid,
used_resources, offered_resources, capabilities, hostname, webui_url, active, connected, recovered,
user, failover_timeout, checkpoint, registered_time, role or roles, principal). Resources are
{"cpus", "mem", "disk", "gpus", "ports"}, as Mesos writes a Resources object.

  python3 tests/marathon/mesos_standin.py --port 0 [--agents N] [--public N] [--cpus C] [--mem MB]
      [--used-cpus C] [--used-mem MB] [--role ROLE] [--principal P] [--framework NAME] [--lifetime S]
prints its port on the first line; serves until --lifetime seconds (default 300) or SIGTERM.
"""
import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MASTER_ID = "b5eac2c5-609b-4ca1-a352-61941702fc9e"


def resources(cpus, mem, disk=20000.0, ports="[31000-32000]"):
    out = {"cpus": float(cpus), "mem": float(mem), "disk": float(disk), "gpus": 0.0}
    if ports:
        out["ports"] = ports
    return out


def agent(i, host, cpus, mem, used_cpus, used_mem, role=None):
    total = resources(cpus, mem)
    reserved = {role: resources(cpus, mem)} if role else {}
    unreserved = resources(0, 0, 0, None) if role else resources(cpus, mem)
    return {"id": "%s-S%d" % (MASTER_ID, i), "pid": "slave(1)@%s:5051" % host, "hostname": host,
            "registered_time": 1455643644.1, "resources": total,
            "used_resources": resources(used_cpus, used_mem, 0, None),
            "offered_resources": resources(0, 0, 0, None), "reserved_resources": reserved,
            "unreserved_resources": unreserved, "attributes": {"public_ip": "true"} if role else {},
            "active": True, "version": "1.11.0",
            "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT", "RESOURCE_PROVIDER"]}


def state(args):
    slaves = [agent(i, "10.0.0.%d" % (10 + i), args.cpus, args.mem, args.used_cpus, args.used_mem)
              for i in range(args.agents)]
    slaves += [agent(args.agents + i, "10.0.1.%d" % (10 + i), args.cpus, args.mem, 0, 0, "slave_public")
               for i in range(args.public)]
    framework = {"id": "%s-0001" % MASTER_ID, "name": args.framework, "pid": "scheduler-1@10.0.0.2:15101",
                 "used_resources": resources(0, 0, 0, None), "offered_resources": resources(0, 0, 0, None),
                 "capabilities": ["PARTITION_AWARE", "MULTI_ROLE"], "hostname": "10.0.0.2",
                 "webui_url": "http://10.0.0.2:8080", "active": True, "connected": True, "recovered": False,
                 "user": "root", "failover_timeout": 604800.0, "checkpoint": True,
                 "registered_time": 1455643645.2, "roles": [args.role]}
    if args.principal:
        framework["principal"] = args.principal
    return {"version": "1.11.0", "git_sha": "04bc7ee1", "git_tag": "1.11.0", "build_date": "2020-11-18 00:00:00",
            "build_time": 1605657600, "build_user": "mesos-user", "start_time": 1455643643.42422,
            "elected_time": 1455643643.43457, "id": MASTER_ID, "pid": "master@127.0.0.1:5050",
            "hostname": "localhost", "activated_slaves": len(slaves), "deactivated_slaves": 0,
            "cluster": "standin (tests/marathon/mesos_standin.py, not Mesos)", "leader": "master@127.0.0.1:5050",
            "log_dir": "/var/log", "external_log_file": "mesos.log",
            "flags": {"authenticate_frameworks": "false", "port": "5050", "roles": "", "work_dir": "/var/lib/mesos"},
            "slaves": slaves, "frameworks": [framework] if args.framework else [], "completed_frameworks": [],
            "orphan_tasks": [], "unregistered_frameworks": []}


class Handler(BaseHTTPRequestHandler):
    server_version = "mesos-standin/1.11"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path in ("/master/state", "/state", "/master/state.json", "/state.json"):
            body, code = json.dumps(state(self.server.args)).encode(), 200
        else:
            body, code = b"", 404
        self.send_response(code)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--agents", type=int, default=3, help="private agents")
    p.add_argument("--public", type=int, default=1, help="agents with role slave_public")
    p.add_argument("--cpus", type=float, default=6.0)
    p.add_argument("--mem", type=float, default=8192.0)
    p.add_argument("--used-cpus", type=float, default=0.0, help="used on each private agent")
    p.add_argument("--used-mem", type=float, default=0.0)
    p.add_argument("--role", default="kurz", help="the Marathon framework's role")
    p.add_argument("--principal", default="kurz", help="the framework's principal (\"\": none)")
    p.add_argument("--framework", default="marathon", help="the framework's name (\"\": none registered)")
    p.add_argument("--lifetime", type=float, default=300.0)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.args = args
    print(server.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    timer = threading.Timer(args.lifetime, server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
