"""Makes the operations library (scripts/kurzops) importable from a test: `import opspath` once,
with tests/support on sys.path, then `from kurzops import ...`. The one place tests find it."""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts")
if SCRIPTS not in sys.path:
    sys.path.insert(0, SCRIPTS)
