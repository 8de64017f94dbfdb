"""The timeline picture and the neighbourhood graph of one entity, for its page.

Both are the export's own code (``kg.export.timeline``, ``kg.export.html``) so
the page shows exactly what ``tradekg export timeline`` and ``export html
--focus`` draw. The neighbourhood is not cut from a view of the whole graph
(that takes seconds and hundreds of megabytes at a million triples): the
triples around the entity are copied into a small store first, a few steps
further than the picture reaches, and the export's ``neighbourhood`` cuts the
view from that. Both are kept in a bounded cache of the snapshot.
"""

from __future__ import annotations

import re
import threading

import pyoxigraph as ox
from rdflib import RDF

from kg.export import PICTURE_NODE_LIMIT
from kg.export.html import to_html
from kg.export.network import network_view
from kg.export.render import layout_positions
from kg.export.timeline import draw_timeline, firm_timeline
from kg.graph.backend import EmbeddedBackend
from kg.namespaces import DATA
from kg.serve.snapshot import Snapshot

_ENTITIES = str(DATA)
_RDF_TYPE = ox.NamedNode(str(RDF.type))
# Limits that keep one page's picture small whatever the entity.
INCOMING_PER_NODE = 150
MAX_NODES = 3000


# matplotlib's rc_context changes global settings: one drawing at a time.
_DRAWING = threading.Lock()
PICTURE_CACHE_BYTES = 64 * 1024 * 1024


def timeline_svg(snapshot: Snapshot, iri: str) -> bytes:
    cache = snapshot.lru("timelines", PICTURE_CACHE_BYTES)
    svg = cache.get(iri)
    if svg is None:
        timeline = firm_timeline(snapshot.backend, iri)
        with _DRAWING:
            svg = draw_timeline(timeline, "svg")
        cache.put(iri, svg, len(svg))
    return svg  # type: ignore[no-any-return]


def around(store: ox.Store, focus: str, hops: int) -> ox.Store:
    """A small store with every statement of the nodes within ``hops`` triples of ``focus``.

    Incoming statements are followed only into our entities (not into classes
    or concepts, which everything points at), at most ``INCOMING_PER_NODE``
    per node; labels of the classes and properties met come along.
    """
    graph = ox.DefaultGraph()
    seen: set[ox.NamedNode | ox.BlankNode] = {ox.NamedNode(focus)}
    frontier = list(seen)
    extra: set[ox.NamedNode] = set()
    for _ in range(hops):
        following = []
        for node in frontier:
            for quad in store.quads_for_pattern(node, None, None, graph):
                extra.add(quad.predicate)
                target = quad.object
                if quad.predicate == _RDF_TYPE:
                    extra.add(target)  # type: ignore[arg-type]
                elif isinstance(target, ox.NamedNode | ox.BlankNode) and target not in seen:
                    seen.add(target)
                    following.append(target)
            if isinstance(node, ox.NamedNode) and not node.value.startswith(_ENTITIES):
                continue
            for count, quad in enumerate(store.quads_for_pattern(None, None, node, graph)):
                if count >= INCOMING_PER_NODE:
                    break
                if quad.subject not in seen:
                    seen.add(quad.subject)  # type: ignore[arg-type]
                    following.append(quad.subject)
        frontier = following
        if len(seen) > MAX_NODES or not frontier:
            break
    small = ox.Store()
    small.bulk_extend(quad for node in seen | extra for quad in store.quads_for_pattern(node, None, None, graph))
    return small


def graph_page(snapshot: Snapshot, iri: str, depth: int) -> tuple[str, str]:
    """The export's HTML page around ``iri`` and the Content-Security-Policy it declares."""

    cache = snapshot.lru("graphs", PICTURE_CACHE_BYTES)
    page = cache.get((iri, depth))
    if page is None:
        small = EmbeddedBackend(around(snapshot.store, iri, 2 * depth + 2))
        view = network_view(small, focus=iri, depth=depth, merge=True)
        positions = layout_positions(view) if view.graph.number_of_nodes() <= PICTURE_NODE_LIMIT else {}
        html = to_html(view, positions)
        match = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
        page = (html, match.group(1) if match else "default-src 'none'")
        cache.put((iri, depth), page, len(html))
    return page  # type: ignore[no-any-return]
