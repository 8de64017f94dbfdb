"""The web application: routes, templates, security headers and the token check.

Starlette (routing, requests, responses; a small, well-kept ASGI toolkit) with
Jinja2 templates (autoescaping on for every template) served by uvicorn.
Handlers are plain functions, which Starlette runs in its thread pool:
pyoxigraph releases the interpreter lock while it evaluates, so queries of
different requests run side by side. Every handler reads ``current.snapshot``
once and answers from that object only.

Read-only everywhere: pages answer GET and HEAD; ``/sparql`` also takes POST
for queries; any other method is refused with 405, and updates with 403
before they reach the engine.
"""

from __future__ import annotations

import hmac
import io
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from rdflib import Graph
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from kg.answers.queries import BadParameter, find_query, run_saved, saved_queries
from kg.answers.render import render_csv, render_json
from kg.answers.resolve import Ambiguous
from kg.errors import NotFound, TradekgError
from kg.graph.backend import QueryRejected, QueryTimeout, ResultTable
from kg.graph.sparqltext import with_default_prefixes
from kg.namespaces import PREFIXES, bind_prefixes
from kg.serve import described, pictures, reconcile, views
from kg.serve.snapshot import Current, LRUCache, Snapshot
from kg.serve.sparql import (
    REFUSED,
    Answer,
    ProtocolError,
    cached_answer,
    evaluate,
    keep_answer,
    refuse_updates,
)
from kg.serve.workers import Busy, ChildError, Pool, Stopped

HERE = Path(__file__).resolve().parent
log = logging.getLogger("tradekg.serve")
TOKEN_COOKIE = "tradekg_token"
# Pages another page may frame: the graph picture (our own), the reconciliation preview (OpenRefine's).
_FRAMED = ("/graph/", "/reconcile/preview")

# Pages run no script of their own (the graph frame is the export's page with its own policy).
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'self'; connect-src 'none'; object-src 'none'")
MAX_QUERY_CHARS = 1_000_000
MAX_BODY_BYTES = MAX_QUERY_CHARS * 4  # any request's body (a query of MAX_QUERY_CHARS in UTF-8 fits)

_templates = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                         autoescape=select_autoescape(default=True, default_for_string=True))
_templates.filters["dates"] = views.keep_dates
_templates.filters["iri"] = views.breakable_iri


