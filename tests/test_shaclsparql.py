"""The SPARQL translation of our shapes gives pySHACL's verdicts, result for result."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from kg.checks.sparql import compiled_checks, validate_store
from kg.checks.validate import Report, validate_graph
from kg.graph.backend import EmbeddedBackend
from kg.graph.ontology import ontology_graph
from kg.graph.store import VersionedStore
from kg.graph.terms import graph_to_quads
from kg.namespaces import SCHEMA, TKG
from tests.conftest import FIXTURES

ID = "https://w3id.org/tradekg/id/"


def _key(report: Report) -> set[tuple[str, str | None, str, int | None]]:
    return {(v.focus, v.path, v.message, v.line) for v in report.violations}


def _both(graph: Graph) -> tuple[Report, Report]:
    store = ox.Store()
    store.extend(graph_to_quads(graph))
    store.extend(graph_to_quads(ontology_graph()))
    return validate_graph(graph), validate_store(store)


def test_every_shape_translates() -> None:
    assert len(compiled_checks()) > 150


@pytest.mark.parametrize("name", ["valid", "invalid"])
def test_shape_fixtures_get_the_same_results(name: str) -> None:
    graph = Graph().parse(FIXTURES / "shapes" / f"{name}.ttl")
    pyshacl, ours = _both(graph)
    assert pyshacl.conforms == ours.conforms
    assert _key(pyshacl) == _key(ours)
    # Values agree too, up to Oxigraph's canonical number form ("-5.00" is "-5").
    assert {(v.focus, v.value and v.value.rstrip("0").rstrip(".")) for v in pyshacl.violations} == {
        (v.focus, v.value and v.value.rstrip("0").rstrip(".")) for v in ours.violations}


def test_the_curated_graph_conforms_for_both(curated_backend: EmbeddedBackend) -> None:
    graph = curated_backend.all_triples()
    pyshacl, ours = _both(graph)
    assert pyshacl.conforms and ours.conforms


def _broken(graph: Graph) -> Graph:
    broken = Graph()
    broken += graph
    party = URIRef(f"{ID}company/subco")
    designation = URIRef(f"{ID}designation/d-parentco")
    broken.add((designation, SCHEMA.startDate, Literal("2019-01-01", datatype=XSD.date)))  # two start dates
    broken.add((party, SCHEMA.parentOrganization, Literal("parentco")))  # a literal where a company belongs
    broken.add((party, SCHEMA.addressCountry, Literal("de")))  # lower case, and a second country
    broken.add((party, SCHEMA.legalName, Literal("Sub", lang="en")))  # language-tagged and a second name
    broken.add((designation, TKG.licenseReviewPolicy, URIRef(f"{ID}not-a-concept")))
    broken.add((URIRef(f"{ID}designation/d-otherco"), SCHEMA.endDate, Literal("2001-01-01", datatype=XSD.date)))
    broken.remove((party, TKG.sourceLine, None))
    broken.add((party, TKG.sourceLine, Literal(0)))  # below the minimum
    return broken


def test_a_broken_graph_gets_the_same_violations(mini_backend: EmbeddedBackend) -> None:
    pyshacl, ours = _both(_broken(mini_backend.all_triples()))
    assert not pyshacl.conforms and not ours.conforms
    assert len(_key(pyshacl)) >= 8
    assert _key(pyshacl) == _key(ours)
    assert {v.location() for v in pyshacl.violations} == {v.location() for v in ours.violations}


def test_imported_csl_rows_get_the_same_verdict(realdata: Path, curated_store: VersionedStore,
                                                tmp_path: Path) -> None:
    import shutil
    from datetime import date

    from kg.pipeline.incremental import commit_delta
    from kg.sources import csl

    target = tmp_path / "store"
    shutil.copytree(curated_store.path, target, symlinks=True)
    store = VersionedStore(target)
    path = realdata / "csl" / "watchman_cslustest_consolidated_2025_sample.csv"
    plan = csl.plan_import(csl.read_csl(path, path.name), store.open_read(), date(2025, 6, 1))
    commit_delta(store, plan.removals, plan.additions, plan.focus, {})
    graph = EmbeddedBackend(store.open_read()).all_triples()
    pyshacl, ours = _both(graph)
    assert pyshacl.conforms and ours.conforms
    graph.add((URIRef(next(iter(plan.focus))), TKG.remarks, Literal(3)))
    graph.remove((None, SCHEMA.name, Literal("State Department")))
    pyshacl, ours = _both(graph)
    assert _key(pyshacl) == _key(ours) and not ours.conforms
