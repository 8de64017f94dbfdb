"""Writing a whole graph into a new store version with Oxigraph's bulk loader, a chunk at a time.

``build`` writes the graph it made in memory this way.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pyoxigraph as ox

WRITE_CHUNK_QUADS = 250_000


def bulk_load_in_chunks(target: ox.Store, dump: Path, chunk: int = WRITE_CHUNK_QUADS) -> None:
    """Bulk-load an N-Quads file ``chunk`` lines at a time, then compact the store.

    Oxigraph's bulk loader holds what it sorts in memory: 830 MB for the
    1.3M quads of the 1M benchmark in one call, the build's peak. A quarter
    of a million at a time holds under 400 MB, for 8% more CPU. Each call
    writes its own sorted file per index, and a query then seeks in every
    one of them; ``optimize`` compacts them into one (1.6 s of CPU at 1.3M
    quads) and makes the saved queries that read thousands of rows 1.3 to
    1.7 times faster than on the files one bulk load leaves (issue 25).
    One quad per line (N-Quads escapes line breaks in literals), written by
    Oxigraph from the validated store a moment ago: read leniently. Each
    call names blank nodes afresh, so every line with one (``_:``; the
    ontology's few, or a literal that happens to contain those two
    characters) goes into one last call, where a node keeps its identity.
    """
    blank: list[bytes] = []
    with open(dump, "rb") as handle:
        while lines := list(itertools.islice(handle, chunk)):
            named = [line for line in lines if b"_:" not in line]
            blank += [line for line in lines if b"_:" in line] if len(named) < len(lines) else []
            target.bulk_load(b"".join(named), format=ox.RdfFormat.N_QUADS, lenient=True)
    if blank:
        target.bulk_load(b"".join(blank), format=ox.RdfFormat.N_QUADS, lenient=True)
    target.optimize()

