"""Rough edges a new user hit (issue 15): each test failed on the code before its fix."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.answers.queries import find_query, run_saved
from kg.answers.render import render_table
from kg.cli import cli
from kg.export import layout
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from tests.conftest import MINI


def _run(runner: CliRunner, store: VersionedStore, *args: str) -> object:
    return runner.invoke(cli, [*args, "--store", str(store.path)])


def test_sparql_declares_the_prefixes_tables_print(curated_store: VersionedStore, runner: CliRunner) -> None:
    result = _run(runner, curated_store, "sparql", "SELECT ?r WHERE { ?r a tkg:Rule ; dcterms:title ?t } LIMIT 3",
                  "--format", "json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["results"]["bindings"]) == 3
    # A query's own PREFIX for a project prefix wins over the default one.
    own = _run(runner, curated_store, "sparql", "PREFIX tkg: <urn:other#> ASK { ?r a tkg:Rule }")
    assert own.output.strip() == "false"


def test_a_parse_error_is_one_plain_line_with_the_position(curated_store: VersionedStore,
                                                            runner: CliRunner) -> None:
    result = _run(runner, curated_store, "sparql", "SELECT ?r WHERE {\n  ?r a tkg:Rule .\n  FILTR }")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: not valid SPARQL at line 3, column 10, at the end of 'FILTR }'"
    unknown = _run(runner, curated_store, "sparql", "SELECT ?r WHERE { ?r a foo:Rule }")
    assert len(unknown.stderr.strip().splitlines()) == 1
    assert "line 1, column" in unknown.stderr and "the prefix foo: is not declared" in unknown.stderr
    assert "\\u{" not in unknown.stderr


def test_short_ids_printed_in_tables_are_accepted_back(curated_store: VersionedStore, runner: CliRunner) -> None:
    table = _run(runner, curated_store, "query", "firms-affected-by-rule", "-p", "rule=85 FR 36719",
                 "--format", "table")
    assert "id:company/huawei" in table.output
    short = _run(runner, curated_store, "query", "rules-affecting-firm", "-p", "firm=id:company/huawei",
                 "--format", "csv")
    named = _run(runner, curated_store, "query", "rules-affecting-firm", "-p", "firm=Huawei", "--format", "csv")
    assert short.exit_code == 0, short.output
    assert short.output == named.output
    rule = _run(runner, curated_store, "show", "id:rule/standards-2022", "--format", "csv")
    assert rule.exit_code == 0, rule.output
    assert "https://w3id.org/tradekg/id/rule/standards-2022" in rule.output


def test_show_finds_a_record_by_its_id_and_names_list_entries(curated_store: VersionedStore,
                                                             runner: CliRunner) -> None:
    record = _run(runner, curated_store, "show", "el-huawei", "--type", "designations", "--format", "table")
    assert record.exit_code == 0, record.output
    assert "designated party" in record.output and "2019-05-16" in record.output
    firm = _run(runner, curated_store, "show", "Huawei", "--format", "table")
    assert "Entity List since 2019-05-16 (id:designation/el-huawei)" in firm.output


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graph_files_without_graphviz_or_numpy(curated_store: VersionedStore, runner: CliRunner, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy fails, as in the base install
    target = tmp_path / f"g.{fmt}"
    result = _run(runner, curated_store, "export", fmt, "-o", str(target))
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert ("<y:Geometry" in text) if fmt == "graphml" else ("<viz:position" in text)


def test_large_graphs_get_ring_positions_in_linear_time() -> None:
    groups = {"company": [f"c{i}" for i in range(300)], "rule": [f"r{i}" for i in range(60)]}
    where = layout.rings(groups)
    assert len(where) == 360 and len(set(where.values())) == 360
    assert max(abs(c) for xy in where.values() for c in xy) == pytest.approx(1000.0)
    small = layout.spring([f"n{i}" for i in range(20)], [(f"n{i}", f"n{i + 1}") for i in range(19)])
    assert len(set(small.values())) == 20


def test_an_output_name_that_names_another_format_is_refused(curated_store: VersionedStore, runner: CliRunner,
                                                             tmp_path: Path) -> None:
    pdf = _run(runner, curated_store, "export", "svg", "--focus", "Huawei", "-o", str(tmp_path / "x.pdf"))
    assert pdf.exit_code == 2
    assert "tradekg does not write .pdf files; this export writes svg: name it x.svg" in pdf.stderr
    png = _run(runner, curated_store, "export", "graphml", "-o", str(tmp_path / "x.png"))
    assert png.exit_code == 2 and "the name says png but the format is graphml" in png.stderr
    assert not list(tmp_path.iterdir())
    ok = _run(runner, curated_store, "export", "dot", "--focus", "Huawei", "-o", str(tmp_path / "x.gv"))
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize("width", [100, 200])
def test_tables_are_readable_at_100_and_200_columns(curated_backend: EmbeddedBackend, width: int) -> None:
    result = run_saved(find_query("rules-affecting-firm"), {"firm": "Huawei", "as_of": "2021-01-01"},
                       curated_backend)
    out = io.StringIO()
    render_table(result, out, width=width, wide=False)
    text = out.getvalue()
    assert all(len(line) <= width for line in text.splitlines()), max(text.splitlines(), key=len)
    assert "…" not in text
    words = " ".join(text.split())
    title = "Addition of Huawei Technologies Co., Ltd. and 68 non-U.S. affiliates to the Entity List"
    assert all(w in words for w in title.split())
    assert "id:rule/el-huawei-2019" in text  # shortened, whole, and after the citation
    assert text.index("84 FR 22961") < text.index("id:rule/el-huawei-2019")
    assert "https://" not in text


def test_wide_tables_and_csv_stay_whole(curated_store: VersionedStore, runner: CliRunner) -> None:
    args = ["query", "designations", "-p", "list=Entity List"]
    wide = _run(runner, curated_store, *args, "--format", "table", "--wide")
    rows = [line for line in wide.output.splitlines() if "HiSilicon" in line]
    assert len(rows) == 1 and "For all items subject to the EAR" in rows[0] and "id:company/hisilicon" in rows[0]
    csv_out = _run(runner, curated_store, *args, "--format", "csv")
    assert "https://w3id.org/tradekg/id/company/hisilicon" in csv_out.output


def test_validate_suggests_the_stored_id_an_unknown_reference_meant(curated_store: VersionedStore,
                                                                    runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "designations.csv"
    path.write_text("id,party,list,rule,modified_by,listing_date,start_date,end_date,license_requirement,"
                    "license_policy,reason,source,confidence,note\n"
                    "el-test,huawie,entity-list,el-huawei-2019,,2019-05-21,2019-05-16,,,presumption-of-denial,,"
                    "fr-84-22961,secondary,\n", encoding="utf-8")
    result = _run(runner, curated_store, "validate", str(path))
    assert result.exit_code == 2
    assert "designations.csv:2: column party: 'huawie' is not the id of any companies row" in result.stderr
    assert "(did you mean 'huawei'?)" in result.stderr


def test_build_and_validate_count_the_same_nodes(runner: CliRunner, tmp_path: Path) -> None:
    built = runner.invoke(cli, ["build", "--data", str(MINI), "--store", str(tmp_path / "store")])
    checked = runner.invoke(cli, ["validate", "--data", str(MINI)])
    assert built.exit_code == checked.exit_code == 0, (built.output, checked.output)
    count = re.compile(r"conforms: (\d+) nodes")
    assert count.search(built.output).group(1) == count.search(checked.output).group(1)


def test_timeline_year_lines_stay_off_the_texts_and_the_svg_fits_its_window(curated_backend: EmbeddedBackend
                                                                             ) -> None:
    pytest.importorskip("matplotlib")
    from kg.export.timeline import draw_timeline, firm_timeline

    svg = draw_timeline(firm_timeline(curated_backend, "Huawei"), "svg").decode("utf-8")
    tag = re.search(r"<svg[^>]*>", svg).group(0)
    assert 'width="100%"' in tag and "height=" not in tag and "viewBox=" in tag
    grid = re.search(r'<g id="year-grid">(.*?)</g>', svg, re.DOTALL).group(1)
    grid_x = [float(x) for x in re.findall(r"[ML] ([\d.]+) [\d.]+", grid)]
    text_x = [float(x) for x in re.findall(r'<text[^>]* x="([\d.]+)"[^>]*>\d{4}-\d\d-\d\d ', svg)]
    assert grid_x and text_x
    assert max(grid_x) < min(text_x)
