"""Interactive HTML: one self-contained page that works offline from disk.

The page inlines Cytoscape.js (``assets/cytoscape.min.js``, MIT, see
``assets/README.md``), our own script (``assets/graph.js``) and the graph as a
JSON block. Three rules keep text from the data from ever running:

* the JSON sits in ``<script type="application/json">`` with ``<``, ``>``
  and ``&`` written as ``\\u003c``, ``\\u003e`` and ``\\u0026``, so no
  value can close the block or open a comment;
* the page puts text on screen only through ``textContent`` and Cytoscape's
  canvas labels, never ``innerHTML``;
* a Content-Security-Policy allows only the page's two scripts (by SHA-256
  hash), no inline event handler, and no connection, image or frame from
  any address, so even a mistake in the first two rules could neither run an
  injected handler nor make a request.

Node positions come from Graphviz when it is installed (the page then shows
the same picture as ``tradekg export svg``); otherwise the browser runs a
force-directed layout. The reader can switch layouts on the page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from functools import cache
from html import escape as html_escape
from pathlib import Path

from kg.export import PICTURE_NODE_LIMIT
from kg.export.network import NetworkView, edge_sort_key, fill_colour, kind_of
from kg.export.render import Placement

ASSETS = Path(__file__).resolve().parent / "assets"
LIBRARY = "cytoscape.min.js"

# Attributes the panel shows elsewhere or that only matter to the writers.
_PANEL_SKIP = frozenset({"label", "short_label", "kind", "record", "iri", "type", "sources", "curie"})
_PANEL_LAST = ("note", "confidence", "source_file", "source_line")
_PANEL_NAMES = {"distance": "steps from focus", "member_count": "records drawn here", "members": "record IRIs",
                "member_labels": "parties"}
# Attributes that search also looks in, besides the label.
_SEARCHED = ("name", "aliases", "short_name", "short_title", "citation", "document_number", "identifier",
             "wikidata", "member_labels", "title")
_PLACEHOLDER = re.compile(r"__TRADEKG_(CSP|TITLE|DATA|LIBRARY|APP)__")


@cache
def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def json_for_script(value: object) -> str:
    """JSON that is safe inside a ``<script>`` block: no ``<``, ``>`` or ``&`` left as is."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _size(label: str, shape: str, record: bool, focus: bool) -> tuple[float, float]:
    lines = label.split("\n") or [""]
    scale = 0.8 if record else (1.3 if focus else 1.0)
    width = (max(len(line) for line in lines) * 6.2 + 18) * scale
    height = (len(lines) * 12.5 + 12) * scale
    if shape in ("diamond", "rhomboid"):
        width, height = width * 1.5, height * 1.5
    elif shape in ("hexagon", "octagon", "ellipse", "barrel"):
        width, height = width * 1.25, height * 1.2
    return round(max(width, 30.0), 1), round(max(height, 22.0), 1)


def page_data(view: NetworkView, positions: Mapping[str, Placement] | None = None) -> dict[str, object]:
    """Everything the page shows, as plain JSON-able values."""
    g = view.graph
    positions = positions or {}
    nodes = []
    for node in sorted(g.nodes):
        data = g.nodes[node]
        kind = kind_of(str(data["kind"]))
        record = kind.record
        colour = fill_colour(str(data["kind"]))
        short = str(data.get("short_label", data.get("label", node)))
        place = positions.get(node)
        width, height = (round(place.width, 1), round(place.height, 1)) if place else _size(
            short, kind.html_shape, record, node == view.focus)
        attributes = [(_PANEL_NAMES.get(key, key.replace("_", " ")), str(value)) for key, value in sorted(data.items())
                      if key not in _PANEL_SKIP and key not in _PANEL_LAST and value != ""]
        attributes += [(key.replace("_", " "), str(data[key])) for key in _PANEL_LAST if data.get(key)]
        item: dict[str, object] = {
            "id": node, "label": str(data.get("label", node)), "short": short, "kind": data["kind"],
            "type": str(data.get("type", data["kind"])), "iri": str(data.get("iri", node)),
            "colour": colour, "shape": kind.html_shape, "record": record, "focus": node == view.focus,
            "width": width, "height": height, "distance": int(data.get("distance", 0)),
            "attributes": attributes,
            "sources": [{"title": t, "url": u} for t, u in view.sources.get(node, [])],
            "names": sorted({name for a in _SEARCHED if a in data for name in str(data[a]).split("; ") if name}),
        }
        if place:
            item["position"] = [round(place.x, 1), round(-place.y, 1)]  # Graphviz's y axis points up
        nodes.append(item)
    edges = []
    for number, (source, target, data) in enumerate(sorted(g.edges(data=True), key=edge_sort_key)):
        edges.append({"id": f"e{number}", "source": source, "target": target, "label": str(data.get("label", "")),
                      "derived": data.get("derived") == "true"})
    counts: dict[str, int] = {}
    for _, data in g.nodes(data=True):
        counts[str(data["kind"])] = counts.get(str(data["kind"]), 0) + 1
    kinds = [{"kind": t, "label": view.type_label(t), "colour": fill_colour(t), "record": kind_of(t).record,
              "count": counts.get(t, 0)}
             for t in view.kinds_present()]
    note = ""
    if g.number_of_nodes() > PICTURE_NODE_LIMIT:
        note = "too many nodes to read at once: export with --focus ENTITY --depth 2"
    return {"title": page_title(view), "focus": view.focus, "nodes": nodes, "edges": edges, "kinds": kinds,
            "note": note}


def page_title(view: NetworkView) -> str:
    g = view.graph
    if view.focus and view.focus in g:
        return f"tradekg: around {g.nodes[view.focus]['label']} (depth {view.depth})"
    return "tradekg: the graph"


def to_html(view: NetworkView, positions: Mapping[str, Placement] | None = None) -> str:
    """The page as one string: template, library, our script and the data."""
    library = _asset(LIBRARY)
    app = _asset("graph.js")
    if "</script" in library.lower() or "</script" in app.lower():  # would end the inline block early
        raise RuntimeError("a bundled script contains '</script'; it cannot be inlined")
    data = page_data(view, positions)
    csp = (f"default-src 'none'; script-src '{_sha256(library)}' '{_sha256(app)}'; "
           "style-src 'unsafe-inline'; img-src data: blob:; connect-src 'none'; font-src 'none'; "
           "frame-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'")
    values = {
        "CSP": csp,
        "TITLE": html_escape(str(data["title"])),
        "DATA": json_for_script(data),
        "LIBRARY": library,
        "APP": app,
    }
    # One pass, so nothing inserted is scanned for placeholders again.
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], _asset("graph.html"))
