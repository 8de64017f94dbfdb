"""The store's versions as a user sees them: ``tradekg history`` and ``tradekg rollback``.

A rollback does not move ``current`` back to an old directory: it publishes a
new version, a checkpoint copy (hard links) of the old one, through the same
atomic write as every other command. So it is all or nothing, it is itself a
line of the history (and can be undone by rolling back again), and the
ledger that comes back with it is the one that version had: a later
``build`` replays what was loaded up to that version, not what was undone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.errors import TradekgError
from kg.graph.store import VersionedStore


@dataclass
class Version:
    number: int
    path: Path
    manifest: dict[str, Any]
    current: bool

    @property
    def command(self) -> str:
        info = self.manifest
        if info.get("command") == "rollback":
            return f"rollback to {info.get('rolled_back_to')}"
        return str(info.get("command", "?"))

    def change(self, before: Version | None) -> str:
        """What this version added or removed, in words."""
        info = self.manifest
        triples, previous = info.get("triples"), (before.manifest.get("triples") if before else None)
        if "added" in info:
            text = f"+{info['added']:,} -{info.get('removed', 0):,} facts"
            if info.get("derived"):
                text += f", {info['derived']:,} derived"
        elif isinstance(triples, int) and isinstance(previous, int):
            text = f"{triples - previous:+,} triples"
        else:
            text = ""
        extra = []
        if info.get("command") == "build":
            extra.append(f"{sum(info.get('rows_per_table', {}).values()):,} curated rows")
            if info.get("ledger"):
                extra.append(f"replayed {len(info['ledger'])} ledger entr{'y' if len(info['ledger']) == 1 else 'ies'}")
            if info.get("dropped"):
                extra.append(f"dropped entr{'y' if len(info['dropped']) == 1 else 'ies'} "
                             f"{', '.join(map(str, info['dropped']))}")
        entry = next((e for e in info.get("ledger", []) if e.get("id") == info.get("entry")), None)
        if entry is not None:
            extra.append(f"ledger entry {entry['id']}: {entry.get('summary', '')}")
        return "; ".join(x for x in [text, *extra] if x)


def versions(store: VersionedStore, damaged_current: bool = False) -> list[Version]:
    """The kept versions, oldest first, numbered by their serial (stable across pruning).

    A current version whose manifest cannot be read raises ``ManifestDamaged``,
    unless ``damaged_current`` (a rollback away from it): then it is left out.
    """
    current = store.current_version()
    found = []
    for position, (path, info) in enumerate(store.history(damaged_current=damaged_current), start=1):
        found.append(Version(int(info.get("version", position)), path, info, path == current))
    return found


def find(store: VersionedStore, spec: str | None) -> Version:
    """The version ``spec`` names: its number, its directory name, or (None) the one before the current."""
    kept = versions(store, damaged_current=True)
    if spec is None:
        current = next((v for v in kept if v.current), None)
        earlier = [v for v in kept if current is None or v.number < current.number]
        if current is None and earlier:
            return earlier[-1]  # the current version's manifest is damaged: the newest sound one
        if current is None or not earlier:
            raise TradekgError(f"the store {store.path} keeps no version before the current one "
                               f"(version {current.number if current else '?'}); nothing to roll back to")
        return earlier[-1]
    wanted = spec.strip().lstrip("#")
    for version in kept:
        if wanted == str(version.number) or wanted == version.path.name:
            return version
    numbers = ", ".join(str(v.number) for v in kept)
    raise TradekgError(f"no version {spec!r} in {store.path}; kept versions: {numbers} (see `tradekg history`)")


def rollback(store: VersionedStore, spec: str | None) -> tuple[Version, Version]:
    """Make version ``spec`` (default: the one before the current) current again; return (from, to) versions."""
    with store.locked():
        target = find(store, spec)
        if target.current:
            raise TradekgError(f"version {target.number} is already the current one in {store.path}")
        info = target.manifest
        manifest = {key: info[key] for key in ("files", "rows_per_table", "ledger", "unrecorded", "triples")
                    if key in info}
        manifest.update({"command": "rollback", "rolled_back_to": target.number,
                         "restores": f"{target.command} of {info.get('written_at', '?')}"})
        with store.write(from_current=False, from_version=target.path, manifest=manifest):
            pass
        now = next(v for v in versions(store) if v.current)
    return target, now
