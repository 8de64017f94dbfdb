"""What every command shares: the exit codes, the store and server options, the output format.

Exit codes (DESIGN.md): 0 ok, 1 the data does not conform or a check failed,
2 usage or input error. Errors go to stderr in one or two plain lines. The
command modules (``kg/cli/*.py``) import these from here, and ``kg.cli``
imports the command modules to add them to the group, so nothing imports
round a circle.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from kg.errors import LoadFailed, TradekgError
from kg.graph.backend import QUERY_TIMEOUT_ENV, Backend, QueryTimeout
from kg.graph.store import STORE_ENV, VersionedStore, default_store_path
from kg.pipeline.build import ValidationFailed
from kg.pipeline.ledger import ReplayFailed

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def fail(message: str, code: int = 2) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn library errors into the documented exit codes and short messages."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ValidationFailed as exc:
            click.echo(exc.report.text(), err=True)
            fail(str(exc), 1)
        except ReplayFailed as exc:
            click.echo(exc.details(), err=True)
            fail(str(exc), 1 if isinstance(exc.cause, ValidationFailed) else 2)
        except LoadFailed as exc:
            click.echo(exc.details(), err=True)
            fail(str(exc), 2)
        except QueryTimeout as exc:
            click.echo(f"Error: {exc}", err=True)
            _exit_now(2)
        except TradekgError as exc:
            fail(str(exc), 2)
        except BrokenPipeError:
            sys.stderr.close()
            sys.exit(0)
        except OSError as exc:  # a path that is a folder, unreadable, on a full disk...: one line, no traceback
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}", 2)

    return wrapper  # type: ignore[return-value]


def _exit_now(code: int) -> None:
    """Exit at once: a query given up at its deadline may still be running inside Oxigraph.

    ``os._exit`` ends it with the process (a normal exit would tear the store
    down under it). Inside a test runner (standard streams replaced) it
    raises ``SystemExit`` instead, so the runner lives on.
    """
    from kg.graph.backend import abandoned_queries

    if abandoned_queries() and sys.stdout is sys.__stdout__ and sys.stderr is sys.__stderr__:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


@contextlib.contextmanager
def time_limit(seconds: float | None, what: str, advice: str) -> Iterator[None]:
    """Stop the whole command ``seconds`` after it starts, whatever it is doing then.

    Each query already has its deadline (``--query-timeout``), but a command
    also lays out graphs (networkx, Graphviz) and serialises files, which no
    query deadline covers. A watchdog thread ends the process (after killing
    any Graphviz it started): the work may be inside Oxigraph or a C library,
    where nothing else could stop it. Files are written whole at the end
    (``write_atomic``), so a stopped command leaves none half written. Inside a
    test runner (standard streams replaced) it interrupts the main thread
    instead, which raises ``KeyboardInterrupt`` there.
    """
    if not seconds:
        yield
        return

    def expire() -> None:
        from kg.export.render import stop_drawing

        stop_drawing()
        sys.stderr.write(f"tradekg: {what} did not finish within {seconds:g} s and was stopped; {advice}\n")
        sys.stderr.flush()
        if sys.stdout is sys.__stdout__ and sys.stderr is sys.__stderr__:
            os._exit(2)
        import _thread

        _thread.interrupt_main()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def query_timeout_option(func: F) -> F:
    """``--query-timeout SECONDS``: the longest one query may run, on the store or a server."""
    return click.option(
        "--query-timeout", "query_timeout", type=click.FloatRange(min=0), envvar=QUERY_TIMEOUT_ENV,
        default=None, show_envvar=True, metavar="SECONDS",
        help="Stop a query that runs longer than this (default 120; 0: no limit).",
    )(func)


def service_option(func: F) -> F:
    """``--allow-service URL``: an endpoint a query's SERVICE may call (none by default)."""
    return click.option(
        "--allow-service", "allow_service", multiple=True, metavar="URL",
        help="Let a query's SERVICE call this SPARQL endpoint (repeat for several; also "
             "TRADEKG_ALLOW_SERVICE). Without it, a query naming another server is refused.",
    )(func)


def store_option(func: F) -> F:
    return click.option(
        "--store", "store_path", type=click.Path(path_type=Path), envvar=STORE_ENV,
        default=None, show_envvar=True,
        help="Store directory (default: the nearest .tradekg/store here or above, else .tradekg/store here).",
    )(func)


def open_store(store_path: Path | None) -> VersionedStore:
    """The store a command works on, named by its absolute path in every message.

    ``--store`` or ``TRADEKG_STORE`` if given; otherwise the project's store,
    found as git finds ``.git`` (``kg.graph.store.find_store``).
    """
    return VersionedStore(Path(os.path.abspath(store_path)) if store_path else default_store_path())


def endpoint_options(func: F) -> F:
    """``--endpoint``, ``--graph`` and ``--timeout``: read a SPARQL server instead of the store.

    The command receives ``endpoint``, ``graph_iri`` and ``timeout`` and passes
    them to ``open_backend``. Credentials are never options: they come from
    TRADEKG_USER/TRADEKG_PASSWORD or TRADEKG_TOKEN (see kg.graph.remote).
    """
    func = click.option(
        "--timeout", type=float, envvar="TRADEKG_TIMEOUT", default=None, show_envvar=True,
        help="Seconds to wait for the server (default 60).",
    )(func)
    func = click.option(
        "--graph", "graph_iri", envvar="TRADEKG_GRAPH", default=None, show_envvar=True, metavar="IRI",
        help="With --endpoint: read this named graph (default: the server's default graph).",
    )(func)
    return click.option(
        "--endpoint", envvar="TRADEKG_ENDPOINT", default=None, show_envvar=True, metavar="URL",
        help="SPARQL 1.1 query URL of a server to read instead of the store "
             "(Oxigraph: http://HOST:7878/query).",
    )(func)


def open_backend(store_path: Path | None, endpoint: str | None = None, graph_iri: str | None = None,
                 timeout: float | None = None, query_timeout: float | None = None,
                 allow_service: tuple[str, ...] = ()) -> Backend:
    """The graph to read: the server at ``endpoint`` if given, else the embedded store.

    ``query_timeout`` (seconds; default TRADEKG_QUERY_TIMEOUT or 120, 0 for no
    limit) bounds every query run through the backend.
    """
    from kg.api import open_backend as api_open_backend

    return api_open_backend(store_path, endpoint, graph_iri, timeout, query_timeout,
                            allow_service=allow_service or None)


def format_option(func: F) -> F:
    """``--format table|csv|json`` and ``--wide`` (a table's rows on one line each, nothing wrapped)."""
    func = click.option(
        "--wide", is_flag=True, expose_value=False, callback=_set_wide, is_eager=False,
        help="Tables: one line per row, as long as it needs (default: wrap to the terminal's width).",
    )(func)
    return click.option(
        "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
        help="Output format (default: table on a terminal, csv when piped).",
    )(func)


def _set_wide(_ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    from kg.answers import render

    render.WIDE = bool(value)
    return value


def output_format(fmt: str | None) -> str:
    if fmt:
        return fmt
    return "table" if sys.stdout.isatty() else "csv"
