"""Work a deadline can stop: pages and queries run in worker processes the server can kill.

Oxigraph cannot be interrupted (pyoxigraph 0.5 has no cancellation), so a
query run in a thread went on after its deadline: one cartesian ``SELECT *``
grew the server by 100 MB/s until it ran out, and four of them kept two cores
busy until a restart. A process can be stopped. So the server forks worker
processes: each inherits the in-memory snapshot without copying it (pages
are shared until written, and a snapshot is never written), takes requests
one at a time over a pipe, and hands back the response's bytes. At the
deadline the server kills the worker, every byte it allocated goes back to
the system at once, and a new worker is forked when one is next needed. Each
worker also runs under an address-space limit (what it may add to what it
inherited), so a query that would take the machine's memory dies on its own.

Workers belong to one snapshot: a new version is served by new workers, and
the old ones are stopped as they come free. A worker is also replaced after
``recycle_after`` requests, so nothing it accumulates lasts.

Forking per request was measured first and rejected: on the shared 2-core
machine a fork and exit cost 100 to 300 ms under load, ten times the work of
a page.

At most ``size`` workers run at once; a request that finds none free waits
up to ``queue_wait`` seconds, then gets ``Busy`` (a 503 with ``Retry-After``).

Forking a process that has threads is safe only for what the child touches:
a lock another thread held at the fork stays held in the child. A worker
touches the snapshot (its locks are replaced first, see ``prepare``), the
templates (compiled before the first fork; Jinja2's cache lock replaced too)
and Oxigraph's in-memory store, which it only reads. A worker that
nonetheless hangs is killed at the deadline like any other.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import resource
import select
import signal
import struct
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

_LENGTH = struct.Struct("!Q")


class Busy(Exception):
    """Every worker is taken and none came free in time."""

    def __init__(self, retry_after: int):
        super().__init__("the server is busy")
        self.retry_after = retry_after


class Stopped(Exception):
    """The work was stopped: past its deadline, or over its memory."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # "deadline", "memory" or "crashed"
        self.message = message


