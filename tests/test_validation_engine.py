"""The build's validator: complete or loud, terms as written, a user's shapes enforced by build and load.

Every refusal path is tried (exit code 2, a message naming the shape and
what is unsupported, the store untouched); every hand-off to the complete
engine is checked to find what pySHACL finds; and shapes added to the
project's (``--shapes``) are enforced by ``build`` and ``load``.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from pyshacl import validate
from rdflib import RDF
from rdflib.namespace import SH

from kg.checks.files import shapes_with, validate_files
from kg.checks.results import report_graph
from kg.checks.sparql import check_store, plan_for
from kg.cli import cli
from kg.graph.store import VersionedStore
from kg.graph.terms import quads_to_graph
from tests.conftest import MINI

PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .
@prefix shape: <https://w3id.org/tradekg/shapes#> .
@prefix schema: <https://schema.org/> .
@prefix tkg: <https://w3id.org/tradekg/ontology#> .
"""


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(PREFIXES + text, encoding="utf-8")
    return path


def _validate(runner: CliRunner, shapes: Path, data: Path, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["validate", "--shapes", str(shapes), "--data", str(data), *extra])
    return result.exit_code, result.stdout, result.stderr


# ---- refusals: exit 2, the shape and the reason named ----------------------------------------

REFUSED = {
    "a term not in the SHACL vocabulary": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:minCoun 1 ] .",
        "sh:minCoun", "is not a term of the SHACL vocabulary"),
    "a SHACL-JS constraint": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:js [ sh:jsFunctionName \"f\" ] .",
        "sh:js", "JavaScript"),
    "a constraint component without a validator": (
        "ex:C a sh:ConstraintComponent ; sh:parameter [ sh:path ex:size ] .\n"
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; ex:size 3 .",
        "ex:size", "has no SPARQL validator"),
    "a SPARQL constraint pySHACL will not run": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select "
        "\"SELECT $this WHERE { MINUS { $this ?p ?o } }\" ] .",
        "ex:S", "MINUS"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_shape_neither_engine_checks_is_refused_by_name(case: str, tmp_path: Path, runner: CliRunner) -> None:
    shapes, term, reason = REFUSED[case]
    code, out, err = _validate(runner, _file(tmp_path, "shapes.ttl", shapes),
                               _file(tmp_path, "data.ttl", "ex:a ex:p 1 ."))
    assert code == 2, out + err
    named = term.replace("ex:", "http://example.org/").replace("sh:", "http://www.w3.org/ns/shacl#")
    assert named in err and reason in err
    assert "refused" in err and out == ""


def test_a_refused_shape_stops_build_before_anything_is_written(tmp_path: Path, runner: CliRunner) -> None:
    shapes = _file(tmp_path, "extra.ttl", "shape:Company sh:minCoun 1 .")
    store = tmp_path / "store"
    result = runner.invoke(cli, ["build", "--data", str(MINI), "--store", str(store), "--shapes", str(shapes)])
    assert result.exit_code == 2
    assert "shacl#minCoun" in result.stderr and "https://w3id.org/tradekg/shapes#Company" in result.stderr
    assert not VersionedStore(store).exists()


def test_bad_rdf_input_names_file_line_and_column(tmp_path: Path, runner: CliRunner) -> None:
    shapes = _file(tmp_path, "shapes.ttl", "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:class ex:C .")
    data = tmp_path / "data.ttl"
    data.write_text('@prefix ex: <http://example.org/> .\nex:a ex:p "unclosed .\n', encoding="utf-8")
    code, _, err = _validate(runner, shapes, data)
    assert code == 2 and "data.ttl:2:" in err
    code, _, err = _validate(runner, shapes, tmp_path / "shapes.ttl", "--data", str(tmp_path / "x.rdfx"))
    assert code == 2


# ---- hand-offs: the complete engine checks exactly those shapes -------------------------------

