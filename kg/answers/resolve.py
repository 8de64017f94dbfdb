"""Turn what a user types ("Huawei", "84 FR 22961", "huawei", an IRI) into an IRI.

Names and aliases are matched case-insensitively with whitespace collapsed; an
unknown name gets the closest known names as a "did you mean" answer instead
of an empty result, because an empty result would read as "not restricted".
"""

from __future__ import annotations

import difflib
import re
import sys
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

from rdflib import URIRef

from kg.errors import NotFound, TradekgError
from kg.loaders.tables import load_catalog
from kg.namespaces import DATA, PREFIXES
from kg.resources import lookup_query

if TYPE_CHECKING:
    from kg.graph.backend import Backend


class Ambiguous(TradekgError):
    pass


_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACES.sub(" ", text).strip()




def entity_names(backend: Backend, tables: tuple[str, ...]) -> dict[URIRef, set[str]]:
    catalog = load_catalog()
    names: dict[URIRef, set[str]] = {}
    for table in tables:
        spec = catalog.tables[table]
        result = backend.select(lookup_query("entity-names"), {"class": URIRef(spec.class_iri)})
        prefix = f"{DATA}{spec.iri_kind}/"
        for row in result.rows:
            entity = row["entity"]
            assert isinstance(entity, URIRef)
            bucket = names.setdefault(entity, set())
            bucket.add(str(row["name"]))
            if str(entity).startswith(prefix):
                bucket.add(str(entity)[len(prefix):])
    return names


def expand_short_id(text: str) -> str:
    """``id:company/huawei`` (as tables print it) -> the full IRI; anything else unchanged."""
    prefix, sep, local = text.partition(":")
    if sep and prefix in PREFIXES and local and not local.startswith("//") and " " not in text:
        return f"{PREFIXES[prefix]}{local.replace(chr(92), '')}"
    return text


def resolve_entity(backend: Backend, text: str, tables: tuple[str, ...], what: str = "entity",
                   notify: Callable[[str], None] | None = None) -> URIRef:
    """The one entity of ``tables`` that ``text`` names: its IRI, an exact name, alias or identifier, or
    else words found in the names of exactly one entity (``notify`` is told which; default stderr).
    Raises ``Ambiguous`` for several entities and ``NotFound`` (with suggestions) for none."""
    catalog = load_catalog()
    text = expand_short_id(text.strip())
    if re.match(r"^[\w.-]+$", text):  # an identifier: records such as designations have no name to match
        for table in tables:
            spec = catalog.tables[table]
            iri = URIRef(f"{DATA}{spec.iri_kind}/{text}")
            if backend.ask(lookup_query("entity-exists"), {"entity": iri, "class": URIRef(spec.class_iri)}):
                return iri
    if re.match(r"^(https?|urn):", text):
        iri = URIRef(text)
        for table in tables:
            if backend.ask(lookup_query("entity-exists"),
                           {"entity": iri, "class": URIRef(catalog.tables[table].class_iri)}):
                return iri
        raise NotFound(f"{what}: no {' or '.join(tables)} entity has the IRI <{text}>")

    names = entity_names(backend, tables)
    wanted = normalise(text)
    hits = sorted({entity for entity, labels in names.items() if wanted in {normalise(n) for n in labels}})
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        listing = "; ".join(f"{h} ({_best_name(names[h])})" for h in hits[:10])
        raise Ambiguous(f"{what}: {text!r} names {len(hits)} entities, pass the IRI or id of one: {listing}")

    # No name is the text itself, but the text may be words of names that all belong to one entity
    # ("1260H": "1260H List", "DoD 1260H list", "... (Section 1260H)"): then it identifies that entity.
    # Said on stderr, so that the answer never silently stands for a name the user did not type.
    partial = _word_hits(names, wanted)
    if len(partial) == 1:
        entity, matched = next(iter(partial.items()))
        (notify or _to_stderr)(
            f"{what}: {text!r} taken as {_best_name(names[entity])} <{entity}>, the only "
            f"{' or '.join(tables)} entity with a name containing it ({', '.join(repr(n) for n in sorted(matched))})")
        return entity

    by_name: dict[str, str] = {}
    # Sorted, so the same typo gets the same hint in every process (sets iterate in hash order),
    # and a written name ("Huawei") comes before its id ("huawei") when both fold to one key.
    for entity in sorted(names):
        for label in sorted(names[entity]):
            by_name.setdefault(normalise(label), label)
    close = difflib.get_close_matches(wanted, list(by_name), n=5, cutoff=0.6)
    contains = [n for n in by_name if wanted and wanted in n and n not in close]
    suggestions = [by_name[n] for n in (close + sorted(contains, key=len))[:5]]
    hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    raise NotFound(f"{what}: no {' or '.join(tables)} entity is named {text!r}{hint}")


def _best_name(labels: set[str]) -> str:
    return max(labels, key=len)


def _word_hits(names: dict[URIRef, set[str]], wanted: str) -> dict[URIRef, set[str]]:
    """Entities with a name that holds the typed text itself, as whole words, with those names.

    The text must appear literally (after case and space folding), bounded by non-word characters,
    and hold at least three characters with a letter or digit: "1260H" is in "DoD 1260H list", but
    "> <http://evil>" is not in '=HYPERLINK("http://evil.example/")' and "x" names nothing.
    """
    if len(wanted) < 3 or not re.search(r"\w", wanted):
        return {}
    pattern = re.compile(r"(?<!\w)" + re.escape(wanted) + r"(?!\w)")
    hits: dict[URIRef, set[str]] = {}
    for entity, labels in names.items():
        for label in labels:
            if pattern.search(normalise(label)):
                hits.setdefault(entity, set()).add(label)
    return hits


def _to_stderr(message: str) -> None:
    sys.stderr.write(message + "\n")
