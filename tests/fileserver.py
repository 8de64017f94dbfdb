"""A small real HTTP server on 127.0.0.1 that serves files from memory, and misbehaves on request.

For ``tradekg update`` tests: it answers conditional requests (ETag,
Last-Modified, 304) as a web server does, and a test can script failures per
path: ``500`` answers before the file, a ``404``, or a connection dropped
halfway through the body (``drop``). Every request is logged.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate


@dataclass
class FileServer:
    files: dict[str, bytes] = field(default_factory=dict)  # path (with leading /) -> bytes
    failures: dict[str, list[str]] = field(default_factory=dict)  # path -> ["500", "drop", ...] consumed in order
    log: list[tuple[str, str, int]] = field(default_factory=list)  # (path, conditional headers, status)
    port: int = 0
    modified: float = 1_733_300_000.0  # Last-Modified of every file

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def put(self, path: str, data: bytes) -> None:
        self.files[path] = data
        self.modified += 86400

    def fail(self, path: str, *how: str) -> None:
        self.failures.setdefault(path, []).extend(how)


def _handler(server: FileServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            conditional = ",".join(h for h in ("If-None-Match", "If-Modified-Since") if self.headers.get(h))
            pending = server.failures.get(path) or []
            how = pending.pop(0) if pending else None
            if how == "500":
                return self._answer(path, conditional, 500, b"server error")
            if how == "404" or path not in server.files:
                return self._answer(path, conditional, 404, b"not found")
            data = server.files[path]
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                server.log.append((path, conditional, 304))
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            server.log.append((path, conditional, 200 if how != "drop" else -1))
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", formatdate(server.modified, usegmt=True))
            self.send_header("Connection", "close" if how == "drop" else "keep-alive")
            self.end_headers()
            if how == "drop":  # half the body, then the connection goes
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data)

        def _answer(self, path: str, conditional: str, status: int, body: bytes) -> None:
            server.log.append((path, conditional, status))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serving(server: FileServer | None = None) -> Iterator[FileServer]:
    server = server or FileServer()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
