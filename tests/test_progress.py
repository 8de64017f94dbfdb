"""Progress bars appear only for a person at a terminal, never in pipes or CI."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from kg import progress


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not progress.interactive()
    assert list(progress.progress(range(3), "x")) == [0, 1, 2]
    assert sys.stderr.getvalue() == ""


def test_no_bar_in_ci_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Tty())
    monkeypatch.setenv("CI", "true")
    assert not progress.interactive()
    monkeypatch.delenv("CI")
    assert progress.interactive()
    assert list(progress.progress(range(3), "counting", 3)) == [0, 1, 2]
    assert "counting" in sys.stderr.getvalue()


def test_build_names_its_steps_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from kg.graph.store import VersionedStore
    from kg.pipeline.build import build
    from tests.conftest import mini_files

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stderr", Tty())
    build(VersionedStore(tmp_path / "a"), mini_files())
    shown = sys.stderr.getvalue()
    for step in ("reading the CSV files", "deriving the rule effects", "validating", "triples to the store"):
        assert step in shown
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    build(VersionedStore(tmp_path / "b"), mini_files())
    assert sys.stderr.getvalue() == ""
