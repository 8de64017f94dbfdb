"""RDF exports of the store or of a subgraph: Turtle, N-Triples, N-Quads, JSON-LD.

Each file reads back with rdflib into a graph isomorphic to what was
exported (the tests check it for every format). Oxigraph's own serializers
write them: 100k triples take under a second, against ten with rdflib.

* Turtle and N-Triples hold the default graph, where tradekg keeps its facts,
  the derived rule effects and the ontology. Turtle uses our prefixes.
* N-Quads and JSON-LD hold the whole dataset: the default graph and every
  named graph the store has. (A store written by another tool may keep
  provenance graphs. tradekg's own loader records provenance on each node,
  with ``tkg:sourceFile``/``tkg:sourceLine`` and ``dcterms:source``, so its
  store has none and these two files hold the default graph alone. From a
  SPARQL server, ``--endpoint``, they hold the graph read, as quads of the
  default graph.)
  JSON-LD is written expanded (full IRIs, no ``@context``), which any
  JSON-LD processor reads without fetching anything.

A subgraph (``--focus``/``--depth``/``--type``) is what a reader needs to
check the picture it matches: every statement about each selected node (as
subject, in any graph), the statements about the sources those cite (title,
URL), and the derived rule effects that link two selected nodes, with the
derivation that made them. Ontology terms and concepts are referred to by
IRI, not copied.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, PROV

from kg.export.network import source_store
from kg.graph.backend import Backend
from kg.graph.ontology import concept_notations
from kg.loaders.tables import load_catalog
from kg.namespaces import PREFIXES, TKG, concept_iri, entity_iri
from kg.resources import lookup_query

FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "jsonld": ox.RdfFormat.JSON_LD,
}
DATASET_FORMATS = frozenset({"nquads", "jsonld"})


def subset(store: ox.Store, nodes: Iterable[str]) -> ox.Store:
    """A new in-memory store with the statements that describe ``nodes`` (see the module docstring)."""
    wanted = {ox.NamedNode(n) for n in nodes if not n.startswith("urn:tradekg:picture:")}
    out = ox.Store()
    cited: set[ox.NamedNode | ox.BlankNode] = set()
    source, generated_by = ox.NamedNode(str(DCTERMS.source)), ox.NamedNode(str(PROV.wasGeneratedBy))
    effect_party, effect_rule = ox.NamedNode(str(TKG.effectParty)), ox.NamedNode(str(TKG.effectRule))
    for node in wanted:
        for quad in store.quads_for_pattern(node, None, None, None):
            out.add(quad)
            if quad.predicate == source and not isinstance(quad.object, ox.Literal):
                cited.add(quad.object)  # type: ignore[arg-type]
        for link in store.quads_for_pattern(None, effect_party, node, None):
            effect = link.subject
            rules = {q.object for q in store.quads_for_pattern(effect, effect_rule, None, None)}
            if rules & wanted:
                for quad in store.quads_for_pattern(effect, None, None, None):
                    out.add(quad)
                    if quad.predicate == generated_by and not isinstance(quad.object, ox.Literal):
                        cited.add(quad.object)  # type: ignore[arg-type]
    for extra in cited:
        for quad in store.quads_for_pattern(extra, None, None, None):
            out.add(quad)
    return out


def turtle_prefixes() -> dict[str, str]:
    """Our prefixes, with one per kind of entity instead of ``id:``.

    ``id:company/huawei`` is not a Turtle prefixed name (a ``/`` must be
    escaped there, ``id:company\\/huawei``); ``company:huawei`` is, and reads
    better. The same goes for each concept scheme (``license-policy:``).
    """
    prefixes = {prefix: str(ns) for prefix, ns in PREFIXES.items() if prefix != "id"}
    kinds = {spec.iri_kind for spec in load_catalog().tables.values()} | {"effect"}
    for kind in sorted(kinds):
        prefixes.setdefault(kind, entity_iri(kind, ""))
    for scheme in sorted(concept_notations()):  # concept:license-policy/x has the same problem
        prefixes.setdefault(scheme, concept_iri(scheme, ""))
    return prefixes


def statement_count(store: ox.Store, fmt: str) -> int:
    """How many statements the file of ``fmt`` holds: the dataset's, or the default graph's."""
    if fmt in DATASET_FORMATS:
        return len(store)
    result = store.query(lookup_query("export-count-default"))
    return int(next(iter(result))["n"].value)  # type: ignore[call-overload, index]


def serialize(store: ox.Store, fmt: str) -> bytes:
    """``store`` as ``fmt``: the default graph for Turtle/N-Triples, the dataset otherwise."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown RDF format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "turtle":
        return store.dump(format=FORMATS[fmt], from_graph=ox.DefaultGraph(),  # type: ignore[no-any-return]
                          prefixes=turtle_prefixes())
    if fmt == "ntriples":
        return store.dump(format=FORMATS[fmt], from_graph=ox.DefaultGraph())  # type: ignore[no-any-return]
    payload = store.dump(format=FORMATS[fmt])
    if fmt == "jsonld":
        # One node object per line would still be one 10 MB line; indent it so people can read it.
        payload = json.dumps(json.loads(payload), indent=1, ensure_ascii=False).encode("utf-8") + b"\n"
    return payload  # type: ignore[no-any-return]


def export_rdf(backend: Backend, fmt: str, nodes: Iterable[str] | None = None) -> tuple[bytes, int]:
    """The store, or the subgraph of ``nodes``, as ``fmt``; with its statement count."""
    store = source_store(backend)
    if nodes is not None:
        store = subset(store, nodes)
    return serialize(store, fmt), statement_count(store, fmt)
