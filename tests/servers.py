"""Real servers and sockets for the remote tests: an Oxigraph server, and small misbehaving ones.

Everything listens on 127.0.0.1 on a free port and is stopped by the test that
started it. Nothing here mocks sparqlwrapper: the client code meets real
sockets that refuse, hang, ask for credentials or answer HTML.
"""

from __future__ import annotations

import contextlib
import http.server
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def oxigraph_executable() -> str:
    """The `oxigraph` server from the PyPI package (the `test` extra installs it)."""
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        pytest.fail("the `oxigraph` server is not installed: pip install -e '.[test]'")
    return found


def oxigraph_version() -> str:
    out = subprocess.run([oxigraph_executable(), "--version"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


@dataclass
class OxigraphServer:
    """One `oxigraph serve` process on an on-disk location, restartable on the same port."""

    location: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def query_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/query"

    def start(self, wait: float = 20.0) -> OxigraphServer:
        self.process = subprocess.Popen(
            [oxigraph_executable(), "serve", "--location", str(self.location), "--bind", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + wait
        probe = f"{self.query_url}?query=ASK%7B%7D"
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"oxigraph serve exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(probe, timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("oxigraph serve did not answer in time")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def oxigraph_server(location: Path) -> Iterator[OxigraphServer]:
    server = OxigraphServer(location).start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers (until the test ends)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stopping = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stopping.is_set():
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stopping.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


@dataclass
class Scripted:
    """What a tiny HTTP server answers, in order (the last answer repeats), and what it saw."""

    answers: list[tuple[int, str, bytes]]
    seen_auth: list[str | None] = field(default_factory=list)

    def next(self) -> tuple[int, str, bytes]:
        index = min(len(self.seen_auth) - 1, len(self.answers) - 1)
        return self.answers[index]


@contextlib.contextmanager
def scripted_server(*answers: tuple[int, str, bytes]) -> Iterator[tuple[str, Scripted]]:
    """A real HTTP server on a free port answering each request with the next scripted answer."""
    script = Scripted(list(answers))

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            script.seen_auth.append(self.headers.get("Authorization"))
            status, content_type, body = script.next()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="tradekg"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _answer
        do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/query", script
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")


def virtuoso_executable() -> str | None:
    """Debian's Virtuoso (apt-get install virtuoso-opensource), if installed."""
    found = shutil.which("virtuoso-t")
    return found if found and VIRTUOSO_INI.exists() and shutil.which("isql-vt") else None


@dataclass
class VirtuosoServer:
    """A private Virtuoso instance in a temporary folder, on free ports of 127.0.0.1.

    Anonymous SPARQL updates and Graph Store writes are granted, as a test
    server may; a real deployment keeps them behind authentication.
    """

    location: Path
    http_port: int = field(default_factory=free_port)
    sql_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def query_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def store_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql-graph-crud"

    def version(self) -> str:
        out = subprocess.run([str(virtuoso_executable()), "-?"], capture_output=True, text=True, timeout=30)
        text = out.stdout + out.stderr
        line = next((ln for ln in text.splitlines() if "Version" in ln), "")
        return f"Virtuoso Open Source {line.strip()}".strip()

    def start(self, wait: float = 120.0) -> VirtuosoServer:
        self.location.mkdir(parents=True, exist_ok=True)
        ini = VIRTUOSO_INI.read_text(encoding="utf-8")
        ini = ini.replace("/var/lib/virtuoso-opensource-7/db/", f"{self.location}/")
        ini = ini.replace("ServerPort               = 1111", f"ServerPort               = 127.0.0.1:{self.sql_port}")
        ini = ini.replace("ServerPort                  = 8890",
                          f"ServerPort                  = 127.0.0.1:{self.http_port}")
        # Virtuoso's packaged limit cuts every answer at 10,000 rows without an error; the curated graph
        # alone is larger. A server of the user's own needs the same setting (docs/servers.md).
        ini = re.sub(r"(?m)^ResultSetMaxRows\s*=\s*\d+", "ResultSetMaxRows           = 10000000", ini)
        config = self.location / "virtuoso.ini"
        config.write_text(ini, encoding="utf-8")
        self.process = subprocess.Popen([str(virtuoso_executable()), "-f", "-c", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.location)
        deadline = time.monotonic() + wait
        probe = f"{self.query_url}?query=ASK%7B%7D"
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(probe, timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("Virtuoso did not answer in time")
            time.sleep(0.2)
        grants = ('GRANT SPARQL_UPDATE TO "SPARQL"; '
                  "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);")
        subprocess.run([str(shutil.which("isql-vt")), f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={grants}"],
                       capture_output=True, timeout=60, check=True)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
