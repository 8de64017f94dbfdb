"""``import csl``: take in the trade.gov Consolidated Screening List."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from kg.cli.common import handle_errors, open_store, store_option
from kg.errors import TradekgError
from kg.loaders.limits import read_input
from kg.pipeline.build import _display, provenance_name
from kg.progress import progress


@click.group("import")
def import_group() -> None:
    """Import published screening lists into the store."""


@import_group.command("csl")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Date of this file (YYYY-MM-DD, default today): end date for entries it no longer has, "
                   "first-seen date for rows without a start date.")
@click.option("--strict", is_flag=True, help="Refuse the whole file when any row cannot be mapped.")
@click.option("--partial", is_flag=True,
              help="The file is a subset of its lists: do not end-date imported entries it lacks.")
@click.option("--end-missing", is_flag=True,
              help="End-date the missing entries even when that is more than half of a list.")
@store_option
@handle_errors
def csl(file: Path, as_of: object, strict: bool, partial: bool, end_missing: bool, store_path: Path | None) -> None:
    """Import a trade.gov CSL CSV (29 columns with _id, or the older 28 without).

    Every row becomes a party, its list and a designation linked to the rules
    its federal_register_notice cites (curated rules where the citation
    matches). Re-importing the same file changes nothing; a newer file
    end-dates the entries of its lists that it no longer has (--partial for a
    subset file; more than half of a list needs --end-missing). Rows that
    cannot be mapped are listed with their line and reason.

    \b
    Example:
      tradekg import csl consolidated.csv
      tradekg screen "Huawei Technologies (Bolivia)"
    """
    from kg.sources import csl_import

    store = open_store(store_path)
    store.current_version()  # no graph yet: say so before the lock creates the directory
    day = as_of.date() if as_of is not None else date.today()  # type: ignore[attr-defined]
    options = {"as_of": day.isoformat(), "partial": partial, "strict": strict, "end_missing": end_missing}
    data = read_input(file, _display(file))  # read once: these bytes are imported and kept in the ledger
    name = provenance_name(file, store.path)
    # Planned and committed under the writer lock: a plan read from a version
    # another writer is replacing would be committed on top of its result.
    with store.locked():
        plan = csl_import.plan(store.open_read(), data, name, _display(file), options,
                               progress=lambda rows, total: progress(rows, "mapping rows", total))
        parsed = plan.file
        for problem in plan.problems:
            click.echo(f"{parsed.display}:{problem.line}: {problem.reason}", err=True)
        why = csl_import.refusal(plan, options)
        if why:
            if strict and plan.problems and not plan.mass_endings():
                raise SystemExit(f"Error: {why}")
            raise TradekgError(why)
        outcome = csl_import.commit(store, plan, name, data, options)
    taken = sum(plan.rows_per_list.values())
    click.echo(f"read {len(parsed.rows)} rows from {parsed.display} ({parsed.layout}); "
               f"took {taken}, skipped {len(plan.problems)}")
    for name, count in plan.rows_per_list.items():
        click.echo(f"  {count:6d}  {name}")
    linked = plan.linked_to_curated
    click.echo(f"linked to curated facts: {linked.get('parties', 0)} row(s) to a curated party, "
               f"{linked.get('rules', 0)} citation(s) to a curated rule")
    click.echo(f"designations: {plan.new_designations} new, {plan.merged_designations} merged into entries the "
               f"store already held, {plan.changed_designations} changed, {plan.unchanged_designations} unchanged, "
               f"{plan.ended_designations} ended")
    if plan.merged:
        click.echo("same listing as an entry already in the store (one designation, this file added as a source):")
        for line, printed, into, method, why in plan.merged:
            click.echo(f"  line {line}: {printed} -> {into.rsplit('/', 1)[-1]} (by {method}: {why})")
    if plan.citations:
        click.echo("citations:")
        for citation, how in plan.citations.items():
            click.echo(f"  {citation}: {how}")
    if outcome.written:
        click.echo(f"{outcome.added} triples added, {outcome.removed} removed, {outcome.derived_triples} derived; "
                   f"{outcome.total_triples} in the store")
        click.echo(outcome.report.text())
    else:
        click.echo("nothing changed: the store already holds this file's facts")
    click.echo(f"store: {store.path}")
