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
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD",
              help="Answer for this date (default today): what holds then, and what is suspended.")
@click.option("--include-ended", is_flag=True, default=False,
              help="Also show listings, rules and exceptions that ended before the date, marked ended.")
@store_option
@handle_errors
def screen(name: str, country: str | None, limit: int, threshold: float, fmt: str | None,
           as_of: str | None, include_ended: bool, store_path: Path | None) -> None:
    """Match NAME against every name and alias in the graph.

    Answers with the score (and how it was made), the matched name, the lists
    the party is on with dates and license policy, and the rules that reach
    it (named, on a list, as a covered affiliate, or owned by listed parties),
    apart from exposure (a listed parent or affiliate, which no rule extends
    to it). By default only what holds today; --include-ended adds what ended,
    marked ended. Exit code 0 whether or not anything matches.

    \b
    Examples:
      tradekg screen "Huawei Technologies (Bolivia)"
      tradekg screen "HUAWEI TECH. CO." --country CN --limit 3
      tradekg screen Huawei --include-ended
    """
    backend = open_backend(store_path)
    on = None
    if as_of is not None:
        from kg.loaders import cells

        try:
            on = str(cells.to_date(as_of.strip()))
        except cells.CellError as exc:
            raise click.BadParameter(str(exc), param_hint="--as-of") from None
    matches = screening.screen(backend, name, country, limit, threshold, on=on, include_ended=include_ended)
    fmt = fmt or ("text" if sys.stdout.isatty() else "csv")
    if fmt == "text":
        click.echo(screening.as_text(matches, name))
    else:
        render(screening.as_table(matches), fmt, sys.stdout)
