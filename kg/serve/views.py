"""What the pages show, computed from one snapshot (no web framework here).

Every value is handed to the templates as plain text; Jinja2 escapes it. Links
are built here: our own IRIs become local paths (``/id/company/huawei``), other
``http(s)`` IRIs stay external links, anything else is not a link at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from markupsafe import Markup, escape
from rdflib import RDF, URIRef
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from kg.answers.queries import SavedQuery, find_query, run_saved
from kg.answers.render import cell_text, shorten
from kg.answers.resolve import normalise
from kg.graph.backend import EmbeddedBackend, ResultTable
from kg.loaders.tables import load_catalog
from kg.namespaces import SCHEMA, TKG
from kg.resources import lookup_query
from kg.serve.snapshot import Snapshot

BASE = "https://w3id.org/tradekg/"
# Our IRIs that dereference at their own path on this server.
_LOCAL = ("id/", "concept/")
# Rows a page shows; the downloads always hold every row.
PAGE_ROWS = 500
INCOMING_ROWS = 200
SEARCH_RESULTS = 100

# The saved queries each kind of entity page shows, with the parameter the entity fills.
SECTIONS: dict[str, list[tuple[str, str]]] = {
    "companies": [("rules-affecting-firm", "firm"), ("exceptions-for-firm", "firm"),
                  ("agencies-acting-on-firm", "firm")],
    "rules": [("firms-affected-by-rule", "rule")],
    "lists": [("designations", "list")],
    "persons": [("rules-by-official", "person")],
}


@dataclass
class Link:
    text: str
    href: str | None = None  # None: plain text
    external: bool = False
    items: list[str] = field(default_factory=list)  # a list cell ("a; b; c"), shown collapsed behind a count
    nowrap: bool = False  # a date or a number: never broken across lines


def href_for(iri: str) -> tuple[str | None, bool]:
    """Where a link to ``iri`` goes: a local path for our IRIs, else the IRI itself if it is http(s)."""
    if iri.startswith(BASE):
        rest = iri[len(BASE):]
        if rest.startswith(_LOCAL) and re.fullmatch(r"[A-Za-z0-9._~/%-]+", rest):
            return "/" + rest, False
        return "/resource?" + urlencode({"iri": iri}), False
    if re.match(r"^https?://", iri):
        return iri, True
    return None, False


def term_link(term: Node | None, label: str | None = None) -> Link:
    if term is None:
        return Link("")
    if isinstance(term, URIRef):
        href, external = href_for(str(term))
        return Link(label or cell_text(term, short=True), href, external)
    return Link(label or cell_text(term, short=False))


_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def keep_dates(text: object) -> Markup:
    """``text`` escaped, each ISO date in it wrapped so a line never breaks inside it ("2019-05-/16")."""
    escaped = escape(str(text))
    return Markup(_DATE.sub(lambda m: f'<span class="nowrap">{m.group(0)}</span>', str(escaped)))


def breakable_iri(text: object) -> Markup:
    """An IRI escaped, with a line-break opportunity after each "/" (a narrow screen breaks it there)."""
    return Markup(str(escape(str(text))).replace("/", "/<wbr>"))


def local_iri(path: str) -> str:
    """The IRI a local path stands for (``id/company/huawei`` -> the full IRI)."""
    return BASE + path.lstrip("/")


def query_url(name: str, values: dict[str, str], suffix: str = "") -> str:
    given = {k: v for k, v in values.items() if v}
    return f"/query/{quote(name)}{suffix}" + (f"?{urlencode(given)}" if given else "")


# ---------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------

_SEARCH_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
SELECT ?entity ?name ?class WHERE {
  ?entity rdfs:label|skos:altLabel|dcterms:bibliographicCitation|eli:id_local ?name .
  ?entity a ?class .
  FILTER(STRSTARTS(STR(?entity), "https://w3id.org/tradekg/id/"))
}
"""


# Kinds (table names) that are records about other things: they rank after parties, rules and lists.
_RECORD_KINDS = {"designations": 1, "sources": 2}


