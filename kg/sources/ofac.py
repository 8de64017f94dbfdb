"""Import OFAC's own list files (legacy CSV): the SDN list and the consolidated Non-SDN list.

The CSL repeats OFAC's lists, but OFAC's files are the source of record and
hold what the CSL leaves out: every alias and address as a row of its own,
and remarks with the CMIC listing, effective and divestment dates on which
Huawei, SMIC and Hikvision sit. The files come in sets of four, recognised by
OFAC's own names (``data/ofac.yml``): the entries (``sdn.csv`` /
``cons_prim.csv``), aliases (``alt``), addresses (``add``) and the remarks
that did not fit (``sdn_comments`` / ``cons_comments``, continuing the
entry's Remarks text mid-word).

Their quirks, all handled here: no header row, ``-0- `` for an empty field,
CRLF line ends, no final newline and a trailing 0x1A (DOS end-of-file) byte.
A file that breaks the layout (a row with too few fields, an entity number
that is not a number, bytes that are not UTF-8) is refused naming its file
and line, and nothing is imported.

Each entry becomes a designation on its list (``data/ofac.yml`` maps
programs to lists and legal authorities) of a party: the party the CSL
already has with the same OFAC entity number, else a curated party with the
same name (``kg.sources.matching``), else a new one. Remarks in OFAC's
regular forms become facts (``kg.sources.ofac_remarks``); the Remarks text is
kept whole. A newer file end-dates the imported entries it no longer has.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.answers.resolve import normalise
from kg.errors import InputProblem
from kg.loaders.csvfile import _line_at
from kg.loaders.limits import nul_problem, read_input
from kg.namespaces import SCHEMA, TKG, entity_iri
from kg.pipeline.build import _display
from kg.resources import data_mapping, lookup_query
from kg.sources.base import (
    DEFAULT,
    Emitter,
    SourceFailed,
    SourcePlan,
    concept,
    date_lit,
    int_lit,
    is_minted,
    refuse,
    select,
    text,
    url_lit,
)
from kg.sources.federal_register import RuleIndex
from kg.sources.matching import (
    BY_IDENTIFIER,
    PRINTED_IDENTIFIER,
    PartyIndex,
    identifier_key,
    name_key,
    whose,
)
from kg.sources.ofac_remarks import RemarkFacts, parse_remarks

DCT = "http://purl.org/dc/terms/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
FOAF_NAME = "http://xmlns.com/foaf/0.1/name"
MINTED = "ofac-"
EMPTY = "-0-"

COLUMNS = {
    "prim": ("ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign", "Vess_type", "Tonnage", "GRT",
             "Vess_flag", "Vess_owner", "Remarks"),
    "alt": ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks"),
    "add": ("ent_num", "add_num", "address", "city_state_postal", "country", "add_remarks"),
    "comments": ("ent_num", "remarks_continued"),
}
_EXTRAS = (("Title", "title"), ("Call_Sign", "call_sign"), ("Vess_type", "vessel_type"), ("Tonnage", "tonnage"),
           ("GRT", "gross_registered_tonnage"), ("Vess_flag", "vessel_flag"), ("Vess_owner", "vessel_owner"))


def mapping() -> dict[str, Any]:
    return data_mapping("ofac.yml")


# --------------------------------------------------------------------------
# Reading the files
# --------------------------------------------------------------------------

@dataclass
class OfacRow:
    line: int
    cells: dict[str, str | None]


@dataclass
class OfacFile:
    display: str
    part: str  # prim, alt, add, comments
    rows: list[OfacRow]
    digest: str
    source_name: str = ""  # how the graph names the file: never an absolute path (kg.pipeline.build.provenance_name)
    data: bytes = field(default=b"", repr=False)  # the bytes read: what the ledger keeps


@dataclass
class Entry:
    number: int
    line: int
    name: str
    kind: str  # company, person, vessel, aircraft
    programs: list[str]
    remarks: str
    extras: dict[str, str]
    aliases: list[tuple[str, str]] = field(default_factory=list)  # (type, name)
    addresses: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)  # each address's country, as OFAC names it


@dataclass
class OfacSet:
    """The files of one list (SDN or consolidated Non-SDN) given to one import."""

    kind: str  # sdn or cons
    files: dict[str, OfacFile] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    # Rows of alt/add/comments files for an entity number the main file lacks: OFAC's files are
    # sometimes inconsistent that way; each is reported with its file and line and skipped.
    warnings: list[str] = field(default_factory=list)

    @property
    def primary(self) -> OfacFile:
        return self.files["prim"]

    @property
    def digest(self) -> str:
        return hashlib.sha256("|".join(f"{p}:{f.digest}" for p, f in sorted(self.files.items())).encode()).hexdigest()

    def describe(self) -> str:
        counts = {p: len(f.rows) for p, f in self.files.items()}
        names = ", ".join(Path(f.display).name for f in self.files.values())
        return (f"{'SDN list' if self.kind == 'sdn' else 'consolidated Non-SDN list'} ({names}): "
                f"{counts.get('prim', 0)} entries, {counts.get('alt', 0)} aliases, {counts.get('add', 0)} addresses, "
                f"{counts.get('comments', 0)} remark continuations")


def _cell(value: str) -> str | None:
    value = value.strip()
    return None if value == EMPTY or not value else value


def read_file(path: Path, display: str, part: str, source_name: str | None = None) -> OfacFile:
    """One OFAC file: CSV with no header, ``-0-`` for empty, CRLF, a trailing 0x1A."""
    return parse_file(read_input(path, display), display, part, source_name)


def parse_file(raw: bytes, display: str, part: str, source_name: str | None = None) -> OfacFile:
    """One OFAC file's bytes (``display`` names it in messages, ``source_name`` in the graph)."""
    body = raw.rstrip(b"\x1a\r\n") if raw.endswith(b"\x1a") else raw
    nul = nul_problem(body, display)
    if nul is not None:
        raise refuse(display, nul.line, nul.message)
    try:
        text_ = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(display, _line_at(body, exc.start), f"not UTF-8 text (byte {exc.start}: "
                     f"{body[exc.start:exc.start + 1]!r}); OFAC's files are UTF-8") from None
    columns = COLUMNS[part]
    reader = csv.reader(io.StringIO(text_, newline=""), strict=True)
    rows: list[OfacRow] = []
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise refuse(display, start, f"not valid CSV: {exc} (check the quotes)") from None
        if record and any(c.strip() for c in record):
            if len(record) < len(columns):
                raise refuse(display, start, f"{len(record)} field(s) where OFAC's {Path(display).name} has "
                             f"{len(columns)} ({', '.join(columns)}); the row is cut short")
            if len(record) > len(columns) and any(c.strip() for c in record[len(columns):]):
                raise refuse(display, start, f"{len(record)} fields where OFAC's {Path(display).name} has "
                             f"{len(columns)} ({', '.join(columns)})")
            cells = {name: _cell(record[i]) for i, name in enumerate(columns)}
            number = cells["ent_num"] or ""
            if not number.isdigit():
                raise SourceFailed([InputProblem(display, start, "ent_num",
                                                 f"entity number {record[0]!r} is not a number")])
            rows.append(OfacRow(start, cells))
        start = reader.line_num + 1
    if part == "prim" and not rows:
        raise refuse(display, 1, "the file holds no entries")
    return OfacFile(display, part, rows, hashlib.sha256(raw).hexdigest(), source_name or Path(display).name, raw)


