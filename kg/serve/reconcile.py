"""``/reconcile``: the Reconciliation Service API, as OpenRefine speaks it.

Analysts clean counterparty lists in OpenRefine; this lets them match a column
of names against the graph's parties without leaving it. The protocol is the
W3C Entity Reconciliation Community Group's v0.2 (what OpenRefine 3.x sends),
with the fields of the 1.0 draft where the two agree:

* ``GET /reconcile``: the manifest (service metadata);
* ``GET|POST /reconcile`` with ``queries={...}`` (form-encoded JSON): a batch
  of queries, each with an optional ``type``, ``limit`` and ``properties``
  (``country``, ``identifier``);
* ``/reconcile/suggest/entity|type|property?prefix=``: what the suggest box
  offers while one types;
* ``/reconcile/extend/propose?type=`` and ``POST /reconcile`` with
  ``extend={...}``: columns to add from the graph (lists, dates, rules);
* ``/reconcile/preview?id=``: a small page OpenRefine shows in a pop-up.

GET requests may carry a JSONP ``callback`` (v0.2; older OpenRefine and
browser widgets use it). Scores and match flags come from the matcher of
``tradekg screen`` (``kg.answers.screen.match``), never from another one: a name
scores the same here as on the command line, and each candidate's
description carries the same explanation.

Entity ids are our IRIs with ``identifierSpace`` taken off
(``company/huawei``); type and property ids are local names in
``schemaSpace`` (``Company``), so a client that concatenates them gets the
graph's own IRIs.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pycountry
from rdflib import URIRef
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kg.answers.screen import Index, Match, describe_many, finish, match, normalise_name
from kg.namespaces import DATA, SCHEMA, TKG
from kg.resources import lookup_query
from kg.serve.snapshot import Snapshot

IDENTIFIER_SPACE = str(DATA)
SCHEMA_SPACE = str(TKG)
TYPES = {"Company": "Company", "Person": "Person", "Vessel": "Vessel", "Aircraft": "Aircraft"}
DEFAULT_TYPES = ["Company", "Person"]
DEFAULT_LIMIT = 5
MAX_LIMIT = 50
MAX_QUERIES = 1000  # OpenRefine sends 10 per batch by default
# Candidates shown below screening's threshold, so a user can pick a weaker one by hand;
# only a near-certain, unambiguous candidate is flagged as a match.
CANDIDATE_THRESHOLD = 60.0
MATCH_SCORE = 95.0
MATCH_MARGIN = 8.0
SUGGEST_LIMIT = 10
MAX_BODY = 10_000_000

# Query properties (constraints) and extend properties the service understands.
QUERY_PROPERTIES = {
    "country": "Country (ISO 3166 code or name)",
    "identifier": "Identifier (Wikidata id, OFAC entity number, or an id a list entry prints)",
}
EXTEND_PROPERTIES = {
    "name": "Name",
    "alias": "Also known as",
    "country": "Country",
    "wikidata": "Wikidata id",
    "lists": "List entries in force",
    "listed_since": "Listed since",
    "license_policy": "License review policy",
    "rules": "Rules that reach it (legal reach)",
    "exposure": "Exposure (not a designation of it)",
    "parent": "Parent organisation",
}
_CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")


class BadRequest(Exception):
    """A request the service answers with 400 and this message."""


@dataclass
class Parties:
    """What reconciliation needs of every party, read once per snapshot."""

    index: Index
    snapshot: Snapshot
    classes: dict[URIRef, set[str]] = field(default_factory=dict)  # party -> local class names
    identifiers: dict[URIRef, set[str]] = field(default_factory=dict)  # party -> normalised identifiers
    by_identifier: dict[str, set[URIRef]] = field(default_factory=dict)
    names: dict[URIRef, list[str]] = field(default_factory=dict)  # party -> every name, label first
    countries: dict[URIRef, set[str]] = field(default_factory=dict)
    labels: dict[URIRef, str] = field(default_factory=dict)

    @classmethod
    def build(cls, snapshot: Snapshot) -> Parties:
        backend = snapshot.backend
        index = Index.from_backend(backend)
        parties = cls(index, snapshot)
        for c in index.candidates:
            parties.names.setdefault(c.party, []).append(c.name)
            parties.countries.setdefault(c.party, set()).update(c.countries)
        for row in backend.select(lookup_query("reconcile-parties")).rows:
            party = row["party"]
            assert isinstance(party, URIRef)
            parties.classes.setdefault(party, set()).add(str(row["class"]).removeprefix(SCHEMA_SPACE))
            if row.get("identifier") is not None:
                for value in _identifier_forms(str(row["identifier"])):
                    parties.identifiers.setdefault(party, set()).add(value)
                    parties.by_identifier.setdefault(value, set()).add(party)
        for solution in snapshot.store.query(
                "SELECT ?e ?l WHERE { ?e <http://www.w3.org/2000/01/rdf-schema#label> ?l }"):
            iri = URIRef(solution["e"].value)
            if iri in parties.classes:
                parties.labels.setdefault(iri, solution["l"].value)
        for party, names in parties.names.items():
            label = parties.labels.get(party)
            if label in names:
                names.remove(label)
                names.insert(0, label)
        return parties

    def label(self, party: URIRef) -> str:
        return self.labels.get(party) or (self.names.get(party) or [entity_id(party)])[0]

    def types(self, party: URIRef) -> list[dict[str, str]]:
        return [{"id": t, "name": TYPES.get(t, t)} for t in sorted(self.classes.get(party, ()))]


def _identifier_forms(text: str) -> set[str]:
    """The printed identifier and each number-like piece of it, compared without case, spaces or dashes.

    A list entry prints "Registration Number 91440300192203821F (China)"; a
    user types "91440300192203821F". Both the whole text and every token with
    a digit in it are kept.
    """
    def squash(value: str) -> str:
        return re.sub(r"[\s\-./]", "", value).casefold()

    forms = {squash(text)}
    forms.update(squash(t) for t in re.split(r"[\s,;:()]+", text) if any(ch.isdigit() for ch in t) and len(t) >= 4)
    return {f for f in forms if f}


def parties(snapshot: Snapshot) -> Parties:
    return snapshot.cached("reconcile", lambda: Parties.build(snapshot))  # type: ignore[no-any-return]


def entity_id(iri: URIRef | str) -> str:
    text = str(iri)
    return text[len(IDENTIFIER_SPACE):] if text.startswith(IDENTIFIER_SPACE) else text


def entity_iri(identifier: str) -> URIRef:
    identifier = identifier.strip()
    if re.match(r"^https?://", identifier):
        return URIRef(identifier)
    return URIRef(IDENTIFIER_SPACE + identifier.lstrip("/"))


# ---------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------

def manifest(base: str) -> dict[str, Any]:
    """The service manifest; ``base`` is the server's own address (``http://host:port``)."""
    service = f"{base}/reconcile"
    return {
        "versions": ["0.1", "0.2"],
        "name": "tradekg: parties of technology-trade restrictions",
        "identifierSpace": IDENTIFIER_SPACE,
        "schemaSpace": SCHEMA_SPACE,
        "documentation": f"{base}/",
        "batchSize": 10,
        "defaultTypes": [{"id": t, "name": TYPES[t]} for t in DEFAULT_TYPES],
        "view": {"url": f"{base}/id/{{{{id}}}}"},
        "preview": {"url": f"{service}/preview?id={{{{id}}}}", "width": 420, "height": 220},
        "suggest": {
            "entity": {"service_url": base, "service_path": "/reconcile/suggest/entity"},
            "type": {"service_url": base, "service_path": "/reconcile/suggest/type"},
            "property": {"service_url": base, "service_path": "/reconcile/suggest/property"},
        },
        "extend": {
            "propose_properties": {"service_url": base, "service_path": "/reconcile/extend/propose"},
            "property_settings": [],
        },
    }


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------

