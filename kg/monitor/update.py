"""``tradekg update``: fetch the sources of record and import each through the ledger.

Each source has a name and a location:

* ``csl``: the trade.gov Consolidated Screening List CSV;
* ``ofac-sdn`` and ``ofac-nonsdn``: the folder holding OFAC's legacy CSV files
  under their own names (``sdn.csv``, ``alt.csv``, ``add.csv``,
  ``sdn_comments.csv``; ``cons_prim.csv``, ...). OFAC's Sanctions List Service
  spells them in capitals, a mirror often in small letters: both are tried;
* ``federal-register``: the Federal Register API. An update fetches the
  documents the lists cite and the graph knows only by a citation, and the
  documents the followed agencies published since the last update.

A location comes from ``--url NAME=URL``, else the project setting (the
``[update.urls]`` table of ``config.toml`` beside the store, i.e.
``.tradekg/config.toml``), else the official address below. Tests and mirrors
point it elsewhere.

Politeness and safety: requests are conditional (``If-None-Match`` /
``If-Modified-Since`` from the last answer, sent only while the graph still
holds those bytes, so after a rollback the file is fetched again); 5xx
answers, refused or dropped connections and short bodies are retried with
backoff (``TRADEKG_RETRY_WAIT`` seconds, doubled each time, four tries); a
file is imported only when every byte arrived. Each source is fetched
completely, then planned and committed on its own (validated, all or
nothing), so one that fails leaves the graph as it was for that source and
the others still update. The same bytes as the ones the graph holds change
nothing and are not even re-read.

What was fetched, when, and its sha256 is kept in ``STORE/monitor/fetches.json``
(``tradekg sources``); each run is logged in ``STORE/monitor/updates.json`` with
the versions before and after it, which ``tradekg changes`` starts from.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import json
import os
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from kg import __version__
from kg.errors import LoadFailed, TradekgError
from kg.graph.store import VersionedStore

SOURCE_NAMES = ("csl", "ofac-sdn", "ofac-nonsdn", "federal-register")
DEFAULT_URLS = {
    "csl": "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.csv",
    "ofac-sdn": "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/",
    "ofac-nonsdn": "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/",
    "federal-register": "https://www.federalregister.gov/api/v1",
}
OFAC_FILES = {
    "ofac-sdn": ("sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"),
    "ofac-nonsdn": ("cons_prim.csv", "cons_alt.csv", "cons_add.csv", "cons_comments.csv"),
}
# Federal Register agency slugs whose new documents an update fetches (project setting: [update] agencies).
DEFAULT_AGENCIES = ("industry-and-security-bureau", "foreign-assets-control-office")
FIRST_SEARCH_DAYS = 7  # the first update searches the agencies' documents of the last week
RETRY_ENV = "TRADEKG_RETRY_WAIT"
TRIES = 4


def today() -> date:
    """Today, or the day ``TRADEKG_TODAY`` pins (tests, reproducible reports)."""
    pinned = os.environ.get("TRADEKG_TODAY", "").strip()
    if pinned:
        try:
            return date.fromisoformat(pinned)
        except ValueError:
            raise TradekgError(f"TRADEKG_TODAY: {pinned!r} is not a date (YYYY-MM-DD)") from None
    return date.today()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------
# Settings and the files kept beside the store
# --------------------------------------------------------------------------

@dataclass
class Settings:
    urls: dict[str, str]
    agencies: list[str]
    origin: dict[str, str]  # where each URL came from: default, setting, --url


def config_path(store: VersionedStore) -> Path:
    return store.path.parent / "config.toml"


def settings(store: VersionedStore, overrides: dict[str, str] | None = None) -> Settings:
    """The sources' locations: ``--url`` over the project setting over the official address."""
    urls, origin = dict(DEFAULT_URLS), dict.fromkeys(DEFAULT_URLS, "official")
    agencies = list(DEFAULT_AGENCIES)
    path = config_path(store)
    if path.is_file():
        try:
            config = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise TradekgError(f"{path}: not valid TOML: {exc}") from None
        section = config.get("update", {})
        for name, url in (section.get("urls") or {}).items():
            if name not in DEFAULT_URLS:
                raise TradekgError(f"{path}: [update.urls] names {name!r}; sources are {', '.join(SOURCE_NAMES)}")
            urls[name], origin[name] = str(url), f"setting in {path}"
        if "agencies" in section:
            agencies = [str(a) for a in section["agencies"]]
    for name, url in (overrides or {}).items():
        if name not in DEFAULT_URLS:
            raise TradekgError(f"--url {name}=...: no source {name!r}; sources are {', '.join(SOURCE_NAMES)}")
        urls[name], origin[name] = url, "--url"
    for name, url in urls.items():
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise TradekgError(f"the location of {name} ({origin[name]}) is not an http(s) URL: {url!r}")
    return Settings(urls, agencies, origin)


