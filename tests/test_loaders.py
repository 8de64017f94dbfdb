"""CSV to RDF: what loads, and the precise error for each kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib.namespace as rdfns  # a module, not XSD itself: pytest probes DefinedNamespaces and warns
from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.compare import isomorphic

from kg.errors import LoadFailed
from kg.loaders import InputFile, load_files
from kg.namespaces import SCHEMA, TKG, entity_iri
from tests.conftest import mini_files

HUAWEI_LIKE = URIRef(entity_iri("company", "parentco"))


def _load_dir(directory: Path) -> object:
    return load_files([InputFile(p, p.name) for p in sorted(directory.glob("*.csv"))])


def _problems(directory: Path) -> list[str]:
    with pytest.raises(LoadFailed) as caught:
        _load_dir(directory)
    return [str(p) for p in caught.value.problems]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_mini_dataset_loads_with_types_labels_and_row_origin() -> None:
    result = load_files(mini_files())
    g = result.graph
    assert (HUAWEI_LIKE, RDF.type, TKG.Company) in g
    assert (HUAWEI_LIKE, RDFS.label, Literal("Parent Telecom Co. Ltd.")) in g
    assert g.value(HUAWEI_LIKE, TKG.sourceFile) == Literal("companies.csv")
    assert g.value(HUAWEI_LIKE, TKG.sourceLine) == Literal(2, datatype=rdfns.XSD.integer)
    aliases = {str(o) for o in g.objects(HUAWEI_LIKE, URIRef("http://www.w3.org/2004/02/skos/core#altLabel"))}
    assert aliases == {"ParentCo", "Parent Telecom"}
    designation = URIRef(entity_iri("designation", "d-parentco"))
    assert g.value(designation, SCHEMA.startDate) == Literal("2020-02-28", datatype=rdfns.XSD.date)
    assert result.rows_per_table["companies"] == 5


def test_every_node_keeps_its_file_and_line() -> None:
    g = load_files(mini_files()).graph
    typed = set(g.subjects(RDF.type, None))
    assert typed
    for node in typed:
        assert g.value(node, TKG.sourceFile) is not None, node
        assert g.value(node, TKG.sourceLine) is not None, node


def test_identifiers_are_stable_across_loads() -> None:
    assert isomorphic(load_files(mini_files()).graph, load_files(mini_files()).graph)
    assert set(load_files(mini_files()).graph.subjects()) == set(load_files(mini_files()).graph.subjects())


def test_bom_is_accepted(mini_dir: Path) -> None:
    path = mini_dir / "companies.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert _load_dir(mini_dir).rows_per_table["companies"] == 5  # type: ignore[attr-defined]


def test_crlf_and_quoted_newlines_keep_line_numbers(mini_dir: Path) -> None:
    path = mini_dir / "companies.csv"
    text = path.read_text(encoding="utf-8").replace(
        "subco,Sub Telecom GmbH,,DE", 'subco,"Sub Telecom\nGmbH",,DE'
    )
    path.write_bytes(text.replace("\n", "\r\n").encode())
    _edit(path, "otherco,Other Corp,,CN", "otherco,Other Corp,,XX")
    problems = _problems(mini_dir)
    # otherco is on physical line 7 now: the quoted newline in subco's name adds one.
    assert problems == [
        "companies.csv:7: column country: 'XX' is not an ISO 3166-1 alpha-2 country code (for example CN, US, DE)"
    ]


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("designations.csv", "2020-02-28,,For all items,presumption", "2020-02-30,,For all items,presumption",
         "designations.csv:2: column start_date: date '2020-02-30' does not exist in the calendar"),
        ("designations.csv", "2020-02-28,,For all items,presumption", "28/02/2020,,For all items,presumption",
         "designations.csv:2: column start_date: date '28/02/2020' must be written YYYY-MM-DD "
         "(for example 2019-05-16)"),
        ("companies.csv", "subco,Sub Telecom GmbH,,DE", "subco,Sub Telecom GmbH,,Germany",
         "companies.csv:3: column country: 'Germany' is not an ISO 3166-1 alpha-2 country code "
         "(for example CN, US, DE)"),
        ("designations.csv", "d-otherco,otherco,", "d-otherco,othercorp,",
         "designations.csv:3: column party: 'othercorp' is not the id of any companies row in this load or the store"
         " (did you mean 'otherco'?)"),
        ("companies.csv", "otherco,Other Corp", "subco,Other Corp",
         "companies.csv:6: column id: duplicate identifier 'subco': already used at companies.csv:3"),
        ("designations.csv", "d-parentco,parentco,list-a,r-list", "d-parentco,,list-a,r-list",
         "designations.csv:2: column party: party is required and empty"),
        ("designations.csv", "presumption-of-denial", "denial",
         "designations.csv:2: column license_policy: 'denial' is not a known license-policy; use one of: "
         "case-by-case, not-applicable, presumption-of-approval, presumption-of-denial, see-entry"),
        ("companies.csv", "otherco,Other Corp", "Other Co,Other Corp",
         "companies.csv:6: column id: identifier 'Other Co' must be lowercase letters, digits and '-' "
         "(for example 'huawei-bolivia')"),
        ("sources.csv", "https://example.org/fixture", "example.org/fixture",
         "sources.csv:2: column url: 'example.org/fixture' is not an absolute http(s) URL"),
        ("appropriations.csv", "1000000", "1,000,000",
         "appropriations.csv:2: row has 11 cells but the header has 9; quote cells that contain commas"),
    ],
)
def test_bad_cell_names_file_line_column(mini_dir: Path, file: str, old: str, new: str, expected: str) -> None:
    _edit(mini_dir / file, old, new)
    assert expected in _problems(mini_dir)


def test_unknown_and_missing_columns(mini_dir: Path) -> None:
    _edit(mini_dir / "companies.csv", "id,name,aliases,country", "id,nmae,aliases,country")
    problems = _problems(mini_dir)
    assert any(p.startswith("companies.csv:1: column nmae: unknown column for table companies (did you mean 'name'?)")
               for p in problems)
    assert "companies.csv:1: column name: required column is missing from the header of a companies file" in problems


def test_all_problems_are_reported_together(mini_dir: Path) -> None:
    _edit(mini_dir / "companies.csv", "subco,Sub Telecom GmbH,,DE", "subco,Sub Telecom GmbH,,ZZ")
    _edit(mini_dir / "designations.csv", "2020-02-28,2020-12-31", "2020-02-28,2020-13-31")
    _edit(mini_dir / "rules.csv", "r-list,Addition", "r-list,Addition")  # untouched file still read
    problems = _problems(mini_dir)
    assert len(problems) == 2
    assert problems[0].startswith("companies.csv:3: column country")
    assert problems[1].startswith("designations.csv:3: column end_date")


def test_semicolon_delimiter_is_named(mini_dir: Path) -> None:
    path = mini_dir / "persons.csv"
    path.write_text("id;name;aliases;wikidata;source;confidence;note\nalice;Alice;;;fixture;confirmed;\n")
    assert "persons.csv:1: columns are separated by semicolons; tradekg reads comma-separated files" in _problems(
        mini_dir
    )


def test_latin1_encoding_is_named_with_its_line(mini_dir: Path) -> None:
    path = mini_dir / "persons.csv"
    path.write_bytes("id,name,aliases,wikidata,source,confidence,note\nalice,Alice Müller,,,fixture,confirmed,\n"
                     .encode("latin-1"))
    problems = _problems(mini_dir)
    assert problems == [
        "persons.csv:2: not valid UTF-8 (byte 0xfc); save the file as UTF-8 (it looks like Latin-1 or Windows-1252)"
    ]


def test_utf16_and_empty_and_header_only(tmp_path: Path) -> None:
    utf16 = tmp_path / "persons.csv"
    utf16.write_text("id,name\n", encoding="utf-16")
    empty = tmp_path / "companies.csv"
    empty.write_text("")
    header_only = tmp_path / "sources.csv"
    header_only.write_text("id,title,url,publisher,kind,date,note\n")
    with pytest.raises(LoadFailed) as caught:
        load_files([InputFile(p, p.name) for p in (utf16, empty, header_only)])
    assert [str(p) for p in caught.value.problems] == [
        "companies.csv:1: file is empty; a CSV file needs a header row",
        "persons.csv:1: file is UTF-16; save it as UTF-8",
    ]


def test_duplicated_header_and_unbalanced_quote(tmp_path: Path) -> None:
    dup = tmp_path / "persons.csv"
    dup.write_text("id,name,name\nalice,A,B\n")
    quote = tmp_path / "sources.csv"
    quote.write_text('id,title,url,publisher,kind,date,note\nx,"Unclosed,,,dataset,,\n')
    with pytest.raises(LoadFailed) as caught:
        load_files([InputFile(p, p.name) for p in (dup, quote)])
    messages = [str(p) for p in caught.value.problems]
    assert "persons.csv:1: column name: column appears twice in the header" in messages
    assert any(m.startswith("sources.csv:2: not valid CSV") for m in messages)


def test_unknown_table_name_is_explained(tmp_path: Path) -> None:
    odd = tmp_path / "stuff.csv"
    odd.write_text("a,b\n1,2\n")
    with pytest.raises(LoadFailed) as caught:
        load_files([InputFile(odd, "stuff.csv")])
    assert "cannot tell which table this file holds" in str(caught.value.problems[0])


def test_hostile_strings_are_stored_verbatim(mini_dir: Path) -> None:
    hostile = '<img src=x onerror=alert(1)> "} ; DROP ALL ; { > <http://evil>'
    _edit(mini_dir / "companies.csv", "otherco,Other Corp,", f'otherco,"{hostile.replace(chr(34), chr(34) * 2)}",')
    g = _load_dir(mini_dir).graph  # type: ignore[attr-defined]
    assert g.value(URIRef(entity_iri("company", "otherco")), RDFS.label) == Literal(hostile)