def country_code(value: str) -> str | None:
    """"CN", "cn", "China", "People's Republic of China" -> "CN"; None when no country is named."""
    text = value.strip()
    if not text:
        return None
    if re.fullmatch(r"[A-Za-z]{2}", text) and pycountry.countries.get(alpha_2=text.upper()):
        return text.upper()
    try:
        found = pycountry.countries.lookup(text)
    except LookupError:
        try:
            found = pycountry.countries.search_fuzzy(text)[0]
        except LookupError:
            return None
    return str(found.alpha_2)


def _values(v: Any) -> list[str]:
    """A property value as OpenRefine sends it: a string, a number, {"id", "name"}, or a list of them."""
    if isinstance(v, list):
        return [x for item in v for x in _values(item)]
    if isinstance(v, dict):
        return [str(v.get("id") or v.get("name") or "")]
    if v is None:
        return []
    return [str(v)]


def _type_ids(query: dict[str, Any]) -> set[str]:
    wanted = set()
    for t in _values(query.get("type")):
        local = t.removeprefix(SCHEMA_SPACE).removeprefix("tkg:")
        if local not in TYPES:
            raise BadRequest(f"unknown type {t!r}; this service knows {', '.join(TYPES)}")
        wanted.add(local)
    return wanted


def reconcile_one(data: Parties, query: dict[str, Any], on: str) -> dict[str, Any]:
    """One query's candidates, best first, each with the screening score and its explanation.

    ``screen``'s own ``match`` scores the names and its ``finish`` orders equal
    scores (the party whose own name matched, then the one with more list
    entries on ``on``), so a column reconciles as ``tradekg screen`` answers.
    """
    if not isinstance(query, dict):
        raise BadRequest("each query must be a JSON object")
    text = str(query.get("query") or "").strip()
    try:
        limit = min(max(int(query.get("limit") or DEFAULT_LIMIT), 1), MAX_LIMIT)
    except (TypeError, ValueError):
        raise BadRequest("limit must be a whole number") from None
    types = _type_ids(query)
    country: str | None = None
    identifiers: list[str] = []
    properties = query.get("properties") or []
    if not isinstance(properties, list):
        raise BadRequest("properties must be a list of {\"pid\", \"v\"} objects")
    for prop in properties:
        if not isinstance(prop, dict):
            raise BadRequest("properties must be a list of {\"pid\", \"v\"} objects")
        pid = str(prop.get("pid") or prop.get("id") or "")
        values = [v for v in _values(prop.get("v", prop.get("values"))) if v.strip()]
        if pid == "country":
            codes = [c for c in (country_code(v) for v in values) if c]
            if values and not codes:
                raise BadRequest(f"country {values[0]!r} is not a country this service knows")
            country = codes[0] if codes else country
        elif pid == "identifier":
            identifiers.extend(values)
        else:
            raise BadRequest(f"unknown property {pid!r}; this service knows {', '.join(QUERY_PROPERTIES)}")

    found: dict[URIRef, Match] = {}
    if text:
        ranked = match(data.index, text, country, limit=max(limit * 4, 20), threshold=CANDIDATE_THRESHOLD)
        backend = data.snapshot.backend
        described = describe_many(backend, [m.party for m in ranked], on)
        for m in finish(backend, ranked, len(ranked), on, cache=described):
            found.setdefault(m.party, m)
    by_id: set[URIRef] = set()
    for value in identifiers:
        for form in _identifier_forms(value):
            by_id.update(data.by_identifier.get(form, ()))
    for party in by_id:
        why = f"identifier {', '.join(identifiers)} is one of this party's identifiers (score set to 100)"
        known = found.get(party)
        found[party] = Match(100.0, party, known.matched_name if known else data.label(party),
                             why + (f"; name: {known.explanation}" if known else ""), exactness=0)
    candidates = [m for m in found.values() if not types or types & data.classes.get(m.party, set())]
    order = {party: i for i, party in enumerate(found)}
    candidates.sort(key=lambda m: (-m.score, order[m.party]))
    candidates = candidates[:limit]
    results = []
    for i, m in enumerate(candidates):
        runner_up = candidates[i + 1].score if i + 1 < len(candidates) else 0.0
        certain = i == 0 and (m.party in by_id or (
            m.score >= MATCH_SCORE and m.score - runner_up >= MATCH_MARGIN) or (
            m.exactness <= 1 and (runner_up < m.score or candidates[1].exactness > 1)))
        label = data.label(m.party)
        same = label.casefold() == m.matched_name.casefold()
        name = label if same else f"{label} (matched: {m.matched_name})"
        results.append({
            "id": entity_id(m.party),
            "name": name,
            "type": data.types(m.party),
            "score": m.score,
            "match": bool(certain),
            "description": m.explanation,
            "features": [{"id": "name_score", "value": m.score},
                         {"id": "identifier_match", "value": m.party in by_id}],
        })
    return {"result": results}


