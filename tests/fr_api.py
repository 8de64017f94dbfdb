"""A local stand-in for the Federal Register API that serves the real API files.

It answers the three requests tradekg makes, from the real JSON in
shared/realdata/federal-register/ (and the fixture written for the tests):

* ``/api/v1/documents/{number}.json``: the document file with that number, byte for byte; 404 otherwise;
* ``/api/v1/documents.json?conditions[term]=V FR P``: the documents whose page range holds that page;
* ``/api/v1/documents.json?...&page=N``: page N of ``pages`` (real search-results files), so the
  client follows the real ``next_page_url`` (which names www.federalregister.gov) back here.

``fail_first`` answers that many requests with 503 first; every request is recorded.
Listens on 127.0.0.1 on a free port, in a thread, stopped by the test.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import free_port


@dataclass
class FakeApi:
    documents: dict[str, bytes]
    pages: list[bytes]
    fail_first: int = 0
    requests: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        if self.fail_first > 0:
            self.fail_first -= 1
            return 503, b"<html>Service Unavailable</html>"
        prefix = "/api/v1/"
        if not path.startswith(prefix):
            return 404, b"{}"
        tail = path[len(prefix):]
        if tail.startswith("documents/") and tail.endswith(".json"):
            number = urllib.parse.unquote(tail[len("documents/"):-len(".json")])
            body = self.documents.get(number)
            return (200, body) if body is not None else (404, b'{"status":404,"message":"Record not found"}')
        if tail in ("documents.json", "documents"):  # next_page_url uses the second, with format=json
            if "conditions[term]" in query:
                volume, _, page = query["conditions[term]"][0].partition(" FR ")
                results = []
                for body in self.documents.values():
                    doc = json.loads(body)
                    start, end = doc.get("start_page"), doc.get("end_page") or doc.get("start_page")
                    if str(doc.get("citation", "")).startswith(f"{volume} FR ") and start is not None \
                            and start <= int(page) <= end:
                        results.append({k: doc.get(k) for k in ("document_number", "citation", "start_page",
                                                                   "end_page", "volume")})
                return 200, json.dumps({"count": len(results), "results": results}).encode()
            number = int(query.get("page", ["1"])[0])
            if 1 <= number <= len(self.pages):
                return 200, self.pages[number - 1]
            return 200, b'{"count":0,"results":[]}'
        return 404, b"{}"


def documents_from(*folders: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            body = path.read_bytes()
            data = json.loads(body)
            if isinstance(data, dict) and "document_number" in data:
                found[data["document_number"]] = body
    return found


@contextlib.contextmanager
def fake_api(documents: dict[str, bytes], pages: list[bytes] | None = None, fail_first: int = 0) -> Iterator[FakeApi]:
    api = FakeApi(documents, pages or [], fail_first)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            api.requests.append(self.path)
            status, body = api.answer(parsed.path, urllib.parse.parse_qs(parsed.query))
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", api.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
