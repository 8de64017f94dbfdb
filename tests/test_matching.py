"""kg.sources.matching: which rule a citation names, which party and entry an imported record is about."""

from __future__ import annotations

from kg.sources.matching import (
    BY_CITATION,
    BY_DOCUMENT_NUMBER,
    BY_IDENTIFIER,
    BY_INFERRED_PAGE,
    BY_NAME,
    BY_NAME_AND_COUNTRY,
    BY_PAGE_RANGE,
    BY_PARTY_AND_LIST,
    MAX_INFERRED_PAGES,
    DesignationFacts,
    DesignationIndex,
    FrCitation,
    PartyIndex,
    RuleFacts,
    RuleIndex,
    fr_document_numbers,
    parse_fr_citation,
)


def rules() -> RuleIndex:
    index = RuleIndex()
    index.add(RuleFacts("r:2019", "84 FR 22961", None, 22961, 22977))
    index.add(RuleFacts("r:tgl", "84 FR 23468", None, None, None))  # no pages known
    index.add(RuleFacts("r:2022", None, "2022-19415", None, None))  # no citation known
    index.add(RuleFacts("r:corr", "87 FR 21011", "2022-07643", 21011, 21015))
    return index


def test_a_page_inside_a_known_range_of_the_same_volume_is_that_document() -> None:
    index = rules()
    found = index.match("84 FR 22963")
    assert found is not None and (found.iri, found.method) == ("r:2019", BY_PAGE_RANGE)
    assert found.explanation == "84 FR 22963 is page 22963 of 84 FR 22961 (pages 22961-22977)"
    assert index.match("84 FR 22977").iri == "r:2019"  # the last page is inside
    assert index.match("84 FR 22978") is None  # one past it is not
    assert index.match("85 FR 22963") is None  # the same page of another volume is not
    # A rule whose last page is not known: a page a few after its first is inferred to be it, and says so.
    found = index.match("84 FR 23470")
    assert found is not None and (found.iri, found.method) == ("r:tgl", BY_INFERRED_PAGE)
    assert "range inferred, not printed" in found.explanation
    assert index.match(f"84 FR {23468 + MAX_INFERRED_PAGES + 1}") is None  # too far to infer


def test_a_page_two_documents_share_and_the_pages_after_it() -> None:
    """84 FR 43487-43493 (the TGL extension, 2019-17920) ends on the page where 2019-17921 begins."""
    index = RuleIndex()
    index.add(RuleFacts("r:tgl-ext", "84 FR 43487", "2019-17920", 43487, 43493))
    index.add(RuleFacts("r:aug", "84 FR 43493", "2019-17921"))  # last page not printed
    assert (index.match("84 FR 43493").iri, index.match("84 FR 43493").method) == ("r:aug", BY_CITATION)
    assert (index.match("84 FR 43490").iri, index.match("84 FR 43490").method) == ("r:tgl-ext", BY_PAGE_RANGE)
    after = index.match("84 FR 43495")
    assert after is not None and (after.iri, after.method) == ("r:aug", BY_INFERRED_PAGE)
    # A placeholder minted for an unresolved citation is found by that citation only: never a range.
    index.add(RuleFacts("r:placeholder", "84 FR 43500", None, placeholder=True))
    assert index.match("84 FR 43500").iri == "r:placeholder"
    assert index.match("84 FR 43501").iri == "r:aug"


def test_citations_and_document_numbers_match_exactly() -> None:
    index = rules()
    assert (index.match("84 F.R. 22961").iri, index.match("84 F.R. 22961").method) == ("r:2019", BY_CITATION)
    assert (index.match("2022-19415").iri, index.match("2022-19415").method) == ("r:2022", BY_DOCUMENT_NUMBER)
    assert index.match("2022-07643").iri == "r:corr"
    assert index.match("2022-99999") is None


def test_a_page_inside_two_known_ranges_names_no_rule() -> None:
    index = rules()
    index.add(RuleFacts("r:other", "84 FR 22970", None, 22970, 22980))  # overlapping data: do not guess
    assert index.match("84 FR 22975") is None
    assert index.match("84 FR 22963").iri == "r:2019"


