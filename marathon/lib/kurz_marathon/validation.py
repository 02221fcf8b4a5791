"""Checks a Marathon definition (an app or a group) in three layers and returns every problem:

1. Marathon's JSON Schema (json_schema.py).
2. The submission-time rules Marathon's API applies that the schema does not express
   (marathon_rules.py).
3. kurz's own rules (kurz_rules.py; also check_files, the rules across files).

This module composes them and is what the tools use (marathon/validate, submission.py).
A problem is (app or group id, path inside the app, message); `path` uses JSON keys and [index].
Standard library plus Debian's python3-jsonschema.
"""
from .json_schema import JsonSchema
from .kurz_rules import KurzRules, check_files
from .marathon_rules import MarathonRules
from .problems import Problem, path_text

__all__ = ("Checker", "Problem", "check", "check_files", "format_problem", "path_text")


class Checker:
    """Collects the problems of one definition."""

    def __init__(self, definition):
        self.definition = definition
        self.problems = []

    def add(self, item_id, path, message):
        self.problems.append(Problem(item_id, path_text(path), message))

    def schema(self):
        JsonSchema(self.definition, self.add).check()

    def marathon(self):
        MarathonRules(self.definition, self.add).check()

    def kurz(self):
        KurzRules(self.definition, self.add).check()

    def run(self):
        self.schema()
        shape_ok = not self.problems
        for layer in (self.marathon, self.kurz):
            try:
                layer()
            except (TypeError, AttributeError, ValueError, KeyError, IndexError):
                if shape_ok:
                    raise
                self.add(str(self.definition.get("id", "/")), (),
                         "some rules were not checked: fix the schema problems above first")
                break
        seen, out = set(), []
        for p in self.problems:
            if p not in seen:
                seen.add(p)
                out.append(p)
        return out


def check(definition):
    """Every problem of a loaded definition (a list of Problem)."""
    return Checker(definition).run()


def format_problem(path, problem):
    return "%s: %s: %s: %s" % (path, problem.id or "/", problem.path, problem.message)

