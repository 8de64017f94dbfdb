"""The README and --help do not drift from the code."""

from __future__ import annotations

import re

from click.testing import CliRunner

from kg.answers.queries import saved_queries
from kg.cli import cli
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_saved_query_is_in_the_readme() -> None:
    for name in saved_queries():
        assert f"`{name}`" in README, name


def test_every_command_has_help_and_is_in_the_readme() -> None:
    runner = CliRunner()
    for name, command in cli.commands.items():
        assert command.help and len(command.help) > 30, name
        assert f"tradekg {name}" in README, name
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0


def test_readme_quickstart_is_the_two_scripts_ci_runs() -> None:
    assert "bash scripts/quickstart.sh" in README and "bash scripts/test.sh" in README
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert "bash scripts/test.sh" in ci_lines


def test_quickstart_installs_every_extra_the_readme_examples_use() -> None:
    quickstart = (REPO / "scripts" / "quickstart.sh").read_text(encoding="utf-8")
    installed = re.search(r"pip install --quiet -e '\.\[([\w,]+)\]'", quickstart)
    assert installed, "quickstart installs tradekg without extras"
    named = set(re.findall(r"tradekg\[(\w+)\]", README))
    assert named and named <= set(installed.group(1).split(","))


def test_the_readme_points_at_nothing_outside_the_project() -> None:
    for path in (REPO / "README.md", REPO / "pyproject.toml", *sorted((REPO / "kg").rglob("*.py")),
                 REPO / "benchmarks" / "README.md", REPO / "benchmarks" / "screening.py"):
        text = path.read_text(encoding="utf-8")
        assert "../shared/" not in text and "shared/MEASUREMENTS" not in text, path
