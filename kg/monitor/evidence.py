"""Evidence of a screening: what the tool said on that day, on which data, and whether it still says it.

``tradekg screen ... --evidence FILE`` writes a JSON record: when, the inputs
(the names, or the file's rows and sha256), the options, the date the answer
is for, the graph version (number and directory) and the content hash of
every source behind it (each file the graph was built and loaded from, as the
graph records them, and every ledger input), and each answer with its lists,
rules, statuses and exposure. ``tradekg evidence check FILE`` runs the same
screening again on that version, if the store still keeps it (or, with
``--current``, on today's graph), and says whether the answer is the same,
row by row where it is not.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import __version__
from kg.errors import TradekgError
from kg.graph.store import VersionedStore

FORMAT = 1
ANSWER_FIELDS = ["input_line", "input_id", "input_name", "input_country", "score", "matched_name", "party", "lists",
                 "rules", "exposure", "explanation"]


def _digest(answers: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(answers, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def sources_behind(store: VersionedStore, version: Path) -> list[dict[str, Any]]:
    """Every file behind a version, with its content hash: as the graph records them, and the ledger's inputs."""
    from kg.graph.store import read_manifest

    manifest = read_manifest(version) or {}
    graph = ox.Store.read_only(str(version))
    try:
        recorded = graph.query("SELECT DISTINCT ?f ?h WHERE { ?s <https://w3id.org/tradekg/ontology#sourceFile> ?f ; "
                               "<https://w3id.org/tradekg/ontology#sourceHash> ?h }")
        found = {(s["f"].value, s["h"].value) for s in recorded}  # type: ignore[union-attr,index]
    finally:
        del graph
    out = [{"file": f, "sha256": h.removeprefix("sha256:"), "from": "graph"} for f, h in sorted(found)]
    for entry in manifest.get("ledger", []):
        for item in entry.get("inputs", []):
            out.append({"file": item.get("name"), "sha256": item.get("sha256"), "bytes": item.get("bytes"),
                        "from": f"ledger entry {entry.get('id')}: {entry.get('kind')} at {entry.get('at')}"})
    return out


def record(store: VersionedStore, rows: list[Any], answers: list[dict[str, str]], options: dict[str, Any],
           on: str, source: dict[str, Any]) -> dict[str, Any]:
    """The evidence record of a screening already run on the store's current version."""
    from datetime import UTC, datetime

    version = store.current_version()
    manifest = store.manifest()
    return {
        "tradekg_evidence": FORMAT,
        "tool": f"tradekg {__version__}",
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "answer_for": on,
        "inputs": {**source, "rows": [{"line": r.line, "id": r.id, "name": r.name, "country": r.country,
                                       "identifiers": list(r.identifiers), "address": r.address} for r in rows]},
        "options": options,
        "graph": {"store": str(store.path), "version": manifest.get("version"), "directory": version.name,
                  "written_at": manifest.get("written_at"), "command": manifest.get("command"),
                  "triples": manifest.get("triples")},
        "sources": sources_behind(store, version),
        "answers": answers,
        "answers_sha256": _digest(answers),
    }


def screen_rows(backend: Any, rows: list[Any], options: dict[str, Any], on: str) -> list[dict[str, str]]:
    from kg.answers.batch import screen_rows as run

    return [dict(a) for a in run(backend, rows, limit=options["limit"], threshold=options["threshold"], on=on,
                                 include_ended=options["include_ended"])]


def write(path: Path, evidence: dict[str, Any]) -> None:
    path.write_text(json.dumps(evidence, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def read(path: Path) -> dict[str, Any]:
    try:
        evidence = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TradekgError(f"{path}: not an evidence record (not JSON: {exc})") from None
    if not isinstance(evidence, dict) or evidence.get("tradekg_evidence") != FORMAT:
        raise TradekgError(f"{path}: not a tradekg evidence record (format {FORMAT})")
    return evidence


def check(store: VersionedStore, evidence: dict[str, Any], current: bool = False) -> tuple[bool, list[str], str]:
    """Re-run the recorded screening; (same?, differences, what it ran on)."""
    from kg.answers.batch import Counterparty
    from kg.graph.backend import EmbeddedBackend

    graph = evidence["graph"]
    if current:
        version = store.current_version()
        where = f"the current graph (version {store.manifest().get('version')})"
    else:
        kept = {p.name: p for p, _ in store.history()}
        if graph["directory"] not in kept:
            raise TradekgError(f"version {graph['version']} ({graph['directory']}) is no longer kept in {store.path}; "
                               "its sources and answers are in the record. `tradekg evidence check --current FILE` "
                               "re-runs it on today's graph")
        version = kept[graph["directory"]]
        where = f"version {graph['version']} ({graph['directory']}), the one it was recorded on"
    rows = [Counterparty(r["line"], r["id"], r["name"], r["country"], list(r.get("identifiers", [])),
                         r.get("address", "")) for r in evidence["inputs"]["rows"]]
    backend = EmbeddedBackend(ox.Store.read_only(str(version)))
    again = screen_rows(backend, rows, evidence["options"], evidence["answer_for"])
    before = evidence["answers"]
    if _digest(again) == evidence["answers_sha256"] and again == before:
        return True, [], where
    differences = []
    key = ("input_id", "party")
    old = {tuple(a[k] for k in key): a for a in before}
    new = {tuple(a[k] for k in key): a for a in again}
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if a is None:
            differences.append(f"row {k[0]}: now also {b['matched_name'] or b['explanation']} ({b['lists']})")  # type: ignore[index]
        elif b is None:
            differences.append(f"row {k[0]}: no longer {a['matched_name'] or a['explanation']} ({a['lists']})")
        elif a != b:
            fields = [f for f in ANSWER_FIELDS if a.get(f) != b.get(f)]
            differences.append(f"row {k[0]}, {a['matched_name'] or k[1]}: " +
                               "; ".join(f"{f} was {a.get(f)!r}, now {b.get(f)!r}" for f in fields))
    return False, differences, where