def reconcile(data: Parties, queries: Any, on: str) -> dict[str, Any]:
    if not isinstance(queries, dict):
        raise BadRequest('queries must be a JSON object such as {"q0": {"query": "Huawei"}}')
    if len(queries) > MAX_QUERIES:
        raise BadRequest(f"at most {MAX_QUERIES} queries per request")
    return {key: reconcile_one(data, q, on) for key, q in queries.items()}


# ---------------------------------------------------------------------------
# Suggest
# ---------------------------------------------------------------------------

def suggest_entities(data: Parties, prefix: str, cursor: int = 0) -> dict[str, Any]:
    """Parties whose name or alias starts with (then contains) what was typed; else the matcher's best."""
    wanted = normalise_name(prefix)
    if not wanted:
        return {"result": []}
    ranked: dict[URIRef, tuple[int, str]] = {}
    for c in data.index.candidates:
        if c.normalised.startswith(wanted):
            rank = 0
        elif f" {wanted}" in f" {c.normalised}":
            rank = 1
        else:
            continue
        if c.party not in ranked or (rank, len(c.name)) < (ranked[c.party][0], len(ranked[c.party][1])):
            ranked[c.party] = (rank, c.name)
    order = sorted(ranked, key=lambda p: (ranked[p][0], len(data.label(p)), data.label(p)))
    if not order:
        order = [m.party for m in match(data.index, prefix, limit=SUGGEST_LIMIT, threshold=CANDIDATE_THRESHOLD)]
    out = []
    for party in order[cursor:cursor + SUGGEST_LIMIT]:
        label = data.label(party)
        matched = ranked.get(party, (0, label))[1]
        out.append({"id": entity_id(party), "name": label,
                    "description": ", ".join(t["name"] for t in data.types(party))
                    + (f"; also known as {matched}" if matched != label else ""),
                    "notable": data.types(party)})
    return {"result": out}