def test_shapes_the_translation_lacks_go_to_pyshacl_and_are_enforced(tmp_path: Path) -> None:
    shapes = _file(tmp_path, "shapes.ttl", """
ex:Sparql a sh:NodeShape ; sh:targetClass ex:T ;
  sh:sparql [ sh:select "SELECT $this ?value WHERE { $this <http://example.org/p> ?value FILTER(?value > 5) }" ] .
ex:Fast a sh:NodeShape ; sh:targetClass ex:T ; sh:property [ sh:path ex:p ; sh:maxCount 1 ] .
""")
    data = _file(tmp_path, "data.ttl", "ex:a a ex:T ; ex:p 7 . ex:b a ex:T ; ex:p 1, 2 .")
    results = validate_files([data], [shapes])
    assert {str(k) for k in results.handed_off} == {"http://example.org/Sparql"}
    assert "sh:sparql" in next(iter(results.handed_off.values()))
    found = {(str(r.focus).rsplit("/", 1)[-1], str(r.component).rsplit("#", 1)[-1]) for r in results.results}
    assert found == {("a", "SPARQLConstraintComponent"), ("b", "MaxCountConstraintComponent")}


def test_the_user_is_told_which_shapes_pyshacl_checked(tmp_path: Path, runner: CliRunner) -> None:
    shapes = _file(tmp_path, "shapes.ttl", "ex:S a sh:NodeShape ; sh:targetNode ex:a ; "
                                           "sh:qualifiedValueShape [ sh:class ex:C ] ; sh:qualifiedMinCount 1 .")
    code, _, err = _validate(runner, shapes, _file(tmp_path, "data.ttl", "ex:a ex:p 1 ."))
    assert code == 0
    assert "checked by pySHACL" in err and "http://example.org/S" in err and "qualifiedValueShape on a node" in err


# ---- terms as written ----------------------------------------------------------------------

def test_datatype_in_and_pattern_see_the_literals_as_written(tmp_path: Path) -> None:
    shapes = _file(tmp_path, "shapes.ttl", """
ex:Int a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:int ; sh:datatype xsd:int ] .
ex:In a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:dec ; sh:in ( 1.0 ) ] .
ex:Pat a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:price ; sh:pattern "^[0-9]+[.][0-9]{2}$" ] .
ex:Count a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:n ; sh:maxCount 1 ] .
""")
    data = _file(tmp_path, "data.ttl", 'ex:a ex:int "5"^^xsd:int ; ex:dec "1"^^xsd:decimal ; '
                                       'ex:price "1.50"^^xsd:decimal ; ex:n "01"^^xsd:integer, "1"^^xsd:integer .')
    results = validate_files([data], [shapes])
    # Oxigraph alone holds xsd:integer, "1" (equal to "1.0"), "1.5" and one value of ex:n.
    found = {str(r.component).rsplit("#", 1)[-1] for r in results.results}
    assert found == {"InConstraintComponent", "MaxCountConstraintComponent"}, report_graph(results).serialize()


def test_an_ill_formed_literal_is_a_datatype_violation_on_the_fast_path(tmp_path: Path) -> None:
    shapes = _file(tmp_path, "shapes.ttl",
                   "ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:property [ sh:path ex:d ; sh:datatype xsd:date ] .")
    data = _file(tmp_path, "data.ttl", 'ex:a a ex:T ; ex:d "2020-13-01"^^xsd:date . '
                                       'ex:b a ex:T ; ex:d "2020-12-01"^^xsd:date .')
    results = validate_files([data], [shapes])
    assert not results.handed_off
    assert [(str(r.focus), str(r.value)) for r in results.results] == [("http://example.org/a", "2020-13-01")]


def test_a_boolean_parameter_is_on_only_when_it_says_true(tmp_path: Path) -> None:
    shapes = _file(tmp_path, "shapes.ttl", 'ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:closed "1"^^xsd:boolean .')
    assert validate_files([_file(tmp_path, "data.ttl", "ex:a ex:p 1 .")], [shapes]).conforms


# ---- the project's shapes, extended by a user: enforced by build and load ------------------------

EXTENSIONS = {
    "sh:closed on a node shape": ("shape:Company sh:closed true ; "
                                  "sh:ignoredProperties ( <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ) .",
                                  "ClosedConstraintComponent"),
    "a shape with sh:targetSubjectsOf": ("ex:Dated a sh:NodeShape ; sh:targetSubjectsOf schema:startDate ; "
                                         "sh:property [ sh:path schema:endDate ; sh:minCount 1 ] .",
                                         "MinCountConstraintComponent"),
}


