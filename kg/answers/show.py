"""``tradekg show``: one entity, its statements, what points at it, its sources.

An analyst checking a counterparty wants the evidence next to the claim, so
the sources (title and URL) of the entity's facts are listed in full. For a
firm, what the derived rule effects say reaches it is shown in two parts
worded apart (issue 10): legal reach (rules that restrict the firm itself,
change its entry, or authorize an exception for it) and exposure (a listed
parent or affiliate, which no rule extends to the firm: never a designation
of it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import RDF, Literal, URIRef
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from kg.answers.queries import today
from kg.answers.render import cell_text, shorten
from kg.answers.resolve import resolve_entity
from kg.graph.backend import Backend, ResultTable
from kg.loaders.tables import load_catalog
from kg.namespaces import CONCEPT, SCHEMA, TKG
from kg.resources import lookup_query


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
    is_firm: bool = False
    reach: list[Reach] = field(default_factory=list)  # legal reach and exposure, in date order

    def legal_reach(self) -> list[Reach]:
        return [r for r in self.reach if not r.exposure]

    def exposure(self) -> list[Reach]:
        return [r for r in self.reach if r.exposure]

    def as_table(self) -> ResultTable:
        """The statements, then one ``tkg:reach`` row per reach line (value: the RuleEffect).

        The columns stay those of the statements; a reach row's valueLabel is the
        line ``show`` prints, led by "legal reach: " or "exposure (not a
        designation of this firm): " so a CSV reader cannot take one for the other.
        """
        table = ResultTable(["entity", "property", "value", "valueLabel"])
        for s in self.statements:
            row: dict[str, Node] = {"entity": self.entity, "property": s.property, "value": s.value}
            if s.value_label:
                row["valueLabel"] = Literal(s.value_label)
            table.rows.append(row)
        for r in self.reach:
            table.rows.append({"entity": self.entity, "property": TKG.reach, "value": r.effect,
                               "valueLabel": Literal(f"{r.section}: {r.line}")})
        return table


LEGAL_REACH = "legal reach"
EXPOSURE = "exposure (not a designation of this firm)"


@dataclass
class Reach:
    """One derived rule effect on the firm, worded for its section."""

    effect: URIRef  # the tkg:RuleEffect node
    rule: URIRef
    exposure: bool  # reach:exposure: a listed parent or affiliate, not legal reach
    line: str
    status: str = ""  # "holds on ...", "ended ...", "not yet in force on ...", "suspended on ..."

    @property
    def section(self) -> str:
        return EXPOSURE if self.exposure else LEGAL_REACH


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
    description.is_firm = any(s.property == RDF.type and s.value == TKG.Company for s in description.statements)
    if description.is_firm:
        description.reach = firm_reach(backend, entity)
    return description


_EXPOSURE = CONCEPT["reach/exposure"]


def firm_reach(backend: Backend, firm: URIRef, on: Literal | None = None) -> list[Reach]:
    """The firm's derived rule effects as lines, one per distinct wording (queries/lookup/firm-reach.rq).

    The status (holds, ended, not yet, suspended) is said for ``on`` (an
    xsd:date; the web page's as-of date), else today, or the date
    ``TRADEKG_TODAY`` pins.
    """
    found: list[Reach] = []
    seen: set[tuple[bool, str]] = set()
    for row in backend.select(lookup_query("firm-reach"), {"entity": firm, "today": on or today()}).rows:
        exposure = row["reachConcept"] == _EXPOSURE
        rule = _rule_name(row)
        period = _period(row)
        status = str(row["status"])
        if exposure:
            where = f"on {row['list']}" if row.get("list") is not None else \
                f"through {row['through']}" if row.get("through") is not None else "by the rule"
            parent = str(row.get("viaParent", "")) or shorten(str(row["rule"]))
            line = f"{row['effect']}: {parent} {where} ({rule}, {period}) — {status}"
        else:
            through = f"; {row['through']}" if row.get("through") is not None else ""
            line = f"{rule} — {row['effect']} ({row['reach']}{through}), {period} — {status}"
        if (exposure, line) in seen:
            continue
        seen.add((exposure, line))
        effect, rule_iri = row["effectNode"], row["rule"]
        assert isinstance(effect, URIRef) and isinstance(rule_iri, URIRef)
        found.append(Reach(effect, rule_iri, exposure, line, status))
    return found


def _rule_name(row: dict[str, Node]) -> str:
    """"84 FR 22961", "FR Doc 2022-19415", or the rule's short id when neither is recorded."""
    if row.get("citation") is not None:
        return str(row["citation"])
    if row.get("document") is not None:
        return f"FR Doc {row['document']}"
    return shorten(str(row["rule"]))


def _period(row: dict[str, Node]) -> str:
    start, end = row.get("from"), row.get("until")
    if start is None:
        return "date not recorded"
    return f"{start} to {end}" if end is not None else f"since {start}"


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
    if d.is_firm:
        for section, found in ((LEGAL_REACH, d.legal_reach()), (EXPOSURE, d.exposure())):
            lines.append(f"  {section}:")
            if not found:
                lines.append("    none in the graph" if section == LEGAL_REACH else
                             "    none in the graph (no listed parent or affiliate)")
            lines.extend(f"    {r.line}" for r in found)
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
