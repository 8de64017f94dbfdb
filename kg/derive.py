"""Derived facts, produced by the saved CONSTRUCT rules in ``queries/derive/``.

Python only runs the rules in order and records which rule produced what;
the logic of "which rules affect which firms" lives in the ``.rq`` files,
where an analyst can read and change it. Each rule sees the facts plus what
the rules before it derived.
"""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import RDF, RDFS, Graph, Literal, URIRef

from kg.backend import EmbeddedBackend
from kg.namespaces import DERIVATION, TKG, bind_prefixes
from kg.queries import derivation_rules
from kg.resources import queries_dir
from kg.terms import graph_to_quads


def derive(facts: Graph) -> Graph:
    """Return the derived triples (not including ``facts``)."""
    store = ox.Store()
    store.extend(graph_to_quads(facts))
    backend = EmbeddedBackend(store)
    derived = bind_prefixes(Graph())
    root = queries_dir().parent
    for rule in derivation_rules():
        produced = backend.construct(rule.text)
        rule_iri = URIRef(f"{DERIVATION}{rule.name}")
        produced.add((rule_iri, RDF.type, TKG.Derivation))
        produced.add((rule_iri, RDFS.label, Literal(rule.title)))
        produced.add((rule_iri, RDFS.comment, Literal(rule.description)))
        produced.add((rule_iri, TKG.derivationFile, Literal(rule.path.relative_to(root).as_posix())))
        store.extend(graph_to_quads(produced))
        derived += produced
    return derived
