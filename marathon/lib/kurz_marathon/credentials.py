"""Secrets in the definitions: the files carry placeholders, never values. `${KURZ_API_KEY}` and
`${KURZ_REDIS_PASSWORD}` (in env values and args) are filled from the environment when a definition
is rendered or deployed (`fill`), so a shared cluster never runs kurz with the defaults of a laptop:
links and monolith require the API key for listing and deleting (and it exempts bulk seeding from
the creation limit), Redis requires its password (`--requirepass`), and the services name it in
REDIS_URL (`redis://:<password>@host:port`).

With `dcos=True` (DC/OS, `--dcos-secrets`), an env value that is exactly one placeholder becomes a
reference to a DC/OS secret instead (`"env": {"API_KEY": {"secret": "kurz-api-key"}}` plus
`"secrets": {"kurz-api-key": {"source": "kurz/api-key"}}`): the value never leaves DC/OS's secret
store. Placeholders inside a longer value (REDIS_URL) or in args (Redis's `--requirepass`) cannot be
secret references in Marathon, so they are always filled from the environment.

The validator (validation.py) refuses a definition whose API_KEY or Redis password is a literal
value, or missing.
"""
import copy
import re

from . import definitions

PLACEHOLDER = re.compile(r"\$\{(KURZ_[A-Z0-9_]+)\}")
KNOWN = {
    "KURZ_API_KEY": "the API key of links and the monolith (kurz/api-key as a DC/OS secret)",
    "KURZ_REDIS_PASSWORD": "the password Redis requires (kurz/redis-password as a DC/OS secret)",
}
VALUE = re.compile(r"[A-Za-z0-9._~-]{16,128}")  # URL-safe: the password goes into REDIS_URL
HINT = "e.g. export KURZ_API_KEY=$(openssl rand -hex 24) KURZ_REDIS_PASSWORD=$(openssl rand -hex 24)"


class CredentialError(Exception):
    """A placeholder without a usable value (the message names every one)."""


def placeholders(definition):
    """The sorted names of every placeholder the definition uses."""
    found = set()

    def walk(item):
        if isinstance(item, dict):
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)
        elif isinstance(item, str):
            found.update(PLACEHOLDER.findall(item))
    walk(definition)
    return sorted(found)


def secret_name(variable):
    """KURZ_API_KEY -> ("kurz-api-key", "kurz/api-key")."""
    short = variable[len("KURZ_"):].lower().replace("_", "-")
    return "kurz-" + short, "kurz/" + short


def fill(definition, env, dcos=False):
    """A copy of the definition with every placeholder replaced (see the module's text)."""
    needed = placeholders(definition)
    if not needed:
        return definition
    doc = copy.deepcopy(definition)
    if dcos:
        for _, app, _, _ in definitions.walk(doc):
            for name, value in list((app.get("env") or {}).items()):
                match = PLACEHOLDER.fullmatch(value) if isinstance(value, str) else None
                if match:
                    ref, source = secret_name(match.group(1))
                    app["env"][name] = {"secret": ref}
                    app.setdefault("secrets", {})[ref] = {"source": source}
        needed = placeholders(doc)
    problems = []
    for variable in needed:
        value = env.get(variable, "")
        if not value:
            problems.append("%s is not set (%s)" % (variable, KNOWN.get(variable, "a placeholder")))
        elif not VALUE.fullmatch(value):
            problems.append("%s must be 16 to 128 characters of A-Z a-z 0-9 . _ ~ - (it goes into a "
                            "redis:// URL)" % variable)
    if problems:
        raise CredentialError("; ".join(problems) + "; " + HINT)

    def replace(item):
        if isinstance(item, dict):
            return {k: replace(v) for k, v in item.items()}
        if isinstance(item, list):
            return [replace(v) for v in item]
        if isinstance(item, str):
            return PLACEHOLDER.sub(lambda m: env[m.group(1)], item)
        return item
    return replace(doc)
