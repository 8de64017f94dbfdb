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


# --- Issue 21: names as counterparty files write them, in any script -------------------------------------------

@pytest.mark.parametrize(("typed", "party"), [
    ("Zhejiang Dahua Technology Co., Ltd.", "dahua"),  # province before the name
    ("Hikvision USA Inc", "hikvision"),  # a place after: a subsidiary named after the listed firm
    ("Hikvision (Shenzhen) Co", "hikvision"),
    ("Hikvision Digital", "hikvision"),  # business words after the distinctive name
    ("ByteDance Technology Co", "bytedance"),
    ("Kaspersky Labs", "kaspersky-inc"),
    ("Semiconductor Manufacturing Intl. Corp.", "smic"),  # abbreviations
    ("Tik Tok", "tiktok"),  # split words
    ("Amperex", "catl"),  # the distinctive word alone
])
def test_variants_counterparty_files_write_find_the_listed_firm(curated_backend: EmbeddedBackend, index: Index,
                                                                typed: str, party: str) -> None:
    matches = screen(curated_backend, typed, index=index)
    assert matches, typed
    assert any(str(m.party).endswith(f"/company/{party}") for m in matches[:3]), \
        [(m.score, m.matched_name) for m in matches]


def test_a_firm_named_after_the_listed_one_is_a_hit_to_review(curated_backend: EmbeddedBackend,
                                                              index: Index) -> None:
    top = screen(curated_backend, "Hikvision USA Inc", index=index)[0]
    assert str(top.party).endswith("/company/hikvision")
    assert "branch or subsidiary named after the listed party? review" in top.explanation
    assert "distinctive name 'hikvision'" in top.explanation


@pytest.mark.parametrize("typed", ["Acme Technologies", "Pacific Trading Co", "China Trading Co", "China Mobile",
                                   "Digital Technology Co., Ltd.", "Zhejiang Trading", "Semiconductor Labs",
                                   "Zhongxun Wangluo", "Huaxin Keji"])
def test_common_words_alone_do_not_match(curated_backend: EmbeddedBackend, index: Index, typed: str) -> None:
    found = screen(curated_backend, typed, index=index)
    assert found == [], [(m.score, m.matched_name) for m in found]


def test_four_letter_acronyms_one_letter_apart_do_not_match() -> None:
    from rdflib import URIRef

    index = Index.from_names([(URIRef("urn:x:somic"), "SOMIC ENGINEERING AND MANAGEMENT COMPANY", []),
                              (URIRef("urn:x:somic2"), "SOMIC", []), (URIRef("urn:x:smit"), "SMIT", [])])
    from kg.answers.screen import match

    assert match(index, "SMIC") == []
    assert [m.party for m in match(index, "SOMIC")][:1] == [URIRef("urn:x:somic2")]


@pytest.mark.parametrize(("typed", "party"), [
    ("华为技术有限公司", "huawei"), ("海康威视", "hikvision"), ("中芯国际", "smic"),
    ("杭州海康威视数字技术股份有限公司", "hikvision"), ("浙江大华技术股份有限公司", "dahua"),
    ("Huawei Jishu Youxian Gongsi", "huawei"), ("Haikang Weishi", "hikvision"), ("Zhongxin Guoji", "smic"),
    ("宁德时代新能源科技股份有限公司", "catl"),  # simplified characters against the traditional registered name
    ("Касперский", "kaspersky-ao"),  # Cyrillic through anyascii
])
def test_chinese_characters_their_pinyin_and_cyrillic_match(curated_backend: EmbeddedBackend, index: Index,
                                                           typed: str, party: str) -> None:
    matches = screen(curated_backend, typed, index=index)
    assert matches, typed
    assert any(str(m.party).endswith(f"/company/{party}") for m in matches[:3]), \
        [(m.score, m.matched_name) for m in matches]


def test_pinyin_one_letter_apart_is_another_firm(curated_backend: EmbeddedBackend, index: Index) -> None:
    """中芯 (zhongxin, SMIC) and 中兴 (zhongxing, ZTE) are two firms: no fuzzy pinyin."""
    matches = screen(curated_backend, "Zhongxin Guoji", index=index)
    assert all(not str(m.party).endswith("/company/zte") for m in matches)


