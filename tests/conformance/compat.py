#!/usr/bin/env python3
"""Generates docs/compatibility.md: every RealtimeKit endpoint of the current Python SDK, whether
rtk serves it, and which SDK generations the conformance suites verified it with.

Inputs (nothing here is written by hand but the short notes in NOTES below):

- the endpoint lists of the SDKs the suites pin: `api.md` of `cloudflare` in each Python
  virtualenv (`.venv-X.Y.Z`, made by run.sh) and of the TypeScript package in
  `node/node_modules`; the newest Python SDK's list is the list of rows;
- the response models of the Python SDKs, read inside each virtualenv, compared field by field
  to find where the generations disagree;
- what rtk serves: `/openapi.json` of a short-lived `rtk serve` (`--rtk-bin`, default `$RTK_BIN`
  or target/debug/rtk);
- the suites' JUnit reports (`--results`, default `.results/`, written by run.sh):
  `python-X.Y.Z.xml` (pytest; each test case carries `sdk_call` properties) and
  `node-X.Y.Z.xml` (node --test; each test case is followed by `sdk-call` comments). A call is
  logged `group.method ok` when it returned (Python: through a strict client, so the SDK
  validated the response), `lenient` when it returned through a lenient client, and
  `error:STATUS` when the server answered an error. An endpoint counts as verified by a
  generation when a test that passed logged an `ok` call of it.

Usage: python3 tests/conformance/compat.py [--results DIR] [--out FILE] [--rtk-bin PATH]
(stdlib only; run.sh runs it after the suites).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
KIT = "/accounts/{account_id}/realtime/kit"

# What the models cannot say: how rtk meets a disagreement, and request-side differences.
# Keyed by the Python method name (group.method); "group.*" applies to the whole group.
NOTES = {
    "presets.*": "`permissions.plugins.config` has no value both generations accept (5.0.0: a string or one "
    "`{access_control, handles_view_only}` object; 5.9.0 and TS: a map from plugin id to such objects). rtk returns "
    "a preset as it was written, so a strict client reads it only in its own generation's form; every other "
    "difference is met by one document (tests/conformance/NOTES.md).",
    "sessions.get_session_details": "5.0.0 reads the session as `data.session`, 5.9.0 and TS flat under `data`: "
    "rtk sends both, the same fields twice.",
    "sessions.get_participant_data_from_peer_id": "`peer_report.metadata.browser_metadata.webgl_support` is a "
    "string in 5.0.0 and a boolean in 5.9.0: rtk leaves it out. `include_peer_events` is new in 5.9.0.",
    "sessions.get_session_participant_details": "5.0.0 models `peer_stats` (rtk fills `device_info`) and takes "
    "`filters`; 5.9.0 models `peer_events`. rtk sends both.",
    "sessions.get_sessions": "The top-level `paging` is modelled in 5.9.0 only (an extra field in 5.0.0); rtk "
    "always sends it.",
    "sessions.get_session_participants": "Neither generation models `paging`; rtk sends it as an extra field. "
    "`per_page` is a number in 5.0.0 and an integer in 5.9.0.",
    "active_session.kick_participants": "5.0.0 requires both `participant_ids` and `custom_participant_ids` (so "
    "it always sends both lists), 5.9.0 and TS make both optional: rtk takes either list alone, or both.",
    "active_session.get_active_session": "5.0.0 models a `meta` object, 5.9.0 does not; rtk sends `meta: {}`.",
    "apps.get": "5.0.0 takes no query parameters and models no `paging` (rtk sends it as an extra field).",
    "meetings.get": "The `status` filter is new in 5.9.0.",
    "livestreams.get_livestream_analytics_complete": "`start_time` and `end_time` are ISO date-times in 5.0.0 "
    "but integers in 5.9.0: rtk accepts both (Unix seconds, or an RFC 3339 time).",
    "livestreams.get_active_livestreams_for_livestream_id": "The session's seconds are strings here, integers in "
    "the session details and numbers in the livestream's sessions, as the models type them: rtk sends each form "
    "where it is modelled.",
}

# The response models of the installed SDK, flattened: {response module: {path: [atoms]}}.
# A path segment ends in `!` when the field is required. Atoms: str, int, float, bool,
# datetime, any, obj, list, map, and lit:VALUE for each literal.
MODEL_DUMP = r"""
import datetime, importlib, inspect, json, pkgutil, sys, typing
import cloudflare.types.realtime_kit as types
from pydantic import BaseModel

