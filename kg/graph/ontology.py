"""The ontology and shapes as graphs, read once per process."""

from __future__ import annotations

from functools import cache

from rdflib import Graph
from rdflib.namespace import SKOS

from kg.namespaces import CONCEPT, bind_prefixes
from kg.resources import ontology_files, shapes_file


@cache
def ontology_graph() -> Graph:
    """Classes, properties and SKOS concept schemes (without the shapes)."""
    graph = bind_prefixes(Graph())
    for path in ontology_files():
        graph.parse(path, format="turtle")
    return graph


@cache
def shapes_graph() -> Graph:
    graph = bind_prefixes(Graph())
    graph.parse(shapes_file(), format="turtle")
    return graph


@cache
def concept_notations() -> dict[str, frozenset[str]]:
    """Scheme name (``license-policy``) to the notations a CSV cell may use."""
    by_scheme: dict[str, set[str]] = {}
    graph = ontology_graph()
    for concept, scheme in graph.subject_objects(SKOS.inScheme):
        name = str(scheme).removeprefix(str(CONCEPT))
        for notation in graph.objects(concept, SKOS.notation):
            by_scheme.setdefault(name, set()).add(str(notation))
    return {k: frozenset(v) for k, v in by_scheme.items()}
