"""Read one CSV file strictly, keeping the line each row starts on.

Python's csv module guesses nothing and loses nothing, but it does not tell a
user that a file is semicolon-separated or UTF-16; these checks do, before any
row is converted, so the error names the real cause instead of "unknown column".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kg.errors import InputProblem
from kg.loaders.limits import read_input

# Large enough for any real cell (CSL addresses run to a few KB); small enough
# that a file with an unbalanced quote fails instead of swallowing itself.
csv.field_size_limit(10_000_000)

# Where the csv module starts a new line (it reads with newline=""): \r\n, \r or \n.
_BREAK = re.compile(rb"\r\n|\r|\n")


def _line_at(data: bytes, offset: int) -> int:
    """The 1-based line of byte ``offset``, counted as the csv reader counts (a lone \\r ends a line too)."""
    return len(_BREAK.findall(data, 0, offset)) + 1


@dataclass
class CsvRow:
    line: int
    cells: dict[str, str]


@dataclass
class CsvFile:
    display: str
    header: list[str]
    rows: list[CsvRow]


def _decode(data: bytes, display: str) -> tuple[str | None, list[InputProblem]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [InputProblem(display, 1, None, "file is UTF-16; save it as UTF-8")]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = _line_at(data, exc.start)
        bad = data[exc.start : exc.start + 1].hex()
        return None, [
            InputProblem(
                display, line, None,
                f"not valid UTF-8 (byte 0x{bad}); save the file as UTF-8 "
                "(it looks like Latin-1 or Windows-1252)",
            )
        ]


def read_csv(path: Path, display: str | None = None) -> tuple[CsvFile | None, list[InputProblem]]:
    """Parse ``path``; return the rows or the problems that stop it being read."""
    display = display or str(path)
    try:
        data = read_input(path, display)
    except OSError as exc:
        return None, [InputProblem(display, None, None, f"cannot read file: {exc.strerror}")]
    text, problems = _decode(data, display)
    if text is None:
        return None, problems
    if "\x00" in text:
        line = _line_at(text.encode("utf-8"), text.encode("utf-8").index(b"\x00"))
        return None, [InputProblem(display, line, None, "contains a NUL byte; is this a binary file?")]
    if not text.strip():
        return None, [InputProblem(display, 1, None, "file is empty; a CSV file needs a header row")]

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        return None, [InputProblem(display, 1, None, f"header row is not valid CSV: {exc}")]
    if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
        sep = next(s for s in (";", "\t", "|") if s in header[0])
        name = {";": "semicolons", "\t": "tabs", "|": "pipes"}[sep]
        return None, [
            InputProblem(display, 1, None, f"columns are separated by {name}; tradekg reads comma-separated files")
        ]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(InputProblem(display, 1, name, "column appears twice in the header"))
        seen.add(name)
        if not name:
            problems.append(InputProblem(display, 1, None, "header has an empty column name"))
    if problems:
        return None, problems

    rows: list[CsvRow] = []
    line = reader.line_num + 1
    rows_iter: Iterator[list[str]] = reader
    while True:
        try:
            cells = next(rows_iter)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(InputProblem(display, line, None, f"not valid CSV: {exc} (check the quotes)"))
            break
        start = line
        line = reader.line_num + 1
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(
                InputProblem(
                    display, start, None,
                    f"row has {len(cells)} cells but the header has {len(header)}; "
                    "quote cells that contain commas",
                )
            )
            continue
        rows.append(CsvRow(start, dict(zip(header, cells, strict=True))))
    return CsvFile(display, header, rows), problems
