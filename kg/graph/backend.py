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

import functools
import os
import re
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import pyoxigraph as ox
from rdflib import Graph
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.term import Node

from kg.errors import TradekgError
from kg.graph.ordering import sort_rows, split_order_by
from kg.graph.sparqltext import plain_syntax_error
from kg.graph.terms import quads_to_graph, to_oxigraph, to_rdflib


class QueryRejected(TradekgError):
    """The query is not valid SPARQL or is not allowed here (an update)."""


QUERY_TIMEOUT_ENV = "TRADEKG_QUERY_TIMEOUT"
SERVICE_ENV = "TRADEKG_ALLOW_SERVICE"
DEFAULT_QUERY_TIMEOUT = 120.0

T = TypeVar("T")


class QueryTimeout(TradekgError):
    """A query ran past its deadline and was abandoned."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(
            f"the query did not finish within {seconds:g} s and was stopped; raise --query-timeout "
            f"SECONDS (or {QUERY_TIMEOUT_ENV}; 0 means no limit) or ask a narrower question"
        )


def query_timeout_from(value: float | str | None) -> float | None:
    """The deadline in seconds: ``value``, else TRADEKG_QUERY_TIMEOUT, else 120; 0 means none."""
    if value is None:
        value = os.environ.get(QUERY_TIMEOUT_ENV) or DEFAULT_QUERY_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        raise TradekgError(f"{QUERY_TIMEOUT_ENV}={value!r} is not a number of seconds") from None
    if seconds < 0 or seconds != seconds:
        raise TradekgError("--query-timeout must be 0 (no limit) or a positive number of seconds")
    return seconds or None


def run_with_deadline(work: Callable[[threading.Event], T], seconds: float | None) -> T:
    """Run ``work(cancelled)`` and return its result, or raise ``QueryTimeout`` after ``seconds``.

    The work runs in a daemon thread: pyoxigraph releases the GIL while it
    evaluates, and a server request waits on a socket, so the caller wakes at
    the deadline whatever the query is doing. ``cancelled`` is set then, and
    work that reads rows one by one stops at the next row; an evaluation inside
    Oxigraph cannot be interrupted and ends with the process (the CLI exits at
    once on a timeout). Without ``seconds`` the work runs here, as before.
    """
    if not seconds:
        return work(threading.Event())
    cancelled = threading.Event()
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = work(cancelled)
        except BaseException as exc:  # handed to the caller below
            _drop_locals(exc)
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="tradekg-query", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        cancelled.set()
        _abandoned.append(worker)
        raise QueryTimeout(seconds)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


_abandoned: list[threading.Thread] = []


def _drop_locals(exc: BaseException | None) -> None:
    """Clear the variables of the frames in ``exc``'s tracebacks (and its causes'), here on this thread.

    An error handed to another thread carries its traceback, and the frames in
    it keep their variables: a pyoxigraph result among them is then dropped on
    the other thread, which pyoxigraph refuses to do, so the result and the
    whole in-memory store it reads were never freed (issue 26: +345 MB per
    version switch after a failed SERVICE). The lines of the traceback stay.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__


def abandoned_queries() -> list[threading.Thread]:
    """Query threads given up at their deadline that are still running."""
    _abandoned[:] = [t for t in _abandoned if t.is_alive()]
    return list(_abandoned)




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
    slots = _value_slots(query)
    if slots is None:
        raise QueryRejected("cannot bind parameters: the query has no WHERE pattern")
    where, branches, subqueries = slots
    names = sorted(bindings)
    for name in names:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise QueryRejected(f"{name!r} is not a SPARQL variable name")

    def block(chosen: list[str]) -> str:
        terms = " ".join(_term_text(n, bindings[n]) for n in chosen)
        return f" VALUES ({' '.join('?' + n for n in chosen)}) {{ ({terms}) }} "

    # The same block also opens every UNION branch: Oxigraph evaluates a UNION
    # before joining it with an outer VALUES, so without this a query bound to
    # one firm read every designation and effect (firm-timeline: 1.5 s instead
    # of 2 ms at 100k triples). Joining equal bindings changes no answer.
    at = [(o, names) for o in [where, *branches]]
    # And every subquery, bound to those of the variables it projects (binding
    # them inside gives the same rows the outer join would keep). Only the ones
    # it projects: a subquery that projects ?firm but not ?today (bound by every
    # saved query that reads "today") still starts from the firm.
    for position, projection in subqueries:
        projected = [n for n in names if re.search(rf"(?<![\w?])\?{n}(?!\w)", projection)]
        if projected:
            at.append((position, projected))
    for position, chosen in sorted(at, reverse=True):
        query = query[:position] + block(chosen) + query[position:]
    return query


