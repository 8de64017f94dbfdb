"""Loads that touch ownership reach (the Affiliates rule, rule 70) end in the graph a full build gives.

A designation of a firm that owns others, or a new ownership record, goes
down the local path: only the firms it touches and those below them are
re-derived, with rule 70 bound to them inside its sub-selects
(kg.pipeline.incremental). Suspensions go down the slow path (everything re-derived).
Either way the triples must be the ones a full build of the same files derives.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from kg.loaders import InputFile
from kg.namespaces import entity_iri
from kg.pipeline.build import build, load
from kg.pipeline.incremental import affected_parties
from tests.conftest import MINI
from tests.test_reach import EXTRA, NEW

LOADS = {
    "a designation of a firm that owns others (local path)": {
        "designations-half.csv": "id,party,list,rule,start_date,end_date,license_policy,source,confidence\n"
                                 "d-half,half,list-a,r-late,2025-10-20,,case-by-case,fixture,confirmed\n",
    },
    "a new ownership record from a listed owner (local path)": {
        "ownership-new.csv": "id,owner,owned,share_percent,start_date,end_date,source,confidence,note\n"
                             "o9,owner2,minority,10,,,fixture,confirmed,\n",
    },
    "a new ownership record from a firm the rule itself reaches (local path, indirect)": {
        "ownership-new.csv": "id,owner,owned,share_percent,start_date,end_date,source,confidence,note\n"
                             "o10,half,minority,1,2025-10-01,,fixture,confirmed,\n",
    },
    "a new suspension (everything re-derived)": {
        "suspensions-new.csv": "id,rule,suspends,start_date,end_date,description,source,confidence,note\n"
                               "susp2,r-suspend,r-affiliates,2025-10-10,2025-10-20,,fixture,confirmed,\n",
    },
}


def _reach_files(directory: Path) -> list[InputFile]:
    """The mini dataset with test_reach's ownership records, Affiliates rule and suspension."""
    directory.mkdir()
    for source in MINI.glob("*.csv"):
        text = source.read_text(encoding="utf-8").rstrip("\n") + "\n"
        if source.name in EXTRA:
            text += "\n".join(EXTRA[source.name]) + "\n"
        (directory / source.name).write_text(text, encoding="utf-8")
    for name, lines in NEW.items():
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [InputFile(p, p.name) for p in sorted(directory.glob("*.csv"))]


def _graph(store: VersionedStore) -> Graph:
    return EmbeddedBackend(store.open_read()).all_triples()


def _ownership_effects(graph: Graph) -> set[tuple[str, str]]:
    query = """PREFIX tkg: <https://w3id.org/tradekg/ontology#>
    SELECT ?firm ?start WHERE {
      ?e tkg:reach <https://w3id.org/tradekg/concept/reach/owned-by-listed> ; tkg:effectParty ?firm ;
         <https://schema.org/startDate> ?start }"""
    return {(str(r[0]).rsplit("/", 1)[-1], str(r[1])) for r in graph.query(query)}  # type: ignore[union-attr]


@pytest.mark.parametrize("case", sorted(LOADS))
def test_ownership_load_gives_the_graph_a_full_build_gives(tmp_path: Path, case: str) -> None:
    base = _reach_files(tmp_path / "data")
    files = []
    for name, text in LOADS[case].items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        files.append(InputFile(path, name))
    incremental = VersionedStore(tmp_path / "incremental")
    build(incremental, base)
    before = _ownership_effects(_graph(incremental))
    load(incremental, files)
    full = VersionedStore(tmp_path / "full")
    build(full, [*base, *files])
    after = _graph(incremental)
    assert _ownership_effects(after) == _ownership_effects(_graph(full))
    assert isomorphic(after, _graph(full))
    if case.startswith("a designation"):
        # Re-derived, not lost: half and grandhalf keep what the Affiliates rule reached before.
        assert before <= _ownership_effects(after)
        assert {firm for firm, _ in before} >= {"half", "grandhalf"}
    else:
        # The change alters what the rule reaches, so two unchanged graphs are not what is compared.
        assert _ownership_effects(after) != before


