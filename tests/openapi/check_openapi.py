#!/usr/bin/python3
"""Checks a running kurz server against docs/openapi.yaml.

    check_openapi.py --spec docs/openapi.yaml --base-url http://127.0.0.1:8080
    check_openapi.py --spec docs/openapi.yaml --self-test

Every operation (path x method) in the spec has scenarios in SCENARIOS below: a concrete request,
the status it must get, and for errors the expected `error.code`. Each answer is checked against
the spec: the status is documented for the operation, the content type is a documented one, the
documented tracing/protocol headers are present, and JSON bodies validate against the documented
schema (jsonschema's Draft 4 validator; see "Validating bodies" below for the OpenAPI mapping).

One line per request: `ok   GET /api/links 200 (first page)` or `FAIL ... reason`. Exits 1 if any
check failed or if an operation of the spec was never exercised, 2 on a usage or spec error.

--self-test needs no server: it parses the spec, lists every operation with its planned requests,
and checks statically that every operation has a scenario and every expected status is documented.

Standard library, PyYAML and jsonschema (Debian: python3-yaml, python3-jsonschema).
"""

import argparse
import datetime as dt
import importlib.metadata
import json
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

try:
    import jsonschema  # Debian's python3-jsonschema
except ImportError:  # pragma: no cover - depends on the host
    sys.exit("check_openapi.py needs jsonschema: install Debian's python3-jsonschema")

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Headers that must be present whenever the spec documents them on a response.
REQUIRED_HEADERS = ("x-instance-id", "x-request-id", "location", "allow", "etag",
                    "content-security-policy")


# ---- Spec helpers ----------------------------------------------------------------------------

