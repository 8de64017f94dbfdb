"""Show results as a table on a terminal, CSV or JSON otherwise.

IRIs of our own namespaces are shortened to ``id:company/huawei`` in tables
(where people read them) and kept whole in CSV and JSON (where programs do).
Tables wrap long cells rather than cut them, so a 100-column terminal shows
every word (see ``render_table``).
CSV cells that a spreadsheet would run as a formula are prefixed with a quote.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import sys
import textwrap
from typing import TextIO

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from kg.graph.backend import ResultTable
from kg.namespaces import PREFIXES

FORMATS = ("table", "csv", "json")
# A table on a terminal shows at most this many rows, then says how many it left
# out; CSV and JSON (and a table written to a file or pipe) always hold every row.
TABLE_MAX_ROWS = 200
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def shorten(iri: str) -> str:
    best = ""
    best_prefix = ""
    for prefix, namespace in PREFIXES.items():
        ns = str(namespace)
        if iri.startswith(ns) and len(ns) > len(best):
            best, best_prefix = ns, prefix
    return f"{best_prefix}:{iri[len(best):]}" if best else iri


def cell_text(term: Node | None, short: bool) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return shorten(str(term)) if short else str(term)
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def json_value(term: Node | None) -> object:
    if term is None:
        return None
    if isinstance(term, Literal):
        value = {"type": "literal", "value": str(term)}
        if term.language:
            value["lang"] = term.language
        elif term.datatype is not None:
            value["datatype"] = str(term.datatype)
        return value
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    return {"type": "uri", "value": str(term)}


def csv_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


class CsvWriter:
    """Rows of text cells to CSV, formula cells quoted: the one CSV writer (also for streamed rows)."""

    def __init__(self, out: TextIO):
        self.plain = csv.writer(out, lineterminator="\n")
        # With "\n" as line terminator the csv module leaves a cell holding a lone
        # "\r" unquoted, which a reader takes for a line end: quote such rows whole.
        self.quote_all = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def header(self, names: list[str]) -> None:
        self.plain.writerow(names)

    def row(self, texts: list[str]) -> None:
        cells = [csv_safe(t) for t in texts]
        (self.quote_all if any("\r" in c for c in cells) else self.plain).writerow(cells)


def render_csv(table: ResultTable, out: TextIO) -> None:
    writer = CsvWriter(out)
    writer.header(table.variables)
    for row in table.rows:
        writer.row([cell_text(row.get(v), short=False) for v in table.variables])


def render_json(table: ResultTable, out: TextIO) -> None:
    """SPARQL 1.1 JSON results layout, so other SPARQL tools read it as is."""
    doc = {
        "head": {"vars": table.variables},
        "results": {"bindings": [
            {v: json_value(row[v]) for v in table.variables if v in row} for row in table.rows
        ]},
    }
    json.dump(doc, out, indent=2, ensure_ascii=False, sort_keys=True)
    out.write("\n")


def render_table(table: ResultTable, out: TextIO, width: int | None = None, max_rows: int | None = None,
                 wide: bool | None = None) -> None:
    """A text table readable at ``width`` columns; ``max_rows`` (default: TABLE_MAX_ROWS on a terminal) caps it.

    Columns no row fills are left out; columns holding only IRIs (shortened to
    ``id:...``) go last, since the names and citations beside them answer the
    question. A table that fits is a grid whose long cells wrap onto more
    lines, never cut. One with too many columns to wrap readably (a column
    would get under ``MIN_COLUMN`` characters) prints each row as a block of
    ``column  value`` lines. ``wide`` (``--wide``) prints one grid line per
    row, as long as it needs. A capped table ends with a note of how many
    rows it left out and how to get them all.
    """
    width = width or shutil.get_terminal_size((160, 24)).columns
    wide = WIDE if wide is None else wide
    if max_rows is None and _is_terminal(out):
        max_rows = TABLE_MAX_ROWS
    total = len(table.rows)
    shown = table.rows if max_rows is None or total <= max_rows else table.rows[:max_rows]
    columns = _table_columns(table, shown)
    headers = [table.variables[i] for i in columns]
    rows = [[_one_line(cell_text(r.get(table.variables[i]), short=True)) for i in columns] for r in shown]
    natural = [max([len(h)] + [len(r[k]) for r in rows]) for k, h in enumerate(headers)]
    if wide or sum(natural) + 3 * (len(headers) - 1) <= width:
        _grid(headers, rows, natural, out)
    else:
        iris = {k for k, i in enumerate(columns)
                if all(isinstance(r.get(table.variables[i]), URIRef | type(None)) for r in shown)}
        longest = [max([len(w) for w in h.split()] + [len(w) for r in rows for w in r[k].split()])
                   for k, h in enumerate(headers)]
        widths = _share(natural, width - 3 * (len(headers) - 1), iris, longest)
        if widths is None:
            _records(headers, _refer_repeats(rows, numbered=True), width, out)
        else:
            _grid(headers, _refer_repeats(rows, numbered=False), widths, out)
    if len(shown) < total:
        out.write(f"… {total - len(shown):,} more rows; use --format csv or --format json to get all "
                  f"{total:,}\n")
        out.write(f"({len(shown):,} of {total:,} rows shown)\n")
        return
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


# Set by the command line's --wide (kg.cli.common.format_option): one grid line per row, nothing wrapped.
WIDE = False
MIN_COLUMN = 12


def _table_columns(table: ResultTable, rows: list[dict[str, Node]]) -> list[int]:
    """Indexes of the columns to show: filled ones, IRI-only columns last."""
    filled = [i for i, v in enumerate(table.variables) if any(r.get(v) is not None for r in rows)]
    if not filled:
        return list(range(len(table.variables)))
    iris = [i for i in filled if all(isinstance(r.get(table.variables[i]), URIRef | type(None)) for r in rows)]
    if len(iris) == len(filled):
        return filled
    return [i for i in filled if i not in iris] + iris


# A cell this long that repeats an earlier row's cell in its column is printed once and referred to.
REPEAT_MIN = 40


def _refer_repeats(rows: list[list[str]], numbered: bool) -> list[list[str]]:
    """Long cells that repeat an earlier row's: "same as row 3" (numbered blocks) or "same as above" (a grid).

    The headline query gave most of its rows the same paragraph of seven
    sources; a reader needs it once.
    """
    first: dict[tuple[int, str], int] = {}
    out = []
    for n, row in enumerate(rows):
        cells = []
        for k, cell in enumerate(row):
            seen = first.setdefault((k, cell), n)
            if len(cell) >= REPEAT_MIN and seen != n and (numbered or seen == n - 1 or
                                                          rows[n - 1][k] == cell):
                cells.append(f"same as row {seen + 1}" if numbered else "same as above")
            else:
                cells.append(cell)
        out.append(cells)
    return out


def _share(natural: list[int], budget: int, whole: set[int] | None = None,
           longest: list[int] | None = None) -> list[int] | None:
    """Column widths within ``budget``: narrow columns and ``whole`` (IRIs) whole, the rest shared (None: no room).

    No column is narrower than its longest word (``longest``): a grid that
    would have to cut a word in two gives way to one block per row.
    """
    widths = list(natural)
    whole = {k for k in (whole or set()) if natural[k] <= budget // 3}
    open_ = set(range(len(natural))) - whole
    left = budget - sum(natural[k] for k in whole)
    while open_:
        share = left // len(open_)
        small = [k for k in open_ if natural[k] <= share]
        if not small:
            break
        for k in small:
            left -= natural[k]
            open_.discard(k)
    if open_:
        if left // len(open_) < MIN_COLUMN:
            return None
        # The rest by the square root of how much each column holds (a long list of
        # sources must not starve a title), none under MIN_COLUMN.
        want = sum(math.sqrt(natural[k]) for k in open_)
        for k in sorted(open_, key=lambda k: natural[k]):
            widths[k] = max(MIN_COLUMN, min(natural[k], int(left * math.sqrt(natural[k]) / want)))
            left -= widths[k]
            want -= math.sqrt(natural[k])
    if longest:
        widths = [max(w, min(longest[k], natural[k])) for k, w in enumerate(widths)]
        if sum(widths) > budget:
            return None
    return widths


def _grid(headers: list[str], rows: list[list[str]], widths: list[int], out: TextIO) -> None:
    def lines(cells: list[str]) -> list[str]:
        wrapped = [_wrap(c, w) for c, w in zip(cells, widths, strict=True)]
        height = max(len(w) for w in wrapped)
        return [" | ".join((w[i] if i < len(w) else "").ljust(width)
                           for w, width in zip(wrapped, widths, strict=True)).rstrip() for i in range(height)]

    for line in lines(headers):
        out.write(line + "\n")
    out.write("-+-".join("-" * w for w in widths) + "\n")
    tall = any(len(c) > w for r in rows for c, w in zip(r, widths, strict=True))
    for n, r in enumerate(rows):
        if tall and n:
            out.write("\n")  # rows of several lines are told apart by a blank line
        for line in lines(r):
            out.write(line + "\n")


def _records(headers: list[str], rows: list[list[str]], width: int, out: TextIO) -> None:
    """Each row as a block of ``column  value`` lines, values wrapped: for tables too wide for a grid."""
    label = max(len(h) for h in headers)
    room = max(width - label - 2, MIN_COLUMN)
    for n, r in enumerate(rows):
        out.write(f"── {n + 1} " + "─" * max(0, min(width, 40) - len(str(n + 1)) - 4) + "\n")
        for h, c in zip(headers, r, strict=True):
            if not c:
                continue
            for i, part in enumerate(_wrap(c, room)):
                out.write(f"{(h if i == 0 else '').ljust(label)}  {part}".rstrip() + "\n")


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width``, broken between words only; a word longer than the line stands alone, whole."""
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def terminal_width() -> int | None:
    """The terminal's width when output goes to one, else ``COLUMNS`` when set, else None (a file or a pipe)."""
    if _is_terminal(sys.stdout):
        return shutil.get_terminal_size((100, 24)).columns
    try:
        return int(os.environ.get("COLUMNS", "")) or None
    except ValueError:
        return None


