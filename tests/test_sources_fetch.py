"""`import federal-register --fetch/--search/--fetch-missing` against a local server serving real API files.

The server (tests/fr_api.py) listens on 127.0.0.1 and answers from the real
JSON in shared/realdata/federal-register/, plus the BIS fixture written for
the tests; TRADEKG_FR_API points the client at it. Nothing reaches the internet.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.graph.store import VersionedStore
from kg.namespaces import SCHEMA, TKG, concept_iri, entity_iri
from kg.sources.fetch import FetchFailed, FrClient, NotInRegister
from tests.conftest import FIXTURES
from tests.fr_api import documents_from, fake_api

FIXTURE_DIR = FIXTURES / "federal-register"


@pytest.fixture
def store(curated_store: VersionedStore, tmp_path: Path) -> VersionedStore:
    target = tmp_path / "store"
    shutil.copytree(curated_store.path, target, symlinks=True)
    return VersionedStore(target)


@pytest.fixture
def documents(realdata: Path) -> dict[str, bytes]:
    return documents_from(realdata / "federal-register" / "documents", FIXTURE_DIR)


@pytest.fixture(autouse=True)
def _no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEKG_FR_DELAY", "0")


def fetch(runner: CliRunner, store: VersionedStore, base: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["import", "federal-register", *args, "--store", str(store.path)],
                           env={"TRADEKG_FR_API": base, "TRADEKG_FR_DELAY": "0"})
    return result.exit_code, result.stdout, result.stderr


def has(store: VersionedStore, subject: str, predicate: str, value: ox.NamedNode | ox.Literal) -> bool:
    return ox.Quad(ox.NamedNode(subject), ox.NamedNode(predicate), value, ox.DefaultGraph()) in store.open_read()


def test_fetch_by_number_and_by_citation(store: VersionedStore, runner: CliRunner,
                                         documents: dict[str, bytes]) -> None:
    with fake_api(documents) as api:
        code, _, err = fetch(runner, store, api.base, "--fetch", "2024-29463", "--fetch", "89 FR 58270")
    assert code == 0, err
    assert "/api/v1/documents/2024-29463.json" in api.requests
    assert any(r.startswith("/api/v1/documents.json?") and "58270" in r for r in api.requests)
    rule = entity_iri("rule", "frapi-2024-29463")
    assert has(store, rule, str(SCHEMA.pageStart), ox.Literal("105692", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer")))
    # 89 FR 58270 is a page inside 2024-15810 (the BIS fixture), which is the curated standards-2024.
    assert has(store, entity_iri("rule", "standards-2024"), str(SCHEMA.pageEnd), ox.Literal(
        "58274", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))


def test_search_follows_next_page_url_back_to_the_configured_host(store: VersionedStore, runner: CliRunner,
                                                                  realdata: Path) -> None:
    search = realdata / "federal-register" / "search"
    pages = [(search / "search-commerce-department-rule-notice-newest-page1.json").read_bytes(),
             (search / "search-week-2026-08-17-multiagency.reindented.json").read_bytes()]
    with fake_api({}, pages) as api:
        code, out, err = fetch(runner, store, api.base, "--search",
                               "conditions[agencies][]=commerce-department&conditions[type][]=RULE")
    assert code == 0, err
    assert len(api.requests) == 2
    assert "conditions%5Bagencies%5D%5B%5D=commerce-department" in api.requests[0]
    assert "page=2" in api.requests[1] and "search_after_cursor=" in api.requests[1]
    assert "read 8 document(s)" in out
    nist = entity_iri("rule", "frapi-2026-17082")
    assert has(store, nist, str(TKG.ruleType), ox.NamedNode(concept_iri("rule-type", "final-rule")))


def test_a_5xx_is_retried_then_succeeds(store: VersionedStore, runner: CliRunner,
                                        documents: dict[str, bytes]) -> None:
    with fake_api(documents, fail_first=1) as api:
        code, out, err = fetch(runner, store, api.base, "--fetch", "95-3162")
    assert code == 0, err
    assert api.requests == ["/api/v1/documents/95-3162.json"] * 2
    assert "2 request(s)" in out


def test_an_unknown_document_is_a_404_and_nothing_is_written(store: VersionedStore, runner: CliRunner,
                                                             documents: dict[str, bytes]) -> None:
    before = (store.path / "current").resolve()
    with fake_api(documents) as api:
        code, _, err = fetch(runner, store, api.base, "--fetch", "95-3162", "--fetch", "2099-99999")
    assert code == 2
    assert "the Federal Register has no document 2099-99999" in err and "404" in err
    assert (store.path / "current").resolve() == before


def test_retries_end_in_a_plain_error(documents: dict[str, bytes]) -> None:
    waits: list[float] = []
    with fake_api(documents, fail_first=10) as api:
        client = FrClient(api.base, delay=0, sleep=waits.append)
        with pytest.raises(FetchFailed) as caught:
            client.fetch("95-3162")
    assert "after 4 tries (HTTP 503" in str(caught.value) and not isinstance(caught.value, NotInRegister)
    assert waits == [0.5, 1.0, 2.0]


def test_requests_are_spaced(documents: dict[str, bytes]) -> None:
    waits: list[float] = []
    with fake_api(documents) as api:
        client = FrClient(api.base, delay=5.0, sleep=waits.append)
        client.fetch("95-3162")
        client.fetch("93-32104")
    assert len(waits) == 1 and 4.0 < waits[0] <= 5.0


def test_fetch_missing_completes_the_placeholders_the_api_knows(
        store_without_pages: VersionedStore, runner: CliRunner, realdata: Path, tmp_path: Path,
        documents: dict[str, bytes]) -> None:
    from tests.test_sources_fr import _csl_citing

    store = store_without_pages  # standards-2024's pages unknown, so 89 FR 58270 starts as a placeholder

    csl_file, _ = _csl_citing(realdata, tmp_path / "csl.csv", "89 FR 58270")
    result = runner.invoke(cli, ["import", "csl", str(csl_file), "--store", str(store.path)])
    assert result.exit_code == 0, result.stderr
    placeholder = entity_iri("rule", "csl-fr-89-58270")
    assert has(store, placeholder, str(TKG.ruleType), ox.NamedNode(concept_iri("rule-type", "fr-document")))
    with fake_api(documents) as api:
        code, out, err = fetch(runner, store, api.base, "--fetch-missing")
    assert code == 0, err
    assert "known only by a citation" in out
    assert "not found: 85 FR 83769" in err  # placeholders the server does not hold are reported and skipped
    assert not has(store, placeholder, str(TKG.ruleType), ox.NamedNode(concept_iri("rule-type", "fr-document")))
