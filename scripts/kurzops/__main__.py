"""The library's command line, for bash scripts (scripts/lib.sh defines `ops` to call it).

  free-port                          a free TCP port on 127.0.0.1
  compose-command                    the compose command (v2 or 1.29), words on one line
  stage-files STAGE                  the stage's compose files, one a line (relative to the root)
  haproxy-csv BASE                   HAProxy's statistics CSV at BASE, header without "# "
  haproxy-up BASE BACKEND            how many servers of BACKEND are UP
  wait-backend BASE BACKEND N [S]    until exactly N servers of BACKEND are UP (S seconds, 60)
  wait-http URL SECONDS [PID]        until URL answers 200 (exit 2 at once when PID exits)
  load-tool                          the kurz-load binary's path
  wait-status URL STATUS SECONDS [PID]   until URL answers STATUS (exit 2 at once when PID exits)
  wait-backend-min BASE BACKEND N [S]    until at least N servers of BACKEND are UP (S seconds, 60)
Exit status 1 with a message on stderr when something is missing or a wait runs out.
"""
import sys

from . import compose, haproxy, net, tools, wait, web


def _fail(msg, status=1):
    print("kurz: error: %s" % msg, file=sys.stderr)
    return status


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    cmd, args = argv[0], argv[1:]
    try:
        if cmd == "free-port" and not args:
            print(net.free_port())
        elif cmd == "compose-command" and not args:
            print(" ".join(compose.compose_command()))
        elif cmd == "stage-files" and len(args) == 1:
            print("\n".join(compose.stage_files(args[0])))
        elif cmd == "haproxy-csv" and len(args) == 1:
            resp = web.try_request(args[0], "GET", "/stats;csv")
            if resp.status != 200:
                return _fail("%s/stats;csv answered %s" % (args[0], resp.status or resp.body.decode()))
            sys.stdout.write(resp.body.decode().lstrip("# "))
        elif cmd == "haproxy-up" and len(args) == 2:
            print(len(haproxy.servers_up(args[0], args[1])))
        elif cmd == "wait-backend" and len(args) in (3, 4):
            base, backend, want = args[0], args[1], int(args[2])
            timeout = float(args[3]) if len(args) == 4 else 60.0
            seen = []

            def exactly():
                seen[:] = [len(haproxy.servers_up(base, backend))]
                return seen[0] == want
            try:
                wait.wait_until("HAProxy backend %s" % backend, exactly, timeout, interval=0.5)
            except wait.Timeout:
                return _fail("HAProxy has %s servers of %s UP, not %d, after %gs"
                             % (seen[0] if seen else "no", backend, want, timeout))
        elif cmd == "wait-http" and len(args) in (2, 3):
            try:
                wait.wait_http(args[0], float(args[1]), pid=int(args[2]) if len(args) == 3 else None,
                               interval=0.01)
            except ProcessLookupError:
                return 2
        elif cmd == "load-tool" and not args:
            print(tools.load_tool())
        elif cmd == "wait-status" and len(args) in (3, 4):
            try:
                wait.wait_http(args[0], float(args[2]), status=int(args[1]),
                               pid=int(args[3]) if len(args) == 4 else None, interval=0.01)
            except ProcessLookupError:
                return 2
        elif cmd == "wait-backend-min" and len(args) in (3, 4):
            base, backend, want = args[0], args[1], int(args[2])
            timeout = float(args[3]) if len(args) == 4 else 60.0
            try:
                wait.wait_until("HAProxy backend %s" % backend,
                                lambda: len(haproxy.servers_up(base, backend)) >= want, timeout, interval=0.5)
            except wait.Timeout:
                return _fail("HAProxy has fewer than %d servers of %s UP after %gs" % (want, backend, timeout))
        else:
            return _fail("usage: python3 -m kurzops %s (see --help)" % " ".join(argv), 2)
    except (ValueError, FileNotFoundError, compose.NoCompose, wait.Timeout) as e:
        return _fail(str(e))
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
