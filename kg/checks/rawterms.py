"""The data's literals as written, where Oxigraph would store them otherwise.

Oxigraph keeps numbers, booleans and dates in a canonical binary form:
``"5"^^xsd:int`` comes back as ``"5"^^xsd:integer``, ``"1.0"^^xsd:decimal``
as ``"1"``, ``"01"^^xsd:integer`` as ``"1"`` (and then equals ``"1"``). SHACL
compares terms, so ``sh:datatype xsd:int``, ``sh:in ("1.0"^^xsd:decimal)``,
``sh:pattern`` and ``sh:maxCount`` would see a different graph than the one
the user wrote. This module finds, before the data goes into a store, every
literal the store would rewrite (by asking a throw-away Oxigraph store), so
the validator can check the shapes that read those predicates on the terms
as written, and restore them in a graph given to the complete engine.

The loaders write canonical literals almost everywhere, so the list is
usually empty and costs one pass over the literals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from kg.checks.read import raw_term
from kg.graph.terms import to_oxigraph

_XSD = "http://www.w3.org/2001/XMLSchema#"
# Datatypes Oxigraph never rewrites: their lexical form is the value.
_KEPT = {f"{_XSD}string", f"{_XSD}anyURI", f"{_XSD}normalizedString", f"{_XSD}token", f"{_XSD}language",
         f"{_XSD}Name", f"{_XSD}NCName", f"{_XSD}NMTOKEN", f"{_XSD}base64Binary", f"{_XSD}hexBinary"}
_PROBE = ox.NamedNode("urn:tradekg:probe")


@dataclass
class RawTerms:
    """Triples whose literal the store holds in another form.

    ``altered`` maps (s, p, literal as written) to the literal the store
    holds; ``written_stored`` lists the stored forms that were also written
    as such (``"1"`` beside ``"1.0"``), which a restore must keep.
    """

    altered: dict[tuple[Node, URIRef, Literal], Literal] = field(default_factory=dict)
    written_stored: set[tuple[Node, URIRef, Literal]] = field(default_factory=set)

    @property
    def predicates(self) -> set[str]:
        return {str(p) for _, p, _ in self.altered}

    @property
    def retyped(self) -> set[str]:
        """Predicates where the store changes a literal's datatype, or merges two literals into one."""
        counts = Counter((s, p, c) for (s, p, _), c in self.altered.items())
        return {str(p) for (s, p, raw), c in self.altered.items()
                if raw.datatype != c.datatype or counts[(s, p, c)] > 1 or (s, p, c) in self.written_stored}

    def __bool__(self) -> bool:
        return bool(self.altered)

    def __or__(self, other: RawTerms) -> RawTerms:
        return RawTerms({**self.altered, **other.altered}, self.written_stored | other.written_stored)

    def restore(self, graph: Graph) -> Graph:
        """``graph`` (read back from a store) with the altered literals as written."""
        for (s, p, _), stored in self.altered.items():
            if (s, p, stored) not in self.written_stored:
                graph.remove((s, p, stored))
        for s, p, raw in self.altered:
            graph.add((s, p, raw))
        return graph


def _candidate(term: object) -> bool:
    if not isinstance(term, ox.Literal) or term.language:
        return False
    datatype = term.datatype.value
    return datatype.startswith(_XSD) and datatype not in _KEPT


def canonical(literals: Iterable[ox.Literal]) -> dict[ox.Literal, ox.Literal]:
    """Each literal as an Oxigraph store gives it back."""
    probe = ox.Store()
    distinct = list(dict.fromkeys(literals))
    probe.extend(ox.Quad(ox.NamedNode(f"urn:tradekg:probe:{i}"), _PROBE, lit, ox.DefaultGraph())
                 for i, lit in enumerate(distinct))
    back = {q.subject.value: q.object for q in probe.quads_for_pattern(None, _PROBE, None, ox.DefaultGraph())}
    return {lit: back[f"urn:tradekg:probe:{i}"] for i, lit in enumerate(distinct)}


def scan_quads(quads: Iterable[ox.Quad]) -> RawTerms:
    """The triples of ``quads`` whose literal a store would rewrite."""
    return _found([(raw_term(q.subject), URIRef(q.predicate.value), q.object) for q in quads
                   if _candidate(q.object)])


def scan(triples: Iterable[tuple[Node, Node, Node]]) -> RawTerms:
    """The same for rdflib triples (the loaders' output)."""
    return _found([(s, p, to_oxigraph(o)) for s, p, o in triples
                   if type(o) is Literal and o.datatype is not None and str(o.datatype).startswith(_XSD)
                   and str(o.datatype) not in _KEPT])


def _found(candidates: list) -> RawTerms:
    if not candidates:
        return RawTerms()
    stored = canonical(o for _, _, o in candidates)
    altered = {(s, p, raw_term(o)): raw_term(stored[o]) for s, p, o in candidates if stored[o] != o}
    if not altered:
        return RawTerms()
    unaltered = {(s, p, raw_term(o)) for s, p, o in candidates if stored[o] == o}
    return RawTerms(altered, {(s, p, c) for (s, p, _), c in altered.items() if (s, p, c) in unaltered})
