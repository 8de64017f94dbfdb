"""``tradekg serve`` in a real headless Chromium (issue 14): what a person does with it.

Search "Huawei", open its page, read the 2019 listing and the 2022 standards
authorization with their periods, see the timeline and the neighbourhood
graph drawn, run the ``rules-affecting-firm`` form with an ``as_of``,
download its CSV and compare it with ``tradekg query``; and a hostile label
reads as text and runs nothing. Skips (with the reason) where chromium or
chromedriver is missing, as the export tests do.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.graph.store import VersionedStore
from kg.pipeline.build import build
from tests.conftest import ARTIFACTS, REPO, mini_files
from tests.serving import Served, serving
from tests.test_export_html import CHROMEDRIVER, CHROMIUM, TRAP_DIALOGS, canvas_ink
from tests.test_hostile import SCRIPT, SVG_ONLOAD

pytestmark = pytest.mark.slow

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists():
            pytest.skip(f"{binary} is missing (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRAP_DIALOGS})
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def curated_server(curated_store: VersionedStore) -> Iterator[Served]:
    with serving(curated_store.path) as served:
        yield served


def _wait(condition: Any, what: str, seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _rows(driver: Any, section: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [row.text for row in driver.find_elements(By.CSS_SELECTOR, f"section[id='{section}'] tbody tr")]


def _cells(driver: Any, section: str) -> list[dict[str, str]]:
    """Each row of a section's table as column -> text, plus the first cell's link as ``href``."""
    return list(driver.execute_script("""
        var table = document.querySelector("section[id='" + arguments[0] + "'] table");
        var names = Array.from(table.querySelectorAll('thead th')).map(function (th) { return th.textContent; });
        return Array.from(table.querySelectorAll('tbody tr')).map(function (tr) {
          var row = {}; var cells = tr.querySelectorAll('td');
          names.forEach(function (n, i) { row[n] = cells[i].textContent; });
          var a = cells[0].querySelector('a'); row.href = a ? a.getAttribute('href') : '';
          return row; });""", section))


def test_search_huawei_read_its_page_run_the_form_and_download_the_csv(
        curated_server: Served, curated_store: VersionedStore, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(curated_server.base + "/")
    box = browser.find_element(By.CSS_SELECTOR, "form.big-search input[name=q]")
    box.send_keys("Huawei")
    box.submit()
    _wait(lambda: "/search" in browser.current_url, "the search did not run")
    hits = browser.find_elements(By.CSS_SELECTOR, "ol.hits li a")
    assert hits[0].text == "Huawei Technologies Co., Ltd."  # the exact alias comes first
    assert len(hits) > 5  # its affiliates too
    hits[0].click()
    _wait(lambda: browser.current_url.endswith("/id/company/huawei"), "the entity page did not open")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Huawei Technologies Co., Ltd."

    rules = _cells(browser, "rules-affecting-firm")
    listing = [r for r in rules if r["rule"] == "84 FR 22961" and r["effect"] == "designates"]
    assert len(listing) == 1, rules
    assert (listing[0]["from"], listing[0]["until"], listing[0]["reach"]) == ("2019-05-16", "", "named")
    assert listing[0]["through"] == "entry on the Entity List" and listing[0]["href"] == "/id/rule/el-huawei-2019"
    standards = [r for r in rules if r["href"] == "/id/rule/standards-2022" and r["effect"] == "authorizes exception"]
    assert len(standards) == 1, rules
    assert (standards[0]["from"], standards[0]["until"], standards[0]["reach"]) == ("2022-09-09", "", "on a list")
    # The 2020 standards authorization it replaced ends that day.
    earlier = [r for r in rules if r["href"] == "/id/rule/standards-2020" and r["effect"] == "authorizes exception"]
    assert earlier and earlier[0]["until"] == "2022-09-09"
    exceptions = _rows(browser, "exceptions-for-firm")
    assert any("2022-09-09" in r and "standards" in r.lower() for r in exceptions), exceptions
    sources = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#sources a")]
    assert sources and all(s.startswith(("http://", "https://")) for s in sources)

    timeline = browser.find_element(By.CSS_SELECTOR, "img.timeline")
    _wait(lambda: browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", timeline),
          "the timeline picture did not load")
    frame = browser.find_element(By.CSS_SELECTOR, "iframe.graph")
    browser.switch_to.frame(frame)
    try:
        _wait(lambda: browser.execute_script("return !!window.tradekgPage"), "the graph did not start")
        assert browser.execute_script("return window.tradekgPage.cy.nodes().length") > 10
        _wait(lambda: canvas_ink(browser) > 2000, "the graph was not drawn")
    finally:
        browser.switch_to.default_content()
    assert browser.execute_script("return window.__dialogs") == []
    ARTIFACTS.mkdir(exist_ok=True)
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1400, min(int(height) + 100, 6000))
    browser.save_screenshot(str(ARTIFACTS / "serve-huawei.png"))
    browser.set_window_size(1400, 1000)

    # The saved query's form, with an as_of, and its CSV download.
    browser.get(curated_server.base + "/query/rules-affecting-firm")
    browser.find_element(By.NAME, "firm").send_keys("Huawei")
    browser.find_element(By.NAME, "as_of").send_keys("2021-01-01")
    browser.find_element(By.CSS_SELECTOR, "form.params button").click()
    _wait(lambda: "as_of=2021-01-01" in browser.current_url, "the form did not run")
    shown = browser.find_elements(By.CSS_SELECTOR, "table.results tbody tr")
    csv_link = browser.find_element(By.ID, "csv")
    href = csv_link.get_attribute("href")
    assert urllib.parse.urlparse(href).path == "/query/rules-affecting-firm.csv"
    assert urllib.parse.parse_qs(urllib.parse.urlparse(href).query) == {"firm": ["Huawei"], "as_of": ["2021-01-01"]}
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    csv_link.click()
    saved = _wait(lambda: [p for p in downloads.glob("*.csv")], "the CSV was not downloaded")[0]
    _wait(lambda: saved.stat().st_size > 0 and not list(downloads.glob("*.crdownload")), "download unfinished")
    cli = subprocess.run([sys.executable, "-m", "kg", "query", "rules-affecting-firm", "-p", "firm=Huawei",
                          "-p", "as_of=2021-01-01", "--format", "csv", "--store", str(curated_store.path)],
                         cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert cli.returncode == 0, cli.stderr
    assert saved.read_text(encoding="utf-8") == cli.stdout
    assert len(shown) == len(cli.stdout.strip().splitlines()) - 1 > 3


def test_hostile_labels_read_as_text_and_run_nothing(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from tests.test_hostile import _hostile_data

    store = VersionedStore(tmp_path / "store")
    build(store, mini_files(_hostile_data(tmp_path)))
    with serving(store.path) as served:
        for text in (SCRIPT, SVG_ONLOAD):
            browser.get(served.base + "/search?" + urllib.parse.urlencode({"q": text}))
            hits = browser.find_elements(By.CSS_SELECTOR, "ol.hits li a")
            assert any(text in h.text for h in hits), [h.text for h in hits]
            hits[0].click()
            _wait(lambda: "/id/" in browser.current_url, "the entity page did not open")
            assert text in browser.find_element(By.TAG_NAME, "h1").text + browser.find_element(By.TAG_NAME, "main").text
            assert browser.execute_script("return document.querySelectorAll('main script, main svg').length") == 0
            assert browser.execute_script("return window.__dialogs") == []
