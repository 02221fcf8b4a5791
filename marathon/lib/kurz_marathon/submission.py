"""What Marathon refuses when a definition is submitted, in the shape of Marathon's 422 body: a list
of {"path", "errors"} details, empty when the definition is accepted.

It is the first two layers of validation.py (json_schema.py and marathon_rules.py, the one
implementation of these rules): Marathon's own JSON Schema (when python3-jsonschema is installed)
and Marathon's submission-time rules — never kurz's own rules, which Marathon does not know. Paths are written the way Marathon writes them,
from the top of the submitted document: `/apps(0)/healthChecks(1)/portIndex`.
Used by the Marathon stand-in (tests/marathon/standin.py).
"""
import importlib.util
import re

from . import definitions, validation

_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def schema_available():
    """Whether Debian's python3-jsonschema is installed (validation.py needs it for the schema)."""
    return importlib.util.find_spec("jsonschema") is not None


def _parts(text):
    if text in ("", "(top)"):
        return ()
    return tuple(int(i) if i else name for i, name in _TOKEN.findall(text))


def path_text(parts):
    out = "".join("(%d)" % p if isinstance(p, int) else "/" + str(p) for p in parts)
    return out or "/"


def _owners(doc):
    """{app or group id: its path from the top of the document}."""
    owners = {}
    if definitions.is_group(doc):
        def groups(group, path, parent):
            gid = definitions.absolute_id(group.get("id", ""), parent)
            owners.setdefault(gid, path)
            for i, sub in enumerate(group.get("groups") or []):
                if isinstance(sub, dict):
                    groups(sub, path + ("groups", i), gid)
        groups(doc, (), "/")
    for app_id, _, _, path in definitions.walk(doc):
        owners[app_id] = path
    return owners


def details(doc):
    """Every reason Marathon would refuse this app or group definition, as 422 details."""
    checker = validation.Checker(doc)
    if schema_available():
        checker.schema()
    shape_ok = not checker.problems
    try:
        checker.marathon()
    except (TypeError, AttributeError, ValueError, KeyError, IndexError):
        if shape_ok:
            raise
    owners = _owners(doc)
    merged = {}
    for problem in checker.problems:
        path = owners.get(problem.id, ()) + _parts(problem.path)
        merged.setdefault(path_text(path), []).append(problem.message)
    return [{"path": p, "errors": e} for p, e in merged.items()]
