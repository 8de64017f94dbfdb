"""GraphML, GEXF and DOT: read back by networkx, and DOT drawn by the real Graphviz."""

from __future__ import annotations

import io
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.export import graphtools, render
from kg.export.dot import dot_string, to_dot
from kg.export.network import NetworkView, network_view
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from tests.conftest import ARTIFACTS
from tests.test_export_network import HOSTILE, hostile_store  # noqa: F401 (a fixture)

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (Debian: apt-get install graphviz)")


@pytest.fixture(scope="module")
def view(mini_backend: EmbeddedBackend) -> NetworkView:
    return network_view(mini_backend)


@pytest.fixture(scope="module")
def hostile_view(hostile_store: VersionedStore) -> NetworkView:  # noqa: F811
    return network_view(EmbeddedBackend(hostile_store.open_read()), merge=True)


def edge_labels(graph: nx.MultiDiGraph) -> Counter[tuple[str, str, str]]:
    return Counter((u, v, d.get("label", "")) for u, v, d in graph.edges(data=True))


def graphml_of(view: NetworkView) -> bytes:
    buffer = io.BytesIO()
    graphtools.write_graphml(view, buffer)
    return buffer.getvalue()


def gexf_of(view: NetworkView) -> bytes:
    buffer = io.BytesIO()
    graphtools.write_gexf(view, buffer)
    return buffer.getvalue()


def test_graphml_reads_back_with_the_same_nodes_edges_and_labels(view: NetworkView) -> None:
    back = nx.read_graphml(io.BytesIO(graphml_of(view)), force_multigraph=True)
    assert back.is_directed()
    assert set(back.nodes) == set(view.graph.nodes)
    assert back.number_of_edges() == view.graph.number_of_edges()
    for node, data in view.graph.nodes(data=True):
        assert back.nodes[node]["label"] == data["label"]
        assert back.nodes[node]["type"] == data["type"]
        assert back.nodes[node]["name"]  # Cytoscape shows "name"
    assert edge_labels(back) == edge_labels(view.graph)


def test_graphml_carries_yed_graphics(view: NetworkView) -> None:
    root = ET.fromstring(graphml_of(view))
    y = "{http://www.yworks.com/xml/graphml}"
    shapes = root.findall(f".//{y}ShapeNode")
    assert len(shapes) == view.graph.number_of_nodes()
    labels = {s.find(f"{y}NodeLabel").text for s in shapes}  # type: ignore[union-attr]
    assert "ParentCo" in labels and "1 FR 100\nlisting rule" in labels
    fills = {s.find(f"{y}Fill").get("color") for s in shapes}  # type: ignore[union-attr]
    assert len(fills) > 5  # a colour per type
    assert len(root.findall(f".//{y}EdgeLabel")) == view.graph.number_of_edges()


def test_gexf_reads_back_with_the_same_nodes_edges_and_labels(view: NetworkView) -> None:
    back = nx.read_gexf(io.BytesIO(gexf_of(view)))
    assert set(back.nodes) == set(view.graph.nodes)
    assert back.number_of_edges() == view.graph.number_of_edges()
    for node, data in view.graph.nodes(data=True):
        assert back.nodes[node]["label"] == data["label"]
        assert back.nodes[node]["type"] == data["type"]
        assert "color" in back.nodes[node]["viz"]
    assert edge_labels(back) == edge_labels(view.graph)


def test_hostile_names_survive_graphml_and_gexf(hostile_view: NetworkView) -> None:
    node = next(n for n, d in hostile_view.graph.nodes(data=True) if d["label"] == HOSTILE)
    for back in (nx.read_graphml(io.BytesIO(graphml_of(hostile_view))),
                 nx.read_gexf(io.BytesIO(gexf_of(hostile_view)))):
        assert back.nodes[node]["label"] == HOSTILE
        assert "</script>" in back.nodes[node]["note"]


