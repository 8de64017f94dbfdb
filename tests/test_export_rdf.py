"""RDF exports: every format reads back with rdflib into an isomorphic graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic, to_isomorphic
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from kg.cli import cli
from kg.export.network import network_view
from kg.export.rdf import FORMATS, export_rdf, subset
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from kg.graph.terms import quads_to_graph
from kg.namespaces import DATA
from tests.test_export_network import HOSTILE, hostile_store  # noqa: F401 (a fixture)

# rdflib's own parsers warn about their deprecated internals; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")

RDFLIB_NAMES = {"turtle": "turtle", "ntriples": "nt", "nquads": "nquads", "jsonld": "json-ld"}


def read_back(payload: bytes, fmt: str) -> Dataset:
    dataset = Dataset()
    if fmt in ("nquads", "jsonld"):
        dataset.parse(data=payload.decode("utf-8"), format=RDFLIB_NAMES[fmt])
    else:
        dataset.graph(DATASET_DEFAULT_GRAPH_ID).parse(data=payload.decode("utf-8"), format=RDFLIB_NAMES[fmt])
    return dataset


def default_graph(dataset: Dataset) -> Graph:
    graph = Graph()
    graph += dataset.graph(DATASET_DEFAULT_GRAPH_ID)
    return graph


def assert_isomorphic(got: Graph, expected: Graph) -> None:
    if isomorphic(got, expected):
        return
    left, right = to_isomorphic(got), to_isomorphic(expected)
    only_got = sorted(str(t) for t in left - right)[:5]
    only_expected = sorted(str(t) for t in right - left)[:5]
    pytest.fail(f"graphs differ ({len(got)} vs {len(expected)} triples); only in the export: {only_got}; "
                f"only in the store: {only_expected}")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_whole_store_round_trips(fmt: str, mini_backend: EmbeddedBackend) -> None:
    payload, count = export_rdf(mini_backend, fmt)
    expected = mini_backend.all_triples()
    assert count == len(expected)
    assert_isomorphic(default_graph(read_back(payload, fmt)), expected)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_focus_subgraph_round_trips(fmt: str, mini_backend: EmbeddedBackend) -> None:
    nodes = list(network_view(mini_backend, focus="ParentCo", depth=1).graph.nodes)
    payload, count = export_rdf(mini_backend, fmt, nodes)
    expected = quads_to_graph(subset(mini_backend.store, nodes).quads_for_pattern(None, None, None, None))
    assert count == len(expected) > 0
    got = default_graph(read_back(payload, fmt))
    assert_isomorphic(got, expected)
    parent = URIRef(f"{DATA}company/parentco")
    assert (parent, URIRef("https://schema.org/legalName"), Literal("Parent Telecom Co. Ltd.")) in got
    # The sources the statements cite travel with them (title and URL), and so do the
    # derived effects between selected nodes; unrelated firms do not.
    source = URIRef(f"{DATA}source/fixture")
    assert (source, URIRef("https://schema.org/url"), None) in got
    assert any("/effect/" in str(s) for s in got.subjects())
    assert not any(str(s).endswith("/company/otherco") for s in got.subjects())


def test_named_graphs_travel_in_nquads_and_jsonld_only() -> None:
    store = ox.Store()
    a, p = ox.NamedNode("https://example.org/a"), ox.NamedNode("https://example.org/p")
    provenance = ox.NamedNode("https://example.org/graph/from-file-1")
    store.add(ox.Quad(a, p, ox.Literal("in the default graph"), ox.DefaultGraph()))
    store.add(ox.Quad(a, p, ox.Literal("in a provenance graph", language="en"), provenance))
    backend = EmbeddedBackend(store)
    for fmt in ("nquads", "jsonld"):
        payload, count = export_rdf(backend, fmt)
        assert count == 2
        dataset = read_back(payload, fmt)
        named = dataset.graph(URIRef(provenance.value))
        assert list(named) == [(URIRef(a.value), URIRef(p.value), Literal("in a provenance graph", lang="en"))]
        assert len(dataset.graph(DATASET_DEFAULT_GRAPH_ID)) == 1
    for fmt in ("turtle", "ntriples"):
        payload, count = export_rdf(backend, fmt)
        assert count == 1
        assert len(default_graph(read_back(payload, fmt))) == 1


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_hostile_strings_round_trip_verbatim(fmt: str, hostile_store: VersionedStore) -> None:  # noqa: F811
    backend = EmbeddedBackend(hostile_store.open_read())
    payload, _ = export_rdf(backend, fmt)
    got = default_graph(read_back(payload, fmt))
    assert (URIRef(f"{DATA}company/hostile"), URIRef("https://schema.org/legalName"), Literal(HOSTILE)) in got
    assert_isomorphic(got, backend.all_triples())


def test_turtle_uses_our_prefixes(mini_backend: EmbeddedBackend) -> None:
    payload, _ = export_rdf(mini_backend, "turtle")
    text = payload.decode("utf-8")
    assert "@prefix tkg: <https://w3id.org/tradekg/ontology#> ." in text
    assert "@prefix company: <https://w3id.org/tradekg/id/company/> ." in text
    assert "company:parentco" in text and "\\/" not in text


def test_cli_writes_rdf_to_stdout_and_reports_size(mini_store: VersionedStore, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["export", "nt", "--store", str(mini_store.path)])
    assert result.exit_code == 0, result.output
    graph = Graph().parse(data=result.stdout, format="nt")
    assert len(graph) == len(EmbeddedBackend(mini_store.open_read()).all_triples())
    assert f"wrote standard output: {len(graph)} statements as ntriples (" in result.stderr


def test_cli_writes_a_focus_subgraph_file(mini_store: VersionedStore, runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "parentco.jsonld"
    result = runner.invoke(cli, ["export", "jsonld", "--focus", "ParentCo", "--depth", "1", "-o", str(out),
                                 "--store", str(mini_store.path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    dataset = Dataset().parse(out, format="json-ld")
    assert sum(len(g) for g in dataset.graphs()) > 20
    assert f"wrote {out}:" in result.stderr


class ServerLike:
    """A backend without an Oxigraph store of its own, as a SPARQL server is to us."""

    def __init__(self, inner: EmbeddedBackend):
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        if name == "store":
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_a_backend_without_a_store_exports_the_same(mini_backend: EmbeddedBackend) -> None:
    server: Any = ServerLike(mini_backend)
    assert not hasattr(server, "store")
    payload, count = export_rdf(server, "turtle")
    assert count == len(mini_backend.all_triples())
    assert_isomorphic(default_graph(read_back(payload, "turtle")), mini_backend.all_triples())
    assert set(network_view(server, focus="ParentCo").graph.nodes) == \
        set(network_view(mini_backend, focus="ParentCo").graph.nodes)
