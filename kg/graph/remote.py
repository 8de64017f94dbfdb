"""Reading the graph from a SPARQL 1.1 server, with the same answers as the embedded store.

When a graph outgrows a laptop, or many analysts share it, it lives on a server
(Oxigraph, Fuseki, GraphDB, Virtuoso, Neptune, Stardog). ``RemoteBackend``
implements the ``Backend`` protocol over the SPARQL 1.1 Protocol, so saved
queries, ``show``, ``sparql`` and exports run unchanged:

- Requests are built by SPARQLWrapper (POST, URL-encoded ``query=``, content
  negotiation only); the transport, retries and error messages are ours, so that
  every failure reaches the user as one plain line and credentials never do.
- Parameters are bound with ``kg.graph.backend.with_values``: a VALUES block of terms
  written by Oxigraph's N-Triples serialiser, never pasted text.
- Results become rdflib terms exactly as ``kg.graph.terms.to_rdflib`` makes them from
  the embedded store (``"x"^^xsd:string`` becomes plain ``Literal("x")``), so a
  row from the server compares equal to the same row from the embedded store.

Credentials come from the environment only (``TRADEKG_USER`` and
``TRADEKG_PASSWORD`` for HTTP basic, or ``TRADEKG_TOKEN`` for a bearer token):
a command-line argument would land in shell history and ``ps`` output.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node
from SPARQLWrapper import JSON, POST, TURTLE, URLENCODED, SPARQLWrapper

from kg.errors import TradekgError
from kg.graph.backend import QueryForms, QueryRejected, ResultTable, is_update, run_with_deadline, with_values

ENDPOINT_ENV = "TRADEKG_ENDPOINT"
GRAPH_ENV = "TRADEKG_GRAPH"
TIMEOUT_ENV = "TRADEKG_TIMEOUT"
USER_ENV = "TRADEKG_USER"
PASSWORD_ENV = "TRADEKG_PASSWORD"
TOKEN_ENV = "TRADEKG_TOKEN"
STORE_ENDPOINT_ENV = "TRADEKG_STORE_ENDPOINT"
UPDATE_ENDPOINT_ENV = "TRADEKG_UPDATE_ENDPOINT"

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 3

_XSD_STRING = str(XSD.string)
_RDF_TYPES = ("text/turtle", "application/turtle", "application/n-triples", "text/plain",
              "application/rdf+xml", "application/ld+json", "text/n3")


class RemoteError(TradekgError):
    """The server could not be reached, refused us, or did not answer as a SPARQL server."""


@dataclass(frozen=True)
class Auth:
    """HTTP credentials, read from the environment; never shown in a repr or a message."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Auth:
        env = os.environ if environ is None else environ
        user = env.get(USER_ENV) or None
        password = env.get(PASSWORD_ENV)
        token = env.get(TOKEN_ENV) or None
        if user and token:
            raise RemoteError(f"set either {USER_ENV}/{PASSWORD_ENV} or {TOKEN_ENV}, not both")
        if user and password is None:
            raise RemoteError(f"{USER_ENV} is set but {PASSWORD_ENV} is not")
        return cls(user, password if user else None, token)

    def header(self) -> str | None:
        """The ``Authorization`` header value, or None without credentials."""
        if self.token:
            return f"Bearer {self.token}"
        if self.user:
            pair = f"{self.user}:{self.password or ''}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        return None

    def hint(self) -> str:
        if self.token:
            return f"the token in {TOKEN_ENV} was not accepted"
        if self.user:
            return f"the credentials in {USER_ENV}/{PASSWORD_ENV} were not accepted"
        return f"set {USER_ENV} and {PASSWORD_ENV} (basic auth) or {TOKEN_ENV} (bearer token)"


