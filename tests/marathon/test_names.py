"""One set of names: every Mesos-DNS name, Marathon app id, marathon-lb service port and registry
address written in docs/ and marathon/README.md exists in the definitions under marathon/ (or in a
team's rendering of them, marathon/render --team). A name the definitions do not use is a reader's
command that cannot work (e.g. `host redis.kurz.marathon.mesos` when Redis is redis-kurz...).
No network, no Docker."""
import glob
import os
import re
import sys
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "marathon", "lib"))
from kurz_marathon import definitions, teams  # noqa: E402

# Names Mesos-DNS gives that are not apps: the leading master, every master, the Marathon framework.
MESOS_DNS_WELL_KNOWN = {"leader.mesos", "master.mesos", "marathon.mesos"}
DNS = re.compile(r"(?<![A-Za-z0-9_.*<>-])((?:_?[a-z0-9][a-z0-9-]*\.)+(?:mesos|thisdcos\.directory))(?::(\d+))?\b")
APP_ID = re.compile(r"(?<![\w./<>{}-])(/(?:kurz|kurz-stage\d|infra|team\d\d)(?:/[a-z0-9][a-z0-9-]*)*)(?![\w.-])")
SERVICE_PORT = re.compile(r"(?<![\d.:/-])(1\d{4})(?![\d.]|\s*MB)")
TEAM = re.compile(r"--team (team\d\d)")


def doc_files():
    return sorted(glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True) +
                  [os.path.join(ROOT, "marathon", "README.md")])


def known(team_names):
    """(Mesos-DNS names with the ports they answer on, app and group ids, service ports)."""
    loaded = [definitions.load(p) for p in definitions.definition_files()]
    renders = list(loaded)
    for name in team_names:
        for data in loaded:
            try:
                renders.append(teams.render_team(data, name))
            except teams.TeamError:
                pass  # the room's shared apps
    dns, ids, ports = {}, set(), set()
    for data in renders:
        for app_id, item, group_id, _ in definitions.walk(data):
            parts = app_id.strip("/").split("/")
            ids.update("/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1))
            host_ports = {m.get("hostPort") for m in definitions.port_mappings(item) if m.get("hostPort")}
            host_ports |= {p.get("port") for p in item.get("portDefinitions") or []}
            name = definitions.mesos_dns_name(app_id)
            dns.setdefault(name, set()).update(host_ports)
            dns.setdefault("_%s._tcp.marathon.mesos" % name.split(".")[0], set())  # its SRV record
            for key, value in (item.get("labels") or {}).items():
                if re.fullmatch(r"HAPROXY_\d+_PORT", key):
                    ports.add(int(value))
    ports.update(p for p in range(teams.SERVICE_PORT_BASE, teams.SERVICE_PORT_BASE + 1))  # the range's start
    return dns, ids, ports


def deliberately_wrong():
    """Mesos-DNS names that only marathon/bad/ uses: its definitions are section 7's realistic bad
    versions (a REDIS_URL naming redis.kurz.marathon.mesos), and the chapter names the wrong name to
    explain the failure. They are no app's, so they stay wrong everywhere else (known() ignores them)."""
    dns = known([])[0]
    names = set()
    for path in glob.glob(os.path.join(ROOT, "marathon", "bad", "*.json")):
        with open(path, encoding="utf-8") as f:
            names.update(name for name, _ in DNS.findall(f.read()) if name not in dns)
    return names


class Names(unittest.TestCase):
    def test_docs_name_only_what_the_definitions_define(self):
        texts = {}
        for path in doc_files():
            with open(path, encoding="utf-8") as f:
                texts[os.path.relpath(path, ROOT)] = f.read()
        team_names = sorted({t for text in texts.values() for t in TEAM.findall(text)})
        dns, ids, ports = known(team_names)
        marathon_texts = {p: t for p, t in texts.items() if "marathon" in p or "00-setup" in p or "checklist" in p}
        bad_versions = deliberately_wrong()
        self.assertIn("redis.kurz.marathon.mesos", bad_versions)  # marathon/bad/redirect.json's typo
        problems = []
        for path, text in texts.items():
            for lineno, line in enumerate(text.splitlines(), 1):
                for name, port in DNS.findall(line):
                    if name in MESOS_DNS_WELL_KNOWN:
                        continue
                    if name in bad_versions and "marathon" in path:
                        continue  # the chapter explaining marathon/bad/'s mistake
                    if name not in dns:
                        problems.append("%s:%d: Mesos-DNS name %s is no app of marathon/ (known: %s)" % (
                            path, lineno, name, ", ".join(sorted(n for n in dns if not n.startswith("_")))))
                    elif port and dns[name] and int(port) not in dns[name]:
                        problems.append("%s:%d: %s:%s, but that app's fixed host port is %s" % (
                            path, lineno, name, port, ", ".join(map(str, sorted(dns[name])))))
                    elif port and not dns[name]:
                        problems.append("%s:%d: %s:%s, but that app has no fixed host port (Mesos-DNS A "
                                        "records carry no port)" % (path, lineno, name, port))
        for path, text in marathon_texts.items():
            for lineno, line in enumerate(text.splitlines(), 1):
                for app_id in APP_ID.findall(line):
                    if app_id not in ids:
                        problems.append("%s:%d: app or group id %s is in no definition under marathon/" % (
                            path, lineno, app_id))
                if "marathon-lb" in line or "HAPROXY" in line or "service port" in line:
                    for port in SERVICE_PORT.findall(line):
                        if int(port) not in ports:
                            problems.append("%s:%d: marathon-lb service port %s is no HAPROXY_n_PORT of the "
                                            "definitions" % (path, lineno, port))
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_the_checker_finds_what_issue_18_found(self):
        dns, ids, ports = known([])
        wrong = ["redis.kurz.marathon.mesos", "marathon-lb.marathon.mesos",
                 "registry.marathon.l4lb.thisdcos.directory"]
        for line in ("host redis.kurz.marathon.mesos", "curl -s http://marathon-lb.marathon.mesos:9090/x",
                     "curl -s http://registry.marathon.l4lb.thisdcos.directory:5000/v2/_catalog"):
            name = DNS.findall(line)[0][0]
            self.assertIn(name, wrong)
            self.assertNotIn(name, dns)
        self.assertIn("redis-kurz.marathon.mesos", dns)
        self.assertEqual(dns["registry-infra.marathon.mesos"], {5000})
        self.assertIn("marathon-lb-infra.marathon.mesos", dns)
        self.assertEqual(APP_ID.findall("deploy `/kurz/redirect` and /infra/marathon-lb, not apps/kurz/x"),
                         ["/kurz/redirect", "/infra/marathon-lb"])
        self.assertNotIn("/kurz/redirect-bad", ids)
        self.assertIn(10012, ports)
        self.assertNotIn(10016, ports)


if __name__ == "__main__":
    unittest.main()
