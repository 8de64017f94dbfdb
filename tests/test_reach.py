"""Reach says what the law says (issue 10): legal reach apart from exposure, the
Affiliates rule's ownership reach inside its unsuspended window, suspensions
honoured by as_of, screen today versus with ended items, month-precision dates,
and unmodelled effects that say so."""

from __future__ import annotations

import pytest

from kg.answers import screen as screening
from kg.answers.queries import find_query, run_saved
from kg.cli import cli as main
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from kg.loaders import InputFile, cells
from kg.pipeline.build import build

EXTRA = {
    "companies.csv": [
        "owner2,Second Owner Ltd.,,CN,,,,,fixture,confirmed,",
        "jv,Joint Venture Ltd.,,HK,,,,,fixture,confirmed,",
        "half,Half Owned Ltd.,,SG,,,,,fixture,confirmed,",
        "grandhalf,Grand Half Ltd.,,SG,,,,,fixture,confirmed,",
        "usco,US Owned Inc.,,US,,,,,fixture,confirmed,",
        "minority,Minority Owned Ltd.,,SG,,,,,fixture,confirmed,",
    ],
    "designations.csv": [
        "d-owner2,owner2,list-a,r-list,,2020-03-01,2020-02-28,,For all items,presumption-of-denial,,fixture,confirmed,",
    ],
    "rules.csv": [
        "r-affiliates,Affiliates rule (fixture),,interim-final-rule,9 FR 100,2025-00001,2025-09-30,2025-09-29,,,bureau,"
        ",,,,,,,,fixture,confirmed,",
        "r-suspend,Suspension of the affiliates rule (fixture),,final-rule,,,,2025-11-10,,,bureau,,,,,,,,,fixture,"
        "confirmed,",
        "r-unmodelled,A rule whose effect is not modelled (fixture),,final-rule,9 FR 300,2025-00003,2025-01-01,"
        "2025-01-01,,,bureau,,,,,,,,,fixture,confirmed,",
    ],
}
NEW = {
    "ownership.csv": [
        "id,owner,owned,share_percent,start_date,end_date,source,confidence,note",
        "o1,parentco,jv,30,,,fixture,confirmed,",
        "o2,owner2,jv,30,,,fixture,confirmed,",
        "o3,parentco,half,50,,,fixture,confirmed,",
        "o4,half,grandhalf,60,,,fixture,confirmed,",
        "o5,parentco,usco,100,,,fixture,confirmed,",
        "o6,parentco,minority,49.9,,,fixture,confirmed,",
        "o7,parentco,subco,,,,fixture,confirmed,no sourced share",
    ],
    "ownership_rules.csv": [
        "id,name,rule,owner_lists,threshold_percent,start_date,end_date,description,source,confidence,note",
        "ext,Fixture affiliates rule,r-affiliates,list-a,50,2025-09-29,,,fixture,confirmed,",
    ],
    "suspensions.csv": [
        "id,rule,suspends,start_date,end_date,description,source,confidence,note",
        "susp,r-suspend,r-affiliates,2025-11-10,2026-11-09,,fixture,confirmed,",
    ],
    "effect_gaps.csv": [
        "id,rule,reason,source,confidence,note",
        "gap,r-unmodelled,effect not modelled: controls items by destination (fixture),fixture,confirmed,",
    ],
}


