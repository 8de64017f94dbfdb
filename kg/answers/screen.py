"""Name screening: is this name (or one like it) restricted, and by what?

An analyst types a counterparty's name as it appears on an invoice ("HUAWEI
TECH. CO."), not as the Entity List prints it ("Huawei Technologies Co.,
Ltd."). Both sides are normalised the same way (case, accents, punctuation,
"&", dotted abbreviations such as S.R.L., and legal-form words such as Co.,
Ltd., Inc., GmbH dropped), query words that abbreviate a candidate's word
("tech" for "technologies") are expanded, and the two strings are scored with
rapidfuzz in two ways that are then averaged:

* ``token_sort_ratio``: edit similarity of the word-sorted strings (order of
  words does not matter, every character does);
* a rarity-weighted word match: each word counts by how rare it is among all
  names in the graph (inverse document frequency), so sharing "technologies"
  or "international" with a firm weighs little and sharing "huawei" weighs a
  lot; query and candidate coverage are combined as an F1 score.

An unrelated firm that shares only a common word therefore scores low, and
an abbreviated or reordered true name scores high. ``--country`` adds a small
bonus when the party is tied to that country and a penalty when it is tied
only to others. Every answer says how its score was made.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA
from rdflib import URIRef

from kg.answers import names, people
from kg.graph.backend import Backend, ResultTable
from kg.resources import lookup_query

LEGAL_FORMS = frozenset([
    "co", "company", "companies", "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp",
    "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "nv", "bv", "kk", "pte", "pvt", "private", "pty",
    "oy", "ab", "as", "asa", "jsc", "pjsc", "ojsc", "cjsc", "oao", "ooo", "zao", "ltda", "sl", "sp", "zoo", "sro",
    "doo", "ad", "ead", "eood", "ood", "ca", "cv", "rl", "sal", "sac", "saa", "sae", "saic", "sapi",
    # Chinese legal forms in pinyin ("Youxian Gongsi": limited company; "Gufen": joint-stock).
    "youxian", "gongsi", "youxiangongsi", "gufen", "gufenyouxiangongsi", "zeren", "youxianzerengongsi",
    "fze", "fzco", "fzc", "fzllc", "bhd", "tbk",
])
COUNTRY_BONUS = 5.0
COUNTRY_PENALTY = 10.0
# Chosen on the OFAC benchmark (benchmarks/README.md): false matches under 2%, recall@1 kept.
DEFAULT_THRESHOLD = 82.0
BLOCK_SIZE = 40  # candidates the exact scorer sees per query, after blocking
WORD_MATCH = 80.0  # rapidfuzz ratio at or above which two words count as the same word (typos)
# The distinctive-name scores (see _core_score): the same distinctive name with other place or business
# words; the same with a letter off; one name holding the other's distinctive name and more.
CORE_SAME = 92.0
CORE_TYPO = 88.0
CORE_CONTAINED = 76.0  # with the whole-name share (at most 5) below the default threshold: a near miss
CORE_ALL_WORDS = 84.0  # every word of the listed name, with only place or business words added
CORE_STEP = 3.0  # off for each side naming a place the other does not
COMMON_CORES = 6  # a word in the distinctive part of more different names than this is a common word
CORE_TIE = 5.0  # up to this much of the whole-name score orders equal distinctive names
DISJOINT_PENALTY = 10.0  # both names have distinctive words and none is the other's ("Yili" vs "Huawei")
DISJOINT_FLOOR = 60.0  # below this the penalty changes nothing that matters
SHORT_CAP = 79.0  # an acronym-like one-word name matches another only as written or swapped
# Another firm of the same distinctive name, not the listed one written otherwise: each name adds words the
# other lacks ("Saman Bank", "Saman Chemical"; "Kunlun Holding", "Kunlun Shipping"; a name written otherwise
# adds or drops words on one side only), or the two name two countries ("... in Tunisia", "... in Libya").
# The distinctive-name score falls below the threshold: a near miss to see rather than a match.
SISTER_FIRM = 16.0
NUMBER_PENALTY = 15.0  # the name carries a number the listed one lacks ("BICENTENARIO VI", "VII"): another one
# A person's name that is the listed person's with one more given name before it ("AL-TIKRITI, Saja Barzan
# Ibrahim Hasan" beside "AL-TIKRITI, Barzan Ibrahim Hasan"), or the other way round: in patronymic naming a
# child's own name comes first and the father's names follow, so this is a relative, to review, not a match.
RELATIVE = 16.0


@functools.lru_cache(maxsize=65536)
def normalise_name(text: str) -> str:
    """Lower-case ASCII words without punctuation or legal-form words.

    Apostrophes and the like are dropped inside a word rather than splitting
    it: romanised names carry them for sounds English lacks ("So'ng",
    "'Abd al-Rahman"), and a typed name often leaves them out. A legal-form
    word with one typo ("Compnay", "Corportion") is dropped like the word itself.
    """
    text = names.latin(text)  # Chinese as pinyin words, other scripts through anyascii
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("&", " and ")
    text = names.APOSTROPHES.sub("", text)
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text)  # s.r.l. -> srl. ; k.k. -> kk.
    text = re.sub(r"[^\w\s]+", " ", text)
    # An ordinal run into a word ("The6th", "14thResearch") is a word of its own.
    text = re.sub(r"(?<=[a-z])(?=\d+(?:st|nd|rd|th)(?![a-z]))", " ", text)
    text = re.sub(r"\b(\d+(?:st|nd|rd|th))(?=[a-z]{3,})", r"\1 ", text)
    words = [names.ABBREVIATIONS.get(w) or names.PINYIN_ENGLISH.get(w, w) for w in text.split()]
    # "S. de R.L.", "S. en C.": the S of a Spanish legal form, not a word of the name.
    words = re.sub(r"\bs (?:de|en) (?=(?:rl|c|cv|rl de cv)\b)", "", " ".join(words)).split()
    words = [w for w in words if w not in LEGAL_FORMS and not _misspelt_legal_form(w)]
    # Numbers as numbers: "14th" is 14, and "No. 14" is 14 ("the 14th Research Institute").
    words = [_ORDINAL.sub(r"\1", w) for i, w in enumerate(words)
             if not (w in ("no", "nr", "number") and i + 1 < len(words) and words[i + 1][:1].isdigit())]
    return " ".join(words)


_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")


# Legal forms a one-letter slip cannot turn into an ordinary word ("corp" could be "core").
_TYPO_LEGAL_FORMS = tuple(sorted({f for f in LEGAL_FORMS if len(f) >= 6} | {"gmbh", "ltda", "pjsc", "ojsc", "cjsc"}))


def _misspelt_legal_form(word: str) -> bool:
    return len(word) >= 4 and any(OSA.distance(word, form, score_cutoff=1) <= 1 for form in _TYPO_LEGAL_FORMS)


_DIGIT = re.compile(r"[0-9]")


@functools.lru_cache(maxsize=1 << 18)
def word_similarity(a: str, b: str) -> float:
    """How alike two words are (0-100): rapidfuzz's ratio, and one typo in words of five letters counts as 80.

    An edit ratio punishes one wrong letter in a short word hard ("musa" and
    "muas" score 75), so a single substitution, insertion, deletion or swap of
    neighbours (optimal string alignment distance 1) counts as WORD_MATCH. A
    name that is one short acronym-like word is held to stricter terms in
    ``score`` (SMIC is not SOMIC).
    """
    if a == b:
        return 100.0
    if _DIGIT.search(a) or _DIGIT.search(b):  # numbers (years, hull and tail numbers) match exactly or not at all
        return 0.0
    ratio = fuzz.ratio(a, b)
    if ratio < WORD_MATCH and min(len(a), len(b)) >= 4 and OSA.distance(a, b, score_cutoff=1) <= 1:
        return WORD_MATCH
    return ratio




_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_ISIN = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")
IDENTIFIER_CONFLICT = 15.0  # taken off when the party holds another identifier of the same kind


def normalise_identifier(text: str) -> str:
    """The identifying characters of a printed identifier: "Tax ID No. 7744001497 (Russia)" -> "7744001497".

    Upper case, without the country in brackets, the words with no digit
    ("IMO", "Tax ID No.") and separators.
    """
    text = re.sub(r"\([^)]*\)", " ", text.upper())
    tokens = [re.sub(r"[^0-9A-Z]", "", t) for t in text.split()]
    return "".join(t for t in tokens if any(c.isdigit() for c in t))


def identifier_scheme(text: str) -> str:
    """uscc, isin, imo or other: identifiers of the same scheme that differ conflict."""
    value = normalise_identifier(text)
    if _USCC.match(value):
        return "uscc"
    if _ISIN.match(value):
        return "isin"
    if "IMO" in text.upper() or (value.isdigit() and len(value) == 7):
        return "imo"
    return "other"


@dataclass
class Candidate:
    party: URIRef
    name: str
    normalised: str
    countries: frozenset[str]
    shape: Shape | None = None


@dataclass(frozen=True)
class Shape:
    """A normalised name cut into what decides and what does not (see kg.answers.names)."""

    core: tuple[str, ...]  # distinctive words: without place, business and legal-form words
    key: str  # the core without spaces: "Tik Tok" and "TikTok" meet
    han: str  # the distinctive Chinese characters, when the name is written in them
    places: frozenset[str]
    person: bool = False  # written "FAMILY, Given" as lists write people: no distinctive-name rules
    business: frozenset[str] = frozenset()  # its business words, a line of business as its family (names)
    numbers: frozenset[str] = frozenset()  # its number words: "vii", "3", "fourth" (names.numbers_in)


@functools.lru_cache(maxsize=65536)
def shape_of(text: str) -> Shape:
    words = normalise_name(text).split()
    numbers = names.numbers_in(words)  # a series' number is no part of the distinctive name (see score)
    core = tuple(w for w in names.core_words(words) if w not in numbers)
    return Shape(core, "".join(core), names.han_core(text) if names.has_han(text) else "",
                 frozenset(names.places_in(words)), _person_form(text), names.business_terms(words), numbers)


def _person_form(text: str) -> bool:
    """Written as lists write people: "FAMILY, Given" (up to three words before the comma, none a legal form,
    a business or a place word): "HAQQANI, Siraj" is, "Huawei Technologies Switzerland AG, Liebefeld" is not."""
    if "," not in text:
        return False
    before, after = text.split(",", 1)
    if "(" in before or not before.strip():
        return False
    after_words = re.sub(r"[^\w\s'-]", " ", after.casefold()).split()
    if not after_words or any(w in LEGAL_FORMS or names.is_generic(w) for w in after_words):
        return False  # "NIO, Inc.", "SMIC, Americas"
    raw = re.sub(r"[^\w\s'-]", " ", before.casefold()).split()
    return len(raw) <= 3 and not any(w in LEGAL_FORMS for w in raw) \
        and not any(names.is_generic(w) and w not in names.CONNECTORS for w in normalise_name(before).split())


def _deletions(word: str) -> set[str]:
    """The word and every form of it with one character left out (a SymSpell neighbourhood)."""
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


@dataclass
class Index:
    """Every name in the graph, normalised once, with word rarity and a word index for blocking.

    Blocking keeps the exact scorer off most of a large index: a candidate is
    scored only when it shares a word with the query, exactly, within one edit
    (a word and its one-character deletions are indexed, so a typo, a missing
    or an extra letter meet), or as an abbreviation ("tech" for
    "technologies"). A name that shares no such word cannot reach the default
    threshold anyway: without a matching word the word-match half of the score
    is 0, so the total is at most 50.
    """

    candidates: list[Candidate]
    idf: dict[str, float]
    default_idf: float
    postings: dict[str, list[int]] = field(default_factory=dict)  # word -> candidates holding it
    neighbours: dict[str, list[str]] = field(default_factory=dict)  # deletion form -> words
    vocabulary: list[str] = field(default_factory=list)  # sorted, for prefix look-ups
    weights: list[float] = field(default_factory=list)  # summed idf of each candidate's words
    # Words that occur in the cores of many different names ("banco", "nacional"): not distinctive.
    common: frozenset[str] = frozenset()
    # Words in the cores of two or more different names: a group's word ("cetc", "meiya"), not one firm's.
    shared: frozenset[str] = frozenset()
    identifiers: dict[str, set[URIRef]] = field(default_factory=dict)  # normalised identifier -> parties
    party_identifiers: dict[URIRef, set[tuple[str, str]]] = field(default_factory=dict)  # party -> (scheme, value)
    first: dict[URIRef, int] = field(default_factory=dict)  # party -> its first candidate
    joined: dict[str, tuple[str, str]] = field(default_factory=dict)  # "provenglory" -> ("proven", "glory")
    neighbours_in_names: frozenset[str] = frozenset()  # "cheng du": two words side by side in some name

    def add_identifiers(self, found: Iterable[tuple[URIRef, str]]) -> None:
        """Identifiers (USCC, registration, passport, IMO numbers, ISIN) the graph holds for its parties."""
        if not self.first:
            for i, c in enumerate(self.candidates):
                self.first.setdefault(c.party, i)
        for party, text in found:
            value = normalise_identifier(text)
            if value and party in self.first:
                self.identifiers.setdefault(value, set()).add(party)
                self.party_identifiers.setdefault(party, set()).add((identifier_scheme(text), value))

    @classmethod
    def from_names(cls, names: Iterable[tuple[URIRef, str, Iterable[str]]]) -> Index:
        """An index of (party, name, countries) entries; one candidate per distinct name of a party."""
        seen: set[tuple[URIRef, str]] = set()
        candidates: list[Candidate] = []
        for party, label, countries in names:
            normalised = normalise_name(label)
            if normalised and (party, label) not in seen:
                seen.add((party, label))
                candidates.append(Candidate(party, label, normalised, frozenset(countries), shape_of(label)))
        postings: dict[str, list[int]] = {}
        for i, c in enumerate(candidates):
            for word in set(c.normalised.split()):
                postings.setdefault(word, []).append(i)
        total = max(len(candidates), 1)
        idf = {w: math.log(1 + total / len(ids)) for w, ids in postings.items()}
        neighbours: dict[str, list[str]] = {}
        for word in postings:
            if len(word) >= 4:
                for form in _deletions(word):
                    neighbours.setdefault(form, []).append(word)
        weights = [sum(idf[w] for w in set(c.normalised.split())) for c in candidates]
        cores: dict[str, set[str]] = {}
        for c in candidates:
            assert c.shape is not None
            for word in c.shape.core:
                cores.setdefault(word, set()).add(c.shape.key)
        common = frozenset(w for w, keys in cores.items() if len(keys) > COMMON_CORES)
        shared = frozenset(w for w, keys in cores.items() if len(keys) > 1)
        joined = {a + b: (a, b) for c in candidates for a, b in zip(c.normalised.split(), c.normalised.split()[1:],
                                                                      strict=False) if a + b not in postings}
        pairs = frozenset(f"{a} {b}" for c in candidates
                          for a, b in zip(c.normalised.split(), c.normalised.split()[1:], strict=False))
        return cls(candidates, idf, math.log(1 + total), postings, neighbours, sorted(postings), weights, common,
                   shared, joined=joined, neighbours_in_names=pairs)

    @classmethod
    def from_backend(cls, backend: Backend, extra: Iterable[tuple[URIRef, str, Iterable[str]]] = ()) -> Index:
        """Every name and alias of every party in the graph (and ``extra`` entries, if given)."""
        names: dict[URIRef, set[str]] = {}
        countries: dict[URIRef, set[str]] = {}
        identifiers: list[tuple[URIRef, str]] = []
        for row in backend.select(lookup_query("screen-names")).rows:
            party = row["party"]
            assert isinstance(party, URIRef)
            if row.get("name") is not None:
                names.setdefault(party, set()).add(str(row["name"]))
            if row.get("country") is not None:
                countries.setdefault(party, set()).add(str(row["country"]))
            if row.get("identifier") is not None:
                identifiers.append((party, str(row["identifier"])))
        entries = [(party, label, countries.get(party, set())) for party, labels in names.items()
                   for label in sorted(labels)]
        index = cls.from_names([*entries, *extra])
        index.add_identifiers(identifiers)
        return index

    def similar_words(self, word: str) -> list[str]:
        """Indexed words equal to ``word``, one edit from it, or that it abbreviates."""
        found = [word] if word in self.postings else []
        if len(word) >= 4:
            for form in _deletions(word):
                found.extend(self.neighbours.get(form, ()))
        elif len(word) == 3:  # "ivm" for "iuvm": the query word is one of an indexed word's deletions
            found.extend(self.neighbours.get(word, ()))
        if len(word) >= 3:
            start = bisect.bisect_left(self.vocabulary, word)
            for other in self.vocabulary[start:start + 50]:
                if not other.startswith(word):
                    break
                found.append(other)
        return list(dict.fromkeys(found))

    def block(self, words: list[str], limit: int) -> list[int]:
        """The ``limit`` candidates that share the most (rarity-weighted) words with the query."""
        if not words:
            return []
        query_weight = sum(self.idf.get(w, self.default_idf) for w in words)
        shared: dict[int, float] = {}
        for word in dict.fromkeys(words):
            for other in self.similar_words(word):
                weight = self.idf[other]
                for i in self.postings[other]:
                    shared[i] = shared.get(i, 0.0) + weight
        if len(shared) <= limit:
            return list(shared)

        def quick(i: int) -> float:  # the F1 of rarity-weighted coverage, both ways
            got = shared[i]
            return 2 * got / (query_weight + self.weights[i])

        return heapq.nlargest(limit, shared, key=quick)


@dataclass
class Match:
    score: float
    party: URIRef
    matched_name: str
    explanation: str
    label: str = ""
    designations: list[dict[str, str]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    exposure: list[str] = field(default_factory=list)
    # Breaks equal scores: 0 the name exactly as typed (case and spacing aside), 1 the same once
    # normalised, 2 otherwise; so "ANSAR AL-SHARI'A" finds that alias before "ANSAR AL-SHARIA".
    exactness: int = 2


def _expand(query_words: list[str], candidate_words: list[str]) -> tuple[list[str], list[str]]:
    """Replace a query word that abbreviates a candidate's business or place word ("tech" -> "technologies").

    Only those words: files shorten them ("Intl.", "Tech", "Semicon"), while a
    shorter distinctive word is another name ("Jian" is not "Jiangping",
    "Chan" not "Chang").
    """
    expanded, notes = [], []
    for word in query_words:
        if word in candidate_words or len(word) < 4 or any(c.isdigit() for c in word):
            expanded.append(word)
            continue
        longer = [c for c in candidate_words if c.startswith(word) and len(c) > len(word) and names.is_generic(c)]
        if longer:
            expanded.append(longer[0])
            notes.append(f"{word}→{longer[0]}")
        else:
            expanded.append(word)
    return expanded, notes


def _coverage(words: list[str], others: list[str], index: Index) -> float:
    if not words:
        return 0.0
    weight = sum(index.idf.get(w, index.default_idf) for w in words)
    got = 0.0
    for w in words:
        best = max((word_similarity(w, o) for o in others), default=0.0)
        if best >= WORD_MATCH:
            got += index.idf.get(w, index.default_idf) * best / 100
    return got / weight


def _aligned(q_words: list[str], c_words: list[str]) -> str:
    """The query's words in the order of the candidate words they match, the rest sorted after.

    token_sort_ratio sorts both sides alphabetically, so one typo that moves a
    word in the alphabet ("omtr" for "omar" beside "omsen") would misalign the
    whole comparison; sorting each query word by the candidate word it matches
    keeps the comparison word against word.
    """
    def key(word: str) -> tuple[int, str]:
        best = max(c_words, key=lambda c: word_similarity(word, c), default=None)
        if best is not None and word_similarity(word, best) >= WORD_MATCH:
            return (0, best)
        return (1, word)

    return " ".join(sorted(q_words, key=key))


def _distinctive(word: str, index: Index) -> bool:
    """A word that can identify a firm: not ordinary in a language (kg.answers.names), not in many names' cores."""
    return len(word) >= 3 and word not in index.common and not names.is_ordinary(word)


