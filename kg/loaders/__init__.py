"""CSV to RDF, driven by ``data/tables.yml``: one generic loader for every table.

``load_files`` reads every file first and reports every problem of the whole
load together (unknown or missing columns, bad values, duplicate identifiers,
references to entities that exist nowhere), so a user fixes them in one pass.
It returns a graph only when there is no problem at all.

The room of the curated tables: ``tables`` reads ``data/tables.yml`` (which
column of which file is which predicate), ``cells`` and ``dateorder`` check
values, ``csvfile`` reads CSV with line numbers.

May import: basics, graph.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import XSD

from kg.errors import InputProblem, LoadFailed
from kg.graph.ontology import concept_notations
from kg.graph.terms import Triple, triples_to_ntriples, triples_to_quads
from kg.loaders import cells, dateorder
from kg.loaders.csvfile import CsvFile, read_csv
from kg.loaders.limits import read_input
from kg.loaders.tables import Catalog, ColumnSpec, TableSpec, load_catalog
from kg.namespaces import TKG, bind_prefixes, entity_iri

# Given a set of IRIs, answer which of them the store already holds.
ExistingLookup = Callable[[set[str]], set[str]]


@dataclass(frozen=True)
class InputFile:
    path: Path
    display: str  # how the file is named in errors (and in tkg:sourceFile without a source_name)
    table: str | None = None  # forced table name; otherwise guessed
    # How the graph names the file (tkg:sourceFile): relative to the project, or
    # just its name, never an absolute local path (kg.pipeline.build.provenance_name).
    source_name: str | None = None


@dataclass
class LoadResult:
    """The triples of a load, without duplicates, in the order the rows gave them.

    Kept as a list, not an rdflib Graph: adding to a Graph (three indexes)
    was half of the loader's time, and reading the triples back out of it
    another large share of writing them to the store (measured at 1M
    triples); ``graph`` builds one only for the callers that want it.
    """

    triples: list[Triple]
    rows_per_table: dict[str, int] = field(default_factory=dict)
    new_nodes: set[URIRef] = field(default_factory=set)
    referenced_nodes: set[URIRef] = field(default_factory=set)

    @cached_property
    def graph(self) -> Graph:
        graph = bind_prefixes(Graph())
        for triple in self.triples:
            graph.add(triple)
        return graph

    def quads(self) -> list[ox.Quad]:
        return triples_to_quads(self.triples)

    def ntriples(self) -> bytes:
        return triples_to_ntriples(self.triples)


@dataclass
class _PendingRef:
    display: str
    line: int
    column: str
    table: str
    identifier: str
    subject: URIRef
    predicate: URIRef


def _no_store(iris: set[str]) -> set[str]:
    return set()


class _Loader:
    def __init__(self, catalog: Catalog, existing: ExistingLookup,
                 stored_ids: Callable[[str], set[str]] | None = None):
        self.catalog = catalog
        self.existing = existing
        self.stored_ids = stored_ids
        self.notations = concept_notations()
        self.problems: list[InputProblem] = []
        self.triples: dict[Triple, None] = {}  # an ordered set
        self.ids: dict[tuple[str, str], tuple[str, int]] = {}
        self.refs: list[_PendingRef] = []
        self.rows_per_table: dict[str, int] = {}
        self.new_nodes: set[URIRef] = set()
        # One URIRef per IRI (see iri()).
        self.iris: dict[str, URIRef] = {}
        # Per file (by display): its tkg:sourceFile and tkg:sourceHash literals.
        self.origin: dict[str, tuple[Literal, Literal]] = {}
        # Tables whose file could not be read: references into them are not
        # reported as unknown, since the real error is the unreadable file.
        self.unreadable_tables: set[str] = set()

    def problem(self, display: str, line: int | None, column: str | None, message: str) -> None:
        self.problems.append(InputProblem(display, line, column, message))

    def read(self, item: InputFile) -> None:
        parsed, problems = read_csv(item.path, item.display)
        self.problems.extend(problems)
        if parsed is None:
            guessed = self.catalog.tables.get(item.table or "") or self.catalog.guess(item.path)
            if guessed is not None:
                self.unreadable_tables.add(guessed.name)
            return
        table = self._table_for(item, parsed)
        if table is None:
            return
        if not self._header_ok(table, parsed):
            self.unreadable_tables.add(table.name)
            return
        self.rows_per_table[table.name] = self.rows_per_table.get(table.name, 0) + len(parsed.rows)
        digest = hashlib.sha256(read_input(item.path, item.display)).hexdigest()
        self.origin[parsed.display] = (Literal(item.source_name or item.display), Literal(f"sha256:{digest}"))
        for row in parsed.rows:
            self._row(table, parsed.display, row.line, row.cells)

    def _table_for(self, item: InputFile, parsed: CsvFile) -> TableSpec | None:
        if item.table:
            table = self.catalog.tables.get(item.table)
            if table is None:
                self.problem(item.display, None, None,
                             f"unknown table {item.table!r}; tables: {', '.join(sorted(self.catalog.tables))}")
            return table
        table = self.catalog.guess(item.path, parsed.header)
        if table is None:
            self.problem(
                item.display, None, None,
                "cannot tell which table this file holds; name it after a table "
                f"({', '.join(sorted(t.file for t in self.catalog.tables.values()))}) or pass --table",
            )
        return table

    def _header_ok(self, table: TableSpec, parsed: CsvFile) -> bool:
        ok = True
        for name in parsed.header:
            if name not in table.columns:
                hint = difflib.get_close_matches(name, list(table.columns), n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.problem(parsed.display, 1, name,
                             f"unknown column for table {table.name}{suggestion}; "
                             f"its columns are: {', '.join(table.columns)}")
                ok = False
        for col in table.columns.values():
            if col.required and col.name not in parsed.header:
                self.problem(parsed.display, 1, col.name,
                             f"required column is missing from the header of a {table.name} file")
                ok = False
        return ok

    def iri(self, text: str) -> URIRef:
        """The URIRef of ``text``, made once. A load names the same predicates, classes, concepts and
        referenced rows on thousands of rows: rdflib checks each new URIRef (1.5 million checks for the
        1M benchmark), and an equal but distinct URIRef used as a dict key is compared by rdflib's
        Python ``__eq__`` (2.4 million calls in the writing of the N-Triples), an identical one is not."""
        found = self.iris.get(text)
        if found is None:
            found = self.iris[text] = URIRef(text)
        return found

    def _row(self, table: TableSpec, display: str, line: int, row: dict[str, str]) -> None:
        id_col = table.id_column
        raw_id = row.get(id_col, "").strip()
        if not raw_id:
            self.problem(display, line, id_col, "identifier is empty; every row needs one")
            return
        try:
            identifier = cells.check_id(raw_id)
        except cells.CellError as exc:
            self.problem(display, line, id_col, str(exc))
            return
        key = (table.name, identifier)
        if key in self.ids:
            first_file, first_line = self.ids[key]
            self.problem(display, line, id_col,
                         f"duplicate identifier {identifier!r}: already used at {first_file}:{first_line}")
            return
        self.ids[key] = (display, line)
        subject = self.iri(entity_iri(table.iri_kind, identifier))
        self.new_nodes.add(subject)
        triples: list[Triple] = [
            (subject, RDF.type, self.iri(table.class_iri)),
            (subject, TKG.sourceFile, self.origin[display][0]),
            (subject, TKG.sourceHash, self.origin[display][1]),
            (subject, TKG.sourceLine, Literal(line, datatype=XSD.integer)),
        ]
        for col in table.columns.values():
            if col.type == "id":
                continue
            value = row.get(col.name, "").strip()
            if not value:
                if col.required:
                    self.problem(display, line, col.name, f"{col.name} is required and empty")
                continue
            values = [v.strip() for v in value.split(";")] if col.multi else [value]
            values = [v for v in dict.fromkeys(values) if v]
            if not values and col.required:
                self.problem(display, line, col.name, f"{col.name} is required and empty")
            for v in values:
                term = self._term(col, v, display, line, subject)
                if term is None:
                    continue
                assert col.predicate is not None
                triples.append((subject, self.iri(col.predicate), term))
                if col.label:
                    triples.append((subject, RDFS.label, term))
        for earlier, later in table.dates_in_order:
            first, second = row.get(earlier, "").strip(), row.get(later, "").strip()
            if first and second and dateorder.is_partial_date(first) and dateorder.is_partial_date(second):
                why = dateorder.out_of_order(earlier, first, later, second)
                if why:
                    self.problem(display, line, later, why)
        self.triples.update(dict.fromkeys(triples))

    def _term(self, col: ColumnSpec, value: str, display: str, line: int, subject: URIRef) -> object | None:
        try:
            match col.type:
                case "ref":
                    assert col.table is not None and col.predicate is not None
                    cells.check_id(value)
                    self.refs.append(_PendingRef(display, line, col.name, col.table, value, subject,
                                                 self.iri(col.predicate)))
                    return self.iri(entity_iri(self.catalog.tables[col.table].iri_kind, value))
                case "concept":
                    assert col.scheme is not None
                    notations = self.notations.get(col.scheme, frozenset())
                    return self.iri(str(cells.to_concept(value, col.scheme, notations)))
                case "date":
                    return cells.to_date(value)
                case "partial-date":
                    return cells.to_partial_date(value)
                case "url":
                    return cells.to_url(value)
                case "integer":
                    return cells.to_integer(value)
                case "decimal":
                    return cells.to_decimal(value)
                case "boolean":
                    return cells.to_boolean(value)
                case "country":
                    return cells.to_country(value)
                case "wikidata":
                    return cells.to_wikidata(value)
                case _:
                    return cells.to_string(value)
        except cells.CellError as exc:
            self.problem(display, line, col.name, str(exc))
            return None

    def check_new_ids_against_store(self) -> None:
        iris = {entity_iri(self.catalog.tables[t].iri_kind, i): (t, i) for t, i in self.ids}
        for iri in sorted(self.existing(set(iris))):
            table, identifier = iris[iri]
            display, line = self.ids[(table, identifier)]
            self.problem(display, line, self.catalog.tables[table].id_column,
                         f"duplicate identifier {identifier!r}: the store already has this {table} row; "
                         "a load adds new facts, to change a fact rebuild from data/")

    def resolve_refs(self) -> set[URIRef]:
        missing = [r for r in self.refs
                   if (r.table, r.identifier) not in self.ids and r.table not in self.unreadable_tables]
        wanted = {entity_iri(self.catalog.tables[r.table].iri_kind, r.identifier) for r in missing}
        found = self.existing(wanted) if wanted else set()
        referenced = {URIRef(entity_iri(self.catalog.tables[r.table].iri_kind, r.identifier)) for r in self.refs}
        for ref in missing:
            iri = entity_iri(self.catalog.tables[ref.table].iri_kind, ref.identifier)
            if iri in found:
                continue
            known = [i for (t, i) in self.ids if t == ref.table]
            if self.stored_ids is not None:  # the store's rows are candidates too ("did you mean")
                known += sorted(self.stored_ids(ref.table))
            hint = difflib.get_close_matches(ref.identifier, known, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            self.problem(
                ref.display, ref.line, ref.column,
                f"{ref.identifier!r} is not the id of any {ref.table} row in this load or the store{suggestion}",
            )
        return referenced


def load_files(
    files: Iterable[InputFile],
    existing: ExistingLookup = _no_store,
    catalog: Catalog | None = None,
    stored_ids: Callable[[str], set[str]] | None = None,
) -> LoadResult:
    """Convert ``files`` to one graph, or raise ``LoadFailed`` with every problem.

    ``stored_ids(table)``, when given, names the ids the store already has, so
    an unknown reference gets a "did you mean" from them too.
    """
    loader = _Loader(catalog or load_catalog(), existing, stored_ids)
    for item in files:
        loader.read(item)
    loader.check_new_ids_against_store()
    referenced = loader.resolve_refs()
    if loader.problems:
        raise LoadFailed(loader.problems)
    return LoadResult(list(loader.triples), loader.rows_per_table, loader.new_nodes, referenced)
