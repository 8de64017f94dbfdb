"""The declarative description of the curated tables (``data/tables.yml``).

Loaders never know a table by name: everything they do to a CSV file follows
from the ``TableSpec`` read here, so adding a table or a column is a change to
the YAML file, not to Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kg.namespaces import expand_curie
from kg.resources import tables_file

COLUMN_TYPES = frozenset(
    {"id", "string", "url", "date", "partial-date", "integer", "decimal", "boolean", "country", "wikidata",
     "concept", "ref"}
)


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    required: bool = False
    multi: bool = False
    label: bool = False
    predicate: str | None = None  # full IRI
    table: str | None = None  # for refs
    scheme: str | None = None  # for concepts


@dataclass(frozen=True)
class TableSpec:
    name: str
    file: str
    class_iri: str
    iri_kind: str
    columns: dict[str, ColumnSpec]
    identify_by: tuple[str, ...] = ()
    # (earlier, later) column pairs whose dates must not run backwards, compared at
    # the coarser of the two precisions (a partial-date known to the month or year
    # cannot be ordered against a day by SHACL; kg.loaders.dateorder does it).
    dates_in_order: tuple[tuple[str, str], ...] = ()

    @property
    def id_column(self) -> str:
        return next(c.name for c in self.columns.values() if c.type == "id")

    @property
    def label_column(self) -> str | None:
        return next((c.name for c in self.columns.values() if c.label), None)

    def column_for_predicate(self, predicate: str) -> str | None:
        return next((c.name for c in self.columns.values() if c.predicate == predicate), None)


@dataclass(frozen=True)
class Catalog:
    """All table specs, with lookups the loader and the validator share."""

    tables: dict[str, TableSpec] = field(default_factory=dict)

    def by_file(self, filename: str) -> TableSpec | None:
        return next((t for t in self.tables.values() if t.file == filename), None)

    def by_class(self, class_iri: str) -> TableSpec | None:
        return next((t for t in self.tables.values() if t.class_iri == class_iri), None)

    def guess(self, path: Path, header: list[str] | None = None) -> TableSpec | None:
        """Which table a user's file belongs to: by name first, then by header.

        ``companies.csv``, ``companies-2025.csv`` and ``companies_new.csv`` all
        belong to ``companies``; a file named otherwise belongs to the one table
        whose columns its header names exactly, or else to the one table whose
        required columns it names and whose columns hold all of its header (so
        a file written before a table gained an optional column still loads).
        """
        stem = path.stem.lower()
        for table in sorted(self.tables.values(), key=lambda t: -len(t.name)):
            base = Path(table.file).stem
            if stem == base or stem.startswith(base + "-") or stem.startswith(base + "_"):
                return table
        if header is not None:
            matches = [t for t in self.tables.values() if set(header) == set(t.columns)]
            if len(matches) == 1:
                return matches[0]
            if not matches:
                subset = [t for t in self.tables.values()
                          if set(header) <= set(t.columns)
                          and {n for n, c in t.columns.items() if c.required} <= set(header)]
                if len(subset) == 1:
                    return subset[0]
        return None


def _column(name: str, raw: dict[str, Any], where: str) -> ColumnSpec:
    kind = raw.get("type")
    if kind not in COLUMN_TYPES:
        raise ValueError(f"{where}: column {name!r} has unknown type {kind!r}")
    if kind == "ref" and not raw.get("table"):
        raise ValueError(f"{where}: ref column {name!r} names no table")
    if kind == "concept" and not raw.get("scheme"):
        raise ValueError(f"{where}: concept column {name!r} names no scheme")
    predicate = raw.get("predicate")
    if kind != "id" and not predicate:
        raise ValueError(f"{where}: column {name!r} has no predicate")
    return ColumnSpec(
        name=name,
        type=kind,
        required=bool(raw.get("required", False)),
        multi=bool(raw.get("multi", False)),
        label=bool(raw.get("label", False)),
        predicate=expand_curie(predicate) if predicate else None,
        table=raw.get("table"),
        scheme=raw.get("scheme"),
    )


def _date_pairs(raw: Any, columns: dict[str, ColumnSpec], where: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for pair in raw:
        if len(pair) != 2 or any(columns.get(c) is None or columns[c].type not in ("date", "partial-date")
                                 for c in pair):
            raise ValueError(f"{where}: dates_in_order entry {pair!r} must name two date columns")
        pairs.append((str(pair[0]), str(pair[1])))
    return tuple(pairs)


def parse_catalog(text: str, where: str = "tables.yml") -> Catalog:
    doc = yaml.safe_load(text)
    common = doc.get("common", {})
    tables: dict[str, TableSpec] = {}
    for name, raw in doc["tables"].items():
        columns_raw = dict(raw["columns"])
        if raw.get("common", True):
            for col, spec in common.items():
                columns_raw.setdefault(col, spec)
        columns = {col: _column(col, spec, f"{where}: table {name}") for col, spec in columns_raw.items()}
        if sum(c.type == "id" for c in columns.values()) != 1:
            raise ValueError(f"{where}: table {name} needs exactly one id column")
        tables[name] = TableSpec(
            name=name,
            file=raw["file"],
            class_iri=expand_curie(raw["class"]),
            iri_kind=raw["iri"],
            columns=columns,
            identify_by=tuple(raw.get("identify_by", ())),
            dates_in_order=_date_pairs(raw.get("dates_in_order", ()), columns, f"{where}: table {name}"),
        )
    for table in tables.values():
        for col in table.columns.values():
            if col.type == "ref" and col.table not in tables:
                raise ValueError(f"{where}: {table.name}.{col.name} refers to unknown table {col.table!r}")
    return Catalog(tables)


@cache
def load_catalog(path: Path | None = None) -> Catalog:
    path = path or tables_file()
    return parse_catalog(path.read_text(encoding="utf-8"), where=str(path))
