"""Import the trade.gov Consolidated Screening List (CSL) CSV into the graph.

Users do not type the Entity List by hand: they download the CSL. Each row
becomes the same model the curated tables use, so the shapes, the derivation
rules and the saved queries work on it unchanged:

* the party (``tkg:Company``, ``tkg:Person``, ``tkg:Vessel`` or ``tkg:Aircraft``)
  with its name and aliases; a curated party with the same name (and no
  conflicting country) is reused instead of a new node;
* the list (one per CSL ``source``), reusing the curated list when its name or
  short name matches, with its maintaining agency;
* a ``tkg:Designation`` with start and end dates, license requirement and
  policy, programs, remarks, addresses, countries, identifiers, the CSL record
  id, and the rules its ``federal_register_notice`` cites (the first cited rule
  made the entry, the later ones modified it). A citation that matches a
  curated rule's ``dcterms:bibliographicCitation`` links to that rule; any
  other becomes a minimal rule node known only by its citation;
* Entity List rows "Parent (Alias). Affiliated Entity: X" become X with
  ``tkg:affiliateOf`` the parent, so the derived facts reach affiliates.

The importer has the shape every source importer shares (``kg.sources.base``):

1. **read**: ``kg.sources.csl_read.read_csl`` gives plain records (``CslFile``,
   ``CslRow``) or refuses the file (``NotACslFile``, a ``base.SourceFailed``);
2. **map**: ``_Mapper.row`` takes each row through named steps (``accept``,
   ``list_and_party``, ``entry_identity``, ``rules_cited``, ``entry_dates``,
   ``affiliation``, ``rule_links``, ``licence``, ``attributes``) into a
   ``base.Emitter``;
3. **plan**: ``plan_import`` returns an ``ImportPlan`` (a ``base.SourcePlan``):
   ``Emitter.plan`` computes, against the store, exactly which triples change;
4. **commit**: ``kg.sources.csl_import.commit`` validates and writes them
   (``kg.pipeline.incremental.commit_delta``) and records the ledger entry.

Nothing is dropped silently: a row that cannot be mapped is returned as a
``RowProblem`` with its line and reason. Re-importing the same file changes
nothing, and a newer file end-dates the imported designations it no longer has.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import RDFS, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, SKOS, XSD

from kg.answers.resolve import normalise
from kg.graph.backend import EmbeddedBackend
from kg.graph.terms import to_oxigraph
from kg.namespaces import ELI, SCHEMA, TKG, concept_iri, entity_iri
from kg.resources import data_mapping, lookup_query
from kg.sources.base import Emitter, SourcePlan, is_minted, short_hash, slug
from kg.sources.csl_read import (  # the read step; its names stay importable from here
    _CITATION,
    CURRENT_HEADER,
    LEGACY_HEADER,
    CslFile,
    CslRow,
    ListSource,
    NotACslFile,
    PartyName,
    RowProblem,
    _clean,
    _country,
    address_country,
    parse_citations,
    parse_date,
    parse_source,
    read_csl,
    split_footnotes,
    split_multi,
    split_name,
)
from kg.sources.matching import (
    BY_INFERRED_PAGE,
    DesignationFacts,
    DesignationIndex,
    Match,
    PartyIndex,
    RuleFacts,
    RuleIndex,
    fr_document_numbers,
    whose,
)

# The read step's names stay importable from here (kg.sources.csl is the importer users and tests name).
__all__ = ["CURRENT_HEADER", "LEGACY_HEADER", "CslFile", "CslRow", "ImportPlan", "ListSource", "NotACslFile",
           "PartyName", "RowProblem", "StoreView", "address_country", "license_policy", "parse_citations",
           "parse_date", "parse_source", "plan_import", "read_csl", "split_footnotes", "split_multi", "split_name"]

# Columns with no dedicated term, kept as "column: value" (tkg:cslAttribute).
_PARTY_EXTRAS = ("title", "call_sign", "vessel_type", "gross_tonnage", "gross_registered_tonnage",
                 "vessel_flag", "vessel_owner", "dates_of_birth", "places_of_birth")
_ENTRY_EXTRAS = ("entity_number", "standard_order", "source_list_url", "source_information_url")

MINTED = "csl-"  # identifiers the importer mints start with this; curated ones never do
ENTRY_ID = "list entry id"  # identifier scheme of a list's own number for an entry (CSL entity_number)


@dataclass(kw_only=True)
class ImportPlan(SourcePlan):
    """What importing one CSL file changes in the store, before it is written.

    A ``base.SourcePlan`` (removals, additions, focus, entries ended and
    active per list, ``mass_endings``), with what the CSL import reports:
    rows per list, the rows it could not map, designations new, merged,
    changed, unchanged and ended, and how each citation was resolved.
    """

    file: CslFile
    rows_per_list: dict[str, int] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)  # type: ignore[assignment]
    new_designations: int = 0
    merged_designations: int = 0  # entries that became source records of a designation the store held
    merged: list[tuple[int, str, str, str, str]] = field(default_factory=list)  # line, name, into, how, why
    citations: dict[str, str] = field(default_factory=dict)  # citation -> how it was resolved
    changed_designations: int = 0
    unchanged_designations: int = 0
    ended_designations: int = 0

    @property
    def linked_to_curated(self) -> dict[str, int]:
        """Rows and citations that landed on nodes the store held (``SourcePlan.linked``)."""
        return self.linked

    @property
    def changes(self) -> bool:
        return bool(self.removals or self.additions)


# --------------------------------------------------------------------------
# Mapping configuration (data/csl.yml) and what the store already holds
# --------------------------------------------------------------------------

def mapping() -> dict[str, Any]:
    return data_mapping("csl.yml")


def license_policy(text: str) -> str:
    """The license-policy notation a CSL policy text maps to (see-entry when none fits)."""
    key = re.sub(r"[^a-z ]+", " ", text.lower())
    key = re.sub(r"\s+", " ", key).strip()
    for prefix, notation in mapping()["license_policy"].items():
        wanted = re.sub(r"\s+", " ", re.sub(r"[^a-z ]+", " ", prefix.lower())).strip()
        if key.startswith(wanted):
            return str(notation)
    return "see-entry"




def _is_minted(iri: str) -> bool:
    return is_minted(iri, MINTED)


@dataclass(frozen=True)
class EntryAddition:
    """A curated row of entry_additions.csv: which entries of a list a rule added or revised."""

    iri: str
    rule: str
    list: str
    entry: str | None
    sub_entries: bool
    action: str
    affiliate_of: str | None


@dataclass
class StoreView:
    """What the importer needs to know about the store before mapping rows."""

    parties: PartyIndex = field(default_factory=PartyIndex)  # curated parties, by name
    rules: RuleIndex = field(default_factory=RuleIndex)  # every rule, by citation, document number, pages
    lists: dict[str, str] = field(default_factory=dict)  # name/short name -> iri
    agencies: dict[str, str] = field(default_factory=dict)
    designations: dict[str, dict[str, Any]] = field(default_factory=dict)  # CSL-imported iri -> record
    entries: DesignationIndex = field(default_factory=DesignationIndex)  # designations not imported from a CSL
    designated_by: dict[str, set[str]] = field(default_factory=dict)  # designation -> rules that made it
    rule_dates: dict[str, str] = field(default_factory=dict)  # rule -> its effective (else publication) date
    rule_citations: dict[str, str] = field(default_factory=dict)  # rule -> its citation or label, for notes
    additions: list[EntryAddition] = field(default_factory=list)  # curated: which entries each rule added
    store: ox.Store | None = None

    def sub_entry_addition(self, list_iri: str, parent: PartyName) -> EntryAddition | None:
        """The curated addition that says which rule added the sub-entries printed under ``parent``."""
        names = {normalise(n) for n in (parent.primary, parent.printed, *parent.aliases, *parent.match_names)}
        found = [a for a in self.additions if a.sub_entries and a.action == "added" and a.list == list_iri
                 and a.entry is not None and normalise(a.entry) in names]
        return found[0] if len(found) == 1 else None

    def affiliation(self, list_iri: str, rule: str, parent: PartyName | None) -> EntryAddition | None:
        """The curated addition saying the entries ``rule`` made (or the sub-entries under ``parent``) are
        affiliates of a firm."""
        for a in self.additions:
            if a.action != "added" or a.list != list_iri or a.rule != rule or a.affiliate_of is None:
                continue
            if parent is None and not a.sub_entries and a.entry is None:
                return a
            if parent is not None and a.sub_entries and a.entry is not None and \
                    normalise(a.entry) in {normalise(n) for n in (parent.primary, *parent.match_names)}:
                return a
        return None

    @classmethod
    def of(cls, store: ox.Store | None) -> StoreView:
        view = cls(store=store)
        if store is None:
            return view
        backend = EmbeddedBackend(store)
        for row in backend.select(lookup_query("csl-parties")).rows:
            iri = str(row["entity"])
            if whose(iri) == "CSL-imported":
                continue
            country = row.get("country")
            view.parties.add(iri, [str(row["name"])], str(country) if country is not None else None, whose=whose(iri))
        for row in backend.select(lookup_query("rule-identities")).rows:
            view.rules.add(RuleFacts(
                str(row["rule"]), _text(row.get("citation")), _text(row.get("documentNumber")),
                _int(row.get("startPage")), _int(row.get("endPage")), _text(row.get("label")),
                placeholder=_is_minted(str(row["rule"]))))
            day = _text(row.get("effective")) or _text(row.get("published"))
            if day:
                view.rule_dates.setdefault(str(row["rule"]), day)
            view.rule_citations.setdefault(str(row["rule"]), _text(row.get("citation")) or _text(row.get("label"))
                                           or str(row["rule"]))
        for row in backend.select(lookup_query("entry-additions")).rows:
            view.additions.append(EntryAddition(
                str(row["addition"]), str(row["rule"]), str(row["list"]), _text(row.get("entry")),
                str(row.get("subEntries", "false")).lower() in ("true", "1"), str(row["action"]),
                _text(row.get("affiliateOf"))))
        entries: dict[str, dict[str, Any]] = {}
        for row in backend.select(lookup_query("designation-identities")).rows:
            if row.get("cslRecord") is not None:
                continue  # this importer's own entries are found by their record id
            iri = str(row["designation"])
            entry = entries.setdefault(iri, {"party": str(row["party"]), "list": str(row["list"]),
                                             "start": _text(row.get("start")), "end": _text(row.get("end")),
                                             "ids": set()})
            if row.get("rule") is not None:
                view.designated_by.setdefault(iri, set()).add(str(row["rule"]))
            if row.get("entryId") is not None:
                entry["ids"].add((ENTRY_ID, str(row["entryId"])))
        for iri, entry in entries.items():
            view.entries.add(DesignationFacts(iri, entry["party"], entry["list"], entry["start"], entry["end"],
                                              tuple(sorted(entry["ids"]))))
        for row in backend.select(lookup_query("csl-lists")).rows:
            target = view.lists if str(row["kind"]) == "list" else view.agencies
            target.setdefault(normalise(str(row["name"])), str(row["entity"]))
        for row in backend.select(lookup_query("csl-designations")).rows:
            view.designations[str(row["designation"])] = {
                "kind": str(row["kind"]),
                "list": str(row["list"]), "start": str(row["start"]),
                "known_since": _text(row.get("knownSince")),
                "text_from": _text(row.get("textFrom")),
                "end": str(row["end"]) if row.get("end") is not None else None,
                "note": str(row["note"]) if row.get("note") is not None else None,
            }
        return view

    def subject_quads(self, iri: str) -> set[ox.Quad]:
        if self.store is None:
            return set()
        return set(self.store.quads_for_pattern(ox.NamedNode(iri), None, None, ox.DefaultGraph()))


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _int(value: Any) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


# --------------------------------------------------------------------------
# Rows to triples
# --------------------------------------------------------------------------

# The identifiers every importer mints (kg.sources.base): the slug hashes the original text, not the
# folded one, since every all-non-ASCII text folds to "".
_hash = short_hash
_slug = slug


class _CslEmitter(Emitter):
    """The shared Emitter (kg.sources.base), stating the file's hash on every node it mints, as the CSL
    importer always has (OFAC's and the Federal Register's state it on their source node only)."""

    def node(self, s: ox.NamedNode, cls: ox.NamedNode | str, line: int, source_file: str | None = None,
             source: ox.NamedNode | None = None) -> bool:
        if not super().node(s, cls, line, source_file, source):
            return False
        if str(cls) != str(TKG.Source) and self.source_hash is not None:
            self.add(s, TKG.sourceHash, self.source_hash)
        return True


@dataclass
class _Entry:
    """One row on its way through the mapping steps: its cells, then what each step decided."""

    row: CslRow
    cells: dict[str, str]
    source_text: str
    kind: str
    start: date | None
    end: date | None
    addresses: list[str]
    countries: list[str]
    name: PartyName
    record: str
    designation: URIRef  # the designation, or the source record once merged into a held entry
    list_iri: URIRef | None = None
    party: URIRef = field(default_factory=lambda: URIRef(""))
    party_match: Match | None = None
    target: URIRef | None = None  # the held designation this row's record merged into
    known: dict[str, Any] | None = None  # what the store holds about this designation
    notice: str = ""
    rules: list[URIRef] = field(default_factory=list)
    made_by: URIRef | None = None
    made_on: str | None = None
    sub_addition: EntryAddition | None = None


_DATATYPES: dict[URIRef, ox.NamedNode] = {}


def _lit(value: str, datatype: URIRef | None = None) -> ox.Literal:
    """The literal the mapper states, made as Oxigraph's directly. An rdflib Literal made only to be
    converted cost about 5 us (it parses a date and checks the form): a second of the 240,000
    literals of a 13,000-row file. The values are the mapper's own strings, dates in ISO form."""
    if datatype is None:
        return ox.Literal(value)
    named = _DATATYPES.get(datatype)
    if named is None:
        named = _DATATYPES[datatype] = ox.NamedNode(str(datatype))
    return ox.Literal(value, datatype=named)