def _acronym_like(word: str) -> bool:
    """Four letters or fewer (SMIC, AMEC), or five with at most two vowels (CNCEC, ZEMIC, SOMIC)."""
    return len(word) <= 4 or (len(word) == 5 and sum(c in "aeiouy" for c in word) <= 2)


def _acronym_pair(q_words: list[str], c_words: list[str]) -> bool:
    """The listed one-word name reads as an acronym and the typed one differs by more than two swapped letters."""
    if len(q_words) != 1 or len(c_words) != 1 or q_words == c_words:
        return False
    a, b = q_words[0], c_words[0]
    if not _acronym_like(b):
        return False
    return not (len(a) == len(b) and sorted(a) == sorted(b) and OSA.distance(a, b, score_cutoff=1) <= 1)


def _share_core(q: Shape, c: Shape) -> bool:
    """Some distinctive word of one is (within a typo) one of the other's, or one core holds the other's key."""
    if q.key in c.key or c.key in q.key:
        return True
    return any(word_similarity(a, b) >= WORD_MATCH for a in q.core for b in c.core)


def _inside(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """``short`` is a run of whole words of ``long`` (and shorter)."""
    n = len(short)
    return 0 < n < len(long) and any(long[i:i + n] == short for i in range(len(long) - n + 1))


def _core_score(q: Shape, c: Shape, index: Index) -> tuple[float, str]:
    """The score of the distinctive names alone, and why; 0 when they do not decide.

    Counterparty files add place and business words to a listed name, drop
    them, or write the firm in Chinese characters or pinyin; what stays is the
    distinctive part ("hikvision" of "Hangzhou Hikvision Digital Technology").
    Two names whose distinctive parts are the same score CORE_SAME less
    CORE_STEP for each side naming a place the other does not. A distinctive
    part made only of words common among the cores of the index ("banco
    nacional") decides nothing; neither does one of four letters or fewer
    unless it is the same (SMIC is not SOMIC). A distinctive part decides only
    through a word that is not an ordinary word of a language ("state",
    "transportation", "glory"): coined names such as Hikvision do.
    """
    if not q.key or not c.key or q.person or c.person:
        return 0.0, ""
    if q.han and c.han:
        if q.han == c.han:
            base, how = CORE_SAME, f"the distinctive Chinese characters {c.han} are the same"
        elif names.pinyin(q.han) == names.pinyin(c.han):
            base, how = CORE_TYPO, (f"the distinctive Chinese characters read the same ({names.pinyin(c.han)}) "
                                    f"but are written {q.han} and {c.han} (traditional and simplified, or another "
                                    "firm): review")
        else:
            return 0.0, ""
    else:
        if not any(_distinctive(w, index) for w in c.core) and not (len(c.core) >= 2 and q.key == c.key):
            # (two or more ordinary words decide only all together, spaced as they may: "Magni ficent Tower")
            return 0.0, ""
        shown = " ".join(c.core)
        if q.key == c.key or sorted(q.core) == sorted(c.core):
            base, how = CORE_SAME, f"the distinctive name '{shown}' is the same"
        elif min(len(q.key), len(c.key)) >= 8 and not c.han and len(q.core) == len(c.core) and all(
                word_similarity(a, b) >= WORD_MATCH for a, b in zip(sorted(q.core), sorted(c.core), strict=True)):
            # word against word (BICENTENARIO VI is not V); not for pinyin: zhongxin and zhongxing are two
            # firms, 中芯 and 中兴
            base, how = CORE_TYPO, f"the distinctive name '{' '.join(q.core)}' is one letter from '{shown}'"
        elif len(c.key) >= 5 and _inside(c.core, q.core):
            extra = " ".join(w for w in q.core if w not in c.core)
            base, how = CORE_CONTAINED, (f"the name holds the listed party's distinctive name '{shown}' and more "
                                         f"('{extra}'): a firm named after the listed party? review")
        elif len(q.key) >= 5 and _inside(q.core, c.core) and any(_distinctive(w, index) for w in q.core) \
                and all(w in index.shared or not _distinctive(w, index) for w in c.core if w not in q.core):
            # A coined word the name leaves out must be a group's ("CETC Potevio" for Potevio): one of the
            # listed firm's own is part of its name (TAGHTIRAN KASHAN is not KASHAN).
            base, how = CORE_ALL_WORDS, f"the listed name '{shown}' holds the distinctive name '{' '.join(q.core)}'"
        else:
            return 0.0, ""
        if len(c.key) <= 4 and q.key != c.key:
            return 0.0, ""
    total = base
    notes = [how]
    # What each name has that the other lacks: a name written otherwise adds or drops words on one side only.
    by_words = base in (CORE_CONTAINED, CORE_ALL_WORDS)  # (the same key or a typo: the core words are one name)
    adds = (q.business - c.business) | {w for w in q.core if w not in c.core and by_words}
    lacks = (c.business - q.business) | {w for w in c.core if w not in q.core and len(w) >= 3 and by_words}
    if adds and lacks:
        total -= SISTER_FIRM
        notes.append(f"but each name has words the other lacks ({', '.join(sorted(adds))} against "
                     f"{', '.join(sorted(lacks))}): another firm of the same name, or a sister firm? review "
                     f"(-{SISTER_FIRM:.0f})")
    countries = (q.places & names.country_words(), c.places & names.country_words())
    if all(countries) and not countries[0] & countries[1]:
        total -= SISTER_FIRM
        notes.append(f"but the names are of other countries ({', '.join(sorted(countries[0]))} against "
                     f"{', '.join(sorted(countries[1]))}): a sister branch? review (-{SISTER_FIRM:.0f})")
    if q.places - c.places:
        total -= CORE_STEP
        notes.append(f"the name adds the place {', '.join(sorted(q.places - c.places))}: a branch or subsidiary "
                     "named after the listed party? review")
    if c.places - q.places:
        total -= CORE_STEP
        notes.append(f"the listed name adds the place {', '.join(sorted(c.places - q.places))}")
    return total, "; ".join(notes)


def score(query: str, candidate: Candidate, index: Index, country: str | None = None) -> tuple[float, str]:
    """The score (0-100) of ``candidate`` for ``query`` and the sentence that explains it."""
    q_words = normalise_name(query).split()
    c_words = candidate.normalised.split()
    q_words, notes = _expand(q_words, c_words)
    q_text = " ".join(q_words)
    sort_ratio = fuzz.ratio(_aligned(q_words, c_words), " ".join(sorted(c_words)))
    cq = _coverage(q_words, c_words, index)
    cc = _coverage(c_words, q_words, index)
    weighted = 100 * (2 * cq * cc / (cq + cc)) if cq + cc else 0.0
    total = 0.5 * sort_ratio + 0.5 * weighted
    parts = [f"{total:.0f} = mean of token_sort_ratio {sort_ratio:.0f} and rarity-weighted word match "
             f"{weighted:.0f} on '{q_text}' vs '{candidate.normalised}'"]
    q_shape, c_shape = shape_of(query), candidate.shape or shape_of(candidate.name)
    core, why = _core_score(q_shape, c_shape, index)
    if core < CORE_ALL_WORDS and len(c_words) >= 2 and cc >= 0.999 and not (q_shape.person or c_shape.person) and \
            all(names.is_generic(w) for w in q_words if w not in c_words):
        # Every word of the listed name typed ("Phoenix Optics", "Semiconductor Manufacturing South China"),
        # with place or business words added: ordinary words too, since all of them are there.
        core = CORE_ALL_WORDS - CORE_STEP * bool(c_shape.places - q_shape.places)
        why = "every word of the listed name is in the name, which adds only place or business words"
        if q_shape.places - c_shape.places:
            why += (f" (the place {', '.join(sorted(q_shape.places - c_shape.places))}: a branch or subsidiary "
                    "named after the listed party? review)")
    if core and min(99.0, core + CORE_TIE * total / 100) > total:
        # Equal distinctive names tie; the whole-name score orders them (the Huawei family shares "huawei").
        core = min(99.0, core + CORE_TIE * total / 100)
        total = core
        parts = [f"{core:.0f}: {why} (whole names: {parts[0]})"]
    elif q_shape.core and c_shape.core and total >= DISJOINT_FLOOR and not _share_core(q_shape, c_shape):
        total -= DISJOINT_PENALTY
        parts.append(f"no distinctive word in common ('{' '.join(q_shape.core)}' vs '{' '.join(c_shape.core)}'; "
                     f"-{DISJOINT_PENALTY:.0f})")
    elif total >= DISJOINT_FLOOR and (missing := _missing_distinctive(query, q_words, c_words, q_shape, c_shape)):
        total -= SISTER_FIRM
        parts.append(f"but the listed name has the distinctive word {', '.join(missing)}, which the name lacks: "
                     f"another firm of a like name? review (-{SISTER_FIRM:.0f})")
    elif total >= DISJOINT_FLOOR and not (q_shape.person or c_shape.person or q_shape.han or c_shape.han) \
            and all(apart := _words_apart(q_words, c_words)):
        total -= SISTER_FIRM
        parts.append(f"but each name has words the other lacks ({', '.join(apart[0])} against "
                     f"{', '.join(apart[1])}): a sister body or another of a like name? review (-{SISTER_FIRM:.0f})")
    person = c_shape.person and not c_shape.han  # (a listed person, written "FAMILY, Given")
    if total >= DISJOINT_FLOOR and person and \
            (family := people.family_name_missing(q_words, normalise_name(candidate.name.split(",", 1)[0]).split())):
        total -= SISTER_FIRM
        parts.append(f"but the listed person's family name {family} is not in the name: another person? review "
                     f"(-{SISTER_FIRM:.0f})")
    if total >= DISJOINT_FLOOR and person and \
            (given := people.given_names_apart(query, q_words, candidate.name, c_words, _same_word)):
        total -= SISTER_FIRM
        parts.append(f"but a given name differs in its first letter ({given}): another person? review "
                     f"(-{SISTER_FIRM:.0f})")
    if total >= DISJOINT_FLOOR and c_shape.person and \
            (extra := people.relative(query, q_shape.person, candidate.name, _same_word)):
        total -= RELATIVE
        parts.append(f"but {extra} of the listed person in patronymic naming? review (-{RELATIVE:.0f})")
    if total > SHORT_CAP and _acronym_pair(q_words, c_words):
        total = SHORT_CAP
        parts.append(f"a short name of few vowels (an acronym?) matches only as written or with two letters "
                     f"swapped (at most {SHORT_CAP:.0f})")
    if not (q_shape.person or c_shape.person):
        # A number typed that the listed name lacks names another of a series (BICENTENARIO VI is not VII, MI RIM
        # 2 not MI RIM); a name typed without the number ("Bicentenario") is less exact, not another vessel.
        shown = [" ".join(sorted(n)) or "none" for n in (q_shape.numbers, c_shape.numbers)]
        if q_shape.numbers - c_shape.numbers:
            total -= NUMBER_PENALTY
            parts.append(f"the numbers differ ({shown[0]} against {shown[1]}): another vessel, unit or entity of "
                         f"the same name (-{NUMBER_PENALTY:.0f})")
        elif c_shape.numbers - q_shape.numbers:
            total -= CORE_STEP
            parts.append(f"the listed name adds the number {shown[1]}: one of a series of that name? review "
                         f"(-{CORE_STEP:.0f})")
    if notes:
        parts.append(f"abbreviations expanded: {', '.join(notes)}")
    if country:
        if country in candidate.countries:
            total += COUNTRY_BONUS
            parts.append(f"country {country} matches (+{COUNTRY_BONUS:.0f})")
        elif candidate.countries:
            total -= COUNTRY_PENALTY
            parts.append(f"country {country} not among {', '.join(sorted(candidate.countries))} "
                         f"(-{COUNTRY_PENALTY:.0f})")
    total = max(0.0, min(100.0, total))
    return total, "; ".join(parts)


def _same_word(a: str, b: str) -> bool:
    return word_similarity(a, b) >= WORD_MATCH


def _missing_distinctive(query: str, q_words: list[str], c_words: list[str], q_shape: Shape,
                         c_shape: Shape) -> list[str]:
    """The words of the listed name's distinctive part that the typed name lacks (none of its words is one of them).

    A file writing a listed firm otherwise drops place, business and legal
    words, not the words that name it: "IRAN ELECTRONIC DEVELOPMENT COMPANY"
    is not "IRAN MOBIN ELECTRONIC DEVELOPMENT COMPANY", "FLORES DRUG
    TRAFFICKING ORGANIZATION" not "MEZA FLORES ...". A coined word is there
    as written, with a typo, cut short ("Org.") or run into the next, but
    not as a place or a longer word of a language a letter away (short ones
    are too many to tell from typos), nor as a word that differs at its first
    letter and more: "DIAMOND TRANSPORTATION" is not "DIMOND TRANSPORTATION",
    the city KASHAN not the vessel KAHANE, BAHMAN GROUP not AMAN GROUP. For
    names in Latin letters that the distinctive-name rules did not decide.
    """
    if q_shape.han or c_shape.han or q_shape.person or c_shape.person:
        return []
    places = names.place_words()

    def typed_as(coined: str, typed: str) -> bool:  # a word of a language or a place typed is not a typo
        if typed == coined or (names.is_ordinary(coined) or coined in places):
            return word_similarity(coined, typed) >= WORD_MATCH
        return word_similarity(coined, typed) >= WORD_MATCH and typed not in places \
            and not (len(typed) >= 6 and names.is_ordinary(typed)) \
            and (typed[0] == coined[0] or OSA.distance(typed, coined, score_cutoff=1) <= 1)

    typed = set(q_words) | set(people.person_words(query))  # (with words taken for legal forms: "Al-Asa" for "Al-Aqsa")
    listed_run_together = "".join(c_words)  # (and words run together: "ChengDu" for "Cheng Du")
    return [w for w in c_shape.core if len(w) >= 3 and w not in names.CONNECTORS
            and not any(typed_as(w, q) or (w in q and q in listed_run_together)
                        or (len(q) >= 3 and w.startswith(q)) for q in typed)]  # (or cut short: "Org.")


def _words_apart(q_words: list[str], c_words: list[str]) -> tuple[list[str], list[str]]:
    """The words of each name (not business, legal or number words) with no word of the other within a typo.

    "ISLAMIC REVOLUTIONARY GUARD CORPS AIR FORCE" and "... QODS FORCE", "STATE
    ENTERPRISE SEVASTOPOL SEA TRADING PORT" and "... YALTA ...": when each
    name has such a word the two are sister bodies, not one written otherwise.
    """
    places = names.place_words()

    def apart(words: list[str], others: list[str]) -> list[str]:
        return [w for w in words if len(w) >= 3 and not w.isdigit() and w not in names.CONNECTORS
                and (w in places or not names.is_generic(w))
                and max((word_similarity(w, o) for o in others), default=0) < WORD_MATCH]

    return apart(q_words, c_words), apart(c_words, q_words)


def _identifier_check(index: Index, party: URIRef, typed: list[tuple[str, str]]) -> tuple[float, str]:
    """(100, why) when a typed identifier is the party's; (-IDENTIFIER_CONFLICT, why) when it conflicts."""
    held = index.party_identifiers.get(party, set())
    for scheme, value in typed:
        if (scheme, value) in held or any(value == v for _, v in held):
            return 100.0, f"identifier {value} ({scheme}) is the one the graph holds for this party"
    for scheme, value in typed:
        if scheme == "other":
            continue
        others = sorted(v for s, v in held if s == scheme)
        if others:
            return -IDENTIFIER_CONFLICT, (f"identifier conflict: {scheme} {value} typed, the graph holds "
                                          f"{', '.join(others)} for this party (-{IDENTIFIER_CONFLICT:.0f}): "
                                          "probably another entity")
    return 0.0, ""


def _split_run_together(index: Index, words: list[str]) -> list[str]:
    """Each unknown word of six letters or more that is two neighbouring words of an indexed name run together
    ("provenglory" for "Proven Glory"), split in two.

    A word within one typo of an indexed word ("shippeng") is a typo, and an
    ordinary word ("indian") a word, not two.
    """
    out: list[str] = []
    for word in words:
        if len(word) >= 6 and word not in index.postings and not word.isdigit() and not names.is_ordinary(word) \
                and not index.similar_words(word):
            pair = index.joined.get(word)
            if pair is not None:
                out.extend(pair)
                continue
        out.append(word)
    return out


def _join_split(index: Index, words: list[str]) -> list[str]:
    """Two neighbouring words that together are an indexed word ("airc raft", "tech nical"), joined.

    Not when some name writes them so: "Cheng Du Westone" stays as written.
    """
    out: list[str] = []
    i = 0
    while i < len(words):
        if i + 1 < len(words):
            both = words[i] + words[i + 1]
            if both in index.postings and f"{words[i]} {words[i + 1]}" not in index.neighbours_in_names \
                    and not both.isdigit():
                out.append(both)
                i += 2
                continue
        out.append(words[i])
        i += 1
    return out


def match(index: Index, name: str, country: str | None = None, limit: int = 10,
          threshold: float = DEFAULT_THRESHOLD, identifiers: Iterable[str] = ()) -> list[Match]:
    """The parties whose names in ``index`` best match ``name``, best first, one per party; no graph look-ups.

    Equal scores keep the order of their matched names; ``screen`` breaks such
    ties with what it learns from the graph.
    """
    country = country.upper() if country else None
    wanted = normalise_name(name)
    given = [(identifier_scheme(t), normalise_identifier(t)) for t in identifiers if normalise_identifier(t)]
    if not wanted and not given:
        return []
    typed = " ".join(name.casefold().split())
    # Blocking on shared words keeps the exact scorer off most of a large index.
    split = _join_split(index, _split_run_together(index, wanted.split()))
    if split != wanted.split():  # "ProvenGlory": "proven glory" when the index knows both; "Airc raft": "aircraft"
        name, wanted = " ".join(split), " ".join(split)
    words = wanted.split()
    key = shape_of(name).key
    pool = index.block(words + ([key] if key and key not in words else []), limit=max(BLOCK_SIZE, limit * 5))
    for _, value in given:  # the parties holding a typed identifier are scored whatever their names
        pool.extend(index.first[p] for p in index.identifiers.get(value, ()))
    best: dict[URIRef, Match] = {}
    for i in dict.fromkeys(pool):
        candidate = index.candidates[i]
        total, why = score(name, candidate, index, country) if wanted else (0.0, "no name typed")
        if given:
            change, said = _identifier_check(index, candidate.party, given)
            if change == 100.0:
                total, why = 100.0, f"{said}; name: {why}"
            elif change:
                total, why = max(0.0, total + change), f"{why}; {said}"
        if total < threshold:
            continue
        exactness = 0 if " ".join(candidate.name.casefold().split()) == typed else \
            1 if candidate.normalised == wanted else 2
        known = best.get(candidate.party)
        if known is None or (-total, exactness) < (-known.score, known.exactness):
            best[candidate.party] = Match(round(total, 1), candidate.party, candidate.name, why,
                                          exactness=exactness)
    return sorted(best.values(), key=lambda m: (-m.score, m.exactness, m.matched_name))[: limit * 2]


def near_misses(index: Index, name: str, country: str | None = None, threshold: float = DEFAULT_THRESHOLD,
                identifiers: Iterable[str] = (), k: int = 3, floor: float = 50.0) -> list[Match]:
    """The ``k`` closest candidates below ``threshold`` (and at or above ``floor``), for a "no match" answer.

    A "no match" that hides a 79 is a near miss an analyst never sees; this
    names them, each marked below the threshold by the caller.
    """
    return [m for m in match(index, name, country, k, floor, identifiers) if m.score < threshold][:k]


def screen(backend: Backend, name: str, country: str | None = None, limit: int = 10,
           threshold: float = DEFAULT_THRESHOLD, index: Index | None = None, on: str | None = None,
           include_ended: bool = False, cache: dict[URIRef, Match] | None = None,
           identifiers: Iterable[str] = ()) -> list[Match]:
    """The parties whose names best match ``name``, best first, one answer per party.

    Each answer says what holds on ``on`` (an ISO date; default today, or
    ``TRADEKG_TODAY``): listings, rules and exceptions that ended before it are
    left out unless ``include_ended``, and then marked "ended"; a rule
    suspended on that date is marked so. Legal reach (``rules``) and exposure
    through a listed parent or affiliate (``exposure``) are kept apart.
    ``index`` and ``cache`` (see ``describe``) let a batch reuse the work of
    earlier names.
    """
    if on is None:
        from kg.answers.queries import today

        on = str(today())
    index = index or Index.from_backend(backend)
    return finish(backend, match(index, name, country, limit, threshold, identifiers), limit, on, include_ended,
                  cache)


def finish(backend: Backend, ranked: list[Match], limit: int, on: str, include_ended: bool = False,
           cache: dict[URIRef, Match] | None = None) -> list[Match]:
    """``match``'s answers described from the graph, equal scores ordered by what it says, cut to ``limit``."""
    for found in ranked:
        describe(backend, found, on, include_ended, cache)
    # Equal scores: the party whose own name matched, then the one with more list entries, first.
    ranked.sort(key=lambda m: (-m.score, m.exactness, m.label != m.matched_name, -len(m.designations),
                               m.matched_name))
    return ranked[:limit]


def _period_status(start: str, end: str, on: str, known_since: str = "", basis: str = "") -> str:
    """"ended END" / "from START (not yet)" / "" (holds), by ISO text.

    ``known_since`` is set for an entry whose source gives no listing date: before that date (the first
    file that held it) whether it held is "not known", never "not yet in force".
    """
    if end and end < on:
        return f"ended {end}"
    if known_since:
        if known_since > on:
            why = basis or "the source gives no listing date"
            return f"not known on {on}: listed on or before {known_since}; {why}"
        return ""
    if start and start > on:
        return f"not yet in force on {on}"
    return ""


def _since(start: str, known_since: str, basis: str) -> str:
    """The start of a period as an answer says it: a date, or "listed on or before" when none is known."""
    if known_since:
        return f"on or before {known_since} [{basis or 'the source gives no listing date'}]"
    return start


def describe(backend: Backend, found: Match, on: str, include_ended: bool = False,
             cache: dict[URIRef, Match] | None = None) -> None:
    """Fill in the party's label, list entries, rules and exposure from the graph; ``cache`` keeps them per party.

    A batch screens thousands of names that meet the same parties, so it
    passes a cache (for one ``on`` and ``include_ended``; see
    ``describe_many`` to fill it in bulk) and asks the graph once per party.
    """
    known = cache.get(found.party) if cache is not None else None
    if known is None:
        _describe(backend, found, on, include_ended)
        if cache is not None:
            cache[found.party] = found
        return
    found.label, found.designations, found.rules, found.exposure = (
        known.label, known.designations, known.rules, known.exposure)


def describe_many(backend: Backend, parties: list[URIRef], on: str, include_ended: bool = False,
                  chunk: int = 400) -> dict[URIRef, Match]:
    """What ``describe`` finds for each of ``parties``, asked ``chunk`` parties per query.

    One query per party cost a batch of 10,000 names more than matching them:
    here the parties travel as terms in one VALUES block per chunk.
    """
    from kg.graph.sparqltext import with_rows

    found: dict[URIRef, Match] = {}
    text = lookup_query("screen-parties")
    for start in range(0, len(parties), chunk):
        part = parties[start:start + chunk]
        query = with_rows(text, "party", [str(p) for p in part])
        rows: dict[URIRef, list[dict[str, Any]]] = {p: [] for p in part}
        for row in backend.select(query).rows:
            rows.setdefault(row["party"], []).append(row)  # type: ignore[arg-type]
        for party, its in rows.items():
            m = Match(0.0, party, "", "")
            _fill(m, its, on, include_ended)
            found[party] = m
    return found


def _describe(backend: Backend, match: Match, on: str, include_ended: bool) -> None:
    _fill(match, backend.select(lookup_query("screen-party"), {"party": match.party}).rows, on, include_ended)


def _fill(match: Match, rows: list[dict[str, Any]], on: str, include_ended: bool) -> None:
    designations: dict[str, dict[str, str]] = {}
    rules: dict[tuple[str, bool], dict[str, Any]] = {}
    for row in rows:
        match.label = str(row.get("label", match.label))
        if row.get("designation") is not None:
            end = str(row["end"]) if row.get("end") is not None else ""
            known = str(row["knownSince"]) if row.get("knownSince") is not None else ""
            basis = str(row["basis"]) if row.get("basis") is not None else ""
            status = _period_status(str(row["start"]), end, on, known, basis)
            if status.startswith("ended") and not include_ended:
                continue
            designations.setdefault(str(row["designation"]), {
                "list": str(row["list"]), "start": _since(str(row["start"]), known, basis), "end": end,
                "status": status, "sort": str(row["start"]),
                "policy": str(row["policy"]) if row.get("policy") is not None else "",
                "policy_text": str(row["policyText"]) if row.get("policyText") is not None else "",
            })
        if row.get("rule") is not None:
            start = str(row["from"])
            until = str(row["until"]) if row.get("until") is not None else ""
            from_known = str(row["fromKnown"]) if row.get("fromKnown") is not None else ""
            status = _period_status(start, until, on, from_known)
            start = _since(start, from_known, "")
            if status.startswith("ended") and not include_ended:
                continue
            suspended_from = str(row["suspendedFrom"]) if row.get("suspendedFrom") is not None else ""
            suspended_to = str(row["suspendedTo"]) if row.get("suspendedTo") is not None else ""
            if not status and suspended_from and suspended_from <= on and (not suspended_to or suspended_to >= on):
                status = (f"suspended on {on} by {row['suspender']}"
                          + (f" to {suspended_to}" if suspended_to else " (end not recorded)"))
            cite = str(row["citation"]) if row.get("citation") is not None else ""
            document = str(row["document"]) if row.get("document") is not None else ""
            title = str(row["ruleTitle"])
            minted = title.startswith("Federal Register document cited as")
            title = title.replace(f" ({cite})", "") if cite else title
            ident = cite or (f"FR Doc {document}" if document else "")
            text = title if not ident else (ident if minted else f"{ident} {title}")
            exposure = str(row.get("exposure", "")).lower() == "true"
            entry = rules.setdefault((str(row["rule"]), exposure), {"text": text, "how": set(), "gap": ""})
            how = f"{row['effect']}: {row.get('parentName', '')}" if exposure else f"{row['effect']}, {row['reach']}"
            period = f"{start}–{until or 'in force'}"
            entry["how"].add(f"{how}; {period}" + (f"; {status}" if status else ""))
            if row.get("gap") is not None:
                entry["gap"] = str(row["gap"])
    match.designations = sorted(designations.values(), key=lambda d: (d.pop("sort"), d["list"]))

    def line(r: dict[str, Any]) -> str:
        return f"{r['text']} ({' | '.join(sorted(r['how']))})" + (f" [{r['gap']}]" if r["gap"] else "")

    match.rules = sorted(line(r) for (_, exposure), r in rules.items() if not exposure)
    match.exposure = sorted(line(r) for (_, exposure), r in rules.items() if exposure)


def as_table(matches: list[Match]) -> ResultTable:
    from rdflib import Literal

    table = ResultTable(["score", "matched_name", "party", "lists", "license_policy", "rules", "exposure",
                         "explanation"])
    for m in matches:
        lists = "; ".join(f"{d['list']} {d['start']}–{d['end'] or 'in force'}" + (f" ({d['status']})" if d["status"]
                                                                                   else "") for d in m.designations)
        policies = "; ".join(dict.fromkeys(
            f"{d['policy']}" + (f" ({d['policy_text']})" if d["policy_text"] and normalise_name(d["policy_text"])
                                != normalise_name(d["policy"]) else "") for d in m.designations if d["policy"]))
        table.rows.append({
            "score": Literal(m.score), "matched_name": Literal(m.matched_name), "party": m.party,
            "lists": Literal(lists or "not on a list in the graph"), "license_policy": Literal(policies),
            "rules": Literal("; ".join(m.rules)), "exposure": Literal("; ".join(m.exposure)),
            "explanation": Literal(m.explanation),
        })
    return table


def near_text(near: list[Match]) -> str:
    """"76.2 Dahua Technology Company; 60.1 ...": near misses on one line."""
    return "; ".join(f"{m.score:.1f} {m.matched_name}" for m in near)


def as_text(matches: list[Match], name: str, near: list[Match] | None = None) -> str:
    if not matches:
        text = f"no name in the graph matches {name!r} at or above the threshold"
        if near:
            text += "\nnearest below the threshold (not matches; review if the name is close):\n" + "\n".join(
                f"{m.score:5.1f}  {m.matched_name}\n       {m.party}\n       why: {m.explanation}" for m in near)
        return text
    blocks = []
    for m in matches:
        lines = [f"{m.score:5.1f}  {m.matched_name}" + (f"  (party: {m.label})" if m.label and m.label != m.matched_name
                                                       else ""),
                 f"       {m.party}",
                 f"       why: {m.explanation}"]
        for d in m.designations:
            same = normalise_name(d["policy_text"]) == normalise_name(d["policy"])
            policy = d["policy"] + (f" — {d['policy_text']}" if d["policy_text"] and not same else "")
            lines.append(f"       on {d['list']} from {d['start']} to {d['end'] or 'now'}"
                         + (f" ({d['status']})" if d["status"] else "")
                         + f"; license policy: {policy or 'not given'}")
        if not m.designations:
            lines.append("       not on a list in the graph itself")
        for rule in m.rules:
            lines.append(f"       rule: {rule}")
        for flag in m.exposure:
            lines.append(f"       exposure (not a designation of this party): {flag}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