out = {}

def is_model(tp):
    return inspect.isclass(tp) and issubclass(tp, BaseModel)

def atoms(tp, path, into, depth, loose=False):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union or (origin is not None and getattr(origin, "__name__", "") == "UnionType"):
        # In a union of several models, a field one member requires is not required.
        several = sum(1 for a in args if is_model(a)) > 1
        for a in args:
            if a is not type(None):
                atoms(a, path, into, depth, loose or several)
    elif origin is typing.Literal:
        into.update(f"lit:{v}" for v in args)
    elif origin in (list, typing.List):
        into.add("list")
        walk(args[0], path + "[]", depth)
    elif origin in (dict, typing.Dict):
        into.add("map")
        walk(args[1], path + "{}", depth)
    elif is_model(tp):
        into.add("obj")
        if depth < 16:
            for name, f in tp.model_fields.items():
                required = f.is_required() and not loose
                walk(f.annotation, f"{path}.{f.alias or name}{'!' if required else ''}", depth + 1)
    elif tp in (str, int, float, bool):
        into.add(tp.__name__)
    elif tp in (datetime.datetime, datetime.date):
        into.add("datetime")
    else:
        into.add("any")

def walk(tp, path, depth):
    into = out.setdefault(module, {}).setdefault(path, set())
    atoms(tp, path, into, depth)

for m in pkgutil.iter_modules(types.__path__):
    if not m.name.endswith("_response"):
        continue
    mod = importlib.import_module(f"{types.__name__}.{m.name}")
    for name, obj in vars(mod).items():
        if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj.__module__ == mod.__name__ and name.endswith("Response"):
            module = m.name
            walk(obj, "", 0)
json.dump({m: {p: sorted(a) for p, a in paths.items()} for m, paths in out.items()}, sys.stdout)
"""


@dataclass
class Endpoint:
    group: str  # as the SDK names it (Python: active_session; TS: activeSession)
    name: str  # the method
    http: str  # GET, POST, ...
    path: str  # under /accounts/{account_id}/realtime/kit
    response: "str | None" = None  # Python: the response model's module

    @property
    def key(self) -> str:
        return f"{self.group}.{self.name}"

    @property
    def route(self) -> "tuple[str, str]":
        return self.http, norm(KIT + self.path)


@dataclass
class Sdk:
    lang: str  # Python | TypeScript
    version: str
    endpoints: "list[Endpoint]"
    models: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{'py' if self.lang == 'Python' else 'TS'} {self.version}"

    def by_route(self, group_of) -> "dict[tuple, Endpoint]":
        return {(group_of(e.group), *e.route): e for e in self.endpoints}


@dataclass
class TestCase:
    name: str
    outcome: str  # passed | failed | skipped | xfailed | todo
    reason: str = ""
    calls: "set[tuple[str, str]]" = field(default_factory=set)  # (group.method, ok|lenient|error:N)


def norm(path: str) -> str:
    """A path with every parameter as `{}` (the SDKs and rtk name them differently)."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def version_vkey(v: str) -> "tuple[int, ...]":
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


# ---------------------------------------------------------------------------------------------
# Inputs


API_LINE = re.compile(
    r'<code title="(\w+) ([^"]+)">client\.(?:realtime_kit|realtimeKit)\.(\w+)\.<a [^>]*>(\w+)</a>\((.*?)</code>'
)


def parse_api_md(text: str) -> "list[Endpoint]":
    out = []
    for http, path, group, name, rest in API_LINE.findall(text):
        assert path.startswith(KIT), path
        resp = re.search(r'-> <a href="[^"]*/(\w+)\.py">', rest)
        out.append(Endpoint(group, name, http.upper(), path[len(KIT) :], resp.group(1) if resp else None))
    return out


