"""The embedded store: versioned Oxigraph (RocksDB) directories behind one pointer.

Layout of a store directory::

    STORE/
      current -> versions/v-20261126T012600-1234   (symlink, swapped atomically)
      versions/v-.../                               one complete Oxigraph store each
      .lock                                         writers take it with flock

A write never touches the version readers use: it copies the current version
(a RocksDB checkpoint: hard links, cheap) or starts empty, changes the copy,
flushes and closes it, and only then swaps ``current`` with ``os.replace``.
So a failed or killed ``build``/``load`` leaves the store exactly as it was,
and a reader sees the old graph or the new one, never half of either.

One writer at a time: a second one waits for the lock, 30 s by default or
``TRADEKG_LOCK_WAIT`` seconds (``0`` refuses at once; tests shorten it), and
then refuses with a message naming the process that holds it. The lock is an
``flock``, so a killed writer's lock goes with its process. ``load`` holds it
from its first read (``VersionedStore.locked``), so a load that waited checks
and derives against what the load before it wrote.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import TradekgError

DEFAULT_STORE = Path(".tradekg") / "store"
STORE_ENV = "TRADEKG_STORE"
MANIFEST = "tradekg-manifest.json"
LOCK_WAIT_ENV = "TRADEKG_LOCK_WAIT"
DEFAULT_LOCK_WAIT = 30.0


class StoreMissing(TradekgError):
    pass


class StoreBusy(TradekgError):
    pass


def default_store_path() -> Path:
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


def lock_wait_seconds() -> float:
    """How long a writer waits for another one: ``TRADEKG_LOCK_WAIT`` seconds, default 30."""
    raw = os.environ.get(LOCK_WAIT_ENV, "").strip()
    if not raw:
        return DEFAULT_LOCK_WAIT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise TradekgError(f"{LOCK_WAIT_ENV} must be a number of seconds (0 or more), not {raw!r}")
    return seconds


class VersionedStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._held = False  # this object holds the writer lock (``locked``)

    @property
    def pointer(self) -> Path:
        return self.path / "current"

    @property
    def versions(self) -> Path:
        return self.path / "versions"

    def exists(self) -> bool:
        return self.pointer.is_symlink() and self.pointer.resolve().is_dir()

    def current_version(self) -> Path:
        if not self.exists():
            raise StoreMissing(
                f"no graph at {self.path}; run `tradekg build` first (or pass --store PATH)"
            )
        return self.pointer.resolve()

    def open_read(self) -> ox.Store:
        """A read-only view of the current version (safe beside a writer)."""
        return ox.Store.read_only(str(self.current_version()))

    def manifest(self) -> dict[str, Any]:
        path = self.current_version() / MANIFEST
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    @contextlib.contextmanager
    def _lock(self, wait_seconds: float) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        lock_path = self.path / ".lock"
        with open(lock_path, "a+", encoding="utf-8") as handle:
            deadline = time.monotonic() + wait_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        handle.seek(0)
                        holder = handle.read().strip() or "another process"
                        raise StoreBusy(
                            f"the store {self.path} is being written by {holder}; "
                            "try again when it has finished"
                        ) from None
                    time.sleep(0.1)
            handle.seek(0)
            handle.truncate()
            handle.write(f"tradekg pid {os.getpid()}\n")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def locked(self, wait_seconds: float | None = None) -> Iterator[None]:
        """Hold the writer lock around the reads a write depends on (re-entrant per object).

        A load reads the graph before it writes (duplicate identifiers, the
        manifest, which parties to re-derive). Taken before those reads, the
        lock makes a second load wait and then read what the first one wrote;
        taken only around ``write`` it would write on top of the first load's
        version checks and derivations made against the version before it.
        """
        if self._held:
            yield
            return
        with self._lock(lock_wait_seconds() if wait_seconds is None else wait_seconds):
            self._held = True
            try:
                yield
            finally:
                self._held = False

    @contextlib.contextmanager
    def write(self, *, from_current: bool, manifest: dict[str, Any] | None = None,
              wait_seconds: float | None = None, publish: bool = True) -> Iterator[ox.Store]:
        """Yield a writable new version; publish it only if the block succeeds.

        ``from_current`` starts from a copy of the current version (for
        ``load``); otherwise the new version starts empty (for ``build``).
        ``wait_seconds`` (default: ``TRADEKG_LOCK_WAIT`` or 30) is how long to
        wait for another writer before refusing with ``StoreBusy``.
        ``publish=False`` throws the version away even when the block succeeds
        (a dry run: ``tradekg validate FILES``).
        """
        with self.locked(wait_seconds):
            self.versions.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            target = self.versions / f"v-{stamp}-{os.getpid()}"
            previous = self.current_version() if self.exists() else None
            if from_current and self.exists():
                ox.Store.read_only(str(self.current_version())).backup(str(target))
            published = False
            try:
                store = ox.Store(str(target))
                try:
                    yield store
                    store.flush()
                finally:
                    del store  # closes RocksDB before the version is published
                if not publish:
                    return
                info = dict(manifest or {})
                info.setdefault("written_at", datetime.now(UTC).isoformat(timespec="seconds"))
                (target / MANIFEST).write_text(json.dumps(info, indent=2, sort_keys=True), encoding="utf-8")
                _fsync_dir(target)
                self._publish(target)
                published = True
            finally:
                if not published:
                    shutil.rmtree(target, ignore_errors=True)
            self._prune(keep={target.resolve(), previous})

    def _publish(self, target: Path) -> None:
        tmp = self.path / f".current-{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(os.path.relpath(target, self.path), tmp)
        os.replace(tmp, self.pointer)
        _fsync_dir(self.path)

    def _prune(self, keep: set[Path | None]) -> None:
        """Drop leftovers of killed writes and versions no reader can still be using.

        The version that was current until now is kept: a reader that opened it
        a moment ago may still be reading its files.
        """
        for version in self.versions.iterdir():
            if version.resolve() not in keep:
                shutil.rmtree(version, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