def known_files() -> dict[str, tuple[str, str]]:
    return {name.lower(): (kind, part) for name, (kind, part) in mapping()["files"].items()}


def read_paths(paths: Iterable[Path]) -> list[OfacSet]:
    """Files or folders -> one set per list, each file recognised by OFAC's own name."""
    from kg.pipeline.build import provenance_name

    named = known_files()
    chosen: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower() in named)
            if not found:
                raise refuse(_display(path), None, f"no OFAC file in this folder (expected {', '.join(named)})")
            chosen += found
        else:
            if path.name.lower() not in named:
                raise refuse(_display(path), None, f"not an OFAC file name: expected one of {', '.join(named)} "
                             "(case ignored)")
            chosen.append(path)
    return assemble_sets((path.name, _display(path), provenance_name(path), read_input(path, _display(path)))
                         for path in chosen)


def assemble_sets(files: Iterable[tuple[str, str, str, bytes]]) -> list[OfacSet]:
    """``(file name, display, source name, bytes)`` of OFAC files -> one set per list (a replay reads these)."""
    named = known_files()
    sets: dict[str, OfacSet] = {}
    broken: list[InputProblem] = []  # every bad file is named, not only the first
    for file_name, display, source_name, raw in files:
        if file_name.lower() not in named:
            raise refuse(display, None, f"not an OFAC file name: expected one of {', '.join(named)} (case ignored)")
        kind, part = named[file_name.lower()]
        entry_set = sets.setdefault(kind, OfacSet(kind))
        if part in entry_set.files:
            raise refuse(display, None, f"two {file_name.lower()} files given "
                         f"({entry_set.files[part].display} too); name one of each")
        try:
            entry_set.files[part] = parse_file(raw, display, part, source_name)
        except SourceFailed as exc:
            broken += exc.problems
    if broken:
        raise SourceFailed(broken)
    for entry_set in sets.values():
        if "prim" not in entry_set.files:
            first = next(iter(entry_set.files.values()))
            main = "sdn.csv" if entry_set.kind == "sdn" else "cons_prim.csv"
            raise refuse(first.display, None, f"{Path(first.display).name} needs {main} beside it (the entries "
                         "its rows belong to)")
        _assemble(entry_set)
    return [sets[k] for k in ("sdn", "cons") if k in sets]


