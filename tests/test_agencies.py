"""agencies-acting-on-firm tells legal reach from exposure.

A listed parent is a red flag for its subsidiary, not an agency acting on
the subsidiary: the agency's rules that reach the firm only through a listed
parent or affiliate are counted apart (exposureRules, with the firms above
named), never in ``rules``.
"""

from __future__ import annotations

from kg.answers.queries import find_query, run_saved
from kg.graph.backend import EmbeddedBackend


def _rows(backend: EmbeddedBackend, firm: str) -> list[tuple[str, str, str, str, str]]:
    result = run_saved(find_query("agencies-acting-on-firm"), {"firm": firm}, backend)
    return [(str(r["name"]), str(r["rules"]), str(r.get("lists") or ""), str(r["exposureRules"]),
             str(r.get("exposureThrough") or "")) for r in result.rows]


def test_a_listed_parent_is_exposure_not_an_agency_acting(mini_backend: EmbeddedBackend) -> None:
    assert _rows(mini_backend, "subco") == [("Bureau of Samples", "0", "", "1", "Parent Telecom Co. Ltd.")]


def test_the_listed_parent_itself_is_legal_reach(mini_backend: EmbeddedBackend) -> None:
    assert _rows(mini_backend, "parentco") == [("Bureau of Samples", "6", "List A", "0", "")]


def test_huawei_bolivia_dod_and_fcc_reach_it_only_through_its_parents(curated_backend: EmbeddedBackend) -> None:
    rows = {r[0]: r for r in _rows(curated_backend, "Huawei Technologies (Bolivia) S.R.L.")}
    # Its own Entity List entry: BIS acts on it.
    assert rows["Bureau of Industry and Security"][1] != "0"
    assert rows["Bureau of Industry and Security"][2] == "Entity List"
    # The 1260H listing and the Covered List entry are Huawei's, not the Bolivian firm's.
    for agency in ("U.S. Department of Defense", "Public Safety and Homeland Security Bureau"):
        _name, rules, lists, exposure, through = rows[agency]
        assert (rules, lists) == ("0", ""), rows[agency]
        assert exposure != "0" and "Huawei Technologies Co., Ltd." in through, rows[agency]
