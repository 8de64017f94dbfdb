"""One store version held in memory, and the switch to the next one.

A request takes ``Current.snapshot`` once and answers everything from that
object, so it never sees two versions. A watcher thread polls the store's
``current`` symlink; when ``build``, ``load``, ``import`` or ``rollback``
publishes a new version, the thread copies it into a fresh in-memory store
(the running server keeps answering from the old one meanwhile) and then
replaces the reference in one assignment. The old snapshot is freed when the
last request holding it ends. At start the server can answer at once from
the on-disk version (``disk_snapshot``) while the same thread loads the copy.

Why in memory: the on-disk (RocksDB) store answered the big saved queries 3 to
15 times slower than the same graph in an in-memory Oxigraph store, and a
server is the long-lived process that can afford to load it once.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore, open_version

log = logging.getLogger("tradekg.serve")
LOAD_SLICE = 5_000  # quads read or loaded at a time while the server answers from disk (a few ms each)
# What every page of an on-disk snapshot carries (templates/base.html): clients that wait for the copy look for it.
LOADING_MARK = b'class="notice" role="status"'
RETRY_SECONDS = 30.0  # a version that failed to load is tried again this often, not at every poll


@dataclass
class Snapshot:
    """An immutable in-memory copy of one published version, plus caches built from it."""

    version: str  # the version directory's name (never its path: pages must not show local paths)
    store: ox.Store
    backend: EmbeddedBackend
    triples: int
    loaded_at: float
    source: str = field(default="", repr=False)  # resolved version path, for the watcher only
    in_memory: bool = True  # False: the on-disk version, answering while the in-memory copy loads
    cache: dict[Any, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def cached(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()`` once per snapshot and key (the search index)."""
        with self.lock:
            if key in self.cache:
                return self.cache[key]
        value = make()
        with self.lock:
            return self.cache.setdefault(key, value)

    def lru(self, name: str, max_bytes: int) -> LRUCache:
        """A size-bounded cache of this snapshot's answers or pictures (one per ``name``)."""
        return self.cached(("lru", name), lambda: LRUCache(max_bytes))  # type: ignore[no-any-return]


class LRUCache:
    """Values of one snapshot, least recently used dropped past ``max_bytes`` in all.

    A snapshot never changes, so a value computed from it stays right for as
    long as the snapshot is served; a new version starts with empty caches.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Any, value: Any, size: int) -> None:
        if size > self.max_bytes // 4:
            return  # one huge answer must not empty the cache
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (value, size)
            self.size += size
            while self.size > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self.size -= dropped


def load_snapshot(store: VersionedStore, timeout: float | None,
                  allow_service: frozenset[str] = frozenset()) -> Snapshot:
    """Copy the current version into memory (its default graph and any named graphs)."""
    path = store.current_version()
    started = time.perf_counter()
    disk = open_version(path)
    memory = ox.Store()
    # In reverse: the in-memory store lists a pattern's matches newest first, so
    # this gives the on-disk store's order. Aggregates that join values
    # (GROUP_CONCAT, which SPARQL leaves unordered) then come out exactly as
    # ``tradekg query`` prints them; inserted in disk order they came out
    # reversed (tests/test_serve.py compares every saved query row for row).
    # In slices: ``list()`` over Oxigraph's iterator, and one bulk load, each hold the GIL from start to end
    # (9 s and 3 s at 1.3M triples), and the server answering from disk meanwhile would wait that long.
    quads: list[ox.Quad] = []
    found = disk.quads_for_pattern(None, None, None, None)
    while chunk := list(itertools.islice(found, LOAD_SLICE)):
        quads += chunk
        time.sleep(0.002)  # (the server's threads take the GIL meanwhile)
    del found, disk
    quads.reverse()
    for start in range(0, len(quads), LOAD_SLICE):
        memory.bulk_extend(quads[start:start + LOAD_SLICE])
        time.sleep(0.002)
    del quads
    log.info("loaded version %s (%d triples) in %.1f s", path.name, len(memory), time.perf_counter() - started)
    backend = EmbeddedBackend(memory, timeout=timeout, allow_service=allow_service,
                              order_in_python=False)
    return Snapshot(path.name, memory, backend, len(memory), time.time(),
                    source=str(path.resolve()))


def disk_snapshot(store: VersionedStore, timeout: float | None,
                  allow_service: frozenset[str] = frozenset()) -> Snapshot:
    """The current version as it is on disk, read-only: what the server answers from while it loads the copy.

    Opening takes milliseconds where the copy takes seconds (13 s at 1.3M
    triples); answers are slower until the copy replaces it. Pages say so
    (``in_memory`` is False), and the work runs in the server's threads, not
    in forked workers: a RocksDB handle must not cross a fork.
    """
    path = store.current_version()
    disk = open_version(path)
    triples = store.manifest().get("triples")
    backend = EmbeddedBackend(disk, timeout=timeout, allow_service=allow_service,
                              order_in_python=False)
    return Snapshot(path.name, disk, backend, triples if isinstance(triples, int) else len(disk), time.time(),
                    source=str(path.resolve()), in_memory=False)


class Current:
    """The snapshot every new request uses, kept current by a watcher thread."""

    def __init__(self, store: VersionedStore, timeout: float | None, poll_seconds: float = 0.5,
                 prepare: Callable[[Snapshot], object] | None = None,
                 allow_service: frozenset[str] = frozenset(), from_disk_first: bool = False):
        """``from_disk_first``: answer from the on-disk version at once and switch to the in-memory copy
        when the watcher (``start``) has loaded it, as it switches to a new version; otherwise load first."""
        self.store = store
        self.timeout = timeout
        self.allow_service = allow_service  # endpoints a query's SERVICE may call
        self.poll_seconds = poll_seconds
        self.prepare = prepare  # run on each new snapshot before it is served (builds the search index)
        self._snapshot = disk_snapshot(store, timeout, allow_service) if from_disk_first else self._load()
        # (None: the watcher's first look loads the copy, as for a newly published version)
        self._target: str | None = None if from_disk_first else self._snapshot.source
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot  # one attribute read: atomic

    def _pointer_target(self) -> str | None:
        try:
            return str(self.store.pointer.resolve(strict=True))
        except OSError:
            return None

    def check(self) -> bool:
        """Load and switch to the published version if it changed; True when it switched."""
        target = self._pointer_target()
        if target is None or target == self._target:
            return False
        snapshot = self._load()
        # If another version was published while this one loaded, the next poll sees it.
        self._target = snapshot.source
        self._snapshot = snapshot
        return True

    def _load(self) -> Snapshot:
        snapshot = load_snapshot(self.store, self.timeout, self.allow_service)
        if self.prepare:
            self.prepare(snapshot)
        return snapshot

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="tradekg-serve-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def _watch(self) -> None:
        failed: str | None = None  # the version that could not be loaded: said once, tried again quietly
        failed_at = 0.0
        first = not self._snapshot.in_memory  # then look at once: the copy is what the server waits for
        while first or not self._stop.wait(self.poll_seconds):
            first = False
            target = self._pointer_target()
            if target is not None and target == failed and time.monotonic() - failed_at < RETRY_SECONDS:
                continue
            try:
                self.check()
            except Exception as exc:  # a version pruned under us, a damaged store: keep serving the old one
                if target != failed:
                    log.error("could not load the new store version %s (%s); still serving %s",
                              Path(target).name if target else "?", str(exc).splitlines()[0][:300] if str(exc)
                              else type(exc).__name__, self._snapshot.version)
                failed, failed_at = target, time.monotonic()
            else:
                failed = None
