"""Pages a person reads (issue 23), checked in a real browser at desktop and phone widths.

Headless Chromium opens a firm page, a rule page, a saved query, a search and
a SPARQL parse error at 1366 and 390 pixels wide; each is screenshotted into
tests/artifacts/ (named page-WIDTH.png) for a person to look at, and checked
for what a reader would notice: no word or date broken across lines, the
page itself never wider than the window (wide tables scroll in their box),
the firm's answer first, records worded as sentences, parties before
records in search.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kg.graph.store import VersionedStore
from tests.conftest import ARTIFACTS
from tests.serving import Served, serving
from tests.test_serve_browser import browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
PAGES = {
    "firm": "/id/company/huawei",
    "firm-2020": "/id/company/huawei?on=2020-06-01",
    "affiliate": "/id/company/huawei-rd-belgium",
    "rule": "/id/rule/el-huawei-2019",
    "query": "/query/rules-affecting-firm?firm=Huawei",
    "search": "/search?q=huawei",
    "sparql-error": "/sparql/results?query=SELECT+%2A+WHERE+%7B+%3Fs+a+tkg%3ARule+FILTR+%7D",
}

# Every run of letters or digits, and every ISO date, must sit on one line: a break is
# allowed at a space or after a hyphen between words ("Military-Industrial"), never
# inside a word ("designa/tes") or a date ("2019-05-/21").
BROKEN_WORDS = r"""
const broken = [];
const scope = document.querySelectorAll('main td, main th, main li, main p, main h1, main h2, main summary');
const token = /\d{4}-\d{2}-\d{2}|[A-Za-z0-9]+/g;
for (const el of scope) {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    if (!node.parentElement || node.parentElement.closest('details:not([open]) > :not(summary)')) continue;
    let m;
    token.lastIndex = 0;
    while ((m = token.exec(node.data))) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
}
return broken;
"""


@pytest.fixture(scope="module")
def served(curated_store: VersionedStore) -> Iterator[Served]:
    with serving(curated_store.path) as s:
        yield s


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_reads_at_desktop_and_phone_width(browser: Any, served: Served, page: str, width: str) -> None:  # noqa: F811
    w, h = WIDTHS[width]
    browser.set_window_size(w, h)
    browser.get(served.base + PAGES[page])
    inner = browser.execute_script("return window.innerWidth")
    broken = browser.execute_script(BROKEN_WORDS)
    overflow = browser.execute_script("return document.documentElement.scrollWidth")
    ARTIFACTS.mkdir(exist_ok=True)
    tall = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(w, min(tall + 120, 4000))
    browser.save_screenshot(str(ARTIFACTS / f"page-{page}-{width}.png"))
    assert broken == [], f"{page} at {width}: words broken across lines: {broken[:10]}"
    assert overflow <= inner, f"{page} at {width}: the page is {overflow}px wide in a {inner}px window"


def test_firm_page_opens_with_what_restricts_it_and_since_when(browser: Any, served: Served) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.set_window_size(*WIDTHS["desktop"])
    browser.get(served.base + "/id/company/huawei")
    first = browser.find_element(By.CSS_SELECTOR, "main section")
    assert first.get_attribute("id") == "summary"
    text = first.text
    assert text.startswith("What restricts it today (2026-12-04)")
    assert "Entity List since 2019-05-16" in text
    assert "Legal reach" in text and "Exposure (not a designation of this firm)" in text
    assert "84 FR 22961 — designates" in text
    # As of an earlier date: the rules of later years are not yet in force, and the page says so.
    browser.find_element(By.LINK_TEXT, "2019-05-16").click()
    text = browser.find_element(By.ID, "summary").text
    assert text.startswith("What restricts it on 2019-05-16")
    assert "FR Doc 2022-19415" not in text.split("ended, not yet in force")[0]
    # An affiliate's exposure is apart from its legal reach.
    browser.get(served.base + "/id/company/huawei-rd-belgium")
    text = browser.find_element(By.ID, "summary").text
    legal, exposure = text.split("Exposure (not a designation of this firm)")
    assert "affiliate listed: Huawei Technologies Co., Ltd." in exposure
    assert "affiliate listed" not in legal


def test_records_read_as_sentences_and_search_puts_parties_first(browser: Any, served: Served) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.set_window_size(*WIDTHS["desktop"])
    browser.get(served.base + "/id/company/huawei")
    incoming = browser.find_element(By.ID, "incoming").text
    assert "Entity List since 2019-05-16" in incoming
    assert "el-huawei" not in incoming
    browser.get(served.base + "/search?q=huawei")
    kinds = [k.text for k in browser.find_elements(By.CSS_SELECTOR, "ol.hits .kind")]
    records = [i for i, k in enumerate(kinds) if k in ("designations", "sources")]
    others = [i for i, k in enumerate(kinds) if k not in ("designations", "sources")]
    assert others and (not records or max(others) < min(records)), kinds


def test_query_table_collapses_sources_and_leaves_empty_columns_out(browser: Any, served: Served) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.set_window_size(*WIDTHS["desktop"])
    browser.get(served.base + "/query/rules-affecting-firm?firm=Huawei")
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.results th")]
    cells = browser.find_elements(By.CSS_SELECTOR, "table.results tbody tr")
    assert cells
    column = {h: i for i, h in enumerate(headers)}
    for row in cells:
        tds = row.find_elements(By.TAG_NAME, "td")
        assert len(tds) == len(headers)
    for h in headers:
        assert any(r.find_elements(By.TAG_NAME, "td")[column[h]].text.strip() for r in cells), f"empty column {h}"
    summaries = browser.find_elements(By.CSS_SELECTOR, "table.results td details summary")
    assert summaries and all(s.text.endswith("sources") for s in summaries)
    # Collapsed: a row is a few lines tall, not twenty.
    tallest = max(r.size["height"] for r in cells)
    assert tallest < 320, tallest  # a paragraph of "unmodelled" text at most, never twenty source lines


def test_sparql_form_declares_the_prefixes_and_words_errors_as_the_cli(browser: Any, served: Served) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.set_window_size(*WIDTHS["desktop"])
    browser.get(served.base + "/sparql/results?query=SELECT+%3Fr+WHERE+%7B+%3Fr+a+tkg%3ARule+%7D+LIMIT+3")
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.results tbody tr")) == 3
    browser.get(served.base + PAGES["sparql-error"])
    error = browser.find_element(By.CSS_SELECTOR, "p.error").text
    assert error == "not valid SPARQL at line 1, column 39, at the end of 'SELECT * WHERE { ?s a tkg:Rule FILTR }'"
    # A query address opened in a browser lands on the same page, not on the engine's text.
    browser.get(served.base + "/sparql?query=SELECT+%2A+WHERE+%7B+%3Fs+a+tkg%3ARule+FILTR+%7D")
    assert browser.current_url.startswith(served.base + "/sparql/results?")
    assert browser.find_element(By.CSS_SELECTOR, "p.error").text.startswith("not valid SPARQL at line 1")
