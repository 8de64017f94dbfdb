"""The ledger: every ``load`` and ``import`` a store has taken, kept so ``build`` can replay it.

``tradekg build`` rebuilds the graph from ``data/``. Without a record of what
was added on top, it would silently drop every loaded row and imported list.
So each ``load`` and ``import`` writes an entry into the manifest of the
version it publishes (``kg.graph.store``), and keeps the input's bytes in the store
under their sha256 (``STORE/inputs/SHA256``): a replay never depends on the
file still being where it was. An entry is::

    {"id": 3, "kind": "import csl", "command": "tradekg import csl consolidated.csv --as-of 2026-12-01",
     "inputs": [{"name": "consolidated.csv", "sha256": "...", "bytes": 812345}],
     "options": {"as_of": "2026-12-01", "partial": false, ...},
     "at": "2026-12-04T19:40:00+00:00", "summary": "1,203 designations new, 0 changed"}

``build`` builds ``data/`` in memory, then replays the entries in order: each
replay computes its change against the graph built so far, the change is
validated on the nodes it touches (``kg.pipeline.incremental.validate_delta``) and
applied. A replay that no longer loads or validates (``data/`` changed under
it) stops the build with ``ReplayFailed``, naming the entry, and the store
keeps the graph it had. Because the ledger lives in each version's manifest, a
rollback brings back the ledger of the version it returns to.

Plugging in an importer
-----------------------
An importer is a *kind* (``"import federal-register"``) and a replay function::

    from kg.pipeline import ledger

    def replay(graph: pyoxigraph.Store, inputs: list[ledger.StoredInput], options: dict) -> ledger.Change:
        # Parse inputs[0].data (bytes; inputs[0].name is the name it was imported under) with the
        # options the import recorded, and compute the change against ``graph`` exactly as the live
        # import does against the store: what to remove, what to add, which nodes that touches.
        return ledger.Change(removals, additions, focus, summary="12 rules new")

    ledger.register("import federal-register", replay)

The live command records itself under the writer lock, before it commits::

    with store.locked():
        entry = ledger.new_entry(store, "import federal-register", [(name, data)], options, command)
        ...plan the change against store.open_read()...
        commit_delta(store, removals, additions, focus,
                     {"command": "import federal-register", **ledger.manifest_with(store, entry, summary)})

and adds its module to ``PLUGINS`` below, so ``build`` finds the replay function
without the CLI having imported the module. ``options`` must be JSON (it goes
into the manifest); a replay must be deterministic given its inputs, options and
the graph (record a date rather than reading the clock).
"""

from __future__ import annotations

import importlib
import shlex
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyoxigraph as ox

from kg.checks.validate import ValidationFailed
from kg.errors import InputProblem, LoadFailed, TradekgError
from kg.graph.store import VersionedStore

# Modules that register a replay function when imported (one per kind of input).
PLUGINS = ("kg.pipeline.loads", "kg.sources.csl_import", "kg.sources.imports", "kg.monitor.watch")


@dataclass(frozen=True)
class StoredInput:
    """One input of a ledger entry: the name it was given and its bytes, from the store."""

    name: str
    data: bytes
    sha256: str
    table: str | None = None  # for ``load``: the table it was loaded as


@dataclass
class Change:
    """What one entry adds to and removes from the graph, and the nodes whose shapes to check."""

    removals: list[ox.Quad] = field(default_factory=list)
    additions: list[ox.Quad] = field(default_factory=list)
    focus: set[str] = field(default_factory=set)
    summary: str = ""
    unheld: set[str] = field(default_factory=set)  # focus nodes the graph held nothing about (SourcePlan.unheld)


Replay = Callable[[ox.Store, list[StoredInput], dict[str, Any]], Change]
_REPLAYERS: dict[str, Replay] = {}


def register(kind: str, replay: Replay) -> None:
    """Make ``kind`` replayable: ``build`` calls ``replay(graph, inputs, options)`` for each of its entries."""
    _REPLAYERS[kind] = replay


def replayer(kind: str) -> Replay:
    if kind not in _REPLAYERS:
        for module in PLUGINS:
            importlib.import_module(module)
    try:
        return _REPLAYERS[kind]
    except KeyError:
        raise TradekgError(f"the ledger has an entry of kind {kind!r}, which this tradekg cannot replay; "
                           f"known kinds: {', '.join(sorted(_REPLAYERS))}") from None