def monitor_dir(store: VersionedStore) -> Path:
    return store.path / "monitor"


def read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (ValueError, UnicodeDecodeError):
        raise TradekgError(f"{path} is damaged (not JSON); remove it and update again") from None


def write_json(path: Path, value: Any) -> None:
    """Write atomically: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def fetch_state(store: VersionedStore) -> dict[str, Any]:
    return dict(read_json(monitor_dir(store) / "fetches.json", {}))


def update_log(store: VersionedStore) -> list[dict[str, Any]]:
    return list(read_json(monitor_dir(store) / "updates.json", []))


def held_hashes(store: VersionedStore) -> set[str]:
    """The sha256 of every input the current graph's ledger holds."""
    if not store.exists():
        return set()
    return {str(i.get("sha256")) for e in store.manifest().get("ledger", []) for i in e.get("inputs", [])}


# --------------------------------------------------------------------------
# HTTP: conditional GETs with retries
# --------------------------------------------------------------------------

class FetchError(TradekgError):
    """A file could not be fetched; ``reason`` says why in a few words."""


@dataclass
class Answer:
    url: str
    status: int  # 200 or 304
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    tries: int = 1

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def retry_wait() -> float:
    raw = os.environ.get(RETRY_ENV, "").strip()
    try:
        return float(raw) if raw else 1.0
    except ValueError:
        raise TradekgError(f"{RETRY_ENV} must be a number of seconds, not {raw!r}") from None


class Fetcher:
    """GET files one at a time: conditional, retried on 5xx and broken connections, whole or not at all."""

    def __init__(self, timeout: float = 120.0, sleep: Callable[[float], None] = time.sleep,
                 tries: int = TRIES) -> None:
        self.timeout = timeout
        self.sleep = sleep
        self.tries = tries
        self.wait = retry_wait()
        self.requests = 0

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Answer:
        headers = {"User-Agent": f"tradekg/{__version__}", "Accept-Encoding": "identity"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        reason = ""
        for attempt in range(1, self.tries + 1):
            self.requests += 1
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                            timeout=self.timeout) as answer:
                    expected = answer.headers.get("Content-Length")
                    body = answer.read()
                    if expected is not None and expected.isdigit() and len(body) != int(expected):
                        raise http.client.IncompleteRead(body, int(expected) - len(body))
                    return Answer(answer.geturl(), 200, body, answer.headers.get("ETag"),
                                  answer.headers.get("Last-Modified"), attempt)
            except urllib.error.HTTPError as exc:
                if exc.code == 304:
                    return Answer(url, 304, etag=etag, last_modified=last_modified, tries=attempt)
                if exc.code < 500:
                    raise FetchError(f"HTTP {exc.code} {exc.reason} from {url}") from None
                reason = f"HTTP {exc.code} {exc.reason}"
            except http.client.IncompleteRead as exc:
                got = len(exc.partial)
                reason = f"the connection dropped after {got:,} bytes" + (
                    f" of {got + exc.expected:,}" if exc.expected else "")
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, OSError) as exc:
                reason = f"connection failed: {getattr(exc, 'reason', exc)}"
            if attempt < self.tries:
                self.sleep(self.wait * 2 ** (attempt - 1))
        raise FetchError(f"{reason} ({url}; {self.tries} tries)")


# --------------------------------------------------------------------------
# One source at a time
# --------------------------------------------------------------------------

@dataclass
class SourceResult:
    name: str
    url: str
    status: str  # fetched, unchanged, failed
    detail: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # url -> etag, last_modified, sha256, bytes
    version: int | None = None  # the version this source's import wrote

    def line(self) -> str:
        return f"{self.name}: {self.status}: {self.detail}"