def _assemble(entry_set: OfacSet) -> None:
    comments: dict[int, str] = {}
    if "comments" in entry_set.files:
        for row in entry_set.files["comments"].rows:
            number = int(row.cells["ent_num"] or 0)
            comments[number] = comments.get(number, "") + (row.cells["remarks_continued"] or "")
    entries: dict[int, Entry] = {}
    prim = entry_set.primary
    for row in prim.rows:
        c = row.cells
        number = int(c["ent_num"] or 0)
        if number in entries:
            raise SourceFailed([InputProblem(prim.display, row.line, "ent_num", f"entity number {number} again "
                                             f"(first at line {entries[number].line})")])
        if not c["SDN_Name"]:
            raise SourceFailed([InputProblem(prim.display, row.line, "SDN_Name", "the entry has no name")])
        kind = {"individual": "person", "vessel": "vessel", "aircraft": "aircraft"}.get((c["SDN_Type"] or "").lower(),
                                                                                        "company")
        remarks = (c["Remarks"] or "") + comments.pop(number, "")
        programs = [p.strip() for p in (c["Program"] or "").strip("[] ").split("] [") if p.strip()]
        extras = {label: c[column] for column, label in _EXTRAS if c[column]}
        entries[number] = Entry(number, row.line, " ".join(c["SDN_Name"].split()), kind, programs, remarks.strip(),
                                extras)
    for part in ("alt", "add"):
        file = entry_set.files.get(part)
        for row in file.rows if file else []:
            number = int(row.cells["ent_num"] or 0)
            entry = entries.get(number)
            if entry is None:
                what = "alias" if part == "alt" else "address"
                entry_set.warnings.append(
                    f"{file.display}:{row.line}: entity number {number} is not in "  # type: ignore[union-attr]
                    f"{Path(prim.display).name}; its {what} is skipped, the rest is imported")
                continue
            if part == "alt" and row.cells["alt_name"]:
                entry.aliases.append((row.cells["alt_type"] or "aka", " ".join(row.cells["alt_name"].split())))
            elif part == "add":
                parts = [row.cells[k] for k in ("address", "city_state_postal", "country")]
                address = ", ".join(p for p in parts if p)
                if address:
                    entry.addresses.append(address)
                if row.cells["country"]:
                    entry.countries.append(row.cells["country"])
    if comments:
        file = entry_set.files["comments"]
        for row in file.rows:
            number = int(row.cells["ent_num"] or 0)
            if number in comments:
                entry_set.warnings.append(f"{file.display}:{row.line}: entity number {number} is not in "
                                          f"{Path(prim.display).name}; its remark is skipped, the rest is imported")
    entry_set.entries = list(entries.values())


