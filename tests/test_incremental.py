"""A small load validates only what it touches, yet ends in the same graph and verdict as a full build."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
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
    monkeypatch.setattr("kg.pipeline.derive.PARTY_CHUNK", chunk)
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


# Changes an import makes to nodes the graph holds (an entry that ends, one that goes, a moved parent),
# or to triples no rule reads (a source record's line): re-derived for the parties they touch only.
_D = "https://w3id.org/tradekg/id/designation/"
_C = "https://w3id.org/tradekg/id/company/"
_SCHEMA, _TKG = "https://schema.org/", "https://w3id.org/tradekg/ontology#"
_XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")


def _quad(s: str, p: str, o: ox.NamedNode | ox.Literal) -> ox.Quad:
    return ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, ox.DefaultGraph())


def _changes(store: ox.Store) -> dict[str, tuple[list[ox.Quad], list[ox.Quad], bool]]:
    """case -> (removals, additions, whether the change is local); read from the mini graph."""
    entry = list(store.quads_for_pattern(ox.NamedNode(_D + "d-parentco"), None, None, ox.DefaultGraph()))
    parent = _quad(_C + "subco", _SCHEMA + "parentOrganization", ox.NamedNode(_C + "parentco"))
    rule_date = next(q for q in store.quads_for_pattern(
        None, ox.NamedNode("http://data.europa.eu/eli/ontology#date_publication"), None, ox.DefaultGraph()))
    later = ox.Literal("2024-01-02", datatype=_XSD_DATE)
    return {
        "an entry ends": ([], [_quad(_D + "d-parentco", _SCHEMA + "endDate", later)], True),
        "an entry goes": (entry, [], True),
        "an entry loses the rule that made it": (
            [q for q in entry if q.predicate.value == _TKG + "designatedBy"], [], True),
        "a firm's parent goes": ([parent], [], True),
        "only a note changes": ([], [_quad(_D + "d-parentco", "http://www.w3.org/2004/02/skos/core#note",
                                           ox.Literal("re-quoted from another file"))], True),
        "a rule's date changes (not local)": ([rule_date], [ox.Quad(rule_date.subject, rule_date.predicate, later,
                                                                    ox.DefaultGraph())], False),
    }


@pytest.mark.parametrize("case", ["an entry ends", "an entry goes", "an entry loses the rule that made it",
                                  "a firm's parent goes", "only a note changes", "a rule's date changes (not local)"])
def test_a_change_to_what_the_graph_holds_is_rederived_where_it_reaches(tmp_path: Path, case: str) -> None:
    from kg.pipeline.derive import rederive_in_store
    from kg.pipeline.incremental import affected_parties, commit_delta

    store = VersionedStore(tmp_path / "store")
    build(store, mini_files())
    removals, additions, local = _changes(store.open_read())[case]
    parties = affected_parties(store.open_read(), removals, additions)
    assert (parties is not None) == local, parties
    if case == "only a note changes":
        assert parties == set()
    focus = {q.subject.value for q in (*removals, *additions)}
    commit_delta(store, removals, additions, focus, {"command": "test"})
    # What a full derivation makes of the same facts.
    whole = ox.Store()
    whole.extend(store.open_read().quads_for_pattern(None, None, None, ox.DefaultGraph()))
    rederive_in_store(whole)
    assert isomorphic(_graph(store), EmbeddedBackend(whole).all_triples())


def _pattern_predicates(text: str) -> set[str]:
    """The predicates a query's triple patterns read, from rdflib's algebra (paths taken apart)."""
    from rdflib import URIRef, Variable
    from rdflib.paths import Path as PropertyPath
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    found: set[str] = set()

    def predicate(term: object) -> None:
        assert not isinstance(term, Variable), "a variable predicate reads every predicate"
        if isinstance(term, URIRef):
            found.add(str(term))
        elif isinstance(term, PropertyPath):
            for part in vars(term).values():
                for item in part if isinstance(part, (list, tuple)) else [part]:
                    predicate(item)

    def walk(node: object) -> None:
        if isinstance(node, CompValue):
            if node.name == "BGP":
                for _, p, _ in node.get("triples", []):
                    predicate(p)
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(prepareQuery(text).algebra)
    return found


def test_the_predicates_the_rules_read_are_all_counted() -> None:
    from kg.answers.queries import derivation_rules
    from kg.pipeline.derive import predicates_read_by_rules

    counted = predicates_read_by_rules()
    for rule in derivation_rules():
        read = _pattern_predicates(rule.text)
        assert read and read <= counted, (rule.name, sorted(read - counted))
    assert "https://w3id.org/tradekg/ontology#designatedParty" in counted
    assert "https://w3id.org/tradekg/ontology#sourceLine" not in counted  # a source record's line changes nothing


def test_a_derived_effect_that_does_not_conform_stops_the_load(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The effects a load re-derives are validated (from what the rules produced, not read back):
    a rule that writes an effect without its kind fails the load, and the store keeps its graph."""
    import dataclasses

    from kg.answers.queries import derivation_rules

    broken = [dataclasses.replace(rule, text=rule.text.replace("    tkg:effectKind ?kind ;\n", ""))
              if rule.name == "10-designating-rules" else rule for rule in derivation_rules()]
    assert broken != derivation_rules()
    store = VersionedStore(tmp_path / "store")
    build(store, mini_files())
    version = store.current_version()
    monkeypatch.setattr("kg.pipeline.incremental.derivation_rules", lambda: broken)
    rows = tmp_path / "designations-2022.csv"
    rows.write_text(NEW_ROWS, encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        load(store, [InputFile(rows, rows.name)])
    assert any("effectKind" in v.location() or "effectKind" in v.message for v in caught.value.report.violations), \
        caught.value.report.text()
    assert store.current_version() == version
