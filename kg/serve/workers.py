"""Work a deadline can stop: each request's queries run in a process of their own.

Oxigraph cannot be interrupted (pyoxigraph 0.5 has no cancellation), so a
query run in a thread went on after its deadline: one cartesian ``SELECT *``
grew the server by 100 MB/s until it ran out, and four of them kept two cores
busy until a restart. A process can be stopped. So the server forks one per
request that reads the graph: the child inherits the in-memory snapshot
without copying it (the pages are shared until written, and a snapshot is
never written), answers, hands back the response's bytes and exits. At the
deadline the parent kills it, and every byte it allocated goes back to the
system at once. The child also runs under an address-space limit (the
memory it may add to what it inherited), so a query that would take the
machine's memory dies on its own.

A fork costs a few milliseconds (the page tables of the server's memory) and
buys true parallelism for the Python part of a page (rdflib terms, Jinja2),
which threads serialise on the interpreter lock.

At most ``size`` children run at once; a request that finds none free waits
up to ``queue_wait`` seconds, then gets ``Busy`` (a 503 with ``Retry-After``).

Forking a process that has threads is safe only for what the child touches:
a lock another thread held at the fork stays held in the child. The child
touches the snapshot (its locks are replaced before the work), the templates
(Jinja2's cache lock, replaced too) and Oxigraph's in-memory store, which
only reads. A child that nonetheless hangs is killed at the deadline like
any other.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import select
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

PIPE_CHUNK = 1 << 16


class Busy(Exception):
    """Every worker is taken and none came free in time."""

    def __init__(self, retry_after: int):
        super().__init__("the server is busy")
        self.retry_after = retry_after


class Stopped(Exception):
    """The work was stopped: past its deadline, or over its memory."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # "deadline" or "memory" or "crashed"
        self.message = message


class ChildError(Exception):
    """An exception the work raised in the child, carried back as its type name and text."""

    def __init__(self, kind: str, message: str, detail: Any = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail


def _vm_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


class Pool:
    """Runs callables in forked children, ``size`` at a time, each within a deadline and a memory ceiling."""

    def __init__(self, size: int, memory_mb: int | None, queue_wait: float = 10.0,
                 prepare_child: Callable[[], None] | None = None):
        self.size = max(1, size)
        self.memory_mb = memory_mb
        self.queue_wait = queue_wait
        self.prepare_child = prepare_child
        self._slots = threading.BoundedSemaphore(self.size)
        self.running = 0
        self.stopped = 0  # children killed at their deadline or dead of their memory ceiling

    def run(self, work: Callable[[], Any], deadline: float | None, label: str = "the request") -> Any:
        """``work()`` in a child; its (picklable) value, or ``ChildError``/``Stopped``/``Busy``."""
        if not self._slots.acquire(timeout=self.queue_wait):
            raise Busy(retry_after=max(1, int(min(deadline or 5.0, 30.0))))
        try:
            self.running += 1
            return self._fork(work, deadline, label)
        finally:
            self.running -= 1
            self._slots.release()

    def _fork(self, work: Callable[[], Any], deadline: float | None, label: str) -> Any:
        read_end, write_end = os.pipe()
        ceiling = _vm_bytes() + self.memory_mb * 1024 * 1024 if self.memory_mb else None
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_end)
            self._child(work, write_end, ceiling, deadline)
        os.close(write_end)
        try:
            data = self._collect(pid, read_end, deadline)
        finally:
            os.close(read_end)
        status = _reap(pid)
        if not data:
            self.stopped += 1
            # Out of memory: MemoryError in Python (exit 3), or an allocation failing in Oxigraph (abort).
            starved = status is not None and (os.WIFSIGNALED(status) or os.waitstatus_to_exitcode(status) == 3)
            if starved and self.memory_mb:
                raise Stopped("memory", f"{label} needed more than the {self.memory_mb} MB of memory a request "
                                        "may use, and was stopped; ask a narrower question")
            raise Stopped("crashed", f"{label} failed in its worker process (exit status {status})")
        outcome = pickle.loads(data)
        if outcome[0] == "ok":
            return outcome[1]
        raise ChildError(*outcome[1:])

    def _collect(self, pid: int, fd: int, deadline: float | None) -> bytes:
        """Everything the child writes, or b"" when it died; kills it at the deadline."""
        chunks = []
        end = time.monotonic() + deadline if deadline else None
        while True:
            wait = None if end is None else max(0.0, end - time.monotonic())
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                _reap(pid)
                self.stopped += 1
                from kg.backend import QueryTimeout

                raise Stopped("deadline", str(QueryTimeout(deadline or 0)))
            chunk = os.read(fd, PIPE_CHUNK)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def _child(self, work: Callable[[], Any], fd: int, ceiling: int | None, deadline: float | None) -> None:
        code = 0
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            if deadline:  # should the parent die before it can kill this one
                signal.alarm(int(deadline) + 5)
            # Keep only the pipe: a client connection the parent closes must not stay open here.
            os.closerange(3, fd)
            os.closerange(fd + 1, 1 << 16)
            if ceiling:
                _, hard = resource.getrlimit(resource.RLIMIT_AS)
                resource.setrlimit(resource.RLIMIT_AS, (ceiling if hard < 0 else min(ceiling, hard), hard))
            if self.prepare_child:
                self.prepare_child()
            try:
                outcome: tuple[Any, ...] = ("ok", work())
            except MemoryError:
                os._exit(3)
            except Exception as exc:  # handed to the parent by name and text
                outcome = ("error", type(exc).__name__, str(exc), getattr(exc, "status", None))
            data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except BaseException:  # nothing may escape into the server's code from here
            code = 1
        finally:
            os._exit(code)


def _reap(pid: int) -> int | None:
    """The child's exit status, waiting for it (it exits as soon as it has written); None if gone."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return status