def _check_url(url: str, what: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RemoteError(f"{what} {url!r} is not an http:// or https:// URL")
    if "@" in parts.netloc:
        raise RemoteError(
            f"{what} contains credentials; remove them from the URL and set "
            f"{USER_ENV}/{PASSWORD_ENV} or {TOKEN_ENV} instead"
        )
    return url


@dataclass(frozen=True)
class Endpoint:
    """Where a server answers: its query URL, and for writes its Graph Store and update URLs.

    ``graph`` is the named graph the data lives in (None: the default graph).
    ``store_url`` and ``update_url`` default to Oxigraph's layout (``/store``
    and ``/update`` beside ``/query``); other servers name them explicitly.
    """

    query_url: str
    graph: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    backoff: float = 0.5
    auth: Auth = field(default_factory=Auth.from_env, repr=False)
    store_url: str | None = None
    update_url: str | None = None

    def __post_init__(self) -> None:
        _check_url(self.query_url, "--endpoint")
        for url, what in ((self.store_url, "--store-endpoint"), (self.update_url, "--update-endpoint")):
            if url:
                _check_url(url, what)
        if self.graph is not None and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]*$", self.graph):
            raise RemoteError(f"--graph {self.graph!r} is not an IRI")
        if self.timeout <= 0:
            raise RemoteError("--timeout must be a positive number of seconds")

    def _sibling(self, name: str, option: str) -> str:
        parts = urllib.parse.urlsplit(self.query_url)
        if not parts.path.endswith("/query"):
            raise RemoteError(
                f"cannot tell the server's {name} URL from --endpoint {self.query_url}; pass {option} "
                "(Fuseki: http://HOST:3030/DATASET/" + ("data" if name == "Graph Store" else "update")
                + ", GraphDB: http://HOST:7200/repositories/REPO"
                + ("/rdf-graphs/service" if name == "Graph Store" else "/statements") + ")"
            )
        path = parts.path[: -len("query")] + ("store" if name == "Graph Store" else "update")
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))

    def graph_store(self) -> str:
        """The Graph Store HTTP Protocol URL (Oxigraph: ``/store`` beside ``/query``)."""
        return self.store_url or self._sibling("Graph Store", "--store-endpoint")

    def update(self) -> str:
        """The SPARQL Update URL (Oxigraph: ``/update`` beside ``/query``)."""
        return self.update_url or self._sibling("update", "--update-endpoint")


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, BaseException):
        text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    else:
        text = str(reason)
    return text


def _server_message(body: bytes, limit: int = 300) -> str:
    """The server's own words about an error, on one line (HTML tags dropped)."""
    text = body.decode("utf-8", errors="replace")
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_timeout(exc: BaseException) -> bool:
    reason = getattr(exc, "reason", None)
    return isinstance(exc, TimeoutError | socket.timeout) or isinstance(reason, TimeoutError | socket.timeout)


def send(endpoint: Endpoint, make_request: Callable[[], urllib.request.Request], what: str) -> Response:
    """Send one HTTP request with bounded retries; turn every failure into one plain line.

    Connection errors and 5xx answers are retried ``endpoint.retries`` times
    with exponential backoff (a server restarting or briefly overloaded);
    a timeout is not retried (the user already waited ``timeout`` seconds), nor
    is a 4xx (asking again would get the same answer).
    """
    attempts = max(endpoint.retries, 0) + 1
    last: RemoteError | None = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(endpoint.backoff * 2 ** (attempt - 1))
        request = make_request()
        url = request.full_url.split("?", 1)[0]
        header = endpoint.auth.header()
        if header:
            request.add_unredirected_header("Authorization", header)
        try:
            with urllib.request.urlopen(request, timeout=endpoint.timeout) as answer:
                body = answer.read()
                return Response(answer.status, answer.headers.get("Content-Type", ""), body)
        except urllib.error.HTTPError as exc:
            try:
                body = exc.read()
            except Exception:
                body = b""
            error = _http_error(endpoint, url, exc.code, body, what)
            if exc.code >= 500:
                last = error
                continue
            raise error from None
        except Exception as exc:
            if _is_timeout(exc):
                raise RemoteError(
                    f"the SPARQL server at {url} did not answer within {endpoint.timeout:g} s "
                    f"while {what} (raise --timeout or {TIMEOUT_ENV})"
                ) from None
            if isinstance(exc, urllib.error.URLError | ConnectionError | http.client.HTTPException | OSError):
                last = RemoteError(f"cannot reach the SPARQL server at {url}: {_reason(exc)} "
                                   f"(after {attempt + 1} attempt{'s' if attempt else ''})")
                continue
            raise
    assert last is not None
    raise last


def _http_error(endpoint: Endpoint, url: str, code: int, body: bytes, what: str) -> RemoteError:
    message = _server_message(body)
    said = f": {message}" if message else ""
    if code == 401:
        return RemoteError(f"the SPARQL server at {url} asks for credentials (HTTP 401): {endpoint.auth.hint()}")
    if code == 403:
        return RemoteError(f"the SPARQL server at {url} refused access (HTTP 403): "
                           f"the account lacks permission for {what}")
    if code == 404:
        return RemoteError(f"nothing answers at {url} (HTTP 404); check the URL "
                           "(Oxigraph: http://HOST:7878/query, Fuseki: http://HOST:3030/DATASET/query)")
    if code in (400, 422):
        return RemoteError(f"the server rejected the {what} (HTTP {code}){said}")
    return RemoteError(f"the SPARQL server at {url} failed while {what} (HTTP {code}){said}")


