"""Layer 1: Marathon's JSON Schema (schema/AppDefinition.json and schema/Group.json, v1.7.236,
draft-04), apps nested in groups included. Each schema error is reported on the deepest app or group
that holds it. Needs Debian's python3-jsonschema.
"""
import json
import os

from . import definitions
from .problems import Layer, short

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema")
SCHEMA_BASE = ("https://raw.githubusercontent.com/mesosphere/marathon/master/docs/docs/rest-api/"
               "public/api/v2/schema/")


def _load_schemas():
    with open(os.path.join(SCHEMA_DIR, "AppDefinition.json"), encoding="utf-8") as f:
        app_schema = json.load(f)
    with open(os.path.join(SCHEMA_DIR, "Group.json"), encoding="utf-8") as f:
        group_schema = json.load(f)
    return app_schema, group_schema


def _validators():
    import jsonschema  # Debian's python3-jsonschema

    app_schema, group_schema = _load_schemas()
    store = {SCHEMA_BASE + "AppDefinition.json": app_schema, SCHEMA_BASE + "Group.json": group_schema,
             group_schema["id"]: group_schema}
    app_resolver = jsonschema.RefResolver(SCHEMA_BASE + "AppDefinition.json", app_schema, store=store)
    group_resolver = jsonschema.RefResolver(group_schema["id"], group_schema, store=store)
    return (jsonschema.Draft4Validator(app_schema, resolver=app_resolver),
            jsonschema.Draft4Validator(group_schema, resolver=group_resolver))


_VALIDATORS = None


def _schema_message(error):
    if error.validator == "not" and isinstance(error.instance, dict) and \
            "cmd" in error.instance and "args" in error.instance:
        return "schema: 'cmd' and 'args' cannot both be set"
    if error.validator in ("oneOf", "anyOf"):
        return "schema: %s is not valid under any of the allowed forms" % short(error.instance)
    if error.validator == "enum":
        return "schema: %s is not one of %s" % (short(error.instance), short(error.validator_value))
    if error.validator == "pattern":
        return "schema: %s does not match %s" % (short(error.instance), error.validator_value)
    message = error.message
    return "schema: " + (message if len(message) <= 160 else message[:157] + "...")


class JsonSchema(Layer):
    """Marathon's JSON Schema over an app or a group."""

    def check(self):
        global _VALIDATORS
        if _VALIDATORS is None:
            _VALIDATORS = _validators()
        app_validator, group_validator = _VALIDATORS
        group = definitions.is_group(self.definition)
        validator = group_validator if group else app_validator
        apps = {path: app_id for app_id, _, _, path in definitions.walk(self.definition)}
        groups = dict(definitions.group_paths(self.definition, (), "/"))
        for error in sorted(validator.iter_errors(self.definition), key=lambda e: list(e.absolute_path)):
            where = tuple(error.absolute_path)
            owner, inner = self._owner(where, apps, groups)
            self.add(owner, inner, _schema_message(error))

    def _owner(self, where, apps, groups):
        """(id, path inside it) for a schema error at `where` (the deepest app or group)."""
        for cut in range(len(where), -1, -1):
            if where[:cut] in apps:
                return apps[where[:cut]], where[cut:]
            if where[:cut] in groups:
                return groups[where[:cut]], where[cut:]
        return str(self.definition.get("id", "/")), where
