"""The README, the docs and --help do not drift from the code.

The README is the front door; ``docs/`` holds the reference (an MkDocs site,
``mkdocs.yml``). Three things keep them true:

- examples marked ``<!-- tested -->`` run here against the curated build: a
  ``console`` block's ``$ tradekg ...`` command runs through click's runner and
  every line the block shows must appear in its output, in order (whitespace
  collapsed; ``...`` on a line of its own skips lines, inside a line it stands
  for any text); ``<!-- tested: exit 2 -->`` expects that exit code. The
  examples show what a terminal shows, so a ``query``, ``show`` or ``sparql``
  without ``--format`` runs with ``--format table`` (``screen``: ``text``):
  the runner's output is not a terminal. A ``pycon`` block runs as a doctest
  with ``TRADEKG_STORE`` naming the curated build;
- ``docs/cli.md`` is generated from ``--help`` by cog, and ``cog --check``
  fails when it is stale (``cog -r docs/cli.md`` regenerates it);
- every ``tradekg ...`` line of an ``sh`` block names a real command and its real options;
- ``mkdocs build --strict`` builds the site without a warning (a broken link
  between pages is one).
"""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.answers.queries import saved_queries
from kg.cli import cli
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]
TEXTS = {path: path.read_text(encoding="utf-8") for path in PAGES}
EVERYTHING = "\n".join(TEXTS.values())

EXAMPLE = re.compile(r"<!-- tested(?::\s*exit (?P<exit>\d+))?\s*-->\s*\n```(?P<kind>console|pycon)\n(?P<body>.*?)\n```",
                     re.S)
TERMINAL_FORMAT = {"query": "table", "show": "table", "sparql": "table", "screen": "text"}


def _examples(kind: str) -> list[tuple[str, int, int, str]]:
    found = []
    for path, text in TEXTS.items():
        for match in EXAMPLE.finditer(text):
            if match.group("kind") == kind:
                line = text.count("\n", 0, match.start("body")) + 1
                found.append((path.relative_to(REPO).as_posix(), line, int(match.group("exit") or 0),
                              match.group("body")))
    return found


CONSOLE = _examples("console")
PYCON = _examples("pycon")


def _squash(line: str) -> str:
    return " ".join(line.split())


def _line_pattern(line: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in _squash(line).split("...")) + r"\Z")


def _missing_lines(shown: list[str], output: str) -> list[str]:
    """The shown lines not found in the output, in order (``...`` alone skips any lines)."""
    actual = [_squash(line) for line in output.splitlines()]
    position, missing = 0, []
    for line in shown:
        if not line.strip() or line.strip() == "...":
            continue
        pattern = _line_pattern(line)
        for index in range(position, len(actual)):
            if pattern.match(actual[index]):
                position = index + 1
                break
        else:
            missing.append(line)
    return missing


def test_the_docs_have_tested_examples() -> None:
    assert len(CONSOLE) >= 8 and PYCON
    assert any(where == "README.md" for where, *_ in CONSOLE)