class _Context:
    def __init__(self, store: VersionedStore, fetcher: Fetcher, state: dict[str, Any], day: date,
                 end_missing: bool, agencies: list[str]) -> None:
        self.store = store
        self.fetcher = fetcher
        self.state = state
        self.day = day
        self.end_missing = end_missing
        self.agencies = agencies
        self.held = held_hashes(store)

    def previous(self, source: str, url: str) -> dict[str, Any]:
        return dict(self.state.get(source, {}).get("files", {}).get(url, {}))

    def conditional(self, source: str, url: str) -> tuple[str | None, str | None]:
        """Validators of the last answer, only while the graph holds what it said."""
        before = self.previous(source, url)
        if before.get("sha256") in self.held or before.get("sha256") in self.state.get(source, {}).get("no_change", []):
            return before.get("etag"), before.get("last_modified")
        return None, None

    def known_bytes(self, source: str, url: str) -> bytes | None:
        digest = self.previous(source, url).get("sha256")
        if not digest or digest not in self.held:
            return None
        try:
            return self.store.get_input(digest)
        except TradekgError:
            return None


def _record(answer: Answer, previous: dict[str, Any], body: bytes) -> dict[str, Any]:
    return {"etag": answer.etag or previous.get("etag"),
            "last_modified": answer.last_modified or previous.get("last_modified"),
            "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body), "fetched_at": now(),
            "answer": answer.status}


def _import_csl(ctx: _Context, url: str, data: bytes) -> tuple[str, int | None]:
    from kg.sources import csl_import

    options = {"as_of": ctx.day.isoformat(), "partial": False, "strict": False, "end_missing": ctx.end_missing}
    store = ctx.store
    with store.locked():
        plan = csl_import.plan(store.open_read(), data, url, url, options)
        why = csl_import.refusal(plan, options)
        if why:
            raise TradekgError(why.replace("--end-missing", "--end-missing (tradekg update csl --end-missing)"))
        if not (plan.removals or plan.additions):
            return "0 rows changed: the graph already holds these entries", None
        outcome = csl_import.commit(store, plan, url, data, options, command="update csl")
    skipped = f", {len(plan.problems)} row(s) skipped" if plan.problems else ""
    return f"{csl_import.summary(plan)}{skipped}; +{outcome.added} -{outcome.removed} triples", _serial(store)


def _serial(store: VersionedStore) -> int | None:
    value = store.manifest().get("version")
    return int(value) if value is not None else None


def _commit_source(ctx: _Context, plan: Any, inputs: list[tuple[str, bytes]],
                   options: dict[str, Any]) -> tuple[str, int | None]:
    from kg.sources import base

    if not (plan.removals or plan.additions):
        return f"{base.summary(plan)}; the graph already holds these facts", None
    outcome = base.commit(ctx.store, plan, end_missing=bool(options.get("end_missing")), inputs=inputs,
                          options=options)
    return f"{base.summary(plan)}; +{outcome.added} -{outcome.removed} triples", _serial(ctx.store)


def update_csl(ctx: _Context, url: str) -> SourceResult:
    before = ctx.previous("csl", url)
    etag, modified = ctx.conditional("csl", url)
    answer = ctx.fetcher.get(url, etag, modified)
    if answer.status == 304:
        record = {**before, "fetched_at": now(), "answer": 304}
        return SourceResult("csl", url, "unchanged", f"not modified since {before.get('fetched_at', '?')} (304)",
                            {url: record})
    record = _record(answer, before, answer.body)
    result = SourceResult("csl", url, "fetched", "", {url: record})
    if record["sha256"] in ctx.held:
        result.status = "unchanged"
        result.detail = f"same bytes as the file the graph holds ({len(answer.body):,} bytes)"
        return result
    text, result.version = _import_csl(ctx, url, answer.body)
    result.detail = f"{len(answer.body):,} bytes; {text}"
    if result.version is None:
        result.status = "unchanged"
    return result


def _ofac_urls(folder: str, name: str, remembered: str | None) -> list[str]:
    base = folder if folder.endswith("/") else folder + "/"
    spellings = [name.upper(), name]
    if remembered:
        spellings.sort(key=lambda s: s != remembered)
    return [urllib.parse.urljoin(base, s) for s in spellings]


