"""``history`` and ``rollback``: the store's versions and ledger, and going back to one."""

from __future__ import annotations

from pathlib import Path

import click

from kg.answers.render import wrap_text
from kg.cli.common import handle_errors, open_store, store_option


@click.command()
@store_option
@handle_errors
def history(store_path: Path | None) -> None:
    """List the store's versions and the ledger of loads and imports a build replays.

    Each version: its number, when it was written, by which command, what it
    added or removed, and its triple count; * marks the current one. Then the
    current ledger, oldest first: what `tradekg build` replays on top of data/.

    \b
    Example:
      tradekg history
      tradekg rollback 3
    """
    from kg.pipeline.history import versions
    from kg.pipeline.ledger import describe, entries

    store = open_store(store_path)
    kept = versions(store)
    click.echo(wrap_text(f"versions of {store.path} (oldest first; * is current; `tradekg rollback N` goes back):"))
    rows = [("", "#", "written (UTC)", "command", "triples", "change")]
    before = None
    for version in kept:
        triples = version.manifest.get("triples")
        rows.append(("*" if version.current else "", str(version.number), str(version.manifest.get("written_at", "?")),
                     version.command, f"{triples:,}" if isinstance(triples, int) else "?", version.change(before)))
        before = version
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    last = 2 + sum(w + 2 for w in widths)  # where the "change" column starts
    for row in rows:
        click.echo(wrap_text("  " + "  ".join(cell.ljust(widths[i]) if i < 5 else cell
                                              for i, cell in enumerate(row)).rstrip(), under=last))
    ledger = entries(next(v for v in kept if v.current).manifest)
    if not ledger:
        click.echo(wrap_text("ledger: empty (the graph is data/ alone; `tradekg load` and `tradekg import` add to it)"))
        return
    click.echo(wrap_text("ledger (replayed in this order by `tradekg build`; "
                         "`tradekg build --drop N` leaves one out):"))
    for entry in ledger:
        click.echo(wrap_text(f"  {entry['id']}  {describe(entry)}: {entry.get('summary', '')}", hang=3))
        click.echo(wrap_text(f"     {entry.get('command', '')}"))


@click.command()
@click.argument("version", required=False)
@store_option
@handle_errors
def rollback(version: str | None, store_path: Path | None) -> None:
    """Make an earlier VERSION current again (default: the one before the current).

    VERSION is a number from `tradekg history`. The rollback is atomic and is
    itself a new version in the history, so rolling back again undoes it. The
    ledger comes back as it was in that version.

    \b
    Example:
      tradekg rollback        # undo the last build, load or import
      tradekg rollback 3
    """
    from kg.pipeline.history import rollback as roll_back

    store = open_store(store_path)
    target, now = roll_back(store, version)
    triples = target.manifest.get("triples")
    counted = f" ({triples:,} triples)" if isinstance(triples, int) else ""
    click.echo(f"rolled back to version {target.number} ({target.command} of "
               f"{target.manifest.get('written_at', '?')}){counted}; now version {now.number}\nstore: {store.path}")


@click.command()
@store_option
@handle_errors
def check(store_path: Path | None) -> None:
    """Check the store and each kept version: manifest, ledger, database, inputs.

    Says which versions are sound, so you know what `tradekg rollback N` can
    bring back. Exit status 1 when anything is damaged.

    \b
    Example:
      tradekg check
    """
    from kg.pipeline.verify import check_store

    store = open_store(store_path)
    checks = check_store(store)
    click.echo(f"store {store.path}: {len(checks)} kept version{'s' if len(checks) != 1 else ''} "
               "(oldest first; * is current)")
    for item in checks:
        mark = "*" if item.current else " "
        if item.sound:
            ledger = len((item.manifest or {}).get("ledger", []))
            click.echo(f"  {mark} {item.number:>4}  sound: {item.quads:,} triples, ledger of {ledger} "
                       f"entr{'y' if ledger == 1 else 'ies'} with its inputs  ({item.path.name})")
        else:
            click.echo(f"  {mark} {item.number:>4}  DAMAGED ({item.path.name}):")
            for problem in item.problems:
                click.echo(f"           {problem}")
    current = next((c for c in checks if c.current), None)
    sound = [c for c in checks if c.sound and c.manifest]
    if current is not None and current.sound and len(sound) == len(checks):
        click.echo("every kept version is sound")
        return
    if current is not None and current.sound:
        click.echo("the current version is sound; the damaged ones above cannot be rolled back to")
    elif sound:
        click.echo(f"the current version is damaged: `tradekg rollback {sound[-1].number}` brings back the newest "
                   "sound one with its ledger; then redo the loads and imports that came after it")
    else:
        click.echo("no kept version is sound: `tradekg build` rebuilds the graph from data/ "
                   "(loads and imports must then be done again)")
    raise SystemExit(1)