def python_sdks() -> "list[Sdk]":
    sdks = []
    for req in sorted(HERE.glob("python/requirements-*.txt")):  # the pinned generations
        venv = HERE / f".venv-{req.stem.removeprefix('requirements-')}"
        pkgs = sorted(venv.glob("lib/python*/site-packages/cloudflare"))
        if not pkgs:
            print(f"compat: no virtualenv {venv.name} for {req.name}", file=sys.stderr)
            continue
        pkg = pkgs[-1]
        version = re.search(r'__version__ = "([^"]+)"', (pkg / "_version.py").read_text()).group(1)
        endpoints = parse_api_md((pkg / "resources/realtime_kit/api.md").read_text())
        dump = subprocess.run(
            [str(venv / "bin/python"), "-c", MODEL_DUMP], check=True, capture_output=True, text=True, timeout=300
        )
        sdks.append(Sdk("Python", version, endpoints, json.loads(dump.stdout)))
    return sorted(sdks, key=lambda s: version_vkey(s.version))


def typescript_sdk() -> "Sdk | None":
    pkg = HERE / "node/node_modules/cloudflare"
    api = pkg / "src/resources/realtime-kit/api.md"
    if not api.is_file():
        return None
    version = json.loads((pkg / "package.json").read_text())["version"]
    return Sdk("TypeScript", version, parse_api_md(api.read_text()))


def rtk_routes(binary: Path) -> "dict[tuple[str, str], str]":
    """Every operation in rtk's /openapi.json: (METHOD, normalised path) -> its path."""
    with tempfile.TemporaryDirectory(prefix="rtk-compat-") as tmp:
        log = Path(tmp) / "log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RTK_")}
        with open(log, "wb") as f:
            proc = subprocess.Popen(
                [str(binary), "serve", "--listen", "127.0.0.1:0", "--data-dir", f"{tmp}/data", "--log-format", "json"],
                stdin=subprocess.DEVNULL,
                stdout=f,
                stderr=f,
                env=env,
            )
        try:
            addr, deadline = None, time.monotonic() + 60
            while addr is None and time.monotonic() < deadline and proc.poll() is None:
                for line in log.read_text(errors="replace").splitlines():
                    try:
                        fields = json.loads(line).get("fields", {})
                    except ValueError:
                        continue
                    if fields.get("message") == "rtk listening":
                        addr = fields["addr"]
                time.sleep(0.05)
            if addr is None:
                sys.exit(f"compat: rtk did not start; its log:\n{log.read_text(errors='replace')}")
            with urllib.request.urlopen(f"http://{addr}/openapi.json", timeout=30) as r:
                spec = json.load(r)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    routes = {}
    for path, ops in spec["paths"].items():
        for method in ops:
            if method in ("get", "post", "put", "patch", "delete"):
                routes[(method.upper(), norm(path))] = path
    return routes


def read_junit(path: Path) -> "list[TestCase]":
    """Test cases with outcomes and logged SDK calls, from pytest (properties) or node --test
    (comments after each test case) JUnit XML."""
    root = ET.parse(path, parser=ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))).getroot()
    cases: "list[TestCase]" = []

    def visit(parent):
        last = None
        for el in parent:
            if el.tag is ET.Comment:
                m = re.fullmatch(r"\s*sdk-call (\S+) (\S+)\s*", el.text or "")
                if m and last is not None:
                    last.calls.add((m.group(1), m.group(2)))
            elif el.tag == "testcase":
                last = case(el)
                cases.append(last)
            else:
                visit(el)

    def case(el) -> TestCase:
        name = el.get("name", "")
        if el.get("classname") and el.get("classname") != "test":
            name = f"{el.get('classname')}::{name}"
        skipped, failed = el.find("skipped"), el.find("failure") is not None or el.find("error") is not None
        if skipped is not None and skipped.get("type") == "todo":
            t = TestCase(name, "todo", skipped.get("message", ""))
        elif skipped is not None and skipped.get("type") == "pytest.xfail":
            t = TestCase(name, "xfailed", skipped.get("message", ""))
        elif failed:
            t = TestCase(name, "failed")
        elif skipped is not None:
            t = TestCase(name, "skipped", skipped.get("message", ""))
        else:
            t = TestCase(name, "passed")
        for prop in el.iter("property"):
            if prop.get("name") == "sdk_call":
                key, outcome = prop.get("value").split(" ", 1)
                t.calls.add((key, outcome))
        return t

    visit(root)
    return cases