def test_citation_and_document_number_parsing() -> None:
    assert parse_fr_citation(" 84 FR 22963 ") == FrCitation(84, 22963)
    assert parse_fr_citation("84 FR 22963, 85 FR 1") is None
    assert parse_fr_citation("0 FR 0") is None
    assert fr_document_numbers("84 FR 22961, FR Doc. 2022-19415; E9-17295 filed 2019-05-21") == [
        "2022-19415", "E9-17295"]


def test_parties_match_by_identifier_then_by_name_with_no_conflicting_country() -> None:
    parties = PartyIndex()
    parties.add("p:huawei", ["Huawei Technologies Co., Ltd.", "Huawei"], "CN")
    parties.add("p:acme-de", ["ACME GmbH"], "DE")
    parties.add("p:acme-fr", ["ACME GmbH"], "FR")
    parties.add("p:nocountry", ["Solo Ltd"], None, {"ofac": "123"})
    found = parties.match(["HUAWEI TECHNOLOGIES CO.,  LTD."], ["CN"])
    assert (found.iri, found.method) == ("p:huawei", BY_NAME_AND_COUNTRY)
    assert "'huawei technologies co., ltd.'" in found.explanation and "CN" in found.explanation
    assert parties.match(["Huawei Technologies Co., Ltd."], ["US"]) is None  # conflicting country
    assert parties.match(["ACME GmbH"], []) is None  # two parties fit: no guess
    assert parties.match(["ACME GmbH"], ["FR"]).iri == "p:acme-fr"
    assert parties.match(["Solo Ltd"], ["GB"]).method == BY_NAME
    by_id = parties.match(["Another name"], [], {"ofac": "123"})
    assert (by_id.iri, by_id.method) == ("p:nocountry", BY_IDENTIFIER)


def test_entries_match_by_the_lists_own_id_then_by_party_and_list_preferring_the_entry_in_force() -> None:
    entries = DesignationIndex()
    entries.add(DesignationFacts("d:old", "p:x", "l:el", "2010-01-01", "2015-01-01"))
    entries.add(DesignationFacts("d:now", "p:x", "l:el", "2019-05-16", None))
    entries.add(DesignationFacts("d:sdn", "p:y", "l:sdn", "2020-01-01", None, (("list entry id", "36"),)))
    found = entries.match("p:x", "l:el")
    assert (found.iri, found.method) == ("d:now", BY_PARTY_AND_LIST)
    assert entries.match("p:x", "l:sdn") is None  # the party is not on that list
    found = entries.match("p:z", "l:sdn", {"list entry id": "36"})
    assert (found.iri, found.method) == ("d:sdn", BY_IDENTIFIER)


def test_one_party_index_serves_the_ofac_importer_curated_first_then_csl_made_of_the_same_kind() -> None:
    """OFAC's use: names folded with accents and punctuation, curated parties before CSL-made ones, kind kept."""
    from kg.namespaces import DATA
    from kg.sources.matching import name_key, whose

    curated, csl_made = f"{DATA}company/zte", f"{DATA}company/csl-abc"
    person = f"{DATA}person/li-wei"
    parties = PartyIndex(key=name_key)
    parties.add(curated, ["ZTE Corporation"], whose=whose(curated))
    parties.add(csl_made, ["Rosneft Trade Limited"], whose=whose(csl_made))
    parties.add(person, ["Li Wei"], whose=whose(person))
    parties.add(f"{DATA}company/twin-a", ["Twin Ltd"])
    parties.add(f"{DATA}company/twin-b", ["Twin Ltd"])
    assert (whose(curated), whose(csl_made)) == ("curated", "CSL-imported")
    ofac = {"order": ("curated", "CSL-imported"), "stop_when_ambiguous": True}
    found = parties.match(["ZTE CORPORATION."], kind="company", **ofac)
    assert (found.iri, found.whose) == (curated, "curated")
    assert parties.match(["ROSNEFT TRADE LIMITED"], kind="company", **ofac).whose == "CSL-imported"
    assert parties.match(["LI WEI"], kind="company", **ofac) is None  # a person is not a company
    # Two parties share the first name: no match at all, even when an alias would fit one.
    assert parties.match(["Twin Ltd", "ZTE Corporation"], kind="company", **ofac) is None
    # The CSL importer's use goes on to the next name instead.
    assert parties.match(["Twin Ltd", "ZTE Corporation"]).iri == curated
