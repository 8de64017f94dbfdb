"""DOT, Graphviz's language: the view with shapes and colours by type, edge labels and a legend.

The layout engine is chosen for the size of the graph and written inside the
DOT, so that ``dot -Tsvg`` on ``tradekg export dot`` draws what ``tradekg
export svg`` draws (``render`` runs Graphviz on this text).
"""

from __future__ import annotations

import io
from html import escape as html_escape

from kg.export import PICTURE_NODE_LIMIT
from kg.export.network import IN_OFFICE, NetworkView, edge_sort_key, fill_colour, kind_of


def dot_string(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as ``\\n``.

    Escaping the backslash first keeps Graphviz's own escapes (``\\N`` is the
    node name, ``\\G`` the graph name) from firing on text from the data.
    """
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{text}"'


LAYOUTS = ("sfdp", "neato", "fdp", "dot", "twopi", "circo")


def choose_layout(view: NetworkView) -> str:
    """``sfdp``: it spreads a neighbourhood around its focus and stays fast at thousands of nodes.

    (``dot`` ranks a Huawei picture into a strip ten times taller than wide.)
    """
    return "sfdp"


def to_dot(view: NetworkView, *, layout: str | None = None, edge_labels: bool | None = None) -> str:
    """The view as a Graphviz DOT document (with a legend node)."""
    g = view.graph
    layout = layout or choose_layout(view)
    if edge_labels is None:
        edge_labels = g.number_of_nodes() <= PICTURE_NODE_LIMIT
    out = io.StringIO()
    title = "tradekg" + (f": around {g.nodes[view.focus]['label']}" if view.focus in g else "")
    out.write("digraph tradekg {\n")
    graph_attrs = {
        "layout": layout, "charset": "UTF-8", "fontname": "DejaVu Sans", "fontsize": "18",
        "label": title, "labelloc": "t", "bgcolor": "white", "pad": "0.3",
        "outputorder": "edgesfirst",
    }
    if layout == "dot":
        graph_attrs.update(rankdir="LR", ranksep="1.1", nodesep="0.25", newrank="true")
    else:
        graph_attrs.update(overlap="prism", splines="true", sep="+14", K="1.2")
        if g.number_of_nodes() > PICTURE_NODE_LIMIT:
            graph_attrs.update(splines="false", overlap="false", sep="+4")
    for key, value in graph_attrs.items():
        out.write(f"  {key}={dot_string(value)};\n")
    out.write('  node [fontname="DejaVu Sans", fontsize="11", style="filled", color="#333333", penwidth="0.8", '
              'margin="0.08,0.04"];\n')
    out.write('  edge [fontname="DejaVu Sans", fontsize="8", color="#8a8a8a", fontcolor="#555555", '
              'arrowsize="0.6"];\n')
    for node in sorted(g.nodes):
        out.write(f"  {dot_string(node)} [{_dot_node_attrs(view, node)}];\n")
    for source, target, data in sorted(g.edges(data=True), key=edge_sort_key):
        attrs = []
        if edge_labels:
            attrs.append(f"label={dot_string(str(data.get('label', '')))}")
        attrs.append(f"tooltip={dot_string(str(data.get('label', '')))}")
        if data.get("derived") == "true":
            attrs.append('style="dashed"')
            if data.get("predicate") == IN_OFFICE:
                attrs.append('color="#b07aa1"')
        out.write(f"  {dot_string(source)} -> {dot_string(target)} [{', '.join(attrs)}];\n")
    out.write(f"  {dot_string('legend')} [shape=plaintext, style=\"\", label=<{_legend_table(view)}>];\n")
    out.write("}\n")
    return out.getvalue()


def _dot_node_attrs(view: NetworkView, node: str) -> str:
    data = view.graph.nodes[node]
    kind = kind_of(str(data["kind"]))
    style = ["filled"]
    if kind.dot_shape == "box":
        style.append("rounded")
    if kind.record:
        style.append("dashed")
    attrs = {
        "label": str(data.get("short_label", data.get("label", node))),
        "tooltip": f"{data.get('label', node)} ({data.get('type', '')})",
        "shape": kind.dot_shape,
        "fillcolor": kind.colour,
        "style": ",".join(style),
        "class": f"kind-{data['kind']}",
    }
    if kind.record:
        attrs.update(fontsize="9", fillcolor=fill_colour(str(data["kind"])))
    if node == view.focus:
        attrs.update(penwidth="3", fontsize="14", color="#000000")
    return ", ".join(f"{key}={dot_string(value)}" for key, value in attrs.items())


def _legend_table(view: NetworkView) -> str:
    rows = ['<TR><TD COLSPAN="2" ALIGN="LEFT"><B>Legend</B></TD></TR>']
    for table in view.kinds_present():
        kind = kind_of(table)
        colour = fill_colour(table)
        name = view.type_label(table) + (" (record)" if kind.record else "")
        rows.append(f'<TR><TD BGCOLOR="{colour}" WIDTH="24" HEIGHT="14"></TD>'
                    f'<TD ALIGN="LEFT">{html_escape(name)}</TD></TR>')
    if any(d.get("derived") == "true" for _, _, d in view.graph.edges(data=True)):
        rows.append('<TR><TD>- - -</TD><TD ALIGN="LEFT">derived link</TD></TR>')
    return ('<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="3" BGCOLOR="#ffffff" COLOR="#999999">'
            + "".join(rows) + "</TABLE>")
