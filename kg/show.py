"""``tradekg show``: one entity, its statements, what points at it, its sources.

An analyst checking a counterparty wants the evidence next to the claim, so
the sources (title and URL) of the entity's facts are listed in full.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import RDF, Literal, URIRef
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from kg.backend import Backend, ResultTable
from kg.namespaces import SCHEMA, TKG
from kg.render import cell_text, shorten
from kg.resolve import resolve_entity
from kg.resources import lookup_query
from kg.tables import load_catalog


@dataclass
class Statement:
    property: URIRef
    property_label: str
    value: Node
    value_label: str | None


@dataclass
class Description:
    entity: URIRef
    statements: list[Statement] = field(default_factory=list)
    incoming: list[tuple[str, str, str]] = field(default_factory=list)  # (property, subject label, type)
    sources: list[tuple[str, str]] = field(default_factory=list)  # (title, url)

    def as_table(self) -> ResultTable:
        table = ResultTable(["entity", "property", "value", "valueLabel"])
        for s in self.statements:
            row: dict[str, Node] = {"entity": self.entity, "property": s.property, "value": s.value}
            if s.value_label:
                row["valueLabel"] = Literal(s.value_label)
            table.rows.append(row)
        return table


def describe(backend: Backend, text: str, tables: tuple[str, ...] | None = None) -> Description:
    tables = tables or tuple(load_catalog().tables)
    entity = resolve_entity(backend, text, tables)
    description = Description(entity)
    labels: dict[Node, str] = {}
    for row in backend.select(lookup_query("describe-out"), {"entity": entity}).rows:
        prop = row["property"]
        value = row["value"]
        assert isinstance(prop, URIRef)
        if "valueLabel" in row:
            labels.setdefault(value, str(row["valueLabel"]))
        if any(s.property == prop and s.value == value for s in description.statements):
            continue
        description.statements.append(Statement(prop, str(row.get("propertyLabel", shorten(str(prop)))),
                                                value, None))
    for statement in description.statements:
        statement.value_label = labels.get(statement.value)
    seen = set()
    entries = _list_entries(backend, entity)
    for row in backend.select(lookup_query("describe-in"), {"entity": entity}).rows:
        key = (str(row["property"]), str(row["subject"]))
        if key in seen:
            continue
        seen.add(key)
        subject = str(row.get("subjectLabel", "")) or entries.get(str(row["subject"]), "") or \
            shorten(str(row["subject"]))
        description.incoming.append((
            str(row.get("propertyLabel", shorten(str(row["property"])))),
            subject,
            str(row.get("subjectType", "")),
        ))
    for statement in description.statements:
        if statement.property == DCTERMS.source and isinstance(statement.value, URIRef):
            rows = backend.select(lookup_query("describe-out"), {"entity": statement.value}).rows
            url = next((str(r["value"]) for r in rows if r["property"] == SCHEMA.url), "")
            description.sources.append((statement.value_label or shorten(str(statement.value)), url))
    return description


def _list_entries(backend: Backend, entity: URIRef) -> dict[str, str]:
    """Designation IRI -> "Entity List since 2019-05-16 (id:designation/el-huawei)": records have no label."""
    entries = {}
    for row in backend.select(lookup_query("party-designations"), {"entity": entity}).rows:
        text = str(row["list"])
        if row.get("start") is not None:
            text += f" since {row['start']}"
        if row.get("end") is not None:
            text += f", ended {row['end']}" if row.get("start") is not None else f" until {row['end']}"
        entries[str(row["designation"])] = f"{text} ({shorten(str(row['designation']))})"
    return entries


_SKIP_IN_TABLE = {str(TKG.sourceFile), str(TKG.sourceHash), str(TKG.sourceLine), str(DCTERMS.source)}


def render_description(d: Description) -> str:
    lines = [f"{_title(d)}  <{d.entity}>"]
    types = [s.value_label or shorten(str(s.value)) for s in d.statements if s.property == RDF.type]
    if types:
        lines.append(f"  type: {', '.join(types)}")
    origin_file = next((str(s.value) for s in d.statements if s.property == TKG.sourceFile), None)
    origin_line = next((str(s.value) for s in d.statements if s.property == TKG.sourceLine), None)
    origin_hash = next((str(s.value) for s in d.statements if s.property == TKG.sourceHash), None)
    width = max((len(s.property_label) for s in d.statements), default=10)
    for s in d.statements:
        if s.property == RDF.type or str(s.property) in _SKIP_IN_TABLE:
            continue
        value = cell_text(s.value, short=True)
        if s.value_label and s.value_label != value:
            value = f"{s.value_label}  ({value})"
        lines.append(f"  {s.property_label.ljust(width)}  {value}")
    if d.incoming:
        lines.append("  referenced by:")
        for prop, subject, kind in d.incoming:
            lines.append(f"    {subject}{f' [{kind}]' if kind else ''} — {prop}")
    if d.sources:
        lines.append("  sources:")
        for title, url in d.sources:
            lines.append(f"    {title}{f'  {url}' if url else ''}")
    if origin_file:
        content = f"  ({origin_hash[:19]})" if origin_hash else ""
        lines.append(f"  loaded from: {origin_file}:{origin_line}{content}")
    return "\n".join(lines)


def _title(d: Description) -> str:
    for s in d.statements:
        if str(s.property) == "http://www.w3.org/2000/01/rdf-schema#label":
            return str(s.value)
    return shorten(str(d.entity))
