"""``tradekg changes``: what changed between two versions of the graph, one event per party and entry.

Two snapshots (``kg.monitor.state``) are compared, version by version along
the versions that can still be read, so each event carries the version that
made it. The events:

* ``listed``: a list entry appeared (or an ended one holds again);
* ``ended``: an entry got an end date, or left the graph;
* ``entry changed``: names or aliases, addresses, identifiers, licence
  requirement, licence policy or programs changed (formatting is not a change:
  texts are compared with their spacing collapsed);
* ``newly reached`` / ``no longer reached``: a rule reaches a party other than
  by naming it (on a list, as an affiliate covered by its terms, through
  ownership) or a listed parent or affiliate exposes it. A party listed or
  ended in the same change gets only that event, not the reach that follows
  from it;
* ``rule status changed``: a rule was suspended, its suspension ended, or it
  stopped being in force.

Every event names its cause: the Federal Register document or rule when the
graph knows it (the rule that made or changed the entry, the rule that
reaches, the rule that suspends), else the source file and the day it was
taken in (the version's ledger entry).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import itertools
import json
import os
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from kg.errors import TradekgError
from kg.graph.store import VersionedStore
from kg.monitor import state as snapshots
from kg.monitor.update import update_log

COLUMNS = ["event", "party", "name", "list", "cause", "version", "date", "detail"]
REACH_WORDS = {"on-list": "on a list", "through-parent": "as an affiliate covered by its terms",
               "owned-by-listed": "owned by listed parties", "exposure": "exposure"}
CHANGED_FIELDS = {"names": "names", "addresses": "address", "ids": "identifiers", "requirement": "licence requirement",
                  "policy": "licence policy", "programs": "programs"}


@dataclass
class Event:
    event: str
    party: str
    name: str
    list: str
    cause: str
    version: int
    date: str
    detail: str = ""
    entry: str = ""
    rule: str = ""

    def row(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if k in COLUMNS}


def _short(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def _rule_text(rules: dict[str, Any], iri: str) -> str:
    rule = rules.get(iri, {})
    citation, number = rule.get("citation"), rule.get("document")
    if citation and number:
        return f"{citation} (FR Doc. {number})"
    return str(citation or (f"FR Doc. {number}" if number else None) or rule.get("label") or _short(iri))


def _is_document(rules: dict[str, Any], iri: str) -> bool:
    """A rule the graph knows as a document (not only a citation the CSL printed, not a list's standing order)."""
    rule = rules.get(iri)
    if not rule or rule.get("eo"):
        return False
    placeholder = str(rule.get("label", "")).startswith("cited as")
    return bool(rule.get("document") or (rule.get("citation") and not placeholder))


def _source_cause(cause: dict[str, Any]) -> str:
    files = [str(f) for f in cause.get("files", [])]
    names = [f.rsplit("/", 1)[-1] for f in files]
    folder = files[0][: -len(names[0])] if files and files[0].endswith(names[0]) and len(files) > 1 else ""
    shown = ", ".join(names) if folder else (files[0] if len(files) == 1 else ", ".join(names))
    where = f" ({folder.rstrip('/')})" if folder else ""
    what = f"{shown}{where}" if shown else str(cause.get("command", "?"))
    return f"{what} of {cause.get('date', '?')}"


def _cause(rule_iris: list[str], rules: dict[str, Any], version_cause: dict[str, Any]) -> str:
    documents = [_rule_text(rules, r) for r in sorted(rule_iris) if _is_document(rules, r)]
    if documents:
        return "; ".join(documents)
    source = _source_cause(version_cause)
    cited = [_rule_text(rules, r) for r in sorted(rule_iris)]
    if cited:
        orders = [c for r, c in zip(sorted(rule_iris), cited, strict=True) if rules.get(r, {}).get("eo")]
        others = [c for c in cited if c not in orders]
        extra = []
        if others:
            extra.append(f"cites {', '.join(others)}, document not in the graph")
        if orders:
            extra.append(f"under {', '.join(orders)}")
        source += f" ({'; '.join(extra)})"
    return source


def _holds(entry: dict[str, Any] | None) -> bool:
    return entry is not None and not entry.get("end")


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Event]:
    """The events that lead from snapshot ``old`` to snapshot ``new``."""
    version = int(new.get("version", 0))
    cause = new.get("cause", {})
    written = str(new.get("written_at") or "")[:10]
    rules = {**old.get("rules", {}), **new.get("rules", {})}
    parties = {**old.get("parties", {}), **new.get("parties", {})}
    events: list[Event] = []
    touched: set[str] = set()

    def name_of(party: str) -> str:
        return str(parties.get(party, {}).get("name") or _short(party))

    old_entries, new_entries = old.get("entries", {}), new.get("entries", {})
    for iri in sorted(set(old_entries) | set(new_entries)):
        before, after = old_entries.get(iri), new_entries.get(iri)
        entry = after or before
        assert entry is not None
        party, list_name = str(entry["party"]), str(entry.get("list_name") or _short(str(entry["list"])))
        if _holds(after) and not _holds(before):
            again = " (again)" if before is not None else ""
            events.append(Event("listed", party, name_of(party), list_name,
                                _cause(after["designated_by"], rules, cause), version,  # type: ignore[index]
                                str(after.get("start") or written), f"entry {_short(iri)}{again}",  # type: ignore[union-attr]
                                iri))
            touched.add(party)
        elif _holds(before) and not _holds(after):
            gone = after is None
            events.append(Event("ended", party, name_of(party), list_name, _cause([], rules, cause), version,
                                written if gone else str(after.get("end")),  # type: ignore[union-attr]
                                f"entry {_short(iri)} " + ("left the graph" if gone else f"ends {after.get('end')}"),  # type: ignore[union-attr]
                                iri))
            touched.add(party)
        elif _holds(before) and _holds(after):
            assert before is not None and after is not None
            parts = []
            for key, label in CHANGED_FIELDS.items():
                was, now = set(before.get(key, [])), set(after.get(key, []))
                if was != now:
                    added = "; ".join(sorted(now - was))
                    removed = "; ".join(sorted(was - now))
                    parts.append(f"{label}: " + ", ".join(x for x in (f"+ {added}" if added else "",
                                                                       f"- {removed}" if removed else "") if x))
            if before.get("start") != after.get("start"):
                parts.append(f"start date: {before.get('start')} -> {after.get('start')}")
            if parts:
                new_rules = sorted(set(after.get("modified_by", [])) - set(before.get("modified_by", [])))
                events.append(Event("entry changed", party, name_of(party), list_name,
                                    _cause(new_rules, rules, cause), version, written, " | ".join(parts), iri))
    old_reach, new_reach = old.get("reach", {}), new.get("reach", {})
    lists = {str(e["list"]): str(e.get("list_name") or "")
             for e in list(old_entries.values()) + list(new_entries.values())}
    for key in sorted(set(old_reach) | set(new_reach)):
        before, after = old_reach.get(key), new_reach.get(key)
        effect = after or before
        assert effect is not None
        party = str(effect["party"])
        if party in touched:
            continue
        was = before is not None and not before.get("end")
        now = after is not None and not after.get("end")
        if was == now:
            continue
        how = REACH_WORDS.get(str(effect["reach"]), str(effect["reach"]))
        through = f" through {name_of(str(effect['through']))}" if effect.get("through") else ""
        detail = f"{str(effect['kind']).replace('-', ' ')} ({how}){through}"
        when = str((after or {}).get("start") or written) if now else str((after or {}).get("end") or written)
        events.append(Event("newly reached" if now else "no longer reached", party, name_of(party),
                            lists.get(str(effect.get("list") or ""), ""), _rule_text(rules, str(effect["rule"])),
                            version, when, detail, rule=str(effect["rule"])))
    old_rules = old.get("rules", {})
    for iri, rule in sorted(new.get("rules", {}).items()):
        before = old_rules.get(iri)
        if before is None:
            continue
        parts, by = [], []
        if before.get("end") != rule.get("end"):
            parts.append(f"no longer in force from {rule['end']}" if rule.get("end") else "in force again")
        was = {tuple(s) for s in before.get("suspensions", [])}
        now = {tuple(s) for s in rule.get("suspensions", [])}
        for s in sorted(now - was, key=lambda s: [x or "" for x in s]):
            by.append(str(s[0]))
            parts.append(f"suspended by {_rule_text(rules, str(s[0]))} from {s[1] or '?'}" +
                         (f" to {s[2]}" if s[2] else ""))
        for s in sorted(was - now, key=lambda s: [x or "" for x in s]):
            if not any(t[0] == s[0] for t in now):
                by.append(str(s[0]))
                parts.append(f"suspension by {_rule_text(rules, str(s[0]))} lifted")
        if parts:
            events.append(Event("rule status changed", "", _rule_text(rules, iri), "",
                                _cause(by, rules, cause) if by else _source_cause(cause), version, written,
                                "; ".join(parts), rule=iri))
    return events


