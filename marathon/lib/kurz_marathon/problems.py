"""What the validator's layers share: a problem, how a path inside an app is written, and the
base of a layer (one definition, one way to report).

A problem is (app or group id, path inside the app, message); `path` uses JSON keys and [index].
Standard library only.
"""
import collections
import json

Problem = collections.namedtuple("Problem", "id path message")


def path_text(parts):
    out = ""
    for part in parts:
        out += "[%d]" % part if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(top)"



def short(value, limit=80):
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."



class Layer:
    """One layer of rules over one definition; every problem goes to `add(item_id, path, message)`."""

    def __init__(self, definition, add):
        self.definition = definition
        self.add = add
