"""Turn one CSV cell into RDF terms, or say precisely why it cannot be.

Each function returns the term or raises ``CellError`` with a message that
tells the user what a good value looks like; the loader adds file, line and
column.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import pycountry
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from kg.namespaces import concept_iri

# ASCII digits only ([0-9], not \d, which also takes Arabic-Indic and other digits) and \Z, not $,
# which would let a trailing newline through.
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*\Z")
DATE_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
MONTH_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}\Z")
YEAR_PATTERN = re.compile(r"^[0-9]{4}\Z")
WIKIDATA_PATTERN = re.compile(r"^Q[1-9][0-9]*\Z")
COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries)
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class CellError(ValueError):
    pass


def check_id(value: str) -> str:
    if not ID_PATTERN.match(value):
        raise CellError(
            f"identifier {value!r} must be lowercase letters, digits and '-' (for example 'huawei-bolivia')"
        )
    return value


def to_date(value: str) -> Literal:
    if not DATE_PATTERN.match(value):
        raise CellError(f"date {value!r} must be written YYYY-MM-DD (for example 2019-05-16)")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise CellError(f"date {value!r} does not exist in the calendar") from None
    return Literal(value, datatype=XSD.date)


def to_partial_date(value: str) -> Literal:
    """A date known to the day, the month or only the year, stored at that precision.

    "2025-01-20" is an xsd:date, "2025-01" an xsd:gYearMonth, "2025" an
    xsd:gYear: Estevez left office in January 2025 and the day is not
    confirmed, so the graph must not pick one. Queries compare such values
    by their ISO text at the shorter precision (``kg/answers/queries.py`` README
    note): "2025-01-14" falls within "2025-01", so an answer can say
    "uncertain" instead of guessing.
    """
    if DATE_PATTERN.match(value):
        return to_date(value)
    if MONTH_PATTERN.match(value):
        if not 1 <= int(value[5:]) <= 12:
            raise CellError(f"month {value!r} does not exist in the calendar")
        return Literal(value, datatype=XSD.gYearMonth)
    if YEAR_PATTERN.match(value):
        return Literal(value, datatype=XSD.gYear)
    raise CellError(f"date {value!r} must be written YYYY-MM-DD, or YYYY-MM or YYYY when only the month or "
                    "year is known (for example 2025-01)")


def to_url(value: str) -> Literal:
    try:
        parts = urlsplit(value)
    except ValueError:  # "http://[x": urlsplit refuses a malformed IPv6 host
        raise CellError(f"{value!r} is not an absolute http(s) URL") from None
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise CellError(f"{value!r} is not an absolute http(s) URL")
    return Literal(value, datatype=XSD.anyURI)


def to_integer(value: str) -> Literal:
    if not re.fullmatch(r"[+-]?[0-9]+", value):
        raise CellError(f"{value!r} is not a whole number")
    return Literal(int(value), datatype=XSD.integer)


def to_decimal(value: str) -> Literal:
    if not re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", value):
        raise CellError(f"{value!r} is not a number (digits, optional decimal point, no thousands separators)")
    try:
        return Literal(Decimal(value), datatype=XSD.decimal)
    except InvalidOperation:
        raise CellError(f"{value!r} is not a number") from None


def to_boolean(value: str) -> Literal:
    low = value.lower()
    if low in _TRUE:
        return Literal(True)
    if low in _FALSE:
        return Literal(False)
    raise CellError(f"{value!r} is not true or false")


def to_country(value: str) -> Literal:
    code = value.upper()
    # ASCII letters only: "ﬆ".upper() is "ST" (a ligature must not become Sao Tome).
    if not re.fullmatch(r"[A-Za-z]{2}", value) or code not in COUNTRY_CODES:
        raise CellError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (for example CN, US, DE)")
    return Literal(code)


def to_wikidata(value: str) -> Literal:
    if not WIKIDATA_PATTERN.match(value):
        raise CellError(f"{value!r} is not a Wikidata item id (Q followed by digits, for example Q160120)")
    return Literal(value)


def to_concept(value: str, scheme: str, notations: frozenset[str]) -> URIRef:
    if value not in notations:
        allowed = ", ".join(sorted(notations)) or "(none defined)"
        raise CellError(f"{value!r} is not a known {scheme}; use one of: {allowed}")
    return URIRef(concept_iri(scheme, value))


def to_string(value: str) -> Literal:
    return Literal(value)
