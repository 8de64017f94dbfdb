"""A store that never forgets (issue 26, finding 3, and store corruption from finding 8).

A manifest holds the ledger of loads and imports that ``build`` replays. One
cut in half used to read as "no manifest": ``history`` died with a traceback,
the next ``load`` started an empty ledger and the following ``build`` dropped
every load and import. Now every writer stops with a plain error naming the
file and the way back, ``tradekg check`` says which kept versions are sound,
and ``rollback`` brings one back with its ledger. A damaged database (a cut
SST file, an emptied ``CURRENT``) is one line with the same way out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kg.cli import cli
from kg.graph.store import MANIFEST, VersionedStore, write_atomic
from tests.conftest import MINI

HEADER = "id,name,aliases,country,wikidata,parent,affiliate_of,homepage,source,confidence,note\n"


def _company(folder: Path, ident: str) -> Path:
    path = folder / ident / "companies.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{ident},{ident.title()} Components GmbH,,DE,,,,,fixture,confirmed,\n",
                    encoding="utf-8")
    return path


class Project:
    def __init__(self, root: Path, runner: CliRunner):
        self.root = root
        self.runner = runner
        self.store = VersionedStore(root / "store")

    def run(self, *args: str) -> Result:
        return self.runner.invoke(cli, [*args, "--store", str(self.store.path)], catch_exceptions=False)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.exit_code == 0, result.output
        return result


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("TRADEKG_LOCK_WAIT", "0")
    runner = CliRunner()
    built = Project(tmp_path, runner)
    built.ok("build", "--data", str(MINI))
    built.ok("load", str(_company(tmp_path, "firstco")))
    built.ok("load", str(_company(tmp_path, "secondco")))
    return built


def _ledger(store: VersionedStore) -> list[str]:
    return [e["inputs"][0]["name"] for e in store.manifest().get("ledger", [])]


def test_a_cut_manifest_stops_every_writer_and_the_ledger_is_kept(project: Project) -> None:
    store = project.store
    assert _ledger(store) == ["companies.csv", "companies.csv"]
    current = store.current_version()
    manifest = current / MANIFEST
    text = manifest.read_bytes()
    manifest.write_bytes(text[: len(text) // 2])

    for args in (("history",), ("load", str(_company(project.root, "thirdco"))), ("build", "--data", str(MINI)),
                 ("rollback", "99")):
        result = project.run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        if args[0] != "rollback":
            assert str(manifest) in result.output, result.output
            assert "tradekg check" in result.output and "tradekg rollback" in result.output
    assert store.current_version() == current  # nothing was published
    assert manifest.read_bytes() == text[: len(text) // 2]  # and the damaged file is left for recovery

    checked = project.run("check")
    assert checked.exit_code == 1
    assert "DAMAGED" in checked.output and "manifest damaged" in checked.output
    assert "the current version is damaged: `tradekg rollback 2`" in checked.output, checked.output

    project.ok("rollback")  # to the newest sound version, with its ledger
    assert _ledger(store) == ["companies.csv"]
    # ...and a build replays it: the first load is in the graph, nothing started from an empty ledger.
    project.ok("build", "--data", str(MINI))
    assert _ledger(store) == ["companies.csv"]
    assert "Firstco Components GmbH" in project.ok("sparql", "SELECT ?n WHERE { ?c rdfs:label ?n }").output


@pytest.mark.parametrize("damage", ["empty manifest", "not an object", "not utf-8"])
def test_any_unreadable_manifest_is_refused_not_taken_for_none(project: Project, damage: str) -> None:
    manifest = project.store.current_version() / MANIFEST
    manifest.write_bytes({"empty manifest": b"", "not an object": b"[1, 2]", "not utf-8": b"\xff\xfe{"}[damage])
    result = project.run("load", str(_company(project.root, "thirdco")))
    assert result.exit_code == 2 and str(manifest) in result.output, result.output


def test_manifests_are_written_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / MANIFEST
    target.write_text('{"version": 1}', encoding="utf-8")

    def crash(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("kg.graph.store.os.replace", crash)
    with pytest.raises(OSError):
        write_atomic(target, json.dumps({"version": 2, "ledger": ["x" * 10_000]}).encode())
    assert json.loads(target.read_text(encoding="utf-8")) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == [MANIFEST]  # no temporary file left behind


@pytest.mark.parametrize("damage", ["cut sst", "empty CURRENT"])
def test_a_damaged_database_is_one_line_with_the_way_out(project: Project, damage: str) -> None:
    store = project.store
    # A version of its own, not sharing hard-linked files with the older ones (a build writes a new store).
    project.ok("build", "--data", str(MINI))
    current = store.current_version()
    if damage == "cut sst":
        biggest = max(current.glob("*.sst"), key=lambda p: p.stat().st_size)
        biggest.write_bytes(biggest.read_bytes()[: biggest.stat().st_size // 2])
    else:
        (current / "CURRENT").write_bytes(b"")
    for args in (("sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"), ("show", "ParentCo"),
                 ("load", str(_company(project.root, "thirdco"))), ("query", "designations")):
        result = project.run(*args)
        assert result.exit_code == 2, (args, result.output)
        errors = [line for line in result.output.splitlines() if line.startswith("Error")]
        assert len(errors) == 1 and "Traceback" not in result.output, result.output
        assert "cannot be read (Corruption" in errors[0] and "tradekg check" in errors[0], errors[0]
    checked = project.run("check")
    assert checked.exit_code == 1 and "database damaged: Corruption" in checked.output, checked.output
    project.ok("rollback")
    checked = project.run("check")
    assert checked.exit_code == 1  # the damaged version is still kept, and named
    assert checked.output.rstrip().endswith("the current version is sound; the damaged ones above "
                                            "cannot be rolled back to"), checked.output


def test_check_on_a_sound_store(project: Project) -> None:
    result = project.ok("check")
    assert result.output.rstrip().endswith("every kept version is sound"), result.output
    assert "ledger of 2 entries with its inputs" in result.output