@functools.lru_cache(maxsize=256)
def _value_slots(query: str) -> tuple[int, tuple[int, ...], tuple[tuple[int, str], ...]] | None:
    """Where ``with_values`` puts VALUES blocks in ``query``: after the opening of its WHERE pattern, of
    every UNION branch after it, and of every subquery (with its projection); None without a WHERE.
    Worked out once per query text: a saved query is bound again and again with other values."""
    masked = "\n".join(
        " " * len(line) if line.lstrip().startswith("#") else line for line in query.split("\n")
    )
    match = _WHERE.search(masked)
    if match is None:
        return None
    branches = tuple(o for o in _union_branches(masked) if o > match.end())
    subqueries = tuple((match.end() + sub.end(), sub.group("projection")) for sub in re.finditer(
        r"\bSELECT\b(?P<projection>[^{]*?)\bWHERE\s*\{", masked[match.end():], re.IGNORECASE))
    return match.end(), branches, subqueries


def _term_text(name: str, value: Node) -> str:
    """``value`` as N-Triples; a value Oxigraph cannot hold as a term (an IRI with a space,
    a quote or a '>') is refused in plain words, never pasted."""
    try:
        return str(to_oxigraph(value))
    except ValueError as exc:
        raise QueryRejected(f"{name}: {str(value)[:200]!r} is not a valid IRI or term ({exc})") from None


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


# Words that begin an update operation (SPARQL 1.1 Update, section 3) and are
# never keywords of a query: one outside strings, IRIs and comments means the
# text is, or smuggles in, an update.
UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})

_NAME_CHAR = r"\w\u00b7\u00c0-\uffff"
_TOKEN = re.compile(
    r"(?P<skip>#[^\n\r]*"  # comment
    r"|'''(?:[^'\\]|\\.|'(?!''))*(?:'''|$)"  # long strings
    r'|"""(?:[^"\\]|\\.|"(?!""))*(?:"""|$)'
    r"|'(?:[^'\\\n\r]|\\.)*(?:'|$)"  # strings
    r'|"(?:[^"\\\n\r]|\\.)*(?:"|$)'
    r'|<[^<>"{}|^`\\\s]*>'  # IRIs
    rf"|[?$][{_NAME_CHAR}]+"  # variables
    r"|@[A-Za-z]+(?:-[A-Za-z0-9]+)*"  # language tags
    rf"|(?:[A-Za-z_\u00c0-\uffff][{_NAME_CHAR}.\-]*)?:[{_NAME_CHAR}.\-:%]*"  # prefixed names, blank nodes
    r"|\d[\w.]*)"  # numbers
    rf"|(?P<word>[A-Za-z_][{_NAME_CHAR}]*)",
)


def update_keyword(query: str) -> str | None:
    """The first update keyword in ``query`` outside comments, strings and IRIs, or None.

    A leading byte-order mark, whitespace of any kind, comments, PREFIX and
    BASE declarations and letter case hide nothing.
    """
    for match in _TOKEN.finditer(query):
        word = match.group("word")
        if word and word.upper() in UPDATE_KEYWORDS:
            return word.upper()
    return None


def is_update(query: str) -> bool:
    """True when ``query`` is, or contains, a SPARQL Update (INSERT, DROP, LOAD...).

    Either of two checks is enough: an update keyword outside strings, IRIs
    and comments, wherever it stands (so a malformed update, or one after a
    query, is refused before a lenient server sees it); or the text parsing
    as an update and not as a query.
    """
    if update_keyword(query) is not None:
        return True
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