def test_control_characters_xml_cannot_hold_are_dropped_from_graphml_and_gexf(mini_backend: EmbeddedBackend) -> None:
    view = network_view(mini_backend)  # a private view: this test changes a label
    node = next(iter(view.graph.nodes))
    view.graph.nodes[node]["label"] = "Bell\x01 Co\x1f."
    for back in (nx.read_graphml(io.BytesIO(graphml_of(view))), nx.read_gexf(io.BytesIO(gexf_of(view)))):
        assert back.nodes[node]["label"] == "Bell Co."


def test_dot_strings_escape_quotes_backslashes_and_newlines() -> None:
    assert dot_string('a "b"\\N\nc') == '"a \\"b\\"\\\\N\\nc"'


def test_dot_names_types_shapes_and_a_legend(view: NetworkView) -> None:
    dot = to_dot(view)
    assert dot.startswith("digraph tradekg {")
    assert '"https://w3id.org/tradekg/id/company/parentco" [label="ParentCo"' in dot
    assert 'class="kind-companies"' in dot and 'shape="note"' in dot
    assert 'label="designated party"' in dot
    assert '"legend" [shape=plaintext' in dot and ">company</TD>" in dot


@needs_dot
def test_dot_drawn_by_graphviz_shows_the_labels(view: NetworkView) -> None:
    svg = render.render(view, "svg")
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for expected in ("ParentCo", "1 FR 100", "listing rule", "Legend", "company", "designated party",
                     "on List A", "Alice Official"):
        assert expected in texts, expected
    titles = {t.text for t in root.iter(f"{SVG}title")}
    assert "https://w3id.org/tradekg/id/company/parentco" in titles  # one SVG group per node, named by IRI
    nodes = [g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("node")]
    assert len(nodes) == view.graph.number_of_nodes() + 1  # and the legend


@needs_dot
def test_hostile_label_is_text_in_the_svg(hostile_view: NetworkView) -> None:
    svg = render.render(hostile_view, "svg")
    root = ET.fromstring(svg)  # well-formed: the name did not break the markup
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<img src=x" in texts and "onerror=alert(1)>" in texts  # the name, wrapped on two lines
    assert not list(root.iter(f"{SVG}img")) and not list(root.iter("img"))
    assert b"<img" not in svg


@needs_dot
def test_png_is_a_png(view: NetworkView) -> None:
    assert render.render(view, "png").startswith(b"\x89PNG\r\n\x1a\n")


def test_missing_graphviz_names_the_debian_package(view: NetworkView, monkeypatch: pytest.MonkeyPatch,
                                                    mini_store: VersionedStore, runner: CliRunner,
                                                    tmp_path: Path) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(render.GraphvizMissing, match="apt-get install graphviz"):
        render.render(view, "svg")
    result = runner.invoke(cli, ["export", "svg", "-o", str(tmp_path / "x.svg"), "--store", str(mini_store.path)])
    assert result.exit_code == 2
    assert "apt-get install graphviz" in result.stderr


@needs_dot
def test_huawei_svg_is_legible(curated_store: VersionedStore, runner: CliRunner) -> None:
    """The done criterion's picture: Huawei's listings, rules, agencies, officials, standards bodies."""
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "huawei.svg"
    result = runner.invoke(cli, ["export", "svg", "--focus", "Huawei", "--depth", "2", "-o", str(out),
                                 "--store", str(curated_store.path)])
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()
    texts = {t.text for t in root.iter(f"{SVG}text")}
    for expected in ("Huawei", "Entity List", "84 FR 22961", "BIS", "Alan F. Estevez", "3GPP", "ETSI",
                     "Huawei Holding", "designated party", "issued in term of"):
        assert expected in texts, expected
    nodes = [g for g in root.iter(f"{SVG}g") if g.get("class", "").startswith("node")]
    assert 30 < len(nodes) < 120, "a picture of a neighbourhood, not of the whole graph"
    # Big enough to read: Graphviz keeps 11 pt labels at this size (no scaling down).
    assert float(root.get("width", "0pt").removesuffix("pt")) > 1000
    # The same picture as PNG, to look at (tests/artifacts/ is git-ignored).
    view = network_view(EmbeddedBackend(curated_store.open_read()), focus="Huawei", depth=2, merge=True)
    (ARTIFACTS / "huawei-graphviz.png").write_bytes(render.render(view, "png"))
