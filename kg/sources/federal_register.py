"""Import Federal Register API JSON: each document becomes, or enriches, a rule.

The CSL cites hundreds of Federal Register documents by page; without the
documents, ``rules-affecting-firm`` answers with citations nobody can read.
The API (federalregister.gov/api/v1) publishes each document with exactly the
fields the model needs. This module reads three forms of it:

* one document, as ``/api/v1/documents/{document_number}.json`` returns it;
* a search-results page (``documents.json``: ``count``, ``results``,
  ``next_page_url``), or a bare JSON array of documents;
* JSON lines, one document per line.

Each document maps onto the rules table's own predicates (``data/tables.yml``)
plus the few the table has no column for (page range, action, abstract,
executive order number, corrections, PDF and JSON URLs). A document is *the
same rule* as a node the graph already holds when that node has its document
number, its citation, its executive order number, or (for a rule known only
by a citation, a "placeholder") a citation inside its page range. Then:

* a **curated** rule keeps every curated value; the document adds what the
  row lacks, and each value that differs is reported as a conflict (the
  official title is kept as a short title);
* a **placeholder** takes the document's values (its other sources stay),
  and every other placeholder cited inside the page range is merged into it:
  one node, every source kept.

A malformed file is refused as a whole, naming the file and the line and
column (truncated JSON) or the JSON path (a wrong field).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.answers.resolve import normalise
from kg.errors import InputProblem
from kg.loaders.limits import NUL_MESSAGE, nul_problem, read_input
from kg.namespaces import DATA, ELI, SCHEMA, TKG, entity_iri
from kg.resources import data_mapping, lookup_query
from kg.sources.base import (
    DEFAULT,
    RDF_TYPE,
    Emitter,
    SourceFailed,
    SourcePlan,
    concept,
    date_lit,
    int_lit,
    iri,
    is_minted,
    refuse,
    select,
    slug,
    text,
    url_lit,
)
from kg.sources.matching import PartyIndex, whose

DCT = "http://purl.org/dc/terms/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG_SUB = "http://www.w3.org/ns/org#subOrganizationOf"
MINTED = "frapi-"  # curated sources use "fr-<number>" ids: a minted node must never be one
AGENCY_ID, AGENCY_SLUG = "Federal Register agency id", "Federal Register agency slug"
PLACEHOLDER = concept("rule-type", "fr-document")
_CITATION = re.compile(r"^\s*([0-9]{1,3})\s*FR\s*([0-9]{1,6})\s*$", re.IGNORECASE)
_MODERN_NUMBER = re.compile(r"^(?:[0-9]{4}|[A-Z][0-9]|C[0-9]-[0-9]{4})-[0-9]+$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_DOCKET_PREFIX = re.compile(r"^\s*docket\s+(?:nos?\.?|numbers?)\s*", re.IGNORECASE)
_EO_CITATION = re.compile(r"^\s*(?:EO|E\.O\.|Executive Order)\s*([0-9]+)\s*$", re.IGNORECASE)


def mapping() -> dict[str, Any]:
    return data_mapping("federal_register.yml")


# --------------------------------------------------------------------------
# Reading JSON
# --------------------------------------------------------------------------

@dataclass
class FrDocument:
    """One document as the API gives it, with where it was read."""

    display: str
    line: int
    path: str  # JSON path of the document in its file: "$", "$.results[3]", "$[0]", "line 4"
    data: dict[str, Any]
    source_name: str = ""  # how the graph names its file (never an absolute path) or the URL it was fetched from
    digest: str = ""  # sha256 of the file's bytes

    @property
    def number(self) -> str:
        return str(self.data["document_number"]).strip()


@dataclass
class FrFile:
    display: str
    form: str  # "document", "search results page", "JSON array", "JSON lines"
    documents: list[FrDocument]
    count: int | None = None  # a search page's `count`
    next_page_url: str | None = None
    source_name: str = ""
    data: bytes = field(default=b"", repr=False)  # the bytes read: what the ledger keeps


def parse_json(raw: bytes, display: str, source_name: str | None = None) -> FrFile:
    """The documents in one file, whatever form the API gave them in.

    ``display`` names the file in messages; ``source_name`` in the graph
    (``kg.pipeline.build.provenance_name`` for a local file, the URL for a fetched
    answer; ``display`` when not given).
    """
    parsed = _parse_json(raw, display)
    parsed.source_name = source_name or display
    parsed.data = raw
    digest = hashlib.sha256(raw).hexdigest()
    for doc in parsed.documents:
        doc.source_name, doc.digest = parsed.source_name, digest
    return parsed


def _decode(raw: bytes, display: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise refuse(display, line, f"not UTF-8 text (byte {exc.start}); the Federal Register API answers UTF-8 "
                     "JSON") from None


def _json_error(display: str, text: str, exc: json.JSONDecodeError) -> SourceFailed:
    message = exc.msg[0].lower() + exc.msg[1:]
    if message.endswith(" at"):
        message = message[:-3]
    end = len(text.rstrip())
    truncated = exc.pos >= end - 1 or (message.startswith("unterminated") and text.rstrip()[-1:] not in "}]")
    hint = (f"; the file ends at character {end}, inside a value: it looks truncated" if truncated else "")
    return SourceFailed([InputProblem(display, exc.lineno, str(exc.colno),
                                      f"not valid JSON: {message} at character {exc.pos}{hint}")])


def _parse_json(raw: bytes, display: str) -> FrFile:
    nul = nul_problem(raw, display)
    if nul is not None:
        raise refuse(display, nul.line, nul.message)
    text_ = _decode(raw, display)
    if not text_.strip():
        raise refuse(display, 1, "the file is empty")
    escaped = _ESCAPED_NUL.search(text_)
    if escaped is not None:  # "\u0000" in a string: valid JSON, but a NUL in the value all the same
        raise refuse(display, text_.count("\n", 0, escaped.start()) + 1, NUL_MESSAGE)
    try:
        top = json.loads(text_)
    except RecursionError:
        raise refuse(display, 1, "nested too deep to be a Federal Register answer (arrays or objects inside "
                     "each other hundreds of times); nothing was imported") from None
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise _json_error(display, text_, exc) from None
        return _json_lines(text_, display)
    if isinstance(top, dict) and "results" in top:
        results = top["results"]
        if not isinstance(results, list):
            raise refuse(display, 1, "`results` must be a list of documents", "$.results")
        docs = [_document(display, text_, r, f"$.results[{i}]") for i, r in enumerate(results)]
        count = top.get("count") if isinstance(top.get("count"), int) else None
        nxt = top.get("next_page_url") if isinstance(top.get("next_page_url"), str) else None
        return FrFile(display, "search results page", docs, count, nxt)
    if isinstance(top, dict):
        return FrFile(display, "document", [_document(display, text_, top, "$")])
    if isinstance(top, list):
        return FrFile(display, "JSON array", [_document(display, text_, d, f"$[{i}]") for i, d in enumerate(top)])
    raise refuse(display, 1, "neither a Federal Register document nor a search-results page (expected a JSON "
                 "object)", "$")


_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def _json_lines(text_: str, display: str) -> FrFile:
    docs = []
    for number, line in enumerate(text_.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except RecursionError:
            raise refuse(display, number, "nested too deep to be a Federal Register document") from None
        except json.JSONDecodeError as exc:
            raise SourceFailed([InputProblem(display, number, str(exc.colno),
                                             f"not valid JSON (JSON lines, one document a line): {exc.msg}")]) \
                from None
        doc = _document(display, line, value, "$", number)
        docs.append(doc)
    return FrFile(display, "JSON lines", docs)


def _line_of(text_: str, number: str) -> int:
    at = text_.find(f'"{number}"')
    return text_.count("\n", 0, at) + 1 if at >= 0 else 1


_STRING_FIELDS = ("title", "type", "action", "subtype", "abstract", "citation", "html_url", "pdf_url", "json_url",
                  "correction_of", "signing_date")
_DATE_FIELDS = ("publication_date", "effective_on", "signing_date")


def _document(display: str, text_: str, value: Any, path: str, line: int | None = None) -> FrDocument:
    """Check one document's fields; refuse the file naming the JSON path of the first wrong one."""
    if not isinstance(value, dict):
        raise refuse(display, line or 1, "a document must be a JSON object", path)
    number = value.get("document_number")
    if not isinstance(number, str) or not number.strip():
        raise refuse(display, line or 1, "a document needs its `document_number` (a string)",
                     f"{path}.document_number")
    at = line or _line_of(text_, number)

    def wrong(name: str, expected: str) -> SourceFailed:
        return refuse(display, at, f"`{name}` must be {expected}, not {value[name]!r}", f"{path}.{name}")

    for name in _STRING_FIELDS:
        if value.get(name) is not None and not isinstance(value[name], str):
            raise wrong(name, "a string or null")
    for name in _DATE_FIELDS:
        if value.get(name) is not None and not _DATE.match(str(value[name])):
            raise wrong(name, "a date YYYY-MM-DD or null")
    for name in ("start_page", "end_page", "volume"):
        if value.get(name) is not None and (not isinstance(value[name], int) or isinstance(value[name], bool)):
            raise wrong(name, "a whole number or null")
    if isinstance(value.get("start_page"), int) and isinstance(value.get("end_page"), int) \
            and value["end_page"] < value["start_page"]:
        raise refuse(display, at, f"`end_page` {value['end_page']} is before `start_page` {value['start_page']}",
                     f"{path}.end_page")
    if value.get("type") is not None and value["type"] not in mapping()["types"]:
        raise refuse(display, at, f"unknown document type {value['type']!r}; the API's types are "
                     f"{', '.join(mapping()['types'])}", f"{path}.type")
    for name in ("regulation_id_numbers", "docket_ids", "corrections"):
        items = value.get(name)
        if items is not None and (not isinstance(items, list) or not all(isinstance(i, str) for i in items)):
            raise wrong(name, "a list of strings")
    refs = value.get("cfr_references")
    if refs is not None:
        if not isinstance(refs, list):
            raise wrong("cfr_references", "a list")
        for i, ref in enumerate(refs):
            if not isinstance(ref, dict) or not isinstance(ref.get("title"), int) \
                    or not isinstance(ref.get("part"), (str, int)) or isinstance(ref.get("part"), bool):
                raise refuse(display, at, "a CFR reference needs a `title` (number) and a `part`",
                             f"{path}.cfr_references[{i}]")
    agencies = value.get("agencies")
    if agencies is not None:
        if not isinstance(agencies, list):
            raise wrong("agencies", "a list")
        for i, agency in enumerate(agencies):
            if not isinstance(agency, dict) or not (agency.get("name") or agency.get("raw_name")):
                raise refuse(display, at, "an agency needs a `name` or `raw_name`", f"{path}.agencies[{i}]")
            for key in ("id", "parent_id"):
                if agency.get(key) is not None and not isinstance(agency[key], int):
                    raise refuse(display, at, f"`{key}` must be a number or null", f"{path}.agencies[{i}].{key}")
    eo = value.get("executive_order_number")
    if eo is not None and not isinstance(eo, (str, int)):
        raise wrong("executive_order_number", "a string, a number or null")
    return FrDocument(display, at, path if line is None else f"line {line}", value)