def update_ofac(ctx: _Context, source: str, folder: str) -> SourceResult:
    from kg.sources import ofac

    result = SourceResult(source, folder, "fetched", "")
    got: list[tuple[str, str, bytes]] = []  # (OFAC file name, url, bytes)
    changed = False
    remembered = ctx.state.get(source, {}).get("spelling", {})
    for name in OFAC_FILES[source]:
        answer, error = None, None
        for url in _ofac_urls(folder, name, remembered.get(name)):
            etag, modified = ctx.conditional(source, url)
            try:
                answer = ctx.fetcher.get(url, etag, modified)
                break
            except FetchError as exc:
                error = exc
                if "HTTP 404" not in str(exc):
                    break
        if answer is None:
            raise error or FetchError(f"{name}: not found")
        url = answer.url if answer.status == 200 else url
        remembered[name] = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]
        before = ctx.previous(source, url)
        if answer.status == 304:
            data = ctx.known_bytes(source, url)
            if data is None:  # the graph no longer holds it: ask again, unconditionally
                answer = ctx.fetcher.get(url)
                data = answer.body
                changed = True
            result.files[url] = {**before, "fetched_at": now(), "answer": answer.status}
        else:
            data = answer.body
            result.files[url] = _record(answer, before, data)
            changed = changed or result.files[url]["sha256"] not in ctx.held
        got.append((name, url, data))
    ctx.state.setdefault(source, {})["spelling"] = remembered
    total = sum(len(d) for _, _, d in got)
    if not changed:
        result.status = "unchanged"
        result.detail = (f"{len(got)} files, same bytes as the graph holds" +
                         (" (304 not modified)" if all(f.get("answer") == 304 for f in result.files.values()) else ""))
        return result
    sets = ofac.assemble_sets((name, url, url, data) for name, url, data in got)
    options = {"as_of": ctx.day.isoformat(), "partial": False, "end_missing": ctx.end_missing}
    with ctx.store.locked():
        plan = ofac.plan_import(sets, ctx.store.open_read(), ctx.day, partial=False)
        text, result.version = _commit_source(ctx, plan, [(url, data) for _, url, data in got], options)
    result.detail = f"{len(got)} files, {total:,} bytes; {text}"
    if result.version is None:
        result.status = "unchanged"
    return result


def update_federal_register(ctx: _Context, base_url: str) -> SourceResult:
    from kg.sources import federal_register
    from kg.sources.fetch import FetchFailed, FrClient, NotInRegister

    result = SourceResult("federal-register", base_url, "fetched", "")
    client = FrClient(base=base_url)
    reader = ctx.store.open_read()
    missing = federal_register.placeholder_citations(reader)
    del reader
    parsed, not_found = [], []
    try:
        for citation in missing:
            try:
                answer = client.fetch(citation)
            except NotInRegister:
                not_found.append(citation)
                continue
            parsed.append(federal_register.parse_json(answer.body, answer.url))
        last = ctx.state.get("federal-register", {}).get("searched_through")
        since = date.fromisoformat(last) if last else ctx.day - timedelta(days=FIRST_SEARCH_DAYS)
        for agency in ctx.agencies:
            conditions = urllib.parse.urlencode([("conditions[agencies][]", agency),
                                                 ("conditions[publication_date][gte]", since.isoformat())])
            for page in client.search(conditions):
                parsed.append(federal_register.parse_json(page.body, page.url))
    except FetchFailed as exc:
        raise FetchError(str(exc)) from None
    documents = sum(len(f.documents) for f in parsed)
    for f in parsed:
        result.files[f.source_name] = {"sha256": hashlib.sha256(f.data).hexdigest(), "bytes": len(f.data),
                                       "fetched_at": now(), "answer": 200}
    head = (f"{len(missing)} cited document(s) the graph lacked ({len(not_found)} not in the Register), "
            f"{len(ctx.agencies)} agenc{'y' if len(ctx.agencies) == 1 else 'ies'} searched since "
            f"{since.isoformat()}: {documents} document(s) read, {client.requests} request(s)")
    fresh = [f for f in parsed if hashlib.sha256(f.data).hexdigest() not in ctx.held]
    if not fresh:
        result.status, result.detail = "unchanged", head + "; nothing new"
    else:
        with ctx.store.locked():
            plan = federal_register.plan_import(parsed, ctx.store.open_read())
            options = {"fetch": [], "search": [], "fetch_missing": True, "update": True}
            text, result.version = _commit_source(ctx, plan, [(f.source_name, f.data) for f in parsed], options)
        result.detail = f"{head}; {text}"
        if result.version is None:
            result.status = "unchanged"
    ctx.state.setdefault("federal-register", {})["searched_through"] = ctx.day.isoformat()
    return result


# --------------------------------------------------------------------------
# The command's work
# --------------------------------------------------------------------------

@dataclass
class UpdateRun:
    results: list[SourceResult]
    before: int | None
    after: int | None
    at: str


def update(store: VersionedStore, names: list[str] | None = None, overrides: dict[str, str] | None = None,
           end_missing: bool = False, fetcher: Fetcher | None = None,
           report: Callable[[SourceResult], None] | None = None,
           each: Callable[[list[str]], Any] | None = None) -> UpdateRun:
    """Fetch and import each named source (default: all four), one at a time; never raises for one source.

    ``report`` hears each source's result as it comes; ``each`` wraps the list of
    names (a progress bar).
    """
    store.current_version()  # no graph yet: say so before anything is fetched
    with _one_update(store):
        return _update(store, names, overrides, end_missing, fetcher, report, each)