@pytest.fixture(scope="module")
def docs_store(curated_store, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    """A copy of the curated build the examples read (they never write)."""
    import shutil

    target = tmp_path_factory.mktemp("docs") / "store"
    shutil.copytree(curated_store.path, target, symlinks=True)
    return target


@pytest.mark.parametrize(("where", "line", "exit_code", "body"), CONSOLE,
                         ids=[f"{where}:{line}" for where, line, *_ in CONSOLE])
def test_console_example(where: str, line: int, exit_code: int, body: str, docs_store: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    command, *shown = body.splitlines()
    assert command.startswith("$ tradekg "), f"{where}:{line}: a tested example starts with '$ tradekg '"
    args = shlex.split(command[len("$ tradekg "):])
    if args[0] in TERMINAL_FORMAT and "--format" not in args and "--list" not in args:
        args += ["--format", TERMINAL_FORMAT[args[0]]]
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TRADEKG_STORE", str(docs_store))
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, args, prog_name="tradekg", terminal_width=100)
    # What a terminal shows: stderr is unbuffered, so its notes come before the answer.
    output = result.stderr + result.stdout
    detail = f"{where}:{line}: `{command}`\n--- output (stderr, then stdout) ---\n{output}"
    assert result.exit_code == exit_code, detail
    missing = _missing_lines(shown, output)
    assert not missing, f"{detail}--- lines not found, in order ---\n" + "\n".join(missing)


@pytest.mark.parametrize(("where", "line", "exit_code", "body"), PYCON,
                         ids=[f"{where}:{line}" for where, line, *_ in PYCON])
def test_python_example(where: str, line: int, exit_code: int, body: str, docs_store: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEKG_STORE", str(docs_store))
    monkeypatch.chdir(REPO)
    test = doctest.DocTestParser().get_doctest(body, {}, where, where, line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out: list[str] = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)


SH_BLOCK = re.compile(r"```sh\n(.*?)\n```", re.S)


def _command_lines() -> list[tuple[str, str]]:
    """Every ``tradekg ...`` line of the ``sh`` blocks, without its comment, redirection or env prefix."""
    found = []
    for path, text in TEXTS.items():
        for block in SH_BLOCK.finditer(text):
            for line in block.group(1).splitlines():
                words = shlex.split(line.split("  #")[0], comments=False)
                while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                    words.pop(0)
                if words[:1] == ["tradekg"]:
                    found.append((path.relative_to(REPO).as_posix(), " ".join(words[1:]).split(" > ")[0]))
    return found


def test_every_command_line_in_the_docs_names_real_commands_and_options() -> None:
    import click

    lines = _command_lines()
    assert len(lines) > 40
    for where, line in lines:
        words = [w for w in shlex.split(line) if w != ">"]
        command: click.Command = cli
        while isinstance(command, click.Group) and words and words[0] in command.commands:
            command = command.commands[words.pop(0)]
        assert not isinstance(command, click.Group), f"{where}: `tradekg {line}`: no such command"
        options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        options |= {"--help", "-h"}
        for word in words:
            if word.startswith("-") and not re.fullmatch(r"-\d.*", word):
                assert word.split("=")[0] in options, f"{where}: `tradekg {line}`: {command.name} has no {word}"


def test_the_command_reference_is_generated_from_the_cli() -> None:
    if importlib.util.find_spec("cogapp") is None:
        pytest.skip("cogapp is not installed (pip install -e '.[docs]'); docs/cli.md cannot be checked")
    from cogapp import Cog

    status = Cog().main(["cog", "--check", str(DOCS / "cli.md")])
    assert status == 0, "docs/cli.md is stale: regenerate it with `cog -r docs/cli.md`"


def test_the_site_builds_without_warnings(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]'); the site cannot be built")
    site = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                             str(REPO / "mkdocs.yml"), "--site-dir", str(site)],
                            capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, check=False)
    assert result.returncode == 0, result.stderr
    assert (site / "index.html").is_file() and (site / "cli" / "index.html").is_file()
    for page in sorted(DOCS.glob("*.md")):
        built = site / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert built.is_file(), f"{page.name} is not in the site (add it to nav in mkdocs.yml)"


def test_every_docs_page_is_in_the_nav_and_linked_from_the_readme() -> None:
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for page in sorted(DOCS.glob("*.md")):
        assert page.name in nav, f"{page.name} is not in mkdocs.yml's nav"
        if page.name != "index.md":
            assert f"](docs/{page.name})" in README, f"the README does not link to docs/{page.name}"


def test_the_readme_is_a_front_door() -> None:
    assert len(README.splitlines()) <= 260


def test_every_saved_query_is_documented() -> None:
    for name in saved_queries():
        assert f"`{name}`" in EVERYTHING, name


def test_every_command_has_help_and_is_documented() -> None:
    runner = CliRunner()
    for name, command in cli.commands.items():
        assert command.help and len(command.help) > 30, name
        assert f"tradekg {name}" in EVERYTHING, name
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
    named = set(re.findall(r"tradekg\[(\w+)\]", EVERYTHING))
    assert named and named <= set(installed.group(1).split(","))


def test_the_readme_points_at_nothing_outside_the_project() -> None:
    for path in (*PAGES, REPO / "mkdocs.yml", REPO / "pyproject.toml", *sorted((REPO / "kg").rglob("*.py")),
                 REPO / "benchmarks" / "README.md", REPO / "benchmarks" / "screening.py"):
        text = path.read_text(encoding="utf-8")
        assert "../shared/" not in text and "shared/MEASUREMENTS" not in text, path