class _Mapper:
    def __init__(self, csl: CslFile, view: StoreView, as_of: date):
        self.csl = csl
        self.view = view
        self.as_of = as_of
        self.conf = mapping()
        self.problems: list[RowProblem] = []
        self.rows_per_list: dict[str, int] = {}
        self.designations: set[str] = set()
        self.lists: set[str] = set()
        self.record_ids: dict[str, int] = {}
        self.linked: dict[str, int] = {}
        self.records: set[str] = set()  # source records merged into designations the store holds
        self.superseded: set[str] = set()  # CSL designations of earlier imports that are now records
        self.merges: list[tuple[int, str, Match]] = []  # (line, printed name, how it was matched)
        self.rule_matches: dict[str, str] = {}  # citation -> how it was resolved
        self.resolutions: dict[str, str] = {}  # page citations matched to a rule by an inferred range
        self.iris: dict[URIRef, ox.NamedNode | ox.BlankNode | ox.Literal] = {}  # see iri()
        self.source = URIRef(entity_iri("source", f"{MINTED}{csl.digest[:16]}"))
        # Provenance by content (base.first_name): the file is named as it was when this content (this
        # source node) was first imported, so the same bytes under a new name (a dated daily download)
        # change nothing.
        self.emit = _CslEmitter(view.store, ox.NamedNode(str(self.source)), str(self.conf["confidence"]),
                                csl.source_name or Path(csl.display).name, csl.digest)
        self.file_name = Literal(self.emit.source_file)

    # -- helpers ------------------------------------------------------------
    @property
    def minted(self) -> set[str]:
        """The nodes this import mints (and so owns: replaced as a whole by what this file says)."""
        return self.emit.owned

    def add(self, s: URIRef, p: URIRef, o: Any) -> None:
        if type(o) is URIRef:
            o = self.iri(o)
        elif type(o) is not ox.Literal:
            o = to_oxigraph(o)
        self.emit.add(self.iri(s), self.iri(p), o)  # type: ignore[arg-type]

    def iri(self, term: URIRef) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        """``term`` as Oxigraph's, each IRI made once: a row states ten triples about its few nodes."""
        node = self.iris.get(term)
        if node is None:
            node = self.iris[term] = to_oxigraph(term)
        return node

    def node(self, iri: URIRef, cls: URIRef, line: int) -> bool:
        """Give a minted node its type and bookkeeping once (``Emitter.node``); False if it already has them."""
        return self.emit.node(ox.NamedNode(str(iri)), str(cls), line)

    def source_node(self) -> None:
        if self.node(self.source, TKG.Source, 1):
            title = _lit(f"Consolidated Screening List CSV {Path(str(self.file_name)).name} "
                         f"(sha256 {self.csl.digest[:16]}, {self.csl.layout} layout)")
            self.add(self.source, DCTERMS.title, title)
            self.add(self.source, RDFS.label, title)  # so `show` names it among a designation's sources
            self.add(self.source, TKG.publisherName, _lit(str(self.conf["publisher"])))
            self.add(self.source, TKG.sourceKind, URIRef(concept_iri("source-kind", "dataset")))

    # -- lists, agencies, rules ---------------------------------------------
    def agency(self, text: str, line: int) -> URIRef:
        mapped = self.conf["agencies"].get(text)
        if mapped:
            iri = entity_iri("agency", str(mapped))
            if self.view.store is None or iri in self.view.agencies.values():
                return URIRef(iri)
        found = self.view.agencies.get(normalise(text))
        if found:
            return URIRef(found)
        iri = URIRef(entity_iri("agency", f"{MINTED}{_slug(text)}"))
        if self.node(iri, TKG.Agency, line):
            self.add(iri, SCHEMA.name, _lit(text))
            self.add(iri, RDFS.label, _lit(text))
        return iri

    def list_node(self, source_text: str, row: CslRow) -> URIRef:
        source = parse_source(source_text)
        for key in (source.code, source.name, _clean(source_text)):
            found = self.view.lists.get(normalise(key)) if key else None
            if found:
                self.lists.add(found)
                return URIRef(found)
        iri = URIRef(entity_iri("list", f"{MINTED}{_slug(source.code or source.name)}"))
        if self.node(iri, TKG.RestrictedPartyList, row.line):
            self.add(iri, DCTERMS.title, _lit(source.name))
            self.add(iri, RDFS.label, _lit(source.name))
            if source.code:
                self.add(iri, SKOS.altLabel, _lit(source.code))
            self.add(iri, DCTERMS.publisher, self.agency(source.agency or "unknown agency", row.line))
            url = row.cells.get("source_list_url", "").strip()
            if re.match(r"^https?://\S+$", url):
                self.add(iri, SCHEMA.url, _lit(url, datatype=XSD.anyURI))
        self.lists.add(str(iri))
        return iri

    def rule(self, citation: str, line: int) -> URIRef:
        """The rule a citation or FR document number names (kg.sources.matching), or a placeholder that says so."""
        found = self.view.rules.match(citation)
        if found:
            self.linked["rules"] = self.linked.get("rules", 0) + 1
            self.rule_matches.setdefault(citation, found.explanation)
            if found.method == BY_INFERRED_PAGE:  # a printed range is a fact; an inferred one is said on the entry
                self.resolutions[citation] = found.explanation
            return URIRef(found.iri)
        is_page = bool(_CITATION.fullmatch(citation))
        iri = URIRef(entity_iri("rule", f"{MINTED}fr-{_slug(citation.replace(' FR ', '-'))}"))
        if self.node(iri, TKG.Rule, line):
            self.rule_matches.setdefault(citation, "document not identified: placeholder rule")
            title = (f"cited as {citation}; document not identified" if is_page
                     else f"FR document {citation}; document not identified")
            self.add(iri, DCTERMS.title, _lit(title))
            self.add(iri, RDFS.label, _lit(title))
            self.add(iri, DCTERMS.bibliographicCitation if is_page else ELI.id_local, _lit(citation))
            self.add(iri, TKG.ruleType, URIRef(concept_iri("rule-type", "fr-document")))
            self.add(iri, SKOS.note, _lit(
                f"Known only as cited in a CSL federal_register_notice cell ({citation}). No loaded rule has "
                "this citation or document number, nor a page range that holds this page, so the document "
                "is not identified: its title, type and dates are not known and none is recorded."))
        return iri

    # -- parties ------------------------------------------------------------
    def party(self, name: PartyName, kind: str, countries: list[str], row: CslRow,
              aliases: Iterable[str] = ()) -> tuple[URIRef, Match | None]:
        """The party node, and how it was matched to a curated party (None when it is minted)."""
        curated = self.view.parties.match(name.match_names, countries)
        if curated is not None:
            self.linked["parties"] = self.linked.get("parties", 0) + 1
            return URIRef(curated.iri), curated
        key_extra = row.cells.get("dates_of_birth", "") if kind == "person" else ""
        country = countries[0] if countries else ""
        iri = URIRef(entity_iri(kind, f"{MINTED}{_hash(kind, normalise(name.primary), country, key_extra)}"))
        cls = {"company": TKG.Company, "person": TKG.Person, "vessel": TKG.Vessel, "aircraft": TKG.Aircraft}[kind]
        if self.node(iri, cls, row.line):
            name_predicate = {"company": SCHEMA.legalName, "person": FOAF.name}.get(kind, SCHEMA.name)
            self.add(iri, name_predicate, _lit(name.primary))
            self.add(iri, RDFS.label, _lit(name.primary))
            if kind == "company" and len(set(countries)) == 1:
                self.add(iri, SCHEMA.addressCountry, _lit(countries[0]))
            for column in _PARTY_EXTRAS:
                value = _clean(row.cells.get(column, ""))
                if value:
                    self.add(iri, TKG.cslAttribute, _lit(f"{column}: {value}"))
        for alias in (*name.aliases, *aliases):
            if normalise(alias) != normalise(name.primary):
                self.add(iri, SKOS.altLabel, _lit(alias))
        return iri, None

    # -- dates and family --------------------------------------------------------
    def dates(self, designation: URIRef, start: date | None, end: date | None, made_by: URIRef | None,
              made_on: str | None, sub_addition: EntryAddition | None, known: dict[str, Any] | None) -> None:
        """The entry's start: the effective date of the rule that made it when the graph knows that rule
        (the CSL's own date kept beside it); else the CSL's start_date; else no start at all, only the
        date of the first file that held the row (tkg:knownSince): "listed on or before"."""
        add = self.add
        csl_day = start.isoformat() if start else None
        if made_on and (end is None or made_on <= end.isoformat()):
            add(designation, SCHEMA.startDate, _lit(made_on, datatype=XSD.date))
            cited = self.view.rule_citations.get(str(made_by), str(made_by))
            how = (f"the effective date of {cited}, which added this sub-entry under its entry (curated record of "
                   f"the rule, entry_additions.csv)" if sub_addition is not None
                   else f"the effective date of {cited}, the rule the CSL cites first for this entry")
            add(designation, TKG.startDateBasis, _lit(how))
            if csl_day and csl_day != made_on:
                add(designation, TKG.sourceStartDate, _lit(csl_day, datatype=XSD.date))
            return
        if csl_day:
            add(designation, SCHEMA.startDate, _lit(csl_day, datatype=XSD.date))
            add(designation, TKG.startDateBasis, _lit("the CSL's start_date (the rule it cites first has no "
                                                      "recorded date in the graph)"))
            return
        first_seen = (known.get("known_since") or known["start"]) if known else self.as_of.isoformat()
        if end is not None and end.isoformat() < first_seen:
            first_seen = end.isoformat()  # it ended before tradekg first read it: held on its end date at least
        add(designation, TKG.knownSince, _lit(first_seen, datatype=XSD.date))
        add(designation, SKOS.note, _lit(
            f"The CSL row gives no start date: the entry was listed on or before {first_seen}, the date of the "
            "first CSL file that held it; its listing date is not known."))

    def text_dates(self, designation: URIRef, made_by: URIRef | None, rules: list[URIRef],
                   known: dict[str, Any] | None) -> None:
        """From when the licence requirement and policy the CSL prints are known to hold: the CSL prints
        today's text, which a later rule may have rewritten (the FDP footnote of 2020 is not the 2019
        text). When every rule cited for the entry has a known date, the text holds from the latest;
        otherwise only from the date of the first file that printed it. Before that, answers say the
        text of that date is not known."""
        dates = [self.view.rule_dates.get(str(r)) for r in ([made_by] if made_by else []) + rules]
        if dates and all(dates):
            since = max(d for d in dates if d)
            how = "the date of the latest rule cited for the entry"
        else:
            since = (known or {}).get("text_from") or self.as_of.isoformat()
            how = "the date of the first CSL file that printed it (a rule cited for the entry has no known date)"
        self.add(designation, TKG.licenseTextFrom, _lit(since, datatype=XSD.date))
        self.add(designation, TKG.licenseTextBasis, _lit(how))

    def affiliation(self, party: URIRef, party_match: Match | None, list_iri: str, made_by: URIRef | None,
                    parent: PartyName | None, line: int) -> None:
        """Link a minted party to the firm the rule that made its entry names it an affiliate of."""
        if made_by is None or party_match is not None or str(party) not in self.minted:
            return
        addition = self.view.affiliation(list_iri, str(made_by), parent)
        if addition is None or addition.affiliate_of is None or addition.affiliate_of == str(party):
            return
        self.add(party, TKG.affiliateOf, URIRef(addition.affiliate_of))
        self.linked["affiliates linked by the rule that listed them"] = \
            self.linked.get("affiliates linked by the rule that listed them", 0) + 1

    # -- one row, in named steps ------------------------------------------------
    def row(self, row: CslRow) -> None:
        """Map one row: check it, then its list and party, the entry, the rules it cites, its dates, the
        affiliation, the rule links, the licence and the remaining cells (each step below)."""
        entry = self.accept(row)
        if entry is None:
            return
        self.list_and_party(entry)
        self.entry_identity(entry)
        self.rules_cited(entry)
        self.entry_dates(entry)
        self.affiliation(entry.party, entry.party_match, str(entry.list_iri), entry.made_by,
                         entry.name.affiliate_of, row.line)
        self.rule_links(entry)
        self.licence(entry)
        self.attributes(entry)
        label = parse_source(entry.source_text).name
        self.rows_per_list[label] = self.rows_per_list.get(label, 0) + 1

    def accept(self, row: CslRow) -> _Entry | None:
        """The row's parsed cells, or None with a RowProblem saying why the row cannot be mapped."""
        cells = {k: v for k, v in row.cells.items() if k != "__extra__"}
        if "__extra__" in row.cells:
            self.problems.append(RowProblem(row.line, f"more cells than header columns: {row.cells['__extra__']!r}"))
            return None
        source_text = _clean(cells.get("source", ""))
        raw_name = cells.get("name", "")
        if not source_text:
            self.problems.append(RowProblem(row.line, "column source is empty: cannot tell which list the row is on"))
            return None
        if not _clean(raw_name):
            self.problems.append(RowProblem(row.line, "column name is empty: the row names no party"))
            return None
        kind = self.conf["party_types"].get(_clean(cells.get("type", "")).lower())
        if kind is None:
            self.problems.append(RowProblem(
                row.line, f"unknown party type {cells.get('type')!r}; expected Entity, Individual, Vessel or Aircraft"))
            return None
        try:
            start = parse_date(cells.get("start_date", ""))
            end = parse_date(cells.get("end_date", ""))
        except ValueError as exc:
            self.problems.append(RowProblem(row.line, str(exc)))
            return None
        if start is not None and end is not None and start > end:
            # The shapes would refuse it too, but then for the whole file: refuse the row, with its line.
            self.problems.append(RowProblem(row.line, f"start_date {start.isoformat()} is after end_date "
                                                      f"{end.isoformat()}"))
            return None
        addresses = split_multi(cells.get("addresses", ""))
        countries = [c for c in (address_country(a) for a in addresses) if c]
        for column in ("citizenships", "nationalities"):
            countries += [c for c in (_country(v) for v in split_multi(cells.get(column, ""))) if c]
        countries = list(dict.fromkeys(countries))
        name = split_name(raw_name)
        record = _clean(cells.get("_id", "")) or _hash(source_text, normalise(raw_name), cells.get("addresses", ""))
        if record in self.record_ids:
            self.problems.append(RowProblem(
                row.line, f"duplicate record {record!r} (first at line {self.record_ids[record]}); row skipped"))
            return None
        designation = URIRef(entity_iri("designation", f"{MINTED}{_slug(record)}"))
        if str(designation) in self.designations:
            # Two record ids with one slug ("ABC" and "abc", "a_1" and "a-1") would merge two rows.
            self.problems.append(RowProblem(
                row.line, f"record {record!r} gives the same designation identifier as an earlier row "
                          f"({designation.rsplit('/', 1)[-1]}); row skipped"))
            return None
        self.record_ids[record] = row.line
        return _Entry(row, cells, source_text, kind, start, end, addresses, countries, name, record, designation)

    def list_and_party(self, entry: _Entry) -> None:
        """The list the row is on (and its agency), the party it names and, for an affiliate row, its parent."""
        row, name = entry.row, entry.name
        entry.list_iri = self.list_node(entry.source_text, row)
        entry.party, entry.party_match = self.party(name, entry.kind, entry.countries, row,
                                                    split_multi(entry.cells.get("alt_names", "")))
        if name.affiliate_of is not None:
            parent, _ = self.party(name.affiliate_of, "company", entry.countries, row)
            if str(entry.party) in self.minted and entry.party != parent:
                self.add(entry.party, TKG.affiliateOf, parent)

    def entry_identity(self, entry: _Entry) -> None:
        """The entry's node: a new designation, or (the same listing the graph already holds: a curated entry
        for this party on this list, kg.sources.matching) a source record of that designation."""
        row, name, add = entry.row, entry.name, self.add
        entry_number = _clean(entry.cells.get("entity_number", ""))
        entry_ids = {ENTRY_ID: entry_number} if entry_number else {}
        merged = self.view.entries.match(str(entry.party), str(entry.list_iri), entry_ids, entry.party_match)
        designation = entry.designation
        if merged is not None:
            entry.target = URIRef(merged.iri)
            if str(designation) in self.view.designations:
                self.superseded.add(str(designation))  # imported as a designation before merging existed
            designation = URIRef(entity_iri("record", f"{MINTED}{_slug(entry.record)}"))
            self.records.add(str(designation))
            self.designations.add(str(designation))
            self.node(designation, TKG.SourceRecord, row.line)
            add(designation, RDFS.label, _lit(f"CSL entry {name.printed}"))
            add(designation, TKG.recordOf, entry.target)
            add(designation, TKG.matchMethod, _lit(merged.method))
            add(designation, TKG.matchExplanation, _lit(merged.explanation))
            add(entry.target, DCTERMS.source, self.source)
            self.merges.append((row.line, name.printed, merged))
        else:
            self.designations.add(str(designation))
            self.node(designation, TKG.Designation, row.line)
            add(designation, TKG.designatedParty, entry.party)
            add(designation, TKG.onList, entry.list_iri)
            if entry.party_match is not None:
                add(designation, TKG.matchMethod, _lit(entry.party_match.method))
                add(designation, TKG.matchExplanation, _lit(
                    f"party: the curated party {entry.party.rsplit('/', 1)[-1]}, {entry.party_match.explanation}"))
        entry.designation = designation
        add(designation, TKG.cslRecordId, _lit(entry.record))
        if entry_number:
            add(designation, TKG.listEntryId, _lit(entry_number))
        add(designation, TKG.listedName, _lit(name.printed))
        entry.known = self.view.designations.get(str(designation))

    def rules_cited(self, entry: _Entry) -> None:
        """The rules the federal_register_notice cell cites, and the rule that made this entry: the CSL's first
        citation, unless the curated record of the rules says a later rule added this sub-entry under its
        parent's entry (the CSL prints the parent's citations and start date on every sub-entry)."""
        notice = _clean(entry.cells.get("federal_register_notice", ""))
        citations = (*parse_citations(notice), *fr_document_numbers(notice)) if notice else ()
        entry.notice = notice
        entry.rules = list(dict.fromkeys(self.rule(citation, entry.row.line) for citation in citations))
        for citation in citations:
            if citation in self.resolutions:
                self.add(entry.designation, TKG.citationResolution, _lit(self.resolutions[citation]))
        entry.made_by = entry.rules[0] if entry.rules else None
        parent = entry.name.affiliate_of
        entry.sub_addition = (self.view.sub_entry_addition(str(entry.list_iri), parent)
                              if parent is not None else None)
        if entry.sub_addition is not None:
            entry.made_by = URIRef(entry.sub_addition.rule)
        entry.made_on = self.view.rule_dates.get(str(entry.made_by)) if entry.made_by is not None else None

    def entry_dates(self, entry: _Entry) -> None:
        """Start and end: a record merged into a held entry keeps the CSL's start (else the import date);
        a designation is dated by ``dates``."""
        start, end = entry.start, entry.end
        if entry.target is None:
            self.dates(entry.designation, start, end, entry.made_by, entry.made_on, entry.sub_addition, entry.known)
        else:
            self.add(entry.designation, SCHEMA.startDate,
                     _lit((start.isoformat() if start else self.as_of.isoformat()), datatype=XSD.date))
        if end is not None:
            self.add(entry.designation, SCHEMA.endDate, _lit(end.isoformat(), datatype=XSD.date))

    def rule_links(self, entry: _Entry) -> None:
        """The notice as printed, and which rule made and which modified the entry (or, for a record merged
        into a held entry, what the CSL adds to that entry)."""
        if not entry.notice:
            return
        add, designation, rules, made_by = self.add, entry.designation, entry.rules, entry.made_by
        add(designation, TKG.federalRegisterNotice, _lit(entry.notice))
        if entry.target is None:
            if made_by is not None:
                add(designation, TKG.designatedBy, made_by)
            for rule in rules:
                if rule == made_by:
                    continue
                ruled_on = self.view.rule_dates.get(str(rule))
                if entry.sub_addition is not None and entry.made_on and ruled_on and ruled_on < entry.made_on:
                    # The parent entry's earlier rules did not touch this sub-entry (it was added later):
                    # the CSL cites them on it, the graph keeps that citation and no more.
                    add(designation, TKG.citesRule, rule)
                    continue
                add(designation, TKG.modifiedBy, rule)
        else:
            held_by = self.view.designated_by.get(str(entry.target), set())
            for i, rule in enumerate(rules):
                add(designation, TKG.citesRule, rule)
                if str(rule) in held_by:
                    continue
                if i == 0 and held_by:
                    # The CSL's first citation is the document it says made the entry; the entry
                    # already names the rule that made it, so a different first citation (often a
                    # later page of that same rule) stays with the CSL record, not as a change.
                    continue
                add(entry.target, TKG.designatedBy if i == 0 else TKG.modifiedBy, rule)

    def licence(self, entry: _Entry) -> None:
        """The licence requirement (without its footnote markers), from when its text holds, and the policy."""
        add, designation = self.add, entry.designation
        printed = _clean(entry.cells.get("license_requirement", ""))
        requirement, footnotes = split_footnotes(printed)
        if requirement:
            add(designation, TKG.licenseRequirement, _lit(requirement))
            for marker in footnotes:
                add(designation, TKG.licenseFootnote, _lit(marker))
            if entry.target is None:
                self.text_dates(designation, entry.made_by, entry.rules, entry.known)
        policy = _clean(entry.cells.get("license_policy", ""))
        if policy:
            add(designation, TKG.licenseReviewPolicy, URIRef(concept_iri("license-policy", license_policy(policy))))
            add(designation, TKG.licensePolicyText, _lit(policy))

    def attributes(self, entry: _Entry) -> None:
        """Remarks, programs, addresses, countries, identifiers and the cells with no term of their own."""
        add, designation, cells = self.add, entry.designation, entry.cells
        remarks = _clean(cells.get("remarks", ""))
        if remarks:
            add(designation, TKG.remarks, _lit(remarks))
        for program in split_multi(cells.get("programs", "")):
            add(designation, TKG.program, _lit(program))
        for address in entry.addresses:
            add(designation, TKG.address, _lit(address))
        for country in entry.countries:
            add(designation, TKG.listedCountry, _lit(country))
        for identifier in split_multi(cells.get("ids", "")):
            add(designation, TKG.identifier, _lit(identifier))
        for column in _ENTRY_EXTRAS:
            value = _clean(cells.get(column, ""))
            if value:
                add(designation, TKG.cslAttribute, _lit(f"{column}: {value}"))


