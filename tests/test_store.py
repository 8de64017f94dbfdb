"""The store is all or nothing: a failed build or load leaves it exactly as it was."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from kg.errors import LoadFailed
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import StoreBusy, StoreMissing, VersionedStore
from kg.loaders import InputFile
from kg.pipeline.build import ValidationFailed, build, load
from tests.conftest import mini_files


def _snapshot(store: VersionedStore) -> Graph:
    return EmbeddedBackend(store.open_read()).all_triples()


@pytest.fixture
def built(tmp_path: Path) -> VersionedStore:
    store = VersionedStore(tmp_path / "store")
    build(store, mini_files())
    return store


def test_reading_before_any_build_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(StoreMissing, match="run `tradekg build` first"):
        VersionedStore(tmp_path / "nothing").open_read()


def test_build_writes_facts_derived_and_ontology(built: VersionedStore) -> None:
    backend = EmbeddedBackend(built.open_read())
    assert backend.ask("ASK { ?e a <https://w3id.org/tradekg/ontology#RuleEffect> }")
    assert backend.ask("ASK { <https://w3id.org/tradekg/ontology#Company> a <http://www.w3.org/2002/07/owl#Class> }")
    assert built.manifest()["command"] == "build"


def test_failed_load_leaves_store_unchanged(built: VersionedStore, tmp_path: Path) -> None:
    before = _snapshot(built)
    version = built.current_version()
    bad = tmp_path / "companies-new.csv"
    bad.write_text(
        "id,name,country,source,confidence\n"
        "newco,New Co,CN,fixture,confirmed\n"
        "badco,Bad Co,XX,fixture,confirmed\n"
    )
    with pytest.raises(LoadFailed):
        load(built, [InputFile(bad, bad.name)])
    assert built.current_version() == version
    assert isomorphic(_snapshot(built), before)


def test_load_failing_validation_leaves_store_unchanged(built: VersionedStore, tmp_path: Path) -> None:
    before = _snapshot(built)
    bad = tmp_path / "designations-new.csv"
    bad.write_text(
        "id,party,list,start_date,end_date,source,confidence\n"
        "d-new,subco,list-a,2022-01-01,2021-01-01,fixture,confirmed\n"
    )
    with pytest.raises(ValidationFailed) as caught:
        load(built, [InputFile(bad, bad.name)])
    assert [v.location() for v in caught.value.report.violations] == ["designations-new.csv:2: column start_date"]
    assert isomorphic(_snapshot(built), before)


def test_good_load_adds_facts_and_rederives(built: VersionedStore, tmp_path: Path) -> None:
    new = tmp_path / "designations-2022.csv"
    new.write_text(
        "id,party,list,rule,start_date,license_policy,source,confidence\n"
        "d-affco,affco,list-a,r-late,2022-05-01,case-by-case,fixture,confirmed\n"
    )
    outcome = load(built, [InputFile(new, new.name)])
    assert outcome.rows_per_table == {"designations": 1}
    backend = EmbeddedBackend(built.open_read())
    rows = backend.select(
        "PREFIX tkg: <https://w3id.org/tradekg/ontology#> SELECT ?rule WHERE { "
        "?e tkg:effectParty <https://w3id.org/tradekg/id/company/affco> ; tkg:effectRule ?rule ; "
        "tkg:reach <https://w3id.org/tradekg/concept/reach/named> }"
    ).rows
    assert {str(r["rule"]) for r in rows} == {"https://w3id.org/tradekg/id/rule/r-late"}


def test_loading_an_existing_identifier_is_refused(built: VersionedStore, tmp_path: Path) -> None:
    dup = tmp_path / "companies-again.csv"
    dup.write_text("id,name,source,confidence\nsubco,Sub Again,fixture,confirmed\n")
    with pytest.raises(LoadFailed) as caught:
        load(built, [InputFile(dup, dup.name)])
    assert "companies-again.csv:2: column id: duplicate identifier 'subco': the store already has" in str(
        caught.value.problems[0]
    )


def test_exception_inside_write_discards_the_new_version(built: VersionedStore) -> None:
    before = _snapshot(built)
    with pytest.raises(RuntimeError), built.write(from_current=True) as target:
        target.update("CLEAR DEFAULT")
        raise RuntimeError("killed halfway")
    assert isomorphic(_snapshot(built), before)
    assert len(list(built.versions.iterdir())) == 1


def test_a_version_is_closed_by_its_writer_before_it_is_published(built: VersionedStore) -> None:
    """RocksDB still open in the writer could compact a published version under a reader's feet.

    The caller's ``target`` outlives the ``with`` block; the database must not.
    A read-write open takes RocksDB's lock, so it fails while the writer holds it.
    """
    quad = ox.Quad(ox.NamedNode("https://example.org/a"), ox.NamedNode("https://example.org/p"),
                   ox.Literal("written in bulk"))
    with built.write(from_current=True) as target:
        target.bulk_extend([quad])
    reopened = ox.Store(str(built.current_version()))
    assert quad in reopened
    del reopened
    with pytest.raises(RuntimeError, match="written and closed"):
        target.query("ASK {}")


def test_a_write_that_keeps_the_database_referenced_is_not_published(built: VersionedStore) -> None:
    before = built.current_version()
    with pytest.raises(RuntimeError, match="still referenced"), built.write(from_current=True) as target:
        kept = target.query  # a bound method holds the database past the block
    assert built.current_version() == before
    del kept


def test_reader_keeps_its_version_while_a_writer_replaces_it(built: VersionedStore) -> None:
    reader = EmbeddedBackend(built.open_read())
    count_before = len(reader.all_triples())
    build(built, mini_files())  # a new version is published
    with built.write(from_current=True) as target:
        target.update("CLEAR DEFAULT")
    assert len(reader.all_triples()) == count_before
    assert len(EmbeddedBackend(built.open_read()).all_triples()) == 0


def test_second_writer_waits_then_refuses_with_a_clear_message(built: VersionedStore) -> None:
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with built.write(from_current=True):
            entered.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    entered.wait(5)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusy, match="is being written by tradekg pid"), \
                VersionedStore(built.path).write(from_current=True, wait_seconds=0.3):
            pass
        assert time.monotonic() - started >= 0.3
    finally:
        release.set()
        holder.join()