_UPDATE_REFUSED = ("this is a SPARQL update; tradekg sparql only reads the graph "
                   "(use build or load to change it)")


class QueryForms:
    """``select``, ``construct`` and ``ask`` for any backend that has ``query_any``."""

    def query_any(self, query: str, bindings: dict[str, Node] | None = None) -> ResultTable | Graph | bool:
        raise NotImplementedError

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


class ServiceRefused(QueryRejected):
    """The query names a SERVICE (another server) that this process was not told it may call."""


def allowed_services(endpoints: Iterable[str] | None = None) -> frozenset[str]:
    """The endpoints a query may call with SERVICE: ``endpoints``, else TRADEKG_ALLOW_SERVICE
    (separated by spaces or commas), else none.

    A query that names a SERVICE makes this process send an HTTP request to
    the address it names and hand back the answer (or an error saying whether
    the port is open). A server reachable by a web page would let that page
    read anything its host can reach, so nothing is called unless named here.
    """
    if endpoints is None:
        endpoints = re.split(r"[\s,]+", os.environ.get(SERVICE_ENV, ""))
    allowed = set()
    for endpoint in endpoints:
        endpoint = endpoint.strip()
        if not endpoint:
            continue
        if not re.fullmatch(r"https?://[^\s<>\"{}|^`\\]+", endpoint):
            raise TradekgError(f"--allow-service {endpoint!r}: name an endpoint as a full http(s) URL")
        allowed.add(endpoint)
    return frozenset(allowed)


def refuse_service(query: str, allowed: frozenset[str] = frozenset()) -> None:
    """Raise ``ServiceRefused`` if ``query`` calls a SERVICE not in ``allowed``.

    The SERVICE keyword is found the way update keywords are (outside strings,
    IRIs and comments, any letter case); its endpoint must then be written as
    a full IRI (``SERVICE <https://...>``, SILENT or not) and be one of
    ``allowed``: a variable or prefixed name cannot be checked before the
    engine resolves it, so it is refused too.
    """
    if "service" not in query.lower() and "\\u" not in query and "\\U" not in query:
        return  # no SERVICE keyword can be there, not even written with codepoint escapes (SERV\u0049CE)
    tokens = [(m.group("word"), m.group(0)) for m in _TOKEN.finditer(query)
              if not m.group(0).startswith("#")]
    for i, (word, _) in enumerate(tokens):
        if not word or word.upper() != "SERVICE":
            continue
        rest = tokens[i + 1:i + 3]
        if rest and rest[0][0] and rest[0][0].upper() == "SILENT":
            rest = rest[1:]
        target = rest[0][1] if rest else ""
        endpoint = target[1:-1] if target.startswith("<") and target.endswith(">") else None
        if endpoint is not None and endpoint in allowed and "\\" not in endpoint:
            continue
        named = target[:200] or "?"
        hint = (f"pass --allow-service {endpoint} (or set {SERVICE_ENV}) to let queries call it"
                if endpoint is not None else "write the endpoint as a full <IRI> and allow it with --allow-service")
        raise ServiceRefused(
            f"this query calls another server (SERVICE {named}); tradekg does not reach into the network "
            f"unless told: {hint}")


def _check_query(query: str, allow_service: frozenset[str]) -> None:
    """Refuse an update or a SERVICE not allowed (``QueryRejected``, ``ServiceRefused``) before evaluation.

    The verdict on a query text is kept (``_checked``): the saved queries and the
    server's pages run the same texts again and again with other VALUES, which
    are bound after this check, and tokenising them cost 0.4 ms a query.
    """
    if len(query) > 20_000:  # a user's long query: checked, not kept
        _check_text(query, allow_service)
    else:
        _checked(query, allow_service)


@functools.lru_cache(maxsize=1024)
def _checked(query: str, allow_service: frozenset[str]) -> None:
    _check_text(query, allow_service)  # an exception is raised again each time: lru_cache keeps no failures


def _check_text(query: str, allow_service: frozenset[str]) -> None:
    if update_keyword(query) is not None:
        raise QueryRejected(_UPDATE_REFUSED)
    refuse_service(query, allow_service)


