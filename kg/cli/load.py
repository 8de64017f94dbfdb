"""``build``, ``load`` and ``validate``: CSV facts into the store."""

from __future__ import annotations

from pathlib import Path

import click

from kg.cli.common import endpoint_options, handle_errors, open_store, store_option
from kg.cli.validate import extra_shapes, shapes_option, validate_rdf
from kg.pipeline import build as builder
from kg.pipeline.check import check_tables


def _summary(outcome: builder.Outcome, verb: str, store_path: Path) -> str:
    rows = ", ".join(f"{n} {t}" for t, n in sorted(outcome.rows_per_table.items()))
    return (
        f"{verb} {sum(outcome.rows_per_table.values())} rows ({rows})\n"
        f"{outcome.fact_triples} fact triples, {outcome.derived_triples} derived, "
        f"{outcome.total_triples} in the store with the ontology\n"
        f"{outcome.report.text()}\n"
        f"store: {store_path}"
    )


@click.command()
@click.option("--data", "data_path", type=click.Path(path_type=Path, file_okay=False, exists=True),
              default=None, help="Folder of curated CSV files (default: the project's data/).")
@click.option("--discard-loads", is_flag=True,
              help="Drop every load and import in the store's ledger instead of replaying them.")
@click.option("--drop", "drop", type=int, multiple=True, metavar="N",
              help="Drop ledger entry N (see `tradekg history`) instead of replaying it; repeatable.")
@store_option
@shapes_option
@handle_errors
def build(data_path: Path | None, discard_loads: bool, drop: tuple[int, ...], store_path: Path | None,
          shapes: tuple[Path, ...]) -> None:
    """Load every CSV in data/, replay the store's loads and imports, validate, derive, write.

    Every `load` and `import` the store has taken is in its ledger and is
    replayed in order on top of data/, so a rebuild loses nothing; an entry
    that no longer fits (data/ changed under it) stops the build, naming it.
    Dropping entries is explicit: --drop N, or --discard-loads for all.
    All or nothing: if any row is wrong or the graph does not conform, the
    store keeps the graph it had.

    \b
    Example:
      tradekg build
      tradekg build --drop 2          # rebuild without ledger entry 2
      tradekg build --discard-loads   # data/ alone
    """
    from kg.pipeline.ledger import describe

    store = open_store(store_path)
    if not store.exists():
        click.echo(f"creating a new store at {store.path}", err=True)
    outcome = builder.build(store, builder.data_files(data_path), shapes=extra_shapes(shapes),
                            discard_loads=discard_loads, drop=drop)
    click.echo(_summary(outcome, "built from", store.path).rsplit("\n", 1)[0])
    for entry in outcome.replayed:
        click.echo(f"replayed ledger entry {entry['id']}: {describe(entry)}: {entry.get('summary', '')}")
    for entry in outcome.dropped:
        click.echo(f"dropped ledger entry {entry['id']}: {describe(entry)}: {entry.get('summary', '')}")
    click.echo(f"store: {store.path}")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--table", default=None, help="Table the files hold (default: guessed from the file name).")
@store_option
@endpoint_options
@click.option("--update-endpoint", envvar="TRADEKG_UPDATE_ENDPOINT", default=None, metavar="URL", show_envvar=True,
              help="With --endpoint: SPARQL Update URL (default: /update beside an Oxigraph /query URL).")
