"""``import federal-register`` and ``import ofac``: the sources of record, beside ``import csl``.

Each command reads its files (or the API) completely first, plans the change
against the store under the writer lock, prints what it took and what it
found in conflict with curated facts, and commits through
``kg.sources.base.commit``: validated, all or nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kg.cli.common import handle_errors, open_store, store_option
from kg.cli.csl import import_group
from kg.loaders.limits import read_input
from kg.pipeline.build import user_files
from kg.progress import progress

if TYPE_CHECKING:
    from kg.sources import base


def _print_plan(plan: base.SourcePlan) -> None:
    for kind, count in plan.counts.items():
        click.echo(f"  {count:6d}  {kind}")
    for kind, count in plan.linked.items():
        click.echo(f"  {count:6d}  {kind}")
    for problem in plan.problems:
        click.echo(problem, err=True)
    if plan.conflicts:
        click.echo(f"{len(plan.conflicts)} value(s) differ from the curated data (curated kept):")
        for conflict in plan.conflicts:
            click.echo(f"  {conflict}")


@import_group.command("federal-register")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--fetch", "fetch", multiple=True, metavar="DOCNUM|CITATION",
              help="Fetch a document from the API by number (2019-17921) or citation (\"84 FR 22961\"); repeatable.")
@click.option("--search", "searches", multiple=True, metavar="CONDITIONS",
              help="Fetch every page of an API search, e.g. "
                   "'conditions[agencies][]=industry-and-security-bureau&conditions[publication_date][gte]=2019-01-01'.")
@click.option("--fetch-missing", is_flag=True,
              help="Fetch every rule the graph knows only by a citation (the CSL's placeholders).")
@click.option("--max-pages", type=int, default=100, show_default=True, help="Stop a --search after this many pages.")
@store_option
@handle_errors
def federal_register_command(files: tuple[Path, ...], fetch: tuple[str, ...], searches: tuple[str, ...],
                             fetch_missing: bool, max_pages: int, store_path: Path | None) -> None:
    """Import Federal Register API JSON: documents, search-results pages or JSON lines.

    Each document becomes a rule, or completes the rule the graph already has
    with its document number, citation or (for a rule known only by a CSL
    citation) a page inside its range. Curated values are kept; values that
    differ are listed. The API is read keyless, politely (TRADEKG_FR_DELAY
    seconds between requests, default 0.5), from TRADEKG_FR_API (default
    https://www.federalregister.gov/api/v1).

    \b
    Examples:
      tradekg import federal-register 2019-17921.json documents.json
      tradekg import federal-register --fetch 2019-17921 --fetch "84 FR 22961"
      tradekg import federal-register --fetch-missing
    """
    # The importers load only when one runs: every other command starts without them.
    from kg.sources import base, federal_register
    from kg.sources.fetch import FrClient, NotInRegister

    if not (files or fetch or searches or fetch_missing):
        raise click.UsageError("name FILES, or --fetch, --search or --fetch-missing")
    store = open_store(store_path)
    store.current_version()  # no graph yet: say so before the lock creates the directory
    # Every file read and every answer fetched is kept in the ledger (by the name the graph
    # gives it: project-relative, or the URL), so `build` replays this import offline.
    parsed = [federal_register.parse_json(read_input(f.path, f.display), f.display, f.source_name)
              for f in user_files(files)]
    client = FrClient() if (fetch or searches or fetch_missing) else None
    if client is not None:
        wanted = list(fetch)
        if fetch_missing:
            reader = store.open_read()
            missing = federal_register.placeholder_citations(reader)
            del reader
            click.echo(f"{len(missing)} rule(s) known only by a citation: fetching them from {client.base}")
            wanted += missing
        missing_too = set(wanted[len(fetch):])
        for item in progress(wanted, "fetching documents", len(wanted)):
            try:
                answer = client.fetch(item)
            except NotInRegister as exc:
                if item not in missing_too:
                    raise
                click.echo(f"not found: {item}: {exc}", err=True)  # a placeholder the API does not know
                continue
            parsed.append(federal_register.parse_json(answer.body, answer.url))
        for conditions in searches:
            for page in progress(client.search(conditions, max_pages), "fetching search pages"):
                parsed.append(federal_register.parse_json(page.body, page.url))
        click.echo(f"{client.requests} request(s) to {client.base}")
    with store.locked():
        reader = store.open_read()
        plan = federal_register.plan_import(parsed, reader)
        del reader
        click.echo(f"read {sum(len(f.documents) for f in parsed)} document(s) from {len(parsed)} file(s) or "
                   "answer(s)")
        _print_plan(plan)
        options = {"fetch": list(fetch), "search": list(searches), "fetch_missing": fetch_missing}
        outcome = base.commit(store, plan, inputs=[(f.source_name, f.data) for f in parsed], options=options)
    for line in base.describe_outcome(plan, outcome):
        click.echo(line)
    click.echo(f"store: {store.path}")


@import_group.command("ofac")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Date of these files (YYYY-MM-DD, default today): end date for entries they no longer have, "
                   "first-seen date for entries without a listing date.")
@click.option("--partial", is_flag=True,
              help="The files are a subset of their lists: do not end-date imported entries they lack.")
@click.option("--end-missing", is_flag=True,
              help="End-date the missing entries even when that is more than half of a list.")
@store_option
@handle_errors
def ofac_command(paths: tuple[Path, ...], as_of: object, partial: bool, end_missing: bool,
                 store_path: Path | None) -> None:
    """Import OFAC's legacy CSV files: the SDN list and the consolidated Non-SDN list.

    Name the files or a folder holding them; each is recognised by OFAC's own
    name (sdn.csv, alt.csv, add.csv, sdn_comments.csv; cons_prim.csv,
    cons_alt.csv, cons_add.csv, cons_comments.csv), case ignored. Remarks in
    OFAC's regular forms become facts (dates and places of birth,
    nationality, USCC, ISIN, tickers, passport and registration numbers,
    Linked To, CMIC dates); the rest is kept verbatim. A party the CSL or
    the curated data already holds (same OFAC entity number, or same name)
    is that party. A newer file end-dates the entries it no longer has.

    \b
    Examples:
      tradekg import ofac sdn/ --as-of 2021-07-07
      tradekg import ofac cons_prim.csv cons_alt.csv cons_add.csv cons_comments.csv
    """
    from kg.sources import base, ofac

    store = open_store(store_path)
    store.current_version()  # no graph yet: say so before the lock creates the directory
    day = as_of.date() if as_of is not None else date.today()  # type: ignore[attr-defined]
    sets = ofac.read_paths(paths)
    with store.locked():
        reader = store.open_read()
        plan = ofac.plan_import(sets, reader, day, partial=partial,
                                progress=lambda rows, n: progress(rows, "mapping entries", n))
        del reader
        for entry_set in sets:
            click.echo(f"read {entry_set.describe()}")
        _print_plan(plan)
        # The files' bytes and the options that shape the change go into the ledger: `build` replays them.
        options = {"as_of": day.isoformat(), "partial": partial, "end_missing": end_missing}
        outcome = base.commit(store, plan, end_missing=end_missing, options=options,
                              inputs=[(f.source_name, f.data) for s in sets for f in s.files.values()])
    for line in base.describe_outcome(plan, outcome):
        click.echo(line)
    click.echo(f"store: {store.path}")
