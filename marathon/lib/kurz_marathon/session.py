"""One run of marathon/deploy: the API, the options, and the one way every command starts a
deployment and sees it through (`Session.deploy`).

Contract of `Session.deploy(what, send)`:
- `send(force)` makes the call that starts the deployment (force=True adds `?force=true`).
- A 409 names the deployment(s) holding the lock (with their step and apps, from GET
  /v2/deployments); without --force that is the end (exit 1); with --force the call is repeated
  with `?force=true`.
- The deployment is followed until it is gone (exit 0). When it times out or fails, it is cancelled
  (DELETE /v2/deployments/{id}) and the reverting deployment is followed too; the result is exit 1
  either way, with a message saying whether the rollback finished.
"""
import os
import sys

from . import client, follow


def _stdout_line(line):
    """Prints a line to stdout; once stdout is a closed pipe (`marathon/deploy promote | head`), the
    rest of the output goes to /dev/null and the command carries on to its end: a reader that stops
    reading never stops a change half-way."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the pending bytes and every later line go nowhere
        os.close(devnull)


class Session:
    def __init__(self, api, timeout, force, interval, max_failures, out=None, err=None):
        self.api, self.timeout, self.force = api, timeout, force
        self.out = out or _stdout_line
        self.err = err or (lambda line: print("deploy: " + line, file=sys.stderr, flush=True))
        self.follower = follow.Follower(api, self.out, interval=interval, max_failures=max_failures)

    def describe_locks(self, ids):
        try:
            running = {d.get("id"): d for d in self.follower.list_deployments()}
        except client.MarathonError:
            running = {}
        out = []
        for dep_id in ids:
            dep = running.get(dep_id)
            if dep:
                out.append("%s (%s; apps %s)" % (dep_id, follow.describe_step(dep),
                                                 ", ".join(dep.get("affectedApps") or []) or "-"))
            else:
                out.append(dep_id)
        return out

    def running(self, app_ids):
        """The deployments Marathon lists that touch any of `app_ids`."""
        ids = set(app_ids)
        return [d for d in self.follower.list_deployments() if ids & set(d.get("affectedApps") or [])]

    def settle(self, what, app_ids):
        """Follows every running deployment of `app_ids` to its end (an earlier run that was
        interrupted, or someone else's), cancelling and reverting one that fails or times out like
        `deploy` does. Returns None when none was running, 0 when all finished, 1 when one failed
        (it was then cancelled and reverted where Marathon could)."""
        found = None
        for dep in self.running(app_ids):
            found = 0
            self.out("%s: deployment %s is still running (%s; an interrupted earlier run?): "
                     "following it first" % (what, dep.get("id"), follow.describe_step(dep)))
            if self.follower.follow(dep.get("id"), self.timeout) != follow.DONE:
                self.revert(what, dep.get("id"))
                return 1
        return found

    def deploy(self, what, send):
        try:
            reply = send(False)
        except client.Locked as e:
            holders = self.describe_locks(e.deployment_ids()) or ["(Marathon named none)"]
            self.err("%s is locked by %s: %s" % (what, "deployment" if len(holders) == 1 else
                                                 "deployments", "; ".join(holders)))
            if not self.force:
                self.err("wait for it to finish, cancel it (DELETE /v2/deployments/<id>), or run "
                         "again with --force (?force=true: Marathon stops it where it is)")
                return 1
            self.out("--force: overriding the lock with ?force=true")
            reply = send(True)
        dep_id, version = reply.deployment()
        if not dep_id:
            self.out("%s: done (Marathon started no deployment)" % what)
            return 0
        self.out("%s: deployment %s (version %s)" % (what, dep_id, version or "?"))
        outcome = self.follower.follow(dep_id, self.timeout)
        if outcome == follow.DONE:
            self.out("%s: done" % what)
            return 0
        return self.revert(what, dep_id)

    def revert(self, what, dep_id):
        self.out("cancelling deployment %s: DELETE /v2/deployments/%s" % (dep_id, dep_id))
        reverting = self.follower.cancel(dep_id)
        if reverting is None:
            self.out("deployment %s finished before it could be cancelled" % dep_id)
            self.out("%s: done" % what)
            return 0
        self.out("following the reverting deployment %s" % reverting)
        if self.follower.follow(reverting, self.timeout) == follow.DONE:
            self.err("%s failed; rolled back (deployment %s cancelled, reverting deployment %s "
                     "finished)" % (what, dep_id, reverting))
        else:
            self.err("%s failed, and the reverting deployment %s did not finish within %gs either; "
                     "Marathon keeps working on it (see: marathon/deploy status)"
                     % (what, reverting, self.timeout))
        return 1