# --------------------------------------------------------------------------
# Entries to triples
# --------------------------------------------------------------------------

def program_list(entry: Entry, kind: str) -> str:
    if kind == "sdn":
        return "sdn"
    conf = mapping()
    for program in entry.programs:
        if program in conf["programs"]:
            return str(conf["programs"][program])
    return str(conf["unknown_list"])


def program_orders(entry: Entry, list_key: str) -> list[str]:
    """Executive orders behind an entry: its list's authority, and any order its program tags name."""
    orders = [str(o) for o in mapping()["lists"][list_key].get("authority") or []]
    for program in entry.programs:
        orders += re.findall(r"EO ?([0-9]{5})\b", program)
    return list(dict.fromkeys(orders))


# The identifier scheme of OFAC's entity numbers, which the CSL copies (``entity_number: 18300``).
ENTITY_NUMBER = "OFAC entity number"


@dataclass
class _View:
    parties: PartyIndex
    lists: dict[str, str]
    rules: RuleIndex
    designations: dict[str, dict[str, Any]]
    ofac_agency: str | None


def _view(store: ox.Store | None) -> _View:
    agency = entity_iri("agency", str(mapping()["agency"]))
    has_agency = bool(store is not None and any(store.quads_for_pattern(ox.NamedNode(agency), None, None, DEFAULT)))
    # A listed name lands on a curated party, else on a party a CSL import made (the CSL copies OFAC's and
    # BIS's lists, so an entry on both is one party), else makes a new one. Names fold accents and punctuation.
    found = PartyIndex(key=name_key)
    for row in select(store, lookup_query("csl-parties")):
        if whose(row["entity"]) in ("curated", "CSL-imported"):
            found.add(row["entity"], [row["name"]], whose=whose(row["entity"]))
    for row in select(store, lookup_query("ofac-csl-entities")):
        value = row["attribute"].split(":", 1)[1].strip()
        if value.isdigit() and (row["agency"] is None or row["agency"] == agency):
            found.add(row["party"], [], identifiers={ENTITY_NUMBER: str(int(value))}, whose="CSL-imported")
    # Identifiers entries of other sources print for their parties (never OFAC's own parties: two OFAC
    # entries printing one registration number, MANAURE S.A. and AGROPECUARIA LA ROBLEDA S.A. with
    # "NIT # 800160353-2", are two entries by OFAC's own numbers).
    for row in select(store, lookup_query("party-identifiers")):
        key = identifier_key(row["kind"], row["value"])
        if key and whose(row["party"]) != "OFAC-imported":
            found.add(row["party"], [], identifiers={PRINTED_IDENTIFIER: key}, whose=whose(row["party"]))
    lists: dict[str, str] = {}
    for row in select(store, lookup_query("csl-lists")):
        if row["kind"] == "list":
            lists.setdefault(normalise(row["name"]), row["entity"])
    designations = {}
    for row in select(store, lookup_query("ofac-designations")):
        if is_minted(row["designation"], MINTED):
            designations[row["designation"]] = row
    return _View(found, lists, RuleIndex.of(store), designations,
                 agency if has_agency else None)


