"""``tradekg validate --data``: any RDF graph against any shapes, with the build's engine."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg.checks.rawterms import scan_quads
from kg.checks.read import read_graph, read_quads
from kg.checks.results import Results
from kg.graph.ontology import shapes_graph


def shapes_with(extra: Iterable[Path] = (), project: bool = True) -> Graph:
    """The project's shapes (unless ``project`` is false) and the shapes in ``extra``, as one graph."""
    graph = Graph()
    if project:
        for triple in shapes_graph():
            graph.add(triple)
        for prefix, namespace in shapes_graph().namespaces():
            graph.bind(prefix, namespace, override=False)
    return read_graph(extra) + graph if extra else graph


def validate_files(data: Iterable[Path], shapes: Iterable[Path]) -> Results:
    """Validate the graph in the ``data`` files against the shapes in ``shapes`` (the project's if none).

    The data goes into an in-memory Oxigraph store, as in a build; the
    literals the store would rewrite are noted first, so every check sees the
    terms as written.
    """
    from kg.checks.sparql import check_store

    shapes = list(shapes)
    quads = read_quads(data)
    graph = shapes_with(shapes, project=False) if shapes else shapes_graph()
    store = ox.Store()
    store.extend(quads)
    return check_store(store, graph, scan_quads(quads))