@contextlib.contextmanager
def _one_update(store: VersionedStore) -> Iterator[None]:
    """One update at a time per store: a second one refuses at once (its fetch state would race the first's).

    Not the writer lock: an update holds that only while it commits a source,
    so loads and queries go on while it downloads.
    """
    folder = monitor_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".update.lock", "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise TradekgError(f"another update of {store.path} is running ({holder}); "
                               "try again when it has finished") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"tradekg update, pid {os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _update(store: VersionedStore, names: list[str] | None, overrides: dict[str, str] | None, end_missing: bool,
            fetcher: Fetcher | None, report: Callable[[SourceResult], None] | None,
            each: Callable[[list[str]], Any] | None) -> UpdateRun:
    from kg.monitor import state as snapshots

    chosen = list(names or SOURCE_NAMES)
    for name in chosen:
        if name not in SOURCE_NAMES:
            raise TradekgError(f"no source {name!r}; sources are {', '.join(SOURCE_NAMES)}")
    config = settings(store, overrides)
    state = fetch_state(store)
    ctx = _Context(store, fetcher or Fetcher(), state, today(), end_missing, config.agencies)
    before = _serial(store)
    snapshots.ensure(store, store.current_version())
    started = now()
    results = []
    for name in (each(chosen) if each else chosen):
        url = config.urls[name]
        try:
            if name == "csl":
                result = update_csl(ctx, url)
            elif name == "federal-register":
                result = update_federal_register(ctx, url)
            else:
                result = update_ofac(ctx, name, url)
        except FetchError as exc:
            result = SourceResult(name, url, "failed", f"{exc}; the graph keeps what it had for {name}")
        except LoadFailed as exc:
            result = SourceResult(name, url, "failed", f"{exc}: {exc.details()}; nothing of {name} was imported")
        except TradekgError as exc:
            result = SourceResult(name, url, "failed", f"{exc}")
        if result.status != "failed":
            entry = state.setdefault(name, {})
            entry.setdefault("files", {}).update(result.files)
            entry.update({"url": url, "last_fetch": now(), "last_status": result.status,
                          "last_detail": result.detail})
            if result.status == "unchanged":
                entry["no_change"] = sorted({f["sha256"] for f in result.files.values() if f.get("sha256")})
        else:
            state.setdefault(name, {}).update({"url": url, "last_attempt": now(), "last_status": "failed",
                                               "last_detail": result.detail})
        if result.version is not None:
            ctx.held = held_hashes(store)
            snapshots.ensure(store, store.current_version())
        results.append(result)
        if report:
            report(result)
    write_json(monitor_dir(store) / "fetches.json", state)
    after = _serial(store)
    run = UpdateRun(results, before, after, started)
    log = update_log(store)
    log.append({"at": started, "before": before, "after": after,
                "sources": [{"name": r.name, "status": r.status, "detail": r.detail, "version": r.version}
                            for r in results]})
    write_json(monitor_dir(store) / "updates.json", log[-200:])
    return run


def sources_table(store: VersionedStore) -> list[dict[str, str]]:
    """One row per source and file: its location, when it was last fetched, what came, its sha256."""
    config = settings(store)
    state = fetch_state(store)
    held = held_hashes(store)
    rows = []
    for name in SOURCE_NAMES:
        entry = state.get(name, {})
        files = entry.get("files", {})
        used = entry.get("url")
        base = {"source": name, "location": used or config.urls[name],
                "from": "last update" if used and used != config.urls[name] else config.origin[name],
                "last_fetch": entry.get("last_fetch", "never"), "status": entry.get("last_status", ""),
                "detail": entry.get("last_detail", "")}
        if not files:
            rows.append({**base, "file": "", "sha256": "", "bytes": "", "in_graph": ""})
        shown = sorted(files.items())
        if name == "federal-register" and len(shown) > 5:
            shown = shown[-5:]
        for url, info in shown:
            rows.append({**base, "file": url, "sha256": str(info.get("sha256", "")),
                         "bytes": f"{info.get('bytes', '')}", "in_graph": "yes" if info.get("sha256") in held else "no",
                         "etag": str(info.get("etag") or ""), "last_modified": str(info.get("last_modified") or "")})
    return rows
