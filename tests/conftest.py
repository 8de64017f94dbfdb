"""Shared fixtures: the mini dataset, stores built from it, a CLI runner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from kg.loaders import InputFile
from kg.pipeline.build import build, data_files

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
MINI = FIXTURES / "mini"
REPO = TESTS.parent
REALDATA = REPO.parent / "shared" / "realdata"
ARTIFACTS = TESTS / "artifacts"

# "Holds on" answers depend on today. Every test, and every process a test starts (servers,
# subprocesses, fixtures of any scope), sees this date: it is set in the environment before
# any fixture runs, so a new fixture cannot forget it. A test about "today" itself sets its own.
PINNED_TODAY = "2026-12-04"


def pytest_configure(config: pytest.Config) -> None:
    os.environ["TRADEKG_TODAY"] = PINNED_TODAY


def mini_files(directory: Path = MINI) -> list[InputFile]:
    return [InputFile(p, p.name) for p in sorted(directory.glob("*.csv"))]


@pytest.fixture
def mini_dir(tmp_path: Path) -> Path:
    """A writable copy of the mini dataset, for tests that break it."""
    target = tmp_path / "mini"
    shutil.copytree(MINI, target)
    return target


@pytest.fixture(scope="session")
def mini_store(tmp_path_factory: pytest.TempPathFactory) -> VersionedStore:
    store = VersionedStore(tmp_path_factory.mktemp("mini") / "store")
    build(store, mini_files())
    return store


@pytest.fixture(scope="session")
def mini_backend(mini_store: VersionedStore) -> EmbeddedBackend:
    return EmbeddedBackend(mini_store.open_read())


@pytest.fixture(scope="session")
def curated_store(tmp_path_factory: pytest.TempPathFactory) -> VersionedStore:
    """The real curated graph built from data/."""
    store = VersionedStore(tmp_path_factory.mktemp("curated") / "store")
    build(store, data_files())
    return store


@pytest.fixture(scope="session")
def curated_backend(curated_store: VersionedStore) -> EmbeddedBackend:
    return EmbeddedBackend(curated_store.open_read())


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"real data folder {REALDATA} is absent (it sits beside the checkout in shared/realdata)")
    return REALDATA


@pytest.fixture(autouse=True)
def _no_store_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests name their store explicitly; a developer's TRADEKG_STORE must not leak in."""
    monkeypatch.delenv("TRADEKG_STORE", raising=False)
    os.environ.pop("TRADEKG_STORE", None)
    for name in ("TRADEKG_ENDPOINT", "TRADEKG_GRAPH"):  # nor a developer's server (issue 4)
        monkeypatch.delenv(name, raising=False)
    # A test that changed or removed the pinned date hands it back unchanged to the next one.
    monkeypatch.setenv("TRADEKG_TODAY", PINNED_TODAY)


@pytest.fixture
def store_without_pages(tmp_path: Path) -> VersionedStore:
    """The curated graph, but with standards-2024 known only by its FR document number (no citation, no
    page range), as it was before it was curated: a cited page of it can be neither matched nor inferred."""
    import csv

    from kg.resources import data_dir

    data = tmp_path / "data"
    shutil.copytree(data_dir(), data)
    rules = data / "rules.csv"
    with rules.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    start, end, cited = rows[0].index("start_page"), rows[0].index("end_page"), rows[0].index("citation")
    for row in rows:
        if row[0] == "standards-2024":
            assert row[start] == "58265"
            row[start] = row[end] = row[cited] = ""
    with rules.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    store = VersionedStore(tmp_path / "store")
    build(store, data_files(data))
    return store
