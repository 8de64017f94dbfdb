"""Importers for the sources of record: the Federal Register API and OFAC's own list files.

Every importer has the shape ``kg.sources.base`` describes (read, map with an
``Emitter``, return a ``SourcePlan``, ``commit``), so a further source is one
new module here and one command in ``kg/cli/sources.py``. The CSL importer
(``kg/sources/csl.py``) came first and is the model; ``SOURCES`` names them all.
"""

from __future__ import annotations

SOURCES = {
    "csl": "kg.sources.csl",
    "federal-register": "kg.sources.federal_register",
    "ofac": "kg.sources.ofac",
}
