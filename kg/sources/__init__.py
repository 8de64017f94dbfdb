"""Importers for the sources of record: the Federal Register API and OFAC's own list files.

Every importer has the shape ``kg.sources.base`` describes (read, map with an
``Emitter``, return a ``SourcePlan``, ``commit``), so a further source is one
new module here and one command in ``kg/cli/sources.py``. The CSL importer
(``kg/sources/csl.py``, reading with ``csl_read``) has the same shape; it commits
with ``csl_import.commit``, whose manifest and messages (one file, rows per list)
predate ``base.commit``. ``SOURCES`` names them all. ``csl_import`` and ``imports`` register the importers' kinds of
ledger entry, so a rebuild replays every import; ``matching`` finds which
party or rule of the graph a list's entry names; ``fetch`` downloads.

May import: basics, graph, loaders, checks, answers, pipeline.
"""

from __future__ import annotations

SOURCES = {
    "csl": "kg.sources.csl",
    "federal-register": "kg.sources.federal_register",
    "ofac": "kg.sources.ofac",
}
