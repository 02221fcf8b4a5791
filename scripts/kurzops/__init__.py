"""kurzops: the one operations library of kurz's scripts, experiments, fault suite, Swarm scripts
and tests. Standard library only; nothing here starts a stack (scripts/docker/stack.sh does).

Modules, one job each:
  net      free_port()
  web      request(), try_request(), Response: one request, redirects never followed
  wait     wait_until(), wait_http(): bounded polling
  compose  compose_command(), STAGES, stage_files(): Docker Compose v1/v2 and the stage map
  haproxy  parse_stats(), stats(), servers_up(): HAProxy's statistics CSV by column name
  tools    load_tool(): where the kurz-load binary is

Python callers put this folder's parent (scripts/) on sys.path; bash callers use the CLI
(`python3 -m kurzops --help`, or `ops` from scripts/lib.sh).
"""
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