class _Mapper:
    def __init__(self, store: ox.Store | None, plan: SourcePlan, as_of: date) -> None:
        self.conf = mapping()
        self.store = store
        self.plan = plan
        self.as_of = as_of
        self.view = _view(store)
        self.emit: Emitter
        self.lists: dict[str, ox.NamedNode] = {}
        self.covered_lists: set[str] = set()
        self.designations: set[str] = set()
        self.by_name: dict[str, ox.NamedNode] = {}
        self.authorities: dict[str, ox.NamedNode] = {}
        self.forms: dict[str, int] = {}

    def start(self, entry_set: OfacSet) -> None:
        source = ox.NamedNode(entity_iri("source", f"{MINTED}{entry_set.kind}-{entry_set.digest[:16]}"))
        self.emit_for = Emitter(self.store, source, str(self.conf["confidence"]), entry_set.primary.source_name,
                                entry_set.primary.digest)
        self.emit = self.emit_for
        emit = self.emit
        if emit.node(source, TKG.Source, 1):
            names = ", ".join(Path(f.source_name).name.lower() for f in entry_set.files.values())
            title = "OFAC SDN list" if entry_set.kind == "sdn" else "OFAC consolidated Non-SDN list"
            label = text(f"{title}, legacy CSV files ({names}; sha256 {entry_set.digest[:16]})")
            emit.add(source, DCT + "title", label)
            emit.add(source, RDFS_LABEL, label)
            emit.add(source, TKG.publisherName, text(str(self.conf["publisher"])))
            emit.add(source, TKG.sourceKind, concept("source-kind", "dataset"))

    # -- lists and authorities -----------------------------------------------
    def list_iri(self, key: str) -> tuple[str, bool]:
        """The list's node, and whether the graph already has it (curated or from the CSL)."""
        spec = self.conf["lists"][key]
        found = self.view.lists.get(normalise(spec["code"])) or self.view.lists.get(normalise(spec["name"]))
        return (found, True) if found else (entity_iri("list", f"{MINTED}{key}"), False)

    def cover(self, kind: str) -> None:
        """A set of files is the whole of its lists: every list its kind can hold is covered."""
        keys = {"sdn"} if kind == "sdn" else {*map(str, self.conf["programs"].values()), str(self.conf["unknown_list"])}
        self.covered_lists |= {self.list_iri(k)[0] for k in keys}

    def list_node(self, key: str, line: int) -> ox.NamedNode:
        if key in self.lists:
            return self.lists[key]
        spec = self.conf["lists"][key]
        found, known = self.list_iri(key)
        node = ox.NamedNode(found)
        if not known:
            emit = self.emit
            emit.node(node, TKG.RestrictedPartyList, line)
            emit.add(node, DCT + "title", text(spec["name"]))
            emit.add(node, RDFS_LABEL, text(spec["name"]))
            emit.add(node, SKOS + "altLabel", text(spec["code"]))
            if self.view.ofac_agency:
                emit.add(node, DCT + "publisher", ox.NamedNode(self.view.ofac_agency))
            else:
                emit.add(node, DCT + "publisher", self.agency(line))
            if spec.get("url"):
                emit.add(node, SCHEMA.url, url_lit(spec["url"]))
            if spec.get("authority_text"):
                emit.add(node, TKG.legalAuthorityText, text(spec["authority_text"]))
        self.lists[key] = node
        return node

    def agency(self, line: int) -> ox.NamedNode:
        node = ox.NamedNode(entity_iri("agency", f"{MINTED}ofac"))
        if self.emit.node(node, TKG.Agency, line):
            name = "Office of Foreign Assets Control"
            self.emit.add(node, SCHEMA.name, text(name))
            self.emit.add(node, RDFS_LABEL, text(name))
        return node

    def authority(self, order: str, line: int) -> ox.NamedNode:
        if order in self.authorities:
            return self.authorities[order]
        row = self.view.rules.by_eo.get(order)
        if row is not None:
            node = ox.NamedNode(str(row["rule"]))
        else:
            node = ox.NamedNode(entity_iri("rule", f"{MINTED}eo-{order}"))
            emit = self.emit
            if emit.node(node, TKG.Rule, line):
                label = f"Executive Order {order}"
                emit.add(node, DCT + "title", text(label))
                emit.add(node, RDFS_LABEL, text(label))
                emit.add(node, DCT + "bibliographicCitation", text(f"EO {order}"))
                emit.add(node, TKG.ruleType, concept("rule-type", "executive-order"))
                emit.add(node, TKG.executiveOrderNumber, text(order))
                emit.add(node, SKOS + "note", text(
                    "Named as a legal authority of an OFAC list or program (data/ofac.yml, program tags); "
                    "title, dates and Federal Register citation not recorded. `tradekg import federal-register` "
                    "of the order's document completes it."))
        self.authorities[order] = node
        return node

    # -- one entry --------------------------------------------------------------
    def entry(self, entry_set: OfacSet, entry: Entry) -> None:
        emit = self.emit
        facts = parse_remarks(entry.remarks)
        for form, n in facts.forms.items():
            self.forms[form] = self.forms.get(form, 0) + n
        if facts.unparsed:
            self.forms["kept verbatim (no regular form)"] = self.forms.get("kept verbatim (no regular form)", 0) \
                + len(facts.unparsed)
        list_key = program_list(entry, entry_set.kind)
        list_node = self.list_node(list_key, entry.line)
        self.covered_lists.add(list_node.value)
        party = self.party(entry, facts)
        designation = ox.NamedNode(entity_iri("designation", f"{MINTED}{list_key}-{entry.number}"))
        self.designations.add(designation.value)
        confidence = self.conf["confidence"] if entry_set.kind == "sdn" else self.conf["program_confidence"]
        emit.node(designation, TKG.Designation, entry.line)
        if confidence != self.conf["confidence"]:
            emit.by_subject[designation.value] = {q for q in emit.by_subject[designation.value]
                                                  if q.predicate.value != str(TKG.confidence)}
            emit.add(designation, TKG.confidence, concept("confidence", str(confidence)))
        add = emit.add
        add(designation, TKG.designatedParty, party)
        add(designation, TKG.onList, list_node)
        add(designation, TKG.ofacEntityNumber, int_lit(entry.number))
        add(designation, TKG.listedName, text(entry.name))
        for program in entry.programs:
            add(designation, TKG.program, text(program))
        if entry.remarks:
            add(designation, TKG.remarks, text(entry.remarks))
        for address in entry.addresses:
            add(designation, TKG.address, text(address))
        for order in program_orders(entry, list_key):
            add(designation, TKG.designatedBy, self.authority(order, entry.line))
        self.dates(designation, facts)
        for value in facts.uscc:
            add(designation, TKG.uscc, text(value))
        for value in facts.isin:
            add(designation, TKG.isin, text(value))
        for value in facts.tickers:
            add(designation, TKG.equityTicker, text(value))
        for value in facts.passports:
            add(designation, TKG.passportNumber, text(value))
        for value in facts.registrations:
            add(designation, TKG.registrationNumber, text(value))
        for value in facts.identifiers:
            add(designation, TKG.identifier, text(value))
        for name in facts.linked_to:
            self.pending_links.append((designation, name))
        for label, value in entry.extras.items():
            add(designation, TKG.cslAttribute, text(f"{label}: {value}"))
        if not is_minted(party.value, MINTED):
            # Kept on the entry as the names it lists, never as names of the record itself: a designation
            # never answers to a party's name (`show Hikvision` names the firm, not its OFAC entry).
            for alias in dict.fromkeys([n for _, n in entry.aliases] + facts.aliases):
                add(designation, TKG.listedAlias, text(alias))
        self.plan.count(f"entries on {self.conf['lists'][list_key]['code']}")

    def dates(self, designation: ox.NamedNode, facts: RemarkFacts) -> None:
        """Dates OFAC prints (CMIC listing and effective dates in the remarks) start the entry; OFAC's
        legacy files print none for most entries, and then the entry has no start date at all, only the
        date of the first file that held it (tkg:knownSince: "listed on or before"), never the import
        date dressed as a listing date."""
        add = self.emit.add
        if facts.listing_date:
            add(designation, TKG.listingDate, date_lit(facts.listing_date))
        if facts.divestment_date:
            add(designation, TKG.divestmentDate, date_lit(facts.divestment_date))
        start = facts.effective_date or facts.listing_date
        if start:
            add(designation, SCHEMA.startDate, date_lit(start))
            add(designation, TKG.startDateBasis, text(
                "the effective date OFAC prints in the entry's remarks" if facts.effective_date
                else "the listing date OFAC prints in the entry's remarks"))
            return
        known = self.view.designations.get(designation.value)
        first_seen = min(str(known["start"]), self.as_of.isoformat()) if known else self.as_of.isoformat()
        add(designation, TKG.knownSince, date_lit(first_seen))
        add(designation, TKG.startDateBasis, text("OFAC's file gives no listing date"))
        add(designation, SKOS + "note", text(
            f"OFAC's file gives no listing date for this entry: it was listed on or before {first_seen}, the "
            "date of the first OFAC file tradekg imported that holds it. Before that date whether it held is "
            "not known."))

    def party(self, entry: Entry, facts: RemarkFacts) -> ox.NamedNode:
        # An identifier both lists print (USCC, registration numbers) finds the party first; never another
        # OFAC entry's (OFAC's entity numbers say which entries are one entity: see _view).
        if entry.kind == "company":
            for key in dict.fromkeys(k for k in ([identifier_key("uscc", v) for v in facts.uscc]
                                                 + [identifier_key("registration", v) for v in facts.registrations])
                                     if k):
                found = self.view.parties.match([], identifiers={PRINTED_IDENTIFIER: key}, kind="company",
                                                report=self.plan.problems)
                if found is not None:
                    self.plan.linked["entries on a party with the same identifier"] = \
                        self.plan.linked.get("entries on a party with the same identifier", 0) + 1
                    node = ox.NamedNode(found.iri)
                    self.by_name.setdefault(normalise(entry.name), node)
                    return node
        # The a.k.a. names OFAC writes in the remarks count too: DAWNING ... a.k.a. 'SUGON' is the CSL's Sugon.
        names = list(dict.fromkeys([entry.name, *(n for _, n in entry.aliases), *facts.aliases]))
        match = self.view.parties.match(names, kind=entry.kind,
                                        identifiers={ENTITY_NUMBER: str(entry.number)},
                                        order=("curated", "CSL-imported"), stop_when_ambiguous=True,
                                        report=self.plan.problems)
        if match is not None:
            key = ("entries on a CSL party (same entity number)" if match.method == BY_IDENTIFIER
                   else f"entries on a {match.whose} party (same name)")
            self.plan.linked[key] = self.plan.linked.get(key, 0) + 1
            node = ox.NamedNode(match.iri)
            self.by_name.setdefault(normalise(entry.name), node)
            return node
        node = ox.NamedNode(entity_iri(entry.kind, f"{MINTED}{entry.number}"))
        self.by_name.setdefault(normalise(entry.name), node)
        emit = self.emit
        cls = {"company": TKG.Company, "person": TKG.Person, "vessel": TKG.Vessel, "aircraft": TKG.Aircraft}[entry.kind]
        emit.node(node, cls, entry.line)
        name_predicate = {"company": str(SCHEMA.legalName), "person": FOAF_NAME}.get(entry.kind, str(SCHEMA.name))
        emit.add(node, name_predicate, text(entry.name))
        emit.add(node, RDFS_LABEL, text(entry.name))
        for alias in dict.fromkeys([n for _, n in entry.aliases] + facts.aliases):
            if normalise(alias) != normalise(entry.name):
                emit.add(node, SKOS + "altLabel", text(alias))
        if entry.kind == "person":
            for value in facts.dates_of_birth:
                emit.add(node, TKG.dateOfBirth, text(value))
            for value in facts.places_of_birth:
                emit.add(node, TKG.placeOfBirth, text(value))
        if entry.kind in ("person", "company"):
            for value in facts.nationalities:
                emit.add(node, TKG.nationality, text(value))
        self.plan.count(f"{entry.kind} parties added")
        return node

    def links(self) -> None:
        for designation, name in self.pending_links:
            target = self.by_name.get(normalise(name))
            if target is None:
                match = self.view.parties.match([name], order=("curated", "CSL-imported"), stop_when_ambiguous=True)
                target = ox.NamedNode(match.iri) if match else None
            if target is not None:
                self.emit.add(designation, TKG.linkedTo, target)
                self.plan.count("Linked To resolved to a party")
            else:
                self.emit.add(designation, TKG.linkedToName, text(name))
                self.plan.count("Linked To kept as a name (party not in the graph)")


