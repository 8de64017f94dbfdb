"""A version of the graph read into what ``changes`` compares: entries, reach, rule statuses, parties.

The store keeps only a few versions (``TRADEKG_KEEP_VERSIONS``), but an analyst
asks "what changed since last month". So each version an update touches is
read once into a snapshot kept beside the store
(``STORE/monitor/states/v<N>.json.gz``): it outlives the version. A snapshot
holds only what an event is made of, in a form where formatting is not a
change (names and texts with their spacing collapsed, sets sorted):

* ``entries``: each list entry (``tkg:Designation``) with its party, list,
  dates, names (the party's names and aliases, the entry's printed names),
  identifiers, addresses, licence requirement and policy, programs, and the
  rules that made and changed it;
* ``reach``: each derived rule effect that reaches a party other than by
  naming it (on a list, as an affiliate, through ownership, exposure);
* ``rules``: each rule's end and suspensions (its status);
* ``parties``: names and identifiers, for watchlists.

Provenance (source file, line, hash) is left out on purpose: the same entry
read from another file, or the same file re-quoted, is no change.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import TradekgError
from kg.graph.store import VersionedStore, read_manifest
from kg.resources import lookup_query

SNAPSHOT_FORMAT = 1
TKG = "https://w3id.org/tradekg/ontology#"
RDF_TYPE_IRI = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# Values of an entry (on the designation or on a source record of it) compared as sets.
ENTRY_VALUES = {
    "addresses": [f"{TKG}address"],
    "requirement": [f"{TKG}licenseRequirement"],
    "policy": [f"{TKG}licenseReviewPolicy"],
    "programs": [f"{TKG}program"],
    "printed": [f"{TKG}listedName"],
    "ids": [f"{TKG}identifier", f"{TKG}registrationNumber", f"{TKG}uscc", f"{TKG}isin",
            f"{TKG}ofacEntityNumber", f"{TKG}equityTicker"],
    "designated_by": [f"{TKG}designatedBy"],
    "modified_by": [f"{TKG}modifiedBy"],
}
PARTY_NAMES = ["http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#altLabel",
               "https://schema.org/legalName", "http://xmlns.com/foaf/0.1/name"]
PARTY_IDS = [f"{TKG}identifier", f"{TKG}registrationNumber", f"{TKG}uscc", f"{TKG}isin", f"{TKG}dateOfBirth",
             f"{TKG}wikidataId"]
_SPACE = re.compile(r"\s+")


def clean(value: str) -> str:
    """A text with its formatting taken out: spacing collapsed, ends trimmed."""
    return _SPACE.sub(" ", value).strip()


def _short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _rows(graph: ox.Store, name: str) -> list[dict[str, str | None]]:
    """The rows of the lookup query ``name`` (queries/lookup/NAME.rq), as plain strings."""
    solutions = graph.query(lookup_query(name))
    names = [v.value for v in solutions.variables]  # type: ignore[union-attr]
    # A solution read as a tuple (its values in projection order): looking each name up costs more.
    return [{n: (t.value if t is not None else None) for n, t in zip(names, s, strict=True)}
            for s in solutions]  # type: ignore[union-attr]


def _by_predicate(graph: ox.Store, predicate: str, subjects: set[str] | None = None) -> dict[str, set[str]]:
    """{subject: {values}} of one predicate, read straight from the predicate index (no query planning)."""
    out: dict[str, set[str]] = {}
    for quad in graph.quads_for_pattern(None, ox.NamedNode(predicate), None, ox.DefaultGraph()):
        subject = quad.subject.value
        if subjects is None or subject in subjects:
            out.setdefault(subject, set()).add(quad.object.value)
    return out


def _one(values: dict[str, set[str]], subject: str) -> str | None:
    found = values.get(subject)
    return min(found) if found else None


def read_graph(graph: ox.Store) -> dict[str, Any]:
    """The snapshot of one graph (see the module docstring).

    Read with one scan of the predicate index per predicate rather than SPARQL
    joins: on the SDN-sized graph on disk, the joins took a minute, the scans
    a few seconds.
    """
    designations = {
        q.subject.value for q in graph.quads_for_pattern(None, ox.NamedNode(RDF_TYPE_IRI),
                                                         ox.NamedNode(f"{TKG}Designation"), ox.DefaultGraph())}
    party_of = _by_predicate(graph, f"{TKG}designatedParty", designations)
    list_of = _by_predicate(graph, f"{TKG}onList", designations)
    starts = _by_predicate(graph, "https://schema.org/startDate", designations)
    ends = _by_predicate(graph, "https://schema.org/endDate", designations)
    lists = {v for vs in list_of.values() for v in vs}
    titles = _by_predicate(graph, "http://purl.org/dc/terms/title", lists)
    entries: dict[str, dict[str, Any]] = {}
    for d in designations:
        party, on = _one(party_of, d), _one(list_of, d)
        if party is None or on is None:
            continue
        entries[d] = {"party": party, "list": on, "list_name": clean(_one(titles, on) or ""),
                      "start": _one(starts, d), "end": _one(ends, d)}
    records: dict[str, str] = {}  # a CSL row merged into an entry: its record's values count as the entry's
    for record, of in _by_predicate(graph, f"{TKG}recordOf").items():
        for d in of:
            if d in entries:
                records[record] = d
    wanted = set(entries) | set(records)
    for key, predicates in ENTRY_VALUES.items():
        found: dict[str, set[str]] = {}
        for p in predicates:
            for subject, values in _by_predicate(graph, p, wanted).items():
                found.setdefault(records.get(subject, subject), set()).update(clean(v) for v in values)
        for d, entry in entries.items():
            entry[key] = sorted(found.get(d, set()))
    party_set = {str(e["party"]) for e in entries.values()}
    names = {p: _by_predicate(graph, p, party_set) for p in PARTY_NAMES}
    ids = {p: _by_predicate(graph, p, party_set) for p in PARTY_IDS}
    kinds = _by_predicate(graph, RDF_TYPE_IRI, party_set)
    countries = {p: _by_predicate(graph, p, party_set) for p in ("https://schema.org/addressCountry",
                                                                f"{TKG}nationality")}
    parties: dict[str, dict[str, Any]] = {}
    for party in party_set:
        label = sorted(clean(n) for n in names[PARTY_NAMES[0]].get(party, set()))
        every = sorted({clean(n) for p in PARTY_NAMES for n in names[p].get(party, set())})
        parties[party] = {"name": label[0] if label else (every[0] if every else _short(party)), "names": every,
                          "ids": sorted({clean(v) for p in PARTY_IDS for v in ids[p].get(party, set())}),
                          "kind": _short(min(kinds.get(party, {f"{TKG}Company"}))),
                          "countries": sorted({v for c in countries.values() for v in c.get(party, set())})}
    for entry in entries.values():
        extra = [n for n in entry["printed"] if n not in parties[str(entry["party"])]["names"]]
        entry["names"] = sorted(set(parties[str(entry["party"])]["names"]) | set(extra))
        entry["ids"] = sorted(set(entry["ids"]) | set(parties[str(entry["party"])]["ids"]))
    reach: dict[str, dict[str, Any]] = {}
    for row in _rows(graph, "monitor-effects"):
        through = row["viaParent"] or (row["viaParty"] if row["viaParty"] != row["party"] else None) or ""
        via_list = ""
        if row["via"] and row["via"] in entries:
            via_list = str(entries[row["via"]]["list"])
        key = "|".join([str(row["party"]), str(row["rule"]), _short(str(row["kind"])), _short(str(row["reach"])),
                        through, via_list])
        reach[key] = {"party": row["party"], "rule": row["rule"], "kind": _short(str(row["kind"])),
                      "reach": _short(str(row["reach"])), "through": through, "list": via_list,
                      "start": row["start"], "end": row["end"]}
    rules: dict[str, dict[str, Any]] = {}
    for row in _rows(graph, "monitor-rules"):
        rule = rules.setdefault(str(row["rule"]), {"label": clean(row["label"] or ""), "citation": row["citation"],
                                                   "document": row["number"], "end": row["end"],
                                                   "type": _short(row["type"] or ""), "eo": row["eo"],
                                                   "published": row["published"],
                                                   "suspensions": []})
        rule["citation"] = rule["citation"] or row["citation"]
        rule["document"] = rule["document"] or row["number"]
    for row in _rows(graph, "monitor-suspensions"):
        if str(row["rule"]) in rules:
            rules[str(row["rule"])]["suspensions"].append([row["by"], row["start"], row["end"]])
    for rule in rules.values():
        rule["suspensions"].sort(key=lambda s: [x or "" for x in s])
    return {"format": SNAPSHOT_FORMAT, "entries": entries, "parties": parties, "reach": reach, "rules": rules}


# --------------------------------------------------------------------------
# Kept beside the store, one per version
# --------------------------------------------------------------------------

def states_dir(store: VersionedStore) -> Path:
    return store.path / "monitor" / "states"


def _path(store: VersionedStore, serial: int) -> Path:
    return states_dir(store) / f"v{serial}.json.gz"


def ensure(store: VersionedStore, version: Path) -> dict[str, Any]:
    """The snapshot of a kept version directory: read from the cache, or from the graph and cached."""
    manifest = read_manifest(version) or {}
    serial = int(manifest.get("version", 0))
    path = _path(store, serial)
    if path.is_file() and meta_path(store, serial).is_file():
        try:
            same = json.loads(meta_path(store, serial).read_text(encoding="utf-8")).get("dir") == version.name
            cached = json.loads(gzip.decompress(path.read_bytes())) if same else {}
            if cached.get("format") == SNAPSHOT_FORMAT and cached.get("dir") == version.name:
                return dict(cached)
        except (OSError, ValueError):
            pass
    graph = ox.Store.read_only(str(version))
    try:
        snapshot = read_graph(graph)
    finally:
        del graph
    snapshot.update({"version": serial, "dir": version.name, "written_at": manifest.get("written_at"),
                     "cause": version_cause(manifest)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(gzip.compress(json.dumps(snapshot, sort_keys=True).encode("utf-8"), compresslevel=5))
    tmp.replace(path)
    meta = meta_path(store, serial)
    tmp = meta.with_name(f".{meta.name}.tmp")
    tmp.write_text(json.dumps({"version": serial, "dir": version.name, "written_at": snapshot["written_at"]}),
                   encoding="utf-8")
    tmp.replace(meta)
    return snapshot


def meta_path(store: VersionedStore, serial: int) -> Path:
    """A few bytes beside each snapshot: its version, directory and time (listing them reads no snapshot)."""
    return states_dir(store) / f"v{serial}.meta.json"


def load(store: VersionedStore, serial: int) -> dict[str, Any] | None:
    """A snapshot by version number: kept beside the store, or read from the version if still kept."""
    for version, manifest in store.history():
        if int(manifest.get("version", -1)) == serial:
            return ensure(store, version)
    path = _path(store, serial)
    if path.is_file():
        return dict(json.loads(gzip.decompress(path.read_bytes())))
    return None


def available(store: VersionedStore) -> dict[int, str]:
    """Version number -> when it was written, for every version a snapshot can be had of."""
    found: dict[int, str] = {}
    folder = states_dir(store)
    if folder.is_dir():
        for path in folder.glob("v*.meta.json"):
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if _path(store, int(meta["version"])).is_file():
                found[int(meta["version"])] = str(meta.get("written_at") or "")
    for _version, manifest in store.history():
        found[int(manifest.get("version", 0))] = str(manifest.get("written_at") or "")
    return dict(sorted(found.items()))


def version_cause(manifest: dict[str, Any]) -> dict[str, Any]:
    """What wrote a version, as an event's fallback cause: its command, files and day."""
    entry = next((e for e in manifest.get("ledger", []) if e.get("id") == manifest.get("entry")), None)
    day = str(manifest.get("written_at") or "")[:10]
    if entry is not None:
        files = [str(i.get("name")) for i in entry.get("inputs", [])]
        as_of = (entry.get("options") or {}).get("as_of")
        return {"command": str(manifest.get("command") or entry.get("kind")), "files": files,
                "date": as_of or str(entry.get("at") or "")[:10] or day}
    files = [str(f) for f in manifest.get("imported", manifest.get("files", []))][:3]
    return {"command": str(manifest.get("command") or "?"), "files": files, "date": day}


def require(store: VersionedStore, serial: int) -> dict[str, Any]:
    snapshot = load(store, serial)
    if snapshot is None:
        known = ", ".join(str(v) for v in available(store)) or "none"
        raise TradekgError(f"no snapshot of version {serial}: it is no longer kept and no update read it "
                           f"(versions that can be compared: {known})")
    return snapshot