_VALUE_COLUMN = re.compile(r"^( *\S(?:\S| (?! ))*  +)\S")


def wrap_text(text: str, width: int | None = None, hang: int = 2, under: int | None = None) -> str:
    """``text`` wrapped at ``width`` between words: each line keeps its indent, its continuations hang ``hang`` more.

    For the prose the command line prints (``show``, ``screen``, ``query
    --list``, ``history``): the terminal would otherwise cut a long line at
    its edge, inside a word. Without a width (a file or a pipe) lines stay whole.
    ``under`` puts continuations under that column (a table's last column).
    """
    width = width or terminal_width()
    if not width:
        return text
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = len(line) - len(line.lstrip(" "))
        # "  label         value": continuations line up under the value.
        column = _VALUE_COLUMN.match(line)
        hanging = under if under is not None else \
            len(column.group(1)) if column and len(column.group(1)) <= width // 2 else indent + hang
        out.extend(textwrap.wrap(line.strip(), width, initial_indent=" " * indent,
                                 subsequent_indent=" " * min(hanging, width // 2),
                                 break_long_words=False, break_on_hyphens=False) or [line])
    return "\n".join(out)


def _is_terminal(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):
        return False


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render(table: ResultTable, fmt: str, out: TextIO) -> None:
    {"csv": render_csv, "json": render_json, "table": render_table}[fmt](table, out)


def render_to_string(table: ResultTable, fmt: str) -> str:
    buffer = io.StringIO()
    render(table, fmt, buffer)
    return buffer.getvalue()
