"""Nothing loaded is lost (issue 11): the ledger, replay on build, history, rollback, the project's store.

Every test works in a project folder of its own (``proj/`` with a copy of the
curated ``data/`` and a ``.tradekg`` folder) and runs the real commands with
click's runner from a subfolder, as a user who has ``cd``-ed into it would.
The CSL file is a real trade.gov extract from the shared real-data folder,
read where it is and never copied into the project.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rdflib import Literal, URIRef

from kg.cli import cli
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from kg.namespaces import TKG, entity_iri
from kg.resources import data_dir
from tests.crashpoints import Fingerprint, fingerprint

BLOCK = "csl/csl_consolidated_2025_entity_list_huawei_block.csv"
NEW_COMPANY = ("id,name,aliases,country,wikidata,parent,affiliate_of,homepage,source,confidence,note\n"
               "ledgerco,Ledger Test Components GmbH,Ledger Test,DE,,huawei,,,techradar-standards-article,"
               "confirmed,\n")
NEW, LEDGERCO = URIRef(entity_iri("company", "curatedco")), URIRef(entity_iri("company", "ledgerco"))
DATA_ROW = "curatedco,Curated Later Ltd.,,GB,,,,,techradar-standards-article,confirmed,\n"


class Project:
    def __init__(self, root: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        self.data = root / "data"
        shutil.copytree(data_dir(), self.data)
        (root / ".tradekg").mkdir()
        self.sub = root / "notes" / "today"
        self.sub.mkdir(parents=True)
        self.runner = runner
        monkeypatch.chdir(self.sub)
        self.new_company = root / "inbox" / "companies-new.csv"
        self.new_company.parent.mkdir()
        self.new_company.write_text(NEW_COMPANY, encoding="utf-8")

    @property
    def store(self) -> VersionedStore:
        return VersionedStore(self.root / ".tradekg" / "store")

    def run(self, *args: str, code: int = 0) -> Result:
        result = self.runner.invoke(cli, list(args))
        assert result.exit_code == code, f"{args}: exit {result.exit_code}\n{result.output}\n{result.stderr}"
        return result

    def graph(self) -> Fingerprint:
        return fingerprint(EmbeddedBackend(self.store.open_read()).all_triples())

    def build(self, *extra: str, code: int = 0) -> Result:
        return self.run("build", "--data", str(self.data), *extra, code=code)


@pytest.fixture
def project(tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> Project:
    for name in ("TRADEKG_STORE", "TRADEKG_KEEP_VERSIONS"):
        monkeypatch.delenv(name, raising=False)
    return Project(tmp_path / "proj", runner, monkeypatch)


def _add_curated_company(project: Project, row: str = DATA_ROW) -> None:
    with open(project.data / "companies.csv", "a", encoding="utf-8") as table:
        table.write(row)


def test_load_import_edit_build_keeps_every_loaded_and_imported_fact(project: Project, realdata: Path) -> None:
    project.build()
    project.run("load", str(project.new_company))
    project.run("import", "csl", str(realdata / BLOCK), "--as-of", "2025-06-01")
    before, _ = project.graph()
    _add_curated_company(project)
    built = project.build()
    assert "replayed ledger entry 1: load inbox/companies-new.csv" in built.output
    assert "replayed ledger entry 2: import csl csl_consolidated_2025_entity_list_huawei_block.csv" in built.output
    after, _ = project.graph()
    # The edit changed data/companies.csv, so its content hash on the curated companies; nothing else may go.
    curated = {s for s, p, o in before if p == TKG.sourceFile and str(o) == "data/companies.csv"}
    rehashed = {(s, p, o) for s, p, o in before ^ after if p == TKG.sourceHash and s in curated | {NEW}}
    lost = before - after - rehashed
    assert not lost, f"{len(lost)} triples lost by the rebuild, e.g. {sorted(lost, key=str)[:3]}"
    gained = after - before - rehashed
    assert gained and all(s == NEW for s, _, _ in gained), sorted(gained, key=str)[:5]
    assert (LEDGERCO, TKG.sourceFile, Literal("inbox/companies-new.csv")) in after


def test_replay_no_longer_valid_fails_naming_the_entry_and_leaves_the_store(project: Project) -> None:
    project.build()
    project.run("load", str(project.new_company))
    state, current = project.graph(), os.readlink(project.store.pointer)
    # The loaded company's identifier now also appears in data/: the load no longer fits.
    _add_curated_company(project, "ledgerco,Ledger Curated,,DE,,,,,techradar-standards-article,confirmed,\n")
    failed = project.build(code=2)
    assert "ledger entry 1 (load inbox/companies-new.csv sha256" in failed.stderr
    assert "inbox/companies-new.csv:2: column id: duplicate identifier 'ledgerco'" in failed.stderr
    assert "tradekg build --drop 1" in failed.stderr
    assert os.readlink(project.store.pointer) == current and project.graph() == state
    # Dropping the entry, explicitly, builds; the output says what went.
    dropped = project.build("--drop", "1")
    assert "dropped ledger entry 1: load inbox/companies-new.csv" in dropped.output
    assert "ledger: empty" in project.run("history").output


def test_discard_loads_drops_exactly_the_ledger(project: Project, realdata: Path, tmp_path: Path) -> None:
    project.build()
    plain = project.graph()
    project.run("load", str(project.new_company))
    project.run("import", "csl", str(realdata / BLOCK), "--as-of", "2025-06-01")
    dropped = project.build("--discard-loads")
    assert "dropped ledger entry 1: load inbox/companies-new.csv" in dropped.output
    assert "dropped ledger entry 2: import csl" in dropped.output
    assert project.graph() == plain


def test_drop_one_entry_leaves_the_others_replayed_as_they_were(project: Project, realdata: Path,
                                                                tmp_path: Path) -> None:
    project.build()
    project.run("load", str(project.new_company))
    project.run("import", "csl", str(realdata / BLOCK), "--as-of", "2025-06-01")
    # The same import without the load, in a store of its own: what --drop 1 must give.
    other = tmp_path / "other-store"
    project.run("build", "--data", str(project.data), "--store", str(other))
    project.run("import", "csl", str(realdata / BLOCK), "--as-of", "2025-06-01", "--store", str(other))
    project.build("--drop", "1")
    assert project.graph() == fingerprint(EmbeddedBackend(VersionedStore(other).open_read()).all_triples())
    history = project.run("history").output
    assert "  2  import csl" in history and "  1  load" not in history


def test_history_and_rollback_round_trip(project: Project) -> None:
    project.build()
    built = project.graph()
    project.run("load", str(project.new_company))
    loaded = project.graph()
    history = project.run("history").output
    assert "     1  " in history and "build" in history
    assert re.search(r"\*  2  .*  load .* \+\d+ -0 facts, \d+ derived; ledger entry 1: 1 rows \(1 companies\)",
                     history), history
    assert "1  load inbox/companies-new.csv sha256" in history
    assert f"tradekg load {project.new_company}" in history

    rolled = project.run("rollback")
    assert "rolled back to version 1 (build of" in rolled.output and "now version 3" in rolled.output
    assert project.graph() == built
    history = project.run("history").output
    assert "*  3  " in history and "rollback to 1" in history and "ledger: empty" in history

    project.run("rollback", "2")
    assert project.graph() == loaded
    assert "1  load inbox/companies-new.csv" in project.run("history").output
    # A rebuild after the rollbacks replays the load that came back with version 2.
    project.build()
    assert project.graph() == loaded
    refused = project.run("rollback", "99", code=2)
    assert "no version '99'" in refused.stderr


def test_versions_kept_is_a_setting_and_current_is_never_pruned(project: Project,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEKG_KEEP_VERSIONS", "2")
    for _ in range(4):
        project.build()
    history = project.run("history").output
    assert re.findall(r"^ +\*? +(\d+)  ", history, re.MULTILINE) == ["2", "3", "4"]
    # A reader holding version 4 open keeps it through two more writes.
    reader = VersionedStore(project.store.path)
    held = reader.current_version()
    reader.open_read()
    project.build()
    project.build()
    assert held.is_dir()
    monkeypatch.setenv("TRADEKG_KEEP_VERSIONS", "0")
    assert "TRADEKG_KEEP_VERSIONS must be a whole number" in project.build(code=2).stderr


def test_the_store_is_found_from_a_subfolder(project: Project) -> None:
    built = project.build()
    where = str(project.store.path)
    assert f"creating a new store at {where}" in built.stderr  # it did not exist: say where
    assert built.output.rstrip().endswith(f"store: {where}")
    deeper = project.sub / "deeper"
    deeper.mkdir()
    os.chdir(deeper)
    shown = project.run("query", "rules-affecting-firm", "-p", "firm=Huawei", "--format", "csv")
    assert "84 FR 22961" in shown.output
    assert f"versions of {where}" in project.run("history").output
    assert not (deeper / ".tradekg").exists() and not (project.sub / ".tradekg").exists()
    again = project.build()
    assert "creating a new store" not in again.stderr


def test_no_store_anywhere_names_the_absolute_path(tmp_path: Path, runner: CliRunner,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    monkeypatch.chdir(lonely)
    result = runner.invoke(cli, ["query", "designations"])
    assert result.exit_code == 2
    assert f"no graph at {lonely / '.tradekg' / 'store'}" in result.stderr


def test_a_renamed_identical_csl_file_is_no_change(project: Project, realdata: Path, tmp_path: Path) -> None:
    project.build()
    project.run("import", "csl", str(realdata / BLOCK), "--as-of", "2025-06-01")
    state = project.graph()
    renamed = tmp_path / "consolidated-2025-06-02.csv"
    renamed.symlink_to(realdata / BLOCK)  # the same bytes under another name, not copied
    again = project.run("import", "csl", str(renamed), "--as-of", "2025-06-01")
    assert re.search(r"designations: 0 new, 0 merged into entries the store already held, 0 changed", again.output)
    assert "nothing changed: the store already holds this file's facts" in again.output
    assert project.graph() == state
    assert "ledger entry 2" not in project.run("history").output


def test_no_absolute_path_in_show_or_any_export(project: Project, tmp_path: Path) -> None:
    # Built from the packaged data/ (in a wheel: site-packages/kg/_resources/data).
    project.run("build")
    outside = tmp_path / "elsewhere" / "companies-new.csv"  # outside the project: named by its name alone
    outside.parent.mkdir()
    outside.write_text(NEW_COMPANY, encoding="utf-8")
    project.run("load", str(outside))
    local = [str(data_dir()), str(tmp_path), str(Path.home())]
    shown = project.run("show", "Huawei Technologies Co., Ltd.", "--format", "table").output
    assert "loaded from: data/companies.csv:2  (sha256:" in shown
    loaded = project.run("show", "Ledger Test Components GmbH", "--format", "table").output
    assert "loaded from: companies-new.csv:2" in loaded
    for output in (shown, loaded):
        assert not [p for p in local if p in output], output
    html = project.sub / "huawei.html"
    project.run("export", "html", "--focus", "Huawei", "--depth", "1", "-o", str(html))
    turtle = project.run("export", "ntriples").output
    for name, text in (("html", html.read_text(encoding="utf-8")), ("ntriples", turtle)):
        assert not [p for p in local if p in text], name
    assert '"data/companies.csv"' in turtle and '"sha256:' in turtle


def test_a_change_the_ledger_cannot_replay_is_never_dropped_silently(project: Project) -> None:
    """An importer not registered with the ledger: the ledger before it is kept, and build refuses to drop it."""
    import pyoxigraph as ox

    from kg.pipeline.incremental import commit_delta

    project.build()
    project.run("load", str(project.new_company))
    note = ox.Quad(ox.NamedNode(entity_iri("company", "ledgerco")),
                   ox.NamedNode("http://www.w3.org/2004/02/skos/core#note"), ox.Literal("added by an importer"),
                   ox.DefaultGraph())
    commit_delta(project.store, [], [note], {entity_iri("company", "ledgerco")}, {"command": "import elsewhere"})
    state = project.graph()
    refused = project.build(code=2)
    assert "holds changes its ledger cannot replay (import elsewhere of" in refused.stderr
    assert project.graph() == state
    history = project.run("history").output
    assert "1  load inbox/companies-new.csv" in history  # the entry before it is still in the ledger
    dropped = project.build("--discard-loads")
    assert "dropped ledger entry 1" in dropped.output