class Spec:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        if not isinstance(self.doc, dict) or not str(self.doc.get("openapi", "")).startswith("3."):
            raise ValueError(f"{path}: not an OpenAPI 3 document")

    def resolve(self, node):
        """Follows a local $ref (possibly a chain of them)."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                raise ValueError(f"unsupported or cyclic $ref {ref}")
            seen.add(ref)
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def operations(self):
        """[(METHOD, template)] in document order."""
        ops = []
        for template, item in self.doc.get("paths", {}).items():
            for method in METHODS:
                if method in item:
                    ops.append((method.upper(), template))
        return ops

    def responses(self, method, template):
        """{status string: resolved response object} of one operation."""
        op = self.doc["paths"][template][method.lower()]
        return {str(k): self.resolve(v) for k, v in op.get("responses", {}).items()}

    def component_response(self, name):
        return self.resolve({"$ref": f"#/components/responses/{name}"})

    def json_schema(self, schema, depth=0):
        """The OpenAPI 3.0 schema as plain JSON Schema: $refs inlined, nullable as a type list."""
        if depth > 40:
            raise ValueError("schema nested too deeply (cycle?)")
        schema = self.resolve(schema)
        if isinstance(schema, list):
            return [self.json_schema(s, depth + 1) for s in schema]
        if not isinstance(schema, dict):
            return schema
        out = {}
        for key, value in schema.items():
            if key in ("example", "examples", "xml", "externalDocs", "discriminator", "nullable",
                       "readOnly", "writeOnly", "deprecated", "description"):
                continue
            if key in ("properties", "patternProperties"):
                out[key] = {k: self.json_schema(v, depth + 1) for k, v in value.items()}
            elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
                out[key] = self.json_schema(value, depth + 1)
            elif key in ("allOf", "anyOf", "oneOf"):
                out[key] = [self.json_schema(v, depth + 1) for v in value]
            else:
                out[key] = value
        if schema.get("nullable"):
            if "type" in out:
                out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = list(out["enum"]) + [None]
        return out


# ---- Validating bodies: jsonschema's Draft 4 validator with OpenAPI's formats -------------------
# An OpenAPI 3.0 Schema Object is JSON Schema of the draft-04 family (Wright draft 00) with a few
# changes, mapped here: Spec.json_schema inlines the local $refs, turns `nullable: true` into a type
# list with "null" (and None in an enum), and drops OpenAPI's annotations (example, examples, xml,
# externalDocs, discriminator, readOnly, writeOnly, deprecated, description). What remains is draft 4
# (single `type`, boolean exclusiveMinimum/exclusiveMaximum, an integer is not 1.0), so
# Draft4Validator. The formats the spec uses are checked by the functions below, registered on the
# validator's FormatChecker: jsonschema checks date-time and uri only when optional packages are
# installed, and its draft 4 checker knows no `date`. Other formats (binary) are annotations.

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_date_time(value):
    if not isinstance(value, str):
        return True  # formats apply to strings only
    if not RFC3339.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_date(value):
    if not isinstance(value, str):
        return True
    if not DATE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_uri(value):
    if not isinstance(value, str):
        return True
    parts = urllib.parse.urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc or parts.path)


def format_checker():
    checker = jsonschema.FormatChecker(())  # only the formats below, whatever else is installed
    for name, check in (("date-time", is_date_time), ("date", is_date), ("uri", is_uri)):
        checker.checks(name)(check)
    return checker


FORMATS = format_checker()


def validate_body(schema, value):
    """Problems found in `value` against the (already converted) JSON Schema `schema`, one line
    each: `$['items'][0]['code']: 'x' does not match '...'`."""
    validator = jsonschema.Draft4Validator(schema, format_checker=FORMATS)
    problems = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
        path = "$" + "".join(f"[{p!r}]" for p in error.absolute_path)
        problems.append(f"{path}: {error.message}")
    return problems


# ---- Scenarios -------------------------------------------------------------------------------

class Scenario:
    """One planned request.

    op:      (METHOD, template) of the spec operation it exercises, or None for a check that
             belongs to no operation (unknown path, wrong method); then `doc` names the
             components/responses entry that documents the answer.
    path:    the concrete path; `{name}` is filled from the run's context (see Runner.ctx).
    expect:  the status it must get (it must also be documented); `error`: the expected
             error.code for JSON errors.
    """

    def __init__(self, name, op, expect, path=None, method=None, query=None, headers=None,
                 body=None, raw=None, content_type=None, error=None, doc=None, check=None,
                 save=None):
        self.name, self.op, self.expect, self.error, self.doc = name, op, expect, error, doc
        self.method = method or (op[0] if op else "GET")
        self.path = path or (op[1] if op else "/")
        self.query, self.headers = query or {}, headers or {}
        self.body, self.raw, self.content_type = body, raw, content_type
        self.check, self.save = check, save


def rfc3339(moment):
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def save_code(key):
    def save(ctx, resp):
        if resp.status == 201 and isinstance(resp.json, dict) and "code" in resp.json:
            ctx[key] = resp.json["code"]
            ctx[key + "_url"] = resp.json.get("url")
    return save


def check_created(slug, url):
    def check(ctx, resp):
        body, problems = resp.json or {}, []
        if body.get("code") != ctx[slug]:
            problems.append(f"code {body.get('code')!r} != slug {ctx[slug]!r}")
        if body.get("url") != url:
            problems.append(f"url {body.get('url')!r} != {url!r}")
        loc = resp.header("location")
        if loc is not None and not loc.endswith(f"/api/links/{ctx[slug]}"):
            problems.append(f"Location {loc!r} is not /api/links/{ctx[slug]}")
        return problems
    return check


def check_redirect(ctx, resp):
    loc = resp.header("location")
    return [] if loc == ctx.get("code_url") else [f"Location {loc!r} != {ctx.get('code_url')!r}"]


def check_location(want):
    def check(ctx, resp):
        loc = resp.header("location")
        return [] if loc == want else [f"Location {loc!r} != {want!r}"]
    return check


def check_expired(want):
    def check(ctx, resp):
        got = (resp.json or {}).get("expired")
        return [] if got is want else [f"expired {got!r}, expected {want!r}"]
    return check


def check_allow(*methods):
    def check(ctx, resp):
        allow = {m.strip().upper() for m in (resp.header("allow") or "").split(",")}
        missing = [m for m in methods if m not in allow]
        return [f"Allow {resp.header('allow')!r} lacks {', '.join(missing)}"] if missing else []
    return check


def check_png(ctx, resp):
    return [] if resp.body.startswith(b"\x89PNG\r\n\x1a\n") else ["body is not a PNG"]


def check_svg(ctx, resp):
    return [] if b"<svg" in resp.body[:512] else ["body is not an SVG document"]


def check_page_size(limit):
    def check(ctx, resp):
        items = (resp.json or {}).get("items", [])
        return [f"{len(items)} items > limit {limit}"] if len(items) > limit else []
    return check


def save_cursor(ctx, resp):
    if isinstance(resp.json, dict) and resp.json.get("nextCursor"):
        ctx["cursor"] = resp.json["nextCursor"]


def save_etag(ctx, resp):
    if resp.header("etag"):
        ctx["etag"] = resp.header("etag")


def check_stats(ctx, resp):
    body = resp.json or {}
    return [] if body.get("code") == ctx["code"] else [f"code {body.get('code')!r} != {ctx['code']!r}"]


def build_scenarios():
    links, link = ("POST", "/api/links"), "/api/links/{code}"
    lst = ("GET", "/api/links")
    get_link, del_link = ("GET", link), ("DELETE", link)
    follow, stats, top = ("GET", "/{code}"), ("GET", "/api/stats/{code}"), ("GET", "/api/stats/top")
    svg, png = ("GET", "/qr/{code}.svg"), ("GET", "/qr/{code}.png")
    static = ("GET", "/static/{path}")
    target = "https://example.com/kurz/openapi-check?x=1"
    idn_target = "https://b\u00fccher.example/stra\u00dfe?q=\u00fc"
    return [
        # Set-up: the links the other scenarios use.
        Scenario("create", links, 201, body=lambda c: {"url": target, "slug": c["slug"]},
          check=check_created("slug", target), save=save_code("code")),
        Scenario("create to delete", links, 201,
          body=lambda c: {"url": "http://example.org/", "slug": c["slug_del"]},
          save=save_code("code_del")),
        Scenario("create expiring", links, 201,
          body=lambda c: {"url": "https://example.net/", "slug": c["slug_exp"],
                          "expiresAt": c["expires_at"]},
          save=save_code("code_exp")),
        Scenario("create without slug", links, 201, body={"url": "https://example.com/generated"}),
        Scenario("create IDN", links, 201, body={"url": idn_target},
          check=lambda c, r: [] if (r.json or {}).get("url") == idn_target else ["url changed"],
          save=save_code("code_idn")),
        # POST /api/links errors.
        Scenario("slug taken", links, 409, body=lambda c: {"url": target, "slug": c["slug"]},
          error="slug_taken"),
        Scenario("malformed JSON", links, 400, raw=b'{"url": ', error="invalid_json"),
        Scenario("not an object", links, 400, raw=b'["https://example.com/"]',
                 error="invalid_request"),
        Scenario("unknown field", links, 400, body={"url": target, "slg": "typo"},
          error="unknown_field"),
        Scenario("IDN host without an A-label", links, 400, body={"url": "https://a\u2603b.example/"},
          error="invalid_url"),
        Scenario("url missing", links, 400, body={"slug": "no-url-here"}, error="invalid_request"),
        Scenario("url wrong type", links, 400, body={"url": 42}, error="invalid_request"),
        Scenario("javascript: url", links, 400, body={"url": "javascript:alert(1)"},
          error="invalid_url"),
        Scenario("relative url", links, 400, body={"url": "/just/a/path"}, error="invalid_url"),
        Scenario("url too long", links, 400,
          body={"url": "https://example.com/" + "a" * 2100}, error="invalid_url"),
        Scenario("bad slug", links, 400, body={"url": target, "slug": "a/b"}, error="invalid_slug"),
        Scenario("reserved slug", links, 400, body={"url": target, "slug": "api"},
          error="slug_reserved"),
        Scenario("expiry in the past", links, 400,
          body={"url": target, "expiresAt": "2000-01-01T00:00:00Z"}, error="invalid_expiry"),
        Scenario("expiry not RFC 3339", links, 400,
          body={"url": target, "expiresAt": "tomorrow"}, error="invalid_expiry"),
        Scenario("form body", links, 415, raw=b"url=https%3A%2F%2Fexample.com%2F",
          content_type="application/x-www-form-urlencoded", error="unsupported_media_type"),
        Scenario("huge body", links, 413,
          raw=b'{"url": "https://example.com/?' + b"a" * (1 << 20) + b'"}',
          error="payload_too_large"),
        # GET /api/links.
        Scenario("first page", lst, 200, query={"limit": "1"}, check=check_page_size(1),
          save=save_cursor),
        Scenario("default page", lst, 200),
        Scenario("next page", lst, 200, query={"limit": "1", "cursor": "{cursor}"},
          check=check_page_size(1)),
        Scenario("limit 0", lst, 400, query={"limit": "0"}, error="invalid_parameter"),
        Scenario("limit 101", lst, 400, query={"limit": "101"}, error="invalid_parameter"),
        Scenario("limit not a number", lst, 400, query={"limit": "ten"}, error="invalid_parameter"),
        Scenario("forged cursor", lst, 400, query={"cursor": "not-a-cursor!"}, error="invalid_cursor"),
        # GET /api/links/{code}.
        Scenario("get", get_link, 200, path=link, check=check_expired(False)),
        Scenario("unknown code", get_link, 404, path="/api/links/{missing}", error="not_found"),
        # GET /{code}.
        Scenario("redirect", follow, 302, path="/{code}", check=check_redirect),
        Scenario("redirect IDN as a URI", follow, 302, path="/{code_idn}",
          check=check_location("https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%BC")),
        Scenario("unknown code", follow, 404, path="/{missing}"),
        # Stats.
        Scenario("stats", stats, 200, path="/api/stats/{code}", check=check_stats),
        Scenario("unknown code", stats, 404, path="/api/stats/{missing}", error="not_found"),
        Scenario("top", top, 200, query={"limit": "3"}, check=check_page_size(3)),
        Scenario("top default", top, 200),
        Scenario("limit 0", top, 400, query={"limit": "0"}, error="invalid_parameter"),
        Scenario("limit 101", top, 400, query={"limit": "101"}, error="invalid_parameter"),
        # QR codes.
        Scenario("svg", svg, 200, path="/qr/{code}.svg", check=check_svg),
        Scenario("unknown code", svg, 404, path="/qr/{missing}.svg", error="not_found"),
        Scenario("png", png, 200, path="/qr/{code}.png", check=check_png),
        Scenario("png scale 2", png, 200, path="/qr/{code}.png", query={"scale": "2"},
                 check=check_png),
        Scenario("scale 0", png, 400, path="/qr/{code}.png", query={"scale": "0"},
          error="invalid_parameter"),
        Scenario("scale 33", png, 400, path="/qr/{code}.png", query={"scale": "33"},
          error="invalid_parameter"),
        Scenario("unknown code", png, 404, path="/qr/{missing}.png", error="not_found"),
        # Web UI.
        Scenario("page", ("GET", "/"), 200),
        Scenario("page by name", ("GET", "/index.html"), 200),
        Scenario("asset", static, 200, path="/static/app.js", save=save_etag),
        Scenario("asset not modified", static, 304, path="/static/app.js",
          headers={"If-None-Match": "{etag}"}),
        Scenario("unknown asset", static, 404, path="/static/nope.js", error="not_found"),
        Scenario("dot-dot", static, 404, path="/static/%2e%2e%2Findex.html", error="not_found"),
        # Operations.
        Scenario("live", ("GET", "/health/live"), 200),
        Scenario("ready", ("GET", "/health/ready"), 200),
        Scenario("metrics", ("GET", "/metrics"), 200),
        Scenario("info", ("GET", "/info"), 200),
        Scenario("info of a service", ("GET", "/info/{service}"), 200, path="/info/links"),
        Scenario("info of no service", ("GET", "/info/{service}"), 404, path="/info/nope",
                 error="not_found"),
        # Delete last, then check that the link is gone.
        Scenario("delete", del_link, 204, path="/api/links/{code_del}"),
        Scenario("delete again", del_link, 404, path="/api/links/{code_del}", error="not_found"),
        Scenario("deleted is gone", get_link, 404, path="/api/links/{code_del}", error="not_found"),
        Scenario("deleted is gone", follow, 404, path="/{code_del}"),
        # Paths and methods the API does not have.
        Scenario("unknown path", None, 404, path="/api/no/such/path", doc="NotFound",
                 error="not_found"),
        Scenario("wrong method", None, 405, method="PUT", path="/api/links", doc="MethodNotAllowed",
          body={"url": target}, error="method_not_allowed", check=check_allow("GET", "POST")),
        Scenario("wrong method", None, 405, method="PATCH", path="/api/links/{code}",
          doc="MethodNotAllowed", body={}, error="method_not_allowed",
          check=check_allow("GET", "DELETE")),
        Scenario("wrong method", None, 405, method="POST", path="/health/live", doc="MethodNotAllowed",
          raw=b"", error="method_not_allowed", check=check_allow("GET")),
        # Needs the expiring link's expiry to have passed: the runner waits for it.
        Scenario("expired", follow, 410, path="/{code_exp}"),
        Scenario("expired", svg, 410, path="/qr/{code_exp}.svg", error="gone"),
        Scenario("expired", png, 410, path="/qr/{code_exp}.png", error="gone"),
        Scenario("expired link", get_link, 200, path="/api/links/{code_exp}",
                 check=check_expired(True)),
    ]


# ---- Running ---------------------------------------------------------------------------------

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx surfaces as an HTTPError, which is read like any answer


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        self.json = None
        self.json_error = None
        if self.media_type() == "application/json" and body:
            try:
                self.json = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                self.json_error = str(e)

    def header(self, name):
        return self.headers.get(name)

    def media_type(self):
        return (self.header("content-type") or "").split(";")[0].strip().lower()


def fill(text, ctx):
    return re.sub(r"\{(\w+)\}", lambda m: urllib.parse.quote(str(ctx[m.group(1)]), safe=""), text)


def needed(scenario):
    keys = set(re.findall(r"\{(\w+)\}", scenario.path))
    for value in list(scenario.query.values()) + list(scenario.headers.values()):
        keys |= set(re.findall(r"\{(\w+)\}", value))
    return keys


class Runner:
    def __init__(self, spec, base_url, api_key, timeout):
        self.spec, self.base, self.api_key, self.timeout = spec, base_url.rstrip("/"), api_key, timeout
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())
        run = f"{int(time.time()) % 1000000:06d}{secrets.token_hex(3)}"
        expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=3)
        self.ctx = {
            "slug": f"oa-{run}", "slug_del": f"oa-del-{run}", "slug_exp": f"oa-exp-{run}",
            "missing": f"oa-missing-{run}", "expires_at": rfc3339(expires),
        }
        self.expires = expires
        self.failures = 0
        self.exercised = set()

    def request(self, scenario):
        url = self.base + fill(scenario.path, self.ctx)
        if scenario.query:
            query = {k: v.format(**self.ctx) for k, v in scenario.query.items()}
            url += "?" + urllib.parse.urlencode(query)
        data = scenario.raw
        headers = {"Accept": "*/*", "User-Agent": "kurz-openapi-check"}
        if scenario.body is not None:
            body = scenario.body(self.ctx) if callable(scenario.body) else scenario.body
            data = json.dumps(body).encode("utf-8")
        if data is not None:
            headers["Content-Type"] = scenario.content_type or "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        headers.update({k: v.format(**self.ctx) for k, v in scenario.headers.items()})
        req = urllib.request.Request(url, data=data, method=scenario.method, headers=headers)
        try:
            with self.opener.open(req, timeout=self.timeout) as resp:
                return Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as e:
            with e:
                return Response(e.code, e.headers, e.read())

    def verify(self, scenario, resp):
        problems = []
        if scenario.op is not None:
            responses = self.spec.responses(*scenario.op)
            doc = responses.get(str(resp.status)) or responses.get(f"{str(resp.status)[0]}XX") \
                or responses.get("default")
        else:
            doc = self.spec.component_response(scenario.doc) \
                if resp.status == scenario.expect else None
        if doc is None:
            return [f"not documented (expected {scenario.expect})"]
        if resp.status != scenario.expect:
            problems.append(f"expected {scenario.expect}")
        for name, header in (doc.get("headers") or {}).items():
            if name.lower() in REQUIRED_HEADERS and resp.header(name) is None:
                problems.append(f"missing header {name}")
        content = doc.get("content") or {}
        if not content:
            if resp.body:
                problems.append(f"{len(resp.body)}-byte body where none is documented")
        else:
            types = {k.split(";")[0].strip().lower(): v for k, v in content.items()}
            media = types.get(resp.media_type())
            if media is None:
                problems.append(f"Content-Type {resp.header('content-type')!r} not in "
                                f"{sorted(content)}")
            elif resp.media_type() == "application/json":
                if resp.json_error is not None or resp.json is None:
                    problems.append(f"invalid JSON body: {resp.json_error or 'empty'}")
                elif "schema" in media:
                    problems += validate_body(self.spec.json_schema(media["schema"]), resp.json)
        if scenario.error and isinstance(resp.json, dict):
            got = (resp.json.get("error") or {}).get("code") if isinstance(
                resp.json.get("error"), dict) else None
            if got != scenario.error:
                problems.append(f"error.code {got!r}, expected {scenario.error!r}")
        if scenario.check and not problems and resp.status == scenario.expect:
            problems += scenario.check(self.ctx, resp)
        return problems

    def report(self, ok, scenario, status, detail=""):
        if scenario.op:
            label = f"{scenario.op[0]} {scenario.op[1]}"
        else:
            label = f"{scenario.method} {scenario.path} [{scenario.doc}]"
        line = f"{'ok  ' if ok else 'FAIL'} {label} {status} ({scenario.name})"
        print(line + (f": {detail}" if detail else ""), flush=True)
        if not ok:
            self.failures += 1

    def run(self, scenarios):
        for scenario in scenarios:
            if scenario.expect == 410 and "{code_exp}" in scenario.path:
                wait = (self.expires - dt.datetime.now(dt.timezone.utc)).total_seconds() + 1.0
                if wait > 0:
                    time.sleep(wait)
            missing = sorted(k for k in needed(scenario) if k not in self.ctx)
            if missing:
                self.report(False, scenario, "-", f"skipped, set-up failed (no {', '.join(missing)})")
                continue
            try:
                resp = self.request(scenario)
            except (urllib.error.URLError, OSError) as e:
                self.report(False, scenario, "-", f"request failed: {e}")
                continue
            if scenario.op is not None:
                self.exercised.add(scenario.op)
            problems = self.verify(scenario, resp)
            self.report(not problems, scenario, resp.status, "; ".join(problems))
            if scenario.save and resp.status == scenario.expect:  # later scenarios may still run
                scenario.save(self.ctx, resp)
        for op in self.spec.operations():
            if op not in self.exercised:
                print(f"FAIL {op[0]} {op[1]} never exercised", flush=True)
                self.failures += 1
        return self.failures


def self_test(spec, scenarios):
    """Static checks only: coverage and expected statuses against the spec."""
    problems = 0
    ops = spec.operations()
    by_op = {op: [scenario for scenario in scenarios if scenario.op == op] for op in ops}
    print(f"{len(ops)} operations in the spec, {len(scenarios)} planned requests")
    for op, planned in by_op.items():
        documented = spec.responses(*op)
        print(f"{op[0]} {op[1]}  documents {', '.join(sorted(documented))}")
        for resp in documented.values():  # every schema must convert to a valid draft 4 schema
            for media in (resp.get("content") or {}).values():
                if "schema" in media:
                    try:
                        jsonschema.Draft4Validator.check_schema(spec.json_schema(media["schema"]))
                    except jsonschema.SchemaError as e:
                        print(f"  FAIL a response schema of {op[0]} {op[1]}: {e.message}")
                        problems += 1
        if not planned:
            print(f"  FAIL no scenario exercises {op[0]} {op[1]}")
            problems += 1
        for scenario in planned:
            query = "&".join(f"{k}={v}" for k, v in scenario.query.items())
            query = "?" + query if query else ""
            mark = "   " if str(scenario.expect) in documented else "!! "
            print(f"  {mark}{scenario.method} {scenario.path}{query} -> {scenario.expect}"
                  f"{' ' + scenario.error if scenario.error else ''} ({scenario.name})")
            if mark.strip():
                print(f"  FAIL expected status {scenario.expect} is not documented")
                problems += 1
            elif scenario.error and \
                    scenario.error not in yaml.safe_dump(documented[str(scenario.expect)]):
                print(f"  FAIL error code {scenario.error} is not documented on {scenario.expect}")
                problems += 1
    print("requests outside the operations:")
    for scenario in (scenario for scenario in scenarios if scenario.op is None):
        component = (spec.doc.get("components", {}).get("responses") or {}).get(scenario.doc)
        ok = component is not None and \
            (not scenario.error or scenario.error in yaml.safe_dump(component))
        print(f"  {'   ' if ok else '!! '}{scenario.method} {scenario.path} -> {scenario.expect} "
              f"{scenario.error or ''} "
              f"[components/responses/{scenario.doc}] ({scenario.name})")
        if not ok:
            problems += 1
    for scenario in scenarios:
        if scenario.op is not None and scenario.op not in by_op:
            print(f"FAIL scenario {scenario.name!r} targets {scenario.op}, "
                  "which the spec does not have")
            problems += 1
    print("validator: jsonschema %s, Draft4Validator" % importlib.metadata.version("jsonschema"))
    print("self-test " + ("passed" if problems == 0 else f"FAILED ({problems} problems)"))
    return 1 if problems else 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", required=True, help="path to openapi.yaml")
    parser.add_argument("--base-url", help="the running server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--api-key", help="sent as a bearer token, if the server requires one")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--self-test", action="store_true",
                        help="only parse the spec and list the planned requests")
    args = parser.parse_args(argv)
    try:
        spec = Spec(args.spec)
        scenarios = build_scenarios()
        if args.self_test:
            return self_test(spec, scenarios)
        if not args.base_url:
            parser.error("--base-url is required unless --self-test")
        failures = Runner(spec, args.base_url, args.api_key, args.timeout).run(scenarios)
    except (OSError, ValueError, KeyError, yaml.YAMLError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{failures} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
