"""The Python API (kg.open) on the mini and curated graphs: the same answers and errors as the CLI."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import kg
from kg.cli import cli
from kg.errors import NotFound
from kg.graph.store import VersionedStore
from tests.conftest import REPO


@pytest.fixture(scope="module")
def mini(mini_store: VersionedStore) -> kg.Graph:
    return kg.open(store=mini_store.path)


@pytest.fixture(scope="module")
def curated(curated_store: VersionedStore) -> kg.Graph:
    return kg.open(store=curated_store.path)


def test_import_kg_is_light() -> None:
    code = "import sys, kg; print(sorted(m for m in sys.modules if m.split('.')[0] in ('rdflib', 'pyoxigraph')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_query_rows_are_dicts_of_python_values_matching_the_cli_csv(mini: kg.Graph, mini_store: VersionedStore,
                                                                    runner: CliRunner) -> None:
    result = mini.query("rules-affecting-firm", firm="parentco", as_of=dt.date(2020, 5, 1))
    assert result.columns[:2] == ["rule", "citation"]
    rows = list(result)
    assert rows and all(set(r) == set(result.columns) for r in rows)
    assert {r["citation"] for r in rows} == {"1 FR 100", "1 FR 150"}
    assert isinstance(rows[0]["effective"], dt.date) and isinstance(rows[0]["published"], dt.date)
    assert rows[0]["rule"].startswith("https://w3id.org/tradekg/id/rule/")
    cli_csv = runner.invoke(cli, ["query", "rules-affecting-firm", "-p", "firm=parentco", "-p", "as_of=2020-05-01",
                                  "--format", "csv", "--store", str(mini_store.path)]).output
    assert result.to_csv() == cli_csv


def test_to_csv_writes_a_file(mini: kg.Graph, tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    result = mini.query("designations")
    text = result.to_csv(target)
    assert target.read_text(encoding="utf-8") == text
    assert text.splitlines()[0] == ",".join(result.columns) and len(text.splitlines()) == len(result) + 1


def test_to_pandas_gives_a_dataframe_or_says_what_to_install(mini: kg.Graph) -> None:
    result = mini.query("designations", list="List A")
    try:
        import pandas  # noqa: F401
    except ModuleNotFoundError:
        with pytest.raises(kg.api.TradekgError, match="pip install"):
            result.to_pandas()
        return
    frame = result.to_pandas()
    assert list(frame.columns) == result.columns and len(frame) == len(result)


def test_errors_are_the_typed_exceptions_of_the_cli(mini: kg.Graph) -> None:
    with pytest.raises(NotFound, match="did you mean"):
        mini.query("rules-affecting-firm", firm="Parent Telecon")
    with pytest.raises(NotFound, match="no saved query"):
        mini.query("rules-affecting")
    with pytest.raises(kg.api.QueryRejected, match="update"):
        mini.sparql("DELETE WHERE { ?s ?p ?o }")


def test_sparql_knows_the_project_prefixes(mini: kg.Graph) -> None:
    result = mini.sparql("SELECT ?c WHERE { ?c a tkg:Company } ORDER BY ?c")
    assert len(result) == 5
    assert mini.sparql("ASK { id:company\\/parentco a tkg:Company }") is True


def test_resolve_show_and_short_ids(mini: kg.Graph) -> None:
    iri = mini.resolve("Parent Telecom")
    assert iri == "https://w3id.org/tradekg/id/company/parentco"
    assert mini.resolve("id:company/parentco") == iri
    description = mini.show("ParentCo")
    assert str(description.entity) == iri and description.statements


def test_curated_huawei_in_three_lines(curated_store: VersionedStore) -> None:
    g = kg.open(store=curated_store.path)
    rows = list(g.query("rules-affecting-firm", firm="Huawei", as_of="2021-01-01"))
    assert any(r["citation"] == "84 FR 22961" for r in rows)


def test_curated_screen_gives_rows_and_matches(curated: kg.Graph) -> None:
    result = curated.screen("HUAWEI TECH. CO.", country="CN", limit=2)
    assert result.matches[0].party.endswith("/company/huawei")
    first = next(iter(result))
    assert first["score"] >= 90 and "Entity List" in first["lists"]


def test_open_reads_the_store_the_cli_would(curated_store: VersionedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEKG_STORE", str(curated_store.path))
    assert kg.open().resolve("84 FR 22961").endswith("/rule/el-huawei-2019")
    monkeypatch.setenv("TRADEKG_STORE", str(curated_store.path.parent / "nowhere"))
    with pytest.raises(kg.api.TradekgError):
        kg.open()
