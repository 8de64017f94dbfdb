"""``screen``: is this name restricted?"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg import screen as screening
from kg.cli import handle_errors, open_backend, store_option
from kg.render import render


@click.command()
@click.argument("name")
@click.option("--country", default=None, help="ISO 3166-1 alpha-2 country of the party (bonus when it matches).")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000), help="Most answers to show.")
@click.option("--threshold", default=75.0, show_default=True, type=click.FloatRange(0, 100),
              help="Lowest score (0-100) to show.")
@click.option("--format", "fmt", type=click.Choice(["text", "table", "csv", "json"]), default=None,
              help="Output format (default: text on a terminal, csv when piped).")
@store_option
@handle_errors
def screen(name: str, country: str | None, limit: int, threshold: float, fmt: str | None,
           store_path: Path | None) -> None:
    """Match NAME against every name and alias in the graph.

    Answers with the score (and how it was made), the matched name, the lists
    the party is on with dates and license policy, and the rules that reach
    it (named, on a list, or through a parent). Exit code 0 whether or not
    anything matches.

    \b
    Examples:
      tradekg screen "Huawei Technologies (Bolivia)"
      tradekg screen "HUAWEI TECH. CO." --country CN --limit 3
    """
    backend = open_backend(store_path)
    matches = screening.screen(backend, name, country, limit, threshold)
    fmt = fmt or ("text" if sys.stdout.isatty() else "csv")
    if fmt == "text":
        click.echo(screening.as_text(matches, name))
    else:
        render(screening.as_table(matches), fmt, sys.stdout)
