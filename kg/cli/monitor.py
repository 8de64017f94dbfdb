"""``update``, ``sources``, ``changes``, ``watch`` and ``evidence``: keeping current (``kg.monitor``)."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click

from kg.cli.common import handle_errors, open_store, output_format, store_option
from kg.errors import TradekgError
from kg.progress import progress


def _urls(values: tuple[str, ...]) -> dict[str, str]:
    urls = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise click.BadParameter(f"{value!r}: write NAME=URL, e.g. csl=https://mirror.example/consolidated.csv",
                                     param_hint="--url")
        urls[name.strip()] = url.strip()
    return urls


@click.command()
@click.argument("sources", nargs=-1, metavar="[SOURCE...]")
@click.option("--url", "urls", multiple=True, metavar="NAME=URL",
              help="Fetch source NAME from URL (a mirror; for OFAC the folder holding its files); repeatable.")
@click.option("--end-missing", is_flag=True,
              help="Let a list file end more than half of its list's entries (otherwise refused as a likely "
                   "broken download).")
@store_option
@handle_errors
def update(sources: tuple[str, ...], urls: tuple[str, ...], end_missing: bool, store_path: Path | None) -> None:
    """Fetch the sources of record and import what changed, each through the ledger.

    SOURCE is csl, ofac-sdn, ofac-nonsdn or federal-register (default: all,
    in that order). Each is fetched whole (conditional requests, retries with
    backoff), then imported on its own: a source that fails leaves the graph
    as it was for it, and the others still update. The same bytes again change
    nothing. Locations: --url NAME=URL, else [update.urls] in
    .tradekg/config.toml, else the official ones (`tradekg sources` lists
    them). Exit code 0 when every source was fetched or unchanged, 2 when one
    failed.

    \b
    Examples:
      tradekg update
      tradekg update csl --url csl=https://mirror.example/consolidated.csv
      tradekg changes
    """
    from kg.monitor import update as updating

    store = open_store(store_path)

    def report(result: updating.SourceResult) -> None:
        click.echo(result.line(), err=result.status == "failed")

    run = updating.update(store, list(sources) or None, _urls(urls), end_missing, report=report,
                          each=lambda names: progress(names, "updating sources", len(names)))
    results = run.results
    changed = [r for r in results if r.version is not None]
    if changed:
        # The events of this update, compared now and kept (kg.monitor.changes.pair_events), so that
        # `tradekg changes` after it reads a few kilobytes rather than two snapshots of the graph.
        from kg.monitor.changes import changes as events_of

        with contextlib.suppress(TradekgError):  # only a head start: `tradekg changes` says what is wrong
            events_of(store)
    click.echo(f"{len(changed)} source(s) changed the graph"
               + (f" (now version {store.manifest().get('version')}); see `tradekg changes`" if changed else "")
               + f"; store: {store.path}")
    if any(r.status == "failed" for r in results):
        sys.exit(2)


@click.command("sources")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
              help="Output format (default: table on a terminal, csv when piped).")
@store_option
@handle_errors
def sources_command(fmt: str | None, store_path: Path | None) -> None:
    """The sources `update` reads: where from, when last fetched, and the sha256 of what came."""
    from kg.monitor import update as updating

    rows = updating.sources_table(open_store(store_path))
    _write_rows(rows, ["source", "location", "from", "last_fetch", "status", "file", "sha256", "bytes", "in_graph",
                       "etag", "last_modified", "detail"], output_format(fmt))


def _write_rows(rows: list[dict[str, str]], columns: list[str], fmt: str) -> None:
    from rdflib import Literal

    from kg.answers.render import CsvWriter, render_table
    from kg.graph.backend import ResultTable

    out = sys.stdout
    if fmt == "json":
        json.dump([{c: r.get(c, "") for c in columns} for r in rows], out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt == "csv":
        writer = CsvWriter(out)
        writer.header(columns)
        for r in rows:
            writer.row([str(r.get(c, "")) for c in columns])
    else:
        render_table(ResultTable(columns, [{c: Literal(str(r[c])) for c in columns if r.get(c)} for r in rows]), out)


@click.command()
@click.option("--since", default=None, metavar="VERSION|DATE",
              help="Compare from this version (see `tradekg history`) or the last version before this date "
                   "(default: the versions before and after the last update).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "ftm-delta"]), default=None,
              help="Output format (default: table on a terminal, csv when piped); ftm-delta: OpenSanctions' "
                   "delta lines.")
@store_option
@handle_errors
def changes(since: str | None, fmt: str | None, store_path: Path | None) -> None:
    """What changed in the lists, one event per party and entry, each with its cause.

    Events: listed, ended, entry changed (names, address, identifiers, licence
    requirement or policy, programs), newly reached / no longer reached (on a
    list, as an affiliate, through ownership, exposure), rule status changed.
    The cause is the Federal Register document or rule when the graph knows
    it, else the source file and the day it was taken in.

    \b
    Examples:
      tradekg changes
      tradekg changes --since 2026-11-01 --format csv > changes.csv
      tradekg changes --format ftm-delta > delta.json
    """
    from kg.monitor import changes as changing
    from kg.monitor import state as snapshots

    store = open_store(store_path)
    store.current_version()
    events, why = changing.changes(store, since)
    chosen = output_format(fmt)
    snapshot = snapshots.ensure(store, store.current_version()) if chosen == "ftm-delta" else None
    counts: dict[str, int] = {}
    for e in events:
        counts[e.event] = counts.get(e.event, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no change to any list entry"
    click.echo(f"changes since {why}: {summary}", err=True)
    changing.write(events, chosen, sys.stdout, snapshot)


@click.group()
def watch() -> None:
    """Watchlists: your counterparties, screened against what changed; decisions on hits."""


@watch.command("add")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--name", default=None, help="The watchlist's name (default: the file name without .csv).")
@click.option("--name-column", default="name", show_default=True, help="The column holding the name.")
@click.option("--country-column", default="country", show_default=True,
              help="The column holding the ISO country code (optional column).")
@click.option("--id-column", default="id", show_default=True,
              help="The column holding your own id of the row (optional column; else the line).")
@store_option
@handle_errors
def watch_add(file: Path, name: str | None, name_column: str, country_column: str, id_column: str,
              store_path: Path | None) -> None:
    """Keep a counterparty file (the `screen --file` layout) as a watchlist, in the ledger.

    An optional `identifiers` column holds ;-separated registration numbers,
    USCC, ISIN... matched exactly. Adding a file under a name already used
    replaces that watchlist. The file is kept as its bytes (it may move
    afterwards) and never enters the graph.
    """
    from kg.monitor import watch as watching

    store = open_store(store_path)
    added, problems = watching.add(store, file, name, name_column, country_column, id_column)
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"watchlist {added.name}: {len(added.rows)} counterparties from {added.file} "
               f"(sha256 {added.sha256[:12]}); `tradekg watch report {added.name}` lists what changes for them")


@watch.command("list")
@store_option
@handle_errors
def watch_list(store_path: Path | None) -> None:
    """The watchlists kept, with their files and the decisions taken on them."""
    from kg.monitor import watch as watching

    store = open_store(store_path)
    known = watching.watches(store)
    if not known:
        click.echo("no watchlist yet: `tradekg watch add counterparties.csv --name customers`")
    for name, w in sorted(known.items()):
        taken = watching.decisions(store, name)
        click.echo(f"{name}: {len(w.rows)} counterparties from {w.file} (sha256 {w.sha256[:12]}), added {w.at}; "
                   f"{len(taken)} decision(s)")


@watch.command("report")
@click.argument("name", required=False)
@click.option("--since", default=None, metavar="VERSION|DATE",
              help="Report every hit since this version or date (default: since the last report).")
@click.option("--threshold", default=None, type=click.FloatRange(0, 100),
              help="Lowest name-match score (default: screen's).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
              help="Output format (default: table on a terminal, csv when piped).")
@store_option
@handle_errors
def watch_report(name: str | None, since: str | None, threshold: float | None, fmt: str | None,
                 store_path: Path | None) -> None:
    """Watched counterparties that match a party something happened to: new or changed hits only.

    Each hit has the event (listed, ended, entry changed, newly reached...)
    and its cause. Without --since a hit is reported once: the next report
    starts where this one ended. A not-same decision keeps a hit quiet until
    the party's names or identifiers change.
    """
    from kg.monitor import watch as watching

    store = open_store(store_path)
    rows, why, suppressed = watching.report(store, name, since, threshold)
    quiet = f"; {suppressed} hit(s) kept quiet by not-same decisions" if suppressed else ""
    click.echo(f"{len(rows)} hit(s) ({why}){quiet}", err=True)
    _write_rows(rows, watching.COLUMNS, output_format(fmt))


@watch.command("decide")
@click.argument("name")
@click.argument("counterparty")
@click.argument("party")
@click.argument("decision", type=click.Choice(["same", "not-same", "unsure"]))
@click.option("--note", default="", help="Why (kept with the decision).")
@click.option("--who", default=None, help="Who decided (default: the user name).")
@store_option
@handle_errors
def watch_decide(name: str, counterparty: str, party: str, decision: str, note: str, who: str | None,
                 store_path: Path | None) -> None:
    """Record a decision on a hit: watchlist NAME, your COUNTERPARTY id, the listed PARTY, and DECISION.

    \b
    Example:
      tradekg watch decide customers C-104 ofac-18289 not-same --note "different registration" --who ana
    """
    from kg.monitor import watch as watching

    kept = watching.decide(open_store(store_path), name, counterparty, party, decision, note, who)
    click.echo(f"kept: {kept['decision']} on {name}/{counterparty} and {kept['party']} by {kept['who']} at "
               f"{kept['at']}")


@watch.command("decisions")
@click.argument("name", required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
              help="Output format (default: table on a terminal, csv when piped).")
@store_option
@handle_errors
def watch_decisions(name: str | None, fmt: str | None, store_path: Path | None) -> None:
    """Every decision kept, oldest first, with its time and who took it."""
    from kg.monitor import watch as watching

    rows = [{k: str(v) for k, v in d.items()} for d in watching.decisions(open_store(store_path), name)]
    _write_rows(rows, ["at", "watch", "counterparty", "party", "decision", "who", "note"], output_format(fmt))


@click.group()
def evidence() -> None:
    """Records of screenings (`screen --evidence FILE`), checked again later."""


@evidence.command("check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--current", is_flag=True, help="Re-run on the current graph instead of the recorded version.")
@store_option
@handle_errors
def evidence_check(file: Path, current: bool, store_path: Path | None) -> None:
    """Re-run the screening a record describes on its graph version; say whether the answer is the same.

    Exit code 0 when it is the same, 1 when it differs (each difference is
    listed), 2 when the version is no longer kept.
    """
    from kg.monitor import evidence as records

    record = records.read(file)
    same, differences, where = records.check(open_store(store_path), record, current)
    head = (f"{file}: screening of {record['written_at']} for {record['answer_for']}, "
            f"{len(record['answers'])} answer row(s); re-run on {where}: ")
    if same:
        click.echo(head + "the same answer")
        return
    click.echo(head + f"a different answer ({len(differences)} difference(s))")
    for line in differences:
        click.echo(f"  {line}")
    sys.exit(1)
