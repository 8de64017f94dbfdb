"""Files for graph tools: GraphML (Gephi, yEd, Cytoscape), GEXF (Gephi); DOT (Graphviz) is ``kg.export.dot``.

Each tool shows something different by default, so each file carries what
its tool looks for:

* GraphML: a ``label`` and a ``name`` attribute (Gephi and Cytoscape show
  those), every node attribute as a string column, and yEd's own
  ``y:ShapeNode``/``y:PolyLineEdge`` graphics (label, colour, shape), since
  yEd shows only those. networkx reads the file back, yEd data included.
* GEXF: the node label, ``viz:color``/``viz:size``/``viz:shape`` for Gephi,
  and every attribute.

Graphs up to ``PICTURE_NODE_LIMIT`` nodes get starting positions (see
``positions``: Graphviz's for small ones, else computed in pure Python, never
numpy), so Gephi and yEd open them spread out rather than as a pile in one
corner; larger ones are left to the tool's own layout.
"""

from __future__ import annotations

import re
from typing import IO
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from kg.export import PICTURE_NODE_LIMIT
from kg.export.network import NetworkView, edge_sort_key, fill_colour, kind_of

GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
YED_NS = "http://www.yworks.com/xml/graphml"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

_YED_SHAPES = {
    "round-rectangle": "roundrectangle", "rectangle": "rectangle", "ellipse": "ellipse",
    "hexagon": "hexagon", "octagon": "octagon", "diamond": "diamond", "rhomboid": "parallelogram",
    "tag": "trapezoid2", "barrel": "ellipse",
}
_GEXF_SHAPES = {"ellipse": "disc", "diamond": "diamond", "triangle": "triangle"}


def positions(view: NetworkView, scale: float = 1000.0) -> dict[str, tuple[float, float]]:
    """Starting positions: Graphviz's for small graphs when it is installed, else computed here.

    Graphviz only up to ``layout.SPRING_LIMIT`` nodes (a few hundred took it a
    minute, only for a starting point); below that limit without Graphviz a
    seeded spring layout in pure Python (networkx's needs numpy, which the
    base install lacks); above it one ring per kind of node. None for graphs
    too large to picture: the tool's own layout is what their reader wants.
    """
    from kg.export import layout
    from kg.export.render import layout_positions
    from kg.progress import stage

    g = view.graph
    count = g.number_of_nodes()
    if count == 0 or count > PICTURE_NODE_LIMIT:
        return {}
    if count <= layout.SPRING_LIMIT:
        stage(f"laying out {count} nodes (starting positions for the graph tool)")
        where = layout_positions(view)
        if len(where) == count:
            return {n: (p.x, p.y) for n, p in where.items()}
        nodes = sorted(g.nodes)
        return layout.spring(nodes, ((u, v) for u, v in g.edges()), scale=scale)  # type: ignore[return-value]
    groups: dict[str, list[str]] = {}
    for node in sorted(g.nodes):
        groups.setdefault(str(g.nodes[node].get("kind", "")), []).append(node)
    return layout.rings(groups, scale=scale)  # type: ignore[arg-type]


def _node_attributes(view: NetworkView, node: str) -> dict[str, object]:
    data = dict(view.graph.nodes[node])
    data.setdefault("name", data.get("label", node))
    if not data.get("name"):
        data["name"] = data.get("label", node)
    return data


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


# ---------------------------------------------------------------------------
# GraphML
# ---------------------------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(value: object) -> str:
    """``value`` as text minus the control characters XML 1.0 cannot hold."""
    return _XML_INVALID.sub("", str(value))


def xml_text(value: object) -> str:
    """Text escaped for XML content, minus the control characters XML 1.0 cannot hold."""
    return escape(xml_safe(value))


