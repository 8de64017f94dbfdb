"""Terminal answers a person reads (issue 23): at 80 and 100 columns no word is cut in two.

``show``, ``screen``, ``query --list``, ``history`` and a saved query's table
are run at each width; every word they print at that width must be a word
of the same answer printed without wrapping (a cut word would leave
fragments such as "designa" and "tes"), and every line fits the width unless
it is one word longer than the line. A long cell repeated in later rows is
printed once and referred to ("same as row 1").
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.graph.store import VersionedStore
from tests.conftest import REPO

HUAWEI_BLOCK = REPO.parent / "shared" / "realdata" / "csl" / "csl_consolidated_2025_entity_list_huawei_block.csv"
# Words the wrapped layouts add: record headers ("── 3 ──"), references to repeated cells.
LAYOUT_WORDS = {"same", "as", "row", "above"}


@pytest.fixture(scope="module")
def store(curated_store: VersionedStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The curated graph, with the real Huawei CSL block imported when it is here (history gets long lines)."""
    target = tmp_path_factory.mktemp("terminal") / "store"
    shutil.copytree(curated_store.path, target, symlinks=True)
    if HUAWEI_BLOCK.is_file():
        result = CliRunner().invoke(cli, ["import", "csl", str(HUAWEI_BLOCK), "--partial", "--as-of", "2025-06-01",
                                          "--store", str(target)])
        assert result.exit_code == 0, result.output
    return target


def _run(args: list[str], columns: int | None) -> str:
    env = {"COLUMNS": str(columns)} if columns else {"COLUMNS": ""}
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def _words(text: str) -> list[str]:
    return [w for w in text.split() if not re.fullmatch(r"─+|\d+|\|", w)]


COMMANDS = {
    "show": ["show", "Huawei", "--format", "table"],
    "show-affiliate": ["show", "huawei-rd-belgium", "--format", "table"],
    "screen": ["screen", "HUAWEI TECH. CO.", "--format", "text"],
    "query-list": ["query", "--list", "--format", "table"],
    "history": ["history"],
    "rules-affecting-firm": ["query", "rules-affecting-firm", "-p", "firm=Huawei", "--format", "table"],
}


@pytest.mark.parametrize("columns", [80, 100])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_word_is_cut_at_this_width(store: Path, command: str, columns: int) -> None:
    args = [*COMMANDS[command], *(["--store", str(store)] if command not in ("query-list",) else [])]
    wrapped = _run(args, columns)
    whole = _run([*args, "--wide"] if "--format" in args and "table" in args else args, None)
    known = set(_words(whole)) | LAYOUT_WORDS
    cut = [w for w in _words(wrapped) if w not in known]
    assert cut == [], f"{command} at {columns} columns prints words not in its unwrapped answer: {cut[:10]}"
    for line in wrapped.splitlines():
        assert len(line) <= columns or len(line.split()) == 1 or " " not in line.strip(), \
            f"{command}: a line of {len(line)} characters at {columns} columns: {line!r}"


def test_a_long_repeated_cell_is_printed_once_and_referred_to(store: Path) -> None:
    out = _run(["query", "rules-affecting-firm", "-p", "firm=Huawei", "--format", "table", "--store", str(store)],
               100)
    sources = [line for line in out.splitlines() if line.startswith("sources ")]
    assert any("same as row" in line for line in sources)
    paragraphs = [line for line in sources if "same as row" not in line]
    assert len(paragraphs) == len(set(paragraphs)), "each distinct list of sources is printed once"
