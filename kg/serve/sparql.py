"""The SPARQL 1.1 Protocol at ``/sparql``: query only, answered from one snapshot.

GET ``?query=``, POST ``application/x-www-form-urlencoded`` (``query=``) and
POST ``application/sparql-query`` are accepted, with ``default-graph-uri`` and
``named-graph-uri``. An update (``update=``, ``application/sparql-update``, or
a query text holding an update keyword) is refused before anything is
evaluated, with the words ``tradekg sparql`` uses.

Results are written by Oxigraph's own serialisers (JSON, XML, CSV, TSV for
SELECT and ASK; Turtle, N-Triples, RDF/XML for CONSTRUCT and DESCRIBE), chosen
by the ``Accept`` header. Building rdflib terms for every row and writing them
back out in Python cost more than the query itself on big answers, so rows
never become Python objects here. What remains is evaluation inside Oxigraph
(at 100k triples, 23 of the 31 ms of ``designations`` are its GROUP_CONCAT
subquery, 10 of the 48 ms of ``firms-affected-by-rule`` its ORDER BY); since
a snapshot never changes, each answer is kept (``Snapshot.lru``, 128 MB per
version) and a repeated question costs only the HTTP round trip.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pyoxigraph as ox

from kg.graph.backend import (
    QueryRejected,
    QueryTimeout,
    ServiceRefused,
    is_update,
    refuse_service,
    run_with_deadline,
    update_keyword,
)
from kg.graph.sparqltext import plain_syntax_error, with_default_prefixes
from kg.serve.snapshot import Snapshot

REFUSED = ("this is a SPARQL update; this endpoint only reads the graph "
           "(use tradekg build or load to change it)")

_RESULTS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
_GRAPHS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
# What ``format=`` (YASGUI, curl users) may name instead of an Accept header.
_SHORT = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
          "csv": "text/csv", "tsv": "text/tab-separated-values", "turtle": "text/turtle",
          "ttl": "text/turtle", "nt": "application/n-triples", "ntriples": "application/n-triples",
          "rdfxml": "application/rdf+xml"}


ANSWER_CACHE_BYTES = 128 * 1024 * 1024


class ProtocolError(Exception):
    """A request the protocol answers with an error status and a plain-text message."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after  # seconds, for a 503


@dataclass
class Answer:
    body: bytes
    media_type: str


def accepted(header: str) -> list[str]:
    """Media types of an Accept header, best first (q values honoured, ties in written order)."""
    ranked = []
    for position, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        quality = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, media))
    return [media for _, _, media in sorted(ranked)]


def choose(accept: str, table: dict[str, object], default: str) -> str:
    """The first acceptable media type we can write, else ``default`` (``*/*`` included)."""
    for media in accepted(accept):
        if media in table:
            return media
        if media in ("*/*", "application/*", "text/*"):
            return default
    return default


def refuse_updates(text: str) -> None:
    """Refuse an update before the engine sees it, as ``tradekg sparql`` does.

    An update keyword anywhere outside strings, IRIs and comments is enough.
    Text without one goes to Oxigraph's *query* parser, which cannot run an
    update; only when it fails to parse is rdflib asked whether it was an
    update in disguise (that check costs about 1 ms, so it is not run on
    every query).
    """
    if update_keyword(text) is not None:
        raise ProtocolError(403, REFUSED)


def evaluate(snapshot: Snapshot, text: str, accept: str, *, default_graphs: list[str] | None = None,
             named_graphs: list[str] | None = None, timeout: float | None = None) -> Answer:
    """Run one read-only query on ``snapshot`` and serialise its answer as the client asked."""
    refuse_updates(text)
    try:
        refuse_service(text, snapshot.backend.allow_service)
    except ServiceRefused as exc:
        raise ProtocolError(403, str(exc)) from None
    if accept.strip().lower() in _SHORT:
        accept = _SHORT[accept.strip().lower()]
    options: dict[str, object] = {}
    try:
        if default_graphs:
            options["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
        if named_graphs:
            options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
    except ValueError as exc:
        raise ProtocolError(400, f"not an IRI in default-graph-uri or named-graph-uri: {exc}") from None

    cached = cached_answer(snapshot, text, accept, default_graphs, named_graphs)
    if cached is not None:
        return cached

    # The prefixes `tradekg sparql` declares (its parse errors say so), unless the query declares them.
    full = with_default_prefixes(text)

    def work(cancelled: threading.Event) -> Answer:
        # Errors become plain values before anything is raised: a pyoxigraph result reachable from a
        # traceback is dropped on another thread, which pyoxigraph never frees (the whole snapshot
        # stayed alive, 345 MB a version at 254k triples).
        failure: ProtocolError | None = None
        result = None
        try:
            result = snapshot.store.query(full, **options)  # type: ignore[arg-type]
            if isinstance(result, ox.QueryTriples):
                media = choose(accept, _GRAPHS, "text/turtle")
                return Answer(result.serialize(format=_GRAPHS[media]), media)
            media = choose(accept, _RESULTS, "application/sparql-results+json")
            return Answer(result.serialize(format=_RESULTS[media]), media)
        except SyntaxError as exc:
            failure = (ProtocolError(403, REFUSED) if is_update(text)
                       else ProtocolError(400, plain_syntax_error(str(exc), full)))
        except OSError as exc:
            failure = ProtocolError(400, f"the query failed: {exc}")
        finally:
            del result
        raise failure

    try:
        answer = run_with_deadline(work, timeout)
    except QueryTimeout as exc:
        raise ProtocolError(400, str(exc)) from None
    except QueryRejected as exc:
        raise ProtocolError(400, str(exc)) from None
    keep_answer(snapshot, text, accept, default_graphs, named_graphs, answer)
    return answer


def _answer_key(text: str, accept: str, default_graphs: list[str] | None,
                named_graphs: list[str] | None) -> tuple[object, ...]:
    accept = _SHORT.get(accept.strip().lower(), accept)
    return (text, accept, tuple(default_graphs or ()), tuple(named_graphs or ()))


def cached_answer(snapshot: Snapshot, text: str, accept: str, default_graphs: list[str] | None,
                  named_graphs: list[str] | None) -> Answer | None:
    """The answer this snapshot already gave to the same question, if it is still kept."""
    found = snapshot.lru("answers", ANSWER_CACHE_BYTES).get(_answer_key(text, accept, default_graphs, named_graphs))
    return found  # type: ignore[no-any-return]


def keep_answer(snapshot: Snapshot, text: str, accept: str, default_graphs: list[str] | None,
                named_graphs: list[str] | None, answer: Answer) -> None:
    snapshot.lru("answers", ANSWER_CACHE_BYTES).put(_answer_key(text, accept, default_graphs, named_graphs),
                                                    answer, len(answer.body))
