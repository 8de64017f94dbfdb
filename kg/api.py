"""The Python API: the graph for notebooks and scripts, as the command line sees it.

    import kg
    g = kg.open()                                   # the store `tradekg` would read
    g.query("rules-affecting-firm", firm="Huawei", as_of="2021-01-01").to_pandas()

``kg.open()`` finds the graph exactly as the command line does (``endpoint``,
else TRADEKG_ENDPOINT; else ``store``, else TRADEKG_STORE, else
``.tradekg/store``), and every method raises the typed exceptions the command
line turns into its messages (``kg.errors``): ``NotFound`` with its "did you
mean", ``QueryRejected``, ``QueryTimeout``... So a notebook and a terminal
give the same answers and the same refusals. Results keep the RDF terms
(``Result.table``) and offer plain Python values: rows iterate as dicts of
``str``, ``int``, ``float``, ``Decimal``, ``bool`` and ``datetime.date``; IRIs
are strings. pandas is optional (``pip install 'tradekg[pandas]'``).
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import BNode, Literal
from rdflib.term import Node

from kg.errors import LoadFailed, NotFound, TradekgError
from kg.graph.backend import (
    Backend,
    EmbeddedBackend,
    QueryRejected,
    QueryTimeout,
    ResultTable,
    allowed_services,
    query_timeout_from,
)
from kg.graph.sparqltext import with_default_prefixes
from kg.graph.store import VersionedStore, default_store_path

if TYPE_CHECKING:
    import pandas
    from rdflib import Graph as RDFGraph

    from kg.answers.screen import Index, Match
    from kg.answers.show import Description

__all__ = ["Graph", "LoadFailed", "NotFound", "QueryRejected", "QueryTimeout", "Result", "TradekgError",
           "open", "open_backend"]

ENDPOINT_ENV = "TRADEKG_ENDPOINT"
GRAPH_ENV = "TRADEKG_GRAPH"


def python_value(term: Node | None) -> Any:
    """A plain Python value for an RDF term: the literal's value, an IRI as its string."""
    if term is None:
        return None
    if isinstance(term, Literal):
        value = term.toPython()
        return str(term) if isinstance(value, Literal) else value  # a datatype rdflib cannot map
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


class Result:
    """A table of answers: iterate it for dicts, or ask for CSV or a pandas DataFrame."""

    def __init__(self, table: ResultTable):
        self.table = table

    @property
    def columns(self) -> list[str]:
        return list(self.table.variables)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return list(self)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.table.rows:
            yield {c: python_value(row.get(c)) for c in self.table.variables}

    def __len__(self) -> int:
        return len(self.table.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        row = self.table.rows[i]
        return {c: python_value(row.get(c)) for c in self.table.variables}

    def __repr__(self) -> str:
        return f"<Result {len(self)} rows: {', '.join(self.columns)}>"

    def to_csv(self, path: str | Path | None = None) -> str:
        """The CSV the command line writes (whole IRIs, formula cells quoted); also saved to ``path``."""
        from kg.answers.render import render_csv

        buffer = io.StringIO()
        render_csv(self.table, buffer)
        text = buffer.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_pandas(self) -> pandas.DataFrame:
        """A DataFrame with one column per variable, in order; needs pandas installed."""
        try:
            import pandas
        except ModuleNotFoundError:
            raise TradekgError("to_pandas needs pandas: pip install 'tradekg[pandas]' (or pandas)") from None
        return pandas.DataFrame(self.rows, columns=self.columns)

    def _repr_html_(self) -> str:  # a notebook shows the table
        from html import escape

        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row.values())
                       + "</tr>" for row in self)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def open_backend(store: str | Path | None = None, endpoint: str | None = None, graph: str | None = None,
                 timeout: float | None = None, query_timeout: float | None = None,
                 allow_service: Iterable[str] | None = None) -> Backend:
    """The graph to read: the server at ``endpoint`` if given, else the embedded store.

    ``query_timeout`` (seconds; default TRADEKG_QUERY_TIMEOUT or 120, 0 for no
    limit) bounds every query run through the backend; ``timeout`` bounds
    each wait on a server. ``allow_service`` names the endpoints a query's
    SERVICE may call (default TRADEKG_ALLOW_SERVICE, else none: refused).
    """
    deadline = query_timeout_from(query_timeout)
    if not endpoint:
        if graph:
            raise TradekgError("--graph names a graph on a SPARQL server; pass --endpoint URL too")
        return EmbeddedBackend(VersionedStore(Path(store) if store else default_store_path()).open_read(),
                               timeout=deadline, allow_service=allowed_services(allow_service))
    from kg.graph.remote import DEFAULT_TIMEOUT, Endpoint, RemoteBackend

    return RemoteBackend(Endpoint(endpoint, graph=graph or None, timeout=timeout or DEFAULT_TIMEOUT),
                         query_timeout=deadline)


