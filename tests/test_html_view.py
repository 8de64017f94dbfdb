"""The HTML page opens on the focus and its neighbours at a readable size, in every layout (issue 15).

Driven in Debian's headless chromium like tests/test_export_html.py (and skipped
the same way when it is missing); screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kg.graph.store import VersionedStore
from tests.conftest import ARTIFACTS
from tests.test_export_html import browser, open_page  # noqa: F401 (browser is a fixture)

VIEW = """
    var cy = window.tradekgPage.cy, w = cy.width(), h = cy.height();
    var focus = cy.getElementById(window.tradekgPage.data.focus);
    var b = focus.renderedBoundingBox();
    var seen = focus.closedNeighborhood().nodes().filter(function (n) { var r = n.renderedBoundingBox();
      return r.x2 > 0 && r.y2 > 0 && r.x1 < w && r.y1 < h; }).length;
    return {zoom: cy.zoom(), inside: b.x1 >= 0 && b.y1 >= 0 && b.x2 <= w && b.y2 <= h, seen: seen,
            neighbours: focus.closedNeighborhood().nodes().length, nodes: cy.nodes().length};"""


def _page(store: VersionedStore, tmp: Path) -> Path:
    page = tmp / "huawei.html"
    done = subprocess.run([sys.executable, "-m", "kg", "export", "html", "--focus", "Huawei", "--depth", "2",
                           "-o", str(page), "--store", str(store.path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return page


def test_every_layout_opens_on_the_focus_at_a_readable_size(curated_store: VersionedStore, browser: Any,  # noqa: F811
                                                            tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import Select

    page = _page(curated_store, tmp_path)
    open_page(browser, page)
    ARTIFACTS.mkdir(exist_ok=True)
    layouts = browser.execute_script(
        "return Array.from(document.querySelectorAll('#layout option')).map(function (o) { return o.value; })")
    assert {"graphviz", "force", "rings", "grid"} <= set(layouts) or {"force", "rings", "grid"} <= set(layouts)
    for name in layouts:
        Select(browser.find_element("id", "layout")).select_by_value(name)
        time.sleep(0.5)
        view = browser.execute_script(VIEW)
        # Labels are drawn at 11 px and more (font 11 at zoom >= 1): readable, not 6-pixel specks.
        assert view["zoom"] >= 0.999, (name, view)
        assert view["inside"], (name, view)
        assert view["seen"] >= min(view["neighbours"], 8), (name, view)
        assert view["nodes"] > view["seen"]  # not the whole graph crammed into the window
        browser.save_screenshot(str(ARTIFACTS / f"huawei-html-{name}.png"))


def test_link_counter_follows_the_type_filter(curated_store: VersionedStore, browser: Any,  # noqa: F811
                                              tmp_path: Path) -> None:
    page = _page(curated_store, tmp_path)
    open_page(browser, page)
    counts = browser.find_element("id", "counts")
    total = browser.execute_script("return window.tradekgPage.data.edges.length")
    assert f"{total} of {total} links" in counts.text
    browser.find_element("css selector", "#legend input[data-kind='designations']").click()
    shown = browser.execute_script("return window.tradekgPage.cy.edges(':visible').length")
    assert 0 < shown < total
    assert f"{shown} of {total} links" in counts.text
