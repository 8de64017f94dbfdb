"""Issue 20: the seed's world complete, and what each listing does in law, on the curated build.

Each test asserts what an analyst reads (saved queries and `show`), with the
dates of the public record cited in data/ (see data/sources.csv). Today is
pinned to 2026-12-04 (tests/conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.answers.queries import find_query, run_saved
from kg.cli import cli
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore

pytestmark = pytest.mark.slow


def _rows(backend: EmbeddedBackend, name: str, **params: str) -> list[dict[str, str]]:
    result = run_saved(find_query(name), params, backend)
    return [{k: str(v) for k, v in row.items()} for row in result.rows]


def _by_rule(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        out.setdefault(r["rule"].rsplit("/", 1)[-1], []).append(r)
    return out


def _show(runner: CliRunner, store: VersionedStore, entity: str) -> str:
    result = runner.invoke(cli, ["show", entity, "--format", "table", "--store", str(store.path)])
    assert result.exit_code == 0, result.output
    return result.output


def test_hikvision_and_dahua_on_the_entity_list_from_2019_10_09(curated_backend: EmbeddedBackend) -> None:
    for firm in ("Hikvision", "Dahua"):
        rules = _by_rule(_rows(curated_backend, "rules-affecting-firm", firm=firm))
        listing = rules["el-xinjiang-2019"][0]
        assert (listing["document"], listing["effect"], listing["from"]) == ("2019-22210", "designates", "2019-10-09")
        assert "entry on the Entity List" in listing["through"]
    before = _by_rule(_rows(curated_backend, "rules-affecting-firm", firm="Hikvision", as_of="2019-10-08"))
    assert "el-xinjiang-2019" not in before


def test_smic_entity_list_and_1260h(curated_backend: EmbeddedBackend) -> None:
    rules = _by_rule(_rows(curated_backend, "rules-affecting-firm", firm="SMIC"))
    el = rules["el-smic-2020"][0]
    assert (el["citation"], el["document"], el["from"]) == ("85 FR 83416", "2020-28031", "2020-12-18")
    assert rules["1260h-notice-2021"][0]["effect"] == "listed (the list prohibits nothing by itself)"
    countries = {r["country"] for r in _rows(curated_backend, "firms-affected-by-rule", rule="85 FR 83416")}
    assert countries == {"CN"}


def test_zte_history_before_the_covered_list(curated_backend: EmbeddedBackend) -> None:
    rules = _by_rule(_rows(curated_backend, "rules-affecting-firm", firm="ZTE"))
    assert rules["el-zte-2016"][0]["from"] == "2016-03-08" and rules["el-zte-2016"][0]["until"] == "2017-03-29"
    assert rules["el-zte-removal-2017"][0]["status"] == "removed on 2017-03-29"
    assert rules["tgl-zte-2016"][0]["effect"] == "authorizes exception"
    denial = rules["zte-denial-order-2018"][0]
    assert (denial["citation"], denial["from"], denial["until"]) == ("83 FR 17644", "2018-04-15", "2018-07-13")
    assert rules["zte-denial-termination-2018"][0]["status"] == "removed on 2018-07-13"
    timeline = [(r["date"], r["event"], r.get("citation", ""))
                for r in _rows(curated_backend, "firm-timeline", firm="ZTE")]
    assert ("2017-03-29", "removed from the Entity List", "82 FR 15458") in timeline
    assert ("2018-07-13", "removed from the Denied Persons List", "83 FR 34825") in timeline
    assert sum(1 for d, e, _ in timeline if d == "2017-03-29" and e.startswith("removed")) == 1
    on_2018_05 = _by_rule(_rows(curated_backend, "rules-affecting-firm", firm="ZTE", as_of="2018-05-01"))
    assert "zte-denial-order-2018" in on_2018_05 and "el-zte-2016" not in on_2018_05


def test_section_889_with_its_two_dates(curated_backend: EmbeddedBackend) -> None:
    rows = [r for r in _rows(curated_backend, "firms-affected-by-rule", rule="Section 889") if r["reach"] == "named"]
    firms = {r["name"] for r in rows}
    assert {"Huawei Technologies Co., Ltd.", "ZTE Corporation", "Hytera Communications Corporation",
            "Hangzhou Hikvision Digital Technology Co., Ltd.", "Dahua Technology Company"} == firms
    assert {r["from"] for r in rows} == {"2019-08-13", "2020-08-13"}
    on_2020_01 = _by_rule(_rows(curated_backend, "rules-affecting-firm", firm="Dahua", as_of="2020-01-01"))
    assert len(on_2020_01["ndaa-fy2019-sec-889"]) == 1  # only (a)(1)(A) held then


def test_1260h_is_a_listing_and_section_805_the_legal_reach(curated_backend: EmbeddedBackend,
                                                            curated_store: VersionedStore) -> None:
    rules = _by_rule(_rows(curated_backend, "rules-affecting-firm", firm="Tencent"))
    assert rules["1260h-notice-2025"][0]["effect"] == "listed (the list prohibits nothing by itself)"
    assert rules["1260h-notice-2026"][0]["effect"] == "listed again in a new edition"
    s805 = sorted(rules["ndaa-fy2024-sec-805"], key=lambda r: r["from"])
    assert [(r["effect"], r["from"]) for r in s805] == [("restricts as a listed party", "2026-06-30"),
                                                         ("restricts as a listed party", "2027-06-30")]
    assert s805[1]["status"] == "not yet in force on 2026-12-04"
    before = _by_rule(_rows(curated_backend, "rules-affecting-firm", firm="Tencent", as_of="2025-06-01"))
    assert "ndaa-fy2024-sec-805" not in before  # the listing held; the prohibition did not yet
    timeline = _rows(curated_backend, "firm-timeline", firm="Tencent")
    added = [r for r in timeline if r["event"].startswith("added to")]
    assert len(added) == 1 and added[0]["date"] == "2025-01-07"
    assert any(r["event"] == "listed again in a new edition" and r["citation"] == "91 FR 35189" for r in timeline)


def test_designations_say_how_much_of_the_list_is_held(curated_backend: EmbeddedBackend,
                                                       curated_store: VersionedStore) -> None:
    rows = _rows(curated_backend, "designations", list="1260H List")
    assert rows and all(r["held"] == "6 of 134 entries held (entities on the January 2025 edition, 2025-01-07)"
                        for r in rows)
    assert all(r["listing"].startswith("listed: the list prohibits nothing by itself") for r in rows)
    early = _rows(curated_backend, "designations", list="1260H List", as_of="2021-07-01")
    assert {r["held"] for r in early} == {"4 of 47 entries held (entities on the first edition, 2021-06-03)"}
    el = _rows(curated_backend, "designations", list="Entity List")
    assert {r["held"] for r in el} == {"the list's size is not recorded: the graph may hold only part of it"}
    assert "entries held: 6 of 134 entries held" in _show(CliRunner(), curated_store, "1260H List")


def test_tiktok_delay_ends_and_the_divestiture_closes(curated_backend: EmbeddedBackend) -> None:
    today = _rows(curated_backend, "rules-affecting-firm", firm="TikTok")
    assert not any("end not recorded" in r["status"] for r in today)
    named = [r for r in today if r["effect"] == "restricts (named in the rule)"]
    assert [(r["until"], r["status"]) for r in named] == [("2026-01-22", "ended 2026-01-22")]
    mid = _rows(curated_backend, "rules-affecting-firm", firm="TikTok", as_of="2026-01-10")
    assert mid[0]["status"].startswith("not enforced on 2026-01-10 by Saving TikTok While Protecting National Security")
    assert "to 2026-01-23" in mid[0]["status"]


def test_bytedance_on_2024_06_01_is_named_with_its_270_day_clock(curated_backend: EmbeddedBackend) -> None:
    rows = _rows(curated_backend, "rules-affecting-firm", firm="ByteDance", as_of="2024-06-01")
    assert [(r["effect"], r["from"], r["until"]) for r in rows] == [
        ("named; its prohibitions apply from a later date", "2024-04-24", "2025-01-18")]


def test_ai_diffusion_rule_is_not_enforced_from_2025_05_13(curated_backend: EmbeddedBackend,
                                                           curated_store: VersionedStore) -> None:
    shown = _show(CliRunner(), curated_store, "90 FR 4544")
    lines = shown.splitlines()
    assert lines[2].startswith("  status on 2026-12-04: not enforced since 2025-05-13 by BIS press release")
    assert "    2025-01-13  in force" in shown
    gap = _rows(curated_backend, "firms-affected-by-rule", rule="90 FR 4544")
    assert gap[0]["status"].startswith("not enforced on 2026-12-04")
    old = _rows(curated_backend, "firms-affected-by-rule", rule="2025-00636")
    assert old and old[0]["effect"].startswith("effect not modelled")


def test_affiliates_rule_shows_its_suspension_with_dates(curated_store: VersionedStore) -> None:
    shown = _show(CliRunner(), curated_store, "90 FR 47201")
    assert "  status on 2026-12-04: in force since 2025-09-29; it was suspended from 2025-11-10 to 2026-11-09" in shown
    assert ("    2025-11-10  suspended by One Year Suspension of Expansion of End-User Controls for Affiliates "
            "of Certain Listed Entities (to 2026-11-09)") in shown


def test_no_empty_answer_without_a_reason(curated_backend: EmbeddedBackend) -> None:
    for rule in ("89 FR 96790", "90 FR 4544", "ai-diffusion-rescission-2025", "EO 14117", "Secure Networks Act",
                 "Pub. L. 116-283"):
        rows = _rows(curated_backend, "firms-affected-by-rule", rule=rule)
        assert rows and rows[0]["effect"], rule


def test_nvidia_is_reached_as_the_exporter(curated_backend: EmbeddedBackend, curated_store: VersionedStore) -> None:
    rows = _rows(curated_backend, "rules-affecting-firm", firm="Nvidia")
    assert {(r["rule"].rsplit("/", 1)[-1], r["effect"], r["reach"]) for r in rows} == {
        ("nvidia-is-informed-2022", "licence requirement on its exports (exporter-side)",
         "as the exporter of the items it controls"),
        ("adv-computing-2023", "licence requirement on its exports (exporter-side)",
         "as the exporter of the items it controls")}
    shown = _show(CliRunner(), curated_store, "Nvidia")
    assert "  exporter-side (licence requirements on its own exports" in shown
    assert "  legal reach:\n    none in the graph" in shown


def test_ofac_acts_on_the_ns_cmic_firms(curated_store: VersionedStore, tmp_path: Path, realdata: Path) -> None:
    """After `tradekg import ofac` of OFAC's Non-SDN files, OFAC counts for the firms on its NS-CMIC list."""
    from tests.test_sources_ofac import NON_SDN, copy_store

    store = copy_store(curated_store, tmp_path / "store")
    result = CliRunner().invoke(cli, ["import", "ofac", str(realdata / NON_SDN), "--as-of", "2025-12-19",
                                      "--store", str(store.path)])
    assert result.exit_code == 0, result.output
    backend = EmbeddedBackend(store.open_read())
    for firm in ("Huawei", "Hikvision", "SMIC"):
        agencies = {r["name"]: r for r in _rows(backend, "agencies-acting-on-firm", firm=firm)}
        ofac = agencies["Office of Foreign Assets Control"]
        assert int(ofac["rules"]) == 2 and "Non-SDN Chinese Military-Industrial Complex" in ofac["lists"]
        rules = _by_rule(_rows(backend, "rules-affecting-firm", firm=firm))
        assert rules["eo-14032"][0]["citation"] == "86 FR 30145" and rules["eo-14032"][0]["from"] == "2021-08-02"
    held = _rows(backend, "designations", list="NS-CMIC")
    assert held and held[0]["held"].endswith("of 59 entries held (companies in the Annex to EO 14032, 2021-06-03)")


