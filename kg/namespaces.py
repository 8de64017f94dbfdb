"""Every IRI the code writes is spelled here and nowhere else.

Ontology terms live in ``ontology/*.ttl``; this module only gives Python a
handle on them, so that a misspelt term is one grep away from its definition
(and ``tests/test_ontology.py`` checks that each TKG term the code or the
queries use is defined there).
"""

from __future__ import annotations

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SH, SKOS, TIME, XSD


class _Namespace(Namespace):
    """rdflib's ``Namespace``, keeping each term it makes.

    rdflib builds and checks a new URIRef on every ``TKG.sourceFile``; an
    importer spells the same few dozen terms hundreds of thousands of times
    (a 13,000-row CSL import: 525,000 times, 2 s under the profiler).
    Attribute access only: ``TKG["title"]`` (a name ``str`` already has) is
    rdflib's own item lookup.
    """

    def __getattr__(self, name: str) -> URIRef:
        term = super().__getattr__(name)
        self.__dict__[name] = term
        return term


TKG = _Namespace("https://w3id.org/tradekg/ontology#")
CONCEPT = _Namespace("https://w3id.org/tradekg/concept/")
DATA = _Namespace("https://w3id.org/tradekg/id/")
DERIVATION = _Namespace("https://w3id.org/tradekg/derivation/")
SCHEMA = _Namespace("https://schema.org/")
ELI = _Namespace("http://data.europa.eu/eli/ontology#")

PREFIXES: dict[str, Namespace] = {
    "tkg": TKG,
    "concept": CONCEPT,
    "id": DATA,
    "schema": SCHEMA,
    "eli": ELI,
    "org": ORG,
    "foaf": FOAF,
    "prov": PROV,
    "dcterms": DCTERMS,
    "skos": SKOS,
    "time": TIME,
    "owl": OWL,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "sh": SH,
}


def bind_prefixes(graph: Graph) -> Graph:
    """Bind our prefixes so Turtle output reads as the ontology does."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    return graph


def expand_curie(curie: str) -> str:
    """Turn ``schema:name`` into its full IRI; refuse unknown prefixes loudly."""
    prefix, sep, local = curie.partition(":")
    if not sep or prefix not in PREFIXES:
        raise ValueError(f"unknown prefix in {curie!r}; known: {', '.join(sorted(PREFIXES))}")
    return str(PREFIXES[prefix][local])


def concept_iri(scheme: str, notation: str) -> str:
    return f"{CONCEPT}{scheme}/{notation}"


def entity_iri(kind: str, identifier: str) -> str:
    return f"{DATA}{kind}/{identifier}"