# ---------------------------------------------------------------------------------------------
# Comparing two generations' response models


STRINGY = ("str", "datetime")


def kinds(atoms: "set[str]") -> "set[str]":
    """The JSON kinds a field accepts."""
    out = set()
    for a in atoms:
        if a == "any":
            return {"string", "number", "bool", "object", "array", "any"}
        if a in STRINGY or a.startswith("lit:"):
            out.add("string")
        elif a in ("int", "float"):
            out.add("number")
        elif a == "bool":
            out.add("bool")
        elif a in ("obj", "map"):
            out.add("object")
        elif a == "list":
            out.add("array")
    return out


def shared_value_exists(old: dict, new: dict, old_req: set, new_req: set, path: str) -> bool:
    """Whether one JSON value at `path` passes both generations' types (shallowly, plus the
    object-versus-map case, where the object's required fields must fit the map's values)."""
    a, b = set(old[path]), set(new[path])
    common = kinds(a) & kinds(b)
    if "any" in kinds(a) or "any" in kinds(b):
        return True
    if "string" in common:
        la, lb = {x for x in a if x.startswith("lit:")}, {x for x in b if x.startswith("lit:")}
        only_lits_a, only_lits_b = not (a & set(STRINGY)), not (b & set(STRINGY))
        if not (only_lits_a and only_lits_b) or la & lb:
            return True
    if common & {"number", "bool", "array"}:
        return True
    if "object" in common:
        for x, y, xm, ym, xr in ((a, b, old, new, old_req), (b, a, new, old, new_req)):
            if "obj" in x and "obj" not in y and "map" in y:
                required = [p for p in xr if p.rsplit(".", 1)[0] == path]
                values = ym.get(path + "{}", ["any"])
                if any(not (kinds(set(xm[r])) & kinds(set(values))) for r in required):
                    return False
        return True
    return False


def describe(atoms: "list[str]") -> str:
    lits = [a[4:] for a in atoms if a.startswith("lit:")]
    parts = [a for a in atoms if not a.startswith("lit:")]
    if lits:
        parts.append(" \\| ".join(f"'{x}'" for x in lits))
    names = {"obj": "object", "map": "map", "list": "list", "float": "number", "str": "string", "any": "any"}
    return " \\| ".join(names.get(p, p) for p in parts)


def plain(path: str) -> str:
    return path.replace("!", "")


def merged(model: dict) -> "dict[str, list[str]]":
    """Path (without required markers) -> the atoms of every field at that path."""
    out: "dict[str, set[str]]" = defaultdict(set)
    for p, a in model.items():
        out[plain(p)].update(a)
    return {p: sorted(a) for p, a in out.items()}


@dataclass
class Difference:
    field: str  # e.g. data.permissions.plugins.config
    old: str
    new: str
    compatible: bool
    optional: bool  # optional in both generations: a server can leave it out


def model_differences(old_model: dict, new_model: dict) -> "list[Difference]":
    """Fields present in both generations whose types differ."""
    old, new = merged(old_model), merged(new_model)
    old_req = {plain(p) for p in old_model if p.endswith("!")}
    new_req = {plain(p) for p in new_model if p.endswith("!")}
    out = []
    for p in sorted(set(old) & set(new)):
        if not p or old[p] == new[p]:
            continue
        a, b = set(old[p]), set(new[p])
        # Widening an integer to a number, or to anything, is no disagreement.
        if {"float" if x == "int" else x for x in a} == b or "any" in a or "any" in b:
            continue
        ok = shared_value_exists(old, new, old_req, new_req, p)
        out.append(Difference(p.lstrip("."), describe(old[p]), describe(new[p]), ok, p not in old_req and p not in new_req))
    return out