class Server:
    """State shared by the handlers: the current snapshot, the query deadline and the worker pool."""

    def __init__(self, current: Current, timeout: float | None, pool: Pool | None = None):
        self.current = current
        self.timeout = timeout
        self.pool = pool  # None: the work runs in the server's threads (no deadline stops it)
        self.handlers: dict[str, Callable[[Request], Response]] = {}  # what a worker may be asked to run
        self.functions: dict[str, Callable[..., Any]] = {}  # and the plain functions of the graph it may call
        self.router: Any = None  # the application's router, for url_for in a worker
        self.described: Callable[[Request], Response] = self.service_description  # create_app offloads it

    # -- work a deadline can stop ------------------------------------------------

    def warm_up(self) -> None:
        """Make, once in the server, what every page would otherwise make again in its worker process:
        the compiled templates (470 ms on this machine), the modules a page imports on first use
        (result writers, rdflib's Turtle serialiser) and the caches a first page fills."""
        for name in _templates.list_templates():
            if name.endswith(".html"):
                _templates.get_template(name)
        snapshot = self.current.snapshot
        if not snapshot.in_memory:  # (the graph parts would build the search index from disk: seconds)
            return
        try:
            found = list(snapshot.store.query(
                "SELECT ?s WHERE { ?s a <https://w3id.org/tradekg/ontology#Company> } LIMIT 1"))
            if found:
                iri = found[0]["s"].value
                self._entity(snapshot, iri)
                run_saved(find_query("firm-timeline"), {"firm": iri}, snapshot.backend)
            views.search_index(snapshot).search("a")
            render_csv(ResultTable(["a"]), io.StringIO())
            render_json(ResultTable(["a"]), io.StringIO())
            bind_prefixes(Graph()).serialize(format="turtle")
        except Exception as exc:  # a graph without companies or queries: nothing to warm
            log.debug("warm-up: %s", exc)

    def offloaded(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """``handler`` run in a worker process (kg.serve.workers): stopped at the deadline, memory bounded."""
        name = f"{handler.__module__}.{handler.__qualname__}"
        self.handlers[name] = handler

        def run(request: Request) -> Response:
            snapshot = self.current.snapshot
            if self.pool is None or not snapshot.in_memory:  # (a RocksDB handle must not cross a fork)
                return handler(request)
            scope = {key: request.scope[key] for key in _SCOPE_KEYS if key in request.scope}
            try:
                status, headers, body = self._in_worker(snapshot, ("page", name, scope), "the page")
            except Busy as exc:
                return self.error(snapshot, 503, "Busy", "The server is answering as many requests as it may at "
                                  f"once. Try again in {exc.retry_after} s.",
                                  headers={"Retry-After": str(exc.retry_after)})
            except Stopped as exc:
                return self.error(snapshot, 503, "Too slow" if exc.reason == "deadline" else "Too big",
                                  exc.message)
            except ChildError as exc:
                log.error("%s failed: %s: %s", request.url.path, exc.kind, exc.message)
                return self.error(snapshot, 500, "Something went wrong", "This page could not be made.")
            response = Response(body, status_code=status)
            response.raw_headers = headers
            return response

        return run

    def called(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function(snapshot, *args)`` run in a worker process, for work that reads a request's body first
        (``/reconcile``): its value, or ``Busy``, ``Stopped`` or ``ChildError`` (an exception it raised)."""
        name = f"{function.__module__}.{function.__qualname__}"
        self.functions[name] = function

        def run(*args: Any) -> Any:
            snapshot = self.current.snapshot
            if self.pool is None or not snapshot.in_memory:
                return function(snapshot, *args)
            return self._in_worker(snapshot, ("call", name, args), "the answer")

        return run

    def _in_worker(self, snapshot: Snapshot, message: tuple[Any, ...], label: str) -> Any:
        assert self.pool is not None
        return self.pool.run((snapshot.version, snapshot.loaded_at), lambda: _worker_ready(self, snapshot),
                             self._serve, message, self.timeout, label)

    def _serve(self, message: tuple[Any, ...]) -> Any:
        """In a worker: one page or one protocol query, as plain values."""
        if message[0] == "page":
            _, name, scope = message
            request = Request({**scope, "router": self.router})
            return _frozen(self.handlers[name](request))
        if message[0] == "call":
            _, name, args = message
            return self.functions[name](self.current.snapshot, *args)
        _, text, accept, default_graphs, named_graphs = message
        return evaluate(self.current.snapshot, text, accept, default_graphs=default_graphs,
                        named_graphs=named_graphs, timeout=None)

    def _evaluate(self, snapshot: Snapshot, text: str, accept: str, default_graphs: list[str] | None,
                  named_graphs: list[str] | None) -> Answer:
        """A protocol answer, from the answer cache or a worker (``ProtocolError`` for every refusal)."""
        if self.pool is None or not snapshot.in_memory:
            return evaluate(snapshot, text, accept, default_graphs=default_graphs, named_graphs=named_graphs,
                            timeout=self.timeout)
        refuse_updates(text)
        known = cached_answer(snapshot, text, accept, default_graphs, named_graphs)
        if known is not None:
            return known
        try:
            answer = self._in_worker(snapshot, ("sparql", text, accept, default_graphs, named_graphs), "the query")
        except Busy as exc:
            raise ProtocolError(503, "the server is answering as many queries as it may at once; try again",
                                retry_after=exc.retry_after) from None
        except Stopped as exc:
            raise ProtocolError(400, exc.message) from None
        except ChildError as exc:
            raise ProtocolError(exc.detail or 500, exc.message) from None
        keep_answer(snapshot, text, accept, default_graphs, named_graphs, answer)
        return answer  # type: ignore[no-any-return]

    # -- helpers -------------------------------------------------------------

    def page(self, snapshot: Snapshot, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """``template`` rendered for ``snapshot``; pages of an on-disk snapshot carry ``LOADING_MARK``."""
        html = _templates.get_template(template).render(version=snapshot.version, triples=snapshot.triples,
                                                        status=status, loading=not snapshot.in_memory, **values)
        return HTMLResponse(html, status_code=status)

    def error(self, snapshot: Snapshot, status: int, heading: str, message: str,
              headers: dict[str, str] | None = None) -> HTMLResponse:
        response = self.page(snapshot, "error.html", status, heading=heading, message=message)
        response.headers.update(headers or {})
        return response

    async def not_found(self, request: Request, exc: Exception) -> Response:
        """Starlette's 404 and 405 (no such route, or a method a route does not take) as pages."""
        status = getattr(exc, "status_code", 404)
        if status == 405:
            return PlainTextResponse("this server only reads the graph", status_code=405,
                                     headers=getattr(exc, "headers", None))
        return self.error(self.current.snapshot, 404, "No such page",
                          "There is nothing at this address. Search for a name, or start from the home page.")

    # -- pages ---------------------------------------------------------------

    def home(self, request: Request) -> Response:
        snapshot = self.current.snapshot
        return self.page(snapshot, "home.html", queries=list(saved_queries().values()))

    def queries(self, request: Request) -> Response:
        snapshot = self.current.snapshot
        return self.page(snapshot, "queries.html", queries=list(saved_queries().values()))

    def service_description(self, request: Request) -> Response:
        """The SPARQL 1.1 Service Description of ``/sparql`` (what a GET without a query answers)."""
        endpoint = str(request.url_for("sparql"))
        return described.rdf_response(request, described.sd_graph(self.current.snapshot, request, endpoint))

    def _changes(self, request: Request) -> dict[str, Any]:
        """What changed (``kg.monitor.changes.feed``), for ?since=VERSION|DATE, ?version=N, ?source=NAME."""
        from kg.monitor import changes as changing
        from kg.monitor.update import SOURCE_NAMES

        params = request.query_params
        since = params.get("since") or None
        version = params.get("version") or None
        source = params.get("source") or None
        if version is not None and not version.isdigit():
            raise TradekgError(f"version must be a version number, not {version[:40]!r}")
        if source is not None and source not in SOURCE_NAMES:
            raise TradekgError(f"source must be one of {', '.join(SOURCE_NAMES)}")
        snapshot = self.current.snapshot

        def make() -> dict[str, Any]:
            try:
                return changing.feed(self.current.store, since, int(version) if version else None, source)
            except TradekgError as exc:
                if since or version:
                    raise
                return {"compared": f"nothing yet: {exc}", "current_version": None, "updates": [], "events": []}

        return snapshot.cached(("changes", since, version, source), make)  # type: ignore[no-any-return]

    def changes_page(self, request: Request) -> Response:
        from kg.monitor.update import sources_table

        snapshot = self.current.snapshot
        try:
            feed = self._changes(request)
        except TradekgError as exc:
            return self.error(snapshot, 400, "Cannot show these changes", str(exc))
        counts: dict[str, int] = {}
        for event in feed["events"]:
            counts[event["event"]] = counts.get(event["event"], 0) + 1
        return self.page(snapshot, "changes.html", feed=feed, counts=counts, sources=sources_table(self.current.store),
                         query=urlencode({k: v for k, v in request.query_params.items()
                                          if k in ("since", "version", "source")}))

    def changes_feed(self, request: Request) -> Response:
        import json

        try:
            feed = self._changes(request)
        except TradekgError as exc:
            return PlainTextResponse(str(exc), status_code=400)
        return _cors(Response(json.dumps(feed, ensure_ascii=False, indent=1), media_type="application/json"))

    def search(self, request: Request) -> Response:
        snapshot = self.current.snapshot
        q = request.query_params.get("q", "")[:500]
        hits, total = views.search_index(snapshot).search(q)
        return self.page(snapshot, "search.html", q=q, hits=hits, total=total)

    def entity(self, request: Request) -> Response:
        snapshot = self.current.snapshot
        # The raw path: an IRI with %-escapes must reach the store exactly as minted.
        raw = request.scope.get("raw_path") or request.url.path.encode()
        iri = views.local_iri(raw.decode("latin-1").split("?", 1)[0])
        return self._entity(snapshot, iri, request.query_params.get("on"))

    def resource(self, request: Request) -> Response:
        snapshot = self.current.snapshot
        return self._entity(snapshot, request.query_params.get("iri", ""), request.query_params.get("on"))

    def _entity(self, snapshot: Snapshot, iri: str, on: str | None = None) -> Response:
        if not views.exists(snapshot, iri):
            return self.error(snapshot, 404, "Not in the graph",
                              f"The graph says nothing about {iri}. Search for a name instead.")
        if on and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", on.strip()):
            return self.error(snapshot, 400, "Not a date", f"on={on!r}: give the date as YYYY-MM-DD.")
        try:
            page = views.entity_page(snapshot, iri, on.strip() if on else None)
        except QueryTimeout as exc:
            return self.error(snapshot, 503, "Too slow", str(exc))
        return self.page(snapshot, "entity.html", page=page)

    def timeline(self, request: Request) -> Response:
        snapshot = self.current.snapshot
        iri = views.local_iri(request.path_params["path"].removesuffix(".svg"))
        if not views.exists(snapshot, iri):
            return PlainTextResponse("not in the graph", status_code=404)
        try:
            svg = pictures.timeline_svg(snapshot, iri)
        except TradekgError as exc:
            return PlainTextResponse(str(exc), status_code=404)
        return Response(svg, media_type="image/svg+xml",
                        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})

    def graph(self, request: Request) -> Response:
        snapshot = self.current.snapshot
        iri = views.local_iri(request.path_params["path"])
        if not views.exists(snapshot, iri):
            return self.error(snapshot, 404, "Not in the graph", f"The graph says nothing about {iri}.")
        try:
            depth = min(max(int(request.query_params.get("depth", "1")), 0), 3)
        except ValueError:
            depth = 1
        try:
            html, csp = pictures.graph_page(snapshot, iri, depth)
        except TradekgError as exc:
            return self.error(snapshot, 404, "No picture", str(exc))
        # The export page's own policy, sent as a header too, and only this site may frame it.
        return HTMLResponse(html, headers={"Content-Security-Policy": f"{csp}; frame-ancestors 'self'"})

    # -- saved queries -------------------------------------------------------

    def _run_saved(self, snapshot: Snapshot, request: Request) -> tuple[Any, dict[str, str], ResultTable | None,
                                                                         str | None]:
        name = request.path_params["name"]
        saved = find_query(name)
        values = {k: v for k, v in request.query_params.items() if v.strip() and k != "token"}
        ready = bool(values) or not any(p.required for p in saved.parameters)
        if not ready:
            return saved, values, None, None
        try:
            return saved, values, run_saved(saved, values, snapshot.backend), None
        except (NotFound, Ambiguous, BadParameter, QueryRejected, QueryTimeout) as exc:
            return saved, values, None, str(exc)

    def query_page(self, request: Request) -> Response:
        snapshot = self.current.snapshot
        name = request.path_params["name"]
        for suffix, kind in ((".csv", "csv"), (".json", "json")):
            if name.endswith(suffix):
                request.path_params["name"] = name[: -len(suffix)]
                return self.download(snapshot, request, kind)
        try:
            saved, values, result, error = self._run_saved(snapshot, request)
        except NotFound as exc:
            return self.error(snapshot, 404, "No such query", str(exc))
        return self.page(snapshot, "query.html", status=400 if error else 200, query=saved, values=values,
                         error=error, result=views.html_table(result) if result is not None else None,
                         csv_url=views.query_url(saved.name, values, ".csv"),
                         json_url=views.query_url(saved.name, values, ".json"))

    def download(self, snapshot: Snapshot, request: Request, kind: str) -> Response:
        try:
            saved, _, result, error = self._run_saved(snapshot, request)
        except NotFound as exc:
            return PlainTextResponse(str(exc), status_code=404)
        if error or result is None:
            return PlainTextResponse(error or "this query needs parameters", status_code=400)
        buffer = io.StringIO()
        (render_csv if kind == "csv" else render_json)(result, buffer)
        media = "text/csv; charset=utf-8" if kind == "csv" else "application/json"
        filename = f"{saved.name}.{kind}"
        return Response(buffer.getvalue(), media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    # -- SPARQL ----------------------------------------------------------------

    async def sparql(self, request: Request) -> Response:
        snapshot = self.current.snapshot
        params = {k: request.query_params.getlist(k) for k in request.query_params}
        text: str | None = None
        if request.method == "POST":
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            body = await _bounded_body(request, MAX_QUERY_CHARS * 4)
            if body is None:
                return PlainTextResponse(f"the request is too large (at most {MAX_QUERY_CHARS * 4:,} bytes)",
                                         status_code=413)
            if media == "application/sparql-update":
                return _cors(PlainTextResponse(REFUSED, status_code=403))
            if media == "application/sparql-query":
                text = body.decode("utf-8", errors="replace")
            elif media == "application/x-www-form-urlencoded":
                for key, items in parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True).items():
                    params.setdefault(key, []).extend(items)
            else:
                return _cors(PlainTextResponse(
                    "POST a query as application/x-www-form-urlencoded (query=...) or application/sparql-query",
                    status_code=415))
        if "update" in params or "using-graph-uri" in params:
            return _cors(PlainTextResponse(REFUSED, status_code=403))
        if text is None:
            queries = params.get("query", [])
            if len(queries) > 1:
                return _cors(PlainTextResponse("give one query parameter", status_code=400))
            text = queries[0] if queries else None
        if text is None:
            if "text/html" in request.headers.get("accept", ""):
                return self.page(snapshot, "sparql.html", text=_EXAMPLE, endpoint=str(request.url_for("sparql")),
                             prefixes=_PREFIX_NAMES,
                                 result=None, boolean=None, graph_text=None, error=None, downloads=[])
            if request.method == "POST":
                return _cors(PlainTextResponse("pass the query as query=... (SPARQL 1.1 Protocol)", status_code=400))
            # GET without a query: the endpoint describes itself (SPARQL 1.1 Service Description).
            return await _in_thread(lambda: self.described(request))  # type: ignore[no-any-return]
        if len(text) > MAX_QUERY_CHARS:
            return _cors(PlainTextResponse("the query is too long", status_code=413))
        if request.method == "GET" and not params.get("format") and _wants_html(request):
            # A query address opened in a browser: the results page, not the engine's raw answer.
            return RedirectResponse("/sparql/results?" + urlencode({"query": text}), status_code=303)
        accept = (params.get("format") or [request.headers.get("accept", "")])[0]
        try:
            answer = await _in_thread(lambda: self._evaluate(
                snapshot, text, accept, params.get("default-graph-uri"), params.get("named-graph-uri")))
        except ProtocolError as exc:
            busy = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
            return _cors(PlainTextResponse(exc.message, status_code=exc.status, headers=busy))
        media = answer.media_type + ("; charset=utf-8" if answer.media_type.startswith("text/") else "")
        return _cors(Response(answer.body, media_type=media, headers={"Vary": "Accept"}))

    def sparql_options(self, request: Request) -> Response:
        return _cors(Response(status_code=204))

    def sparql_results(self, request: Request) -> Response:
        snapshot = self.current.snapshot
        text = request.query_params.get("query", "")[:MAX_QUERY_CHARS]
        values: dict[str, Any] = {"text": text, "endpoint": str(request.url_for("sparql")), "prefixes": _PREFIX_NAMES,
                                  "result": None,
                                  "boolean": None, "graph_text": None, "error": None, "downloads": []}
        status = 200
        try:
            refuse_updates(text)
            # The prefixes `tradekg sparql` declares, declared here too; errors worded as it words them.
            answer = snapshot.backend.query_any(with_default_prefixes(text))
        except ProtocolError as exc:
            values["error"], status = exc.message, exc.status
        except (QueryRejected, QueryTimeout) as exc:
            values["error"], status = str(exc), 400
        else:
            q = urlencode({"query": text})
            if isinstance(answer, bool):
                values["boolean"] = answer
            elif isinstance(answer, Graph):
                turtle = bind_prefixes(answer).serialize(format="turtle")
                values["graph_text"] = turtle if len(turtle) < 200_000 else turtle[:200_000] + "\n…"
                values["downloads"] = [("Turtle", f"/sparql?{q}&format=turtle"),
                                       ("N-Triples", f"/sparql?{q}&format=nt")]
            else:
                values["result"] = views.html_table(answer)
                values["downloads"] = [(label, f"/sparql?{q}&format={fmt}") for label, fmt in
                                       (("CSV", "csv"), ("TSV", "tsv"), ("JSON", "json"), ("XML", "xml"))]
        return self.page(snapshot, "sparql.html", status=status, **values)


_PREFIX_NAMES = ", ".join(f"{p}:" for p in PREFIXES)
_EXAMPLE = """SELECT ?rule ?label WHERE {
  ?rule a tkg:Rule ; rdfs:label ?label .
}
ORDER BY ?label
LIMIT 50"""


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is over ``limit`` bytes: by its Content-Length before
    anything is read, else while it streams (a 400 MB POST took the server to 890 MB before its 413)."""
    declared = request.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _frozen(response: Response) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """A response as plain values, to cross from a worker process."""
    return response.status_code, list(response.raw_headers), bytes(response.body)


# What a page handler reads of its request's scope (the rest is the server's: router, app, state).
_SCOPE_KEYS = ("type", "http_version", "method", "scheme", "path", "raw_path", "root_path", "query_string",
               "headers", "server", "client", "path_params")


def _worker_ready(server: Server, snapshot: Snapshot) -> None:
    """In a new worker, before its first request: it serves ``snapshot`` only, with new locks for what
    other threads may have held at the fork, and no deadline thread per query (the server's deadline
    kills the whole worker)."""
    server.current._snapshot = snapshot
    snapshot.lock = threading.Lock()
    for value in list(snapshot.cache.values()):
        if isinstance(value, LRUCache):
            value._lock = threading.Lock()
    snapshot.backend.timeout = None
    cache = getattr(_templates, "cache", None)
    if cache is not None and hasattr(cache, "_wlock"):
        cache._wlock = threading.Lock()


def _wants_html(request: Request) -> bool:
    """A browser's Accept header: text/html before any SPARQL result or RDF type."""
    from kg.serve.sparql import accepted

    for media in accepted(request.headers.get("accept", "")):
        if media in ("text/html", "application/xhtml+xml"):
            return True
        if media != "*/*" and not media.startswith("image/"):
            return False
    return False


async def _in_thread(work: Callable[[], Any]) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(work)


def _cors(response: Response) -> Response:
    """What a browser may send to the protocol endpoint; whether another origin may read the answer
    is the Guard's decision (``--cors``)."""
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, Authorization"
    return response


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "ip6-localhost"})