def plan_import(sets: list[OfacSet], store: ox.Store | None, as_of: date | None = None, partial: bool = False,
                progress: Callable[[Iterable[Entry], int], Iterator[Entry]] | None = None) -> SourcePlan:
    """Map every entry and compute the exact change to the store (nothing is written here)."""
    as_of = as_of or date.today()
    plan = SourcePlan("ofac", [f.source_name for s in sets for f in s.files.values()])
    for entry_set in sets:
        plan.problems += [f"warning: {w}" for w in entry_set.warnings]
    mapper = _Mapper(store, plan, as_of)
    mapper.pending_links = []  # type: ignore[attr-defined]
    emitters = []
    for entry_set in sets:
        mapper.start(entry_set)
        mapper.cover(entry_set.kind)
        emitters.append(mapper.emit)
        entries: Iterable[Entry] = entry_set.entries
        if progress is not None:
            entries = progress(entry_set.entries, len(entry_set.entries))
        for entry in entries:
            mapper.entry(entry_set, entry)
    for emit in emitters:
        mapper.emit = emit
        mapper.links()
    combined = emitters[0]
    for emit in emitters[1:]:
        for subject, quads in emit.by_subject.items():
            combined.by_subject.setdefault(subject, set()).update(quads)
        combined.owned |= emit.owned
    for form, n in sorted(mapper.forms.items(), key=lambda kv: -kv[1]):
        plan.counts[f"remark statements: {form}"] = n
    combined.plan(plan)
    _end_missing(plan, mapper, combined, as_of, partial, sets)
    plan.manifest = {"as_of": as_of.isoformat(), "digests": {s.kind: s.digest for s in sets}}
    return plan


