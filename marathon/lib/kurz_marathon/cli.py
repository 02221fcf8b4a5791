"""The command line of marathon/deploy: options, commands, and the one place where errors become
messages and exit codes (0 done, 1 failed, 2 bad usage). No error reaches the user as a trace."""
import argparse
import os
import signal
import sys

NO_URL = ("MARATHON_URL is not set: export MARATHON_URL=http://marathon.mesos:8080 (DC/OS: "
          "https://<cluster>/service/marathon), or give --marathon URL. There is no default: 8080 on "
          "this machine is kurz's own port too (the offline track: the stand-in's URL, docs/marathon.md)")

USAGE_EPILOG = """commands:
  deploy FILE [--registry R] [--tag T]   PUT a group or an app definition and follow it
         [--dry-run]                     only show what it would change (= plan FILE)
  plan FILE [--registry R] [--tag T]     what FILE would change: apps, image, instances, env
  scale APP N                            set an app's instances and follow the deployment
  restart APP                            rolling restart and follow it
  rollback APP [VERSION]                 back to VERSION, or to the configuration before the current
  status [APP]                           apps, tasks, health, running deployments
  canary start FILE [--instances N]      deploy a canary app beside the main one (same marathon-lb port)
  promote APP CANARY                     give APP the canary's image and env, then remove the canary
  canary abort CANARY                    remove the canary
  preflight [STAGE] [--teams N]          check the cluster for STAGE (stage1|stage2|stage3|all) x N teams

environment: MARATHON_URL (required; no default), MESOS_URL (the Mesos master, for preflight), DCOS_TOKEN (sent as
  'Authorization: token=...'), MARATHON_USER / MARATHON_PASSWORD (HTTP basic auth),
  KURZ_API_KEY / KURZ_REDIS_PASSWORD (fill the definitions' ${...} placeholders)
exit: 0 done, 1 failed (after rolling back where it could), 2 bad usage"""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print("deploy: error: %s" % message, file=sys.stderr)
        sys.exit(2)


def positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not a number: %r" % text)
        if value < 0 or (kind is float and value == 0):
            raise argparse.ArgumentTypeError("must be %s: %r" % ("> 0" if kind is float else ">= 0", text))
        return value
    return parse


def global_options(parser, defaults):
    d = (lambda v: v) if defaults else (lambda v: argparse.SUPPRESS)
    parser.add_argument("--marathon", metavar="URL", default=d(None),
                        help="Marathon's URL (default: $MARATHON_URL; one of them is required)")
    parser.add_argument("--timeout", metavar="SECONDS", type=positive(float), default=d(600.0),
                        help="give a deployment this long, then cancel it and roll back (default 600)")
    parser.add_argument("--force", action="store_true", default=d(False),
                        help="override a lock held by another deployment (?force=true)")
    parser.add_argument("--interval", metavar="SECONDS", type=positive(float), default=d(1.0),
                        help="poll GET /v2/deployments this often (default 1)")
    parser.add_argument("--max-task-failures", metavar="N", type=positive(int), default=d(3),
                        help="this many failed tasks make a deployment failed (default 3)")


