"""The dataset described where linked-data clients look: VoID, DCAT and the SPARQL service description.

``/.well-known/void`` (RFC 5785's VoID location) and ``/dcat`` answer the
descriptions ``tradekg export void|dcat`` writes, with this server's own
endpoint and dump address in them; ``/sparql`` requested without a query
answers its SPARQL 1.1 Service Description (``app.Server.sparql``). Each is
computed once per store version.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rdflib import Graph
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kg.export.describe import dcat_graph, service_description, void_graph
from kg.graph.store import read_manifest
from kg.serve.snapshot import Snapshot
from kg.serve.sparql import choose

_RDF = {"text/turtle": "turtle", "application/x-turtle": "turtle", "application/rdf+xml": "xml",
        "application/n-triples": "nt", "text/plain": "nt", "application/ld+json": "json-ld"}


def rdf_response(request: Request, graph: Graph) -> Response:
    """``graph`` in the RDF syntax the Accept header asks for (Turtle by default)."""
    media = choose(request.headers.get("accept", ""), _RDF, "text/turtle")
    body = graph.serialize(format=_RDF[media])
    response = Response(body, media_type=media + ("; charset=utf-8" if media.startswith("text/") else ""),
                        headers={"Vary": "Accept", "Access-Control-Allow-Origin": "*"})
    return response


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def sd_graph(snapshot: Snapshot, request: Request, endpoint: str) -> Graph:
    return snapshot.cached(("sd", endpoint), lambda: service_description(  # type: ignore[no-any-return]
        endpoint, snapshot.backend, _base(request)))


def routes(current: Any, work: Callable[[Callable[[Request], Response]], Callable[[Request], Response]]
           = lambda handler: handler) -> list[Route]:
    """``/.well-known/void`` and ``/dcat`` over ``current`` (``kg.serve.snapshot.Current``); ``work`` runs a
    handler where a deadline can stop it (``kg.serve.app.Server.offloaded``)."""

    def void(request: Request) -> Response:
        snapshot: Snapshot = current.snapshot
        base = _base(request)
        graph = snapshot.cached(("void", base), lambda: void_graph(snapshot.backend, base))
        return rdf_response(request, graph)

    def dcat(request: Request) -> Response:
        snapshot: Snapshot = current.snapshot
        base = _base(request)

        def make() -> Graph:
            manifest = read_manifest(Path(snapshot.source)) if snapshot.source else None
            return dcat_graph(snapshot.backend, (manifest or {}).get("ledger", []), base)

        return rdf_response(request, snapshot.cached(("dcat", base), make))

    void_page = work(void)
    return [Route("/.well-known/void", void_page), Route("/void", void_page), Route("/dcat", work(dcat))]
