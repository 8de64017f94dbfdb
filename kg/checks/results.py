"""Validation results as SHACL defines them, and the standard report they make.

Both engines (the SPARQL translation and the complete engine) produce
``Result`` rows in rdflib terms: focus node, result path (the path node of
the shapes graph, copied with its structure into the report), value, source
shape, constraint component, severity and messages. ``report_graph`` writes
the ``sh:ValidationReport`` other SHACL tools read (``sh:conforms`` is false
as soon as there is any result, whatever its severity, as SHACL says).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node


@dataclass(frozen=True)
class Result:
    focus: Node
    component: URIRef
    shape: Node
    path: Node | None = None
    value: Node | None = None
    severity: URIRef = SH.Violation
    messages: tuple[Literal, ...] = ()
    # Where a blank-node path's structure is, when not in the shapes graph (the complete engine's report).
    structure: Graph | None = field(default=None, compare=False, hash=False)


@dataclass
class Results:
    """The results of one validation, and the shapes graph their paths and shapes live in."""

    shapes: Graph
    results: list[Result] = field(default_factory=list)
    # Top-level shape -> why the complete engine checked it (said to the user).
    handed_off: dict[Node, str] = field(default_factory=dict)
    # The data's triples about blank focus nodes and values, so a report reader can tell them apart.
    blanks: Graph = field(default_factory=Graph)

    @property
    def conforms(self) -> bool:
        return not self.results


def _copy(source: Graph, node: Node, target: Graph, depth: int = 0) -> Node:
    """Copy a blank-node structure (a complex path, a blank shape) from ``source`` into ``target``."""
    if not isinstance(node, BNode) or depth > 20:
        return node
    if source.value(node, RDF.first) is not None:
        items = [_copy(source, m, target, depth + 1) for m in Collection(source, node)]
        head = BNode()
        Collection(target, head, items)
        return head
    fresh = BNode()
    for p, o in source.predicate_objects(node):
        target.add((fresh, p, _copy(source, o, target, depth + 1)))
    return fresh


def report_graph(results: Results, data: Graph | None = None) -> Graph:
    """The ``sh:ValidationReport`` of ``results``.

    Blank focus nodes and values are written as the blank nodes they are
    (their labels are the data's); blank paths and shapes are copied from the
    shapes graph with their structure, so a reader sees the path expression.
    """
    graph = Graph()
    graph.bind("sh", SH)
    report = BNode()
    graph.add((report, RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, Literal(results.conforms)))
    for triple in results.blanks:
        graph.add(triple)
    for r in results.results:
        node = BNode()
        graph.add((report, SH.result, node))
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.focusNode, r.focus))
        if r.path is not None:
            graph.add((node, SH.resultPath, _copy(r.structure or results.shapes, r.path, graph)))
        if r.value is not None:
            graph.add((node, SH.value, r.value))
        graph.add((node, SH.sourceShape, r.shape))
        graph.add((node, SH.sourceConstraintComponent, r.component))
        graph.add((node, SH.resultSeverity, r.severity))
        for message in r.messages:
            graph.add((node, SH.resultMessage, message))
    return graph


def serialize(graph: Graph, fmt: str) -> str:
    """``graph`` as Turtle or JSON-LD, written by Oxigraph.

    rdflib's Turtle writer prints an ill-formed boolean (``"none"^^xsd:boolean``,
    a value a report must be able to quote) as the bare word ``none``, which
    is not Turtle; Oxigraph writes every term as it is.
    """
    import pyoxigraph as ox

    from kg.graph.terms import to_oxigraph

    quads = [ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in graph]  # type: ignore[arg-type]
    if fmt == "turtle":
        prefixes = {"sh": str(SH), "xsd": "http://www.w3.org/2001/XMLSchema#",
                    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}
        return ox.serialize(quads, format=ox.RdfFormat.TURTLE, prefixes=prefixes).decode()
    return ox.serialize(quads, format=ox.RdfFormat.JSON_LD).decode()


def _name(node: Node | None, shapes: Graph) -> str:
    if node is None:
        return "-"
    if isinstance(node, BNode):
        if shapes.value(node, SH.inversePath) is not None:
            return "^" + _name(shapes.value(node, SH.inversePath), shapes)
        if shapes.value(node, RDF.first) is not None:
            return "(" + " / ".join(_name(m, shapes) for m in Collection(shapes, node)) + ")"
        for key, mark in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
            if shapes.value(node, key) is not None:
                return _name(shapes.value(node, key), shapes) + mark
        if shapes.value(node, SH.alternativePath) is not None:
            return "(" + " | ".join(_name(m, shapes) for m in Collection(
                shapes, shapes.value(node, SH.alternativePath))) + ")"
        return "[]"
    return node.n3()


def text(results: Results) -> str:
    """A report a person reads: one block per result, grouped by shape."""
    if results.conforms:
        return "conforms: no validation results"
    lines = [f"does not conform: {len(results.results)} result(s)"]
    for r in sorted(results.results, key=lambda r: (str(r.shape), str(r.focus), str(r.path), str(r.value))):
        component = str(r.component).rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
        severity = str(r.severity).rsplit("#", 1)[-1]
        message = f": {r.messages[0]}" if r.messages else ""
        lines.append(f"- {severity} {component} on {_name(r.focus, results.shapes)}"
                     f" path {_name(r.path, results.shapes)}"
                     + (f" value {_name(r.value, results.shapes)}" if r.value is not None else "")
                     + f" (shape {_name(r.shape, results.shapes)}){message}")
    return "\n".join(lines)


def handoff_notes(handed_off: dict[Node, str]) -> Iterable[str]:
    for shape, why in sorted(handed_off.items(), key=lambda kv: str(kv[0])):
        yield f"shape {shape.n3() if not isinstance(shape, BNode) else '[blank node]'}: {why}"