# --------------------------------------------------------------------------
# Which versions to compare
# --------------------------------------------------------------------------

def current_serial(store: VersionedStore) -> int:
    return int(store.manifest().get("version", 0))


def baseline(store: VersionedStore, since: str | None) -> tuple[int, str]:
    """The version to compare from, and words saying why (``--since`` VERSION or DATE, default the last update)."""
    available = snapshots.available(store)
    now = current_serial(store)
    if since is None:
        log = [run for run in update_log(store) if run.get("after") != run.get("before")]
        if log:
            run = log[-1]
            return int(run["before"]), (f"the last update that changed the graph, of {run['at']} "
                                        f"(version {run['before']} to {run['after']})")
        earlier = [v for v in available if v < now]
        if not earlier:
            raise TradekgError("no update yet and no earlier version to compare with; run `tradekg update`")
        return earlier[-1], f"the version before the current one ({earlier[-1]} to {now})"
    text = since.strip().lstrip("#")
    if text.isdigit():
        return int(text), f"version {text} (to {now})"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise TradekgError(f"--since {since!r}: give a version number (see `tradekg history`) or a date "
                           "YYYY-MM-DD") from None
    before = [v for v, at in available.items() if at and at[:10] < day.isoformat()]
    if not before:
        oldest = min(available) if available else now
        return oldest, f"version {oldest}, the oldest that can be compared (none is older than {day})"
    return before[-1], f"version {before[-1]}, the last one before {day} (to {now})"