def plan_import(csl: CslFile, store: ox.Store | None, as_of: date | None = None,
                progress: Callable[[Iterable[CslRow]], Iterable[CslRow]] | None = None,
                partial: bool = False) -> ImportPlan:
    """Map every row and compute the exact change to the store (nothing is written here).

    Subjects the importer mints (parties, designations, lists, agencies and
    rules not curated, the file's source node) are replaced as a whole by
    what this file says about them; curated nodes are never changed. CSL
    designations on the lists this file covers that the file no longer has
    get an end date (``as_of``, default today) instead of being deleted,
    unless ``partial`` says the file is a subset of the list.
    """
    as_of = as_of or date.today()
    view = StoreView.of(store)
    mapper = _Mapper(csl, view, as_of)
    mapper.source_node()
    for row in (progress(csl.rows) if progress else csl.rows):
        mapper.row(row)
    emit = mapper.emit
    plan = ImportPlan(source="csl", files=[csl.source_name or csl.display], file=csl,
                      rows_per_list=dict(sorted(mapper.rows_per_list.items())), problems=mapper.problems,
                      linked=dict(mapper.linked))
    plan.merged = [(line, printed, match.iri, match.method, match.explanation)
                   for line, printed, match in mapper.merges]
    plan.citations = dict(sorted(mapper.rule_matches.items()))
    # What the importer minted it owns: replaced as a whole by what this file says. Any other node (a
    # curated designation this file's entry merged into) only gets additions (its source, the rules the
    # entry cites), never a rewrite.
    emit.owned.update(subject for subject in emit.by_subject if _is_minted(subject))
    for subject in mapper.designations:
        new = emit.by_subject[subject]
        old = emit.stored(subject)
        if old == new:
            plan.unchanged_designations += 1
        elif old:
            plan.changed_designations += 1
        elif subject in mapper.records:
            plan.merged_designations += 1
        else:
            plan.new_designations += 1
    for subject in sorted(mapper.superseded):
        # An entry an earlier import made a designation of, now a record of the curated designation.
        for quad in emit.stored(subject):
            emit.drop(quad)
    emit.plan(plan)

    ended_note = Literal(f"No longer in the CSL file {mapper.file_name} imported on {as_of.isoformat()}; "
                         "the end date is that import date, not the date of delisting.")
    for iri, known in sorted(view.designations.items()):
        if known["end"] is None and known["list"] in mapper.lists:
            plan.active_by_list[known["list"]] = plan.active_by_list.get(known["list"], 0) + 1
        if (partial or iri in mapper.designations or iri in mapper.superseded or known["end"] is not None
                or known["list"] not in mapper.lists):
            continue
        plan.ended_by_list[known["list"]] = plan.ended_by_list.get(known["list"], 0) + 1
        subject = URIRef(iri)
        end = max(as_of.isoformat(), known["start"])
        extra = [(subject, SCHEMA.endDate, Literal(end, datatype=XSD.date)),
                 (subject, DCTERMS.source, mapper.source)]
        if known["note"] is None:
            extra.append((subject, SKOS.note, ended_note))
        plan.additions += [ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o))
                           for s, p, o in extra]
        plan.focus.add(iri)
        plan.ended_designations += 1
    if plan.ended_designations and str(mapper.source) not in plan.focus:
        # The ended designations cite this file: its source node must exist.
        plan.additions += sorted(emit.by_subject[str(mapper.source)] - emit.stored(str(mapper.source)), key=str)
    return plan
