#!/usr/bin/env python3
"""Checks the answers of a kurz deployment: creates links through the edge (generated codes, each
with its own target), then looks every code up ROUNDS times in shuffled order through the edge,
never following the redirect, and counts what came back:
  ok            302 with the link's own target
  not_found     404 for a link that was created (stage 1 x2: it lives on the other replica)
  wrong_target  302 to another link's target (stage 1 x2: both replicas hand out the same codes)
  other         any other status, or no answer
Standard library only. Prints one JSON object (and writes it to --out).

  verify_links.py --base-url http://127.0.0.1:8080 [--links 100] [--rounds 4] [--out FILE]
"""
import argparse
import http.client
import json
import random
import sys
import time
import urllib.parse
import uuid


class Edge:
    """One keep-alive connection to the edge, reopened after an error or a close."""

    def __init__(self, base, timeout):
        u = urllib.parse.urlsplit(base)
        if u.scheme != "http" or not u.hostname:
            raise ValueError("--base-url must be http://host:port, got %r" % base)
        self.host, self.port, self.timeout, self.conn = u.hostname, u.port or 80, timeout, None

    def request(self, method, path, body=None):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                payload = resp.read()
                if (resp.getheader("Connection") or "").lower() == "close":
                    self.close()
                return resp.status, resp.getheader("Location"), payload
            except (OSError, http.client.HTTPException):
                self.close()
                # A kept-alive connection the server closed: one retry on a new one (GET only).
                if attempt == 2 or method != "GET":
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base-url", required=True)
    p.add_argument("--links", type=int, default=100)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per request")
    p.add_argument("--max-seconds", type=float, default=300.0, help="stop after this long in all")
    p.add_argument("--out")
    args = p.parse_args()
    if not 1 <= args.links <= 100000 or not 1 <= args.rounds <= 100:
        p.error("--links must be 1..100000 and --rounds 1..100")
    try:
        edge = Edge(args.base_url, args.timeout)
    except ValueError as e:
        p.error(str(e))
    deadline = time.monotonic() + args.max_seconds
    run = uuid.uuid4().hex[:8]
    links, create_failed = [], {}
    for i in range(args.links):
        if time.monotonic() > deadline:
            break
        target = "https://example.com/kurz-verify/%s/%d" % (run, i)
        try:
            status, _, body = edge.request("POST", "/api/links", {"url": target})
        except (OSError, http.client.HTTPException) as e:
            status, body = type(e).__name__, b""
        if status == 201:
            links.append((json.loads(body)["code"], target))
        else:
            create_failed[str(status)] = create_failed.get(str(status), 0) + 1
    if not links:
        print("verify_links: no link could be created through %s" % args.base_url, file=sys.stderr)
        return 1
    counts = {"ok": 0, "not_found": 0, "wrong_target": 0, "other": 0}
    rng = random.Random(run)
    lookups = 0
    for _ in range(args.rounds):
        for code, target in rng.sample(links, len(links)):
            if time.monotonic() > deadline:
                break
            try:
                status, location, _ = edge.request("GET", "/" + urllib.parse.quote(code))
            except (OSError, http.client.HTTPException):
                status, location = 0, None
            lookups += 1
            if status == 302:
                counts["ok" if location == target else "wrong_target"] += 1
            elif status == 404:
                counts["not_found"] += 1
            else:
                counts["other"] += 1
    edge.close()
    wrong = counts["not_found"] + counts["wrong_target"]
    result = {"base_url": args.base_url, "links": len(links),
              "create_failed": sum(create_failed.values()), "create_failed_by": create_failed,
              "distinct_codes": len({c for c, _ in links}), "lookups": lookups, **counts,
              "wrong": wrong, "wrong_share": round(wrong / lookups, 4) if lookups else None}
    text = json.dumps(result, sort_keys=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