@dataclass
class SearchIndex:
    """Every name, alias, citation and FR document number, normalised once per snapshot."""

    names: list[tuple[str, str, str]]  # (normalised name, name, entity IRI)
    labels: dict[str, str]  # entity -> display label
    kinds: dict[str, str]  # entity -> kind (table) label

    @classmethod
    def build(cls, snapshot: Snapshot) -> SearchIndex:
        catalog = load_catalog()
        by_class = {spec.class_iri: spec for spec in catalog.tables.values()}
        names: list[tuple[str, str, str]] = []
        labels: dict[str, str] = {}
        kinds: dict[str, str] = {}
        label_iri = "http://www.w3.org/2000/01/rdf-schema#label"
        for solution in snapshot.store.query(_SEARCH_QUERY):
            cls_iri = solution["class"].value
            if cls_iri not in by_class:
                continue
            entity = solution["entity"].value
            name = solution["name"].value
            kinds[entity] = by_class[cls_iri].name.replace("_", " ")
            names.append((normalise(name), name, entity))
        for solution in snapshot.store.query(
                f"SELECT ?e ?l WHERE {{ ?e <{label_iri}> ?l }}"):
            labels.setdefault(solution["e"].value, solution["l"].value)
        names = sorted(set(names))
        return cls(names, labels, kinds)

    def search(self, text: str, limit: int = SEARCH_RESULTS) -> tuple[list[dict[str, object]], int]:
        wanted = normalise(text)
        if not wanted:
            return [], 0
        best: dict[str, tuple[int, str]] = {}
        for norm, name, entity in self.names:
            if wanted not in norm:
                continue
            rank = 0 if norm == wanted else 1 if norm.startswith(wanted) else 2 if f" {wanted}" in norm else 3
            if entity not in best or (rank, len(name)) < (best[entity][0], len(best[entity][1])):
                best[entity] = (rank, name)
        # Parties, rules and lists before the records about them (list entries, sources, source records).
        ordered = sorted(best, key=lambda e: (_RECORD_KINDS.get(self.kinds.get(e, ""), 0), best[e][0],
                                              len(self.labels.get(e, e)), self.labels.get(e, e), e))
        hits = []
        for entity in ordered[:limit]:
            href, _ = href_for(entity)
            hits.append({"label": self.labels.get(entity, shorten(entity)), "href": href, "iri": entity,
                         "kind": self.kinds.get(entity, ""), "matched": best[entity][1]})
        return hits, len(ordered)


def search_index(snapshot: Snapshot) -> SearchIndex:
    return snapshot.cached("search", lambda: SearchIndex.build(snapshot))


# ---------------------------------------------------------------------------
# Result tables
# ---------------------------------------------------------------------------

@dataclass
class Table:
    variables: list[str]
    rows: list[list[Link]]
    total: int
    dropped: list[str] = field(default_factory=list)  # columns left out because no row has a value

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


# In the short tables of an entity page, an entity column shows the name or
# citation its neighbour column holds (and that column and the sources go).
_LABELLED_BY = {"rule": "citation", "firm": "name", "party": "name", "list": "listName", "authorization": "name",
                "agency": "name", "issuer": "issuerName"}
_COMPACT_DROP = {"sources", "viaParent"}
# Columns whose cells join several values with "; ": shown as a count that opens to the list.
LIST_COLUMNS = {"sources"}
_NOWRAP = re.compile(r"^(\d{4}-\d{2}-\d{2}([T ][\d:.]+Z?)?|[-+]?\d[\d,.]*%?)$")


def html_table(result: ResultTable, limit: int = PAGE_ROWS, compact: bool = False) -> Table:
    """Rows of links for a page: every IRI a link; ``compact`` folds label columns into the links."""
    variables = list(result.variables)
    labelled = {}
    if compact:
        labelled = {v: _LABELLED_BY[v] for v in variables if v in _LABELLED_BY and _LABELLED_BY[v] in variables}
        variables = [v for v in variables if v not in labelled.values() and v not in _COMPACT_DROP]
    rows = []
    for row in result.rows[:limit]:
        cells = []
        for v in variables:
            label = row.get(labelled[v]) if v in labelled else None
            if v == "rule" and label is None and isinstance(row.get(v), URIRef):
                # a rule without a confirmed citation: its FR document number, else its title
                if row.get("document") is not None:
                    label = f"FR Doc {row['document']}"
                elif row.get("title") is not None:
                    label = row["title"]
            cell = term_link(row.get(v), str(label) if label is not None else None)
            if v in LIST_COLUMNS and cell.href is None:
                cell.items = [part.strip() for part in cell.text.split("; ") if part.strip()]
            cell.nowrap = bool(_NOWRAP.match(cell.text))
            cells.append(cell)
        rows.append(cells)
    # A column no row fills says nothing on a page (the downloads keep it).
    keep = [i for i in range(len(variables)) if any(r[i].text for r in rows)] if rows else list(range(len(variables)))
    dropped = [v for i, v in enumerate(variables) if i not in keep]
    return Table([variables[i] for i in keep], [[r[i] for i in keep] for r in rows], len(result.rows), dropped)


# ---------------------------------------------------------------------------
# Entity pages
# ---------------------------------------------------------------------------

@dataclass
class Section:
    query: SavedQuery
    table: Table
    url: str
    csv_url: str
    json_url: str


