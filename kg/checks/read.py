"""Read the graphs a user validates (data and shapes) with their terms exactly as written.

rdflib's parsers normalise literals on the way in (``"01"^^xsd:integer``
becomes ``"1"``, ``"1"^^xsd:boolean`` becomes ``"true"``), and SHACL compares
terms, so files are parsed with Oxigraph's parsers, which keep every term as
written, and turned into rdflib terms without normalising.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph
from rdflib.term import Node

from kg.errors import TradekgError
from kg.graph.terms import to_rdflib

FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE, ".turtle": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES, ".ntriples": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS, ".nquads": ox.RdfFormat.N_QUADS,
    ".jsonld": ox.RdfFormat.JSON_LD, ".json": ox.RdfFormat.JSON_LD,
}


class RdfInputError(TradekgError):
    """An RDF file that cannot be read (exit code 2), named with its line and column."""


def read_quads(paths: Iterable[Path], prefixes: dict[str, str] | None = None) -> list[ox.Quad]:
    """Every triple of ``paths``, in the default graph (the named graphs of N-Quads merged into it).

    ``prefixes``, if given, receives the files' prefix declarations.
    """
    quads: list[ox.Quad] = []
    for path in paths:
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise RdfInputError(f"{path}: unknown RDF format {path.suffix or '(no extension)'!r}; "
                                f"use {', '.join(sorted(FORMATS))}")
        try:
            parser = ox.parse(path=str(path), format=fmt, base_iri=path.resolve().as_uri())
            for quad in parser:
                quads.append(ox.Quad(quad.subject, quad.predicate, quad.object))
            if prefixes is not None:
                prefixes.update(parser.prefixes)
        except SyntaxError as error:
            where = f"{path}:{error.lineno}:{error.offset}" if error.lineno else str(path)
            message = str(error.msg).split(" (", 1)[0] if error.msg else str(error)
            raise RdfInputError(f"{where}: {message}") from None
        except (UnicodeDecodeError, ValueError) as error:
            raise RdfInputError(f"{path}: {error}") from None
    return quads


def raw_term(term: object) -> Node:
    """An Oxigraph term as an rdflib term, its lexical form untouched."""
    return to_rdflib(term, normalize=False)


def raw_graph(quads: Iterable[ox.Quad], graph: Graph | None = None) -> Graph:
    graph = graph if graph is not None else Graph()
    for q in quads:
        graph.add((raw_term(q.subject), raw_term(q.predicate), raw_term(q.object)))
    return graph


def read_graph(paths: Iterable[Path]) -> Graph:
    """The files as one rdflib graph, terms as written, with their prefixes bound (for shapes: small files).

    pySHACL reads a SPARQL constraint's prefixes from ``sh:prefixes`` and,
    failing that, from the shapes graph's bindings; binding the files' own
    prefixes lets it run a query written with them.
    """
    prefixes: dict[str, str] = {}
    graph = raw_graph(read_quads(paths, prefixes))
    for prefix, namespace in prefixes.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph
