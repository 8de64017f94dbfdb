"""A small load validates only what it touches, yet ends in the same graph and verdict as a full build."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from kg.loaders import InputFile
from kg.pipeline.build import ValidationFailed, build, load, prepare
from tests.conftest import mini_files

NEW_ROWS = (
    "id,party,list,rule,start_date,end_date,license_policy,source,confidence\n"
    "d-affco,affco,list-a,r-late,2022-05-01,,case-by-case,fixture,confirmed\n"
)


def _graph(store: VersionedStore) -> Graph:
    return EmbeddedBackend(store.open_read()).all_triples()


LOADS = {
    "a designation of an existing firm": {"designations-2022.csv": NEW_ROWS},
    "a new subsidiary and a designation of its parent": {
        "companies-new.csv": "id,name,parent,source,confidence\nnewsub,New Sub Ltd,parentco,fixture,confirmed\n"
                             "newsubsub,New Sub Sub Ltd,newsub,fixture,confirmed\n",
        "designations-new.csv": NEW_ROWS.replace("d-affco,affco", "d-parent2,parentco"),
    },
    "a named authorization (scoped) and a list-wide one (everything re-derived)": {
        "authorizations-new.csv": "id,name,kind,rule,covers_list,covers_parties,includes_affiliates,start_date,"
                                  "source,confidence\n"
                                  "a-new,New licence,authorization,r-late,,subco,false,2022-01-01,fixture,confirmed\n",
    },
    "a list-wide authorization": {
        "authorizations-new.csv": "id,name,kind,rule,covers_list,start_date,source,confidence\n"
                                  "a-wide,Wide licence,authorization,r-late,list-a,2022-01-01,fixture,confirmed\n",
    },
}


@pytest.mark.parametrize("chunk", [250, 1])
@pytest.mark.parametrize("case", sorted(LOADS))
def test_incremental_load_gives_the_graph_a_full_build_gives(tmp_path: Path, case: str, chunk: int,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Also with the rules bound to one party at a time (a large import binds them PARTY_CHUNK at a time)."""
    monkeypatch.setattr("kg.pipeline.incremental.PARTY_CHUNK", chunk)
    files = []
    for name, text in LOADS[case].items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        files.append(InputFile(path, name))
    incremental = VersionedStore(tmp_path / "incremental")
    build(incremental, mini_files())
    load(incremental, files)
    full = VersionedStore(tmp_path / "full")
    build(full, [*mini_files(), *files])
    assert isomorphic(_graph(incremental), _graph(full))


def test_building_in_the_store_gives_what_prepare_derives_in_memory(tmp_path: Path) -> None:
    from kg.graph.ontology import ontology_graph

    store = VersionedStore(tmp_path / "store")
    build(store, mini_files())
    prepared = prepare(mini_files())
    assert prepared.report.conforms
    expected = Graph()
    expected += ontology_graph()
    expected += prepared.combined
    assert isomorphic(_graph(store), expected)


@pytest.mark.parametrize(("name", "text", "column"), [
    ("designations-bad.csv", NEW_ROWS.replace(",2022-05-01,,", ",2022-05-01,2021-01-01,"), "start_date"),
    ("authorizations-bad.csv",
     "id,name,kind,rule,start_date,source,confidence\na-bad,Covers nobody,authorization,r-late,2022-01-01,fixture,"
     "confirmed\n", None),
])
def test_incremental_validation_gives_the_full_verdict(tmp_path: Path, name: str, text: str,
                                                       column: str | None) -> None:
    bad = tmp_path / name
    bad.write_text(text, encoding="utf-8")
    store = VersionedStore(tmp_path / "store")
    build(store, mini_files())
    full = prepare([*mini_files(), InputFile(bad, bad.name)]).report
    with pytest.raises(ValidationFailed) as caught:
        load(store, [InputFile(bad, bad.name)])
    incremental = caught.value.report
    assert not full.conforms
    assert {(v.message, v.location()) for v in incremental.violations} == {
        (v.message, v.location()) for v in full.violations}
    assert [v.column for v in incremental.violations] == [column]
