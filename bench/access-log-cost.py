#!/usr/bin/env python3
"""What an access line costs the service, in instructions per request (callgrind: every thread of
the process, load-independent, unlike timings on a shared machine).

For each access-log setting, the stage 1 monolith runs under `valgrind --tool=callgrind` twice,
answering FEW and then MANY `GET /{code}` (302) on one keep-alive connection; the difference of
the two totals divided by MANY - FEW is the cost of one request, start-up and shutdown cancelled
out. The client is this script, outside valgrind. Its stdout is a pipe, as under Docker.

  bench/access-log-cost.py [--binary build/ci/services/monolith/kurz-monolith] [--few 500] [--many 2500]

Not a test: it prints a table (and --json FILE writes it). Needs valgrind (Debian package).
"""
import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

SETTINGS = [
    ("ACCESS_LOG=false", {"ACCESS_LOG": "false"}),
    ("ACCESS_LOG_SAMPLE=0 (errors and slow only)", {"ACCESS_LOG_SAMPLE": "0"}),
    ("ACCESS_LOG_SAMPLE=0.01 (the default)", {}),
    ("ACCESS_LOG_SAMPLE=1 (every request)", {"ACCESS_LOG_SAMPLE": "1"}),
]


def run(binary, extra_env, requests):
    """Total instructions (Ir) of the monolith answering `requests` redirects, and the number of
    access lines it wrote."""
    out_dir = tempfile.mkdtemp(prefix="kurz-logcost-")
    out_file = os.path.join(out_dir, "callgrind.out")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": "0", "LISTEN_ADDRESS": "127.0.0.1",
           "LOG_LEVEL": "info", "SHUTDOWN_DELAY_MS": "0", "HTTP_THREADS": "2", "HOSTNAME": "logcost",
           "RATE_LIMIT_CREATES": "0"}
    env.update(extra_env)
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out_file, binary],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    ready = threading.Event()
    port = []

    def pump():
        for raw in proc.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            lines.append(line)
            if line.get("msg") == "ready":
                port.append(line["port"])
                ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        if not ready.wait(120):
            raise RuntimeError("the monolith did not start under valgrind")
        conn = http.client.HTTPConnection("127.0.0.1", port[0], timeout=60)
        conn.request("POST", "/api/links", body=json.dumps({"url": "https://example.com/x"}),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        code = json.loads(response.read())["code"]
        if response.status != 201:
            raise RuntimeError("create: %d" % response.status)
        for _ in range(requests):
            conn.request("GET", "/" + code, headers={"Connection": "keep-alive"})
            response = conn.getresponse()
            response.read()
            if response.status != 302:
                raise RuntimeError("GET /%s: %d" % (code, response.status))
        conn.close()
    finally:
        proc.terminate()
        proc.wait(120)
        reader.join(10)
        stderr = proc.stderr.read()
    totals = None
    with open(out_file) as f:
        for text in f:
            m = re.match(r"(?:summary|totals): (\d+)", text)
            if m:
                totals = int(m.group(1))
    shutil.rmtree(out_dir, ignore_errors=True)
    if totals is None:
        raise RuntimeError("no totals in callgrind's output: " + stderr[-2000:])
    return totals, sum(1 for line in lines if line.get("msg") == "request")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "ci", "services", "monolith", "kurz-monolith"))
    parser.add_argument("--few", type=int, default=500)
    parser.add_argument("--many", type=int, default=2500)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian package valgrind)")
    if not os.access(args.binary, os.X_OK):
        sys.exit("no binary at %s: build it first (cmake --build --preset ci)" % args.binary)
    if not 0 < args.few < args.many:
        sys.exit("need 0 < --few < --many")
    rows = []
    for name, env in SETTINGS:
        few, few_lines = run(args.binary, env, args.few)
        many, many_lines = run(args.binary, env, args.many)
        per_request = (many - few) / (args.many - args.few)
        lines = (many_lines - few_lines) / (args.many - args.few)
        rows.append({"setting": name, "instructions_per_request": round(per_request),
                     "access_lines_per_request": round(lines, 4)})
        print("%-45s %8.0f instructions/request  %.4f access lines/request" % (name, per_request, lines),
              flush=True)
    base = rows[0]["instructions_per_request"]
    for row in rows:
        row["over_access_log_false"] = row["instructions_per_request"] - base
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"binary": args.binary, "few": args.few, "many": args.many, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