def test_titles_are_official_and_descriptions_apart(curated_backend: EmbeddedBackend) -> None:
    rows = {r["rule"].rsplit("/", 1)[-1]: r for r in _rows(curated_backend, "rules-affecting-firm", firm="Huawei")}
    zte = {r["rule"].rsplit("/", 1)[-1]: r for r in _rows(curated_backend, "rules-affecting-firm", firm="ZTE")}
    assert zte["el-zte-2016"]["title"] == "Additions to the Entity List"
    assert "official title not recorded" in rows["el-huawei-2019"]["title"]


def test_estevez_shows_his_post_and_term(curated_store: VersionedStore) -> None:
    shown = _show(CliRunner(), curated_store, "Alan Estevez")
    assert ("    Under Secretary of Commerce for Industry and Security (Bureau of Industry and Security), "
            "2022-04-19 to 2025-01; nominated 2021-07-13, confirmed 2022-03-31") in shown


def test_serve_rule_page_leads_with_its_status(curated_store: VersionedStore) -> None:
    from tests.serving import serving

    with serving(curated_store.path) as served:
        status, _, body = served.get("/id/rule/ai-diffusion-2025")
        assert status == 200
        page = body.decode()
        assert page.index('id="status"') < page.index('id="statements"')
        text = re.sub(r"<[^>]+>", "", page)  # dates sit in nowrap spans, so that a line never breaks inside one
        assert "Status on 2026-12-04: not enforced since 2025-05-13 by BIS press release" in text
        status, _, body = served.get("/id/list/dod-1260h-list")
        assert "6 of 134 entries held" in body.decode()


