"""The text of a user's SPARQL query: the project's prefixes declared, parse errors in one plain line.

Every table tradekg prints names things ``tkg:Rule`` and ``id:company/huawei``,
so a query typed from what a table shows should run without a PREFIX block:
``with_default_prefixes`` declares each project prefix the query does not
declare itself, on one extra first line. ``plain_syntax_error`` turns
Oxigraph's parse error (a list of expected character classes) into the
position in the user's own text and the words there. ``with_rows`` binds
a variable of a saved query to a few IRIs (a VALUES block), for the rules a
load re-runs on the parties it touched and for screening's lookups.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyoxigraph as ox

from kg.namespaces import PREFIXES

DEFAULT_PREFIXES_MARK = "# tradekg: default prefixes"
_DECLARED = re.compile(r"(?i)\bPREFIX\s+([A-Za-z][\w.-]*)?\s*:")
_POSITION = re.compile(r"^error at (\d+):(\d+): (.*)$", re.DOTALL)


def with_default_prefixes(text: str) -> str:
    """``text`` with a first line declaring every project prefix it does not declare itself."""
    declared = {m.group(1) or "" for m in _DECLARED.finditer(text)}
    missing = [p for p in PREFIXES if p not in declared]
    if not missing:
        return text
    header = " ".join(f"PREFIX {p}: <{PREFIXES[p]}>" for p in missing)
    return f"{header} {DEFAULT_PREFIXES_MARK}\n{text.lstrip(chr(0xFEFF))}"


def plain_syntax_error(message: str, query: str) -> str:
    """One line: where in the user's query the parser stopped, and what stands there."""
    match = _POSITION.match(message.strip())
    if not match:
        return f"not valid SPARQL: {message.splitlines()[0] if message else 'parse error'}"
    line, column, expected = int(match.group(1)), int(match.group(2)), match.group(3)
    lines = query.split("\n")
    if lines and lines[0].endswith(DEFAULT_PREFIXES_MARK):
        lines, line = lines[1:], line - 1
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    near = text[max(column - 1, 0):].strip()[:40]
    hint = ""
    if "Prefix not found" in expected:
        before = text[:max(column - 1, 0)].rstrip()
        prefix = re.match(r"([A-Za-z][\w.-]*)?:", near) or re.search(r"([A-Za-z][\w.-]*)?:\S*$", before)
        if prefix and prefix.string is before:
            near = prefix.group(0)
        name = prefix.group(1) if prefix and prefix.group(1) else ""
        hint = (f"; the prefix {name + ':' if name else ''} is not declared (declared by default: "
                f"{', '.join(p + ':' for p in PREFIXES)})")
    where = f"line {line}, column {column}"
    if not near:
        after = text[:max(column - 1, 0)].strip()[-40:]
        return f"not valid SPARQL at {where}, at the end of {after!r}" + hint if after else \
            f"not valid SPARQL at {where}" + hint
    return f"not valid SPARQL at {where}, near {near!r}" + hint


PARTIES_HERE = re.compile(r"^[ \t]*# parties: \?(\w+)[ \t]*$", re.MULTILINE)


def with_rows(query: str, variable: str, values: Iterable[str]) -> str:
    """``query`` with a VALUES block binding ``variable`` to each IRI, opening its WHERE pattern.

    The same block also goes after every comment line ``# parties: ?variable``:
    a rule marks there the groups inside its sub-selects where binding the
    variable gives the rows the outer binding would keep (the sub-select
    projects and groups by it, the group binds it), so that they start from the
    few parties instead of reading the whole store. Python cannot see inside a
    sub-select whether that holds; the rule's author can, so the rule says it.
    """
    masked = "\n".join(" " * len(line) if line.lstrip().startswith("#") else line for line in query.split("\n"))
    match = re.search(r"\bWHERE\s*\{", masked, re.IGNORECASE)
    if match is None:
        raise ValueError("a derivation rule without a WHERE pattern")
    block = f" VALUES ?{variable} {{ {' '.join(str(ox.NamedNode(v)) for v in sorted(values))} }} "
    marks = [m.end() for m in PARTIES_HERE.finditer(query) if m.group(1) == variable and m.start() > match.end()]
    for position in sorted([match.end(), *marks], reverse=True):
        query = query[:position] + (block if position == match.end() else "\n" + block) + query[position:]
    return query