def required_only_in(one: dict, other: dict) -> "list[str]":
    """Required fields of `one` that `other` does not model, under parents both model."""
    have = {plain(p) for p in other}
    out = []
    for p in one:
        if not p.endswith("!"):
            continue
        q = plain(p)
        parent = q.rsplit(".", 1)[0] if "." in q.lstrip(".") else ""
        if q not in have and (parent in have or parent == ""):
            out.append(q.lstrip("."))
    return sorted(out)


# ---------------------------------------------------------------------------------------------
# The document


@dataclass
class Row:
    group: str  # Python group of the newest SDK
    endpoint: Endpoint  # the newest Python SDK's
    ts: "Endpoint | None"
    per_sdk: "dict[str, Endpoint | None]"  # label -> that SDK's endpoint
    implemented: bool


def cell(sdk: Sdk, ep: "Endpoint | None", implemented: bool, results: "list[TestCase] | None") -> str:
    if ep is None:
        return "—"
    if results is None:
        return "no results"
    ok = lenient = errors = 0
    for t in results:
        if t.outcome != "passed":
            continue
        outcomes = {o for k, o in t.calls if k == ep.key}
        ok += "ok" in outcomes
        lenient += "lenient" in outcomes
        errors += any(o.startswith("error:") for o in outcomes)
    if ok:
        return f"✓ {ok}"
    if lenient:
        return f"lenient only ({lenient})"
    if errors:
        return f"errors only ({errors})"
    return "not tested" if implemented else "·"


def notes_for(key: str) -> str:
    group = key.split(".")[0]
    return " ".join(n for k, n in NOTES.items() if k in (key, f"{group}.*"))


def render(py: "list[Sdk]", ts: "Sdk | None", routes: "dict[tuple[str, str], str]", results: "dict[str, list[TestCase]]") -> str:
    current, sdks = py[-1], [*py, *([ts] if ts else [])]
    maps = {s.label: s.by_route(snake) for s in sdks}
    rows: "list[Row]" = []
    for ep in current.endpoints:
        route = (ep.group, *ep.route)
        per = {s.label: maps[s.label].get(route) for s in sdks}
        rows.append(Row(ep.group, ep, per.get(ts.label) if ts else None, per, ep.route in routes))

    out = [
        "# Compatibility with the official Cloudflare SDKs",
        "",
        "<!-- Generated by tests/conformance/compat.py from the SDKs the conformance suites pin and the suites'",
        "     results (bash tests/conformance/run.sh writes this file). Do not edit by hand. -->",
        "",
        f"Every RealtimeKit endpoint of the current Python SDK (`cloudflare=={current.version}`), whether rtk serves it, "
        "and which SDK generations the conformance suites (`tests/conformance/`) verified it with: "
        + ", ".join(f"Python `cloudflare=={s.version}`" for s in py)
        + (f" and TypeScript `cloudflare@{ts.version}`" if ts else "")
        + ", each run unchanged against a real rtk.",
        "",
    ]
    implemented = [r for r in rows if r.implemented]
    out += [f"rtk serves **{len(implemented)} of the {len(rows)}** endpoints.", ""]
    for s in sdks:
        res = results.get(s.label)
        verified = sum(1 for r in rows if cell(s, r.per_sdk[s.label], r.implemented, res).startswith("✓"))
        present = sum(1 for r in rows if r.per_sdk[s.label] is not None and r.implemented)
        if res is None:
            out.append(f"- {s.lang} `cloudflare {s.version}`: no results")
            continue
        counts = defaultdict(int)
        for t in res:
            counts[t.outcome] += 1
        tally = ", ".join(f"{counts[k]} {k}" for k in ("passed", "failed", "xfailed", "todo", "skipped") if counts[k])
        out.append(
            f"- {s.lang} `cloudflare {s.version}` verified {verified} of the {present} endpoints it has that rtk serves "
            f"(tests: {tally})."
        )
    out += [
        "",
        "In the table, for each SDK generation:",
        "",
        "- **✓ N**: N passing tests got a successful response through this SDK method. Python clients are strict "
        "(`_strict_response_validation=True`), so the SDK validated every response; the TypeScript SDK does not "
        "validate, so its tests check each response model's required fields (`node/lib/shapes.mjs`) and the values.",
        "- **errors only (N)**: passing tests called it, but only got error responses (e.g. 404), which they checked.",
        "- **not tested**: rtk serves it, but no test of this generation calls it. **·**: rtk does not serve it. "
        "**—**: this SDK generation has no such method.",
        "",
        f"Paths are under `{KIT}`; Python and TypeScript method names are those of `cloudflare {current.version}` and "
        f"`cloudflare@{ts.version if ts else '?'}`.",
        "",
    ]
    by_group: "dict[str, list[Row]]" = defaultdict(list)
    for r in rows:
        by_group[r.group].append(r)
    for group, grows in by_group.items():
        out += [f"## {group.replace('_', ' ').capitalize()}", ""]
        head = ["endpoint", "Python", "TypeScript", "rtk", *[s.label for s in sdks]]
        out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in grows:
            e = r.endpoint
            cells = [
                f"`{e.http} {e.path}`",
                f"`{e.key}`",
                f"`{r.ts.key}`" if r.ts else "—",
                "yes" if r.implemented else "no",
                *[cell(s, r.per_sdk[s.label], r.implemented, results.get(s.label)) for s in sdks],
            ]
            out.append("| " + " | ".join(cells) + " |")
        notes = [(r.endpoint.key, notes_for(r.endpoint.key)) for r in grows]
        group_note = NOTES.get(f"{group}.*")
        if group_note:
            out += ["", group_note]
        own = [(k, n.replace(group_note or "", "").strip()) for k, n in notes if n and n != group_note]
        if own:
            out.append("")
        out += [f"- `{k}`: {n}" for k, n in own]
        out.append("")

    out += disagreements(py, rows)
    out += known_bugs(sdks, results)
    out += older_only(py, current, routes, results)
    out += rtk_only(routes, sdks)
    return "\n".join(out).rstrip() + "\n"


