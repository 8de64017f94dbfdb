"""The embedded store: versioned Oxigraph (RocksDB) directories behind one pointer.

Layout of a store directory::

    STORE/
      current -> versions/v-20261126T012600-1234   (symlink, swapped atomically)
      versions/v-.../                               one complete Oxigraph store each,
        tradekg-manifest.json                       what wrote it, its counts, its ledger
        tradekg-readers.lock                        readers hold a shared flock on it
      inputs/SHA256                                 the bytes of every load and import
      .lock                                         writers take it with flock

Each version's manifest carries the ledger of what was loaded and imported on
top of ``data/`` (``kg.pipeline.ledger``), so a rollback brings back the ledger
of its version, and ``build`` replays it.

A write never touches the version readers use: it copies the current version
(a RocksDB checkpoint: hard links, cheap) or starts empty, changes the copy,
flushes and closes it, and only then swaps ``current`` with ``os.replace``.
So a failed or killed ``build``/``load`` leaves the store exactly as it was,
and a reader sees the old graph or the new one, never half of either.

Versions kept: the current one, the newest ``TRADEKG_KEEP_VERSIONS`` (default
5: a build writes a whole new store, so each kept build costs its size on disk)
before it for ``tradekg rollback``, and any a reader still has open (every
``open_read`` holds a shared ``flock`` on the version until the process ends or
calls ``release_readers``; pruning skips a version it cannot lock). A version
directory without a manifest, or newer than ``current``, is what a killed
writer left and is always removed.

The store of a project is found as git finds its folder: with no ``--store``
and no ``TRADEKG_STORE``, the nearest ``.tradekg/store`` in the working folder or
above it (``find_store``); with none anywhere, ``.tradekg/store`` here.

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
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from kg.errors import TradekgError

DEFAULT_STORE = Path(".tradekg") / "store"
STORE_ENV = "TRADEKG_STORE"
MANIFEST = "tradekg-manifest.json"
READERS = "tradekg-readers.lock"
LOCK_WAIT_ENV = "TRADEKG_LOCK_WAIT"
DEFAULT_LOCK_WAIT = 30.0
KEEP_ENV = "TRADEKG_KEEP_VERSIONS"
DEFAULT_KEEP = 5


class StoreMissing(TradekgError):
    pass


class StoreBusy(TradekgError):
    pass


def find_store(start: Path | None = None) -> Path | None:
    """The nearest ``.tradekg/store`` in ``start`` (default: the working folder) or above it.

    As ``.git`` marks a repository, a ``.tradekg`` folder marks the project,
    whether or not its store has been built yet.
    """
    here = Path(os.path.abspath(start or Path.cwd()))
    for folder in (here, *here.parents):
        if (folder / DEFAULT_STORE.parent).is_dir():
            return folder / DEFAULT_STORE
    return None


def default_store_path() -> Path:
    """``TRADEKG_STORE``, else the project's store (``find_store``), else ``.tradekg/store`` here; absolute."""
    chosen = os.environ.get(STORE_ENV)
    if chosen:
        return Path(os.path.abspath(chosen))
    return find_store() or Path(os.path.abspath(DEFAULT_STORE))


def project_root(store: Path | None = None) -> Path:
    """The folder a project's file names are relative to: the one holding ``.tradekg``.

    For a store at ``PROJECT/.tradekg/store`` that is PROJECT; otherwise the
    folder holding the nearest ``.tradekg`` above the working folder, or the
    working folder itself.
    """
    if store is not None:
        store = Path(os.path.abspath(store))
        if store.name == DEFAULT_STORE.name and store.parent.name == DEFAULT_STORE.parent.name:
            return store.parent.parent
    found = find_store()
    return found.parent.parent if found is not None else Path(os.path.abspath(Path.cwd()))


def keep_versions() -> int:
    """How many versions before the current one are kept for rollback: ``TRADEKG_KEEP_VERSIONS``, default 5."""
    raw = os.environ.get(KEEP_ENV, "").strip()
    if not raw:
        return DEFAULT_KEEP
    try:
        count = int(raw)
    except ValueError:
        count = -1
    if count < 1:
        raise TradekgError(f"{KEEP_ENV} must be a whole number of versions, 1 or more, not {raw!r}")
    return count


