"""Dates that must not run backwards, compared at the precision both are known to.

SHACL's sh:lessThanOrEquals cannot order an xsd:date against an
xsd:gYearMonth or xsd:gYear (a tenure that starts 2022-04-19 and ends
"2025-01"), so the shapes cannot check such a pair. The ISO texts can be:
cut both to the shorter one ("2022-04" against "2025-01") and compare.
An end in the same month as a day-precise start is consistent (the day is
not known), an end in an earlier month is not. The loader runs this on the
column pairs ``data/tables.yml`` lists under ``dates_in_order`` and reports
a row that fails with its file, line and column, like any other bad cell.
"""

from __future__ import annotations

from kg.loaders import cells

_PRECISION = {4: "year", 7: "month", 10: "day"}


def is_partial_date(value: str) -> bool:
    try:
        cells.to_partial_date(value)
    except cells.CellError:
        return False
    return True


def out_of_order(earlier_column: str, earlier: str, later_column: str, later: str) -> str | None:
    """Why ``later`` comes before ``earlier`` (both valid ISO dates of any precision), or None."""
    width = min(len(earlier), len(later))
    if later[:width] >= earlier[:width]:
        return None
    precision = _PRECISION.get(width, "day")
    return (f"{later_column} {later!r} is before {earlier_column} {earlier!r} "
            f"(compared to the {precision}, the precision both are known to)")