def suggest_types(prefix: str) -> dict[str, Any]:
    wanted = prefix.strip().casefold()
    return {"result": [{"id": t, "name": name} for t, name in TYPES.items() if wanted in name.casefold()]}


def suggest_properties(prefix: str) -> dict[str, Any]:
    wanted = prefix.strip().casefold()
    props = {**QUERY_PROPERTIES, **EXTEND_PROPERTIES}
    return {"result": [{"id": pid, "name": name} for pid, name in props.items()
                       if wanted in pid.casefold() or wanted in name.casefold()]}


# ---------------------------------------------------------------------------
# Extend
# ---------------------------------------------------------------------------

def propose_properties(type_id: str, limit: int | None = None) -> dict[str, Any]:
    props = [{"id": pid, "name": name} for pid, name in EXTEND_PROPERTIES.items()]
    return {"type": type_id or "Company", "properties": props[:limit] if limit else props,
            **({"limit": limit} if limit else {})}


def extend(snapshot: Snapshot, data: Parties, request: Any, on: str) -> dict[str, Any]:
    """Columns for the given entities: each cell a list of ``{"str"}``, ``{"date"}`` or ``{"id", "name"}``."""
    from kg.answers.show import firm_reach

    if not isinstance(request, dict) or not isinstance(request.get("ids"), list) \
            or not isinstance(request.get("properties"), list):
        raise BadRequest('extend must be {"ids": [...], "properties": [{"id": ...}, ...]}')
    pids = [str(p.get("id", "")) if isinstance(p, dict) else str(p) for p in request["properties"]]
    unknown = [p for p in pids if p not in EXTEND_PROPERTIES]
    if unknown:
        raise BadRequest(f"unknown property {unknown[0]!r}; this service extends with {', '.join(EXTEND_PROPERTIES)}")
    ids = [str(i) for i in request["ids"]][:MAX_QUERIES]
    iris = {i: entity_iri(i) for i in ids}
    known = [iri for iri in iris.values() if iri in data.classes]
    described = describe_many(snapshot.backend, known, on) if {"lists", "listed_since", "license_policy"} & set(
        pids) else {}
    parents = _parents(snapshot, known) if "parent" in pids else {}
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for ident, iri in iris.items():
        row: dict[str, list[dict[str, Any]]] = {}
        if iri not in data.classes:
            rows[ident] = {pid: [] for pid in pids}
            continue
        reach = firm_reach(snapshot.backend, iri) if {"rules", "exposure"} & set(pids) else []
        entry = described.get(iri)
        for pid in pids:
            if pid == "name":
                row[pid] = [{"str": data.label(iri)}]
            elif pid == "alias":
                row[pid] = [{"str": n} for n in data.names.get(iri, [])[1:]]
            elif pid == "country":
                row[pid] = [{"str": c} for c in sorted(data.countries.get(iri, ()))]
            elif pid == "wikidata":
                row[pid] = [{"str": i.upper()} for i in sorted(data.identifiers.get(iri, ()))
                            if re.fullmatch(r"q\d+", i)]
            elif pid == "lists":
                row[pid] = [{"str": designation_sentence(d)} for d in (entry.designations if entry else [])]
            elif pid == "listed_since":
                starts = sorted(d["start"] for d in (entry.designations if entry else []) if d["start"])
                row[pid] = [{"date": f"{starts[0]}T00:00:00Z"}] if starts else []
            elif pid == "license_policy":
                row[pid] = [{"str": p} for p in dict.fromkeys(
                    d["policy"] for d in (entry.designations if entry else []) if d["policy"])]
            elif pid == "rules":
                seen = dict.fromkeys(r.rule for r in reach if not r.exposure)
                row[pid] = [{"id": entity_id(rule), "name": _rule_name(snapshot, rule)} for rule in seen]
            elif pid == "exposure":
                row[pid] = [{"str": r.line} for r in reach if r.exposure]
            elif pid == "parent":
                row[pid] = [{"id": entity_id(p), "name": data.label(p)} for p in parents.get(iri, [])]
        rows[ident] = row
    meta = [{"id": pid, "name": EXTEND_PROPERTIES[pid]} for pid in pids]
    for m in meta:
        if m["id"] in ("rules",):
            m["type"] = {"id": "Rule", "name": "Rule"}
        elif m["id"] == "parent":
            m["type"] = {"id": "Company", "name": "Company"}
    return {"meta": meta, "rows": rows}