@dataclass
class EntityPage:
    iri: str
    label: str
    kinds: list[Link]
    table: str | None  # the curated table its type belongs to
    statements: list[tuple[str, Link]] = field(default_factory=list)
    loaded_from: str = ""
    sources: list[Link] = field(default_factory=list)
    incoming: list[tuple[Link, str, str]] = field(default_factory=list)
    incoming_total: int = 0
    sections: list[Section] = field(default_factory=list)
    timeline: str | None = None
    graph: str | None = None
    status: str | None = None  # a rule: its status today (kg.answers.show.rule_status), shown first
    history: list[str] = field(default_factory=list)  # a rule: its dated events
    held: str | None = None  # a list: how many of its entries the graph holds
    summary: FirmSummary | None = None


@dataclass
class FirmSummary:
    """What restricts a firm on one date, worded as ``tradekg show`` words it, for the top of its page."""

    on: str
    is_today: bool
    entries: list[str]  # list entries holding on ``on``, as sentences ("Entity List since 2019-05-16")
    ended_entries: list[str]
    legal: list[Link]  # legal reach holding on ``on`` (each line links to its rule)
    legal_other: list[Link]  # ended, not yet, or undated
    exposure: list[Link]
    exposure_other: list[Link]
    since: str  # the earliest start among what holds
    dates: list[str]  # dates on which something began or ended: the as-of navigation
    today: str
    listed: list[Link] = field(default_factory=list)  # entries on a list that prohibits nothing by itself
    exporter: list[Link] = field(default_factory=list)  # exporter-side: licence requirements on its exports
    named: list[str] = field(default_factory=list)  # entries holding on a list that prohibits nothing by itself


def exists(snapshot: Snapshot, iri: str) -> bool:
    try:
        node = ox.NamedNode(iri)
    except ValueError:
        return False
    return next(iter(snapshot.store.quads_for_pattern(node, None, None)), None) is not None


def firm_summary(snapshot: Snapshot, iri: str, on: str, today: str) -> FirmSummary:
    """List entries and rule effects of the firm on ``on``: what holds first, the rest apart."""
    from rdflib import Literal
    from rdflib.namespace import XSD

    from kg.answers.screen import describe_many
    from kg.answers.show import firm_reach

    backend = snapshot.backend
    entity = URIRef(iri)
    entry = describe_many(backend, [entity], on, include_ended=True).get(entity)
    # An entry on a list that prohibits nothing by itself (Section 1260H) names the firm; it is not
    # what restricts it: the page says so apart, and the acts that attach consequences are legal reach.
    naming = {str(row["title"]) for row in backend.select(lookup_query("naming-lists")).rows}
    entries, ended, named, starts, dates = [], [], [], [], set()
    for d in entry.designations if entry else []:
        text = designation_sentence(d)
        dates.update(x for x in (d["start"], d["end"]) if x)
        if d["status"]:
            ended.append(text)
        elif d["list"] in naming:
            named.append(text)
        else:
            entries.append(text)
            starts.append(d["start"])
    legal, legal_other, exposure, exposure_other, listed, exporter = [], [], [], [], [], []
    for r in firm_reach(backend, entity, Literal(on, datatype=XSD.date)):
        href, _ = href_for(str(r.rule))
        # The heading says the date; each line need not repeat "holds on" it.
        link = Link(r.line.removesuffix(f" — holds on {on}"), href)
        # The period's dates (not the status's "holds on ..."): where the as-of links lead.
        dates.update(re.findall(r"\d{4}-\d{2}-\d{2}", r.line.rsplit(" — ", 1)[0]))
        holds = r.status.startswith(("holds", "suspended", "unconfirmed"))
        if r.exposure:
            (exposure if holds else exposure_other).append(link)
        elif (r.listing or r.exporter) and holds:
            (listed if r.listing else exporter).append(link)
        else:
            (legal if holds else legal_other).append(link)
            if holds:
                starts.extend(re.findall(r"since (\d{4}-\d{2}-\d{2})", r.line)[:1])
    return FirmSummary(on, on == today, entries, ended, legal, legal_other, exposure, exposure_other,
                       min(starts) if starts else "", sorted(d for d in dates if d != on), today, listed, exporter,
                       named)


def designation_sentence(d: dict[str, str]) -> str:
    """"Entity List since 2019-05-16", "Entity List from 2019-05-16 to 2020-08-13 (ended 2020-08-13)"."""
    text = f"{d['list']} from {d['start']} to {d['end']}" if d.get("end") else f"{d['list']} since {d['start']}"
    return text + (f" ({d['status']})" if d.get("status") and not d["status"].startswith("ended") else "")


