"""The benchmark script runs at its smallest size, so it cannot rot (its timings are not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_benchmark_runs_at_its_smallest_size_and_prints_the_table() -> None:
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick"],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    assert "| CSV -> store load (read CSV, derive, write the store), s (tradekg) |" in table
    assert "load + validation (`tradekg build`, wall clock), s" in table
    assert "build steps: read / derive / validate / write, s" in table
    assert "full validation (shapes as SPARQL on Oxigraph" in table
    assert "N-Triples -> Oxigraph bulk_load, on disk / in memory, s (floor under build)" in table
    assert "`tradekg build` CPU time (all threads), s" in table
    assert "20-row load into the store" in table
    for query in ("rules-affecting-firm", "firms-affected-by-rule", "designations", "firm-timeline",
                  "rules-by-official"):
        assert f"`{query}` median, s (rdflib)" in table and f"`{query}` median, s (tradekg) [rows]" in table
        assert f"`{query}` speed-up" in table
    assert "(violations!)" not in table
    assert "peak memory, MB (tradekg process)" in table


@pytest.mark.slow
def test_screening_benchmark_runs_at_its_smallest_size(realdata: Path) -> None:
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "screening.py"), "--quick",
                             "--ofac", str(realdata / "ofac" / "sdn-2021")],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    assert "entities 400; names and aliases indexed" in table
    for figure in ("recall@1, aliases as written", "recall@5, aliases as written", "recall@1, aliases with one typo",
                   "false matches at threshold 82", "batch: 500 names"):
        assert f"| {figure}" in table, figure
    row = next(line for line in table.splitlines() if line.startswith("| recall@1, aliases as written"))
    ours = float(row.split("|")[2])
    assert 0.0 < ours <= 1.0  # a figure, not an error; the targets are checked by reading the full run


@pytest.mark.slow
def test_screening_variants_benchmark_quick_form_meets_its_targets(realdata: Path) -> None:
    """Issue 21: listed firms as counterparty files write them, and hard negatives; screen beside the baselines."""
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "screening_variants.py"), "--quick",
                             "--sdn-sample", "0"], capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    header = next(line for line in table.splitlines() if line.startswith("| figure"))
    assert "tradekg screen" in header and "rapidfuzz token_sort_ratio" in header and "Jaro-Winkler" in header
    for rule in ("place before", "place after", "business words after", "abbreviated", "distinctive word alone"):
        assert f"| recall, {rule} (" in table, rule
    recall = next(line for line in table.splitlines() if line.startswith("| recall (right party"))
    false = next(line for line in table.splitlines() if line.startswith("| false matches, all hard negatives"))
    assert float(recall.split("|")[2]) >= 0.95
    assert float(false.split("|")[2].split()[0]) <= 0.02


def test_the_csl_benchmark_file_is_the_real_layout_with_real_rows_first(realdata: Path, tmp_path: Path) -> None:
    """benchmarks/csl_import.py's file: the real header, a quarter Entity List rows, each real row once as
    it is, then copies that are parties of their own (their own id and name) citing other pages."""
    import csv

    sys.path.insert(0, str(REPO / "benchmarks"))
    from csl_import import template_rows, write_real_layout

    files = [realdata / "csl" / "csl_consolidated_2025_entity_list_huawei_block.csv",
             realdata / "csl" / "watchman_cslustest_consolidated_2025_sample.csv"]
    real = template_rows(files)
    path = tmp_path / "consolidated.csv"
    write_real_layout(path, real, 1_000)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == list(real[0])
        rows = list(reader)
    assert len(rows) == 1_000
    assert sum(r["source"].startswith("Entity List") for r in rows) == 250
    assert len({r["_id"] for r in rows}) == 1_000
    assert all(r in rows for r in real)  # every real row, as it is
    copies = [r for r in rows if r not in real]
    assert len(copies) == 1_000 - len(real) and len({r["name"] for r in copies}) == len(copies)
    assert not any("huawei" in r["name"].lower() for r in copies)
    assert any(r["federal_register_notice"].count(" FR ") >= 5 for r in copies)  # several citations a row


@pytest.mark.slow
def test_the_csl_benchmark_imports_and_prints_its_targets(realdata: Path) -> None:
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "csl_import.py"), "--rows", "300", "--csl",
                             str(realdata / "csl" / "csl_consolidated_2025_entity_list_huawei_block.csv"),
                             str(realdata / "csl" / "watchman_cslustest_consolidated_2025_sample.csv")],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    assert "CSL file: 300 rows in the real layout" in table
    for figure in ("`tradekg import csl` (map, validate, derive, write) |", "the same file again (nothing new) |",
                   "`tradekg build` replaying the import: the replay step"):
        assert f"| {figure}" in table, figure