def test_the_local_path_covers_the_firms_below_an_owner(tmp_path: Path) -> None:
    from kg.graph.terms import graph_to_quads

    store = VersionedStore(tmp_path / "store")
    build(store, _reach_files(tmp_path / "data"))
    half = entity_iri("company", "half")
    designation = Graph()
    designation.parse(data=f"""
        @prefix tkg: <https://w3id.org/tradekg/ontology#> .
        <https://w3id.org/tradekg/id/designation/d-new> a tkg:Designation ; tkg:designatedParty <{half}> .
    """, format="turtle")
    parties = affected_parties(store.open_read(), [], list(graph_to_quads(designation)))
    assert parties is not None  # the local path, not a re-derivation of everything
    assert {half, entity_iri("company", "grandhalf")} <= parties  # grandhalf: 60 percent owned by half
    assert entity_iri("company", "jv") not in parties


def test_a_new_ownership_record_re_derives_the_owned_firm_not_everything(tmp_path: Path) -> None:
    from kg.graph.terms import graph_to_quads

    store = VersionedStore(tmp_path / "store")
    build(store, _reach_files(tmp_path / "data"))
    record = Graph()
    record.parse(data=f"""
        @prefix tkg: <https://w3id.org/tradekg/ontology#> .
        <https://w3id.org/tradekg/id/ownership/o-new> a tkg:Ownership ; tkg:sharePercent 10 ;
            tkg:owner <{entity_iri("company", "owner2")}> ; tkg:ownedEntity <{entity_iri("company", "half")}> .
    """, format="turtle")
    parties = affected_parties(store.open_read(), [], list(graph_to_quads(record)))
    assert parties is not None
    assert {entity_iri("company", "half"), entity_iri("company", "grandhalf")} <= parties
    assert entity_iri("company", "owner2") not in parties  # the owner's own effects do not change


def test_fixpoint_rounds_for_the_firms_below_give_what_whole_graph_rounds_give(tmp_path: Path) -> None:
    """Rule 70's later rounds run only below the firms the last round changed (kg.pipeline.derive.run_rule);
    with its '# parties:' marks removed every round runs on the whole graph. Same triples either way."""
    import re

    import pyoxigraph as ox

    from kg.answers.queries import derivation_rules
    from kg.pipeline.derive import derived_subjects, rederive_in_store, run_rule

    store = VersionedStore(tmp_path / "store")
    build(store, _reach_files(tmp_path / "data"))
    quads = list(store.open_read().quads_for_pattern(None, None, None, ox.DefaultGraph()))
    rounds_below, whole_graph = ox.Store(), ox.Store()
    for target in (rounds_below, whole_graph):
        target.extend(quads)
        for subject in derived_subjects(target):
            for quad in list(target.quads_for_pattern(subject, None, None, ox.DefaultGraph())):
                target.remove(quad)
    rederive_in_store(rounds_below)
    for rule in derivation_rules():
        assert rule.name < "70" or "# parties: ?firm" in rule.text
        run_rule(whole_graph, re.sub(r"(?m)^\s*# parties: .*$", "", rule.text))
    ownership = ox.NamedNode("https://w3id.org/tradekg/derivation/70-ownership-extension")

    def effects(target: ox.Store) -> set[ox.Quad]:
        made = {q.subject for q in target.quads_for_pattern(None, None, ownership, ox.DefaultGraph())}
        return {q for s in made for q in target.quads_for_pattern(s, None, None, ox.DefaultGraph())}

    assert effects(rounds_below) == effects(whole_graph)
    assert {q.object.value.rsplit("/", 1)[-1] for q in effects(whole_graph)
            if q.predicate.value.endswith("#effectParty")} >= {"half", "grandhalf", "jv"}
