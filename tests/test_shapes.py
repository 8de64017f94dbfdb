"""Shapes in pairs: a valid example conforms, each fault of the invalid one is caught."""

from __future__ import annotations

import re
from pathlib import Path

from pyshacl import validate
from rdflib import Graph
from rdflib.namespace import SH

from kg.graph.ontology import ontology_graph, shapes_graph

SHAPES = Path(__file__).parent / "fixtures" / "shapes"
SHAPE_NS = "https://w3id.org/tradekg/shapes#"


def _results(path: Path) -> tuple[bool, set[tuple[str, str]]]:
    data = Graph().parse(path, format="turtle")
    conforms, report, _ = validate(data, shacl_graph=shapes_graph(), ont_graph=ontology_graph(), inference="none")
    found = set()
    for result in report.subjects(None, SH.ValidationResult):
        shape = str(report.value(result, SH.sourceShape)).removeprefix(SHAPE_NS)
        found.add((f"shape:{shape}", str(report.value(result, SH.resultMessage))))
    return bool(conforms), found


def test_valid_example_conforms() -> None:
    conforms, found = _results(SHAPES / "valid.ttl")
    assert conforms, found


def test_invalid_example_fails_exactly_as_annotated() -> None:
    text = (SHAPES / "invalid.ttl").read_text(encoding="utf-8")
    expected = set(re.findall(r"^# expect-shape: (\S+)\n# expect-message: (.+)$", text, flags=re.MULTILINE))
    assert len(expected) >= 15
    conforms, found = _results(SHAPES / "invalid.ttl")
    assert not conforms
    assert found == expected


def test_shapes_graph_is_valid_shacl() -> None:
    from pyshacl.shapes_graph import ShapesGraph  # noqa: F401  (import proves the module layout we rely on)

    conforms, _, text = validate(shapes_graph(), shacl_graph=None, meta_shacl=True, inference="none")
    assert conforms, text
