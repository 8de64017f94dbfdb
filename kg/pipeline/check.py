"""``tradekg validate`` of CSV tables: the checks a build runs, in memory, writing nothing.

The tables are read, the rule effects derived and the graph validated in an
in-memory Oxigraph store exactly as ``kg.pipeline.build.build`` does before it writes,
so a user sees the verdict the build would give, with the user's own shapes
(``--shapes``) added to the project's if given.
"""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import Graph

from kg.checks.rawterms import scan
from kg.checks.validate import Report
from kg.graph.ontology import ontology_graph
from kg.graph.terms import graph_to_quads
from kg.loaders import InputFile, load_files
from kg.pipeline.derive import rederive_in_store


def check_tables(files: list[InputFile], shapes: Graph | None = None) -> Report:
    """The report a build of ``files`` would give (``shapes``: instead of the project's)."""
    from kg.checks.sparql import validate_store

    loaded = load_files(files)
    raw = scan(loaded.triples)
    work = ox.Store()
    work.bulk_extend(graph_to_quads(ontology_graph()))
    work.bulk_load(loaded.ntriples(), format=ox.RdfFormat.N_TRIPLES)
    rederive_in_store(work)
    return validate_store(work, shapes=shapes, raw=raw)
