"""tradekg: a knowledge graph of technology-trade restrictions.

The package turns curated CSV facts into validated RDF, keeps the graph in an
embedded Oxigraph store and answers saved SPARQL questions about it.

For notebooks and scripts: ``g = kg.open()`` (see ``kg.api``). ``import kg``
stays light: the API and its dependencies load on first use of ``kg.open``.

The package has one room per job, each importing only the rooms below it
(``tests/test_layers.py`` enforces it, with no import circle anywhere):
the shared basics here (``errors``, ``namespaces``, ``resources``,
``progress``), then ``graph``, ``loaders``, ``checks`` and ``answers``,
``pipeline``, ``sources``, ``export``, ``serve``, the Python API (``api``)
and the command line (``cli``). Each folder's ``__init__`` says what lives
there and what it may import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from kg.api import Graph, Result, open

__all__ = ["Graph", "Result", "__version__", "open"]


def __getattr__(name: str) -> Any:
    if name in ("open", "Graph", "Result"):
        from kg import api

        return getattr(api, name)
    raise AttributeError(f"module 'kg' has no attribute {name!r}")