class ChildError(Exception):
    """An exception the work raised in the worker, carried back as its type name, text and status."""

    def __init__(self, kind: str, message: str, detail: Any = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail


def _vm_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            fields = handle.read().split()
        return (int(fields[1]) - int(fields[2])) * os.sysconf("SC_PAGE_SIZE")  # resident, not shared
    except (OSError, IndexError, ValueError):
        return 0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int, end: float | None = None) -> bytes | None:
    """``size`` bytes from ``fd``; None at end of file; ``TimeoutError`` past ``end`` (monotonic)."""
    chunks, got = [], 0
    while got < size:
        if end is not None:
            ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                raise TimeoutError
        chunk = os.read(fd, min(size - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _read_message(fd: int, end: float | None = None) -> bytes | None:
    head = _read_exactly(fd, _LENGTH.size, end)
    if head is None:
        return None
    return _read_exactly(fd, _LENGTH.unpack(head)[0], end)


class Worker:
    """One forked process serving requests for one snapshot (``key``)."""

    def __init__(self, key: Hashable, pid: int, requests_fd: int, answers_fd: int):
        self.key = key
        self.pid = pid
        self.requests_fd = requests_fd
        self.answers_fd = answers_fd
        self.served = 0
        self.base_rss = 0

    def stop(self, kill: bool = False) -> int | None:
        """Close its pipes (it exits on its own) or kill it; its exit status once reaped."""
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        for fd in (self.requests_fd, self.answers_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            return None
        return status


class Pool:
    """Worker processes running ``serve(message)`` for requests, ``size`` at a time, each within a
    deadline and a memory ceiling. ``serve`` and ``prepare`` run in the workers (forked, so they are
    the server's own functions and objects, never pickled); messages and answers are pickled."""

    def __init__(self, size: int, memory_mb: int | None, queue_wait: float = 10.0, recycle_after: int = 1000):
        self.size = max(1, size)
        self.memory_mb = memory_mb
        self.queue_wait = queue_wait
        self.recycle_after = recycle_after
        self._slots = threading.BoundedSemaphore(self.size)
        self._idle: list[Worker] = []
        self._lock = threading.Lock()
        self.stopped = 0  # workers killed at a deadline or dead of their memory ceiling

    # -- the server's side ---------------------------------------------------------

    def run(self, key: Hashable, prepare: Callable[[], None], serve: Callable[[Any], Any], message: Any,
            deadline: float | None, label: str = "the request") -> Any:
        """``serve(message)`` in a worker of snapshot ``key`` (forked with ``prepare`` if none is idle)."""
        if not self._slots.acquire(timeout=self.queue_wait):
            raise Busy(retry_after=max(1, int(min(deadline or 5.0, 30.0))))
        try:
            worker = self._take(key) or self._spawn(key, prepare, serve)
            return self._call(worker, message, deadline, label)
        finally:
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def _take(self, key: Hashable) -> Worker | None:
        """An idle worker of ``key``; idle workers of other (older) snapshots are stopped."""
        with self._lock:
            stale = [w for w in self._idle if w.key != key]
            self._idle = [w for w in self._idle if w.key == key]
            found = self._idle.pop() if self._idle else None
        for worker in stale:
            worker.stop()
        return found

    def _give_back(self, worker: Worker) -> None:
        grown = _rss_bytes(worker.pid) - worker.base_rss
        if worker.served >= self.recycle_after or (self.memory_mb and grown > self.memory_mb * 1024 * 1024 // 2):
            worker.stop()
            return
        with self._lock:
            self._idle.append(worker)

    def _call(self, worker: Worker, message: Any, deadline: float | None, label: str) -> Any:
        end = time.monotonic() + deadline if deadline else None
        try:
            _write_all(worker.requests_fd, pickle.dumps((message, deadline), protocol=pickle.HIGHEST_PROTOCOL))
            data = _read_message(worker.answers_fd, end)
        except TimeoutError:
            worker.stop(kill=True)
            self.stopped += 1
            from kg.graph.backend import QueryTimeout

            raise Stopped("deadline", str(QueryTimeout(deadline or 0))) from None
        except OSError:
            data = None
        if data is None:  # it died: its memory ceiling, or a crash
            status = worker.stop(kill=True)
            self.stopped += 1
            starved = status is not None and (os.WIFSIGNALED(status) or os.waitstatus_to_exitcode(status) == 3)
            if starved and self.memory_mb:
                raise Stopped("memory", f"{label} needed more than the {self.memory_mb} MB of memory a request "
                                        "may use, and was stopped; ask a narrower question")
            raise Stopped("crashed", f"{label} failed in its worker process (exit status {status})")
        worker.served += 1
        self._give_back(worker)
        outcome = pickle.loads(data)
        if outcome[0] == "ok":
            return outcome[1]
        raise ChildError(*outcome[1:])

    def _spawn(self, key: Hashable, prepare: Callable[[], None], serve: Callable[[Any], Any]) -> Worker:
        requests_read, requests_write = os.pipe()
        answers_read, answers_write = os.pipe()
        ceiling = _vm_bytes() + self.memory_mb * 1024 * 1024 if self.memory_mb else None
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            self._worker(requests_read, answers_write, ceiling, prepare, serve)
        os.close(requests_read)
        os.close(answers_write)
        worker = Worker(key, pid, requests_write, answers_read)
        worker.base_rss = _rss_bytes(pid)
        return worker

    # -- the worker's side ----------------------------------------------------------

    @staticmethod
    def _worker(requests: int, answers: int, ceiling: int | None, prepare: Callable[[], None],
                serve: Callable[[Any], Any]) -> None:
        code = 0
        try:
            # What it inherited is never collected here: a collection would touch (and so copy) all of it.
            gc.freeze()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            # Keep only its own two pipes: a connection or another worker's pipe the server closes
            # must not stay open here.
            keep = sorted((requests, answers))
            os.closerange(3, keep[0])
            os.closerange(keep[0] + 1, keep[1])
            os.closerange(keep[1] + 1, 1 << 16)
            if ceiling:
                _, hard = resource.getrlimit(resource.RLIMIT_AS)
                resource.setrlimit(resource.RLIMIT_AS, (ceiling if hard < 0 else min(ceiling, hard), hard))
            prepare()
            while True:
                data = _read_message(requests)
                if data is None:  # the server closed the pipe (or is gone)
                    break
                message, deadline = pickle.loads(data)
                # Should the server die mid-request, nobody would kill this one: it stops itself.
                signal.alarm(int(deadline) + 5 if deadline else 0)
                try:
                    outcome: tuple[Any, ...] = ("ok", serve(message))
                except MemoryError:
                    code = 3
                    break
                except Exception as exc:  # handed to the server by name, text and status
                    outcome = ("error", type(exc).__name__, str(exc), getattr(exc, "status", None))
                _write_all(answers, pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
                signal.alarm(0)
        except BaseException:  # nothing may escape into the server's code from here
            code = code or 1
        finally:
            os._exit(code)