def _host_name(value: str) -> str:
    """The name in a Host header or an origin's authority, without its port, lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Guard:
    """ASGI middleware: read-only methods, the token (when one is set), Host and Origin, security headers.

    On loopback without a token, anything that can reach 127.0.0.1 can read
    the server, and a web page in the user's browser can too: through
    DNS rebinding (its own name pointed at 127.0.0.1, so the browser calls it
    same-origin) or by asking cross-origin. So there only the server's own
    names are answered (``hosts``), and a request from another origin (its
    ``Origin`` header) is refused unless that origin was named with
    ``--cors``; only those get ``Access-Control-Allow-Origin``.
    """

    def __init__(self, app: ASGIApp, token: str | None, hosts: frozenset[str] | None = None,
                 cors: frozenset[str] = frozenset()):
        self.app = app
        self.token = token
        self.hosts = hosts  # None: any Host (a token guards the server, or --public)
        self.cors = cors

    def _foreign(self, scope: Scope, request: Request) -> Response | None:
        """A refusal for a Host this server is not, or an Origin it was not told to answer."""
        host = request.headers.get("host", "")
        if self.hosts is not None and host and _host_name(host) not in self.hosts:
            return PlainTextResponse(
                f"this server answers only to its own address ({', '.join(sorted(self.hosts))}), "
                "not to the name this request was sent to", status_code=403)
        origin = request.headers.get("origin")
        if origin is None:
            # A browser sends no Origin when another site's page loads this server's answer as a
            # script or an image (JSONP from /reconcile would hand it over); it says so in
            # Sec-Fetch-Site. Following a link (navigate) stays allowed.
            fetched_from = request.headers.get("sec-fetch-site", "").lower()
            embedded = request.headers.get("sec-fetch-mode", "").lower() not in ("", "navigate")
            if fetched_from == "cross-site" and embedded and "*" not in self.cors:
                return PlainTextResponse(
                    "this server does not answer requests from other web sites; to let one read it, "
                    "start it with --cors ORIGIN", status_code=403)
            return None
        if self._allowed_origin(origin, host):
            return None
        return PlainTextResponse(
            "this server does not answer requests from other web sites; to let one read it, start it "
            f"with --cors {origin if origin.startswith('http') else 'ORIGIN'}", status_code=403)

    def _allowed_origin(self, origin: str, host: str) -> bool:
        return self._same_origin(origin, host) or "*" in self.cors or origin.strip().lower() in self.cors

    @staticmethod
    def _same_origin(origin: str, host: str) -> bool:
        origin, host = origin.strip().lower(), host.strip().lower()
        return bool(host) and origin in (f"http://{host}", f"https://{host}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        method = scope["method"]
        refusal = self._foreign(scope, request)
        declared = request.headers.get("content-length", "").strip()
        if refusal is None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            # Refused from the header, before a byte of the body is read (a 400 MB POST grew the
            # server to 890 MB before its 413); /sparql also counts the bytes of a body sent in chunks.
            refusal = PlainTextResponse(f"the request is too large (at most {MAX_BODY_BYTES:,} bytes)",
                                        status_code=413)
        if refusal is not None:
            await self._send(refusal, scope, receive, send)
            return
        origin = request.headers.get("origin")
        cross = origin is not None and not self._same_origin(origin, request.headers.get("host", ""))
        allowed = ("GET", "HEAD", "POST", "OPTIONS") if scope["path"] == "/sparql" else \
            ("GET", "HEAD", "POST") if scope["path"] == "/reconcile" else ("GET", "HEAD")
        if method not in allowed:
            response: Response = PlainTextResponse("this server only reads the graph", status_code=405,
                                                   headers={"Allow": ", ".join(allowed)})
            await self._send(response, scope, receive, send)
            return
        if self.token and not (method == "OPTIONS" and scope["path"] == "/sparql"):
            given = request.query_params.get("token")
            if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
                # Trade the token in the address for a cookie, and drop it from the address.
                rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
                response = RedirectResponse(scope["path"] + (f"?{rest}" if rest else ""), status_code=303)
                response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                await self._send(response, scope, receive, send)
                return
            if not self._authorised(request):
                response = PlainTextResponse(
                    "this server needs its token: send 'Authorization: Bearer TOKEN', "
                    "or open any page once with ?token=TOKEN", status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="tradekg"'})
                await self._send(response, scope, receive, send)
                return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", PAGE_CSP.encode()))
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                if cross and scope["path"] in ("/sparql", "/reconcile") and origin is not None:
                    allowed = b"*" if "*" in self.cors else origin.encode("latin-1")
                    headers += [(b"access-control-allow-origin", allowed), (b"vary", b"Origin")]
                if b"x-frame-options" not in names and not scope["path"].startswith(_FRAMED):
                    headers.append((b"x-frame-options", b"DENY"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _authorised(self, request: Request) -> bool:
        assert self.token is not None
        header = request.headers.get("authorization", "")
        match = re.match(r"^Bearer\s+(\S+)$", header)
        candidates = [match.group(1)] if match else []
        cookie = request.cookies.get(TOKEN_COOKIE)
        if cookie:
            candidates.append(cookie)
        return any(hmac.compare_digest(c.encode(), self.token.encode()) for c in candidates)

    async def _send(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        response.headers.setdefault("content-security-policy", PAGE_CSP)
        await response(scope, receive, send)


def create_app(current: Current, *, timeout: float | None, token: str | None = None,
               hosts: frozenset[str] | None = None, cors: frozenset[str] = frozenset(),
               pool: Pool | None = None) -> ASGIApp:
    """The whole application over ``current`` (which the caller starts watching).

    ``hosts``: the Host names answered (None: any); ``cors``: the origins
    that may read it from a browser ("*" for any); ``pool``: the worker
    processes that run every page and query that reads the graph (None: the
    server's own threads, where a deadline stops the answer but not the work).
    """
    server = Server(current, timeout, pool)
    if pool is not None:
        server.warm_up()
    work = server.offloaded  # a handler that reads the graph runs in a worker process
    server.described = work(server.service_description)
    routes = [
        Route("/", server.home),
        Route("/queries", server.queries),
        Route("/search", work(server.search)),
        Route("/changes", work(server.changes_page)),
        Route("/changes.json", work(server.changes_feed)),
        Route("/sparql", server.sparql, methods=["GET", "POST"], name="sparql"),
        Route("/sparql", server.sparql_options, methods=["OPTIONS"]),
        Route("/sparql/results", work(server.sparql_results)),
        Route("/query/{name}", work(server.query_page)),
        Route("/resource", work(server.resource)),
        Route("/timeline/{path:path}", work(server.timeline)),
        Route("/graph/{path:path}", work(server.graph)),
        Route("/id/{rest:path}", work(server.entity)),
        Route("/concept/{rest:path}", work(server.entity)),
        *reconcile.routes(current, work, server.called),
        *described.routes(current, work),
    ]
    app = Starlette(routes=routes, exception_handlers={404: server.not_found, 405: server.not_found})
    server.router = app.router
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    return Guard(app, token, hosts, frozenset(o.lower().rstrip("/") for o in cors))
