"""``screen``: is this name restricted? One name, or a file of counterparties (``--file``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg.answers import screen as screening
from kg.answers.render import render, wrap_text
from kg.cli.common import fail, handle_errors, open_backend, store_option


@click.command()
@click.argument("name", required=False)
@click.option("--country", default=None, help="ISO 3166-1 alpha-2 country of the party (bonus when it matches).")
@click.option("--identifier", "identifiers", multiple=True, metavar="ID",
              help="An identifier of the party (USCC, registration, passport or IMO number, ISIN): the party "
                   "holding it matches; a party holding another of the same kind scores lower. Repeatable.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Most answers to show (per input row with --file).")
@click.option("--threshold", default=screening.DEFAULT_THRESHOLD, show_default=True, type=click.FloatRange(0, 100),
              help="Lowest score (0-100) to show.")
@click.option("--file", "batch_file", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Screen every row of this CSV file (UTF-8, with a header row) instead of NAME.")
@click.option("--name-column", default="name", show_default=True, help="With --file: the column holding the name.")
@click.option("--country-column", default="country", show_default=True,
              help="With --file: the column holding the ISO country code (optional column).")
@click.option("--id-column", default="id", show_default=True,
              help="With --file: the column holding your own id of the row (optional column; else the line).")
@click.option("--identifier-column", default="identifier", show_default=True,
              help="With --file: the column holding the party's identifiers (USCC, registration or IMO number; "
                   "several separated by ';'; optional column).")
@click.option("--address-column", default="address", show_default=True,
              help="With --file: the column holding the party's address (optional column); a place it names "
                   "counts as the name's place.")
@click.option("--format", "fmt", type=click.Choice(["text", "table", "csv", "json"]), default=None,
              help="Output format (default: text on a terminal, csv when piped; --file: csv or json).")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD",
              help="Answer for this date (default today): what holds then, and what is suspended.")
@click.option("--include-ended", is_flag=True, default=False,
              help="Also show listings, rules and exceptions that ended before the date, marked ended.")
@click.option("--evidence", "evidence_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write a dated record of this screening (inputs, options, graph version, the hash of "
                   "every source, each answer) to this JSON file; `tradekg evidence check` re-runs it.")
@store_option
@handle_errors
def screen(name: str | None, country: str | None, identifiers: tuple[str, ...], limit: int, threshold: float,
           batch_file: Path | None, name_column: str, country_column: str, id_column: str, identifier_column: str,
           address_column: str, fmt: str | None, as_of: str | None, include_ended: bool, evidence_file: Path | None,
           store_path: Path | None) -> None:
    """Match NAME (or every name in --file) against every name and alias in the graph.

    Answers with the score (and how it was made), the matched name, the lists
    the party is on with dates and license policy, and the rules that reach
    it (named, on a list, as a covered affiliate, or owned by listed parties),
    apart from exposure (a listed parent or affiliate, which no rule extends
    to it). By default only what holds today; --include-ended adds what ended,
    marked ended. When nothing reaches the threshold, the nearest names below
    it are shown, marked so. Exit code 0 whether or not anything matches.

    With --file, writes one row per input row and candidate (input line, id
    and name, score, matched name, party, the lists it is on, rules, exposure,
    explanation), and one "no match" row for an input with none. Bad rows
    (empty name, unknown country code, wrong number of cells) are reported on
    stderr by line and left out, the rest screened; the exit code is then 2.

    \b
    Examples:
      tradekg screen "Huawei Technologies (Bolivia)"
      tradekg screen "HUAWEI TECH. CO." --country CN --limit 3
      tradekg screen Huawei --include-ended
      tradekg screen --file counterparties.csv --name-column legal_name > screened.csv
    """
    if (name is None) == (batch_file is None):
        raise click.UsageError("give one NAME or --file FILE")
    backend = open_backend(store_path)
    on = None
    if as_of is not None:
        from kg.loaders import cells

        try:
            on = str(cells.to_date(as_of.strip()))
        except cells.CellError as exc:
            raise click.BadParameter(str(exc), param_hint="--as-of") from None
    if evidence_file is not None:
        _with_evidence(store_path, backend, name, country, identifiers, batch_file, name_column, country_column,
                       id_column, identifier_column, address_column, fmt, limit, threshold, on, include_ended,
                       evidence_file)
        return
    if batch_file is not None:
        _screen_file(backend, batch_file, name_column, country_column, id_column, identifier_column,
                     address_column, fmt, limit, threshold, on, include_ended)
        return
    assert name is not None
    index = screening.Index.from_backend(backend)
    matches = screening.screen(backend, name, country, limit, threshold, index=index, on=on,
                               include_ended=include_ended, identifiers=identifiers)
    fmt = fmt or ("text" if sys.stdout.isatty() else "csv")
    if fmt == "text":
        near = [] if matches else screening.near_misses(index, name, country, threshold, identifiers)
        click.echo(wrap_text(screening.as_text(matches, name, near)))
    else:
        render(screening.as_table(matches), fmt, sys.stdout)


def _screen_file(backend: screening.Backend, path: Path, name_column: str, country_column: str, id_column: str,
                 identifier_column: str, address_column: str, fmt: str | None, limit: int, threshold: float,
                 on: str | None, include_ended: bool) -> None:
    from kg.answers.batch import screen_file

    if fmt in ("text", "table"):
        raise click.UsageError("--file writes csv or json (--format csv|json)")
    report = screen_file(backend, path, sys.stdout, fmt or "csv", name_column, country_column, id_column,
                         limit=limit, threshold=threshold, on=on, include_ended=include_ended,
                         identifier_column=identifier_column, address_column=address_column)
    sys.stdout.flush()
    click.echo(f"screened {report.screened:,} rows: {report.matched:,} with a match at or above {threshold:g}, "
               f"{report.written:,} rows written", err=True)
    if report.problems:
        for problem in report.problems:
            click.echo(str(problem), err=True)
        fail(f"{len(report.problems)} row{'s' if len(report.problems) != 1 else ''} left out; "
             "the other rows were screened", 2)


def _with_evidence(store_path: Path | None, backend: screening.Backend, name: str | None, country: str | None,
                   identifiers: tuple[str, ...], batch_file: Path | None, name_column: str, country_column: str,
                   id_column: str, identifier_column: str, address_column: str, fmt: str | None, limit: int,
                   threshold: float, on: str | None, include_ended: bool, evidence_file: Path) -> None:
    """Screen once, write the answers as asked and the evidence record of them (``kg.monitor.evidence``)."""
    import hashlib
    import json

    from kg.answers.batch import COLUMNS, Counterparty, read_counterparties
    from kg.answers.queries import today
    from kg.answers.render import CsvWriter
    from kg.cli.common import open_store
    from kg.monitor import evidence

    store = open_store(store_path)
    on = on or str(today())
    options = {"limit": limit, "threshold": threshold, "include_ended": include_ended, "country": country}
    if batch_file is not None:
        rows, problems = read_counterparties(batch_file, name_column, country_column, id_column, identifier_column,
                                             address_column)
        for problem in problems:
            click.echo(str(problem), err=True)
        data = batch_file.read_bytes()
        source = {"file": batch_file.name, "sha256": hashlib.sha256(data).hexdigest(),
                  "columns": {"name": name_column, "country": country_column, "id": id_column,
                              "identifier": identifier_column, "address": address_column}}
    else:
        assert name is not None
        rows = [Counterparty(1, "1", name, country.upper() if country else None, list(identifiers))]
        source = {"name": name, "country": country, "identifiers": list(identifiers)}
    answers = evidence.screen_rows(backend, rows, options, on)
    record = evidence.record(store, rows, answers, options, on, source)
    evidence.write(evidence_file, record)
    if fmt == "json":
        json.dump(answers, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    elif batch_file is None and (fmt or ("text" if sys.stdout.isatty() else "csv")) == "text":
        for a in answers:
            click.echo(f"{a['score'] or '-':>5}  {a['matched_name'] or a['explanation']}  {a['lists']}")
    else:
        writer = CsvWriter(sys.stdout)
        writer.header(COLUMNS)
        for a in answers:
            writer.row([a[c] for c in COLUMNS])
    click.echo(f"evidence: {evidence_file} (graph version {record['graph']['version']}, "
               f"{len(record['sources'])} sources with their hashes, answers sha256 "
               f"{record['answers_sha256'][:12]})", err=True)