def test_screen_tells_the_listing_from_the_act_that_binds_it(curated_store: VersionedStore) -> None:
    result = CliRunner().invoke(cli, ["screen", "Tencent Holdings", "--limit", "1", "--format", "text",
                                      "--store", str(curated_store.path)])
    assert result.exit_code == 0, result.output
    assert ("rule: 90 FR 1105 Notice of Availability of Designation of Chinese Military Companies "
            "(listed (the list prohibits nothing by itself), named; 2025-01-07–in force)") in result.output
    assert "(restricts as a listed party, on a list; 2026-06-30–in force" in result.output


def test_serve_firm_page_tells_listing_and_exporter_side_apart(curated_store: VersionedStore) -> None:
    from tests.serving import serving

    with serving(curated_store.path) as served:
        page = served.get("/id/company/tencent")[2].decode()
        legal = page[page.index("<h3>Legal reach</h3>"):page.index("<h3>Listed</h3>")]
        listed = page[page.index("<h3>Listed</h3>"):page.index("<h3>Exposure")]
        assert "Pub. L. 118-31, sec. 805" in legal and "90 FR 1105" not in legal
        assert "90 FR 1105" in listed
        nvidia = served.get("/id/company/nvidia")[2].decode()
        assert "<h3>Exporter-side</h3>" in nvidia and "88 FR 73458" in nvidia[nvidia.index("<h3>Exporter-side</h3>"):]


def test_saved_queries_read_as_queries_to_sparqlwrapper() -> None:
    """SPARQLWrapper takes the first update word it finds outside some comments ("reMOVEd",
    "ADDed") for the query's form and sends it as an update, which a server refuses (403)."""
    from SPARQLWrapper import SPARQLWrapper

    from kg.resources import queries_dir

    wrapper = SPARQLWrapper("http://127.0.0.1/sparql")
    for path in sorted(queries_dir().glob("*.rq")):
        assert wrapper._parseQueryType(path.read_text(encoding="utf-8")) == "SELECT", path.name