def test_an_identifier_decides_and_a_conflicting_one_lowers_the_score(curated_backend: EmbeddedBackend,
                                                                      index: Index) -> None:
    found = screen(curated_backend, "Some Shenzhen Firm", index=index, identifiers=["USCC 914403001922038216"])
    assert found and str(found[0].party).endswith("/company/huawei") and found[0].score == 100
    assert "identifier 914403001922038216 (uscc) is the one the graph holds" in found[0].explanation
    plain = screen(curated_backend, "Hikvision", index=index)[0]
    conflict = screen(curated_backend, "Hikvision", index=index, identifiers=["914403001922038216"], threshold=0)
    mine = next(m for m in conflict if str(m.party).endswith("/company/hikvision"))
    assert mine.score < plain.score and "identifier conflict: uscc 914403001922038216 typed" in mine.explanation


def test_no_match_names_the_near_misses(curated_backend: EmbeddedBackend, index: Index) -> None:
    from kg.answers.screen import as_text, near_misses

    assert screen(curated_backend, "Dahau Tech Holdings", index=index) == []
    near = near_misses(index, "Dahau Tech Holdings")
    assert near and str(near[0].party).endswith("/company/dahua") and near[0].score < 82
    text = as_text([], "Dahau Tech Holdings", near)
    assert "nearest below the threshold" in text and "Dahua" in text


def test_cli_shows_near_misses_and_takes_identifiers(curated_store: VersionedStore) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["screen", "Dahau Tech Holdings", "--format", "text", "--store",
                              str(curated_store.path)])
    assert out.exit_code == 0, out.output
    assert "nearest below the threshold" in out.output and "Dahua Technology Company" in out.output
    out = runner.invoke(cli, ["screen", "Unknown Firm", "--identifier", "914403001922038216", "--format", "json",
                              "--store", str(curated_store.path)])
    assert out.exit_code == 0, out.output
    first = json.loads(out.output)["results"]["bindings"][0]
    assert first["party"]["value"].endswith("/company/huawei")


def test_file_takes_identifier_and_address_columns_and_writes_near_misses(curated_store: VersionedStore,
                                                                          tmp_path) -> None:
    source = tmp_path / "counterparties.csv"
    source.write_text("id,name,identifier,address\n"
                      "a,Unknown Firm,914403001922038216,\n"
                      "b,Dahau Tech Holdings,,\"No. 1 Binan Road, Hangzhou, China\"\n", encoding="utf-8")
    out = CliRunner().invoke(cli, ["screen", "--file", str(source), "--format", "json", "--store",
                                   str(curated_store.path)])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output[out.output.index("["):out.output.rindex("]") + 1])
    first = [r for r in rows if r["input_id"] == "a"]
    assert first[0]["party"].endswith("/company/huawei") and first[0]["input_identifier"] == "914403001922038216"
    second = [r for r in rows if r["input_id"] == "b"]
    assert second[0]["party"] == "" and "Dahua Technology Company" in second[0]["near_misses"]
    assert second[0]["input_country"] == "CN"


def _sdn_like_index() -> Index:
    """A few real SDN names (2021) whose neighbours on the list are other firms, vessels or units."""
    from rdflib import URIRef

    names = ["TAGHTIRAN KASHAN COMPANY", "BICENTENARIO VII", "SAMAN CHEMICAL COMPANY",
             "KUNLUN SHIPPING COMPANY LIMITED", "ANSAR AL-SHARIA IN LIBYA", "ZHANG, Jiangping",
             "Cheng Du Westone Information Industry Co., Ltd.", "Shanghai Aircraft Manufacturing Co., Ltd.",
             "AL HARAMAIN", "Contemporary Amperex Technology Co., Ltd.", "KATA'IB HIZBALLAH",
             "China Electronics Technology Group Corporation No. 14 Research Institute"]
    return Index.from_names([(URIRef(f"urn:x:{i}"), n, []) for i, n in enumerate(names)])