@pytest.mark.parametrize("case", sorted(EXTENSIONS))
def test_build_enforces_a_node_level_constraint_added_to_the_shapes(case: str, tmp_path: Path,
                                                                    runner: CliRunner) -> None:
    text, component = EXTENSIONS[case]
    extra = _file(tmp_path, "extra.ttl", text)
    store = tmp_path / "store"
    result = runner.invoke(cli, ["build", "--data", str(MINI), "--store", str(store), "--shapes", str(extra)])
    assert result.exit_code == 1, result.output
    assert "nothing was written" in result.stderr and not VersionedStore(store).exists()
    # the same results as pySHACL on the same graph with the same shapes
    ok = runner.invoke(cli, ["build", "--data", str(MINI), "--store", str(store)])
    assert ok.exit_code == 0, ok.output
    reader = VersionedStore(store).open_read()
    ours = check_store(reader, shapes_with([extra]))
    graph = quads_to_graph(reader.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    conforms, report, _ = validate(graph, shacl_graph=shapes_with([extra]), inference="none")
    theirs = sorted((str(report.value(r, SH.focusNode)), str(report.value(r, SH.sourceConstraintComponent)))
                    for r in report.subjects(RDF.type, SH.ValidationResult))
    assert not conforms and not ours.conforms and any(c.endswith(component) for _, c in theirs)
    assert sorted((str(r.focus), str(r.component)) for r in ours.results) == theirs


def test_a_shape_written_into_the_project_shapes_file_is_enforced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   runner: CliRunner) -> None:
    """Extending ontology/shapes.ttl itself (not --shapes): the build reads it and enforces it."""
    import kg.checks.sparql
    import kg.graph.ontology
    import kg.resources

    copy = tmp_path / "shapes.ttl"
    copy.write_text(kg.resources.shapes_file().read_text(encoding="utf-8")
                    + "\nshape:Company sh:closed true .\n", encoding="utf-8")
    monkeypatch.setattr(kg.resources, "shapes_file", lambda: copy)
    monkeypatch.setattr(kg.graph.ontology, "shapes_file", lambda: copy)
    kg.graph.ontology.shapes_graph.cache_clear()
    kg.checks.sparql._project_plan.cache_clear()
    try:
        result = runner.invoke(cli, ["build", "--data", str(MINI), "--store", str(tmp_path / "store")])
        assert result.exit_code == 1
        assert "sh:closed" in result.stderr
    finally:
        kg.graph.ontology.shapes_graph.cache_clear()
        kg.checks.sparql._project_plan.cache_clear()


def test_load_enforces_a_shape_that_looks_past_the_new_nodes(tmp_path: Path, runner: CliRunner) -> None:
    """sh:targetObjectsOf: a new designation makes an existing company a focus node; the load sees it."""
    store = tmp_path / "store"
    assert runner.invoke(cli, ["build", "--data", str(MINI), "--store", str(store)]).exit_code == 0
    extra = _file(tmp_path, "extra.ttl", "ex:Listed a sh:NodeShape ; sh:targetObjectsOf tkg:designatedParty ; "
                                         "sh:property [ sh:path ex:riskScore ; sh:minCount 1 ] .")
    before = VersionedStore(store).current_version()
    made = plan_for(VersionedStore(store).open_read(), shapes_with([extra]))
    assert not made.local
    rows = (MINI / "designations.csv").read_text(encoding="utf-8").splitlines()
    new = tmp_path / "designations-new.csv"
    new.write_text("\n".join([rows[0], rows[1].replace(rows[1].split(",")[0], "d-new", 1)]) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["load", str(new), "--store", str(store), "--shapes", str(extra)])
    assert result.exit_code == 1, result.output
    assert "riskScore" in result.stderr or "minCount" in result.stderr
    assert VersionedStore(store).current_version() == before


def test_the_project_shapes_need_no_complete_engine() -> None:
    """Every project shape runs on the fast path: a build never waits for pySHACL."""
    made = plan_for(ox.Store())
    assert made.handed_off == {}
    assert sum(len(c.parts) for c in made.checks) > 300
