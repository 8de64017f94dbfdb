"""Saved SPARQL queries: ``queries/*.rq`` files whose comment header names,
describes and parameterises them.

Header lines (before the first non-comment line)::

    # name: rules-affecting-firm
    # title: Rules affecting a firm
    # description: Every rule that ...
    #   (continuation lines are indented)
    # param: firm | entity(companies) | required | The firm: IRI, id, name or alias
    # param: as_of | date | optional | Only effects in force on this date

A parameter is bound to the query variable of the same name as an RDF term,
never pasted into the text. ``entity(tables)`` parameters are resolved to an
IRI through ``kg.answers.resolve``; ``date`` to an xsd:date; ``string`` to a literal.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from kg.answers.resolve import resolve_entity
from kg.errors import NotFound, TradekgError
from kg.graph.backend import Backend, ResultTable
from kg.loaders import cells
from kg.loaders.tables import load_catalog
from kg.resources import queries_dir

_PARAM_TYPE = re.compile(r"^(entity)\(([\w, ]+)\)$|^(date|string|iri|integer)$")


class BadParameter(TradekgError):
    pass


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # entity | date | string | iri | integer
    required: bool
    description: str
    tables: tuple[str, ...] = ()


@dataclass
class SavedQuery:
    name: str
    title: str
    description: str
    path: Path
    text: str
    parameters: list[Parameter] = field(default_factory=list)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        known = [p.name for p in self.parameters]
        hint = difflib.get_close_matches(name, known, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        raise BadParameter(
            f"query {self.name} has no parameter {name!r}{suggestion} "
            f"(its parameters: {', '.join(known) or 'none'})"
        )


def parse_header(text: str, path: Path) -> dict[str, object]:
    fields: dict[str, object] = {"param": []}
    last: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            break
        body = raw.lstrip()[1:]
        match = re.match(r"^ (\w+):\s?(.*)$", body)
        if match:
            key, value = match.group(1), match.group(2).strip()
            if key == "param":
                fields["param"].append(value)  # type: ignore[union-attr]
            else:
                fields[key] = value
            last = key
        elif last and body.startswith("   ") and last != "param":
            fields[last] = f"{fields[last]} {body.strip()}"
    for required in ("name", "title", "description"):
        if required not in fields:
            raise ValueError(f"{path}: header lacks '# {required}:'")
    return fields


def _parameter(spec: str, path: Path) -> Parameter:
    parts = [p.strip() for p in spec.split("|")]
    if len(parts) != 4:
        raise ValueError(f"{path}: param line must be 'name | type | required/optional | description': {spec!r}")
    name, kind, need, description = parts
    match = _PARAM_TYPE.match(kind)
    if not match or need not in ("required", "optional"):
        raise ValueError(f"{path}: bad param type or requirement in {spec!r}")
    if match.group(1):
        tables = tuple(t.strip() for t in match.group(2).split(","))
        unknown = [t for t in tables if t not in load_catalog().tables]
        if unknown:
            raise ValueError(f"{path}: param {name} names unknown tables {unknown}")
        return Parameter(name, "entity", need == "required", description, tables)
    return Parameter(name, match.group(3), need == "required", description)


def read_query(path: Path) -> SavedQuery:
    """The saved query in ``path``, parsed once per version of the file (a server page runs several: reading
    and parsing every .rq file for each cost 5 ms a page). The same object is handed out: do not change it."""
    stat = path.stat()
    return _read_query(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=512)
def _read_query(path: Path, mtime_ns: int, size: int) -> SavedQuery:
    text = path.read_text(encoding="utf-8")
    header = parse_header(text, path)
    if header["name"] != path.stem:
        raise ValueError(f"{path}: header name {header['name']!r} differs from the file name")
    params = [_parameter(p, path) for p in header["param"]]  # type: ignore[union-attr]
    return SavedQuery(
        name=str(header["name"]), title=str(header["title"]), description=str(header["description"]),
        path=path, text=text, parameters=params,
    )


def saved_queries(directory: Path | None = None) -> dict[str, SavedQuery]:
    directory = directory or queries_dir()
    return {q.name: q for q in (read_query(p) for p in sorted(directory.glob("*.rq")))}


def derivation_rules(directory: Path | None = None) -> list[SavedQuery]:
    """The CONSTRUCT rules that derive facts, in the order their names sort."""
    directory = directory or queries_dir() / "derive"
    return [read_query(p) for p in sorted(directory.glob("*.rq"))]


def find_query(name: str) -> SavedQuery:
    queries = saved_queries()
    if name in queries:
        return queries[name]
    hint = difflib.get_close_matches(name, list(queries), n=3)
    suggestion = f"; did you mean {', '.join(hint)}?" if hint else ""
    raise NotFound(f"no saved query named {name!r}{suggestion} (see `tradekg query --list`)")


def bind_parameters(query: SavedQuery, values: dict[str, str], backend: Backend) -> dict[str, Node]:
    """Check and convert user-given values to RDF terms for ``query``."""
    bindings: dict[str, Node] = {}
    for name, raw in values.items():
        param = query.parameter(name)
        value = raw.strip()
        if param.kind == "entity":
            bindings[name] = resolve_entity(backend, value, param.tables, param.name)
        elif param.kind == "date":
            try:
                bindings[name] = cells.to_date(value)
            except cells.CellError as exc:
                raise BadParameter(f"parameter {name}: {exc}") from None
        elif param.kind == "integer":
            try:
                bindings[name] = cells.to_integer(value)
            except cells.CellError as exc:
                raise BadParameter(f"parameter {name}: {exc}") from None
        elif param.kind == "iri":
            if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]*$", value):
                raise BadParameter(f"parameter {name}: {value!r} is not an IRI")
            bindings[name] = URIRef(value)
        else:
            bindings[name] = Literal(value)
    missing = [p.name for p in query.parameters if p.required and p.name not in bindings]
    if missing:
        raise BadParameter(
            f"query {query.name} needs {', '.join(missing)}: pass "
            + " ".join(f"-p {m}=VALUE" for m in missing)
        )
    return bindings


def today() -> Literal:
    """Today's date as an xsd:date: what "holds" means when no as_of is given.

    ``TRADEKG_TODAY`` (YYYY-MM-DD) pins it, so that a test or a reproducible
    report gives the same answer on every day.
    """
    pinned = os.environ.get("TRADEKG_TODAY", "").strip()
    if pinned:
        try:
            return cells.to_date(pinned)
        except cells.CellError as exc:
            raise BadParameter(f"TRADEKG_TODAY: {exc}") from None
    return Literal(date.today().isoformat(), datatype=XSD.date)


def run_saved(query: SavedQuery, values: dict[str, str], backend: Backend) -> ResultTable:
    """Run a saved query; a query that mentions ``?today`` gets today's date bound to it."""
    return backend.select(query.text, with_today(query, bind_parameters(query, values, backend)))


def with_today(query: SavedQuery, bindings: dict[str, Node]) -> dict[str, Node]:
    """``bindings`` plus ``?today`` (today's date) when ``query`` reads it; the benchmark binds the same."""
    if re.search(r"\?today\b", query.text) and "today" not in bindings:
        return {**bindings, "today": today()}
    return bindings