def read_files(paths: Iterable[tuple[Path, str]]) -> list[FrFile]:
    """Read every file first: one bad file refuses the whole import."""
    return [parse_json(read_input(path, display), display) for path, display in paths]


# --------------------------------------------------------------------------
# What the store holds
# --------------------------------------------------------------------------

def citation_key(value: str) -> tuple[int, int] | None:
    match = _CITATION.match(value or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass
class RuleIndex:
    """The store's rules by document number, citation, EO number and page range."""

    by_number: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    by_citation: dict[tuple[int, int], list[dict[str, Any]]] = field(default_factory=dict)
    by_eo: dict[str, dict[str, Any]] = field(default_factory=dict)
    placeholders: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # volume -> [(page, iri)]
    agencies_by_fr_id: dict[int, str] = field(default_factory=dict)  # parents named by their FR id
    agency_index: PartyIndex = field(default_factory=PartyIndex)  # by FR id and slug, then name (kg.sources.matching)
    agencies: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, store: ox.Store | None) -> RuleIndex:
        index = cls()
        for row in select(store, lookup_query("fr-rules")):
            if row["number"]:
                index.by_number.setdefault(row["number"].strip(), []).append(row)
            key = citation_key(row["citation"] or "")
            if key:
                index.by_citation.setdefault(key, []).append(row)
                if row["type"] == PLACEHOLDER.value:
                    index.placeholders.setdefault(key[0], []).append((key[1], row["rule"]))
            eo = _EO_CITATION.match(row["citation"] or "")
            for number in ([eo.group(1)] if eo else []) + ([row["eo"].strip()] if row["eo"] else []):
                index.by_eo.setdefault(number, row)
        for row in select(store, lookup_query("fr-agencies")):
            index.agencies.add(row["agency"])
            if row["frId"]:
                index.agencies_by_fr_id[int(row["frId"])] = row["agency"]
            ids = {AGENCY_ID: str(int(row["frId"]))} if row["frId"] else {}
            if row["frSlug"]:
                ids[AGENCY_SLUG] = row["frSlug"]
            index.agency_index.add(row["agency"], [row["name"]] if row["name"] else [], identifiers=ids,
                                   whose=whose(row["agency"]))
        return index


