"""``tradekg import csl`` as a ledger kind: the live import and its replay plan the same way.

The options that change what an import does (``as_of``, ``partial``,
``strict``, ``end_missing``) are recorded in the ledger entry, so a replay
maps the stored bytes exactly as the import did, against the graph rebuilt so
far: the same rows taken, the same entries ended on the same date.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import TradekgError
from kg.graph.store import VersionedStore
from kg.pipeline import ledger
from kg.pipeline.incremental import DeltaOutcome, commit_delta
from kg.sources import csl as importer

KIND = "import csl"


def plan(graph: ox.Store, data: bytes, name: str, display: str, options: dict[str, Any],
         progress: Callable[[Iterable[importer.CslRow], int], Iterable[importer.CslRow]] | None = None,
         ) -> importer.ImportPlan:
    """Read ``data`` as a CSL file and plan its import into ``graph``; refuse what the options refuse."""
    with tempfile.TemporaryDirectory(prefix="tradekg-csl-") as tmp:
        path = Path(tmp) / (Path(name).name or "consolidated.csv")
        path.write_bytes(data)
        parsed = importer.read_csl(path, display, source_name=name)
    total = len(parsed.rows)
    planned = importer.plan_import(parsed, graph, date.fromisoformat(options["as_of"]),
                                   progress=(lambda rows: progress(rows, total)) if progress else None,
                                   partial=bool(options.get("partial")))
    return planned


def refusal(planned: importer.ImportPlan, options: dict[str, Any]) -> str | None:
    """Why the options refuse this plan (mass end-dating, --strict with problems), or None."""
    mass = planned.mass_endings()
    if mass and not options.get("end_missing"):
        lists = "; ".join(f"{n} of {m} entries of <{lst}>" for lst, (n, m) in sorted(mass.items()))
        return (f"this file lacks {lists} imported before; nothing was imported. If it is a subset "
                "of the list, pass --partial; if those entries were all removed, pass --end-missing")
    if options.get("strict") and planned.problems:
        return f"{len(planned.problems)} row(s) cannot be mapped; nothing was imported (--strict)"
    return None


def summary(planned: importer.ImportPlan) -> str:
    return (f"{sum(planned.rows_per_list.values())} rows taken; designations: {planned.new_designations} new, "
            f"{planned.changed_designations} changed, {planned.ended_designations} ended")


def commit(store: VersionedStore, planned: importer.ImportPlan, name: str, data: bytes, options: dict[str, Any],
           command: str = KIND) -> DeltaOutcome:
    """Validate and write a CSL plan (all or nothing), recorded in the ledger as ``import csl`` with its options.

    The one commit of the CSL's two commands (``import csl``, ``update csl``):
    the manifest says what the CSL import reads (file, layout, rows per list,
    as_of) under ``command``; the ledger entry keeps ``data`` so ``build``
    replays it (``replay``). Call it holding the writer lock, after ``refusal``.
    ``kg.sources.base.commit`` is not used: its manifest lists the files under
    "imported" with counts, and its ledger line and refusal are worded for
    several files, where the CSL's have said "this file" since before the base.
    """
    manifest = {"command": command, "file": name, "layout": planned.file.layout,
                "rows_per_list": planned.rows_per_list, "as_of": options["as_of"],
                "files": list(store.manifest().get("files", []))}
    if planned.removals or planned.additions:
        entry = ledger.new_entry(store, KIND, [(name, data)], options)
        manifest.update(ledger.manifest_with(store, entry, summary(planned)))
    return commit_delta(store, planned.removals, planned.additions, planned.focus, manifest, unheld=planned.unheld)


def replay(graph: ox.Store, inputs: list[ledger.StoredInput], options: dict[str, Any]) -> ledger.Change:
    (stored,) = inputs
    planned = plan(graph, stored.data, stored.name, stored.name, options)
    why = refusal(planned, options)
    if why:
        raise TradekgError(why)
    return ledger.Change(list(planned.removals), list(planned.additions), set(planned.focus), summary(planned),
                         set(planned.unheld))


ledger.register(KIND, replay)