def disagreements(py: "list[Sdk]", rows: "list[Row]") -> "list[str]":
    if len(py) < 2:
        return []
    old, new = py[0], py[-1]
    out = [
        f"## Where {old.version} and {new.version} disagree",
        "",
        f"Found by comparing the response models of `cloudflare {old.version}` and `cloudflare {new.version}` field by "
        "field (TypeScript `cloudflare@7.x` has the same models as the newer Python SDK and does not validate). "
        "Every model accepts extra fields, so a field one generation lacks never hurts the other.",
        "",
    ]
    incompatible: "dict[tuple, list[str]]" = defaultdict(list)
    narrower: "dict[tuple, list[str]]" = defaultdict(list)
    only: "list[str]" = []
    for r in rows:
        o, n = r.per_sdk.get(old.label), r.per_sdk.get(new.label)
        if not (o and n and o.response and n.response):
            continue
        om, nm = old.models.get(o.response, {}), new.models.get(n.response, {})
        for d in model_differences(om, nm):
            target = narrower if d.compatible else incompatible
            target[(d.field, d.old, d.new, d.optional)].append(r.endpoint.key)
        new_only, old_only = required_only_in(nm, om), required_only_in(om, nm)
        if new_only or old_only:
            parts = []
            if new_only:
                parts.append(f"{new.version} requires {', '.join(f'`{p}`' for p in new_only)}")
            if old_only:
                parts.append(f"{old.version} requires {', '.join(f'`{p}`' for p in old_only)}")
            only.append(f"- `{r.endpoint.key}`: " + "; ".join(parts) + ".")

    def listing(groups):
        lines = []
        for (fld, a, b, optional), keys in sorted(groups.items()):
            where = ", ".join(f"`{k}`" for k in keys)
            opt = " Optional in both: a server can leave it out." if optional and groups is incompatible else ""
            lines.append(f"- `{fld}`: {a} in {old.version}, {b} in {new.version}.{opt} ({where})")
        return lines

    out += ["### No single value satisfies both", ""]
    out += listing(incompatible) or ["None."]
    out += [
        "",
        "### Types that differ, with values both accept",
        "",
        "One value passes both (an enum narrower in one generation, a string versus a date-time, an object versus a "
        "union of objects); rtk sends such a value. Number widenings (integer to number) are left out.",
        "",
    ]
    out += listing(narrower) or ["None."]
    out += [
        "",
        "### Fields only one generation requires",
        "",
        "Required in one generation and not modelled in the other (under objects both model); rtk sends them, and "
        "the other generation keeps them as extra fields.",
        "",
    ]
    out += only or ["None."]
    out.append("")
    return out