class ReplayFailed(TradekgError):
    """A ledger entry no longer loads or validates on the rebuilt graph; nothing was written."""

    def __init__(self, entry: dict[str, Any], cause: LoadFailed | ValidationFailed | TradekgError):
        self.entry = entry
        self.cause = cause
        super().__init__(
            f"ledger entry {entry['id']} ({describe(entry)}) no longer fits the rebuilt graph; nothing was "
            f"written. Fix data/ (or the input) and build again, or drop the entry: "
            f"`tradekg build --drop {entry['id']}` (every load and import: --discard-loads)")

    def details(self) -> str:
        if isinstance(self.cause, LoadFailed):
            return self.cause.details()
        if isinstance(self.cause, ValidationFailed):
            return self.cause.report.text()
        return str(self.cause)


def describe(entry: dict[str, Any]) -> str:
    """One line naming an entry: kind, inputs (name, short hash), when."""
    names = ", ".join(f"{i['name']} sha256 {i['sha256'][:12]}" for i in entry.get("inputs", []))
    return f"{entry['kind']} {names}, {entry.get('at', '?')}"


def entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return list(manifest.get("ledger", []))


def command_line() -> str:
    """The command that is running, for the record: ``tradekg import csl FILE --as-of DATE``.

    Written from the arguments click parsed (so it reads the same however the
    command was started), leaving out options left at their defaults, and
    never the environment (where credentials live).
    """
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return shlex.join(["tradekg", *sys.argv[1:]])
    words = ["tradekg", *ctx.command_path.split()[1:]]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if value is None or value is False or value == () or value == param.default:
            continue
        values = value if isinstance(value, tuple | list) else [value]
        if hasattr(value, "strftime"):
            values = [value.strftime("%Y-%m-%d")]
        if isinstance(param, click.Argument):
            words += [str(v) for v in values]
        elif value is True:
            words.append(param.opts[-1])
        else:
            for v in values:
                words += [param.opts[-1], str(v)]
    return shlex.join(words)


def new_entry(store: VersionedStore, kind: str, inputs: Iterable[tuple[str, bytes] | tuple[str, bytes, str | None]],
              options: dict[str, Any], command: str | None = None) -> dict[str, Any]:
    """Keep the inputs' bytes in the store and return the entry that records them (not yet in any version).

    Call it holding the writer lock: pruning, which also runs under it, drops
    inputs no version names.
    """
    recorded = []
    for item in inputs:
        name, data = item[0], item[1]
        table = item[2] if len(item) > 2 else None  # type: ignore[misc]
        record: dict[str, Any] = {"name": name, "sha256": store.put_input(data), "bytes": len(data)}
        if table:
            record["table"] = table
        recorded.append(record)
    previous = entries(store.manifest()) if store.exists() else []
    return {
        "id": max((e["id"] for e in previous), default=0) + 1,
        "kind": kind,
        "command": command or command_line(),
        "inputs": recorded,
        "options": options,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def manifest_with(store: VersionedStore, entry: dict[str, Any], summary: str) -> dict[str, Any]:
    """The manifest fields of a version that adds ``entry`` to the current ledger."""
    entry = {**entry, "summary": summary}
    previous = entries(store.manifest()) if store.exists() else []
    return {"ledger": [*previous, entry], "entry": entry["id"]}


def stored_inputs(store: VersionedStore, entry: dict[str, Any]) -> list[StoredInput]:
    return [StoredInput(i["name"], store.get_input(i["sha256"]), i["sha256"], i.get("table"))
            for i in entry.get("inputs", [])]


def replay(graph: ox.Store, store: VersionedStore, ledger: list[dict[str, Any]],
           progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Replay ``ledger`` onto ``graph`` (facts only; derive afterwards), in order, validating each entry.

    Returns the entries with their summaries as this replay found them.
    Raises ``ReplayFailed`` naming the first entry that no longer loads or
    validates.
    """
    from kg.pipeline.incremental import validate_delta

    replayed = []
    for entry in ledger:
        if progress:
            progress(f"replaying ledger entry {entry['id']}: {describe(entry)}")
        try:
            change = replayer(entry["kind"])(graph, stored_inputs(store, entry), dict(entry.get("options", {})))
            report = validate_delta(graph, change.focus, change.removals, change.additions, unheld=change.unheld)
            if not report.conforms:
                raise ValidationFailed(report)
        except (LoadFailed, ValidationFailed) as exc:
            raise ReplayFailed(entry, exc) from None
        except TradekgError as exc:
            if isinstance(exc, ReplayFailed):
                raise
            raise ReplayFailed(entry, LoadFailed([InputProblem(describe(entry), None, None, str(exc))])) from None
        for quad in change.removals:
            graph.remove(quad)
        graph.extend(change.additions)
        replayed.append({**entry, "summary": change.summary or entry.get("summary", "")})
    return replayed
