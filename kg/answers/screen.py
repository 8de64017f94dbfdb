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

from kg.graph.backend import Backend, ResultTable
from kg.resources import lookup_query

LEGAL_FORMS = frozenset([
    "co", "company", "companies", "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp",
    "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "nv", "bv", "kk", "pte", "pvt", "private", "pty",
    "oy", "ab", "as", "asa", "jsc", "pjsc", "ojsc", "cjsc", "oao", "ooo", "zao", "ltda", "sl", "sp", "zoo", "sro",
    "doo", "ad", "ead",
])
COUNTRY_BONUS = 5.0
COUNTRY_PENALTY = 10.0
# Chosen on the OFAC benchmark (benchmarks/README.md): false matches under 2%, recall@1 kept.
DEFAULT_THRESHOLD = 82.0
BLOCK_SIZE = 40  # candidates the exact scorer sees per query, after blocking
WORD_MATCH = 80.0  # rapidfuzz ratio at or above which two words count as the same word (typos)


@functools.lru_cache(maxsize=65536)
def normalise_name(text: str) -> str:
    """Lower-case ASCII words without punctuation or legal-form words.

    Apostrophes and the like are dropped inside a word rather than splitting
    it: romanised names carry them for sounds English lacks ("So'ng",
    "'Abd al-Rahman"), and a typed name often leaves them out. A legal-form
    word with one typo ("Compnay", "Corportion") is dropped like the word itself.
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("&", " and ")
    text = _APOSTROPHES.sub("", text)
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text)  # s.r.l. -> srl. ; k.k. -> kk.
    text = re.sub(r"[^\w\s]+", " ", text)
    words = [w for w in text.split() if w not in LEGAL_FORMS and not _misspelt_legal_form(w)]
    return " ".join(words)


_APOSTROPHES = re.compile("['`\u2018\u2019\u02bb\u02bc\u02be\u02bf\u00b4]")
# Legal forms a one-letter slip cannot turn into an ordinary word ("corp" could be "core").
_TYPO_LEGAL_FORMS = tuple(sorted({f for f in LEGAL_FORMS if len(f) >= 6} | {"gmbh", "ltda", "pjsc", "ojsc", "cjsc"}))


def _misspelt_legal_form(word: str) -> bool:
    return len(word) >= 4 and any(OSA.distance(word, form, score_cutoff=1) <= 1 for form in _TYPO_LEGAL_FORMS)


def word_similarity(a: str, b: str) -> float:
    """How alike two words are (0-100): rapidfuzz's ratio, and one typo in words of four letters counts as 80.

    An edit ratio punishes one wrong letter in a short word hard ("musa" and
    "muas" score 75), so a single substitution, insertion, deletion or swap of
    neighbours (optimal string alignment distance 1) counts as WORD_MATCH.
    """
    if a == b:
        return 100.0
    if any(c.isdigit() for c in a + b):  # numbers (years, hull and tail numbers) match exactly or not at all
        return 0.0
    ratio = fuzz.ratio(a, b)
    if ratio < WORD_MATCH and min(len(a), len(b)) >= 4 and OSA.distance(a, b, score_cutoff=1) <= 1:
        return WORD_MATCH
    return ratio




@dataclass
class Candidate:
    party: URIRef
    name: str
    normalised: str
    countries: frozenset[str]


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

    @classmethod
    def from_names(cls, names: Iterable[tuple[URIRef, str, Iterable[str]]]) -> Index:
        """An index of (party, name, countries) entries; one candidate per distinct name of a party."""
        seen: set[tuple[URIRef, str]] = set()
        candidates: list[Candidate] = []
        for party, label, countries in names:
            normalised = normalise_name(label)
            if normalised and (party, label) not in seen:
                seen.add((party, label))
                candidates.append(Candidate(party, label, normalised, frozenset(countries)))
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
        return cls(candidates, idf, math.log(1 + total), postings, neighbours, sorted(postings), weights)

    @classmethod
    def from_backend(cls, backend: Backend, extra: Iterable[tuple[URIRef, str, Iterable[str]]] = ()) -> Index:
        """Every name and alias of every party in the graph (and ``extra`` entries, if given)."""
        names: dict[URIRef, set[str]] = {}
        countries: dict[URIRef, set[str]] = {}
        for row in backend.select(lookup_query("screen-names")).rows:
            party = row["party"]
            assert isinstance(party, URIRef)
            if row.get("name") is not None:
                names.setdefault(party, set()).add(str(row["name"]))
            if row.get("country") is not None:
                countries.setdefault(party, set()).add(str(row["country"]))
        entries = [(party, label, countries.get(party, set())) for party, labels in names.items()
                   for label in sorted(labels)]
        return cls.from_names([*entries, *extra])

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
    """Replace a query word that abbreviates a candidate word ("tech" -> "technologies")."""
    expanded, notes = [], []
    for word in query_words:
        if word in candidate_words or len(word) < 4 or any(c.isdigit() for c in word):
            expanded.append(word)
            continue
        longer = [c for c in candidate_words if c.startswith(word) and len(c) > len(word)]
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


def match(index: Index, name: str, country: str | None = None, limit: int = 10,
          threshold: float = DEFAULT_THRESHOLD) -> list[Match]:
    """The parties whose names in ``index`` best match ``name``, best first, one per party; no graph look-ups.

    Equal scores keep the order of their matched names; ``screen`` breaks such
    ties with what it learns from the graph.
    """
    country = country.upper() if country else None
    wanted = normalise_name(name)
    if not wanted:
        return []
    typed = " ".join(name.casefold().split())
    # Blocking on shared words keeps the exact scorer off most of a large index.
    pool = index.block(wanted.split(), limit=max(BLOCK_SIZE, limit * 5))
    best: dict[URIRef, Match] = {}
    for i in pool:
        candidate = index.candidates[i]
        total, why = score(name, candidate, index, country)
        if total < threshold:
            continue
        exactness = 0 if " ".join(candidate.name.casefold().split()) == typed else \
            1 if candidate.normalised == wanted else 2
        known = best.get(candidate.party)
        if known is None or (-total, exactness) < (-known.score, known.exactness):
            best[candidate.party] = Match(round(total, 1), candidate.party, candidate.name, why,
                                          exactness=exactness)
    return sorted(best.values(), key=lambda m: (-m.score, m.exactness, m.matched_name))[: limit * 2]


def screen(backend: Backend, name: str, country: str | None = None, limit: int = 10,
           threshold: float = DEFAULT_THRESHOLD, index: Index | None = None, on: str | None = None,
           include_ended: bool = False, cache: dict[URIRef, Match] | None = None) -> list[Match]:
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
    return finish(backend, match(index, name, country, limit, threshold), limit, on, include_ended, cache)


def finish(backend: Backend, ranked: list[Match], limit: int, on: str, include_ended: bool = False,
           cache: dict[URIRef, Match] | None = None) -> list[Match]:
    """``match``'s answers described from the graph, equal scores ordered by what it says, cut to ``limit``."""
    for found in ranked:
        describe(backend, found, on, include_ended, cache)
    # Equal scores: the party whose own name matched, then the one with more list entries, first.
    ranked.sort(key=lambda m: (-m.score, m.exactness, m.label != m.matched_name, -len(m.designations),
                               m.matched_name))
    return ranked[:limit]


def _period_status(start: str, end: str, on: str) -> str:
    """"ended END" / "from START (not yet)" / "" (holds), by ISO text."""
    if end and end < on:
        return f"ended {end}"
    if start and start > on:
        return f"not yet in force on {on}"
    return ""


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
            status = _period_status(str(row["start"]), end, on)
            if status.startswith("ended") and not include_ended:
                continue
            designations.setdefault(str(row["designation"]), {
                "list": str(row["list"]), "start": str(row["start"]), "end": end, "status": status,
                "policy": str(row["policy"]) if row.get("policy") is not None else "",
                "policy_text": str(row["policyText"]) if row.get("policyText") is not None else "",
            })
        if row.get("rule") is not None:
            start = str(row["from"])
            until = str(row["until"]) if row.get("until") is not None else ""
            status = _period_status(start, until, on)
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
    match.designations = sorted(designations.values(), key=lambda d: (d["start"], d["list"]))

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


def as_text(matches: list[Match], name: str) -> str:
    if not matches:
        return f"no name in the graph matches {name!r} at or above the threshold"
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