def is_curated(node: str) -> bool:
    return not (is_minted(node, "csl-") or is_minted(node, MINTED) or is_minted(node, "ofac-"))


# --------------------------------------------------------------------------
# Documents to triples
# --------------------------------------------------------------------------

def _clean_text(value: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", value))).strip()


def _number_of(reference: str) -> str | None:
    """A document number from `correction_of`/`corrections`: a number or an API/website URL."""
    value = reference.strip().split("?", 1)[0].rstrip("/")
    last = value.rsplit("/", 1)[-1]
    last = re.sub(r"\.json$", "", last)
    if re.fullmatch(r"[A-Z0-9]{1,3}-[0-9A-Z-]+|[0-9]{2,4}-[0-9]+", last):
        return last
    parts = value.split("/")
    for part in reversed(parts):  # website URLs end with a title slug: /documents/2019/05/21/2019-10616/title
        if re.fullmatch(r"(?:[0-9]{4}|[A-Z][0-9]|C[0-9]-[0-9]{4})-[0-9]+", part):
            return part
    return None


def rule_key(number: str, published: str | None) -> str:
    """The identifier of a rule minted for a document: old-style numbers ("00-111") are not unique."""
    if _MODERN_NUMBER.match(number) or not published:
        return f"{MINTED}{slug(number)}"
    return f"{MINTED}{slug(number)}-{published}"


# Curated column name -> predicate, for the single-valued fields compared with curated values.
_SINGLE = {
    "citation": DCT + "bibliographicCitation",
    "document_number": str(ELI.id_local),
    "publication_date": str(ELI.date_publication),
    "effective_date": str(ELI.first_date_entry_in_force),
    "signed_date": str(ELI.date_document),
    "type": str(TKG.ruleType),
    "url": str(SCHEMA.url),
    "start_page": str(SCHEMA.pageStart),
    "end_page": str(SCHEMA.pageEnd),
    "abstract": DCT + "abstract",
    "action": str(TKG.frAction),
    "executive_order_number": str(TKG.executiveOrderNumber),
    "pdf_url": str(TKG.pdfUrl),
    "json_url": str(TKG.jsonUrl),
}


class _Mapper:
    def __init__(self, store: ox.Store | None, plan: SourcePlan) -> None:
        self.store = store
        self.plan = plan
        self.index = RuleIndex.of(store)
        self.conf = mapping()
        self.emit: Emitter | None = None
        self.emitters: list[Emitter] = []
        self.seen: dict[str, str] = {}  # rule IRI -> where it was first read in this import
        self.merged: set[str] = set()  # placeholders merged away in this import
        self.minted_agencies: dict[str, ox.NamedNode] = {}
        self.shared = Emitter(store, ox.NamedNode(entity_iri("source", "none")), str(self.conf["confidence"]), "")

    # -- finding the rule ----------------------------------------------------
    def existing(self, doc: FrDocument) -> str | None:
        data = doc.data
        published = data.get("publication_date")
        for row in self.index.by_number.get(doc.number, []):
            if not published or not row["published"] or row["published"] == published:
                return str(row["rule"])
        key = citation_key(data.get("citation") or "")
        if key:
            rows = self.index.by_citation.get(key, [])
            curated = [r for r in rows if is_curated(r["rule"])]
            for row in curated + [r for r in rows if not is_curated(r["rule"])]:
                return str(row["rule"])
        eo = data.get("executive_order_number")
        if eo is not None and str(eo).strip() in self.index.by_eo:
            return str(self.index.by_eo[str(eo).strip()]["rule"])
        return None

    def in_range(self, doc: FrDocument, target: str) -> list[str]:
        """Placeholders cited at a page inside the document's range (not the target itself)."""
        data = doc.data
        key = citation_key(data.get("citation") or "")
        start, end = data.get("start_page"), data.get("end_page")
        if key is None or not isinstance(start, int):
            return []
        end = end if isinstance(end, int) else start
        return sorted({node for page, node in self.index.placeholders.get(key[0], [])
                       if start <= page <= end and node != target})

    # -- one document --------------------------------------------------------
    def document(self, doc: FrDocument) -> None:
        data = doc.data
        published = data.get("publication_date")
        found = self.existing(doc)
        node = ox.NamedNode(found or entity_iri("rule", rule_key(doc.number, published)))
        where = f"{doc.display} {doc.path}"
        if node.value in self.seen:
            self.plan.problems.append(f"{where}: document {doc.number} again (first read at {self.seen[node.value]}); "
                                      "the first is kept")
            self.plan.count("documents repeated")
            return
        self.seen[node.value] = where
        source = ox.NamedNode(entity_iri("source", rule_key(doc.number, published)))
        emit = Emitter(self.store, source, str(self.conf["confidence"]), doc.source_name or doc.display,
                       doc.digest or None)
        self.emitters.append(emit)
        self.emit = emit
        self.source_node(emit, source, doc)
        curated = found is not None and is_curated(found)
        if found is None:
            self.plan.count("rules added")
            emit.node(node, TKG.Rule, doc.line)
        elif curated:
            self.plan.count("curated rules enriched")
            emit.add(node, DCT + "source", source)
        else:
            self.plan.count("placeholder rules completed" if self._is_placeholder(node) else "imported rules updated")
            self.take_over(emit, node, doc)
        self.rule_facts(emit, node, doc, curated)
        for placeholder in self.in_range(doc, node.value):
            if placeholder not in self.merged:
                self.merge(emit, ox.NamedNode(placeholder), node)

    def _is_placeholder(self, node: ox.NamedNode) -> bool:
        return self.store is not None and ox.Quad(node, iri(TKG.ruleType), PLACEHOLDER, DEFAULT) in self.store

    def take_over(self, emit: Emitter, node: ox.NamedNode, doc: FrDocument) -> None:
        """A node this importer or the CSL minted: the document restates it, keeping its other sources."""
        kept = [q for q in emit.stored(node.value) if q.predicate.value == DCT + "source"]
        emit.node(node, TKG.Rule, doc.line)
        for quad in kept:
            emit.add(node, DCT + "source", quad.object)  # type: ignore[arg-type]

    def merge(self, emit: Emitter, placeholder: ox.NamedNode, target: ox.NamedNode) -> None:
        """A placeholder cited at a page inside the document: every link to it now goes to the document."""
        assert self.store is not None
        self.merged.add(placeholder.value)
        self.plan.count("page citations merged")
        for quad in self.store.quads_for_pattern(None, None, placeholder, DEFAULT):
            subject = quad.subject
            if isinstance(subject, ox.NamedNode) and self._is_derived(subject):
                continue  # derived rule effects are derived again on commit
            emit.drop(quad)
            emit.add(subject, quad.predicate, target)  # type: ignore[arg-type]
        for quad in self.store.quads_for_pattern(placeholder, None, None, DEFAULT):
            if quad.predicate.value == DCT + "source":
                emit.add(target, DCT + "source", quad.object)  # type: ignore[arg-type]
            emit.drop(quad)

    def _is_derived(self, subject: ox.NamedNode) -> bool:
        assert self.store is not None
        return ox.Quad(subject, RDF_TYPE, iri(TKG.RuleEffect), DEFAULT) in self.store

    def source_node(self, emit: Emitter, source: ox.NamedNode, doc: FrDocument) -> None:
        data = doc.data
        if not emit.node(source, TKG.Source, doc.line):
            return
        citation = f", {data['citation']}" if data.get("citation") else ""
        title = f"Federal Register document {doc.number}{citation} (federalregister.gov API JSON, " \
                f"{Path(emit.source_file).name})"
        emit.add(source, DCT + "title", text(title))
        emit.add(source, RDFS_LABEL, text(title))
        emit.add(source, TKG.publisherName, text(str(self.conf["publisher"])))
        emit.add(source, TKG.sourceKind, concept("source-kind", "federal-register"))
        url = data.get("json_url") or data.get("html_url")
        if isinstance(url, str) and re.match(r"^https?://\S+$", url):
            emit.add(source, SCHEMA.url, url_lit(url))
        if data.get("publication_date"):
            emit.add(source, DCT + "date", date_lit(data["publication_date"]))

    def rule_type(self, data: dict[str, Any]) -> str:
        kind = data.get("type")
        if kind is None:
            return "fr-document"
        action = (data.get("action") or "").strip().lower()
        for prefix, notation in self.conf["actions"].items():
            if action.startswith(prefix) and not (kind == "Rule" and "proposed" in prefix):
                return str(notation)
        return str(self.conf["types"][kind])

    def rule_facts(self, emit: Emitter, node: ox.NamedNode, doc: FrDocument, curated: bool) -> None:
        data = doc.data
        title = _clean_text(data.get("title") or "") or f"Federal Register document {doc.number}"
        values: dict[str, ox.Literal | ox.NamedNode] = {
            "document_number": text(doc.number), "type": concept("rule-type", self.rule_type(data)),
        }
        if data.get("citation"):
            values["citation"] = text(re.sub(r"\s+", " ", data["citation"].strip()))
        for name, column in (("publication_date", "publication_date"), ("effective_on", "effective_date"),
                             ("signing_date", "signed_date")):
            if data.get(name):
                values[column] = date_lit(data[name])
        for name in ("start_page", "end_page"):
            if isinstance(data.get(name), int):
                values[name] = int_lit(data[name])
        for name, column in (("html_url", "url"), ("pdf_url", "pdf_url"), ("json_url", "json_url")):
            url = data.get(name)
            if isinstance(url, str) and re.match(r"^https?://\S+$", url):
                values[column] = url_lit(url)
        if data.get("abstract"):
            values["abstract"] = text(_clean_text(data["abstract"]))
        if data.get("action"):
            values["action"] = text(data["action"].strip())
        if data.get("executive_order_number") is not None and str(data["executive_order_number"]).strip():
            values["executive_order_number"] = text(str(data["executive_order_number"]).strip())
        if curated:
            self.enrich(emit, node, doc, title, values)
        else:
            emit.add(node, DCT + "title", text(title))
            emit.add(node, RDFS_LABEL, text(title))
            for column, value in values.items():
                emit.add(node, _SINGLE[column], value)
            if data.get("type") is None:
                emit.add(node, SKOS + "note", text(
                    "Read from a Federal Register API answer that did not include the document's type; "
                    "the rule type is not recorded."))
        for ref in data.get("cfr_references") or []:
            emit.add(node, TKG.cfrPart, text(f"{ref['title']} CFR {str(ref['part']).strip()}"))
        for rin in data.get("regulation_id_numbers") or []:
            if rin.strip():
                if curated and self._differs(node, str(TKG.rin), text(rin.strip())):
                    self.conflict(doc, node, "rin", self._stored(node, str(TKG.rin)), rin.strip())
                    continue
                emit.add(node, TKG.rin, text(rin.strip()))
        for docket in data.get("docket_ids") or []:
            value = _DOCKET_PREFIX.sub("", docket).strip()
            if value:
                emit.add(node, TKG.docketId, text(value))
        for agency in self.issuing_agencies(emit, doc):
            emit.add(node, ELI.passed_by, agency)
        if data.get("correction_of"):
            corrected = self.linked_rule(emit, data["correction_of"], doc)
            if corrected is not None:
                emit.add(node, TKG.correctionOf, corrected)
        for correction in data.get("corrections") or []:
            target = self.linked_rule(emit, correction, doc)
            if target is not None:
                emit.add(node, TKG.correctedBy, target)

    def _stored(self, node: ox.NamedNode, predicate: str) -> list[str]:
        if self.store is None:
            return []
        return sorted(q.object.value for q in self.store.quads_for_pattern(node, iri(predicate), None, DEFAULT))

    def _differs(self, node: ox.NamedNode, predicate: str, value: ox.Literal | ox.NamedNode) -> bool:
        stored = self._stored(node, predicate)
        return bool(stored) and value.value not in stored

    def conflict(self, doc: FrDocument, node: ox.NamedNode, column: str, curated: list[str], theirs: str) -> None:
        name = node.value.rsplit("/", 1)[-1]
        self.plan.conflicts.append(
            f"rule {name}: {column} is {'; '.join(curated)} in the curated data and {theirs} in Federal Register "
            f"document {doc.number} ({doc.display}); the curated value is kept")

    def enrich(self, emit: Emitter, node: ox.NamedNode, doc: FrDocument, title: str,
               values: dict[str, ox.Literal | ox.NamedNode]) -> None:
        """A curated rule: add what it lacks, report what differs, never overwrite."""
        stored_titles = self._stored(node, DCT + "title")
        if stored_titles and title not in stored_titles:
            self.conflict(doc, node, "title", stored_titles, repr(title) + " (added as a short title)")
            emit.add(node, SKOS + "altLabel", text(title))
        for column, value in values.items():
            predicate = _SINGLE[column]
            stored = self._stored(node, predicate)
            if not stored:
                emit.add(node, predicate, value)
            elif value.value not in stored:
                shown = [s.rsplit("/", 1)[-1] if column == "type" else s for s in stored]
                self.conflict(doc, node, column, shown, value.value.rsplit("/", 1)[-1] if column == "type"
                              else value.value)

    def linked_rule(self, emit: Emitter, reference: str, doc: FrDocument) -> ox.NamedNode | None:
        number = _number_of(reference)
        if number is None:
            self.plan.problems.append(f"{doc.display} {doc.path}: cannot read a document number from {reference!r}; "
                                      "the correction link is left out")
            return None
        rows = self.index.by_number.get(number, [])
        if rows:
            return ox.NamedNode(str(rows[0]["rule"]))
        node = ox.NamedNode(entity_iri("rule", rule_key(number, None)))
        if self.store is not None and ox.Quad(node, RDF_TYPE, iri(TKG.Rule), DEFAULT) in self.store:
            return node
        if node.value in self.seen:
            return node
        if emit.node(node, TKG.Rule, doc.line):
            label = f"Federal Register document {number}"
            emit.add(node, DCT + "title", text(label))
            emit.add(node, RDFS_LABEL, text(label))
            emit.add(node, ELI.id_local, text(number))
            emit.add(node, TKG.ruleType, PLACEHOLDER)
            emit.add(node, SKOS + "note", text(
                f"Known only as a correction link of Federal Register document {doc.number}; not imported "
                "(title, type and dates not recorded)."))
        return node

    # -- agencies -------------------------------------------------------------
    def issuing_agencies(self, emit: Emitter, doc: FrDocument) -> list[ox.NamedNode]:
        agencies = [a for a in doc.data.get("agencies") or [] if isinstance(a, dict)]
        parents = {a.get("parent_id") for a in agencies if a.get("parent_id") is not None}
        by_id = {a["id"]: a for a in agencies if a.get("id") is not None}
        nodes = []
        for agency in agencies:
            node = self.agency(emit, agency, by_id, doc)
            if agency.get("id") is None or agency["id"] not in parents:
                nodes.append(node)
        return nodes

    def agency(self, emit: Emitter, agency: dict[str, Any], by_id: dict[int, dict[str, Any]],
               doc: FrDocument) -> ox.NamedNode:
        fr_id, fr_slug = agency.get("id"), agency.get("slug")
        name = _clean_text(agency.get("name") or agency.get("raw_name") or "")
        ids = {AGENCY_ID: str(fr_id)} if fr_id is not None else {}
        if fr_slug:
            ids[AGENCY_SLUG] = fr_slug
        hit = self.index.agency_index.match([], identifiers=ids)
        found = hit.iri if hit else None
        if not found and fr_slug and fr_slug in self.conf["agencies"]:
            candidate = entity_iri("agency", str(self.conf["agencies"][fr_slug]))
            if candidate in self.index.agencies:
                found = candidate
        if not found:
            hit = self.index.agency_index.match([n for n in (name, agency.get("raw_name")) if n])
            found = hit.iri if hit else None
        if found:
            return ox.NamedNode(found)
        key = fr_slug or slug(name)
        if key in self.minted_agencies:
            return self.minted_agencies[key]
        node = ox.NamedNode(entity_iri("agency", f"{MINTED}{slug(key)}"))
        self.minted_agencies[key] = node
        self.plan.count("agencies added")
        emit.node(node, TKG.Agency, doc.line)
        emit.add(node, SCHEMA.name, text(name))
        emit.add(node, RDFS_LABEL, text(name))
        raw = _clean_text(agency.get("raw_name") or "")
        if raw and normalise(raw) != normalise(name):
            emit.add(node, SKOS + "altLabel", text(raw))
        if fr_id is not None:
            emit.add(node, TKG.frAgencyId, int_lit(fr_id))
        if fr_slug:
            emit.add(node, TKG.frAgencySlug, text(fr_slug))
        parent_id = agency.get("parent_id")
        if parent_id is not None:
            parent = by_id.get(parent_id)
            if parent is not None and parent is not agency:
                emit.add(node, ORG_SUB, self.agency(emit, parent, by_id, doc))
            elif parent_id in self.index.agencies_by_fr_id:
                emit.add(node, ORG_SUB, ox.NamedNode(self.index.agencies_by_fr_id[parent_id]))
            else:
                emit.add(node, SKOS + "note", text(
                    f"The Federal Register names its parent agency only by API id {parent_id}, which this "
                    "import did not include; the parent is not recorded."))
        return node


def plan_import(files: list[FrFile], store: ox.Store | None) -> SourcePlan:
    """Map every document and compute the exact change to the store (nothing is written here)."""
    plan = SourcePlan("federal-register", [f.source_name or f.display for f in files])
    mapper = _Mapper(store, plan)
    for file in files:
        plan.count(f"files read ({file.form})")
        for doc in file.documents:
            plan.count("documents read")
            mapper.document(doc)
    combined = Emitter(store, mapper.shared.source, str(mapping()["confidence"]), "")
    for emit in mapper.emitters:
        for subject, quads in emit.by_subject.items():
            combined.by_subject.setdefault(subject, set()).update(quads)
        combined.owned |= emit.owned
        combined.dropped |= emit.dropped
    for node in mapper.merged:
        combined.by_subject.pop(node, None)
    return combined.plan(plan)


def placeholder_citations(store: ox.Store | None) -> list[str]:
    """What ``--fetch-missing`` asks the API for: each placeholder's document number or citation."""
    wanted: dict[str, None] = {}
    for row in select(store, lookup_query("fr-placeholders")):
        if row["number"]:
            wanted.setdefault(row["number"], None)
        elif row["citation"] and citation_key(row["citation"]):
            wanted.setdefault(row["citation"], None)
    return list(wanted)


def is_fr_minted(node: str) -> bool:
    return node.startswith(str(DATA)) and is_minted(node, MINTED)
