"""The ``tradekg`` command: a thin layer over the library.

Exit codes (DESIGN.md): 0 ok, 1 the data does not conform or a check failed,
2 usage or input error. Errors go to stderr in one or two plain lines.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kg import __version__
from kg.build import ValidationFailed
from kg.errors import LoadFailed, TradekgError
from kg.store import STORE_ENV, VersionedStore, default_store_path

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
        except LoadFailed as exc:
            click.echo(exc.details(), err=True)
            fail(str(exc), 2)
        except TradekgError as exc:
            fail(str(exc), 2)
        except BrokenPipeError:
            sys.stderr.close()
            sys.exit(0)

    return wrapper  # type: ignore[return-value]


def store_option(func: F) -> F:
    return click.option(
        "--store", "store_path", type=click.Path(path_type=Path), envvar=STORE_ENV,
        default=None, show_envvar=True,
        help="Store directory (default .tradekg/store).",
    )(func)


def open_store(store_path: Path | None) -> VersionedStore:
    return VersionedStore(store_path or default_store_path())


def format_option(func: F) -> F:
    return click.option(
        "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
        help="Output format (default: table on a terminal, csv when piped).",
    )(func)


def output_format(fmt: str | None) -> str:
    if fmt:
        return fmt
    return "table" if sys.stdout.isatty() else "csv"


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="tradekg")
def cli() -> None:
    """tradekg: a knowledge graph of technology-trade restrictions.

    \b
    Build the graph from the curated CSV facts, then ask it:
      tradekg build
      tradekg query rules-affecting-firm -p firm=Huawei
      tradekg query --list
      tradekg show "Huawei Technologies Co., Ltd."
    """


def _register() -> None:
    from kg.cli import load as load_commands
    from kg.cli import query as query_commands

    for command in (load_commands.build, load_commands.load, load_commands.validate,
                    query_commands.query, query_commands.sparql, query_commands.show):
        cli.add_command(command)


_register()