def _end_missing(plan: SourcePlan, mapper: _Mapper, emit: Emitter, as_of: date, partial: bool,
                 sets: list[OfacSet]) -> None:
    """End-date (never delete) the imported entries of the covered lists that these files lack."""
    view = mapper.view
    names = ", ".join(Path(s.primary.source_name).name.lower() for s in sets)
    note = text(f"No longer in OFAC's file {names} imported on {as_of.isoformat()}; the end date is that import "
                "date, not the date of delisting.")
    source = emit.source
    for iri, known in sorted(view.designations.items()):
        if known["end"] is None and known["list"] in mapper.covered_lists:
            plan.active_by_list[known["list"]] = plan.active_by_list.get(known["list"], 0) + 1
        if partial or iri in mapper.designations or known["end"] is not None \
                or known["list"] not in mapper.covered_lists:
            continue
        plan.ended_by_list[known["list"]] = plan.ended_by_list.get(known["list"], 0) + 1
        subject = ox.NamedNode(iri)
        end = max(as_of.isoformat(), str(known["start"]))
        quads = [ox.Quad(subject, ox.NamedNode(str(SCHEMA.endDate)), date_lit(end), DEFAULT),
                 ox.Quad(subject, ox.NamedNode(DCT + "source"), source, DEFAULT)]
        if known["note"] is None:
            quads.append(ox.Quad(subject, ox.NamedNode(SKOS + "note"), note, DEFAULT))
        plan.additions += quads
        plan.focus.add(iri)
        plan.count("entries ended (not in these files)")
    if plan.counts.get("entries ended (not in these files)") and source.value not in plan.focus:
        plan.additions += sorted(emit.by_subject[source.value] - emit.stored(source.value), key=str)
        plan.focus.add(source.value)