def known_bugs(sdks: "list[Sdk]", results: "dict[str, list[TestCase]]") -> "list[str]":
    out = ["## Known rtk bugs", ""]
    found = []
    for s in sdks:
        for t in results.get(s.label) or []:
            if t.outcome in ("xfailed", "todo") and t.reason.startswith("rtk bug"):
                found.append(f"- {s.label}, `{t.name}`: {t.reason}")
    out += (
        ["Tests marked as expected failures (Python `xfail(strict=True)`, node `todo`) until the server is fixed:", "", *found]
        if found
        else ["None: no test is marked as an expected failure."]
    )
    failed = [f"- {s.label}, `{t.name}`" for s in sdks for t in results.get(s.label) or [] if t.outcome == "failed"]
    if failed:
        out += ["", "Tests that failed in the run this file was generated from:", "", *failed]
    out.append("")
    return out


def older_only(py: "list[Sdk]", current: Sdk, routes, results) -> "list[str]":
    have = {(e.group, *e.route) for e in current.endpoints}
    lines = []
    for s in py[:-1]:
        for e in s.endpoints:
            if (e.group, *e.route) not in have:
                served = e.route in routes
                state = cell(s, e, served, results.get(s.label))
                lines.append(
                    f"- `{e.http} {e.path}`: `{e.key}` ({s.lang} {s.version}): "
                    + (f"served by rtk; {state}" if served else "not served by rtk")
                )
    if not lines:
        return []
    return [f"## In older SDKs only", "", f"Removed by `cloudflare {current.version}`:", "", *sorted(set(lines)), ""]


def rtk_only(routes: "dict[tuple[str, str], str]", sdks: "list[Sdk]") -> "list[str]":
    known = {e.route for s in sdks for e in s.endpoints}
    extra = sorted((path, m) for (m, p), path in routes.items() if path.startswith(KIT) and (m, p) not in known)
    if not extra:
        return []
    out = [
        "## rtk endpoints the SDKs do not call",
        "",
        "Served by rtk (see its `/openapi.json`), in no pinned SDK; the Cloudflare docs describe `mute` and "
        "`mute-all` for newer SDKs, and `test_sessions.py` tests them through the SDK once it has them.",
        "",
    ]
    out += [f"- `{m} {p[len(KIT):]}`" for p, m in extra]
    out.append("")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=HERE / ".results")
    ap.add_argument("--out", type=Path, default=ROOT / "docs/compatibility.md")
    default_bin = os.environ.get("RTK_BIN") or str(Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "debug/rtk")
    ap.add_argument("--rtk-bin", type=Path, default=Path(default_bin))
    args = ap.parse_args()

    py = python_sdks()
    if not py:
        sys.exit("compat: no Python SDK virtualenv (.venv-X.Y.Z) found: run tests/conformance/run.sh")
    ts = typescript_sdk()
    results: "dict[str, list[TestCase]]" = {}
    for s in [*py, *([ts] if ts else [])]:
        f = args.results / f"{'python' if s.lang == 'Python' else 'node'}-{s.version}.xml"
        if f.is_file():
            results[s.label] = read_junit(f)
        else:
            print(f"compat: no results for {s.label} ({f})", file=sys.stderr)
    doc = render(py, ts, rtk_routes(args.rtk_bin), results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(doc)
    print(f"compat: wrote {args.out}")


if __name__ == "__main__":
    main()
