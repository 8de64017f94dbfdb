"""``tradekg load`` as a ledger kind: CSV rows of the curated tables, loaded from their stored bytes.

The live ``load`` (``kg.pipeline.build.load``) and its replay (``build``) share
``load_inputs``, so a replay loads exactly what the load did: the same bytes,
named the same way, checked against the graph as it stands.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import RDF

from kg.loaders import ExistingLookup, InputFile, LoadResult, load_files
from kg.pipeline import ledger

KIND = "load"


def existing_in(graph: ox.Store) -> ExistingLookup:
    """Which of a set of IRIs ``graph`` already has (as typed nodes)."""
    rdf_type = ox.NamedNode(str(RDF.type))

    def existing(iris: set[str]) -> set[str]:
        return {iri for iri in iris
                if next(iter(graph.quads_for_pattern(ox.NamedNode(iri), rdf_type, None, ox.DefaultGraph())), None)}

    return existing


def load_inputs(graph: ox.Store, items: list[tuple[str, str, bytes, str | None]],
                stored_ids: Callable[[str], set[str]] | None = None) -> LoadResult:
    """Load ``(display, source name, bytes, table)`` items on top of ``graph``; raises ``LoadFailed``.

    Each input is written under its own name into a temporary folder (the
    table is guessed from the file name, as for the file the user named).
    """
    with tempfile.TemporaryDirectory(prefix="tradekg-input-") as tmp:
        files = []
        for index, (display, name, data, table) in enumerate(items):
            folder = Path(tmp) / str(index)
            folder.mkdir()
            path = folder / (Path(name).name or "input.csv")
            path.write_bytes(data)
            files.append(InputFile(path, display, table, source_name=name))
        # stored_ids: the store's ids of a table, for "did you mean" on an unknown reference.
        return load_files(files, existing=existing_in(graph), stored_ids=stored_ids)


def rows_summary(rows_per_table: dict[str, int]) -> str:
    rows = ", ".join(f"{n} {t}" for t, n in sorted(rows_per_table.items()))
    return f"{sum(rows_per_table.values())} rows ({rows})"


def replay(graph: ox.Store, inputs: list[ledger.StoredInput], options: dict[str, Any]) -> ledger.Change:
    loaded = load_inputs(graph, [(i.name, i.name, i.data, i.table) for i in inputs])
    return ledger.Change([], loaded.quads(), {str(n) for n in loaded.new_nodes}, rows_summary(loaded.rows_per_table))


ledger.register(KIND, replay)
