"""Where queries run: the embedded Oxigraph store (and, later, a SPARQL endpoint).

Everything above this module speaks rdflib terms and ``ResultTable``; only here
do pyoxigraph objects appear.

Parameters are bound as RDF terms in a ``VALUES`` block placed at the start of
the query's WHERE pattern. Each term is written by Oxigraph's own N-Triples
serialiser, so quotes, angle brackets and braces in a value stay inside the
term; nothing a user types becomes query syntax. (Oxigraph's ``substitutions``
would be neater but refuses variables that are not projected, and a VALUES
block works the same on every SPARQL 1.1 server.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

import pyoxigraph as ox
from rdflib import Graph
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.term import Node

from kg.errors import TradekgError
from kg.terms import quads_to_graph, to_oxigraph, to_rdflib


class QueryRejected(TradekgError):
    """The query is not valid SPARQL or is not allowed here (an update)."""


@dataclass
class ResultTable:
    """A SELECT result: variables in projection order, rows of rdflib terms."""

    variables: list[str]
    rows: list[dict[str, Node]] = field(default_factory=list)

    def column(self, name: str) -> list[Node | None]:
        return [row.get(name) for row in self.rows]


class Backend(Protocol):
    """What every place that reads the graph needs: the embedded store or a server."""

    def query_any(self, query: str, bindings: dict[str, Node] | None = None) -> ResultTable | Graph | bool: ...

    def select(self, query: str, bindings: dict[str, Node] | None = None) -> ResultTable: ...

    def construct(self, query: str, bindings: dict[str, Node] | None = None) -> Graph: ...

    def ask(self, query: str, bindings: dict[str, Node] | None = None) -> bool: ...

    def all_triples(self) -> Graph: ...


_WHERE = re.compile(r"\b(WHERE|ASK)\s*\{", re.IGNORECASE)


def with_values(query: str, bindings: dict[str, Node] | None) -> str:
    """Return ``query`` with ``bindings`` as a VALUES block opening its WHERE pattern."""
    if not bindings:
        return query
    masked = "\n".join(
        " " * len(line) if line.lstrip().startswith("#") else line for line in query.split("\n")
    )
    match = _WHERE.search(masked)
    if match is None:
        raise QueryRejected("cannot bind parameters: the query has no WHERE pattern")
    names = sorted(bindings)
    for name in names:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise QueryRejected(f"{name!r} is not a SPARQL variable name")
    terms = " ".join(str(to_oxigraph(bindings[n])) for n in names)
    block = f" VALUES ({' '.join('?' + n for n in names)}) {{ ({terms}) }} "
    # The same block also opens every UNION branch: Oxigraph evaluates a UNION
    # before joining it with an outer VALUES, so without this a query bound to
    # one firm read every designation and effect (firm-timeline: 1.5 s instead
    # of 2 ms at 100k triples). Joining equal bindings changes no answer.
    at = [match.end()] + [o for o in _union_branches(masked) if o > match.end()]
    # And every subquery that projects all the bound variables (where binding
    # them inside gives the same rows the outer join would keep).
    for sub in re.finditer(r"\bSELECT\b(?P<projection>[^{]*?)\bWHERE\s*\{", masked[match.end():], re.IGNORECASE):
        if all(re.search(rf"(?<![\w?])\?{n}(?!\w)", sub.group("projection")) for n in names):
            at.append(match.end() + sub.end())
    for position in sorted(at, reverse=True):
        query = query[:position] + block + query[position:]
    return query


def _union_branches(masked: str) -> list[int]:
    """Offsets just after the '{' of every group that is an operand of UNION."""
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    for i, char in enumerate(masked):
        if char == "{":
            stack.append(i)
        elif char == "}" and stack:
            pairs.append((stack.pop(), i))
    starts = []
    for open_at, close_at in pairs:
        before = masked[:open_at].rstrip()
        after = masked[close_at + 1:].lstrip()
        if before.upper().endswith("UNION") or after.upper().startswith("UNION"):
            starts.append(open_at + 1)
    return starts


def is_update(query: str) -> bool:
    """True when ``query`` parses as a SPARQL Update (INSERT, DROP, LOAD...)."""
    try:
        parseUpdate(query)
    except Exception:
        return False
    return query.strip() != "" and not _parses_as_query(query)


def _parses_as_query(query: str) -> bool:
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        parseQuery(query)
    except Exception:
        return False
    return True


class EmbeddedBackend:
    """Reads one Oxigraph store (read-only on disk, or in memory for derivation)."""

    def __init__(self, store: ox.Store):
        self.store = store

    def _run(self, query: str, bindings: dict[str, Node] | None) -> object:
        try:
            return self.store.query(with_values(query, bindings))
        except SyntaxError as exc:
            if is_update(query):
                raise QueryRejected(
                    "this is a SPARQL update; tradekg sparql only reads the graph "
                    "(use build or load to change it)"
                ) from None
            raise QueryRejected(f"not valid SPARQL: {exc}") from None
        except OSError as exc:
            raise QueryRejected(f"the query failed: {exc}") from None

    def query_any(self, query: str, bindings: dict[str, Node] | None = None) -> ResultTable | Graph | bool:
        """Run a query of any form and convert its result to rdflib terms."""
        result = self._run(query, bindings)
        if isinstance(result, ox.QueryBoolean):
            return bool(result)
        if isinstance(result, ox.QueryTriples):
            graph = Graph()
            for t in result:
                graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
            return graph
        assert isinstance(result, ox.QuerySolutions)
        variables = [v.value for v in result.variables]
        rows = [{n: to_rdflib(s[n]) for n in variables if s[n] is not None} for s in result]
        return ResultTable(variables, rows)

    def select(self, query: str, bindings: dict[str, Node] | None = None) -> ResultTable:
        result = self.query_any(query, bindings)
        if not isinstance(result, ResultTable):
            raise QueryRejected("expected a SELECT query")
        return result

    def construct(self, query: str, bindings: dict[str, Node] | None = None) -> Graph:
        result = self.query_any(query, bindings)
        if not isinstance(result, Graph):
            raise QueryRejected("expected a CONSTRUCT or DESCRIBE query")
        return result

    def ask(self, query: str, bindings: dict[str, Node] | None = None) -> bool:
        result = self.query_any(query, bindings)
        if not isinstance(result, bool):
            raise QueryRejected("expected an ASK query")
        return result

    def all_triples(self) -> Graph:
        return quads_to_graph(self.store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