@pytest.fixture(scope="module")
def reach_backend(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedBackend:
    from tests.conftest import MINI

    directory = tmp_path_factory.mktemp("reach") / "data"
    directory.mkdir()
    for source in MINI.glob("*.csv"):
        text = source.read_text(encoding="utf-8").rstrip("\n") + "\n"
        if source.name in EXTRA:
            text += "\n".join(EXTRA[source.name]) + "\n"
        (directory / source.name).write_text(text, encoding="utf-8")
    for name, lines in NEW.items():
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = VersionedStore(directory.parent / "store")
    build(store, [InputFile(p, p.name) for p in sorted(directory.glob("*.csv"))])
    return EmbeddedBackend(store.open_read())


def _rows(backend: EmbeddedBackend, name: str, **params: str) -> list[dict[str, str]]:
    table = run_saved(find_query(name), params, backend)
    return [{k: str(v) for k, v in row.items()} for row in table.rows]


def test_subsidiary_of_a_listed_parent_is_exposure_not_a_designation(reach_backend: EmbeddedBackend) -> None:
    rows = _rows(reach_backend, "rules-affecting-firm", firm="subco")
    listing = [r for r in rows if r.get("citation") == "1 FR 100"]
    assert listing, rows
    assert all(r["effect"] == "parent listed" and r["reach"].startswith("exposure") for r in listing)
    assert all(r["viaParent"] == "Parent Telecom Co. Ltd." for r in listing)
    assert not any(r["effect"] == "designates" for r in rows)
    # The rules that changed the parent's entry do not reach the subsidiary at all.
    assert not any(r.get("citation") == "1 FR 200" for r in rows)
    timeline = _rows(reach_backend, "firm-timeline", firm="subco")
    assert any(r["event"] == "parent listed: Parent Telecom Co. Ltd." for r in timeline)


def _ownership(backend: EmbeddedBackend, firm: str, as_of: str) -> list[dict[str, str]]:
    return [r for r in _rows(backend, "rules-affecting-firm", firm=firm, as_of=as_of)
            if r["effect"] == "restricted through ownership"]


def test_fifty_percent_owned_firm_is_legal_reach_only_inside_the_unsuspended_window(
        reach_backend: EmbeddedBackend) -> None:
    assert _ownership(reach_backend, "half", "2025-09-28") == []
    inside = _ownership(reach_backend, "half", "2025-10-15")
    assert len(inside) == 1 and inside[0]["reach"] == "owned by listed parties"
    assert inside[0]["from"] == "2025-09-29" and inside[0]["until"] == "2025-11-09"
    assert inside[0]["status"] == "holds on 2025-10-15"
    assert _ownership(reach_backend, "half", "2026-01-15") == []  # suspended
    after = _ownership(reach_backend, "half", "2026-12-04")
    assert len(after) == 1 and after[0]["from"] == "2026-11-10"
    assert after[0]["status"].startswith("unconfirmed on 2026-12-04") and "UNCONFIRMED" in after[0]["status"]
    # Indirect: 60 percent of grandhalf is held by half, itself reached by the rule.
    assert len(_ownership(reach_backend, "grandhalf", "2025-10-15")) == 1
    # Below the threshold, a U.S. firm, and a holding with no sourced share: no legal reach.
    assert _ownership(reach_backend, "minority", "2025-10-15") == []
    assert _ownership(reach_backend, "usco", "2025-10-15") == []
    assert _ownership(reach_backend, "subco", "2025-10-15") == []


def test_aggregated_ownership_two_listed_owners_at_thirty_percent(reach_backend: EmbeddedBackend) -> None:
    rows = _ownership(reach_backend, "jv", "2025-10-15")
    assert len(rows) == 1
    table = reach_backend.select(
        "SELECT ?share WHERE { ?e <https://w3id.org/tradekg/ontology#effectParty> "
        "<https://w3id.org/tradekg/id/company/jv> ; <https://w3id.org/tradekg/ontology#sharePercent> ?share }")
    assert {float(str(r["share"])) for r in table.rows} == {60.0}


def test_suspension_honoured_by_as_of(reach_backend: EmbeddedBackend) -> None:
    rows = _rows(reach_backend, "firms-affected-by-rule", rule="9 FR 100")
    assert {r["name"] for r in rows} >= {"Half Owned Ltd.", "Joint Venture Ltd.", "Grand Half Ltd."}
    assert all(r["citation"] == "9 FR 100" and r["document"] == "2025-00001" for r in rows)


def test_unmodelled_rule_answers_with_its_reason(reach_backend: EmbeddedBackend) -> None:
    rows = _rows(reach_backend, "firms-affected-by-rule", rule="9 FR 300")
    assert len(rows) == 1
    assert rows[0]["effect"] == "effect not modelled: controls items by destination (fixture)"
    assert rows[0]["document"] == "2025-00003"


def test_month_precision_dates_are_stored_and_compared_at_that_precision() -> None:
    assert str(cells.to_partial_date("2025-01").datatype).endswith("#gYearMonth")
    assert str(cells.to_partial_date("2025").datatype).endswith("#gYear")
    assert str(cells.to_partial_date("2025-01-20").datatype).endswith("#date")
    for bad in ("2025-13", "2025-1", "January 2025", "2025-02-30"):
        with pytest.raises(cells.CellError):
            cells.to_partial_date(bad)


def test_curated_estevez_term_ends_in_january_2025_to_the_month(curated_backend: EmbeddedBackend) -> None:
    rows = _rows(curated_backend, "rules-by-official", person="Alan Estevez")
    assert {r["termStart"] for r in rows} == {"2022-04-19"} and {r["termEnd"] for r in rows} == {"2025-01"}
    by_doc = {r.get("document"): r for r in rows}
    assert by_doc["2022-19415"]["inTerm"] == "yes"
    assert by_doc["2025-00592"]["inTerm"] == "uncertain: the term ended in 2025-01, day not recorded"
    assert not any((r.get("published") or r["effective"]) >= "2025-02" for r in rows)


def test_screen_shows_what_holds_today_and_ended_items_only_on_request(
        curated_backend: EmbeddedBackend) -> None:
    today = screening.screen(curated_backend, "Huawei Technologies Co., Ltd.", limit=1, on="2026-12-04")[0]
    text = " ".join(today.rules)
    assert "84 FR 23468" not in text
    assert "authorizes exception" not in " ".join(r for r in today.rules if "85 FR 36719" in r)
    ended = screening.screen(curated_backend, "Huawei Technologies Co., Ltd.", limit=1, on="2026-12-04",
                             include_ended=True)[0]
    tgl = [r for r in ended.rules if r.startswith("84 FR 23468")]
    assert tgl and "ended 2019-08-19" in tgl[0] and "ended 2020-08-13" in tgl[0]
    bolivia = screening.screen(curated_backend, "Huawei Technologies (Bolivia)", limit=1, on="2026-12-04")[0]
    assert any("affiliate listed: Huawei Technologies Co., Ltd." in e for e in bolivia.exposure)
    assert not any("90 FR 1105" in r for r in bolivia.rules)


def test_curated_tiktok_law_names_the_parties_and_its_delays_hold(curated_backend: EmbeddedBackend) -> None:
    rows = _rows(curated_backend, "rules-affecting-firm", firm="TikTok", as_of="2025-03-01")
    assert [r["effect"] for r in rows] == ["restricts (named in the rule)"]
    assert rows[0]["status"].startswith("not enforced on 2025-03-01 by Application of Protecting Americans")
    rows = _rows(curated_backend, "rules-affecting-firm", firm="ByteDance", as_of="2025-01-19")
    assert rows[0]["status"] == "holds on 2025-01-19"


def test_curated_standards_2022_rule_shows_its_document_number(curated_backend: EmbeddedBackend) -> None:
    rows = _rows(curated_backend, "rules-affecting-firm", firm="Huawei")
    assert {r.get("document") for r in rows if r["rule"].endswith("/standards-2022")} == {"2022-19415"}
    gaps = _rows(curated_backend, "firms-affected-by-rule", rule="2024-15810")
    assert gaps[0]["effect"].startswith("effect not fully modelled")


def test_screen_cli_include_ended(curated_store: VersionedStore, runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEKG_TODAY", "2026-12-04")
    args = ["screen", "Huawei Technologies Co., Ltd.", "--limit", "1", "--format", "text",
            "--store", str(curated_store.path)]
    plain = runner.invoke(main, args)
    assert plain.exit_code == 0, plain.output
    assert "84 FR 23468" not in plain.output
    ended = runner.invoke(main, [*args, "--include-ended"])
    assert "ended 2020-08-13" in ended.output
