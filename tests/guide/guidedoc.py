"""The guide's markdown, read as blocks: which command blocks run where, and what they must print.

The markers (documented for writers in docs/guide/README.md) are HTML comments alone on the line
right before a fenced block, so that they are invisible in the rendered page:

    <!-- run: KIND -->            run the block with bash (-euo pipefail) in the environment KIND
    <!-- run: KIND setup -->      the block that brings KIND up: run first, before KIND's other blocks
    <!-- run: KIND teardown -->   the block that takes KIND down: run after all of them
    <!-- expect -->               the block is the output the previous run block must print
    <!-- no-run: REASON -->       a command block the test does not run, and why (required)

Every ```sh block carries a run or a no-run marker: a command cannot slip into the guide unchecked.
Expected output is matched line by line (trailing blanks and blank lines ignored): a line `...`
matches any number of lines, `...` inside a line matches any text, a run of spaces matches any run
of blanks; everything else must be there as written.
"""
import re

MARKER = re.compile(r"^<!--\s*(run|expect|no-run)\b:?\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(```+|~~~+)\s*([A-Za-z0-9_+-]*)")
COMMAND_LANGS = {"sh", "bash", "shell", "console"}
ROLES = {"setup", "teardown"}


class GuideError(Exception):
    """The guide breaks a marker rule: names the file and line."""


class Block:
    def __init__(self, path, line, lang, text, marker, arg):
        self.path, self.line, self.lang, self.text = path, line, lang, text
        self.marker = marker  # "run", "expect", "no-run" or None
        self.kind, self.role, self.reason = None, None, None
        self.expect = None  # the Block of expected output, for a run block
        if marker == "run":
            words = arg.split()
            if not words:
                raise GuideError("%s:%d: `run:` names no kind" % (path, line))
            self.kind = words[0]
            extra = words[1:]
            if len(extra) > 1 or (extra and extra[0] not in ROLES):
                raise GuideError("%s:%d: `run: %s`: after the kind only one of %s may follow"
                                 % (path, line, arg, "/".join(sorted(ROLES))))
            self.role = extra[0] if extra else None
        elif marker == "no-run":
            if not arg:
                raise GuideError("%s:%d: `no-run:` gives no reason" % (path, line))
            self.reason = arg
        elif marker == "expect" and arg:
            raise GuideError("%s:%d: `expect` takes no argument" % (path, line))

    def where(self):
        return "%s:%d" % (self.path, self.line)


def parse(path, text, known_kinds):
    """The fenced blocks of one markdown file, with their markers checked against the rules."""
    blocks = []
    lines = text.split("\n")
    pending = None  # (marker, arg, line) of a marker waiting for its block
    i = 0
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line.strip())
        if m:
            if pending:
                raise GuideError("%s:%d: marker not followed by a fenced block" % (path, pending[2]))
            pending = (m.group(1), m.group(2), i + 1)
            i += 1
            continue
        f = FENCE.match(line)
        if f:
            fence, lang = f.group(1), f.group(2).lower()
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and not lines[i].startswith(fence):
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise GuideError("%s:%d: fenced block never closed" % (path, start))
            marker, arg = (pending[0], pending[1]) if pending else (None, "")
            block = Block(path, start, lang, "\n".join(body) + "\n", marker, arg)
            pending = None
            if block.marker is None and lang in COMMAND_LANGS:
                raise GuideError("%s:%d: a ```%s block needs <!-- run: KIND --> or <!-- no-run: REASON -->"
                                 % (path, start, lang))
            if block.marker == "run" and block.kind not in known_kinds:
                raise GuideError("%s:%d: unknown kind `%s` (known: %s)"
                                 % (path, start, block.kind, ", ".join(sorted(known_kinds))))
            if block.marker == "expect":
                previous = blocks[-1] if blocks else None
                if previous is None or previous.marker != "run" or previous.expect is not None:
                    raise GuideError("%s:%d: <!-- expect --> must follow a run block directly"
                                     % (path, start))
                previous.expect = block
            blocks.append(block)
            i += 1
            continue
        if pending and line.strip():
            raise GuideError("%s:%d: marker not followed by a fenced block" % (path, pending[2]))
        i += 1
    if pending:
        raise GuideError("%s:%d: marker at the end of the file" % (path, pending[2]))
    return blocks


def _line_pattern(expected):
    parts = [re.escape(p) for p in expected.split("...")]
    pattern = ".*".join(parts)
    pattern = re.sub(r"(\\ )+", r"[ \\t]+", pattern)
    return re.compile(pattern + r"\Z")


def _clean(text):
    return [l.rstrip() for l in text.replace("\r", "").split("\n") if l.strip()]


def mismatch(expected_text, actual_text):
    """None when the output matches the expected block, else a message naming the first line that
    does not."""
    want = _clean(expected_text)
    have = _clean(actual_text)
    patterns = [None if w.strip() == "..." else _line_pattern(w.strip()) for w in want]
    # ok[h]: want[w:] matches have[h:], computed from the last expected line backwards.
    ok = [h == len(have) for h in range(len(have) + 1)]
    for w in range(len(want) - 1, -1, -1):
        nxt, ok = ok, [False] * (len(have) + 1)
        for h in range(len(have), -1, -1):
            if patterns[w] is None:
                ok[h] = nxt[h] or (h < len(have) and ok[h + 1])
            else:
                ok[h] = h < len(have) and bool(patterns[w].match(have[h].strip())) and nxt[h + 1]
    matched = ok[0]

    if matched:
        return None
    # Point at the first expected line that cannot be found, in order, in the output.
    h = 0
    for line in want:
        if line.strip() == "...":
            continue
        pattern = _line_pattern(line.strip())
        while h < len(have) and not pattern.match(have[h].strip()):
            h += 1
        if h == len(have):
            return "expected line not found (in order): %r" % line
        h += 1
    return "every expected line is there, but the output has lines the expectation does not allow " \
           "(add a `...` line where output may vary)"
