#!/usr/bin/env python3
"""scripts/faults/smuggle.py [--proxy] HOST:PORT   request smuggling and header tricks against one server
(a kurz service, or HAProxy in front of them), on 127.0.0.1 only. Each case is sent raw on a
fresh connection, followed on the same connection by a second request that a smuggled body would
turn into a request of its own (--proxy: the target is a proxy, which may normalise obs-fold
and bare LF into one well-formed request); prints, per case, every status line the server answered (a
single clear 4xx is right; two answers mean the second request reached a handler). Exit 0 when
every case got exactly one 4xx/5xx answer, 1 otherwise, 2 usage."""
import socket
import sys

BODY = b'{"url":"https://example.com/smuggled"}'
NEXT = b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
POST = b"POST /api/links HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
CASES = {
    "CL+TE": POST + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + NEXT,
    "TE chunked": POST + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n",
    "duplicate CL": POST + b"Content-Length: %d\r\nContent-Length: 0\r\n\r\n" % len(BODY) + BODY,
    "CL with space": POST + b"Content-Length : %d\r\n\r\n" % len(BODY) + BODY,
    "negative CL": POST + b"Content-Length: -1\r\n\r\n" + NEXT,
    "obs-fold": b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
    "bare LF": b"GET /health/live HTTP/1.1\nHost: x\n\n",
    "NUL in header": b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "1000 headers": b"GET /health/live HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(1000)) + b"\r\n",
}


# A proxy may rewrite these into one well-formed header (RFC 9112 5.2, 2.2): then one 2xx answer,
# for the one request, is right too.
NORMALISED_BY_PROXIES = ("obs-fold", "bare LF")


def main(argv):
    proxy = "--proxy" in argv
    argv = [a for a in argv if a != "--proxy"]
    if len(argv) != 1 or ":" not in argv[0]:
        print(__doc__, file=sys.stderr)
        return 2
    host, port = argv[0].rsplit(":", 1)
    if host not in ("127.0.0.1", "localhost"):
        print("smuggle: 127.0.0.1 only", file=sys.stderr)
        return 2
    ok = True
    for name, raw in CASES.items():
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
        data = b""
        try:
            s.sendall(raw)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        finally:
            s.close()
        statuses = [line.split(b" ")[1].decode() for line in data.split(b"\r\n")
                    if line.startswith(b"HTTP/1.") and len(line.split(b" ")) > 1]
        good = len(statuses) == 1 and (statuses[0][0] in "45" or (proxy and name in NORMALISED_BY_PROXIES))
        ok = ok and good
        print("%-14s %-12s %s" % (name, ",".join(statuses) or "no answer", "ok" if good else "NOT OK"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