@pytest.mark.parametrize(("typed", "why"), [
    ("KASHAN", "a large city's name alone is a place, not the firm named after it"),
    ("HIZBALLAH", "the listed firm's own other coined word is missing"),
    ("BICENTENARIO VI", "another vessel of the same series"),
    ("SAMAN BANK", "each name adds a line of business the other lacks"),
    ("KUNLUN HOLDING COMPANY LTD.", "each name adds business words the other lacks"),
    ("ANSAR AL-SHARI'A IN TUNISIA", "the names are of two other countries"),
    ("ZHANG, Jian", "a shorter given name is another name, not an abbreviation"),
])
def test_other_firms_of_a_shared_name_are_not_matches(typed: str, why: str) -> None:
    """False matches found on OFAC's SDN list: each is another entity sharing words with a listed one."""
    from kg.answers.screen import match

    found = match(_sdn_like_index(), typed)
    assert found == [], (why, [(m.score, m.matched_name, m.explanation) for m in found])


def test_a_sister_firm_of_another_line_is_a_near_miss_that_says_why() -> None:
    from kg.answers.screen import near_misses

    near = near_misses(_sdn_like_index(), "SAMAN BANK")
    assert near and near[0].matched_name == "SAMAN CHEMICAL COMPANY"
    assert "each name has words the other lacks (finance against materials)" in near[0].explanation


@pytest.mark.parametrize(("typed", "listed"), [
    ("Shanghai Airc raft Manufacturing", "Shanghai Aircraft Manufacturing Co., Ltd."),  # a word split in two
    ("Cheng Du Westone Information Industry Technology Co", "Cheng Du Westone Information Industry Co., Ltd."),
    ("Amperex", "Contemporary Amperex Technology Co., Ltd."),  # the coined word alone, beside an ordinary one
    ("AL-HARAMAIN : PAKISTAN BRANCH", "AL HARAMAIN"),  # a branch: a hit to review
    ("BICENTENARIO", "BICENTENARIO VII"),  # a vessel named without its number: less exact, still a hit
    ("China Electronics Technology Group Corp. 14th Research Institute",  # an ordinary number is its number
     "China Electronics Technology Group Corporation No. 14 Research Institute"),
])
def test_the_listed_firm_written_otherwise_still_matches(typed: str, listed: str) -> None:
    from kg.answers.screen import match

    found = match(_sdn_like_index(), typed)
    assert found and found[0].matched_name == listed, [(m.score, m.matched_name) for m in found]


def _sdn_people_index() -> Index:
    """Real SDN names (2021) whose neighbours on the list are relatives, namesakes and like-named bodies."""
    from rdflib import URIRef

    names = ["KIM, Yong Chol", "JO, Yong Chol", "AL-TIKRITI, Barzan Ibrahim Hasan",
             "AL-TIKRITI, Ali Barzan Ibrahim Hasan", "AL-TIKRITI, Saddam Hussein", "FAWAZ AL-AKHRAS, Asma",
             "REZAVI, Mortaza", "PETRIC, Zoran", "FOZ, Samer", "YERMOSHINA, Lidya Mihaulauna",
             "IRAN MOBIN ELECTRONIC DEVELOPMENT COMPANY", "STATE ENTERPRISE YALTA SEA TRADING PORT",
             "DIMOND TRANSPORTATION LIMITED", "KAHANE", "AMAN GROUP", "COCINA ANTIGUA, S. DE R.L. DE C.V.",
             "MEZA FLORES DRUG TRAFFICKING ORGANIZATION", "AL-AQSA CHARITABLE ORGANIZATION"]
    return Index.from_names([(URIRef(f"urn:x:{i}"), n, []) for i, n in enumerate(names)])


