"""Watchlists: counterparty files screened against what changed, and the analysts' decisions on hits.

``watch add FILE --name NAME`` keeps a counterparty file (the ``screen --file``
layout: a name column, optional country and id columns, and an optional
``identifiers`` column of ``;``-separated registration numbers, USCC, ISIN...)
in the store's ledger, as the bytes it was. ``watch report`` screens its rows
against the parties that changes touched since the last report (or
``--since``), and lists only those hits: each with the event and its cause.

A decision on a hit (``same``, ``not-same``, ``unsure``, a note, who) is a
ledger entry too, kept with its time. A ``not-same`` decision records the
party's names and identifiers as they were; the hit is not raised again
until they change. Both kinds replay as nothing in the graph (a customer list
never reaches a shared or pushed graph), so they survive ``build``, updates
and rollbacks to later versions, as the ledger does.
"""

from __future__ import annotations

import getpass
import hashlib
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib import URIRef

from kg.errors import InputProblem, LoadFailed, TradekgError
from kg.graph.store import VersionedStore
from kg.monitor import changes as changing
from kg.monitor import state as snapshots
from kg.monitor.update import monitor_dir, read_json, write_json
from kg.pipeline import ledger

if TYPE_CHECKING:
    from kg.answers.batch import Counterparty  # one counterparty row, as batch screening reads it

ADD_KIND = "watch add"
DECIDE_KIND = "watch decision"
DECISIONS = ("same", "not-same", "unsure")
IDENTIFIERS_COLUMN = "identifiers"
COLUMNS = ["watch", "input_id", "input_name", "score", "matched_name", "party", "event", "list", "cause", "version",
           "date", "detail", "decision"]


def _nothing(graph: ox.Store, inputs: list[ledger.StoredInput], options: dict[str, Any]) -> ledger.Change:
    """A watchlist or a decision adds nothing to the graph: the ledger keeps it, the graph never sees it."""
    return ledger.Change(summary=str(options.get("summary", "")))


ledger.register(ADD_KIND, _nothing)
ledger.register(DECIDE_KIND, _nothing)


# --------------------------------------------------------------------------
# Ledger entries: written as versions that change no fact
# --------------------------------------------------------------------------

def _record(store: VersionedStore, kind: str, inputs: list[tuple[str, bytes]], options: dict[str, Any],
            summary: str) -> dict[str, Any]:
    with store.locked():
        current = store.manifest()
        entry = ledger.new_entry(store, kind, inputs, options)
        manifest = {key: current[key] for key in ("files", "rows_per_table", "unrecorded", "triples") if key in current}
        manifest["command"] = kind
        manifest.update(ledger.manifest_with(store, entry, summary))
        with store.write(from_current=True, manifest=manifest):
            pass
    return entry


@dataclass
class Watch:
    name: str
    file: str
    sha256: str
    options: dict[str, Any]
    at: str
    rows: list[Counterparty]


def _read(data: bytes, file_name: str, options: dict[str, Any]) -> tuple[list[Counterparty], list[InputProblem]]:
    import csv
    import io

    from kg.answers.batch import Counterparty, read_counterparties

    with tempfile.TemporaryDirectory(prefix="tradekg-watch-") as tmp:
        path = Path(tmp) / (PurePosixPath(file_name).name or "watch.csv")
        path.write_bytes(data)
        rows, problems = read_counterparties(path, options["name_column"], options["country_column"],
                                             options["id_column"])
    for problem in problems:
        problem.file = file_name
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    ids: dict[int, list[str]] = {}
    if IDENTIFIERS_COLUMN in header:
        at = header.index(IDENTIFIERS_COLUMN)
        for line, cells in enumerate(reader, start=2):
            if len(cells) > at:
                ids[line] = [v.strip() for v in cells[at].split(";") if v.strip()]
    return [Counterparty(r.line, r.id, r.name, r.country, ids.get(r.line, [])) for r in rows], problems


