"""Read the public Federal Register API (keyless), politely, for ``import federal-register --fetch``.

The API is free and asks for no key, so it is shared by everyone: requests are
spaced (``TRADEKG_FR_DELAY`` seconds apart, default 0.5), a 5xx answer or a
connection error is retried three times with backoff (0.5, 1, 2 s), and a
search follows ``next_page_url`` page by page. ``TRADEKG_FR_API`` sets the
base URL (default ``https://www.federalregister.gov/api/v1``); the tests
point it at a local server that serves real API files, so they never reach
the internet. Next-page URLs the API returns on its own host are followed on
the configured base URL, so a mirror or test server keeps the conversation.

Only the standard library is used: one GET at a time needs no HTTP client.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kg import __version__
from kg.errors import TradekgError

BASE_ENV = "TRADEKG_FR_API"
DELAY_ENV = "TRADEKG_FR_DELAY"
DEFAULT_BASE = "https://www.federalregister.gov/api/v1"
BACKOFF = (0.5, 1.0, 2.0)
_CITATION = re.compile(r"^\s*([0-9]{1,3})\s*F\.?\s*R\.?\s*([0-9]{1,6})\s*$", re.IGNORECASE)
_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{1,40}$")
# Fields a search result must carry for the importer (the API's defaults lack pages and CFR references).
SEARCH_FIELDS = ("abstract", "action", "agencies", "cfr_references", "citation", "correction_of", "corrections",
                 "docket_ids", "document_number", "effective_on", "end_page", "executive_order_number", "html_url",
                 "json_url", "pdf_url", "publication_date", "regulation_id_numbers", "signing_date", "start_page",
                 "subtype", "title", "type", "volume")


class FetchFailed(TradekgError):
    """The API could not give what was asked for (after retries): nothing is imported."""


class NotInRegister(FetchFailed):
    """The API answered, and has no such document (404, or no document spans the cited page)."""


@dataclass
class Fetched:
    url: str
    body: bytes


class FrClient:
    """GET JSON from the Federal Register API with spacing and retries."""

    def __init__(self, base: str | None = None, delay: float | None = None, timeout: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = (base or os.environ.get(BASE_ENV) or DEFAULT_BASE).rstrip("/")
        if not re.match(r"^https?://[^/\s]+", self.base):
            raise TradekgError(f"{BASE_ENV}: {self.base!r} is not an http(s) URL")
        self.delay = float(os.environ.get(DELAY_ENV, "0.5")) if delay is None else delay
        self.timeout = timeout
        self.sleep = sleep
        self._last = 0.0
        self.requests = 0

    def _wait_turn(self) -> None:
        gap = self.delay - (time.monotonic() - self._last)
        if gap > 0:
            self.sleep(gap)
        self._last = time.monotonic()

    def get(self, url: str, what: str) -> Fetched:
        """One answer, retried on 5xx and connection errors; a 404 says what was not found."""
        request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                       "User-Agent": f"tradekg/{__version__}"})
        last_error = ""
        for attempt in range(len(BACKOFF) + 1):
            self._wait_turn()
            self.requests += 1
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    return Fetched(answer.geturl(), answer.read())
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    raise NotInRegister(f"the Federal Register has no {what} ({url} answered 404 Not Found)") from None
                if exc.code < 500:
                    raise FetchFailed(f"the Federal Register refused the request for {what}: HTTP {exc.code} "
                                      f"{exc.reason} ({url})") from None
                last_error = f"HTTP {exc.code} {exc.reason}"
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                last_error = f"connection failed: {reason}"
            if attempt < len(BACKOFF):
                self.sleep(BACKOFF[attempt])
        raise FetchFailed(f"could not fetch {what} from {url} after {len(BACKOFF) + 1} tries ({last_error}); "
                          "nothing was imported")

    def url(self, path: str, query: list[tuple[str, str]] | None = None) -> str:
        tail = f"?{urllib.parse.urlencode(query)}" if query else ""
        return f"{self.base}/{path.lstrip('/')}{tail}"

    def document(self, number: str) -> Fetched:
        if not _NUMBER.match(number):
            raise TradekgError(f"{number!r} is neither a Federal Register document number (2019-17921) nor a "
                               "citation (84 FR 22961)")
        return self.get(self.url(f"documents/{urllib.parse.quote(number)}.json"), f"document {number}")

    def on_host(self, next_url: str) -> str:
        """A next-page URL on the configured base (the API names its own host)."""
        parsed = urllib.parse.urlsplit(next_url)
        marker = "/api/v1/"
        path = parsed.path
        tail = path[path.index(marker) + len(marker):] if marker in path else path.rsplit("/", 1)[-1]
        return f"{self.base}/{tail}" + (f"?{parsed.query}" if parsed.query else "")

    def search(self, conditions: str, max_pages: int = 100) -> Iterator[Fetched]:
        """Every results page of a documents.json search (``conditions`` as the API's query string)."""
        query = urllib.parse.parse_qsl(conditions.lstrip("?"), keep_blank_values=True)
        if not query:
            raise TradekgError("--search needs the API's conditions, e.g. "
                               "'conditions[agencies][]=industry-and-security-bureau'")
        if not any(k.startswith("fields") for k, _ in query):
            query += [("fields[]", f) for f in SEARCH_FIELDS]
        if not any(k == "per_page" for k, _ in query):
            query.append(("per_page", "100"))
        url: str | None = self.url("documents.json", query)
        pages = 0
        while url and pages < max_pages:
            page = self.get(url, f"search results page {pages + 1}")
            pages += 1
            yield page
            try:
                next_url = json.loads(page.body).get("next_page_url")
            except (ValueError, AttributeError):
                return  # the importer refuses the page itself, naming where it breaks
            url = self.on_host(next_url) if isinstance(next_url, str) and next_url else None

    def by_citation(self, citation: str) -> Fetched:
        """The document a citation ("84 FR 22963") falls in: a term search, checked by volume and page range."""
        match = _CITATION.match(citation)
        if not match:
            raise TradekgError(f"{citation!r} is not a Federal Register citation such as 84 FR 22961")
        volume, page = int(match.group(1)), int(match.group(2))
        query = [("conditions[term]", f"{volume} FR {page}"), ("per_page", "20"),
                 *[("fields[]", f) for f in ("document_number", "citation", "start_page", "end_page", "volume")]]
        found = self.get(self.url("documents.json", query), f"a document at {volume} FR {page}")
        try:
            results = json.loads(found.body).get("results") or []
        except (ValueError, AttributeError):
            raise FetchFailed(f"the Federal Register's answer for {citation} is not JSON ({found.url})") from None
        for result in results:
            cited = _CITATION.match(str(result.get("citation") or ""))
            start, end = result.get("start_page"), result.get("end_page")
            if cited and int(cited.group(1)) == volume and isinstance(start, int) \
                    and start <= page <= (end if isinstance(end, int) else start):
                return self.document(str(result["document_number"]))
        raise NotInRegister(f"the Federal Register has no document at {volume} FR {page} "
                          f"(no search result spans that page: {found.url})")

    def fetch(self, wanted: str) -> Fetched:
        """A document by number or by citation."""
        return self.by_citation(wanted) if _CITATION.match(wanted) else self.document(wanted.strip())
