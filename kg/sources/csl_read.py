"""Read a trade.gov Consolidated Screening List (CSL) CSV into plain records: the importer's first step.

``read_csl`` checks the file is a CSL CSV (the current 29 columns with
``_id``, or the older 28 without) and returns its rows with their lines, or
refuses the whole file with ``NotACslFile`` naming the file and line. The
functions below parse the CSL's cells (citations, names, addresses, dates,
the ``source`` column); ``kg.sources.csl`` maps the records onto the model.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from kg.answers.resolve import normalise
from kg.errors import InputProblem
from kg.loaders import cells
from kg.loaders.csvfile import _line_at  # also raises csv.field_size_limit for long cells
from kg.loaders.limits import nul_problem, read_input
from kg.sources.base import SourceFailed
from kg.sources.matching import FR_CITATION

CURRENT_HEADER = [
    "_id", "source", "entity_number", "type", "programs", "name", "title", "addresses",
    "federal_register_notice", "start_date", "end_date", "standard_order", "license_requirement",
    "license_policy", "call_sign", "vessel_type", "gross_tonnage", "gross_registered_tonnage",
    "vessel_flag", "vessel_owner", "remarks", "source_list_url", "alt_names", "citizenships",
    "dates_of_birth", "nationalities", "places_of_birth", "source_information_url", "ids",
]
LEGACY_HEADER = CURRENT_HEADER[1:]  # the layout trade.gov used before it added _id

# ASCII digits, not glued to other digits: "2184 FR 5" is no citation of 184 FR 5, nor "84 FR 1234567" of 84 FR 123456.
_CITATION = FR_CITATION  # "84 FR 22961", one page of the Federal Register
_SOURCE = re.compile(r"^(?P<name>.+?)\s*(?:\((?P<code>[A-Z0-9-]+)\))?\s*(?:List)?\s*-\s*(?P<agency>[^-]+)$")
_AFFILIATE = re.compile(r"^(?P<parent>.+?)\.?\s+Affiliated Entity:\s*(?P<child>.+)$", re.IGNORECASE)
_TRAILING_ALIAS = re.compile(r"^(?P<base>.+?)\s*\((?P<alias>[^()]+)\)\s*(?:,\s*(?P<place>.*))?$")
_LEGAL_TAIL = re.compile(
    r"^(?P<base>.*?\b(?:Co\.,?\s*Ltd\.?|Co\.,?\s*Limited|Ltd\.?|Limited|Inc\.?|LLC|S\.A\.|AG|GmbH|NV|"
    r"K\.K\.|Sarl|S\.R\.L\.|Ltda))\s*,\s*(?P<place>.+)$"
)
_NOT_A_PLACE = {"institute", "lab", "laboratory", "research", "center", "centre", "branch", "office",
                "factory", "school", "university", "company", "co", "ltd", "limited"}
_SUCCESSOR = re.compile(r";\s*and any successor.*$", re.IGNORECASE)


class NotACslFile(SourceFailed):
    """The file is not a CSL CSV in a layout we read (a ``base.SourceFailed``, like every importer's)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class CslRow:
    line: int
    cells: dict[str, str]


@dataclass
class CslFile:
    display: str
    layout: str  # "current (29 columns, with _id)" or "older (28 columns, no _id)"
    rows: list[CslRow]
    digest: str
    # How the graph names the file (tkg:sourceFile): relative to the project or its
    # bare name, never an absolute path; ``display`` (for messages) when empty.
    source_name: str = ""


# --------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------

def read_csl(path: Path, display: str, source_name: str | None = None) -> CslFile:
    """Read a CSL CSV in the current (with ``_id``) or the older (without) layout.

    ``display`` names the file in messages; ``source_name`` in the graph.
    """
    raw = read_input(path, display)
    nul = nul_problem(raw, display)
    if nul is not None:
        raise NotACslFile([nul])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
        raise NotACslFile([InputProblem(display, _line_at(raw, offset), None,
                                        f"not UTF-8 text (byte {offset}); save the CSL file as UTF-8")]) from None
    if text.endswith(",") and text.count("\n") > 0:
        # The last row stops right after a comma: cut between two fields (its last cell would read empty).
        raise NotACslFile([InputProblem(display, text.count("\n") + 1, None,
                                        "the file ends right after a comma, in the middle of a row: it looks cut "
                                        "short (a truncated download?); nothing was imported")])
    # strict: an unbalanced quote is an error, not a cell that swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise NotACslFile([InputProblem(display, 1, None, "the file is empty")]) from None
    except csv.Error as exc:
        raise NotACslFile([InputProblem(display, 1, None, f"header row is not valid CSV: {exc}")]) from None
    while header and header[-1] == "":
        header.pop()
    if header == CURRENT_HEADER:
        layout = "current (29 columns, with _id)"
    elif header == LEGACY_HEADER:
        layout = "older (28 columns, no _id)"
    else:
        missing = [c for c in LEGACY_HEADER if c not in header]
        unknown = [c for c in header if c not in CURRENT_HEADER]
        if "Source List" in header or "Entity Number" in header:
            raise NotACslFile([InputProblem(
                display, 1, None,
                "not a CSL CSV: this is the pre-2016 BIS Entity List layout (one row per alias), which is not "
                "read; use the current consolidated.csv from trade.gov")])
        raise NotACslFile([InputProblem(
            display, 1, None,
            f"not a CSL CSV header: expected the trade.gov columns {', '.join(CURRENT_HEADER)} "
            f"(with or without _id); missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}",
        )])
    rows: list[CslRow] = []
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise NotACslFile([InputProblem(display, start, None,
                                            f"not valid CSV: {exc} (check the quotes)")]) from None
        if any(cell.strip() for cell in record):
            if len(record) < len(header):
                # Padding a short row made a file cut at a field boundary import its last party as
                # confirmed with empty columns (issue 26); `load` refuses the same thing.
                raise NotACslFile([InputProblem(
                    display, start, None,
                    f"{len(record)} field(s) where the header has {len(header)}: the row is cut short "
                    f"(a truncated or damaged file?); nothing was imported")])
            cells = {name: (record[i] if i < len(record) else "") for i, name in enumerate(header)}
            if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
                cells["__extra__"] = "; ".join(c for c in record[len(header):] if c.strip())
            rows.append(CslRow(start, cells))
        start = reader.line_num + 1
    return CslFile(display, layout, rows, hashlib.sha256(raw).hexdigest(), source_name or Path(display).name)


# --------------------------------------------------------------------------
# Parsing cells
# --------------------------------------------------------------------------

def parse_citations(text: str) -> list[str]:
    """Every Federal Register citation in a free-text cell, normalised, in order, once each.

    Handles "84 FR 22961, 85 FR 29852", stray spaces and semicolons, and the
    older "67 F.R. 56530 9/4/02" form. Text with no citation gives [].
    """
    seen: dict[str, None] = {}
    for volume, page in _CITATION.findall(text or ""):
        if int(volume) and int(page):  # the Federal Register starts at volume 1, page 1: "0 FR 0" is none
            seen.setdefault(f"{int(volume)} FR {int(page)}", None)
    return list(seen)


# Footnote markers the Entity List prints glued to a section number or to "EAR": "734.9(e)1", "the EAR2",
# "of the EAR)4", "734.9(g),3 746.8": a digit right after ")" (or "),") or after "EAR", then a break.
_FOOTNOTE = re.compile(r"(?<=\))(?P<comma>,?)(?P<a>[1-9])(?=[\s,;.]|$)|(?<=\bEAR)(?P<b>[1-9])(?=[\s,;.)]|$)")


def split_footnotes(text: str) -> tuple[str, list[str]]:
    """The licence requirement without the Entity List's footnote markers, and the markers in order.

    "see §§ 734.9(e)1 and 744.11 of the EAR2" -> ("see §§ 734.9(e) and 744.11 of the EAR", ["1", "2"]):
    "734.9(e)1" is section 734.9(e) with footnote 1 (the foreign direct product footnote), not a
    section "734.9(e)1".
    """
    markers: list[str] = []

    def keep(match: re.Match[str]) -> str:
        markers.append(match.group("a") or match.group("b"))
        return match.group("comma") or ""

    return _FOOTNOTE.sub(keep, text), list(dict.fromkeys(markers))


_LEADING_AND = re.compile(r"^\s*and\s+")
_SPACES = re.compile(r"\s+")


def split_multi(text: str) -> list[str]:
    """The values of a '; '-joined CSL cell, trimmed, without a leading 'and '."""
    if not text:
        return []
    values = []
    for part in text.split(";"):
        part = _LEADING_AND.sub("", part.strip()).strip()
        if part:
            values.append(part)
    return list(dict.fromkeys(values))


def _clean(text: str) -> str:
    """A cell with its runs of white space made one space, trimmed, without a trailing comma. Called
    27 times a row (most cells are empty): the empty cell returns at once."""
    if not text:
        return ""
    return _SPACES.sub(" ", text).strip().rstrip(",").strip()


@dataclass(frozen=True)
class PartyName:
    printed: str
    primary: str
    aliases: tuple[str, ...]
    match_names: tuple[str, ...]  # forms used to find a curated party (not short aliases)
    affiliate_of: PartyName | None = None


def split_name(raw: str) -> PartyName:
    """Split a CSL name into the party's name, aliases and, for affiliate rows, the parent.

    "Huawei Technologies Co., Ltd. (Huawei).  Affiliated Entity: X" names X,
    an affiliate of Huawei Technologies Co., Ltd. (alias Huawei); a trailing
    "(HiSilicon)" is an alias; a trailing place after the legal form
    ("..., Ltd., Chengdu, Sichuan") is dropped from the name (kept as an alias
    with the printed form), unless it names an institute, lab or branch.
    """
    printed = _clean(raw)
    match = _AFFILIATE.match(printed)
    if match:
        parent = split_name(match.group("parent"))
        child = split_name(match.group("child"))
        return PartyName(printed, child.primary, tuple(dict.fromkeys((*child.aliases,))),
                         child.match_names, parent)
    name = _clean(_SUCCESSOR.sub("", printed))
    aliases: list[str] = []
    alias_match = _TRAILING_ALIAS.match(name)
    if alias_match and _is_place(alias_match.group("place") or ""):
        aliases.append(alias_match.group("alias").strip())
        name = _clean(alias_match.group("base"))
    tail = _LEGAL_TAIL.match(name)
    if tail and _is_place(tail.group("place")):
        name = _clean(tail.group("base"))
    forms = [name] + ([printed] if printed != name else [])
    return PartyName(printed, name, tuple(dict.fromkeys(a for a in [*aliases, *forms[1:]] if a != name)),
                     tuple(dict.fromkeys(forms)))


def _is_place(text: str) -> bool:
    words = {w.strip(".,'()").lower() for w in text.split()}
    return not (words & _NOT_A_PLACE) and len(text.split()) <= 6


# Territories with their own ISO code that the CSL prints under another country's code
# ("British Virgin Islands, GB"): the address names the place, and the place decides.
_TERRITORIES = {"british virgin islands": "VG", "virgin islands, british": "VG", "cayman islands": "KY",
                "bermuda": "BM", "gibraltar": "GI", "isle of man": "IM", "jersey": "JE", "guernsey": "GG",
                "anguilla": "AI", "montserrat": "MS",
                "turks and caicos islands": "TC", "falkland islands": "FK"}


def address_country(address: str) -> str | None:
    """The ISO country code of an address: CSL puts one at the end ("..., Shenzhen, CN"), unless the
    address names a territory with a code of its own ("British Virgin Islands, GB" is VG)."""
    parts = [p.strip() for p in address.split(",")]
    for part in parts[:-1]:
        territory = _TERRITORIES.get(normalise(part).strip(". "))
        if territory:
            return territory
    return _country(parts[-1])


def _country(code: str) -> str | None:
    """The loader's own check (``cells.to_country``): ASCII letters before upper-casing, so "ﬆ" is not ST."""
    try:
        return str(cells.to_country(code.strip()))
    except cells.CellError:
        return None


def parse_date(text: str) -> date | None:
    """ISO yyyy-mm-dd (the CSL's form) or US m/d/yyyy; None when empty; ValueError when malformed."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date {text!r} is neither YYYY-MM-DD nor MM/DD/YYYY")


@dataclass(frozen=True)
class ListSource:
    name: str
    code: str
    agency: str


def parse_source(text: str) -> ListSource:
    """ "Entity List (EL) - Bureau of Industry and Security" -> name, code, agency."""
    text = _clean(text)
    match = _SOURCE.match(text)
    if not match:
        return ListSource(text, "", "")
    name = match.group("name").strip()
    if "List" in text.split(" - ")[0] and not name.endswith("List") and "(" in text and ") List" in text:
        name = f"{name} List"  # "Military End User (MEU) List" keeps its last word
    return ListSource(name, (match.group("code") or "").strip(), match.group("agency").strip())
