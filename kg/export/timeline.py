"""A firm's restriction history as a picture: one mark per dated event on a time axis.

The events are the rows of the saved query ``firm-timeline`` (the same ones
``tradekg query firm-timeline`` prints), so the picture and the table never
disagree. Time runs down the page on a true scale: a mark sits at its date,
several events of one day sit side by side, and each mark is joined by a
leader line to its text, which is spaced evenly so no two lines of text
overlap however crowded a month is. Colour says what happened (listed,
removed, exception granted, exception ended, entry changed); a hollow mark
says the event reached the firm through its parent or the firm it is
affiliated with.

matplotlib draws it; SVG keeps the text as text (searchable, and escaped by
matplotlib's XML writer), and each mark is an SVG group ``event-N``.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from kg.answers.queries import find_query, run_saved
from kg.answers.resolve import resolve_entity
from kg.errors import TradekgError
from kg.graph.backend import Backend
from kg.resources import lookup_query

if TYPE_CHECKING:
    from matplotlib.axes import Axes

TIMELINE_FORMATS = ("svg", "png")


@dataclass(frozen=True)
class Category:
    name: str
    colour: str


CATEGORIES = (
    Category("listed", "#d62728"),
    Category("restricted (named in a rule, or through ownership)", "#8c564b"),
    Category("exposure: parent or affiliate listed (not a designation)", "#ff7f0e"),
    Category("suspended", "#bcbd22"),
    Category("removed", "#2ca02c"),
    Category("exception granted", "#17becf"),
    Category("exception ended", "#7f7f7f"),
    Category("entry or terms changed", "#1f77b4"),
    Category("other", "#9467bd"),
)
_BY_NAME = {c.name: c for c in CATEGORIES}


@dataclass(frozen=True)
class Event:
    day: date
    event: str
    citation: str = ""
    title: str = ""
    detail: str = ""

    @property
    def category(self) -> Category:
        text = self.event.casefold()
        if text.startswith(("added to", "designates")):
            return _BY_NAME["listed"]
        if text.startswith(("parent listed", "affiliate listed")):
            return _BY_NAME["exposure: parent or affiliate listed (not a designation)"]
        if text.startswith(("restricts", "restricted")):
            return _BY_NAME["restricted (named in a rule, or through ownership)"]
        if text.startswith("suspends"):
            return _BY_NAME["suspended"]
        if text.startswith(("removed from", "removes")):
            return _BY_NAME["removed"]
        if text.startswith("authorization ends"):
            return _BY_NAME["exception ended"]
        if "authoriz" in text or "exception" in text:
            return _BY_NAME["exception granted"]
        if text.startswith(("modifies", "changes", "amends")):
            return _BY_NAME["entry or terms changed"]
        return _BY_NAME["other"]

    @property
    def through_parent(self) -> bool:
        return "(as affiliate of " in self.event

    def text(self, width: int = 120) -> str:
        parts = [self.event]
        if self.citation:
            parts.append(self.citation)
        elif self.title:
            parts.append(self.title if len(self.title) <= 48 else self.title[:47] + "…")
        if self.detail and self.detail != "not applicable":
            parts.append(self.detail)
        line = f"{self.day.isoformat()}  " + " · ".join(parts)
        return plain(line if len(line) <= width else line[: width - 1] + "…")


def plain(text: str) -> str:
    """Text matplotlib prints as it is: a ``$`` would otherwise start a formula ("$1.9bn ... $3bn")."""
    return text.replace("$", r"\$")


@dataclass
class Timeline:
    firm: str
    label: str
    events: list[Event] = field(default_factory=list)


def firm_timeline(backend: Backend, firm: str) -> Timeline:
    """The dated events of ``firm`` (IRI, id, name or alias) from the saved query."""
    iri = resolve_entity(backend, firm, ("companies",), "--focus")
    result = run_saved(find_query("firm-timeline"), {"firm": str(iri)}, backend)
    events = []
    for row in result.rows:
        raw = row.get("date")
        if raw is None:
            continue
        try:
            day = date.fromisoformat(str(raw)[:10])
        except ValueError:
            continue
        events.append(Event(day, str(row.get("event", "")), str(row.get("citation", "") or ""),
                            str(row.get("title", "") or ""), str(row.get("detail", "") or "")))
    labels = backend.select(lookup_query("entity-label"), {"entity": iri}).rows
    label = str(labels[0]["label"]) if labels else str(iri)
    return Timeline(str(iri), label, events)


def draw_timeline(timeline: Timeline, fmt: str) -> bytes:
    """The timeline as SVG or PNG bytes."""
    if fmt not in TIMELINE_FORMATS:
        raise TradekgError(f"a timeline is drawn as {' or '.join(TIMELINE_FORMATS)}, not {fmt!r}")
    try:
        import matplotlib
    except ImportError:
        raise TradekgError("the timeline is drawn with matplotlib: pip install 'tradekg[pictures]'") from None
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    events = sorted(timeline.events, key=lambda e: (e.day, e.event, e.citation, e.detail))
    count = len(events)
    height = max(3.4, 1.9 + 0.3 * count)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tradekg",
                                "font.family": "DejaVu Sans"}):
        fig = Figure(figsize=(12, height), dpi=110)
        ax = fig.add_axes((0.09, 0.75 / height, 0.89, 1 - 1.7 / height))
        fig.suptitle(plain(f"{timeline.label}: restriction history"), x=0.09, ha="left", fontsize=14,
                     fontweight="bold", y=1 - 0.25 / height)
        fig.text(0.09, 1 - 0.62 / height,
                 f"{count} dated event{'s' if count != 1 else ''} from the saved query firm-timeline (tradekg)",
                 fontsize=9, color="#555555")
        if not events:
            ax.text(0.5, 0.5, "no dated events for this firm in the graph", ha="center", va="center",
                    transform=ax.transAxes, fontsize=11, color="#555555")
            ax.set_axis_off()
        else:
            _draw_events(ax, events)
            handles = [Line2D([], [], marker="o", linestyle="", markersize=7, color=c.colour, label=c.name)
                       for c in CATEGORIES if any(e.category == c for e in events)]
            if any(e.through_parent for e in events):
                handles.append(Line2D([], [], marker="o", linestyle="", markersize=7, markerfacecolor="white",
                                      markeredgecolor="#333333", label="as an affiliate the authorization covers"))
            fig.legend(handles=handles, loc="lower left", ncol=len(handles), fontsize=8.5,
                       frameon=False, bbox_to_anchor=(0.08, 0.05 / height))
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return fit_to_window(buffer.getvalue()) if fmt == "svg" else buffer.getvalue()


def fit_to_window(svg: bytes) -> bytes:
    """The SVG scaled to the window's width (its viewBox kept), not opened at full size at its top-left.

    matplotlib writes a fixed width and height in points; a browser then shows
    the picture's top-left corner at 100%, mostly the empty time axis of a
    tall timeline. ``width="100%"`` without a height scales the whole picture
    to the window and keeps its proportions.
    """
    start = svg.find(b"<svg")
    end = svg.find(b">", start)
    if start < 0 or end < 0:
        return svg
    tag = re.sub(rb'\swidth="[^"]*"', b' width="100%"', svg[start:end], count=1)
    tag = re.sub(rb'\sheight="[^"]*"', b"", tag, count=1)
    return svg[:start] + tag + svg[end:]


def _draw_events(ax: Axes, events: list[Event]) -> None:
    import matplotlib.dates as mdates

    first, last = events[0].day, events[-1].day
    pad = max(timedelta(days=30), (last - first) / 25)
    top, bottom = mdates.date2num(first - pad), mdates.date2num(last + pad)
    count = len(events)
    slot_top, slot_bottom = mdates.date2num(first), mdates.date2num(last)
    if slot_bottom - slot_top < count:
        slot_bottom = slot_top + max(count, 1)
        bottom = slot_bottom + (slot_bottom - slot_top) / 25
    # Events closer in time than a mark's height would hide each other: put them side by side.
    near = max(1.0, (bottom - top) / 90)
    lane_width, marker_x, label_x = 0.18, 0.25, 2.6
    lanes: list[int] = []
    group_start = None
    for event in events:
        y = mdates.date2num(event.day)
        if group_start is None or y - group_start > near:
            group_start, lane = y, 0
        else:
            lane = lanes[-1] + 1
        lanes.append(lane)
    widest = max(lanes) + 1
    label_x = max(label_x, marker_x + widest * lane_width + 0.8)
    ax.set_xlim(0, label_x + 12)
    ax.set_ylim(bottom, top)
    ax.axvline(marker_x - 0.1, color="#cccccc", linewidth=1, zorder=0)
    for number, (event, lane) in enumerate(zip(events, lanes, strict=True)):
        y = mdates.date2num(event.day)
        slot = slot_top + (slot_bottom - slot_top) * (number / max(count - 1, 1))
        x = marker_x + lane * lane_width
        colour = event.category.colour
        ax.plot([x, label_x - 0.35, label_x - 0.1], [y, slot, slot], color="#bbbbbb",
                linewidth=0.6, zorder=1)
        (mark,) = ax.plot([x], [y], marker="o", markersize=8, linestyle="",
                          markerfacecolor="white" if event.through_parent else colour,
                          markeredgecolor=colour if event.through_parent else "#333333",
                          markeredgewidth=1.6 if event.through_parent else 0.6, zorder=3)
        mark.set_gid(f"event-{number}")
        ax.text(label_x, slot, event.text(), va="center", ha="left", fontsize=8.5,
                color="#222222", zorder=2)
    ax.yaxis.set_major_locator(mdates.YearLocator())
    ax.yaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.yaxis.set_minor_locator(mdates.MonthLocator(bymonth=(4, 7, 10)))
    # Year lines only across the time axis, where a date is a height: the texts
    # are spaced evenly, not by date, so a line through them would sit beside
    # another year's event.
    years = [y for y in (mdates.date2num(date(year, 1, 1)) for year in range(first.year, last.year + 2))
             if top <= y <= bottom]
    grid = ax.hlines(years, 0, label_x - 0.45, colors="#e4e4e4", linewidth=0.8, zorder=0)
    grid.set_gid("year-grid")
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