def xml_attr(value: object) -> str:
    """A quoted, escaped XML attribute value (newlines kept as character references)."""
    return quoteattr(xml_safe(value), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def write_graphml(view: NetworkView, out: IO[bytes]) -> None:
    """GraphML with plain attributes for Gephi/Cytoscape and yEd graphics for yEd.

    Written as text rather than through ElementTree: a 14k-node graph takes a
    third of the time and memory.
    """
    g = view.graph
    lines: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<graphml xmlns="{GRAPHML_NS}" xmlns:xsi="{XSI_NS}" xmlns:y="{YED_NS}" '
        f'xsi:schemaLocation="{GRAPHML_NS} http://www.yworks.com/xml/schema/graphml/1.1/ygraphml.xsd">',
    ]
    node_data = {n: _node_attributes(view, n) for n in g.nodes}
    node_keys = sorted({k for data in node_data.values() for k in data})
    edge_keys = sorted({k for _, _, d in g.edges(data=True) for k in d})
    node_ids = {name: f"n{i}" for i, name in enumerate(node_keys)}
    edge_ids = {name: f"e{i}" for i, name in enumerate(edge_keys)}
    for name, key in node_ids.items():
        kind = "int" if name == "distance" else "string"
        lines.append(f'  <key id="{key}" for="node" attr.name={xml_attr(name)} attr.type="{kind}"/>')
    for name, key in edge_ids.items():
        lines.append(f'  <key id="{key}" for="edge" attr.name={xml_attr(name)} attr.type="string"/>')
    lines.append('  <key id="yn" for="node" yfiles.type="nodegraphics"/>')
    lines.append('  <key id="ye" for="edge" yfiles.type="edgegraphics"/>')
    lines.append('  <graph id="tradekg" edgedefault="directed">')
    where = positions(view)
    for node in sorted(g.nodes):
        data = node_data[node]
        lines.append(f"    <node id={xml_attr(node)}>")
        # yEd graphics first: networkx's reader takes the label from them, and the
        # plain ``label`` attribute that follows wins, so both tools agree.
        lines.append(_yed_node(data, where.get(node, (0.0, 0.0))))
        lines.extend(f'      <data key="{node_ids[name]}">{xml_text(data[name])}</data>'
                     for name in node_keys if name in data)
        lines.append("    </node>")
    for number, (source, target, data) in enumerate(sorted(g.edges(data=True), key=edge_sort_key)):
        lines.append(f'    <edge id="edge{number}" source={xml_attr(source)} target={xml_attr(target)}>')
        lines.append(_yed_edge(data))
        lines.extend(f'      <data key="{edge_ids[name]}">{xml_text(data[name])}</data>'
                     for name in edge_keys if name in data)
        lines.append("    </edge>")
    lines.append("  </graph>")
    lines.append("</graphml>\n")
    out.write("\n".join(lines).encode("utf-8"))


def _yed_node(data: dict[str, object], xy: tuple[float, float]) -> str:
    kind = kind_of(str(data["kind"]))
    label = str(data.get("short_label", data.get("label", "")))
    rows = label.split("\n")
    width = max(60.0, 7.0 * max(len(row) for row in rows) + 16)
    height = 18.0 * len(rows) + 12
    shape = _YED_SHAPES.get(kind.html_shape, "rectangle")
    border = "dashed" if kind.record else "line"
    return (
        f'      <data key="yn"><y:ShapeNode>'
        f'<y:Geometry x="{xy[0]:.1f}" y="{-xy[1]:.1f}" width="{width:.1f}" height="{height:.1f}"/>'
        f'<y:Fill color="{fill_colour(str(data["kind"])).upper()}" transparent="false"/>'
        f'<y:BorderStyle color="#333333" type="{border}" width="1.0"/>'
        f'<y:NodeLabel fontSize="12" textColor="#000000">{xml_text(label)}</y:NodeLabel>'
        f'<y:Shape type="{shape}"/></y:ShapeNode></data>'
    )


def _yed_edge(data: dict[str, object]) -> str:
    style = "dashed" if data.get("derived") == "true" else "line"
    return (
        f'      <data key="ye"><y:PolyLineEdge><y:LineStyle color="#888888" type="{style}" width="1.0"/>'
        f'<y:Arrows source="none" target="standard"/>'
        f'<y:EdgeLabel fontSize="10" textColor="#555555">{xml_text(data.get("label", ""))}</y:EdgeLabel>'
        f'</y:PolyLineEdge></data>'
    )


# ---------------------------------------------------------------------------
# GEXF
# ---------------------------------------------------------------------------

def write_gexf(view: NetworkView, out: IO[bytes]) -> None:
    """GEXF 1.2 through networkx, with Gephi's colour, size and shape per type."""
    g = nx.MultiDiGraph()
    where = positions(view)
    for node in sorted(view.graph.nodes):
        data = _node_attributes(view, node)
        kind = kind_of(str(data["kind"]))
        r, gr, b = _hex_rgb(kind.colour)
        viz: dict[str, object] = {
            "color": {"r": r, "g": gr, "b": b, "a": 1.0},
            "size": 6.0 if kind.record else (16.0 if node == view.focus else 10.0),
            "shape": _GEXF_SHAPES.get(kind.html_shape, "square" if "rect" in kind.html_shape else "disc"),
        }
        if node in where:
            x, y = where[node]
            viz["position"] = {"x": x, "y": y, "z": 0.0}
        # networkx escapes markup but not the control characters XML 1.0 cannot hold.
        g.add_node(node, **{k: xml_safe(v) if isinstance(v, str) else v for k, v in data.items()
                            if k != "short_label"}, viz=viz)
    for number, (source, target, data) in enumerate(sorted(view.graph.edges(data=True), key=edge_sort_key)):
        g.add_edge(source, target, key=f"edge{number}",
                   **{k: xml_safe(v) if isinstance(v, str) else v for k, v in data.items()})
    nx.write_gexf(g, out, encoding="utf-8", prettyprint=True)
