"""The one RDF → networkx conversion: what becomes a node, an edge, an attribute; focus, depth, type.

The shared fixtures of the export tests live here too: a store built from a
copy of the mini data with a hostile company name added.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg.errors import NotFound, TradekgError
from kg.export.network import (
    GROUP_PREFIX,
    IN_OFFICE,
    NetworkView,
    build_view,
    network_view,
    read_statements,
)
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from kg.namespaces import DATA, TKG
from kg.pipeline.build import build
from tests.conftest import MINI, mini_files

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_ROW = f'hostile,"{HOSTILE}",,CN,,parentco,,,fixture,confirmed,"</script><script>alert(2)</script>"\n'


def iri(kind: str, identifier: str) -> str:
    return f"{DATA}{kind}/{identifier}"


def build_hostile_store(root: Path) -> VersionedStore:
    """The mini data plus a subsidiary of ParentCo whose name is an HTML fragment."""
    data = root / "mini-hostile"
    shutil.copytree(MINI, data)
    companies = data / "companies.csv"
    companies.write_text(companies.read_text(encoding="utf-8") + HOSTILE_ROW, encoding="utf-8")
    store = VersionedStore(root / "hostile-store")
    build(store, mini_files(data))
    return store


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> VersionedStore:
    return build_hostile_store(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def whole(mini_backend: EmbeddedBackend) -> NetworkView:
    return network_view(mini_backend)


def kinds(view: NetworkView) -> dict[str, str]:
    return {n: d["kind"] for n, d in view.graph.nodes(data=True)}


def test_entities_and_records_are_nodes_sources_and_literals_are_not(whole: NetworkView,
                                                                      mini_backend: EmbeddedBackend) -> None:
    nodes = kinds(whole)
    assert nodes[iri("company", "parentco")] == "companies"
    assert nodes[iri("designation", "d-parentco")] == "designations"
    assert nodes[iri("authorization", "a-list")] == "authorizations"
    assert not any(k == "sources" for k in nodes.values())
    assert not any(n.startswith(str(TKG)) or "/concept/" in n for n in nodes), "no classes or concepts as nodes"
    # Every node is an IRI of our data; no literal ever became a node.
    assert all(n.startswith(str(DATA)) for n in nodes)
    # Derived rule effects are not nodes either.
    assert not any("/effect/" in n for n in nodes)


def test_literals_and_concepts_are_attributes_named_after_columns(whole: NetworkView) -> None:
    parent = whole.graph.nodes[iri("company", "parentco")]
    assert parent["label"] == "Parent Telecom Co. Ltd."
    assert parent["country"] == "CN"
    assert parent["aliases"] == "Parent Telecom; ParentCo"
    assert parent["type"] == "company" and parent["kind"] == "companies"
    assert parent["sources"] == "Test fixture source"
    assert parent["source_file"] == "companies.csv"
    designation = whole.graph.nodes[iri("designation", "d-parentco")]
    assert designation["license_policy"] == "presumption of denial"  # the concept's label, not its IRI
    assert designation["start_date"] == "2020-02-28"
    assert whole.sources[iri("company", "parentco")] == [("Test fixture source", "https://example.org/fixture")]


def test_object_properties_are_labelled_edges_and_records_link_their_parts(whole: NetworkView) -> None:
    g = whole.graph
    designation = iri("designation", "d-parentco")
    out = {(g.nodes[t]["identifier"], d["label"]) for _, t, d in g.out_edges(designation, data=True)}
    assert ("parentco", "designated party") in out
    assert ("list-a", "on list") in out
    assert ("r-list", "designated by") in out
    assert ("r-mod", "modified by") in out
    sub = iri("company", "subco")
    assert g.has_edge(sub, iri("company", "parentco"))
    assert g.get_edge_data(sub, iri("company", "parentco"))["https://schema.org/parentOrganization"]["label"] \
        == "parent organization"


def test_rule_effects_are_left_out_unless_asked_for(mini_backend: EmbeddedBackend, whole: NetworkView) -> None:
    assert not any(d.get("predicate") == str(TKG.RuleEffect) for _, _, d in whole.graph.edges(data=True))
    with_effects = network_view(mini_backend, include_effects=True)
    effects = [(u, v, d) for u, v, d in with_effects.graph.edges(data=True) if d["predicate"] == str(TKG.RuleEffect)]
    assert effects and all(d["derived"] == "true" for _, _, d in effects)
    labels = {(with_effects.graph.nodes[u]["identifier"], with_effects.graph.nodes[v]["identifier"]): d["label"]
              for u, v, d in effects}
    # A listed parent is exposure for its subsidiary, drawn as such, never as a designation of it (issue 10).
    assert labels[("r-list", "subco")] == "parent listed · exposure only (no rule extends it)"
    assert labels[("r-list", "parentco")] == "designates · named"
    assert with_effects.graph.number_of_nodes() == whole.graph.number_of_nodes()


def test_official_in_office_is_linked_to_the_rules_of_the_term(whole: NetworkView) -> None:
    g = whole.graph
    alice = iri("person", "alice")
    rules = {g.nodes[u]["identifier"] for u, _, d in g.in_edges(alice, data=True) if d["predicate"] == IN_OFFICE}
    assert "r-list" in rules and "r-late" not in rules  # r-late came after her term ended


def test_short_labels_use_citation_and_nicknames(whole: NetworkView) -> None:
    g = whole.graph
    assert g.nodes[iri("rule", "r-list")]["short_label"] == "1 FR 100\nlisting rule"
    assert g.nodes[iri("company", "parentco")]["short_label"] == "ParentCo"
    assert g.nodes[iri("designation", "d-parentco")]["short_label"] == "on List A\n2020-02-28 –"
    assert g.nodes[iri("designation", "d-parentco")]["label"] == "Parent Telecom Co. Ltd. on the List A, 2020-02-28 –"
    assert all(len(line) <= 25 for _, d in g.nodes(data=True) for line in d["short_label"].split("\n"))


@pytest.mark.parametrize("name", ["ParentCo", "parent telecom co. ltd.", "parentco", iri("company", "parentco")])
def test_focus_resolves_like_queries(mini_backend: EmbeddedBackend, name: str) -> None:
    view = network_view(mini_backend, focus=name, depth=1)
    assert view.focus == iri("company", "parentco")


def test_unknown_focus_suggests_names(mini_backend: EmbeddedBackend) -> None:
    expected = r"(?i)--focus: no entity in the graph is named 'ParentCoo'; did you mean 'parentco'"
    with pytest.raises(NotFound, match=expected):
        network_view(mini_backend, focus="ParentCoo")


def test_depth_counts_steps_between_entities(mini_backend: EmbeddedBackend) -> None:
    zero = network_view(mini_backend, focus="ParentCo", depth=0)
    assert set(zero.graph.nodes) == {iri("company", "parentco")}
    one = network_view(mini_backend, focus="ParentCo", depth=1)
    ids = {d["identifier"] for _, d in one.graph.nodes(data=True)}
    # One step, through its own designation: the list and the rules that made and changed the entry.
    assert {"d-parentco", "list-a", "r-list", "r-mod", "subco", "affco"} <= ids
    assert "bureau" not in ids and "alice" not in ids
    # Another firm's entry made by the same rule would name a firm outside the picture: left out.
    assert "d-otherco" not in ids and "otherco" not in ids
    two = network_view(mini_backend, focus="ParentCo", depth=2)
    ids2 = {d["identifier"] for _, d in two.graph.nodes(data=True)}
    assert {"bureau", "alice", "otherco", "d-otherco", "grandchild"} <= ids2
    # From the list, what changes it for everyone (not everyone on it): the list-wide authorization.
    assert {"a-list", "r-auth-list", "sdo", "r-terms"} <= ids2
    assert all(two.graph.nodes[n]["distance"] <= 2 for n in two.graph.nodes)


def test_list_focus_reaches_its_entries(mini_backend: EmbeddedBackend) -> None:
    view = network_view(mini_backend, focus="List A", depth=1)
    ids = {d["identifier"] for _, d in view.graph.nodes(data=True)}
    assert {"d-parentco", "d-otherco", "parentco", "otherco"} <= ids


def test_type_filter_keeps_named_kinds_and_the_focus(mini_backend: EmbeddedBackend) -> None:
    view = network_view(mini_backend, focus="List A", depth=2, types=("companies",))
    assert {d["kind"] for _, d in view.graph.nodes(data=True)} == {"companies", "lists"}
    assert view.focus in view.graph
    with pytest.raises(TradekgError, match="unknown table firms"):
        network_view(mini_backend, types=("firms",))
    with pytest.raises(TradekgError, match="not drawn as nodes"):
        network_view(mini_backend, types=("sources",))


def test_parallel_designations_merge_in_pictures(tmp_path: Path) -> None:
    data = tmp_path / "mini"
    shutil.copytree(MINI, data)
    # A second firm listed by the same rule on the same day as ParentCo: drawn with it as one node.
    designations = data / "designations.csv"
    row = ("d-twin,affco,list-a,r-list,r-mod,2020-03-01,2020-02-28,,For all items,presumption-of-denial,,"
           "fixture,confirmed,\n")
    designations.write_text(designations.read_text(encoding="utf-8") + row, encoding="utf-8")
    store = VersionedStore(tmp_path / "store")
    build(store, mini_files(data))
    backend = EmbeddedBackend(store.open_read())
    apart = network_view(backend)
    merged = network_view(backend, merge=True)
    assert merged.graph.number_of_nodes() == apart.graph.number_of_nodes() - 1
    groups = [n for n in merged.graph.nodes if n.startswith(GROUP_PREFIX)]
    assert len(groups) == 1
    group = merged.graph.nodes[groups[0]]
    assert group["member_count"] == "2" and group["short_label"].endswith("2 parties")
    parties = {merged.graph.nodes[t]["identifier"] for _, t, k in merged.graph.out_edges(groups[0], keys=True)
               if k == str(TKG.designatedParty)}
    assert parties == {"parentco", "affco"}
    # Different dates keep OtherCo's entry apart.
    assert iri("designation", "d-otherco") in merged.graph


def test_build_view_reads_statements_once_for_many_views(mini_backend: EmbeddedBackend,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    statements = read_statements(mini_backend)
    first = build_view(statements)

    def read_again(backend: object) -> None:
        raise AssertionError("network_view read the statements again instead of using the ones passed in")

    monkeypatch.setattr("kg.export.network.read_statements", read_again)
    second = network_view(mini_backend, statements=statements)
    assert set(first.graph.nodes) == set(second.graph.nodes)


@pytest.mark.parametrize("name", ["export-rules-in-office", "export-count-default", "entity-label"])
def test_lookup_queries_of_the_exports_have_headers(name: str) -> None:
    from kg.answers.queries import read_query
    from kg.resources import queries_dir

    query = read_query(queries_dir() / "lookup" / f"{name}.rq")
    assert query.name == name and len(query.description) > 40
