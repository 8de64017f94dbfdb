"""Validation reports against the CSV rows facts came from, and pySHACL, the reference engine.

Validators speak in focus nodes and paths; a user thinks in files, lines and
columns. Every loaded node carries ``tkg:sourceFile``/``tkg:sourceLine`` and
every column maps to one predicate (``data/tables.yml``), so each violation is
turned back into ``companies.csv:12: column country``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyshacl import validate as shacl_validate
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from kg.errors import TradekgError
from kg.graph.ontology import ontology_graph, shapes_graph
from kg.loaders.tables import Catalog, load_catalog
from kg.namespaces import TKG


@dataclass(frozen=True)
class Violation:
    message: str
    severity: str
    focus: str
    path: str | None
    value: str | None
    file: str | None
    line: int | None
    column: str | None

    def location(self) -> str:
        if self.file is None:
            return f"<{self.focus}> (derived, not from a CSV row)"
        where = f"{self.file}:{self.line}"
        if self.column:
            where += f": column {self.column}"
        return where


@dataclass
class Report:
    conforms: bool
    violations: list[Violation] = field(default_factory=list)
    nodes_checked: int = 0
    hidden_derived: int = 0
    # Shapes the complete engine checked instead of the SPARQL translation, and why.
    handed_off: dict[str, str] = field(default_factory=dict)

    def grouped(self) -> dict[str, list[Violation]]:
        groups: dict[str, list[Violation]] = {}
        for v in sorted(self.violations, key=lambda v: (v.message, v.file or "", v.line or 0)):
            groups.setdefault(v.message, []).append(v)
        return groups

    def text(self) -> str:
        notes = [f"checked by pySHACL (slower): shape <{shape}>: {why}" for shape, why in sorted(
            self.handed_off.items())]
        if self.conforms and not self.violations:
            done = f"conforms: {self.nodes_checked} nodes checked against the shapes, no violations"
            return "\n".join([*notes, done])
        lines = [*notes, f"{len(self.violations)} violation(s) in {len(self.grouped())} group(s):"]
        for message, items in self.grouped().items():
            lines.append(f"\n{message}  ({len(items)})")
            for v in items:
                value = f"  value: {v.value}" if v.value is not None else ""
                lines.append(f"  {v.location()}{value}")
        if self.hidden_derived:
            # Not "follow from these rows": a user's shape on rule effects is violated whatever the rows say.
            lines.append(f"\n({self.hidden_derived} violation(s) of derived facts, which have no row, are not "
                         "shown: those that echo a row above go with it; check again once the rows are fixed "
                         "to see any others)")
        return "\n".join(lines)


def _origin(graph: Graph, focus: Node) -> tuple[str | None, int | None]:
    file = graph.value(focus, TKG.sourceFile)
    line = graph.value(focus, TKG.sourceLine)
    return (str(file) if file is not None else None, int(line) if line is not None else None)


def _column(graph: Graph, catalog: Catalog, focus: Node, path: Node | None) -> str | None:
    if not isinstance(path, URIRef):
        return None
    for cls in graph.objects(focus, RDF.type):
        table = catalog.by_class(str(cls))
        if table is not None:
            return table.column_for_predicate(str(path))
    return None


class ValidationFailed(TradekgError):
    """The data does not conform to the shapes (exit code 1); carries the report."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__(f"the graph does not conform: {len(report.violations)} violation(s); nothing was written")


def validate_graph(data: Graph, catalog: Catalog | None = None) -> Report:
    """Validate ``data`` against our shapes with pySHACL, the reference engine.

    Builds, loads and imports use ``kg.checks.sparql`` (the same verdicts on our
    shapes, seconds instead of minutes at a million triples); this is what
    ``load --endpoint`` runs on the server's graph and what the benchmarks
    compare against.
    """
    catalog = catalog or load_catalog()
    conforms, results, _ = shacl_validate(
        data,
        shacl_graph=shapes_graph(),
        ont_graph=ontology_graph(),
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
        advanced=True,
    )
    violations: list[Violation] = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus_node = results.value(result, SH.focusNode)
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        message = results.value(result, SH.resultMessage)
        severity = results.value(result, SH.resultSeverity)
        file, line = _origin(data, focus_node)
        violations.append(
            Violation(
                message=str(message) if message is not None else "violates a shape",
                severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
                focus=str(focus_node),
                path=str(path) if path is not None else None,
                value=str(value) if value is not None else None,
                file=file,
                line=line,
                column=_column(data, catalog, focus_node, path),
            )
        )
    checked = len(set(data.subjects(RDF.type, None)))
    blocking = [v for v in violations if v.severity == "Violation"]
    # A derived node inherits a bad row's values (an end before a start, say):
    # once a CSV row is at fault, the derived echoes of it are noise.
    from_rows = [v for v in violations if v.file is not None]
    hidden = len(violations) - len(from_rows) if from_rows else 0
    return Report(conforms=bool(conforms) or not blocking, violations=from_rows or violations,
                  nodes_checked=checked, hidden_derived=hidden)
