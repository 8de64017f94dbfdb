"""`tradekg show` of a firm words legal reach and exposure apart (issue 10).

A listed parent or affiliate is a red flag, never a designation of the firm:
`show` lists it under "exposure (not a designation of this firm)", apart from
the rules that reach the firm itself.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from rdflib import URIRef

from kg.cli import cli
from kg.graph.store import VersionedStore

LEGAL = "  legal reach:\n"
EXPOSURE = "  exposure (not a designation of this firm):\n"


def _show(runner: CliRunner, store: VersionedStore, entity: str, fmt: str = "table") -> str:
    result = runner.invoke(cli, ["show", entity, "--format", fmt, "--store", str(store.path)])
    assert result.exit_code == 0, result.output
    return result.output


def _section(output: str, header: str) -> list[str]:
    """The lines of one section of the table output (indented four spaces under its header)."""
    assert header in output, output
    lines = []
    for line in output.split(header, 1)[1].splitlines():
        if not line.startswith("    "):
            break
        lines.append(line.strip())
    return lines


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEKG_TODAY", "2026-12-04")


def test_a_subsidiary_of_a_listed_parent_has_exposure_and_no_legal_reach(mini_store: VersionedStore,
                                                                         runner: CliRunner) -> None:
    output = _show(runner, mini_store, "Sub Telecom GmbH")
    assert _section(output, LEGAL) == ["none in the graph"]
    assert _section(output, EXPOSURE) == [
        "parent listed: Parent Telecom Co. Ltd. on List A (1 FR 100, since 2020-02-28) — holds on 2026-12-04"]
    assert "designat" not in output.split("  referenced by:")[-1].split(LEGAL)[0]  # no list entry of its own
    # Two steps down is still exposure from the listed parent, and an affiliate is worded as one.
    assert _section(_show(runner, mini_store, "grandchild"), EXPOSURE)[0].startswith(
        "parent listed: Parent Telecom Co. Ltd. on List A")
    assert _section(_show(runner, mini_store, "affco"), EXPOSURE)[0].startswith(
        "affiliate listed: Parent Telecom Co. Ltd. on List A")


def test_legal_reach_says_effect_period_and_what_holds_on_the_date(mini_store: VersionedStore, runner: CliRunner,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    parent = _section(_show(runner, mini_store, "Parent Telecom Co. Ltd."), LEGAL)
    assert "1 FR 100 — designates (named; entry on the List A), since 2020-02-28 — holds on 2026-12-04" in parent
    assert ("1 FR 150 — authorizes exception (named; Temporary licence for Parent Telecom), "
            "2020-04-01 to 2020-08-01 — ended 2020-08-01") in parent
    assert _section(_show(runner, mini_store, "Parent Telecom Co. Ltd."), EXPOSURE) == [
        "none in the graph (no listed parent or affiliate)"]
    monkeypatch.setenv("TRADEKG_TODAY", "2020-05-01")
    early = _section(_show(runner, mini_store, "Parent Telecom Co. Ltd."), LEGAL)
    assert "1 FR 150 — authorizes exception (named; Temporary licence for Parent Telecom), " \
           "2020-04-01 to 2020-08-01 — holds on 2020-05-01" in early
    assert any(line.startswith("2 FR 500 ") and line.endswith("not yet in force on 2020-05-01") for line in early)
    assert _section(_show(runner, mini_store, "otherco"), LEGAL) == [
        "1 FR 100 — designates (named; entry on the List A), 2020-02-28 to 2020-12-31 — holds on 2020-05-01"]
    monkeypatch.setenv("TRADEKG_TODAY", "2021-01-01")
    assert _section(_show(runner, mini_store, "otherco"), LEGAL) == [
        "1 FR 100 — designates (named; entry on the List A), 2020-02-28 to 2020-12-31 — ended 2020-12-31"]


def test_csv_and_json_keep_their_columns_and_add_one_reach_row_per_line(mini_store: VersionedStore,
                                                                        runner: CliRunner) -> None:
    rows = list(csv.DictReader(io.StringIO(_show(runner, mini_store, "subco", "csv"))))
    assert list(rows[0]) == ["entity", "property", "value", "valueLabel"]
    reach = [r for r in rows if r["property"] == "https://w3id.org/tradekg/ontology#reach"]
    assert [r["valueLabel"] for r in reach] == [
        "exposure (not a designation of this firm): parent listed: Parent Telecom Co. Ltd. on List A "
        "(1 FR 100, since 2020-02-28) — holds on 2026-12-04"]
    assert reach[0]["value"].startswith("https://w3id.org/tradekg/id/effect/")
    statements = [r for r in rows if r not in reach]
    assert any(r["valueLabel"] == "Parent Telecom Co. Ltd." for r in statements)
    bindings = json.loads(_show(runner, mini_store, "parentco", "json"))["results"]["bindings"]
    labels = [b["valueLabel"]["value"] for b in bindings if b["property"]["value"].endswith("#reach")]
    assert labels and all(label.startswith("legal reach: ") for label in labels)


def test_a_rule_has_no_reach_sections(mini_store: VersionedStore, runner: CliRunner) -> None:
    output = _show(runner, mini_store, "1 FR 100")
    assert "legal reach" not in output and "exposure" not in output


def test_the_bolivian_affiliate_is_named_by_84_fr_22961_and_exposed_through_huawei(
        curated_store: VersionedStore, runner: CliRunner) -> None:
    output = _show(runner, curated_store, "Huawei Technologies (Bolivia) S.R.L.")
    legal = _section(output, LEGAL)
    assert legal[0] == ("84 FR 22961 — designates (named; entry on the Entity List), since 2019-05-16 "
                        "— holds on 2026-12-04")
    # The temporary general license covered Huawei's affiliates by its terms: legal reach, now ended.
    assert any(line.startswith("84 FR 23468 — authorizes exception (affiliate covered by its terms;")
               and line.endswith("ended 2020-08-13") for line in legal)
    exposure = _section(output, EXPOSURE)
    assert ("affiliate listed: Huawei Technologies Co., Ltd. on Chinese Military Companies List (Section 1260H) "
            "(86 FR 33994, since 2021-06-03) — holds on 2026-12-04") in exposure
    assert all(line.startswith("affiliate listed: ") for line in exposure)
    assert not any("designat" in line for line in exposure)
    # The 1260H listing is Huawei's, not the affiliate's: never under legal reach.
    assert not any("Chinese Military" in line or "86 FR 33994" in line for line in legal)


def test_huawei_itself_is_listed_on_1260h_and_exposed_through_its_parent(curated_store: VersionedStore,
                                                                        runner: CliRunner) -> None:
    output = _show(runner, curated_store, "Huawei")
    legal = _section(output, LEGAL)
    # The 1260H list prohibits nothing by itself: the entry is a listing, and
    # section 805 of the FY2024 NDAA is the legal reach, with its own date.
    assert not any("86 FR 33994" in line for line in legal)
    assert ("Pub. L. 118-31, sec. 805 — restricts as a listed party (on a list; entry on the Chinese Military "
            "Companies List (Section 1260H)), since 2026-06-30 — holds on 2026-12-04") in legal
    assert ("86 FR 33994 — listed (the list prohibits nothing by itself) (named; entry on the Chinese Military "
            "Companies List (Section 1260H)), since 2021-06-03 — holds on 2026-12-04") in output
    exposure = _section(output, EXPOSURE)
    assert exposure and all(line.startswith("parent listed: Huawei Investment & Holding Co., Ltd. on ")
                            for line in exposure)
    # What was there before stays: the designations in "referenced by".
    assert "Entity List since 2019-05-16 (id:designation/el-huawei)" in output


def test_from_python_the_two_parts_are_apart(mini_store: VersionedStore) -> None:
    import kg

    shown = kg.open(store=mini_store.path).show("subco")
    assert shown.legal_reach() == []
    assert [r.line for r in shown.exposure()] == [
        "parent listed: Parent Telecom Co. Ltd. on List A (1 FR 100, since 2020-02-28) — holds on 2026-12-04"]
    assert shown.exposure()[0].rule == URIRef("https://w3id.org/tradekg/id/rule/r-list")
