"""``tradekg check``: is the store sound, and which kept versions could it go back to?

A store can be damaged under tradekg: a disk fills or fails, a backup copies
half a file, someone edits a manifest. Each command that meets the damage
stops with one line naming it; this check looks at everything at once, so a
user knows which version ``tradekg rollback`` can bring back before trying.

For every kept version: its manifest reads as JSON (it holds the ledger); its
database opens and every quad reads back (a cut or missing file shows here);
the count matches the one the manifest recorded; and every input its ledger
names is in ``STORE/inputs`` with its sha256 intact (a build replays them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.errors import TradekgError
from kg.graph.store import ManifestDamaged, StoreDamaged, VersionedStore, open_version


@dataclass
class VersionCheck:
    """What the check found about one kept version."""

    path: Path
    current: bool
    manifest: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)
    quads: int | None = None

    @property
    def number(self) -> str:
        return str(self.manifest.get("version", "?")) if self.manifest else "?"

    @property
    def sound(self) -> bool:
        return not self.problems


def check_store(store: VersionedStore) -> list[VersionCheck]:
    """Check every kept version of ``store`` (oldest first); the current one is marked."""
    if not store.pointer.is_symlink():
        raise TradekgError(f"no graph at {store.path}: it has no `current` version to check")
    current = store.pointer.resolve()
    if not current.is_dir():
        raise StoreDamaged(f"the store {store.path} points at {current.name}, which is gone; "
                           "`tradekg rollback N` to a kept version (see `tradekg history`) or build again")
    checks = []
    for path, info in store.kept():
        check = VersionCheck(path, path == current, None if isinstance(info, ManifestDamaged) else info)
        if isinstance(info, ManifestDamaged):
            check.problems.append(f"manifest damaged: {info.path.name} cannot be read, its ledger is lost here")
        _check_database(check)
        if check.manifest is not None:
            _check_inputs(store, check)
        checks.append(check)
    return checks


def _check_database(check: VersionCheck) -> None:
    try:
        database = open_version(check.path)
        count = 0
        for _ in database.quads_for_pattern(None, None, None, None):
            count += 1
        del database
    except (StoreDamaged, OSError, RuntimeError) as exc:
        text = str(exc).split(" cannot be read (", 1)[-1].split("); `tradekg check", 1)[0]
        check.problems.append(f"database damaged: {text.splitlines()[0][:200] if text else type(exc).__name__}")
        return
    check.quads = count
    recorded = (check.manifest or {}).get("triples")
    if isinstance(recorded, int) and recorded != count:
        check.problems.append(f"holds {count:,} triples where its manifest recorded {recorded:,}")


def _check_inputs(store: VersionedStore, check: VersionCheck) -> None:
    for entry in (check.manifest or {}).get("ledger", []):
        for item in entry.get("inputs", []):
            try:
                store.get_input(str(item.get("sha256")))
            except TradekgError:
                check.problems.append(f"ledger entry {entry.get('id')}: input {item.get('name')} "
                                      f"(sha256 {str(item.get('sha256'))[:12]}) is missing or damaged")
