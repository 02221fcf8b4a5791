"""Links from the guide to code that stay true: a link to a line carries the text that must be on it.

  [server.cc](../../platform/src/server.cc#L98 "bool Server::shutdown() {")

The title (in "..." or '...') is a marker: a function's first line, a declaration, a comment or a
setting the sentence refers to. The rule the guide test checks: the linked line is the FIRST line of
the file containing the marker. A bare range (#L10-L20) or a line with no marker is refused, because
nothing could tell whether it still points at what the sentence says.

  python3 tests/guide/sourcelinks.py [--fix] [FILE.md...]   (default: docs/guide/*.md)
lists the links that no longer hold; --fix moves each anchor to its marker's current line (a marker
that is gone stays an error: reword the sentence and pick a new one).
"""
import glob
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# [text](path#Lanchor "marker") or [text](path#Lanchor 'marker'); path relative to the document.
LINK = re.compile(r"""\]\((?P<path>[^)\s#]+)#(?P<anchor>L[^)\s]*)(?:\s+(?:"(?P<dq>[^"]+)"|'(?P<sq>[^']+)'))?\)""")


def marker_line(path, marker):
    """The 1-based first line of `path` containing `marker`, or None."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if marker in line:
                return n
    return None


def check(doc, text, fix=False):
    """(problems, text with anchors fixed when fix=True) for one document."""
    problems = []

    def visit(m):
        marker = m.group("dq") or m.group("sq")
        full = os.path.normpath(os.path.join(os.path.dirname(doc), m.group("path")))
        where = "%s: %s#%s" % (os.path.relpath(doc, ROOT), m.group("path"), m.group("anchor"))
        if not marker:
            problems.append("%s: a link to a line needs a marker title naming what is there" % where)
            return m.group(0)
        if not re.fullmatch(r"L\d+", m.group("anchor")):
            problems.append("%s: link one line (#Ln), the marker's, not a range" % where)
            return m.group(0)
        if not os.path.isfile(full):
            problems.append("%s: no such file" % where)
            return m.group(0)
        line = marker_line(full, marker)
        if line is None:
            problems.append("%s: the marker %r is no longer in the file" % (where, marker))
            return m.group(0)
        if int(m.group("anchor")[1:]) != line:
            if fix:
                return m.group(0).replace("#" + m.group("anchor"), "#L%d" % line, 1)
            problems.append("%s: the marker %r is on line %d now (sourcelinks.py --fix)" % (where, marker, line))
        return m.group(0)

    fixed = LINK.sub(visit, text)
    return problems, fixed


def guide_docs():
    return sorted(glob.glob(os.path.join(ROOT, "docs", "guide", "*.md")))


def main(argv):
    fix = "--fix" in argv
    docs = [os.path.abspath(a) for a in argv if a != "--fix"] or guide_docs()
    bad = []
    for doc in docs:
        with open(doc, encoding="utf-8") as f:
            text = f.read()
        problems, fixed = check(doc, text, fix)
        if fix and fixed != text:
            with open(doc, "w", encoding="utf-8") as f:
                f.write(fixed)
            problems, _ = check(doc, fixed)
        bad += problems
    for p in bad:
        print(p)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
