"""``push``: upload the built, validated graph to a SPARQL server."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg.cli.common import F, handle_errors, open_store, store_option
from kg.graph.remote import (
    DEFAULT_TIMEOUT,
    ENDPOINT_ENV,
    GRAPH_ENV,
    STORE_ENDPOINT_ENV,
    TIMEOUT_ENV,
    UPDATE_ENDPOINT_ENV,
    Endpoint,
)
from kg.pipeline.push import DEFAULT_CHUNK, MODES
from kg.pipeline.push import push as push_graph


def write_endpoint_options(func: F) -> F:
    """Where a server takes writes: Graph Store and update URLs beside the query URL."""
    func = click.option(
        "--update-endpoint", "update_endpoint", envvar=UPDATE_ENDPOINT_ENV, default=None, metavar="URL",
        show_envvar=True,
        help="SPARQL Update URL (default: /update beside an Oxigraph /query URL).",
    )(func)
    return click.option(
        "--store-endpoint", "store_endpoint", envvar=STORE_ENDPOINT_ENV, default=None, metavar="URL",
        show_envvar=True,
        help="Graph Store Protocol URL (default: /store beside an Oxigraph /query URL).",
    )(func)


@click.command()
@click.option("--endpoint", envvar=ENDPOINT_ENV, required=True, metavar="URL", show_envvar=True,
              help="SPARQL 1.1 query URL of the server (Oxigraph: http://HOST:7878/query).")
@write_endpoint_options
@click.option("--graph", "graph_iri", envvar=GRAPH_ENV, default=None, metavar="IRI", show_envvar=True,
              help="Named graph to write (default: the server's default graph).")
@click.option("--mode", type=click.Choice(MODES), default="replace", show_default=True,
              help="replace: the target becomes exactly the built graph; add: add to what it holds.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=DEFAULT_CHUNK, show_default=True,
              help="Triples per HTTP request.")
@click.option("--timeout", type=float, envvar=TIMEOUT_ENV, default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds to wait for each request.")
@store_option
@handle_errors
def push(endpoint: str, store_endpoint: str | None, update_endpoint: str | None, graph_iri: str | None,
         mode: str, chunk_size: int, timeout: float, store_path: Path | None) -> None:
    """Upload the built graph to a SPARQL 1.1 server, all or nothing.

    The graph travels in chunks (Graph Store HTTP Protocol) into a staging
    graph, then one SPARQL Update moves it into place, so readers of the
    target see the old graph or the new one, never half. Credentials come
    from TRADEKG_USER/TRADEKG_PASSWORD or TRADEKG_TOKEN, never from options.

    \b
    Examples:
      tradekg push --endpoint http://127.0.0.1:7878/query
      tradekg push --endpoint http://127.0.0.1:7878/query --graph https://example.org/tradekg
      tradekg push --endpoint http://fuseki:3030/tradekg/query \\
          --store-endpoint http://fuseki:3030/tradekg/data \\
          --update-endpoint http://fuseki:3030/tradekg/update --graph https://example.org/tradekg
    """
    store = open_store(store_path)
    target = Endpoint(endpoint, graph=graph_iri or None, timeout=timeout, store_url=store_endpoint,
                      update_url=update_endpoint)
    target.graph_store()  # fail now on an unknown layout, before reading anything
    target.update()
    total = len(store.open_read())
    if sys.stderr.isatty():
        with click.progressbar(length=total, label="pushing", file=sys.stderr, show_pos=True) as bar:
            outcome = push_graph(store, target, mode, chunk_size, progress=bar.update)
    else:
        outcome = push_graph(store, target, mode, chunk_size)
    held = f"; it holds {outcome.server_triples} triples" if outcome.server_triples is not None else ""
    click.echo(f"pushed {outcome.triples} triples in {outcome.chunks} request"
               f"{'s' if outcome.chunks != 1 else ''} ({outcome.seconds:.1f} s) to {outcome.target} "
               f"({mode}) at {endpoint}{held}")
    if outcome.leftover:
        click.echo(f"warning: could not drop the staging graph <{outcome.leftover}>; "
                   "drop it when the server answers again", err=True)