# Shared flocks this process holds on the versions it has opened for reading.
_reader_locks: dict[Path, int] = {}


def _hold_reader_lock(version: Path) -> None:
    if version in _reader_locks:
        return
    try:
        fd = os.open(version / READERS, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return  # a read-only store: nothing can prune it from here either
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    except OSError:
        os.close(fd)
        return
    _reader_locks[version] = fd


def release_readers(keep: Path | None = None) -> None:
    """Let go of the reader locks this process holds (except on ``keep``), so old versions can be pruned.

    A long-running reader (a server) that has switched to a newer version
    calls this; a command-line process never needs to (its locks end with it).
    """
    for version in list(_reader_locks):
        if keep is not None and version == Path(keep).resolve():
            continue
        os.close(_reader_locks.pop(version))


def _in_use(version: Path) -> bool:
    """True when a reader (in any process) holds the version's reader lock."""
    if version in _reader_locks:
        return True
    try:
        fd = os.open(version / READERS, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


class StoreDamaged(TradekgError):
    """Part of the store cannot be read: a manifest (and the ledger in it), or a version's database."""


class ManifestDamaged(StoreDamaged):
    """A version's manifest exists but cannot be read: its ledger is not lost silently."""

    def __init__(self, path: Path, why: str):
        self.path = path
        store = path.parent.parent.parent
        super().__init__(
            f"the manifest {path} cannot be read ({why}); it holds the ledger of loads and imports that "
            f"`tradekg build` replays, so nothing is written until it is sound again. To recover: "
            f"`tradekg check --store {store}` says which kept versions are sound; `tradekg rollback N` "
            f"makes one current with its ledger (the inputs of every load and import stay in "
            f"{store / 'inputs'}), then redo the loads and imports that came after it")


def read_manifest(version: Path) -> dict[str, Any] | None:
    """A version's manifest, or None for a directory a killed writer left without one.

    A manifest that is there but cannot be read (cut short, emptied, not
    JSON) raises ``ManifestDamaged``: treating it as absent would start an
    empty ledger, and the next build would drop every load and import.
    """
    path = version / MANIFEST
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestDamaged(path, str(exc)) from None
    try:
        info = json.loads(text)
    except ValueError as exc:
        raise ManifestDamaged(path, f"not JSON: {exc}" if text.strip() else "it is empty") from None
    if not isinstance(info, dict):
        raise ManifestDamaged(path, "not a JSON object")
    return info


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it, fsync, rename, fsync of the folder."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)


def open_version(version: Path) -> ox.Store:
    """A version's database, read-only; a damaged one is a one-line ``StoreDamaged`` with the way out."""
    try:
        return ox.Store.read_only(str(version))
    except (OSError, RuntimeError) as exc:  # RocksDB reports corruption as RuntimeError
        raise damaged_version(version, exc) from None


def damaged_version(version: Path, exc: BaseException) -> StoreDamaged:
    """The error for a version whose database RocksDB cannot read (a cut file, an emptied CURRENT)."""
    store = version.parent.parent
    first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return StoreDamaged(
        f"the store version {version} cannot be read ({first}); `tradekg check --store {store}` says which "
        f"kept versions are sound, and `tradekg rollback N` makes one of them current")


class WritableVersion:
    """The database of the version being written, which ``close`` shuts for good.

    ``VersionedStore.write`` yields this rather than the ``ox.Store``: the
    caller's ``with ... as target`` name outlives the block, and an Oxigraph
    store closes only when its last reference goes. A version published while
    its writer still has it open is not finished: RocksDB may still flush and
    compact in the background (a bulk load leaves many files to merge), and a
    reader that opens the version then can find a file listed and already
    deleted. Closing here, before the pointer moves, makes every published
    version a set of files nobody changes again.
    """

    __slots__ = ("_store",)

    def __init__(self, store: ox.Store):
        self._store: ox.Store | None = store

    def _open(self) -> ox.Store:
        if self._store is None:
            raise RuntimeError("this store version was written and closed; open it again to read it")
        return self._store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._open(), name)

    def __len__(self) -> int:
        return len(self._open())

    def __iter__(self) -> Iterator[ox.Quad]:
        return iter(self._open())

    def __contains__(self, quad: object) -> bool:
        return quad in self._open()

    def close(self, strict: bool = True) -> None:
        """Drop the one reference to the database, which closes it; ``strict``: refuse if anything else holds it."""
        store, self._store = self._store, None
        if strict and store is not None and sys.getrefcount(store) > 2:  # this name and getrefcount's own argument
            raise RuntimeError("the version being written is still referenced elsewhere (a bound method kept "
                               "past the write?), so RocksDB would stay open after it is published")


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
        """A read-only view of the current version (safe beside a writer).

        The version is marked in use (a shared flock held until this process
        ends or calls ``release_readers``), so pruning never removes it.
        """
        version = self.current_version()
        _hold_reader_lock(version)
        return open_version(version)

    def manifest(self) -> dict[str, Any]:
        """The current version's manifest ({} for none); ``ManifestDamaged`` if it cannot be read."""
        return read_manifest(self.current_version()) or {}

    def kept(self) -> list[tuple[Path, dict[str, Any] | ManifestDamaged]]:
        """Every published version still kept, oldest first, with its manifest or the error reading it."""
        if not self.versions.is_dir():
            return []
        current = self.current_version() if self.exists() else None
        kept: list[tuple[Path, dict[str, Any] | ManifestDamaged]] = []
        for version in sorted(self.versions.iterdir(), key=lambda p: p.name):
            if not version.name.startswith("v-") or (current is not None and version.name > current.name):
                continue
            try:
                info = read_manifest(version)
            except ManifestDamaged as exc:
                kept.append((version, exc))
                continue
            if info is not None:
                kept.append((version, info))
        return kept

    def history(self, damaged_current: bool = False) -> list[tuple[Path, dict[str, Any]]]:
        """Every version that was published and is still kept, oldest first, with its manifest.

        An older version whose manifest cannot be read is left out (``tradekg
        check`` names it); the current one's raises ``ManifestDamaged`` unless
        ``damaged_current`` (a rollback away from it), when it is left out too.
        """
        current = self.current_version() if self.exists() else None
        sound = []
        for version, info in self.kept():
            if isinstance(info, ManifestDamaged):
                if version == current and not damaged_current:
                    raise info
                continue
            sound.append((version, info))
        return sound

    # -- the inputs of loads and imports, by content -------------------------------------------
    @property
    def inputs(self) -> Path:
        return self.path / "inputs"

    def put_input(self, data: bytes) -> str:
        """Keep ``data`` (a loaded file's bytes) under its sha256; return the hash. Durable before it returns."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.inputs / digest
        if target.exists():
            return digest
        self.inputs.mkdir(parents=True, exist_ok=True)
        tmp = self.inputs / f".{digest}.{os.getpid()}"
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_dir(self.inputs)
        return digest

    def get_input(self, digest: str) -> bytes:
        path = self.inputs / digest
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise TradekgError(f"the store {self.path} has lost the input {digest[:16]} (inputs/{digest})") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise TradekgError(f"the input {path} is damaged: its content no longer matches its hash")
        return data

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
                        holder = _lock_holder(handle)
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
                # The holder's line stays after release: it is rewritten by the next holder, so a
                # waiter never reads an empty file between one holder's release and the next's record.
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
              wait_seconds: float | None = None, publish: bool = True,
              from_version: Path | None = None) -> Iterator[ox.Store]:
        """Yield a writable new version; publish it only if the block succeeds.

        ``from_current`` starts from a copy of the current version (for
        ``load``); otherwise the new version starts empty (for ``build``).
        ``wait_seconds`` (default: ``TRADEKG_LOCK_WAIT`` or 30) is how long to
        wait for another writer before refusing with ``StoreBusy``.
        ``publish=False`` throws the version away even when the block succeeds
        (a dry run: ``tradekg validate FILES``). ``from_version`` starts from a
        copy of that (kept) version instead: ``tradekg rollback``.
        """
        with self.locked(wait_seconds):
            self.versions.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            target = self.versions / f"v-{stamp}-{os.getpid()}"
            previous = self.current_version() if self.exists() else None
            # The manifest the new version's number and ledger follow: read (or refused) before any work.
            try:
                before = (read_manifest(previous) or {}) if previous is not None else {}
            except ManifestDamaged:
                if from_version is None:
                    raise
                before = {"version": max((int(i.get("version", 0)) for _, i in self.history(damaged_current=True)),
                                         default=0)}
            if from_version is not None:
                _backup(from_version, target)
            elif from_current and self.exists():
                _backup(self.current_version(), target)
            published = False
            try:
                writable = WritableVersion(ox.Store(str(target)))
                try:
                    yield writable  # type: ignore[misc]  # it answers as the ox.Store it wraps
                    writable.flush()
                except BaseException:
                    writable.close(strict=False)  # this version is thrown away below
                    raise
                writable.close()  # RocksDB is shut before the version is published
                if not publish:
                    return
                info = dict(manifest or {})
                info.setdefault("written_at", datetime.now(UTC).isoformat(timespec="seconds"))
                # A serial number that stays with the version: what `history` and `rollback` call it.
                info["version"] = int(before.get("version", len(self.history(damaged_current=True)))) + 1
                info["previous"] = previous.name if previous is not None else None
                write_atomic(target / MANIFEST, json.dumps(info, indent=2, sort_keys=True).encode("utf-8"))
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
        """Drop leftovers of killed writes, and versions beyond the number kept that no reader has open.

        The version that was current until now is always kept: a reader that
        resolved ``current`` a moment ago may not hold its lock yet. Inputs no
        kept version's ledger names go too.
        """
        current = self.current_version() if self.exists() else None
        published, leftovers = [], []
        for version in sorted(self.versions.iterdir(), key=lambda p: p.name):
            if version.resolve() in keep or version.resolve() == current:
                continue
            if not version.name.startswith("v-") or (current is not None and version.name > current.name):
                leftovers.append(version)
                continue
            try:
                info = read_manifest(version)
            except ManifestDamaged:
                continue  # kept as it is, for whoever recovers it; `tradekg check` names it
            if info is None:
                leftovers.append(version)
            else:
                published.append(version)
        for version in leftovers:
            self._remove(version)
        extra = len(published) + sum(1 for k in keep if k is not None and k != current) - keep_versions()
        for version in published[:max(0, extra)]:
            if not _in_use(version):
                self._remove(version)
        self._prune_inputs()

    def _remove(self, version: Path) -> None:
        """Delete a version directory; first renamed, so a kill midway never leaves half a version in history."""
        if version.name.startswith("v-"):
            trash = version.with_name(f".gone-{version.name}")
            try:
                os.replace(version, trash)
            except OSError:
                trash = version
            version = trash
        shutil.rmtree(version, ignore_errors=True)

    def _prune_inputs(self) -> None:
        if not self.inputs.is_dir():
            return
        named: set[str] = set()
        for version in self.versions.iterdir():
            try:
                info = read_manifest(version)
            except ManifestDamaged:
                return  # which inputs it names is unknown: keep them all
            if info is None:
                continue
            named |= {str(i.get("sha256")) for e in info.get("ledger", []) for i in e.get("inputs", [])}
        for item in self.inputs.iterdir():
            if item.name not in named and not item.name.startswith("."):
                item.unlink(missing_ok=True)


def _backup(source: Path, target: Path) -> None:
    """A checkpoint copy of ``source`` at ``target`` (hard links); a damaged source is a plain error."""
    try:
        open_version(source).backup(str(target))
    except (OSError, RuntimeError) as exc:
        raise damaged_version(source, exc) from None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _lock_holder(handle: IO[str], settle_seconds: float = 1.0) -> str:
    """The live process named in the lock file, as "tradekg pid N".

    A holder records itself right after it takes the lock, so a waiter can look in
    between and find the previous holder's line (or none). Re-read until the line names
    a process that is alive, for at most ``settle_seconds``.
    """
    deadline = time.monotonic() + settle_seconds
    while True:
        handle.seek(0)
        line = handle.read().strip()
        pid = line.rsplit(" ", 1)[-1]
        if line.startswith("tradekg pid ") and pid.isdigit() and _alive(int(pid)):
            return line
        if time.monotonic() >= deadline:
            return "another process"
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