def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    global_options(common, defaults=False)
    images = argparse.ArgumentParser(add_help=False)
    images.add_argument("--registry", metavar="HOST[:PORT]",
                        help="registry of every kurz image (\"\" for none), e.g. localhost:5000")
    images.add_argument("--tag", metavar="TAG", help="tag of every kurz image, e.g. 0.1.0")
    images.add_argument("--dcos-secrets", action="store_true",
                        help="API_KEY as the DC/OS secret kurz/api-key instead of $KURZ_API_KEY")
    p = Parser(prog="marathon/deploy", description="Deploy kurz to Marathon and follow it.",
               epilog=USAGE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    global_options(p, defaults=True)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    c = sub.add_parser("deploy", parents=[common, images], help="PUT a group or app and follow it")
    c.add_argument("file")
    c.add_argument("--dry-run", action="store_true", help="show what it would change; send nothing")
    c = sub.add_parser("plan", parents=[common, images], help="what a definition would change")
    c.add_argument("file")
    c = sub.add_parser("scale", parents=[common], help="set an app's instances")
    c.add_argument("app")
    c.add_argument("instances", type=positive(int))
    c = sub.add_parser("restart", parents=[common], help="rolling restart of an app")
    c.add_argument("app")
    c = sub.add_parser("rollback", parents=[common], help="back to a version of an app")
    c.add_argument("app")
    c.add_argument("version", nargs="?")
    c = sub.add_parser("status", parents=[common], help="apps, tasks, deployments")
    c.add_argument("app", nargs="?")
    c = sub.add_parser("promote", parents=[common], help="put the canary's image/env into APP")
    c.add_argument("app")
    c.add_argument("canary")
    c = sub.add_parser("canary", parents=[common], help="canary start FILE | canary abort CANARY")
    csub = c.add_subparsers(dest="canary_command", metavar="start|abort", parser_class=Parser)
    csub.required = True
    s = csub.add_parser("start", parents=[common, images], help="deploy the canary app")
    s.add_argument("file")
    s.add_argument("--instances", type=positive(int), help="the canary's instances (default: the file's)")
    a = csub.add_parser("abort", parents=[common], help="remove the canary app")
    a.add_argument("canary")
    c = sub.add_parser("preflight", parents=[common], help="check that the cluster can take a stage x teams")
    c.add_argument("stage", nargs="?", default="all", choices=("stage1", "stage2", "stage3", "all"))
    c.add_argument("--teams", type=positive(int), default=1, help="how many teams deploy it (default 1)")
    c.add_argument("--mesos", metavar="URL", help="the Mesos master (default: $MESOS_URL; without it the "
                   "Mesos checks are skipped)")
    c.add_argument("--registry", metavar="HOST:PORT", help="the registry the agents pull from (default "
                   "registry-infra.marathon.mesos:5000)")
    c.add_argument("--dns-name", metavar="NAME", default="leader.mesos",
                   help="a Mesos-DNS name that must resolve here (default leader.mesos)")
    c.add_argument("--only", metavar="CHECKS", help="only these checks, comma-separated (e.g. marathon,version)")
    return p


def run(args, s):
    from . import canary, commands, plan, status
    if args.command == "plan" or (args.command == "deploy" and args.dry_run):
        return plan.plan(s, commands.load_definition(args.file, args.registry, args.tag, args.dcos_secrets))
    if args.command == "deploy":
        return commands.deploy(s, args.file, args.registry, args.tag, args.dcos_secrets)
    if args.command == "scale":
        return commands.scale(s, commands.normalize_id(args.app), args.instances)
    if args.command == "restart":
        return commands.restart(s, commands.normalize_id(args.app))
    if args.command == "rollback":
        return commands.rollback(s, commands.normalize_id(args.app), args.version)
    if args.command == "status":
        return status.status(s, commands.normalize_id(args.app) if args.app else None)
    if args.command == "preflight":
        from . import preflight
        return preflight.run(s, args)
    if args.command == "promote":
        return canary.promote(s, commands.normalize_id(args.app), commands.normalize_id(args.canary))
    if args.canary_command == "start":
        return canary.start(s, args.file, args.instances, args.registry, args.tag, args.dcos_secrets)
    return canary.abort(s, commands.normalize_id(args.canary))


def report(s, e, authorization):
    """The message for an error Marathon (or the network) gave."""
    from . import client
    if isinstance(e, client.Unauthorized):
        where = "%s %s: HTTP %d" % (e.method, e.path.split("?")[0], e.status)
        if authorization:
            s.err("%s: the credentials sent (DCOS_TOKEN or MARATHON_USER/MARATHON_PASSWORD) were "
                  "refused; get a fresh token: dcos config show core.dcos_acs_token" % where)
        else:
            s.err("%s: a token is needed: set DCOS_TOKEN (on DC/OS: export DCOS_TOKEN=$(dcos config "
                  "show core.dcos_acs_token)), or MARATHON_USER and MARATHON_PASSWORD for basic auth"
                  % where)
    elif isinstance(e, (client.Invalid, client.BadJson)):
        what = "refused the definition" if isinstance(e, client.Invalid) else "could not read the JSON"
        s.err("Marathon %s (%s):" % (what, e.describe()))
        for path, errors in e.details() or [("/", ["(no details given)"])]:
            for error in errors or ["(no message)"]:
                s.err("  %s: %s" % (path, error))
    elif isinstance(e, client.NotFound):
        s.err(e.describe())
    else:
        s.err(str(e))


def not_marathon(s, e, authorization):
    """An API error from a server that is not Marathon is named as such (one line, what to do)."""
    from . import client, identity
    if not isinstance(e, client.ApiError) or isinstance(e, client.Unauthorized):
        return False
    finding = identity.probe(s.api.url, authorization, timeout=min(5.0, s.api.request_timeout))
    if finding is None or finding.marathon:
        return False
    s.err(identity.not_marathon_message(s.api.url, finding))
    return True


def _sigterm(*_):
    raise KeyboardInterrupt


def main(argv=None, env=None):
    env = os.environ if env is None else env
    signal.signal(signal.SIGTERM, _sigterm)  # `kill`, a closed terminal: stop like Ctrl-C
    args = build_parser().parse_args(argv)
    from . import client, commands, session  # after parsing: usage errors answer fast
    url = args.marathon or env.get("MARATHON_URL")
    if not url:
        print("deploy: error: %s" % NO_URL, file=sys.stderr)
        return 2
    authorization = client.auth_from_env(env)
    try:
        api = client.Marathon(url, authorization, request_timeout=min(15.0, max(args.timeout, 1.0)))
    except ValueError as e:
        print("deploy: error: --marathon / MARATHON_URL: %s" % e, file=sys.stderr)
        return 2
    s = session.Session(api, args.timeout, args.force, args.interval, args.max_task_failures)
    args.env = env
    try:
        return run(args, s)
    except commands.UsageError as e:
        s.err("error: %s" % e)
        return 2
    except client.MarathonError as e:
        if not not_marathon(s, e, authorization):
            report(s, e, authorization)
        return 1
    except KeyboardInterrupt:
        s.err("interrupted; a deployment that was started keeps running in Marathon "
              "(marathon/deploy status shows it); the same command run again follows it and "
              "finishes what is left")
        return 130
