"""ORDER BY done in Python, after Oxigraph has evaluated the rest of a SELECT.

Why: on the store on disk, Oxigraph compares two long strings by reading both
from its RocksDB dictionary, once per comparison. Sorting the 8,341 rows of
``firms-affected-by-rule`` at 1.3M triples by five keys made about 110,000
comparisons and cost 0.45 to 0.6 s, a third of the query; the same rows,
decoded once and sorted here, take about 10 ms.

What: a query whose last clause is ``ORDER BY`` over plain variables (each
bare, or in ``ASC()``/``DESC()``), all of them projected, nothing after it
(no LIMIT or OFFSET: those need the order inside the engine), runs without
that clause; its rows are then sorted here with SPARQL's order as Oxigraph
implements it (``spareval``'s ``cmp_terms``): unbound first, then blank
nodes, then IRIs by their text, then literals. Two literals compare only
within one kind (strings, strings of one language, numbers, booleans, dates,
date-times); Oxigraph treats any other pair as equal and sorts unstably, so
a column that mixes kinds leaves the order to Oxigraph: ``sort_rows`` returns
None and the caller runs the query as written. Rows equal on every key keep
the order of evaluation (a stable sort; Oxigraph's order of such rows is
unspecified).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

# ``ORDER BY ?a DESC(?b) ASC(?c)`` at the very end of the text: a subquery's ORDER BY is followed by "}".
_KEY = r"(?:\?\w+|(?:ASC|DESC)\s*\(\s*\?\w+\s*\))"
_TRAILING_ORDER = re.compile(rf"\bORDER\s+BY((?:\s*{_KEY})+)\s*$", re.IGNORECASE)
_ONE_KEY = re.compile(r"(?:(ASC|DESC)\s*\(\s*)?\?(\w+)", re.IGNORECASE)
_NUMERIC = {XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.int, XSD.long, XSD.short, XSD.byte,
            XSD.nonNegativeInteger, XSD.positiveInteger, XSD.negativeInteger, XSD.nonPositiveInteger,
            XSD.unsignedInt, XSD.unsignedLong, XSD.unsignedShort, XSD.unsignedByte}
_STRING = {None, XSD.string}
_DATES = {XSD.date: "date", XSD.dateTime: "dateTime", XSD.dateTimeStamp: "dateTime"}
_SELECT_CLAUSE = re.compile(r"\bSELECT\b(.*?)(?:\bWHERE\b|\{)", re.IGNORECASE | re.DOTALL)


def split_order_by(query: str) -> tuple[str, list[tuple[str, bool]]] | None:
    """The query without its trailing ORDER BY, and its keys as (variable, descending).

    None if it has none, or if a key is not in the SELECT clause (``SELECT *``
    projects them all): rows without the key cannot be sorted by it here.
    """
    match = _TRAILING_ORDER.search(query)
    if match is None:
        return None
    keys = [(name, (how or "").upper() == "DESC") for how, name in _ONE_KEY.findall(match.group(1))]
    code = "\n".join("" if line.lstrip().startswith("#") else line for line in query[:match.start()].split("\n"))
    clause = _SELECT_CLAUSE.search(code)
    if clause is None or not ("*" in clause.group(1)
                              or all(re.search(rf"\?{name}\b", clause.group(1)) for name, _ in keys)):
        return None
    return query[:match.start()] + "\n", keys


def _literal_key(term: Literal) -> tuple[str, Any] | None:
    """A literal's kind (only values of one kind compare) and its value; None for a kind not handled here."""
    datatype = term.datatype
    if term.language is not None:
        return f"@{term.language.lower()}", str(term)
    if datatype in _STRING:
        return "string", str(term)
    if datatype in _NUMERIC:
        try:
            value = Decimal(str(term).strip())
        except InvalidOperation:
            return None
        return ("number", value) if value.is_finite() else None
    if datatype == XSD.boolean:
        text = str(term).strip()
        return ("boolean", text in ("true", "1")) if text in ("true", "false", "1", "0") else None
    kind = _DATES.get(datatype)  # type: ignore[arg-type]
    if kind is not None:
        text = str(term).strip()
        # Without a time zone and with a four-digit year, the text orders as the value does.
        if re.fullmatch(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d(\.\d+)?)?", text):
            return kind, text
    return None


def _term_key(term: Node | None) -> tuple[int, str, Any] | None:
    if term is None:
        return 0, "", ""
    if isinstance(term, BNode):
        return None  # blank node labels are not the engine's: leave such an order to it
    if isinstance(term, URIRef):
        return 2, "iri", str(term)
    if isinstance(term, Literal):
        found = _literal_key(term)
        return None if found is None else (3, found[0], found[1])
    return None


class _Reversed:
    """Wraps a key so that a stable ascending sort puts it in descending order."""

    __slots__ = ("key",)

    def __init__(self, key: Any):
        self.key = key

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.key < self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.key == other.key


def sort_rows(rows: list[dict[str, Node]], keys: list[tuple[str, bool]]) -> list[dict[str, Node]] | None:
    """``rows`` in the order of ``keys``, or None when a column's values do not all compare with each other."""
    columns: list[Callable[[dict[str, Node]], Any]] = []
    cache: dict[Node, tuple[int, str, Any] | None] = {}
    for name, descending in keys:
        kinds: set[str] = set()
        for row in rows:
            term = row.get(name)
            if term is None:
                continue
            if term not in cache:
                cache[term] = _term_key(term)
            key = cache[term]
            if key is None:
                return None
            if key[0] == 3:
                kinds.add(key[1])
        if len(kinds) > 1:
            return None

        def column(row: dict[str, Node], name: str = name) -> tuple[int, Any]:
            term = row.get(name)
            key = cache[term] if term is not None else (0, "", "")
            return key[0], key[2]

        columns.append((lambda row, c=column: _Reversed(c(row))) if descending else column)
    return sorted(rows, key=lambda row: tuple(c(row) for c in columns))
