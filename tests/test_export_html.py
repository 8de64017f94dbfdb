"""The interactive HTML page: self-contained, offline, escaped; checked in a real headless Chromium.

The browser tests drive Debian's /usr/bin/chromium through chromedriver and
record every request the page makes (Chrome's performance log); they skip
with the reason when chromium, chromedriver or selenium is missing, as
scripts/test.sh installs the first two on CI. Screenshots go to
tests/artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.export.html import json_for_script, to_html
from kg.export.network import network_view
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from tests.conftest import ARTIFACTS, REPO
from tests.test_export_network import HOSTILE, hostile_store  # noqa: F401 (a fixture)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1600,1000")
# Records nothing else can: every alert/confirm/prompt a page tries, before its own scripts run.
TRAP_DIALOGS = ("window.__dialogs = [];"
                "['alert','confirm','prompt'].forEach(function (n) {"
                "  window[n] = function (m) { window.__dialogs.push(n + ':' + m); }; });")


# ---------------------------------------------------------------------------
# Without a browser: what the file contains
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_page(hostile_store: VersionedStore) -> str:  # noqa: F811
    return to_html(network_view(EmbeddedBackend(hostile_store.open_read()), merge=True))


def test_json_block_cannot_close_the_script_or_open_a_comment() -> None:
    text = json_for_script({"a": "</script><!-- & -->", "b": "\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & -->", "b": "\u2028"}


def test_page_holds_hostile_text_only_as_escaped_data(hostile_page: str) -> None:
    assert HOSTILE not in hostile_page
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in hostile_page
    assert hostile_page.lower().count("</script") == 3  # the closers of our own three blocks
    script = (REPO / "kg" / "export" / "assets" / "graph.js").read_text(encoding="utf-8")
    assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", script)


def test_page_loads_nothing_from_anywhere(hostile_page: str) -> None:
    assert not re.search(r"<(script|link|img|iframe)[^>]*\s(src|href)=", hostile_page, re.IGNORECASE)
    assert "@import" not in hostile_page and "url(http" not in hostile_page
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', hostile_page)
    assert csp, "a Content-Security-Policy"
    policy = csp.group(1)
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy and "unsafe-inline" not in \
        policy.split("script-src")[1].split(";")[0]
    # The policy allows exactly the page's two scripts, by hash.
    scripts = re.findall(r"<script>(.*?)</script>", hostile_page, re.DOTALL)
    assert len(scripts) == 2
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
        assert f"'sha256-{digest}'" in policy


def test_bundled_library_is_the_licensed_cytoscape() -> None:
    assets = REPO / "kg" / "export" / "assets"
    library = (assets / "cytoscape.min.js").read_text(encoding="utf-8")
    assert "Copyright (c) 2016-2026, The Cytoscape Consortium" in library[:300]
    assert "Permission is hereby granted, free of charge" in (assets / "cytoscape.LICENSE").read_text(encoding="utf-8")
    assert "3.34.4" in (assets / "README.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# In Chromium
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # selenium is a declared test dependency: a broken install fails here rather than skipping.
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists():
            pytest.skip(f"{binary} is missing (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRAP_DIALOGS})
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver: Any, path: Path, ready: str = "return !!window.tradekgPage") -> list[str]:
    """Load ``path`` from disk, wait until ``ready`` holds, return the URLs the page requested."""
    driver.get("about:blank")
    driver.get_log("performance")  # drain what came before
    url = path.resolve().as_uri()
    driver.get(url)
    deadline = time.monotonic() + 20
    while not driver.execute_script(ready):
        assert time.monotonic() < deadline, f"{path.name} did not become ready"
        time.sleep(0.1)
    time.sleep(0.5)  # let any late request show up in the log
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    return requests


def assert_offline(requests: list[str], page: Path) -> None:
    assert page.resolve().as_uri() in requests
    outside = [u for u in requests if not u.startswith(("file:", "data:", "chrome:", "about:", "devtools:"))]
    assert outside == [], f"the page reached out: {outside}"
    own = [u for u in requests if u.startswith("file:") and u != page.resolve().as_uri()]
    assert own == [], f"the page loaded other files: {own}"


def canvas_ink(driver: Any) -> int:
    """How many pixels Cytoscape painted on its canvases (0 means nothing was drawn)."""
    return int(driver.execute_script("""
        var total = 0;
        document.querySelectorAll('#cy canvas').forEach(function (c) {
          if (!c.width || !c.height) { return; }
          var data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (var i = 3; i < data.length; i += 16) { if (data[i] > 0) { total++; } }
        });
        return total;"""))


def search(driver: Any, text: str) -> list[str]:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "search")
    box.clear()
    box.send_keys(text)  # typed key by key, as a person would; each key redraws the list
    return list(driver.execute_script(
        "return Array.from(document.querySelectorAll('#search-results li .name'))"
        ".map(function (e) { return e.textContent; })"))


def test_huawei_page_offline_drawn_and_searchable(curated_store: VersionedStore, browser: Any) -> None:
    """The done criterion, through the real command: `tradekg export html --focus Huawei --depth 2`."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    ARTIFACTS.mkdir(exist_ok=True)
    page = ARTIFACTS / "huawei.html"
    done = subprocess.run([sys.executable, "-m", "kg", "export", "html", "--focus", "Huawei", "--depth", "2",
                           "-o", str(page), "--store", str(curated_store.path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr and "nodes" in done.stderr

    requests = open_page(browser, page)
    assert_offline(requests, page)
    count = browser.execute_script("return window.tradekgPage.cy.nodes().length")
    assert count == len(browser.execute_script("return window.tradekgPage.data.nodes")) > 30
    assert canvas_ink(browser) > 5000, "the nodes are drawn"
    inside = browser.execute_script("""
        var cy = window.tradekgPage.cy; cy.fit(); var w = cy.width(), h = cy.height();
        return cy.nodes().filter(function (n) { var b = n.renderedBoundingBox();
          return b.x1 >= -1 && b.y1 >= -1 && b.x2 <= w + 1 && b.y2 <= h + 1; }).length;""")
    assert inside == count
    browser.save_screenshot(str(ARTIFACTS / "huawei-html-overview.png"))

    kinds = set(browser.execute_script("return window.tradekgPage.data.nodes.map(function (n) { return n.type; })"))
    assert {"company", "rule", "designation", "restricted party list", "agency", "person", "standards body",
            "authorization"} <= kinds
    for wanted, first in (("Huawei", "Huawei Technologies Co., Ltd."), ("3gpp", "3rd Generation Partnership Project"),
                          ("estevez", "Alan F. Estevez"), ("84 FR 22961", None), ("Bureau of Industry", None)):
        found = search(browser, wanted)
        assert found, wanted
        if first:
            assert found[0] == first
    search(browser, "Huawei")
    browser.find_element(By.ID, "search").send_keys(Keys.ENTER)
    assert browser.find_element(By.CSS_SELECTOR, "#details h3").text == "Huawei Technologies Co., Ltd."
    # A click shows the node's sources; they open (http(s) only) from the panel.
    listed = browser.execute_script(
        "return Array.from(document.querySelectorAll('#details ul')).pop().querySelectorAll('li').length")
    assert listed == len(browser.execute_script(
        "var want = arguments[0];"
        "return window.tradekgPage.data.nodes.filter(function (n) { return n.label === want; })[0].sources",
        "Huawei Technologies Co., Ltd."))
    search(browser, "2022 standards rule")
    browser.find_element(By.ID, "search").send_keys(Keys.ENTER)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#details a")]
    assert "https://www.federalregister.gov/d/2022-19415" in links
    assert all(link.startswith(("https://", "http://")) for link in links)
    search(browser, "Huawei")
    browser.find_element(By.ID, "search").send_keys(Keys.ENTER)
    assert browser.execute_script("return window.__dialogs") == []
    time.sleep(0.4)  # the zoom animation
    browser.save_screenshot(str(ARTIFACTS / "huawei-html.png"))

    # Unticking a type in the legend hides its nodes.
    box = browser.find_element(By.CSS_SELECTOR, "#legend input[data-kind='designations']")
    box.click()
    hidden = browser.execute_script(
        "return window.tradekgPage.cy.nodes().filter(function (n) { return n.data('kind') === 'designations'"
        " && n.style('display') === 'none'; }).length")
    assert hidden > 0
    assert "of" in browser.find_element(By.ID, "counts").text


def test_hostile_name_is_shown_as_text_and_runs_nothing(hostile_store: VersionedStore, browser: Any,  # noqa: F811
                                                       tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page = tmp_path / "hostile.html"
    result = CliRunner().invoke(cli, ["export", "html", "-o", str(page), "--store", str(hostile_store.path)])
    assert result.exit_code == 0, result.output
    requests = open_page(browser, page)
    assert_offline(requests, page)
    assert canvas_ink(browser) > 1000
    assert search(browser, "<img") == [HOSTILE]
    browser.find_element(By.ID, "search").send_keys(Keys.ENTER)
    heading = browser.find_element(By.CSS_SELECTOR, "#details h3")
    assert heading.text == HOSTILE
    assert "&lt;img" in heading.get_attribute("innerHTML")
    note = browser.execute_script(
        "return Array.from(document.querySelectorAll('#details td')).map(function (td) { return td.textContent; })")
    assert "</script><script>alert(2)</script>" in note
    assert browser.execute_script("return document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert browser.execute_script("return document.querySelectorAll('script').length") == 3
    assert browser.execute_script("return window.__dialogs") == []
    assert not [u for u in requests if u.rstrip("/").endswith("/x")], "the hostile <img src=x> was never loaded"
    browser.save_screenshot(str(ARTIFACTS / "hostile-html.png"))


def test_svg_opens_offline_in_the_browser(curated_store: VersionedStore, browser: Any) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (Debian: apt-get install graphviz)")
    ARTIFACTS.mkdir(exist_ok=True)
    svg = ARTIFACTS / "huawei.svg"
    result = CliRunner().invoke(cli, ["export", "svg", "--focus", "Huawei", "-o", str(svg),
                                      "--store", str(curated_store.path)])
    assert result.exit_code == 0, result.output
    requests = open_page(browser, svg, ready="return document.readyState === 'complete'")
    assert_offline(requests, svg)
    assert browser.execute_script("return document.querySelectorAll('g.node').length") > 30
    browser.save_screenshot(str(ARTIFACTS / "huawei-svg-detail.png"))  # at 100 %: the text a reader sees
    browser.execute_script("var svg = document.documentElement;"
                           "svg.setAttribute('width', '100%'); svg.setAttribute('height', '100%');")
    browser.save_screenshot(str(ARTIFACTS / "huawei-svg.png"))  # the whole picture in one window
