"""Start a real ``tradekg serve`` process on a free 127.0.0.1 port, for the serve tests."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kg.serve.snapshot import LOADING_MARK
from tests.conftest import REPO
from tests.servers import free_port


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sparql(self) -> str:
        return self.base + "/sparql"

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        return request(self.base + path, headers=headers)


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
            method: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one request, error statuses included."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()




def _wait_until_in_memory(served: Served, token: str | None, deadline: float) -> None:
    """Until the home page no longer says the server answers from disk while it loads the copy.

    ``tradekg serve`` answers at once from the store on disk, in its own
    threads; the tests of workers, deadlines and memory limits are about the
    in-memory copy that the worker processes share.
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    while time.monotonic() < deadline:
        try:
            body = urllib.request.urlopen(urllib.request.Request(served.base + "/", headers=headers),
                                          timeout=5).read()
        except OSError:
            return  # the home page is not ours to read (a Host rule): nothing to wait for
        if LOADING_MARK not in body:
            return
        time.sleep(0.1)
    raise AssertionError("tradekg serve did not load the store into memory")


@contextlib.contextmanager
def serving(store: Path, *args: str, env: dict[str, str] | None = None, wait: float = 60.0) -> Iterator[Served]:
    """``tradekg serve --store STORE --port FREE`` until the block ends."""
    port = free_port()
    # No developer's store, endpoint or token leaks in; the pinned "today" does (tests/conftest.py).
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TRADEKG_") or k == "TRADEKG_TODAY"}
    environment.update(env or {})
    process = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--store", str(store), "--port", str(port),
                                *args], cwd=REPO, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    served = Served(process, port)
    try:
        deadline = time.monotonic() + wait
        while True:
            if process.poll() is not None:
                out = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"tradekg serve exited with {process.returncode}: {out}")
            try:
                urllib.request.urlopen(served.base + "/static/style.css", timeout=2).read()
                break
            except urllib.error.HTTPError:
                break  # it answers (a token may be needed)
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("tradekg serve did not start listening") from None
                time.sleep(0.1)
        _wait_until_in_memory(served, (env or {}).get("TRADEKG_SERVE_TOKEN"), deadline)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(20)