def _record_sentences(backend: EmbeddedBackend, entity: URIRef) -> dict[str, str]:
    """Designation IRI -> "Entity List since 2019-05-16": list entries have no label of their own."""
    found = {}
    for row in backend.select(lookup_query("party-designations"), {"entity": entity}).rows:
        text = str(row["list"])
        if row.get("start") is not None and row.get("end") is not None:
            text += f" from {row['start']} to {row['end']}"
        elif row.get("start") is not None:
            text += f" since {row['start']}"
        elif row.get("end") is not None:
            text += f" until {row['end']}"
        found[str(row["designation"])] = text
    return found


def entity_page(snapshot: Snapshot, iri: str, on: str | None = None) -> EntityPage:
    backend: EmbeddedBackend = snapshot.backend
    entity = URIRef(iri)
    catalog = load_catalog()
    by_class = {spec.class_iri: spec.name for spec in catalog.tables.values()}
    out = backend.select(lookup_query("describe-out"), {"entity": entity}).rows
    labels: dict[Node, str] = {}
    for row in out:
        if "valueLabel" in row:
            labels.setdefault(row["value"], str(row["valueLabel"]))
    page = EntityPage(iri, shorten(iri), [], None)
    seen: set[tuple[Node, Node]] = set()
    source_file = source_line = source_hash = ""
    for row in out:
        prop, value = row["property"], row["value"]
        if (prop, value) in seen:
            continue
        seen.add((prop, value))
        if prop == RDF.type:
            page.kinds.append(term_link(value, labels.get(value)))
            page.table = page.table or by_class.get(str(value))
            continue
        if str(prop) == "http://www.w3.org/2000/01/rdf-schema#label" and page.label == shorten(iri):
            page.label = str(value)
        if prop == TKG.sourceFile:
            source_file = PurePosixPath(str(value).replace("\\", "/")).name  # never a local path
            continue
        if prop == TKG.sourceLine:
            source_line = str(value)
            continue
        if prop == TKG.sourceHash:  # shown short beside "loaded from", as `tradekg show` does
            source_hash = str(value)[:19]
            continue
        if prop == DCTERMS.source and isinstance(value, URIRef):
            page.sources.append(_source_link(backend, value, labels.get(value)))
            continue
        prop_label = str(row.get("propertyLabel", shorten(str(prop))))
        page.statements.append((prop_label, term_link(value, labels.get(value))))
    if source_file:
        page.loaded_from = (f"{source_file}, line {source_line}" if source_line else source_file) + \
            (f" ({source_hash}…)" if source_hash else "")
    incoming = backend.select(lookup_query("describe-in"), {"entity": entity}).rows
    records = _record_sentences(backend, entity)
    seen_in: set[tuple[str, str]] = set()
    for row in incoming:
        key = (str(row["property"]), str(row["subject"]))
        if key in seen_in:
            continue
        seen_in.add(key)
        if len(page.incoming) < INCOMING_ROWS:
            label = str(row.get("subjectLabel", "")) or records.get(str(row["subject"])) or None
            page.incoming.append((term_link(row["subject"], label),
                                  str(row.get("subjectType", "")),
                                  str(row.get("propertyLabel", shorten(str(row["property"]))))))
    page.incoming_total = len(seen_in)
    if page.table in ("rules", "lists"):
        from kg.answers.queries import today as today_date
        from kg.answers.show import list_held, rule_status

        if page.table == "rules":
            page.status, page.history = rule_status(backend, entity, str(today_date()))
        else:
            page.held = list_held(backend, entity, str(today_date()))
    for name, param in SECTIONS.get(page.table or "", []):
        saved = find_query(name)
        result = run_saved(saved, {param: iri}, backend)
        values = {param: iri}
        page.sections.append(Section(saved, html_table(result, compact=True), query_url(name, values),
                                     query_url(name, values, ".csv"), query_url(name, values, ".json")))
    path = href_for(iri)[0]
    if path and path.startswith("/id/"):
        page.graph = "/graph" + path
        if page.table == "companies":
            page.timeline = "/timeline" + path + ".svg"
    if page.table == "companies":
        from kg.answers.queries import today

        now = str(today())
        page.summary = firm_summary(snapshot, iri, on or now, now)
    return page


def _source_link(backend: EmbeddedBackend, source: URIRef, title: str | None) -> Link:
    url = ""
    for row in backend.select(lookup_query("describe-out"), {"entity": source}).rows:
        if row["property"] == SCHEMA.url:
            url = str(row["value"])
    text = title or shorten(str(source))
    if re.match(r"^https?://", url):
        return Link(text, url, True)
    return Link(text, href_for(str(source))[0])
