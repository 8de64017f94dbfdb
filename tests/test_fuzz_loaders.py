"""Property-based tests of the CSV loaders (issue 6, "Nothing lost, nobody in").

Every input either loads exactly (what was in the cell is what the graph, and a
SPARQL query on the store, gives back: surrounding whitespace stripped, multi-valued
columns split on ';') or is refused with a ``LoadFailed`` whose every problem names
the file and the line (and the column, when a cell is at fault). No input raises
anything else, and a refused ``kg.pipeline.build.load`` leaves the store exactly as it was.

Hypothesis runs derandomized (the same examples on every run, no example database)
so CI sees a deterministic suite; ``--hypothesis-show-statistics`` gives the counts.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from rdflib import RDFS, Literal, URIRef
from rdflib.namespace import SKOS

from kg.errors import LoadFailed
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from kg.loaders import InputFile, cells, load_files
from kg.namespaces import SCHEMA, TKG, entity_iri
from kg.pipeline.build import ValidationFailed, build, load
from tests.conftest import MINI, mini_files

FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


def fuzz(examples: int) -> settings:
    """Deterministic settings (no deadline, derandomized, no database) with ``examples`` examples."""
    return settings(FUZZ, max_examples=examples)

SOURCES = MINI / "sources.csv"  # the `fixture` source every generated row cites
XSD_ANYURI = URIRef("http://www.w3.org/2001/XMLSchema#anyURI")

# Characters that break naive CSV handling, mixed into arbitrary Unicode (no surrogates: not text).
TRICKY = [*'",;\r\n \t\'\\', "\r\n", "\u00a0", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\ufeff",
                                   "\u200b", "\u3000", "é", "\u0301", "中", "\U0001f600", "<", ">", "{", "}", "=", "@"]
chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
text = st.lists(st.one_of(chars, st.sampled_from(TRICKY)), max_size=30).map("".join)
long_text = st.integers(1_000, 150_000).flatmap(lambda n: st.sampled_from(["a", "é,\"", "x\r\n", "中;"]).map(
    lambda unit: (unit * (n // len(unit) + 1))[:n]))
any_text = st.one_of(text, text, text, long_text)
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])
BREAK = re.compile(r"\r\n|\r|\n")  # where a line ends, for the csv module and for us


def _strip(value: str) -> str:
    return value.strip()


def _multi(value: str) -> list[str]:
    """The documented normalisation of a multi-valued cell: split on ';', trim, drop empties and repeats."""
    return list(dict.fromkeys(v.strip() for v in value.strip().split(";") if v.strip()))


def _quote(cell: str) -> str:
    """RFC 4180 quoting, written here: Python 3.11's csv.writer leaves a lone '\r' (or '\n' with
    lineterminator='\r') unquoted, which corrupts the file."""
    return '"' + cell.replace('"', '""') + '"' if re.search(r'[",\r\n]', cell) else cell


def _encode(records: list[list[str]], endings: list[str], bom: bool, final: bool) -> tuple[bytes, list[int]]:
    """CSV bytes for ``records`` (one line ending each) and the physical line each record starts on."""
    out = io.StringIO()
    starts = []
    for i, record in enumerate(records):
        starts.append(len(BREAK.findall(out.getvalue())) + 1)
        line = ",".join(_quote(cell) for cell in record) + endings[i % len(endings)]
        if i == len(records) - 1 and not final:
            line = line[: -len(endings[i % len(endings)])]
        out.write(line)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"), starts


def _load(path: Path, display: str = "companies.csv") -> object:
    return load_files([InputFile(SOURCES, "sources.csv"), InputFile(path, display)])


def _tmpfile(name: str, data: bytes) -> Path:
    directory = Path(tempfile.mkdtemp(prefix="tkg-fuzz-"))
    path = directory / name
    path.write_bytes(data)
    return path


def _check_problems(exc: LoadFailed, display: str, max_line: int) -> None:
    assert exc.problems, "LoadFailed without problems"
    for p in exc.problems:
        assert p.file in (display, "sources.csv"), p
        assert p.line is not None and 1 <= p.line <= max_line, (p, max_line)
        assert p.message


# --------------------------------------------------------------------------
# One cell: every converter returns the cell's own value or a CellError, nothing else.
# --------------------------------------------------------------------------

CONVERTERS = {
    "date": cells.to_date, "url": cells.to_url, "integer": cells.to_integer, "decimal": cells.to_decimal,
    "boolean": cells.to_boolean, "country": cells.to_country, "wikidata": cells.to_wikidata,
    "id": cells.check_id, "string": cells.to_string,
}
cell_values = st.one_of(
    text, st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"), st.from_regex(r"\A[+-]?[0-9]*\.?[0-9]*\Z"),
    st.from_regex(r"\A(https?|ftp)://[^\s]{0,20}\Z"), st.from_regex(r"\AQ[0-9]{1,6}\Z"),
    st.text(st.characters(categories=("Nd",)), min_size=1, max_size=10),  # digits of every script
    st.sampled_from(["ﬆ", "ǅa", "cn", "US", "ST", "http://[x", "http://[::1]/a", "https://a.b/ c", "٢٠١٩-٠٥-١٦",
                     "2019-02-29", "2020-02-29", "1e3", "0x10", "true", "YES", "０", "Q0", "Q12\n"]),
)


@fuzz(600)
@given(kind=st.sampled_from(sorted(CONVERTERS)), value=cell_values)
# Bugs this property found (fixed in kg/loaders/cells.py), kept as explicit examples:
@example(kind="url", value="http://[x")  # urlsplit raised a bare ValueError: an unhandled exception in a load
@example(kind="country", value="ﬆ")  # the ligature upper-cases to "ST" and loaded as Sao Tome
@example(kind="integer", value="٣")  # Arabic-Indic digits matched \d and loaded as 3
@example(kind="decimal", value="٣.٥")
@example(kind="date", value="٢٠١٩-٠٥-١٦")  # matched \d, then "does not exist in the calendar"
def test_cell_converter_keeps_the_value_or_says_why(kind: str, value: str) -> None:
    try:
        term = CONVERTERS[kind](value)
    except cells.CellError as exc:
        assert str(exc)
        return
    if kind == "id":
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", term)
        return
    lexical = str(term)
    assert all(c.isascii() for c in lexical) or kind in ("string", "url"), (kind, value, lexical)
    if kind in ("string", "url", "date", "wikidata"):
        assert lexical == value
    elif kind == "country":
        assert re.fullmatch(r"[A-Za-z]{2}", value) and lexical == value.upper()
    elif kind == "integer":
        assert re.fullmatch(r"[+-]?[0-9]+", value) and int(lexical) == int(value)
    elif kind == "decimal":
        assert re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", value)
    elif kind == "boolean":
        assert value.lower() in {"true", "yes", "1", "false", "no", "0"}


# --------------------------------------------------------------------------
# Whole files, in memory: rows of arbitrary text round-trip or are refused at their line and column.
# --------------------------------------------------------------------------

ID_OK = re.compile(r"[a-z0-9][a-z0-9-]*")
# Mostly fresh valid ids (so most rows get as far as their cells), sometimes repeated, padded or invalid ones.
ids = st.one_of(st.none(), st.none(), st.none(), st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,12}\Z"),
                st.sampled_from(["dup-1", "dup-1", " x-1 ", "X", ""]), text)
aliases = st.lists(text.filter(lambda s: ";" not in s), max_size=4).map(lambda v: ";".join(v))
countries = st.one_of(st.just(""), st.just(""), st.sampled_from(["CN", "de", " US ", "bo"]),
                      st.sampled_from(["XX", "ﬆ", "Germany"]), text)
homepages = st.one_of(st.just(""), st.just(""), st.sampled_from(["https://example.org/a", " http://例え.jp/?q=\"x\" "]),
                      st.sampled_from(["http://[x", "example.org"]), text)
names = st.one_of(any_text, text.filter(str.strip), text.filter(str.strip))
company_rows = st.fixed_dictionaries({
    "id": ids, "name": names, "aliases": aliases, "country": countries, "homepage": homepages,
    "note": any_text,
})


@st.composite
def company_files(draw: st.DrawFn) -> tuple[list[str], list[dict[str, str]], list[str], bool, bool]:
    optional = draw(st.lists(st.sampled_from(["aliases", "country", "homepage", "note"]), unique=True))
    header = draw(st.permutations(["id", "name", "source", "confidence", *optional]))
    rows = draw(st.lists(company_rows, min_size=0, max_size=4))
    endings = draw(st.lists(ENDINGS, min_size=1, max_size=3))
    return header, rows, endings, draw(st.booleans()), draw(st.booleans())


@fuzz(200)
@given(spec=company_files())
def test_company_rows_round_trip_or_are_refused_at_their_cell(spec: tuple) -> None:
    header, rows, endings, bom, final = spec
    rows = [{**r, "id": f"row-{i}" if r["id"] is None else r["id"]} for i, r in enumerate(rows)]
    records = [header] + [[{**r, "source": "fixture", "confidence": "confirmed"}[c] for c in header] for r in rows]
    data, starts = _encode(records, endings, bom, final)
    path = _tmpfile("companies.csv", data)
    # What the loader must do, worked out independently of it.
    expected_problems: set[tuple[int, str]] = set()
    expected_rows = []
    seen: set[str] = set()
    for row, line in zip(rows, starts[1:], strict=True):
        identifier = row["id"].strip()
        if not ID_OK.fullmatch(identifier):
            expected_problems.add((line, "id"))
            continue
        if identifier in seen:
            expected_problems.add((line, "id"))
            continue
        seen.add(identifier)
        if not row["name"].strip():
            expected_problems.add((line, "name"))
        expected_rows.append((identifier, line, row))
    try:
        result = _load(path)
    except LoadFailed as exc:
        event("refused")
        _check_problems(exc, "companies.csv", len(BREAK.findall(data.decode("utf-8-sig"))) + 1)
        got = {(p.line, p.column) for p in exc.problems}
        assert all(p.column for p in exc.problems), exc.details()
        assert expected_problems <= got, exc.details()
        # Beyond what we predicted, only country and homepage cells may be refused, on their own row.
        for line, column in got - expected_problems:
            assert column in ("country", "homepage"), exc.details()
            row = next(r for i, ln, r in expected_rows if ln == line)
            assert row[column].strip() and column in header
        return
    finally:
        shutil.rmtree(path.parent)
    assert not expected_problems
    event(f"loaded {min(len(rows), 3)}+ rows")
    g = result.graph  # type: ignore[attr-defined]
    assert result.rows_per_table.get("companies", 0) == len(rows)  # type: ignore[attr-defined]
    for identifier, line, row in expected_rows:
        node = URIRef(entity_iri("company", identifier))
        assert g.value(node, TKG.sourceLine) == Literal(line), (identifier, line)
        assert set(g.objects(node, SCHEMA.legalName)) == {Literal(row["name"].strip())}
        assert set(g.objects(node, RDFS.label)) == {Literal(row["name"].strip())}
        want_aliases = set(_multi(row["aliases"])) if "aliases" in header else set()
        assert {str(o) for o in g.objects(node, SKOS.altLabel)} == want_aliases
        want_note = {row["note"].strip()} - {""} if "note" in header else set()
        assert {str(o) for o in g.objects(node, SKOS.note)} == want_note
        country = row["country"].strip() if "country" in header else ""
        assert {str(o) for o in g.objects(node, SCHEMA.addressCountry)} == ({country.upper()} if country else set())
        homepage = row["homepage"].strip() if "homepage" in header else ""
        assert set(g.objects(node, SCHEMA.url)) == ({Literal(homepage, datatype=XSD_ANYURI)} if homepage else set())


# --------------------------------------------------------------------------
# Headers: duplicated, unknown, empty, missing required columns.
# --------------------------------------------------------------------------

header_names = st.one_of(
    st.sampled_from(["id", "name", "aliases", "country", "source", "confidence", "note", " id ", "Name", ""]), text)


@fuzz(200)
@given(header=st.lists(header_names, min_size=1, max_size=8), endings=st.lists(ENDINGS, min_size=1, max_size=2),
       with_row=st.booleans())
def test_headers_load_or_are_refused_on_line_1(header: list[str], endings: list[str], with_row: bool) -> None:
    records = [header]
    if with_row:
        values = {"id": "hdr-co", "name": "Header Co", "source": "fixture", "confidence": "confirmed"}
        records.append([values.get(h.strip(), "") for h in header])
    data, _ = _encode(records, endings, False, True)
    path = _tmpfile("companies.csv", data)
    names = [h.strip() for h in next(csv.reader(io.StringIO(data.decode(), newline="")))] if data.strip() else []
    try:
        result = _load(path)
    except LoadFailed as exc:
        _check_problems(exc, "companies.csv", len(BREAK.findall(data.decode())) + 1)
        if len(names) != len(set(names)):
            dups = {n for n in names if names.count(n) > 1 and n}
            assert dups <= {p.column for p in exc.problems if p.line == 1}, exc.details()
        return
    finally:
        shutil.rmtree(path.parent)
    # Loaded: the header was a set of known column names with every required one.
    assert len(names) == len(set(names)) and {"id", "name", "source", "confidence"} <= set(names)
    assert set(names) <= {"id", "name", "aliases", "country", "source", "confidence", "note", "wikidata", "parent",
                          "affiliate_of", "homepage"}
    assert result.rows_per_table["companies"] == (1 if with_row else 0)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------
# Anything at all in the file: LoadFailed with file and line, or a graph; never another exception.
# --------------------------------------------------------------------------

fragments = st.one_of(
    text, st.sampled_from(["id,name,source,confidence", "id,name,name", "a-1,Name,fixture,confirmed", '"', '""',
                           '"a,b"', '"x\ny"', ",", ";", "\t", "|", "\r", "\n", "\r\n", "\x00", "\ufeff"]))
raw_bytes = st.one_of(
    st.lists(fragments, max_size=12).map(lambda parts: "".join(parts).encode("utf-8")),
    st.binary(max_size=200),
    st.lists(fragments, max_size=8).map(lambda parts: "".join(parts).encode("utf-16")),
    st.lists(fragments, max_size=8).map(lambda parts: b"\xef\xbb\xbf" + "".join(parts).encode("utf-8")),
    st.sampled_from([b"", b"\n", b"\r\n\r\n", b"   ", b"\xef\xbb\xbf", b"id,name,source,confidence\n",
                     b"id,name,source,confidence", b"id;name;source;confidence\n"]),
)


@fuzz(300)
@given(data=raw_bytes, table=st.sampled_from(["companies.csv", "persons.csv", "sources.csv", "stuff.csv"]))
def test_any_bytes_load_or_fail_with_file_and_line(data: bytes, table: str) -> None:
    path = _tmpfile(table, data)
    try:
        load_files([InputFile(path, table)])
        event("loaded")
    except LoadFailed as exc:
        event("refused")
        lines = len(re.findall(rb"\r\n|\r|\n", data)) + 1
        for p in exc.problems:
            assert p.file == table
            if "cannot tell which table" in p.message or "cannot read" in p.message:
                continue
            if "is not the id of any" in p.message:  # a reference to a table not in this load
                assert p.column
            assert p.line is not None and 1 <= p.line <= lines, (p, lines)
    finally:
        shutil.rmtree(path.parent)


# --------------------------------------------------------------------------
# Through the store: a load either reads back exactly or leaves the store as it was.
# --------------------------------------------------------------------------

class Template(tuple):
    """(store, its quads), with a short repr: hypothesis prints the arguments of a failing example."""

    def __repr__(self) -> str:
        return f"<mini store with {len(self[1])} quads>"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[VersionedStore, frozenset[ox.Quad]]:
    store = VersionedStore(tmp_path_factory.mktemp("fuzz-loaders") / "store")
    build(store, mini_files())
    return Template((store, frozenset(store.open_read().quads_for_pattern(None, None, None, None))))


store_rows = st.fixed_dictionaries({
    "name": names, "aliases": aliases, "country": countries,
    "parent": st.sampled_from(["", "", "", "parentco", "nobody"]),
})


@fuzz(40)
@given(rows=st.lists(store_rows, min_size=0, max_size=3), endings=st.lists(ENDINGS, min_size=1, max_size=3),
       bom=st.booleans(), extra=st.one_of(st.just(b""), st.just(b""), st.just(b""),
                                          st.sampled_from([b'"', b"a,b\n", b"\x00", b"\xff"])))
def test_load_into_a_store_reads_back_or_leaves_it_unchanged(
        template: tuple[VersionedStore, frozenset[ox.Quad]], rows: list[dict[str, str]], endings: list[str],
        bom: bool, extra: bytes) -> None:
    origin, before = template
    work = Path(tempfile.mkdtemp(prefix="tkg-fuzz-store-"))
    try:
        shutil.copytree(origin.path, work / "store", symlinks=True)
        store = VersionedStore(work / "store")
        version = store.current_version()
        header = ["id", "name", "aliases", "country", "parent", "source", "confidence"]
        records = [header] + [[f"fz-{i}", r["name"], r["aliases"], r["country"], r["parent"], "fixture", "confirmed"]
                              for i, r in enumerate(rows)]
        data, _ = _encode(records, endings, bom, True)
        path = work / "companies.csv"
        path.write_bytes(data + extra)
        try:
            load(store, [InputFile(path, "companies.csv")])
        except (LoadFailed, ValidationFailed) as exc:
            event(f"refused ({type(exc).__name__}); store unchanged")
            if isinstance(exc, LoadFailed):
                _check_problems(exc, "companies.csv", len(re.findall(rb"\r\n|\r|\n", data + extra)) + 1)
            assert store.current_version() == version
            assert frozenset(store.open_read().quads_for_pattern(None, None, None, None)) == before
            return
        assert not extra, "a broken file loaded"
        event(f"loaded {len(rows)} rows; read back")
        backend = EmbeddedBackend(store.open_read())
        for i, row in enumerate(rows):
            node = entity_iri("company", f"fz-{i}")
            got = backend.select(
                "SELECT ?name ?alias WHERE { ?c <https://schema.org/legalName> ?name "
                "OPTIONAL { ?c <http://www.w3.org/2004/02/skos/core#altLabel> ?alias } }",
                {"c": URIRef(node)}).rows
            assert {str(r["name"]) for r in got} == {row["name"].strip()}
            assert {str(r["alias"]) for r in got if r.get("alias") is not None} == set(_multi(row["aliases"]))
    finally:
        shutil.rmtree(work)


@fuzz(200)
@given(lines=st.lists(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r\n"), max_size=8),
                      min_size=1, max_size=8),
       endings=st.lists(ENDINGS, min_size=1, max_size=3), at=st.integers(0, 7),
       bad=st.sampled_from([b"\x00", b"\xff", b"\xc3("]))
def test_a_nul_or_bad_byte_is_named_on_its_own_line(lines: list[str], endings: list[str], at: int, bad: bytes) -> None:
    """The line of a NUL or non-UTF-8 byte is counted as the rows are: a lone \\r ends a line too."""
    at = at % len(lines)
    chunks = [("id,name" if i == 0 else line).encode() + (bad if i == at else b"") + endings[i % len(endings)].encode()
              for i, line in enumerate(lines)]
    path = _tmpfile("persons.csv", b"".join(chunks))
    try:
        with pytest.raises(LoadFailed) as caught:
            load_files([InputFile(path, "persons.csv")])
    finally:
        shutil.rmtree(path.parent)
    assert [(p.line, p.column) for p in caught.value.problems] == [(at + 1, None)], caught.value.details()