def _chain(store: VersionedStore, start: int) -> list[int]:
    """``start`` and every later version a snapshot can be had of, skipping versions that change no fact."""
    available = snapshots.available(store)
    kept = {int(m.get("version", 0)): m for _, m in store.history()}
    now = current_serial(store)
    chain = [v for v in available
             if start < v <= now and not str(kept.get(v, {}).get("command", "")).startswith("watch")]
    if now not in chain and now != start:
        chain.append(now)
    return [start, *chain]


def changes(store: VersionedStore, since: str | None = None) -> tuple[list[Event], str]:
    """The events from the baseline version (see ``baseline``) to the current one, and what was compared."""
    start, why = baseline(store, since)
    chain = _chain(store, start)
    events: list[Event] = []
    for previous, following in itertools.pairwise(chain):
        events += pair_events(store, previous, following)
    return events, why


def pair_events(store: VersionedStore, old: int, new: int) -> list[Event]:
    """``diff`` of two versions' snapshots, kept beside them (``monitor/states/events-vA-vB.json.gz``).

    Reading two snapshots of the 1M benchmark graph and comparing them took
    1.1 s of the 1.6 s `tradekg changes` took; the events of one update are a
    few kilobytes. The kept events count only while both snapshots are the ones
    they were made from (each snapshot's version directory) and this code is
    the code that made them (a hash of this module and of ``kg.monitor.state``).
    """
    path = snapshots.states_dir(store) / f"events-v{old}-v{new}.json.gz"
    key = _pair_key(store, old, new)
    if key is not None:
        try:
            kept = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, ValueError, EOFError):
            kept = None
        if isinstance(kept, dict) and kept.get("key") == key:
            return [Event(**e) for e in kept["events"]]
    events = diff(snapshots.require(store, old), snapshots.require(store, new))
    key = _pair_key(store, old, new)  # both snapshots are kept now
    if key is not None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(gzip.compress(json.dumps({"key": key, "events": [asdict(e) for e in events]}).encode()))
        tmp.replace(path)
    return events


@functools.lru_cache(maxsize=1)
def _code_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes() + Path(snapshots.__file__).read_bytes()).hexdigest()[:16]


