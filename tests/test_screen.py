"""Name screening: true matches in other spellings, near misses, non-matches, and the explanation."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kg.answers.screen import Index, normalise_name, screen
from kg.cli import cli
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore


@pytest.fixture(scope="module")
def index(curated_backend: EmbeddedBackend) -> Index:
    return Index.from_backend(curated_backend)


@pytest.mark.parametrize(("raw", "normalised"), [
    ("Huawei Technologies Co., Ltd.", "huawei technologies"),
    ("HUAWEI TECHNOLOGIES CO LTD", "huawei technologies"),
    ("Huawei Technologies (Bolivia) S.R.L.", "huawei technologies bolivia"),
    ("Société Générale S.A.", "societe generale"),
    ("Smith & Sons GmbH", "smith and sons"),
])
def test_names_are_normalised_without_case_accents_punctuation_or_legal_forms(raw: str, normalised: str) -> None:
    assert normalise_name(raw) == normalised


@pytest.mark.parametrize("typed", ["Huawei Technologies Co Ltd", "HUAWEI TECH. CO.", "huawei technologies",
                                   "Technologies Huawei Co., Ltd."])
def test_true_matches_in_other_spellings_rank_huawei_first(curated_backend: EmbeddedBackend, index: Index,
                                                           typed: str) -> None:
    matches = screen(curated_backend, typed, index=index)
    assert matches, typed
    assert str(matches[0].party).endswith("/company/huawei")
    assert matches[0].score >= 90
    assert "token_sort_ratio" in matches[0].explanation


def test_an_abbreviation_is_expanded_and_said_so(curated_backend: EmbeddedBackend, index: Index) -> None:
    top = screen(curated_backend, "HUAWEI TECH. CO.", index=index)[0]
    assert "abbreviations expanded: tech→" in top.explanation


def test_a_near_miss_still_matches_below_a_true_match(curated_backend: EmbeddedBackend, index: Index) -> None:
    typo = screen(curated_backend, "Huawai Technologies", index=index)
    assert typo and str(typo[0].party).endswith("/company/huawei")
    assert 75 <= typo[0].score < 100


def test_a_shared_common_word_does_not_outrank_the_true_match(curated_backend: EmbeddedBackend,
                                                              index: Index) -> None:
    matches = screen(curated_backend, "Dahua Technology", index=index, threshold=0)
    assert str(matches[0].party).endswith("/company/dahua")
    others = [m for m in matches if "huawei" in str(m.party)]
    assert others and all(m.score < matches[0].score - 20 for m in others)
    # A name sharing only the common word scores below the default threshold.
    assert all("huawei" not in str(m.party) for m in screen(curated_backend, "Acme Technologies", index=index))


def test_unrelated_names_do_not_match(curated_backend: EmbeddedBackend, index: Index) -> None:
    assert screen(curated_backend, "Acme Widgets GmbH", index=index) == []
    assert screen(curated_backend, "Co., Ltd.", index=index) == []


def test_country_adds_a_bonus_or_a_penalty(curated_backend: EmbeddedBackend, index: Index) -> None:
    plain = screen(curated_backend, "Huawei Technologies Japan", index=index, threshold=0)[0]
    right = screen(curated_backend, "Huawei Technologies Japan", country="JP", index=index, threshold=0)[0]
    wrong = screen(curated_backend, "Huawei Technologies Japan", country="FR", index=index, threshold=0)[0]
    assert right.party == plain.party
    assert "country JP matches" in right.explanation
    assert "not among" in wrong.explanation
    assert wrong.score < plain.score <= right.score


def test_answer_names_list_policy_and_rules(curated_backend: EmbeddedBackend, index: Index) -> None:
    top = screen(curated_backend, "Huawei Technologies (Bolivia)", index=index)[0]
    assert str(top.party).endswith("/company/huawei-bolivia")
    assert any(d["list"] == "Entity List" and d["policy"] == "presumption of denial" for d in top.designations)
    assert any(r.startswith("84 FR 22961") for r in top.rules)


def test_screen_command_outputs_json_with_explanations(curated_store: VersionedStore, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["screen", "HUAWEI TECH. CO.", "--store", str(curated_store.path),
                                 "--format", "json", "--limit", "2", "--threshold", "0"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["results"]["bindings"]
    assert len(rows) == 2
    assert {"score", "matched_name", "lists", "license_policy", "rules", "explanation"} <= set(rows[0])
    text = runner.invoke(cli, ["screen", "Acme Widgets", "--store", str(curated_store.path), "--format", "text"])
    assert "no name in the graph matches" in text.output