@shapes_option
@handle_errors
def load(files: tuple[Path, ...], table: str | None, store_path: Path | None, endpoint: str | None,
         graph_iri: str | None, timeout: float | None, update_endpoint: str | None, shapes: tuple[Path, ...]) -> None:
    """Add the facts in FILES to the store (or a server); validated; all or nothing.

    With --endpoint, the files are validated here together with the server's
    graph, and the new facts and rule effects are sent in one SPARQL Update.

    \b
    Example:
      tradekg load new-designations.csv --table designations
      tradekg load new-designations.csv --endpoint http://127.0.0.1:7878/query
    """
    if endpoint:
        if shapes:
            raise click.UsageError("--shapes is not supported with --endpoint: build or load locally, then push")
        from kg.graph.remote import DEFAULT_TIMEOUT, Endpoint
        from kg.pipeline.push import load_remote

        target = Endpoint(endpoint, graph=graph_iri or None, timeout=timeout or DEFAULT_TIMEOUT,
                          update_url=update_endpoint)
        target.update()  # fail now on an unknown layout, before any work
        remote = load_remote(builder.user_files(files, table), target)
        where = f"{endpoint}" + (f" graph <{graph_iri}>" if graph_iri else "")
        summary = _summary(remote.outcome, "loaded", Path(where)).rsplit("\n", 1)[0]
        if remote.concurrent:
            click.echo(f"the graph changed under this load: {remote.concurrent} other load(s) committed at the "
                       f"same moment; the rule effects were derived again on the graph with both, validated, "
                       f"and {remote.corrected} triples corrected", err=True)
        click.echo(f"{summary}\nsent {remote.inserted} new triples and {remote.deleted} removals (derived "
                   f"effects that no longer hold) in one update to {where}")
        return
    store = open_store(store_path)
    outcome = builder.load(store, builder.user_files(files, table), shapes=extra_shapes(shapes))
    click.echo(_summary(outcome, "loaded", store.path))


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--data", "data_paths", multiple=True, type=click.Path(path_type=Path, exists=True),
              help="An RDF file to validate (Turtle .ttl, N-Triples .nt, N-Quads .nq, JSON-LD .jsonld; "
                   "repeatable), or a folder of curated CSV files to check when no FILES are given.")
@click.option("--table", default=None, help="Table the files hold (default: guessed from the file name).")
@store_option
@shapes_option
@click.option("--format", "fmt", type=click.Choice(["text", "turtle", "json"]), default="text", show_default=True,
              help="With --data FILE: a readable report, or a standard sh:ValidationReport in Turtle or JSON-LD.")
@handle_errors
def validate(files: tuple[Path, ...], data_paths: tuple[Path, ...], table: str | None, store_path: Path | None,
             shapes: tuple[Path, ...], fmt: str) -> None:
    """Check data against the SHACL shapes without writing anything.

    With no FILES, checks the curated data/ folder as `build` would. FILES
    are checked as a load would check them: together with the facts already
    in the store. With --data FILE.ttl (any RDF graph) and --shapes
    SHAPES.ttl, validates that graph against those shapes (the project's
    without --shapes) with the engine build uses. --shapes without --data
    adds the shapes to the project's for this check. Exits 0 when the data
    conforms, 1 when it does not, 2 for bad input or a shape refused.
    Every violation in CSV data is reported as file:line: column.

    \b
    Example:
      tradekg validate --shapes shapes.ttl --data graph.ttl --format turtle
    """
    folders = [p for p in data_paths if p.is_dir()]
    graphs = [p for p in data_paths if not p.is_dir()]
    if graphs:
        if folders or files:
            raise click.UsageError("--data RDF files are validated on their own: give no CSV FILES or folder")
        validate_rdf(graphs, shapes, fmt)
        return
    if fmt != "text":
        raise click.UsageError("--format turtle|json goes with --data FILE (an RDF graph)")
    if len(folders) > 1:
        raise click.UsageError("give one --data folder of CSV files")
    data_path = folders[0] if folders else None
    extra = extra_shapes(shapes)
    if files:
        store = open_store(store_path)
        if store.exists():
            # Exactly what ``load`` would check, in a version that is thrown away:
            # about a second at a million triples, where copying the graph for
            # pySHACL would take minutes.
            report = builder.load(store, builder.user_files(files, table), dry_run=True, shapes=extra).report
        else:
            report = check_tables(builder.user_files(files, table), extra)
    else:
        report = check_tables(builder.data_files(data_path), extra)
    click.echo(report.text())
    if not report.conforms:
        raise SystemExit(1)
