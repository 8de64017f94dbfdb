"""Batch screening (tradekg screen --file): one row per input row and candidate, bad rows by line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.answers.batch import read_counterparties, screen_file
from kg.cli import cli
from kg.errors import LoadFailed
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore


@pytest.fixture
def counterparties(tmp_path: Path) -> Path:
    path = tmp_path / "counterparties.csv"
    path.write_text("id,name,country\n"
                    "c1,HUAWEI TECH. CO.,CN\n"
                    "c2,,US\n"
                    "c3,Acme Widgets GmbH,DE\n"
                    "c4,Huawei Technologies Japan,XX\n"
                    'c5,"Huawei Technologies (Bolivia)",BO,extra\n'
                    "c6,Huawei Technologies (Bolivia),BO\n", encoding="utf-8")
    return path


def test_a_file_with_bad_rows_is_screened_and_the_bad_rows_named(curated_store: VersionedStore, runner: CliRunner,
                                                                 counterparties: Path) -> None:
    result = runner.invoke(cli, ["screen", "--file", str(counterparties), "--limit", "3",
                                 "--store", str(curated_store.path)])
    assert result.exit_code == 2
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["input_id"] for r in rows} == {"c1", "c3", "c6"}
    huawei = [r for r in rows if r["input_id"] == "c1"]
    assert huawei[0]["party"].endswith("/company/huawei") and float(huawei[0]["score"]) >= 90
    assert "Entity List since 2019-05-16 (presumption of denial)" in huawei[0]["lists"]
    assert "tech→technologies" in huawei[0]["explanation"]
    assert [r["explanation"] for r in rows if r["input_id"] == "c3"] == [
        "no name in the graph matches at or above the threshold"]
    bolivia = [r for r in rows if r["input_id"] == "c6"]
    assert bolivia[0]["party"].endswith("/company/huawei-bolivia") and "84 FR 22961" in bolivia[0]["rules"]
    assert f"{counterparties}:3: column name: empty name" in result.stderr
    assert f"{counterparties}:5: column country: 'XX' is not an ISO 3166-1 alpha-2 code" in result.stderr
    assert f"{counterparties}:6: 4 cells where the header has 3" in result.stderr
    assert "3 rows left out; the other rows were screened" in result.stderr


def test_json_output_and_chosen_columns(curated_backend: EmbeddedBackend, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("ref,legal_name,iso\nA-1,ZTE Corporation,CN\n", encoding="utf-8")
    out = io.StringIO()
    report = screen_file(curated_backend, path, out, "json", name_column="legal_name", country_column="iso",
                         id_column="ref", limit=1)
    rows = json.loads(out.getvalue())
    assert report.screened == 1 and report.matched == 1 and report.written == len(rows) == 1
    assert rows[0]["input_id"] == "A-1" and rows[0]["party"].endswith("/company/zte")


def test_a_missing_column_is_refused_before_anything_is_screened(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,firm\n1,Huawei\n", encoding="utf-8")
    with pytest.raises(LoadFailed) as caught:
        read_counterparties(path)
    assert "in.csv:1: column name: no such column (the header has: id, firm)" in caught.value.details()


def test_ended_entries_are_left_out_unless_asked_for(curated_backend: EmbeddedBackend, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,name\n1,Huawei Technologies Co. Ltd\n", encoding="utf-8")
    today, ended = io.StringIO(), io.StringIO()
    screen_file(curated_backend, path, today, limit=1, on="2024-01-01")
    screen_file(curated_backend, path, ended, limit=1, on="2024-01-01", include_ended=True)
    rules_today = next(csv.DictReader(io.StringIO(today.getvalue())))["rules"]
    rules_all = next(csv.DictReader(io.StringIO(ended.getvalue())))["rules"]
    assert "84 FR 23468" not in rules_today  # the 2019 temporary general license ended in 2020
    assert "84 FR 23468" in rules_all and "ended" in rules_all


def test_the_bulk_lookup_is_the_single_party_one_for_many(curated_backend: EmbeddedBackend) -> None:
    from kg.answers.screen import Index, describe_many, match, screen
    from kg.resources import lookup_query

    one, many = lookup_query("screen-party"), lookup_query("screen-parties")
    body = lambda text: text[text.index("PREFIX"):].replace("SELECT ?party ", "SELECT ")  # noqa: E731
    assert body(one) == body(many)
    index = Index.from_backend(curated_backend)
    found = match(index, "Huawei Technologies", limit=3)
    bulk = describe_many(curated_backend, [m.party for m in found], "2024-01-01")
    screened = screen(curated_backend, "Huawei Technologies", limit=3, index=index, on="2024-01-01")
    assert screened
    for m in screened:
        assert (bulk[m.party].designations, bulk[m.party].rules, bulk[m.party].exposure) == (
            m.designations, m.rules, m.exposure)