def _term(value: Mapping[str, str]) -> Node:
    kind = value.get("type")
    text = value.get("value", "")
    if kind == "uri":
        return URIRef(text)
    if kind == "bnode":
        return BNode(text)
    if kind in ("literal", "typed-literal"):
        lang = value.get("xml:lang") or value.get("lang")
        if lang:
            return Literal(text, lang=lang)
        datatype = value.get("datatype")
        if datatype and datatype != _XSD_STRING:
            return Literal(text, datatype=URIRef(datatype))
        return Literal(text)
    raise RemoteError(f"the server returned a term of unsupported type {kind!r}")


def plain_strings(graph: Graph) -> Graph:
    """Drop the redundant ``xsd:string`` datatype, as ``kg.graph.terms.to_rdflib`` does."""
    typed = [(s, p, o) for s, p, o in graph
             if isinstance(o, Literal) and o.datatype is not None and str(o.datatype) == _XSD_STRING]
    for s, p, o in typed:
        graph.remove((s, p, o))
        graph.add((s, p, Literal(str(o))))
    return graph


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def parse_results(response: Response, url: str) -> ResultTable | Graph | bool:
    """SPARQL JSON results or an RDF graph; anything else (an HTML page, say) is an error."""
    media = _media(response.content_type)
    not_results = RemoteError(
        f"the server at {url} answered with {media or 'no content type'}, not SPARQL results; "
        "is --endpoint the server's SPARQL query URL (Oxigraph: http://HOST:7878/query)?"
    )
    if media in ("application/sparql-results+json", "application/json"):
        try:
            doc = json.loads(response.body)
            if "boolean" in doc:
                return bool(doc["boolean"])
            variables = list(doc["head"].get("vars", []))
            rows = [{name: _term(value) for name, value in binding.items()}
                    for binding in doc["results"]["bindings"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise not_results from None
        return ResultTable(variables, rows)
    if media in _RDF_TYPES:
        formats = {"application/rdf+xml": "xml", "application/ld+json": "json-ld",
                   "application/n-triples": "nt", "text/plain": "nt"}
        graph = Graph()
        try:
            graph.parse(data=response.body, format=formats.get(media, "turtle"))
        except Exception:
            raise not_results from None
        return plain_strings(graph)
    raise not_results


class RemoteBackend(QueryForms):
    """The ``Backend`` protocol over a SPARQL 1.1 query endpoint."""

    def __init__(self, endpoint: Endpoint, query_timeout: float | None = None):
        self.endpoint = endpoint
        # The longest a query may take in all (None: no limit). ``endpoint.timeout``
        # bounds each wait on the network; whichever ends first stops the query.
        self.query_timeout = query_timeout

    def __repr__(self) -> str:
        return f"RemoteBackend({self.endpoint.query_url!r}, graph={self.endpoint.graph!r})"

    def _wrapper(self, text: str) -> SPARQLWrapper:
        wrapper = SPARQLWrapper(self.endpoint.query_url)
        wrapper.setMethod(POST)
        wrapper.setRequestMethod(URLENCODED)
        wrapper.setOnlyConneg(True)  # no non-standard format= parameter; Accept says it
        wrapper.setQuery(text)
        if self.endpoint.graph:
            wrapper.addDefaultGraph(self.endpoint.graph)
        wrapper.setReturnFormat(JSON if wrapper.queryType in ("SELECT", "ASK") else TURTLE)
        return wrapper

    def query_any(self, query: str, bindings: dict[str, Node] | None = None) -> ResultTable | Graph | bool:
        """Run a query of any read form on the server; refuse updates before sending anything."""
        if is_update(query):
            raise QueryRejected(
                "this is a SPARQL update; tradekg sparql only reads the graph "
                "(use push or load to change it)"
            )
        wrapper = self._wrapper(with_values(query, bindings))

        def ask_server(_cancelled: object) -> ResultTable | Graph | bool:
            response = send(self.endpoint, wrapper._createRequest, "query")
            return parse_results(response, self.endpoint.query_url)

        return run_with_deadline(ask_server, self.query_timeout)


    def all_triples(self) -> Graph:
        """Every triple of the graph read (the default graph, or ``--graph``)."""
        return self.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")

    def update(self, text: str) -> None:
        """Send one SPARQL Update request (used by push and load, never by readers)."""
        wrapper = SPARQLWrapper(self.endpoint.query_url, updateEndpoint=self.endpoint.update())
        wrapper.setMethod(POST)
        wrapper.setRequestMethod(URLENCODED)
        wrapper.setOnlyConneg(True)
        wrapper.setQuery(text)
        if not wrapper.isSparqlUpdateRequest():
            raise QueryRejected("not a SPARQL update")
        send(self.endpoint, wrapper._createRequest, "update")