def add(store: VersionedStore, path: Path, name: str | None, name_column: str = "name",
        country_column: str = "country", id_column: str = "id") -> tuple[Watch, list[InputProblem]]:
    """Keep the counterparty file ``path`` as watchlist ``name`` (default: the file's name without .csv)."""
    store.current_version()
    data = path.read_bytes()
    name = name or path.stem
    options = {"name": name, "name_column": name_column, "country_column": country_column, "id_column": id_column}
    rows, problems = _read(data, path.name, options)
    if not rows:
        raise LoadFailed(problems or [InputProblem(str(path), None, None, "no counterparty to watch")])
    options["from_version"] = int(store.manifest().get("version", 0))
    snapshots.ensure(store, store.current_version())  # the report compares from here, even once it is pruned
    entry = _record(store, ADD_KIND, [(path.name, data)], options, f"watchlist {name}: {len(rows)} counterparties")
    return Watch(name, path.name, entry["inputs"][0]["sha256"], options, entry["at"], rows), problems


def watches(store: VersionedStore) -> dict[str, Watch]:
    """The watchlists of the current ledger, by name (a later ``add`` of a name replaces it)."""
    found: dict[str, Watch] = {}
    for entry in ledger.entries(store.manifest()):
        if entry.get("kind") != ADD_KIND:
            continue
        options = dict(entry.get("options", {}))
        (stored,) = ledger.stored_inputs(store, entry)
        rows, _ = _read(stored.data, stored.name, options)
        found[options["name"]] = Watch(options["name"], stored.name, stored.sha256, options, entry.get("at", ""), rows)
    return found


def decisions(store: VersionedStore, watch: str | None = None) -> list[dict[str, Any]]:
    """Every decision of the current ledger (oldest first), with its time."""
    found = []
    for entry in ledger.entries(store.manifest()):
        if entry.get("kind") == DECIDE_KIND and (watch is None or entry["options"].get("watch") == watch):
            found.append({**entry["options"], "at": entry.get("at", ""), "ledger_entry": entry["id"]})
    return found


def fingerprint(party: dict[str, Any]) -> str:
    """What a not-same decision was made on: the party's names and identifiers."""
    text = "\n".join(sorted(party.get("names", []))) + "\n--\n" + "\n".join(sorted(party.get("ids", [])))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def resolve_party(snapshot: dict[str, Any], text: str) -> str:
    parties = snapshot.get("parties", {})
    if text in parties:
        return text
    wanted = text.strip().rsplit("/", 1)[-1]
    hits = [p for p in parties if p.rsplit("/", 1)[-1] == wanted]
    if len(hits) == 1:
        return hits[0]
    raise TradekgError(f"no listed party {text!r} in the graph; give the party column of `watch report`")


def decide(store: VersionedStore, watch: str, counterparty: str, party: str, decision: str, note: str = "",
           who: str | None = None) -> dict[str, Any]:
    """Record a decision on a hit (``same``, ``not-same``, ``unsure``) in the ledger; returns what was kept."""
    if decision not in DECISIONS:
        raise TradekgError(f"decision {decision!r}: one of {', '.join(DECISIONS)}")
    known = watches(store)
    if watch not in known:
        raise TradekgError(f"no watchlist {watch!r}; watchlists: {', '.join(sorted(known)) or 'none'}")
    if counterparty not in {r.id for r in known[watch].rows}:
        raise TradekgError(f"watchlist {watch!r} has no counterparty with id {counterparty!r}")
    snapshot = snapshots.ensure(store, store.current_version())
    iri = resolve_party(snapshot, party)
    options = {"watch": watch, "counterparty": counterparty, "party": iri, "decision": decision, "note": note,
               "who": who or getpass.getuser(), "fingerprint": fingerprint(snapshot["parties"][iri])}
    entry = _record(store, DECIDE_KIND, [], options,
                    f"{decision} on {watch}/{counterparty} and {iri.rsplit('/', 1)[-1]} by {options['who']}")
    return {**options, "at": entry["at"]}


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------

