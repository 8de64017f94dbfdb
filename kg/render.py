"""Show results as a table on a terminal, CSV or JSON otherwise.

IRIs of our own namespaces are shortened to ``id:company/huawei`` in tables
(where people read them) and kept whole in CSV and JSON (where programs do).
CSV cells that a spreadsheet would run as a formula are prefixed with a quote.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from typing import TextIO

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from kg.backend import ResultTable
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


def render_table(table: ResultTable, out: TextIO, width: int | None = None, max_rows: int | None = None) -> None:
    """An aligned text table; ``max_rows`` (default: TABLE_MAX_ROWS on a terminal, else all) caps it.

    A capped table ends with a note of how many rows it left out and how to
    get them all.
    """
    width = width or shutil.get_terminal_size((160, 24)).columns
    if max_rows is None and _is_terminal(out):
        max_rows = TABLE_MAX_ROWS
    total = len(table.rows)
    shown = table.rows if max_rows is None or total <= max_rows else table.rows[:max_rows]
    headers = table.variables
    rows = [[_one_line(cell_text(r.get(v), short=True)) for v in headers] for r in shown]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    # Shrink the widest columns until the table fits the terminal.
    budget = max(width - 3 * (len(headers) - 1), len(headers) * 8)
    while sum(widths) > budget and max(widths) > 12:
        i = widths.index(max(widths))
        widths[i] -= 1
    line = " | ".join(h.ljust(w)[:w] for h, w in zip(headers, widths, strict=True))
    out.write(line.rstrip() + "\n")
    out.write("-+-".join("-" * w for w in widths) + "\n")
    for r in rows:
        out.write(" | ".join(_fit(c, w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n")
    if len(shown) < total:
        out.write(f"… {total - len(shown):,} more rows; use --format csv or --format json to get all "
                  f"{total:,}\n")
        out.write(f"({len(shown):,} of {total:,} rows shown)\n")
        return
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def _is_terminal(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):
        return False


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


def render(table: ResultTable, fmt: str, out: TextIO) -> None:
    {"csv": render_csv, "json": render_json, "table": render_table}[fmt](table, out)


def render_to_string(table: ResultTable, fmt: str) -> str:
    buffer = io.StringIO()
    render(table, fmt, buffer)
    return buffer.getvalue()
