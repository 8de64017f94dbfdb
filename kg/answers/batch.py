"""Batch screening: a file of counterparties in, one row per input row and candidate out.

A compliance team screens its whole counterparty list at once, so this reads
a CSV (columns chosen by name), screens each row with the same single-name
function as ``tradekg screen`` (one index for the whole file, and the graph
asked once per matched party), and writes CSV or JSON. A bad row (no name, a
country that is not an ISO 3166-1 alpha-2 code, a ragged row) is reported by
its line and left out; the other rows are still screened, so one typo does
not hold up ten thousand names. What each candidate is on, and which rules
reach it, are said for one date (today unless ``on``), as ``tradekg screen``
says them: ended entries left out unless ``include_ended``. An input row with no candidate at or above
the threshold still gets one output row saying so, with the nearest names
below the threshold in its ``near_misses`` column: every input is accounted
for. Optional identifier and address columns: a typed identifier the graph
holds decides, one that conflicts lowers the score; an address gives the row
its country when it names one and the row has none.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from kg.answers import screen as screening
from kg.answers.render import CsvWriter
from kg.errors import InputProblem, LoadFailed
from kg.graph.backend import Backend
from kg.progress import progress

COLUMNS = ["input_line", "input_id", "input_name", "input_country", "input_identifier", "score", "matched_name",
           "party", "lists", "rules", "exposure", "explanation", "near_misses"]
NO_MATCH = "no name in the graph matches at or above the threshold"


@dataclass
class Counterparty:
    line: int
    id: str
    name: str
    country: str | None
    identifiers: list[str] = field(default_factory=list)
    address: str = ""


@dataclass
class BatchReport:
    """What a batch did: rows read and written, rows with a match, and the bad rows left out."""

    screened: int = 0
    matched: int = 0
    written: int = 0
    problems: list[InputProblem] = field(default_factory=list)


def read_counterparties(path: Path, name_column: str = "name", country_column: str = "country",
                        id_column: str = "id", identifier_column: str = "identifier",
                        address_column: str = "address") -> tuple[list[Counterparty], list[InputProblem]]:
    """The rows of ``path`` that can be screened, and a problem for each that cannot.

    A missing name column (or a named country, id, identifier or address
    column that is absent) is a problem with the whole file and raises
    ``LoadFailed``. Those columns are optional when left at their defaults.
    Identifiers in one cell are separated by ";". An address without a
    country column gives the row its country when it names one (a country
    name, or a Chinese province or city for CN).
    """
    shown = str(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        try:
            text = f.read()
        except UnicodeDecodeError as exc:
            raise LoadFailed([InputProblem(shown, None, None, f"not UTF-8 text ({exc.reason})")]) from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise LoadFailed([InputProblem(shown, 1, None, "the file is empty; it needs a header row")])
    header = [h.strip() for h in header]
    missing = [c for c in (name_column,) if c not in header]
    for column, default in ((country_column, "country"), (id_column, "id"), (identifier_column, "identifier"),
                            (address_column, "address")):
        if column != default and column not in header:
            missing.append(column)
    if missing:
        raise LoadFailed([InputProblem(shown, 1, c, f"no such column (the header has: {', '.join(header)})")
                          for c in missing])
    at = {c: header.index(c) for c in (name_column, country_column, id_column, identifier_column, address_column)
          if c in header}
    rows: list[Counterparty] = []
    problems: list[InputProblem] = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(InputProblem(shown, line, None,
                                         f"{len(cells)} cells where the header has {len(header)}; row left out"))
            continue
        name = cells[at[name_column]].strip()
        if not name:
            problems.append(InputProblem(shown, line, name_column, "empty name; row left out"))
            continue
        country = cells[at[country_column]].strip().upper() if country_column in at else ""
        if country and not _is_country(country):
            problems.append(InputProblem(shown, line, country_column,
                                         f"{country!r} is not an ISO 3166-1 alpha-2 code; row left out"))
            continue
        ident = cells[at[id_column]].strip() if id_column in at else ""
        identifiers = [v.strip() for v in cells[at[identifier_column]].split(";") if v.strip()] \
            if identifier_column in at else []
        address = cells[at[address_column]].strip() if address_column in at else ""
        country = country or (_address_country(address) if address else "")
        rows.append(Counterparty(line, ident or str(line), name, country or None, identifiers, address))
    return rows, problems


def _address_country(address: str) -> str:
    """The country an address names (its last part that is a country name, or a Chinese place), else ""."""
    import pycountry

    from kg.answers import names

    for part in reversed([p.strip() for p in address.replace("\n", ",").split(",") if p.strip()]):
        try:
            return str(pycountry.countries.lookup(part).alpha_2)
        except LookupError:
            pass
        words = screening.normalise_name(part).split()
        if any(w in names.CHINA_PLACES for w in words) or names.has_han(part):
            return "CN"
    return ""


def _is_country(code: str) -> bool:
    from kg.loaders.cells import COUNTRY_CODES

    return code in COUNTRY_CODES


def _lists(found: screening.Match) -> str:
    if not found.designations:
        return "not on a list in the graph"
    return "; ".join(f"{d['list']} since {d['start']}" + (f", ended {d['end']}" if d.get("end") else "")
                     + (f" ({d['policy']})" if d.get("policy") else "")
                     + (f" [{d['status']}]" if d.get("status") else "") for d in found.designations)


def screen_rows(backend: Backend, rows: list[Counterparty], index: screening.Index | None = None,
                limit: int = 10, threshold: float = screening.DEFAULT_THRESHOLD, on: str | None = None,
                include_ended: bool = False) -> Iterator[dict[str, str]]:
    """One output row per input row and candidate (one saying "no match" when there is none).

    Each row goes through what ``kg.answers.screen.screen`` does for one name
    (``match``, then ``finish``), with one index for the file; the graph is
    asked about all matched parties in bulk first (``describe_many``), and
    ``finish`` reads them from that cache.
    """
    index = index or screening.Index.from_backend(backend)
    if on is None:
        from kg.answers.queries import today

        on = str(today())
    ranked = [screening.match(index, row.name, row.country, limit, threshold, row.identifiers) for row in rows]
    cache = screening.describe_many(backend, sorted({m.party for found in ranked for m in found}), on,
                                    include_ended)
    for row, found_for_row in progress(zip(rows, ranked, strict=True), "screening", length=len(rows)):
        base = {"input_line": str(row.line), "input_id": row.id, "input_name": row.name,
                "input_country": row.country or "", "input_identifier": "; ".join(row.identifiers)}
        matches = screening.finish(backend, found_for_row, limit, on, include_ended, cache)
        if not matches:
            near = screening.near_misses(index, row.name, row.country, threshold, row.identifiers)
            yield {**base, "score": "", "matched_name": "", "party": "", "lists": "", "rules": "", "exposure": "",
                   "explanation": NO_MATCH, "near_misses": screening.near_text(near)}
        for found in matches:
            yield {**base, "score": f"{found.score:.1f}", "matched_name": found.matched_name,
                   "party": str(found.party), "lists": _lists(found), "rules": "; ".join(found.rules),
                   "exposure": "; ".join(found.exposure), "explanation": found.explanation, "near_misses": ""}


def screen_file(backend: Backend, path: Path, out: TextIO, fmt: str = "csv", name_column: str = "name",
                country_column: str = "country", id_column: str = "id", index: screening.Index | None = None,
                limit: int = 10, threshold: float = screening.DEFAULT_THRESHOLD, on: str | None = None,
                include_ended: bool = False, identifier_column: str = "identifier",
                address_column: str = "address") -> BatchReport:
    """Screen every good row of the CSV file ``path`` and write the answers to ``out`` as CSV or JSON."""
    rows, problems = read_counterparties(path, name_column, country_column, id_column, identifier_column,
                                         address_column)
    report = BatchReport(screened=len(rows), problems=problems)
    matched: set[int] = set()
    answers = screen_rows(backend, rows, index, limit, threshold, on, include_ended)
    if fmt == "json":
        out.write("[")
    writer = CsvWriter(out)
    if fmt == "csv":
        writer.header(COLUMNS)
    for answer in answers:
        if answer["party"]:
            matched.add(int(answer["input_line"]))
        if fmt == "json":
            out.write(("," if report.written else "") + "\n  " + json.dumps(answer, ensure_ascii=False))
        else:
            writer.row([answer[c] for c in COLUMNS])
        report.written += 1
    if fmt == "json":
        out.write("\n]\n")
    report.matched = len(matched)
    return report
