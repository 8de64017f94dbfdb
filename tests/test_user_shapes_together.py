"""Two user shapes validated together give the results of each alone, as pySHACL finds them.

Two node shapes, each with one blank-node property shape of the same form
(``sh:minCount 1``) but another target and path, were thought to lose the
second shape's results when checked together: a report on the curated graph
listed only the first one's. The engine finds both; the report lists the
violations of CSV rows and counts those of derived nodes (rule effects, which
have no row) in ``hidden_derived`` instead (``kg.checks.sparql.to_report``,
as ``kg.checks.validate.validate_graph`` does for pySHACL). These tests pin
both: no result is lost by the engine, and every result is in the report,
shown or counted.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyshacl import validate
from rdflib import RDF, Graph
from rdflib.namespace import SH

from kg.checks.files import shapes_with
from kg.checks.read import raw_graph
from kg.checks.sparql import check_store, validate_store
from kg.graph.store import VersionedStore

PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix tkg: <https://w3id.org/tradekg/ontology#> .
@prefix schema: <https://schema.org/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""
# Designations (CSV rows) without an end date; rule effects (derived) without a note.
ENDED = ("<urn:x:ended> a sh:NodeShape ; sh:targetClass tkg:Designation ; "
         "sh:property [ sh:path schema:endDate ; sh:minCount 1 ] .\n")
NOTED = ("<urn:x:noted> a sh:NodeShape ; sh:targetClass tkg:RuleEffect ; "
         "sh:property [ sh:path skos:note ; sh:minCount 1 ] .\n")

Key = tuple[str, str, str]  # (focus, result path, constraint component)


@pytest.fixture(scope="module")
def curated(curated_store: VersionedStore) -> ox.Store:
    """The curated graph in an in-memory store, as a build validates it."""
    store = ox.Store()
    store.bulk_extend(curated_store.open_read().quads_for_pattern(None, None, None, ox.DefaultGraph()))
    return store


def _shapes(tmp_path: Path, name: str, body: str) -> Graph:
    path = tmp_path / f"{name}.ttl"
    path.write_text(PREFIXES + body, encoding="utf-8")
    return shapes_with([path])


def _ours(store: ox.Store, shapes: Graph) -> Counter[Key]:
    return Counter((str(r.focus), str(r.path), str(r.component)) for r in check_store(store, shapes).results)


def _pyshacl(store: ox.Store, shapes: Graph) -> Counter[Key]:
    data = raw_graph(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    _, report, _ = validate(data, shacl_graph=shapes, inference="none", abort_on_first=False,
                            allow_infos=True, allow_warnings=True, advanced=True)
    return Counter((str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath)),
                    str(report.value(r, SH.sourceConstraintComponent)))
                   for r in report.subjects(RDF.type, SH.ValidationResult))


def _paths(results: Counter[Key]) -> Counter[str]:
    return Counter(path for (_, path, _), n in results.items() for _ in range(n))


def test_two_user_shapes_together_find_what_each_finds_alone(curated: ox.Store, tmp_path: Path) -> None:
    ended = _ours(curated, _shapes(tmp_path, "ended", ENDED))
    noted = _ours(curated, _shapes(tmp_path, "noted", NOTED))
    both = _ours(curated, _shapes(tmp_path, "both", ENDED + NOTED))
    # the curated graph breaks both shapes, or the test proves nothing
    assert ended and noted
    assert both == ended + noted
    assert set(_paths(both)) == {"https://schema.org/endDate", "http://www.w3.org/2004/02/skos/core#note"}


def test_two_user_shapes_together_give_pyshacls_results_and_report_them_all(curated: ox.Store,
                                                                             tmp_path: Path) -> None:
    shapes = _shapes(tmp_path, "both", ENDED + NOTED)
    theirs = _pyshacl(curated, shapes)
    assert _ours(curated, shapes) == theirs
    report = validate_store(curated, shapes=shapes)
    # every result is either listed or counted among the derived ones not shown
    assert len(report.violations) + report.hidden_derived == sum(theirs.values())
    assert not report.conforms
    # and the report does not say the rule effects' missing notes follow from the designation rows
    text = report.text()
    assert f"{report.hidden_derived} violation(s) of derived facts, which have no row, are not shown" in text
    assert "follow from these rows" not in text
