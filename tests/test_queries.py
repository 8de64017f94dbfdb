"""Saved queries: headers, parameters bound as terms, expected rows on the mini dataset.

Expected results live in tests/expected/<query>.csv. After a deliberate change
to a query or the fixture, regenerate them with
``TRADEKG_UPDATE_EXPECTED=1 pytest tests/test_queries.py`` and read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kg.answers.queries import BadParameter, find_query, run_saved, saved_queries
from kg.answers.render import render_to_string
from kg.answers.resolve import Ambiguous
from kg.errors import NotFound
from kg.graph.backend import EmbeddedBackend, QueryRejected, with_values

EXPECTED = Path(__file__).parent / "expected"

# One call per saved query (and a few more) against tests/fixtures/mini.
CASES: dict[str, tuple[str, dict[str, str]]] = {
    "rules-affecting-firm": ("rules-affecting-firm", {"firm": "Parent Telecom Co. Ltd."}),
    "rules-affecting-firm-as-of": ("rules-affecting-firm", {"firm": "parentco", "as_of": "2020-05-01"}),
    "rules-affecting-firm-subsidiary": ("rules-affecting-firm", {"firm": "Grandchild Telecom S.R.L."}),
    "firms-affected-by-rule": ("firms-affected-by-rule", {"rule": "1 FR 100"}),
    "designations": ("designations", {}),
    "designations-as-of": ("designations", {"list": "List A", "as_of": "2021-01-01"}),
    "firm-timeline": ("firm-timeline", {"firm": "parentco"}),
    "rules-by-official": ("rules-by-official", {"person": "Alice Official"}),
    "exceptions-for-firm": ("exceptions-for-firm", {"firm": "ParentCo"}),
    "agencies-acting-on-firm": ("agencies-acting-on-firm", {"firm": "parentco"}),
}


def test_every_saved_query_has_a_case_here() -> None:
    assert {name for name, _ in CASES.values()} == set(saved_queries())


def test_headers_name_describe_and_parameterise() -> None:
    for query in saved_queries().values():
        assert query.title and len(query.description) > 40, query.name
        for param in query.parameters:
            assert f"?{param.name}" in query.text, f"{query.name}: ?{param.name} unused"
            assert param.description


@pytest.mark.parametrize("case", sorted(CASES))
def test_saved_query_rows_match_expected(case: str, mini_backend: EmbeddedBackend) -> None:
    name, params = CASES[case]
    result = run_saved(find_query(name), params, mini_backend)
    text = render_to_string(result, "csv")
    path = EXPECTED / f"{case}.csv"
    if os.environ.get("TRADEKG_UPDATE_EXPECTED"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def _column(backend: EmbeddedBackend, name: str, params: dict[str, str], column: str) -> list[str]:
    return [str(v) for v in run_saved(find_query(name), params, backend).column(column)]


def test_subsidiary_is_reached_through_parent_but_not_by_unshared_authorizations(
    mini_backend: EmbeddedBackend,
) -> None:
    result = run_saved(find_query("rules-affecting-firm"), {"firm": "subco"}, mini_backend)
    # The parent's listing is exposure (no rule extends it to the subsidiary),
    # and the rules that changed the parent's entry or list do not reach it.
    assert [(str(r["citation"]), str(r["effect"]), str(r["reach"]), str(r["viaParent"])) for r in result.rows] == [
        ("1 FR 100", "parent listed", "exposure only (no rule extends it)", "Parent Telecom Co. Ltd."),
    ]


def test_list_authorization_skips_party_delisted_before_it(mini_backend: EmbeddedBackend) -> None:
    firms = _column(mini_backend, "firms-affected-by-rule", {"rule": "2 FR 10"}, "name")
    assert firms == ["Parent Telecom Co. Ltd."]  # Other Corp left List A on 2020-12-31


def test_rules_by_official_respects_term_and_agency_tree(mini_backend: EmbeddedBackend) -> None:
    citations = _column(mini_backend, "rules-by-official", {"person": "A. Official"}, "citation")
    assert "3 FR 1" not in citations  # after the term
    assert "2 FR 300" not in citations  # issued by the department above the bureau
    assert citations == ["1 FR 100", "1 FR 150", "1 FR 200", "1 FR 250", "2 FR 10", "2 FR 500"]


def test_entity_parameter_accepts_iri_id_name_alias_case_insensitive(mini_backend: EmbeddedBackend) -> None:
    query = find_query("rules-affecting-firm")
    expected = run_saved(query, {"firm": "parentco"}, mini_backend).rows
    for spelling in ("https://w3id.org/tradekg/id/company/parentco", "PARENTCO", "parent telecom",
                     "  Parent   Telecom Co. Ltd. "):
        assert run_saved(query, {"firm": spelling}, mini_backend).rows == expected, spelling


def test_unknown_entity_gets_did_you_mean(mini_backend: EmbeddedBackend) -> None:
    with pytest.raises(NotFound, match=r"did you mean 'Parent Telecom'"):
        run_saved(find_query("rules-affecting-firm"), {"firm": "Parent Telcom"}, mini_backend)


def test_unknown_query_and_parameter(mini_backend: EmbeddedBackend) -> None:
    with pytest.raises(NotFound, match="did you mean rules-affecting-firm"):
        find_query("rules-affecting-frm")
    with pytest.raises(BadParameter, match="did you mean 'firm'"):
        run_saved(find_query("rules-affecting-firm"), {"frm": "x"}, mini_backend)
    with pytest.raises(BadParameter, match="needs firm"):
        run_saved(find_query("rules-affecting-firm"), {}, mini_backend)
    with pytest.raises(BadParameter, match="YYYY-MM-DD"):
        run_saved(find_query("rules-affecting-firm"), {"firm": "parentco", "as_of": "May 2020"}, mini_backend)


def test_ambiguous_name_asks_for_one(mini_dir: Path, tmp_path: Path) -> None:
    from kg.graph.store import VersionedStore
    from kg.pipeline.build import build
    from tests.conftest import mini_files

    companies = mini_dir / "companies.csv"
    companies.write_text(companies.read_text() + "twin,Twin Telecom,Parent Telecom,CN,,,,,fixture,confirmed,\n")
    store = VersionedStore(tmp_path / "s")
    build(store, mini_files(mini_dir))
    with pytest.raises(Ambiguous, match="names 2 entities"):
        run_saved(find_query("rules-affecting-firm"), {"firm": "Parent Telecom"}, EmbeddedBackend(store.open_read()))


@pytest.mark.parametrize("hostile", ['"} ; DROP ALL ; {', "> <http://evil>", "x' } UNION { ?s ?p ?o", 'a"b\\"c'])
def test_injection_through_parameters_finds_nothing_and_changes_nothing(
    hostile: str, mini_backend: EmbeddedBackend
) -> None:
    before = len(mini_backend.all_triples())
    with pytest.raises(NotFound):
        run_saved(find_query("rules-affecting-firm"), {"firm": hostile}, mini_backend)
    assert len(mini_backend.all_triples()) == before


def test_values_block_escapes_literals_into_one_term(mini_backend: EmbeddedBackend) -> None:
    from rdflib import Literal

    hostile = Literal('"} ; DROP ALL ; { ?s ?p ?o } #')
    query = with_values("SELECT ?x WHERE { }", {"x": hostile})
    rows = mini_backend.select(query).rows
    assert rows == [{"x": hostile}]


def test_update_is_refused_by_the_query_path(mini_backend: EmbeddedBackend) -> None:
    with pytest.raises(QueryRejected, match="SPARQL update"):
        mini_backend.query_any("DROP ALL")


def test_an_extension_reaches_the_party_from_its_own_date(mini_backend: EmbeddedBackend) -> None:
    rows = run_saved(find_query("rules-affecting-firm"), {"firm": "parentco", "as_of": "2020-05-01"}, mini_backend).rows
    assert "1 FR 250" not in {str(r.get("citation")) for r in rows}  # the extension came on 2020-06-15
    later = run_saved(find_query("rules-affecting-firm"), {"firm": "parentco", "as_of": "2020-07-01"}, mini_backend)
    extension = next(r for r in later.rows if str(r.get("citation")) == "1 FR 250")
    assert (str(extension["from"]), str(extension["until"])) == ("2020-06-15", "2020-08-01")