def designation_sentence(d: dict[str, str]) -> str:
    """A list entry as a sentence: "Entity List since 2019-05-16", "... from 2019-05-16 to 2021-01-14"."""
    text = f"{d['list']} from {d['start']} to {d['end']}" if d.get("end") else f"{d['list']} since {d['start']}"
    return text + (f" ({d['status']})" if d.get("status") else "")


def _parents(snapshot: Snapshot, parties: list[URIRef]) -> dict[URIRef, list[URIRef]]:
    from kg.graph.sparqltext import with_rows

    if not parties:
        return {}
    query = with_rows(f"SELECT ?party ?parent WHERE {{ ?party <{SCHEMA.parentOrganization}> ?parent }}",
                      "party", [str(p) for p in parties])
    found: dict[URIRef, list[URIRef]] = {}
    for row in snapshot.backend.select(query).rows:
        found.setdefault(row["party"], []).append(row["parent"])  # type: ignore[arg-type]
    return found


def _rule_name(snapshot: Snapshot, rule: URIRef) -> str:
    rows = snapshot.backend.select(lookup_query("reconcile-rule-name"), {"rule": rule}).rows
    if rows:
        row = rows[0]
        for key in ("citation", "document", "title"):
            if row.get(key) is not None:
                return (f"FR Doc {row[key]}" if key == "document" else str(row[key]))
    return entity_id(rule)


