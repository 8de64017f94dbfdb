"""`import federal-register` and `import ofac` in the ledger: `build` replays them from the bytes they read.

Real files come from shared/realdata/ (never copied into the project; a
"renamed" file is a symlink to it). The BIS document
tests/fixtures/federal-register/2024-15810.json is written for the tests in
the API's shape from the curated rule standards-2024's sourced values.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import XSD, Literal, URIRef

from kg.namespaces import SCHEMA, TKG, entity_iri
from kg.resources import data_dir
from tests.conftest import FIXTURES
from tests.fr_api import documents_from, fake_api
from tests.test_ledger import Project

FR_FIXTURE = FIXTURES / "federal-register" / "2024-15810.json"
NON_SDN = "ofac/non-sdn-2025"
HUAWEI_BLOCK = "csl/csl_consolidated_2025_entity_list_huawei_block.csv"


@pytest.fixture
def project(tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> Project:
    for name in ("TRADEKG_STORE", "TRADEKG_KEEP_VERSIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRADEKG_FR_DELAY", "0")
    return Project(tmp_path / "proj", runner, monkeypatch)


def fr_files(realdata: Path) -> list[str]:
    folder = realdata / "federal-register"
    return [str(FR_FIXTURE), *map(str, sorted([*folder.glob("documents/*.json"), *folder.glob("search/*.json")]))]


def local_paths(project: Project, realdata: Path) -> list[str]:
    return [str(project.root), str(realdata), str(data_dir()), str(FIXTURES), str(Path.home())]


def assert_no_local_path(project: Project, realdata: Path) -> None:
    paths = local_paths(project, realdata)
    found = {str(o) for _, _, o in project.graph()[0] if any(p in str(o) for p in paths)}
    assert not found, sorted(found)[:3]
    turtle = project.run("export", "ntriples").output
    assert not [p for p in paths if p in turtle]


def test_federal_register_import_is_replayed_by_build(project: Project, realdata: Path) -> None:
    project.build()
    plain = project.graph()
    project.run("import", "csl", str(realdata / HUAWEI_BLOCK), "--as-of", "2025-06-01")
    imported = project.run("import", "federal-register", *fr_files(realdata))
    assert "rules added" in imported.output and "curated rules enriched" in imported.output
    state = project.graph()
    assert_no_local_path(project, realdata)
    history = project.run("history").output
    assert "2  import federal-register 2024-15810.json" in history
    built = project.build()
    assert "replayed ledger entry 2: import federal-register 2024-15810.json sha256" in built.output
    assert project.graph() == state, "a rebuild changed what the Federal Register import had added"
    assert "2  import federal-register" in project.run("history").output
    dropped = project.build("--discard-loads")
    assert "dropped ledger entry 2: import federal-register" in dropped.output
    assert project.graph() == plain


def test_fetched_documents_are_replayed_without_the_network(project: Project, realdata: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    project.build()
    documents = documents_from(realdata / "federal-register" / "documents", FR_FIXTURE.parent)
    with fake_api(documents) as api:
        monkeypatch.setenv("TRADEKG_FR_API", api.base)
        project.run("import", "federal-register", "--fetch", "2024-29463", "--fetch", "89 FR 58270")
    state = project.graph()
    assert_no_local_path(project, realdata)
    # The server is gone: a replay that reached for the API would fail.
    built = project.build()
    assert "replayed ledger entry 1: import federal-register http://127.0.0.1:" in built.output
    assert project.graph() == state


def test_ofac_import_is_replayed_by_build(project: Project, realdata: Path) -> None:
    project.build()
    plain = project.graph()
    imported = project.run("import", "ofac", str(realdata / NON_SDN), "--as-of", "2025-12-19")
    assert "entries on NS-CMIC" in imported.output
    state = project.graph()
    assert_no_local_path(project, realdata)
    assert "1  import ofac cons_add.csv" in project.run("history").output
    built = project.build()
    assert "replayed ledger entry 1: import ofac cons_add.csv sha256" in built.output
    after = project.graph()
    assert after == state, "a rebuild changed what the OFAC import had added"
    assert (URIRef(entity_iri("designation", "ofac-ns-cmic-30947")), TKG.designatedParty,
            URIRef(entity_iri("company", "huawei"))) in after[0], "Huawei's NS-CMIC entry did not survive the rebuild"
    assert (URIRef(entity_iri("designation", "ofac-ns-cmic-30947")), TKG.listingDate,
            Literal("2021-06-03", datatype=XSD.date)) in after[0]
    dropped = project.build("--discard-loads")
    assert "dropped ledger entry 1: import ofac" in dropped.output
    assert project.graph() == plain


def test_renamed_identical_files_are_no_change(project: Project, realdata: Path) -> None:
    project.build()
    project.run("import", "federal-register", str(FR_FIXTURE))
    project.run("import", "ofac", str(realdata / NON_SDN), "--as-of", "2025-12-19")
    state = project.graph()
    inbox = project.root / "inbox" / "2025-12-20"  # inside the project: it would be named inbox/2025-12-20/...
    inbox.mkdir(parents=True)
    (inbox / "bis-entity-list-rule.json").symlink_to(FR_FIXTURE)
    for path in (realdata / NON_SDN).iterdir():
        (inbox / path.name.upper()).symlink_to(path)  # OFAC's names, case ignored
    again = project.run("import", "federal-register", str(inbox / "bis-entity-list-rule.json"))
    assert "nothing changed" in again.output
    again = project.run("import", "ofac", *(str(p) for p in sorted(inbox.glob("CONS_*"))), "--as-of", "2025-12-19")
    assert "nothing changed" in again.output
    assert project.graph() == state
    history = project.run("history").output
    assert "2  import ofac" in history and "3  import" not in history
    assert not [o for _, _, o in state[0] if "2025-12-20/" in str(o)]


def test_replay_keeps_the_recorded_options(project: Project, realdata: Path, tmp_path: Path) -> None:
    """A --partial import of a subset, replayed, ends nothing; a full newer file then ends what it lacks."""
    project.build()
    project.run("import", "ofac", str(realdata / NON_SDN), "--as-of", "2025-12-19")
    subset = tmp_path / "subset"
    subset.mkdir()
    prim = (realdata / NON_SDN / "cons_prim.csv").read_bytes().split(b"\r\n")
    (subset / "cons_prim.csv").write_bytes(b"\r\n".join(prim[:3]) + b"\r\n")
    project.run("import", "ofac", str(subset / "cons_prim.csv"), "--as-of", "2025-12-20", "--partial")
    state = project.graph()
    built = project.build()
    assert "replayed ledger entry 2: import ofac cons_prim.csv" in built.output
    assert project.graph() == state
    ended = [s for s, p, _ in state[0] if p == SCHEMA.endDate and "/designation/ofac-" in str(s)]
    assert not ended, ended[:3]
