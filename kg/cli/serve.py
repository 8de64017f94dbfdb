"""``tradekg serve``: the graph in a browser and on the SPARQL protocol (kg/serve/).

The web stack is imported inside the command, so every other command starts
as fast as before.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path

import click

from kg.cli.common import handle_errors, open_store, query_timeout_option, service_option, store_option
from kg.errors import TradekgError

TOKEN_ENV = "TRADEKG_SERVE_TOKEN"


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve_token(host: str, public: bool) -> str | None:
    """The token requests must carry: none on loopback or with --public, else TRADEKG_SERVE_TOKEN."""
    token = os.environ.get(TOKEN_ENV, "").strip() or None
    if is_loopback(host) or public:
        return token
    if not token:
        raise TradekgError(
            f"--host {host} lets other machines in; set {TOKEN_ENV} to a secret that requests must carry "
            "(or pass --public to serve everyone without one)")
    if len(token) < 16:
        raise TradekgError(f"{TOKEN_ENV} is too short to guess-proof a server: use 16 characters or more")
    return token


def _origin(value: str) -> str:
    """A web origin as browsers send it (scheme://host[:port]), or '*'."""
    value = value.strip().rstrip("/").lower()
    if value == "*" or re.fullmatch(r"https?://[^/\s?#]+", value):
        return value
    raise TradekgError(f"--cors {value!r}: name an origin as scheme://host[:port] (https://yasgui.example), or '*'")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs TRADEKG_SERVE_TOKEN or --public.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--public", is_flag=True, help="Serve without a token on a non-loopback address.")
@click.option("--cors", "cors", multiple=True, metavar="ORIGIN",
              help="Let pages of this web origin (https://yasgui.example) read /sparql from a browser; "
                   "repeat for several, '*' for any. Default: no other origin.")
@click.option("--workers", type=click.IntRange(0, 256), envvar="TRADEKG_SERVE_WORKERS", show_envvar=True,
              default=None, metavar="N",
              help="Pages and queries run at once, each in a process the deadline can stop (default: twice "
                   "the CPUs, at least 4; further requests wait up to 10 s, then get 503). 0: in threads.")
@click.option("--request-memory", "request_memory", type=click.IntRange(16), envvar="TRADEKG_REQUEST_MEMORY",
              show_envvar=True, default=1024, show_default=True, metavar="MB",
              help="Memory one page or query may add before it is stopped.")
@store_option
@query_timeout_option
@service_option
@handle_errors
def serve(host: str, port: int, public: bool, cors: tuple[str, ...], workers: int | None, request_memory: int,
          store_path: Path | None, query_timeout: float | None, allow_service: tuple[str, ...]) -> None:
    """Serve the current store version in a browser and on the SPARQL 1.1 Protocol, until stopped.

    \b
    Pages: search, a page per entity at its IRI's path (/id/company/huawei),
    a page per saved query with CSV and JSON downloads, a read-only SPARQL page.
    Programs: http://HOST:PORT/sparql (tradekg query --endpoint, SPARQLWrapper, YASGUI).
    A newly built or loaded version is picked up without a restart.

    \b
    Examples:
      tradekg serve
      TRADEKG_SERVE_TOKEN=... tradekg serve --host 0.0.0.0 --port 8080
    """
    from kg.graph.backend import allowed_services, query_timeout_from

    token = serve_token(host, public)
    origins = frozenset(_origin(o) for o in cors)
    # On loopback without a token a browser is the only way in from outside: answer only our own names.
    hosts = frozenset({"localhost", "127.0.0.1", "::1", host.strip("[]").lower()}) \
        if is_loopback(host) and not token else None
    store = open_store(store_path)
    store.current_version()  # a missing store is a plain error, not a traceback in the server
    deadline = query_timeout_from(query_timeout)
    services = allowed_services(allow_service or None)

    import uvicorn

    from kg.serve.app import create_app
    from kg.serve.snapshot import Current
    from kg.serve.views import search_index
    from kg.serve.workers import Pool

    # Answer at once from the version on disk; the watcher loads the in-memory copy and switches to it.
    current = Current(store, deadline, prepare=search_index, allow_service=services, from_disk_first=True)
    current.start()
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"tradekg serves {current.snapshot.triples:,} triples at http://{shown}:{port}/ "
               f"(SPARQL: http://{shown}:{port}/sparql); Ctrl-C stops it", err=True)
    click.echo(f"loading {current.snapshot.version} into memory; until then answers come from disk, "
               "more slowly, and pages say so", err=True)
    size = max(4, 2 * (os.cpu_count() or 2)) if workers is None else workers
    wait = float(os.environ.get("TRADEKG_SERVE_QUEUE_WAIT") or 10)  # how long a request waits for a worker
    pool = Pool(size, request_memory, queue_wait=wait) if size and hasattr(os, "fork") else None
    try:
        uvicorn.run(create_app(current, timeout=deadline, token=token, hosts=hosts, cors=origins, pool=pool),
                    host=host, port=port,
                    log_level="warning", access_log=False)
    finally:
        current.stop()
        if pool is not None:
            pool.close()