class Graph:
    """One graph to ask: saved queries, your own SPARQL, one entity, name screening."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self._index: Index | None = None

    def query(self, name: str, **params: str | dt.date | None) -> Result:
        """Run the saved query ``name`` (see ``queries()``) with its parameters as keywords.

        Entity parameters take what the command line takes (an IRI, an id such
        as ``huawei`` or ``id:company/huawei``, a name or an alias); dates take
        ``datetime.date`` or ``YYYY-MM-DD``. A parameter given as None is left out.
        """
        from kg.answers.queries import find_query, run_saved

        values = {k: v.isoformat() if isinstance(v, dt.date) else str(v) for k, v in params.items()
                  if v is not None}
        return Result(run_saved(find_query(name), values, self.backend))

    @staticmethod
    def queries() -> dict[str, str]:
        """The saved queries: name -> the question it answers."""
        from kg.answers.queries import saved_queries

        return {q.name: f"{q.title}: {q.description}" for q in saved_queries().values()}

    def sparql(self, text: str) -> Result | bool | RDFGraph:
        """Run a read-only SPARQL query; the project's prefixes (tkg:, id:, schema:...) are declared.

        SELECT gives a ``Result``, ASK a bool, CONSTRUCT and DESCRIBE an rdflib Graph.
        """
        result = self.backend.query_any(with_default_prefixes(text))
        return Result(result) if isinstance(result, ResultTable) else result

    def show(self, entity: str, types: tuple[str, ...] | None = None) -> Description:
        """Every statement about one entity, what points at it, and its sources (``kg.answers.show.Description``).

        For a company, ``.legal_reach()`` and ``.exposure()`` give what the derived rule effects say reaches it.
        """
        from kg.answers.show import describe

        return describe(self.backend, entity, types)

    def resolve(self, name: str, types: tuple[str, ...] | None = None) -> str:
        """The IRI of the entity ``name`` stands for (IRI, id, short id, name or alias, any case)."""
        from kg.answers.resolve import resolve_entity
        from kg.loaders.tables import load_catalog

        return str(resolve_entity(self.backend, name, types or tuple(load_catalog().tables)))

    def screen(self, name: str, country: str | None = None, limit: int = 10,
               threshold: float | None = None, identifiers: Sequence[str] = ()) -> Result:
        """Names in the graph like ``name``, scored and explained, with their lists and rules.

        The index of names is built on the first call and kept for the next ones.
        ``identifiers`` (USCC, registration or IMO numbers) decide as in
        ``tradekg screen --identifier``. When nothing reaches the threshold,
        ``near_misses`` names the closest candidates below it.
        """
        from kg.answers import screen as screening

        if self._index is None:
            self._index = screening.Index.from_backend(self.backend)
        cut = screening.DEFAULT_THRESHOLD if threshold is None else threshold
        found = screening.screen(self.backend, name, country, limit, cut, index=self._index,
                                 identifiers=identifiers)
        near = [] if found else screening.near_misses(self._index, name, country, cut, identifiers)
        return ScreenResult(screening.as_table(found), found, near)


class ScreenResult(Result):
    """A screening answer: the table, and the ``matches`` behind it."""

    def __init__(self, table: ResultTable, matches: list[Match], near_misses: list[Match] | None = None):
        super().__init__(table)
        self.matches = matches
        self.near_misses = near_misses or []  # the closest candidates below the threshold, when nothing matched


def open(store: str | Path | None = None, endpoint: str | None = None, graph: str | None = None,
         timeout: float | None = None, query_timeout: float | None = None,
         allow_service: Iterable[str] | None = None) -> Graph:
    """The graph the command line would read: ``endpoint`` (or TRADEKG_ENDPOINT), else the store.

    ``store`` defaults to TRADEKG_STORE, else ``.tradekg/store``; ``graph``
    (or TRADEKG_GRAPH) names a graph on the server.
    """
    endpoint = endpoint or os.environ.get(ENDPOINT_ENV) or None
    graph = graph or (os.environ.get(GRAPH_ENV) or None if endpoint else None)
    return Graph(open_backend(store, endpoint, graph, timeout, query_timeout, allow_service))

