"""The timeline picture: one mark per dated event of the saved query firm-timeline."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.answers.queries import find_query, run_saved
from kg.cli import cli
from kg.errors import TradekgError
from kg.export.timeline import Event, Timeline, draw_timeline, firm_timeline
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from tests.conftest import ARTIFACTS


def marks(svg: bytes) -> list[str]:
    return re.findall(rb'<g id="(event-\d+)"', svg)  # type: ignore[return-value]


def test_one_mark_per_event(mini_backend: EmbeddedBackend) -> None:
    rows = run_saved(find_query("firm-timeline"), {"firm": "ParentCo"}, mini_backend).rows
    timeline = firm_timeline(mini_backend, "ParentCo")
    assert len(timeline.events) == len(rows) > 3
    assert timeline.label == "Parent Telecom Co. Ltd."
    svg = draw_timeline(timeline, "svg")
    assert len(marks(svg)) == len(timeline.events)
    assert len(set(marks(svg))) == len(timeline.events)
    root = ET.fromstring(svg)
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for event in timeline.events:  # each mark has its line of text, date first
        assert event.day.isoformat() in texts
    assert "added to the List A" in texts and "Parent Telecom Co. Ltd.: restriction history" in texts


def test_events_on_the_same_day_get_marks_side_by_side(mini_backend: EmbeddedBackend) -> None:
    timeline = firm_timeline(mini_backend, "ParentCo")
    first = timeline.events[0]
    twin = Timeline(timeline.firm, timeline.label, [first, first, first])
    svg = draw_timeline(twin, "svg").decode("utf-8")
    xs = set()
    for number in range(3):
        group = re.search(rf'<g id="event-{number}">(.*?)</g>', svg, re.DOTALL)
        assert group
        xs.add(re.search(r'x="([\d.]+)"', group.group(1)).group(1))  # type: ignore[union-attr]
    assert len(xs) == 3


def test_dollar_signs_and_markup_are_printed_as_text(mini_backend: EmbeddedBackend) -> None:
    timeline = firm_timeline(mini_backend, "ParentCo")
    event = timeline.events[0]
    odd = Timeline(timeline.firm, "Firm $A$ <b>", [Event(event.day, "added to the $1.9bn $list$", detail="<i>x</i>")])
    svg = draw_timeline(odd, "svg").decode("utf-8")
    assert "added to the $1.9bn $list$" in svg and "Firm $A$ &lt;b&gt;" in svg and "&lt;i&gt;x&lt;/i&gt;" in svg
    assert draw_timeline(odd, "png").startswith(b"\x89PNG")


def test_png_and_empty_history_and_bad_format(mini_backend: EmbeddedBackend) -> None:
    timeline = firm_timeline(mini_backend, "ParentCo")
    assert draw_timeline(timeline, "png").startswith(b"\x89PNG")
    empty = draw_timeline(Timeline(timeline.firm, "Nobody Ltd", []), "svg")
    assert b"no dated events" in empty and not marks(empty)
    with pytest.raises(TradekgError, match="svg or png"):
        draw_timeline(timeline, "pdf")


def test_timeline_command(mini_store: VersionedStore, runner: CliRunner, tmp_path: Path) -> None:
    store = ["--store", str(mini_store.path)]
    out = tmp_path / "parentco.png"
    result = runner.invoke(cli, ["export", "timeline", "--focus", "ParentCo", "-o", str(out), *store])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")
    assert "timeline of Parent Telecom Co. Ltd." in result.stderr and "events" in result.stderr
    to_stdout = runner.invoke(cli, ["export", "timeline", "--focus", "parentco", *store])
    assert to_stdout.exit_code == 0 and to_stdout.stdout.startswith("<?xml")
    missing = runner.invoke(cli, ["export", "timeline", *store])
    assert missing.exit_code == 2 and "--focus FIRM" in missing.stderr
    wrong = runner.invoke(cli, ["export", "timeline", "--focus", "ParentCo", "--type", "rules", *store])
    assert wrong.exit_code == 2
    unknown = runner.invoke(cli, ["export", "timeline", "--focus", "Parent Telecomm", *store])
    assert unknown.exit_code == 2 and "did you mean" in unknown.stderr
    not_a_firm = runner.invoke(cli, ["export", "timeline", "--focus", "List A", *store])
    assert not_a_firm.exit_code == 2


def test_huawei_timeline(curated_store: VersionedStore) -> None:
    backend = EmbeddedBackend(curated_store.open_read())
    timeline = firm_timeline(backend, "Huawei")
    assert len(timeline.events) > 10
    svg = draw_timeline(timeline, "svg")
    assert len(marks(svg)) == len(timeline.events)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "huawei-timeline.png").write_bytes(draw_timeline(timeline, "png"))
