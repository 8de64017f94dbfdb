"""The benchmark script runs at its smallest size, so it cannot rot (its timings are not asserted)."""

from __future__ import annotations

import subprocess
import sys

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
    assert "20-row load into the store" in table
    for query in ("rules-affecting-firm", "firms-affected-by-rule", "designations", "firm-timeline",
                  "rules-by-official"):
        assert f"`{query}` median, s (rdflib)" in table and f"`{query}` median, s (tradekg) [rows]" in table
        assert f"`{query}` speed-up" in table
    assert "(violations!)" not in table
    assert "peak memory, MB (tradekg process)" in table