# ---------------------------------------------------------------------------
# Preview
# ---------------------------------------------------------------------------

def preview_html(snapshot: Snapshot, data: Parties, iri: URIRef, on: str) -> str:
    """A small page about one party: its name, type, country, and its list entries as sentences."""
    entry = describe_many(snapshot.backend, [iri], on).get(iri)
    lines = [designation_sentence(d) for d in (entry.designations if entry else [])]
    rules = entry.rules if entry else []
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>", esc(data.label(iri)), "</title>",
        "<style>body{font:14px/1.4 system-ui,sans-serif;margin:8px;overflow-wrap:normal;word-break:normal}"
        "h1{font-size:16px;margin:0 0 4px}p{margin:2px 0}ul{margin:4px 0;padding-left:18px}"
        ".k{color:#555}</style></head><body>",
        "<h1>", esc(data.label(iri)), "</h1>",
        "<p class='k'>", esc(", ".join(t["name"] for t in data.types(iri))),
        (" · " + esc(", ".join(sorted(data.countries.get(iri, ()))))) if data.countries.get(iri) else "", "</p>",
    ]
    if lines:
        parts.append("<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>")
    else:
        parts.append(f"<p>Not on a list in the graph on {esc(on)}.</p>")
    if rules:
        parts.append(f"<p class='k'>{len(rules)} rule{'s' if len(rules) != 1 else ''} reach it.</p>")
    parts.append("</body></html>")
    return "".join(parts)


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _answer(request: Request, payload: Any, status: int = 200) -> Response:
    """JSON, or JSONP when a GET names a ``callback`` (older OpenRefine clients)."""
    callback = request.query_params.get("callback")
    if callback is not None and request.method == "GET":
        if not _CALLBACK.fullmatch(callback) or len(callback) > 100:
            response: Response = PlainTextResponse("callback must be a JavaScript name", status_code=400)
        else:
            body = f"/**/{callback}({json.dumps(payload)});"
            response = Response(body, status_code=status, media_type="application/javascript")
    else:
        response = JSONResponse(payload, status_code=status)
    # Whether another web site may read the answer is the server's decision (--cors), made for every path.
    return response


def _today() -> str:
    from kg.answers.queries import today

    return str(today())


async def _form(request: Request) -> dict[str, str]:
    values = {k: v for k, v in request.query_params.items()}
    if request.method == "POST":
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            raise BadRequest("POST queries=... or extend=... as application/x-www-form-urlencoded")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise BadRequest(f"the request is larger than {MAX_BODY // 1_000_000} MB")
        for key, items in parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True).items():
            values[key] = items[-1]
    return values


def _json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{name} is not valid JSON: {exc}") from None


def _reconcile_all(snapshot: Snapshot, queries: Any, on: str) -> dict[str, Any]:
    return reconcile(parties(snapshot), queries, on)


def _extend_all(snapshot: Snapshot, wanted: Any, on: str) -> dict[str, Any]:
    return extend(snapshot, parties(snapshot), wanted, on)


