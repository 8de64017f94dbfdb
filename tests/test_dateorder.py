"""A tenure must not end before it starts, compared at the coarser precision.

SHACL cannot order a day against a month (an end of "2025-01"), so the loader
checks the pair on the ISO text (kg/loaders/dateorder.py) and reports the row
by file, line and column; a build with such a row writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import LoadFailed
from kg.graph.store import VersionedStore
from kg.loaders import InputFile, load_files
from kg.loaders.dateorder import out_of_order
from kg.pipeline.build import build, data_files

ROW = "alice-head,alice,head-of-bureau,2020-01-01,2021-12-31,fixture,confirmed,"


def _set_tenure(mini_dir: Path, start: str, end: str) -> None:
    path = mini_dir / "tenures.csv"
    text = path.read_text(encoding="utf-8")
    assert ROW in text
    path.write_text(text.replace(ROW, f"alice-head,alice,head-of-bureau,{start},{end},fixture,confirmed,"),
                    encoding="utf-8")


def _problems(directory: Path) -> list[str]:
    with pytest.raises(LoadFailed) as caught:
        load_files([InputFile(p, p.name) for p in sorted(directory.glob("*.csv"))])
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(("start", "end", "precision"), [
    ("2025-02-03", "2025-01", "month"),   # a month before a day-precise start
    ("2025-02", "2025-01-31", "month"),
    ("2026", "2025-06-30", "year"),
    ("2021-03-02", "2021-03-01", "day"),
])
def test_an_end_before_the_start_names_file_line_column(mini_dir: Path, start: str, end: str,
                                                        precision: str) -> None:
    _set_tenure(mini_dir, start, end)
    problems = _problems(mini_dir)
    assert len(problems) == 1, problems
    assert problems[0].startswith("tenures.csv:2: column end_date:"), problems[0]
    assert f"end_date '{end}' is before start_date '{start}'" in problems[0]
    assert f"compared to the {precision}" in problems[0]


@pytest.mark.parametrize(("start", "end"), [
    ("2025-01-20", "2025-01"),  # ended in the month it started: consistent, the day is not known
    ("2025-01", "2025-01-02"),
    ("2025", "2025-01"),
    ("2022-04-19", "2025-01"),  # the curated Estevez tenure
])
def test_an_end_in_the_same_period_is_accepted(mini_dir: Path, start: str, end: str) -> None:
    _set_tenure(mini_dir, start, end)
    load_files([InputFile(p, p.name) for p in sorted(mini_dir.glob("*.csv"))])


def test_a_failing_build_writes_nothing(mini_dir: Path, tmp_path: Path) -> None:
    _set_tenure(mini_dir, "2025-02-03", "2025-01")
    store = VersionedStore(tmp_path / "store")
    with pytest.raises(LoadFailed):
        build(store, data_files(mini_dir))
    assert not store.exists()


def test_out_of_order_compares_at_the_shorter_precision() -> None:
    assert out_of_order("start_date", "2025-01-31", "end_date", "2025-01") is None
    assert out_of_order("start_date", "2025-01-31", "end_date", "2024-12") is not None