def _reported(store: VersionedStore) -> dict[str, int]:
    return dict(read_json(monitor_dir(store) / "watches.json", {}))


def report(store: VersionedStore, name: str | None = None, since: str | None = None,
           threshold: float | None = None, remember: bool = True) -> tuple[list[dict[str, str]], str, int]:
    """Hits of the watched counterparties on what changed; returns (rows, what was compared, suppressed count).

    Without ``since`` each watchlist is compared from the version its last
    report reached (or the one it was added on), and that is then moved to
    the current version: a hit is reported once.
    """
    from kg.answers import screen as screening

    known = watches(store)
    if name is not None and name not in known:
        raise TradekgError(f"no watchlist {name!r}; watchlists: {', '.join(sorted(known)) or 'none'}")
    chosen = [known[name]] if name else [known[k] for k in sorted(known)]
    if not chosen:
        raise TradekgError("no watchlist yet; add one: `tradekg watch add counterparties.csv --name customers`")
    current = snapshots.ensure(store, store.current_version())
    now = int(current.get("version", 0))
    reached = _reported(store)
    rows: list[dict[str, str]] = []
    suppressed = 0
    described = []
    threshold = screening.DEFAULT_THRESHOLD if threshold is None else threshold
    for watch in chosen:
        start = since if since is not None else str(reached.get(watch.name, watch.options.get("from_version", now)))
        if since is None and int(start) >= now:
            described.append(f"{watch.name}: nothing new since version {start}")
            continue
        events, why = changing.changes(store, start)
        described.append(f"{watch.name}: {why}")
        by_party: dict[str, list[changing.Event]] = {}
        for event in events:
            if event.party:
                by_party.setdefault(event.party, []).append(event)
        if not by_party:
            continue
        parties = current.get("parties", {})
        names = []
        for party in by_party:
            info = parties.get(party, {})
            for label in info.get("names", []) or [by_party[party][0].name]:
                names.append((URIRef(party), label, info.get("countries", [])))
        index = screening.Index.from_names(names)
        ids = {i.casefold().replace(" ", ""): p for p in by_party for i in parties.get(p, {}).get("ids", [])}
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for d in decisions(store, watch.name):
            latest[(str(d["counterparty"]), str(d["party"]))] = d
        for row in watch.rows:
            found: dict[str, tuple[float, str]] = {}
            for match in screening.match(index, row.name, row.country, limit=5, threshold=threshold):
                found[str(match.party)] = (match.score, match.matched_name)
            for ident in row.identifiers:
                party = ids.get(ident.casefold().replace(" ", ""))
                if party:
                    found[party] = (100.0, f"identifier {ident}")
            for party, (score, matched) in sorted(found.items(), key=lambda kv: -kv[1][0]):
                decision = latest.get((row.id, party))
                said = ""
                if decision is not None:
                    said = f"{decision['decision']} ({decision['who']}, {decision['at']}"
                    said += f": {decision['note']})" if decision.get("note") else ")"
                    if decision["decision"] == "not-same":
                        if fingerprint(parties.get(party, {})) == decision.get("fingerprint"):
                            suppressed += 1
                            continue
                        said = "names or identifiers changed since: " + said
                for event in by_party[party]:
                    rows.append({"watch": watch.name, "input_id": row.id, "input_name": row.name,
                                 "score": f"{score:.1f}", "matched_name": matched, "party": party,
                                 "event": event.event, "list": event.list, "cause": event.cause,
                                 "version": str(event.version), "date": event.date, "detail": event.detail,
                                 "decision": said})
        if since is None and remember:
            reached[watch.name] = now
    if since is None and remember:
        write_json(monitor_dir(store) / "watches.json", reached)
    return rows, "; ".join(described), suppressed


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