def _pair_key(store: VersionedStore, old: int, new: int) -> list[str] | None:
    dirs = []
    for serial in (old, new):
        try:
            dirs.append(str(json.loads(snapshots.meta_path(store, serial).read_text(encoding="utf-8"))["dir"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
    return [_code_hash(), *dirs]


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def write(events: list[Event], fmt: str, out: TextIO, snapshot: dict[str, Any] | None = None) -> None:
    from kg.answers.render import CsvWriter

    if fmt == "json":
        json.dump([e.row() | {"entry": e.entry, "rule": e.rule} for e in events], out, indent=2,
                  ensure_ascii=False)
        out.write("\n")
    elif fmt == "csv":
        writer = CsvWriter(out)
        writer.header(COLUMNS)
        for e in events:
            writer.row([e.row()[c] for c in COLUMNS])
    elif fmt == "ftm-delta":
        for line in ftm_delta(events, snapshot or {}):
            out.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    else:
        write_table(events, out)


def write_table(events: list[Event], out: TextIO) -> None:
    from rdflib import Literal

    from kg.answers.render import ResultTable, render_table

    table = ResultTable(COLUMNS, [{c: Literal(e.row()[c]) for c in COLUMNS if e.row()[c]} for e in events])
    render_table(table, out)


FTM_SCHEMA = {"Company": "Company", "Person": "Person", "Vessel": "Vessel", "Aircraft": "Airplane"}


def ftm_entity(party: str, snapshot: dict[str, Any]) -> dict[str, Any]:
    """A FollowTheMoney entity for a party, from a snapshot (the state after the change)."""
    info = snapshot.get("parties", {}).get(party, {})
    entries = [e for e in snapshot.get("entries", {}).values() if e["party"] == party and not e.get("end")]
    names = info.get("names") or [info.get("name") or _short(party)]
    properties: dict[str, list[str]] = {"name": [info.get("name") or names[0]],
                                        "alias": [n for n in names if n != info.get("name")],
                                        "country": [c.lower() for c in info.get("countries", [])],
                                        "topics": ["sanction"] if entries else [],
                                        "program": sorted({p for e in entries for p in e.get("programs", [])}),
                                        "notes": sorted({f"{e['list_name']} since {e.get('start')}" for e in entries})}
    return {"id": f"tradekg-{_short(party)}", "schema": FTM_SCHEMA.get(str(info.get("kind")), "LegalEntity"),
            "properties": {k: v for k, v in properties.items() if v}, "referents": [party]}


def ftm_delta(events: list[Event], snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """OpenSanctions' delta layout: one ``{"op": ADD|MOD|DEL, "entity": ...}`` per party that changed."""
    holding: dict[str, set[str]] = {}
    for iri, x in snapshot.get("entries", {}).items():
        if not x.get("end"):
            holding.setdefault(str(x["party"]), set()).add(iri)
    new_entries: dict[str, set[str]] = {}
    for e in events:
        if e.event == "listed":
            new_entries.setdefault(e.party, set()).add(e.entry)
    ops: dict[str, str] = {}
    for e in events:
        if not e.party:
            continue
        held = holding.get(e.party, set())
        if not held:
            ops[e.party] = "DEL"  # on no list any more: gone from a sanctions dataset
        elif held <= new_entries.get(e.party, set()):
            ops[e.party] = "ADD"  # every entry it has is new: new to the dataset
        else:
            ops[e.party] = "MOD"
    out = []
    for party, op in ops.items():
        entity = ftm_entity(party, snapshot)
        out.append({"op": op, "entity": entity if op != "DEL" else {"id": entity["id"], "schema": entity["schema"]}})
    return out


def made_by(store: VersionedStore, serial: int) -> tuple[list[Event], str]:
    """The events version ``serial`` made: compared with the newest earlier version a snapshot can be had of."""
    kept = {int(m.get("version", 0)): m for _, m in store.history()}
    earlier = [v for v in snapshots.available(store)
               if v < serial and not str(kept.get(v, {}).get("command", "")).startswith("watch")]
    if not earlier:
        raise TradekgError(f"no version before {serial} to compare it with")
    events = diff(snapshots.require(store, earlier[-1]), snapshots.require(store, serial))
    return events, f"version {serial} (compared with version {earlier[-1]})"


def feed(store: VersionedStore, since: str | None = None, version: int | None = None,
         source: str | None = None) -> dict[str, Any]:
    """The changes as one JSON document (the server's feed): what was compared, the updates, the events.

    ``source`` keeps the events of versions an update of that source wrote.
    """
    events, why = made_by(store, version) if version is not None else changes(store, since)
    runs = update_log(store)
    if source is not None:
        wrote = {int(s["version"]) for run in runs for s in run.get("sources", [])
                 if s.get("name") == source and s.get("version") is not None}
        events = [e for e in events if e.version in wrote]
        why += f", versions written by updates of {source}"
    return {"compared": why, "current_version": current_serial(store),
            "updates": [{"at": r["at"], "before": r["before"], "after": r["after"], "sources": r["sources"]}
                        for r in runs[-20:]][::-1],
            "events": [e.row() | {"entry": e.entry, "rule": e.rule} for e in events]}