def _reconcile_single(snapshot: Snapshot, query: dict[str, Any], on: str) -> dict[str, Any]:
    return reconcile_one(parties(snapshot), query, on)


_Handler = Callable[[Request], Response]


def routes(current: Any, work: Callable[[_Handler], _Handler] = lambda handler: handler,
           call: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None) -> list[Route]:
    """The service's routes over ``current`` (``kg.serve.snapshot.Current``).

    ``work`` runs a page handler, and ``call`` a function of the snapshot, where
    the server's deadline and memory ceiling stop it (``kg.serve.app.Server``:
    ``offloaded`` and ``called``); without them, in the server's threads.
    """
    from starlette.concurrency import run_in_threadpool

    from kg.serve.workers import Busy, ChildError, Stopped

    def direct(function: Callable[..., Any]) -> Callable[..., Any]:
        return lambda *args: function(current.snapshot, *args)

    on_snapshot = call or direct
    reconcile_all, extend_all, reconcile_single = (on_snapshot(_reconcile_all), on_snapshot(_extend_all),
                                                   on_snapshot(_reconcile_single))

    async def service(request: Request) -> Response:
        try:
            form = await _form(request)
            if "queries" in form:
                queries = _json(form["queries"], "queries")
                return _answer(request, await run_in_threadpool(reconcile_all, queries, _today()))
            if "extend" in form:
                wanted = _json(form["extend"], "extend")
                return _answer(request, await run_in_threadpool(extend_all, wanted, _today()))
            if "query" in form:  # v0.1: one query, as text or JSON
                text = form["query"]
                query = _json(text, "query") if text.lstrip().startswith("{") else {"query": text}
                return _answer(request, await run_in_threadpool(reconcile_single, query, _today()))
        except BadRequest as exc:
            return _answer(request, {"error": str(exc)}, 400)
        except Busy as exc:
            response = _answer(request, {"error": "the server is answering as many requests as it may at once; "
                                                  f"try again in {exc.retry_after} s"}, 503)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except Stopped as exc:
            return _answer(request, {"error": exc.message}, 503)
        except ChildError as exc:
            if exc.kind == "BadRequest":
                return _answer(request, {"error": exc.message}, 400)
            return _answer(request, {"error": "the answer could not be made"}, 500)
        return _answer(request, manifest(_base(request)))

    def suggest_entity(request: Request) -> Response:
        try:
            cursor = max(int(request.query_params.get("cursor", "0") or 0), 0)
        except ValueError:
            cursor = 0
        prefix = request.query_params.get("prefix", "")[:200]
        return _answer(request, suggest_entities(parties(current.snapshot), prefix, cursor))

    def suggest_type(request: Request) -> Response:
        return _answer(request, suggest_types(request.query_params.get("prefix", "")[:200]))

    def suggest_property(request: Request) -> Response:
        return _answer(request, suggest_properties(request.query_params.get("prefix", "")[:200]))

    def propose(request: Request) -> Response:
        try:
            limit = int(request.query_params["limit"]) if request.query_params.get("limit") else None
        except ValueError:
            limit = None
        return _answer(request, propose_properties(request.query_params.get("type", ""), limit))

    def preview(request: Request) -> Response:
        snapshot = current.snapshot
        data = parties(snapshot)
        iri = entity_iri(request.query_params.get("id", ""))
        # OpenRefine shows the preview in a frame of its own page: any site may frame this one.
        headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
        if iri not in data.classes:
            return HTMLResponse("<!doctype html><p>Not a party in the graph.</p>", status_code=404, headers=headers)
        return HTMLResponse(preview_html(snapshot, data, iri, _today()), headers=headers)

    return [
        Route("/reconcile", service, methods=["GET", "POST"]),
        Route("/reconcile/suggest/entity", work(suggest_entity)),
        Route("/reconcile/suggest/type", suggest_type),
        Route("/reconcile/suggest/property", suggest_property),
        Route("/reconcile/extend/propose", propose),
        Route("/reconcile/preview", work(preview)),
    ]