@pytest.mark.parametrize(("typed", "near", "why"), [
    ("KIM, Song Chol", "KIM, Yong Chol", "a given name differs in its first letter"),
    ("JO, Kyong-Chol", "JO, Yong Chol", "a given name differs in its first letter"),
    ("FOZ, Amer", "FOZ, Samer", "a given name differs in its first letter"),
    ("AL-TIKRITI, Saja Barzan Ibrahim Hasan", "AL-TIKRITI, Barzan Ibrahim Hasan", "son or daughter"),
    ("AL-TIKRITI, Noor Barzan Ibrahim Hasan", "AL-TIKRITI, Ali Barzan Ibrahim Hasan", "brother or sister"),
    ("Hala Saddam Hussein al-Tikriti", "AL-TIKRITI, Saddam Hussein", "son or daughter"),
    ("AL-AKHRAS, Fawaz", "FAWAZ AL-AKHRAS, Asma", "son or daughter"),
    ("REZAIE, Morteza", "REZAVI, Mortaza", "family name rezavi is not in the name"),
    ("PETROVIC, Zoran", "PETRIC, Zoran", "family name petric is not in the name"),
    ("IRAN ELECTRONIC DEVELOPMENT COMPANY", "IRAN MOBIN ELECTRONIC DEVELOPMENT COMPANY", "distinctive word mobin"),
    ("FLORES DRUG TRAFFICKING ORGANIZATION", "MEZA FLORES DRUG TRAFFICKING ORGANIZATION", "distinctive word meza"),
    ("STATE ENTERPRISE SEVASTOPOL SEA TRADING PORT", "STATE ENTERPRISE YALTA SEA TRADING PORT",
     "yalta"),
    ("DIAMOND TRANSPORTATION LIMITED", "DIMOND TRANSPORTATION LIMITED", "distinctive word dimond"),
    ("KASHAN", "KAHANE", "distinctive word kahane"),
    ("BAHMAN GROUP", "AMAN GROUP", "distinctive word aman"),
])
def test_namesakes_relatives_and_like_named_bodies_are_near_misses_that_say_why(typed: str, near: str,
                                                                                why: str) -> None:
    """False matches found on OFAC's SDN list (each typed name is itself listed, as another party)."""
    from kg.answers.screen import match, near_misses

    index = _sdn_people_index()
    assert match(index, typed) == [], [(m.score, m.matched_name, m.explanation) for m in match(index, typed)]
    shown = [m for m in near_misses(index, typed) if m.matched_name == near]
    assert shown and why in shown[0].explanation, [(m.matched_name, m.explanation) for m in near_misses(index, typed)]


@pytest.mark.parametrize(("typed", "listed"), [
    ("Yong Chol Kim", "KIM, Yong Chol"),  # people written given names first
    ("JO, Yong-Chol", "JO, Yong Chol"),
    ("KIM, Yo'ng-chol", "KIM, Yong Chol"),
    ("AL-TIKRITI, Barzan Ibrahim Hassan", "AL-TIKRITI, Barzan Ibrahim Hasan"),  # a spelling
    ("Barzan Ibrahim al-Hasan al-Tikriti", "AL-TIKRITI, Barzan Ibrahim Hasan"),  # particles come and go
    ("YERMOSHINA, Lidia Mihaulauna", "YERMOSHINA, Lidya Mihaulauna"),
    ("Mortaza Rezavi", "REZAVI, Mortaza"),
    ("Zoran Petric", "PETRIC, Zoran"),
    ("Iran Mobin Electronic Development Co.", "IRAN MOBIN ELECTRONIC DEVELOPMENT COMPANY"),
    ("DIMMOND TRANSPORTATION LTD", "DIMOND TRANSPORTATION LIMITED"),  # a typo of the coined word is that word
    ("AL-AQSA CHARITABLE ORG.", "AL-AQSA CHARITABLE ORGANIZATION"),
    ("Al-Asa Charitable Organization", "AL-AQSA CHARITABLE ORGANIZATION"),  # "asa" is also a legal form
])
def test_the_listed_person_or_body_written_otherwise_still_matches(typed: str, listed: str) -> None:
    from kg.answers.screen import match

    found = match(_sdn_people_index(), typed)
    assert found and found[0].matched_name == listed, [(m.score, m.matched_name, m.explanation) for m in found]


def test_the_shipped_city_list_holds_large_cities_and_no_coined_firm_names() -> None:
    """kg/answers/city_words.txt.gz (GeoNames, 200,000 people or more): places, never a firm's coined word."""
    from kg.answers import names

    cities = names.city_words()
    assert {"kashan", "harbin", "shiraz", "damascus", "dandong"} <= cities
    # Zhongxing (ZTE's 中兴) is a town of 57,000; the coined names of listed firms are no city
    assert not cities & {"zhongxing", "huawei", "hikvision", "dahua", "hytera", "sugon", "inspur", "megvii"}
    assert not any(names.is_ordinary(c) for c in cities)