class EmbeddedBackend(QueryForms):
    """Reads one Oxigraph store (read-only on disk, or in memory for derivation)."""

    def __init__(self, store: ox.Store, timeout: float | None = None,
                 allow_service: frozenset[str] = frozenset(), order_in_python: bool = True):
        self.store = store
        self.timeout = timeout  # seconds a query may run (None: no limit), see run_with_deadline
        self.allow_service = allow_service  # endpoints a SERVICE may call (none by default)
        # A final ORDER BY done here rather than by Oxigraph (kg.graph.ordering): what it saves is
        # RocksDB's reads of strings on disk. `serve` keeps Oxigraph's, whose memory its guard counts.
        self.order_in_python = order_in_python

    def _run(self, query: str, bindings: dict[str, Node] | None) -> object:
        _check_query(query, self.allow_service)
        try:
            return self.store.query(with_values(query, bindings))
        except SyntaxError as exc:
            if is_update(query):
                raise QueryRejected(_UPDATE_REFUSED) from None
            raise QueryRejected(plain_syntax_error(str(exc), query)) from None
        except OSError as exc:
            raise QueryRejected(f"the query failed: {exc}") from None

    def query_any(self, query: str, bindings: dict[str, Node] | None = None) -> ResultTable | Graph | bool:
        """Run a query of any form and convert its result to rdflib terms (within ``timeout``)."""
        return run_with_deadline(lambda cancelled: self._evaluate(query, bindings, cancelled), self.timeout)

    def _evaluate(self, query: str, bindings: dict[str, Node] | None,
                  cancelled: threading.Event) -> ResultTable | Graph | bool:
        # A trailing ORDER BY is done here when it can be done exactly (see kg.graph.ordering: on disk,
        # Oxigraph reads both strings of every comparison from RocksDB); otherwise by Oxigraph.
        split = split_order_by(query) if self.order_in_python else None
        if split is not None:
            unordered, keys = split
            answer = self._evaluate_as_is(unordered, bindings, cancelled)
            if not isinstance(answer, ResultTable):
                return answer
            if all(name in answer.variables for name, _ in keys):
                ordered = sort_rows(answer.rows, keys)
                if ordered is not None:
                    answer.rows = ordered
                    return answer
        return self._evaluate_as_is(query, bindings, cancelled)

    def _evaluate_as_is(self, query: str, bindings: dict[str, Node] | None,
                        cancelled: threading.Event) -> ResultTable | Graph | bool:
        result = self._run(query, bindings)
        try:
            return self._convert(result, cancelled)
        finally:
            # Dropped here, on the thread that made it: a pyoxigraph result dropped on another thread
            # (through a traceback handed to the caller) is never freed, and it holds the whole store.
            del result

    def _convert(self, result: object, cancelled: threading.Event) -> ResultTable | Graph | bool:
        try:
            if isinstance(result, ox.QueryBoolean):
                return bool(result)
            if isinstance(result, ox.QueryTriples):
                graph = Graph()
                for t in result:
                    if cancelled.is_set():
                        break
                    graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
                return graph
            assert isinstance(result, ox.QuerySolutions)
            variables = [v.value for v in result.variables]
            rows = []
            # Each distinct term is converted once: a big answer repeats the same lists,
            # rules, labels and dates on thousands of rows, and an rdflib Literal costs
            # about 10 us to make (a date is parsed). Reading a solution as a tuple
            # (its values in projection order) is cheaper than looking each name up.
            converted: dict[object, Node] = {}
            for s in result:
                if cancelled.is_set():  # given up: stop reading rows nobody will see
                    break
                row = {}
                for name, term in zip(variables, s, strict=True):
                    if term is not None:
                        value = converted.get(term)
                        if value is None:
                            value = converted[term] = to_rdflib(term)
                        row[name] = value
                rows.append(row)
            return ResultTable(variables, rows)
        except OSError as exc:
            message = str(exc)
        raise QueryRejected(f"the query failed: {message}")

    def all_triples(self) -> Graph:
        return quads_to_graph(self.store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
