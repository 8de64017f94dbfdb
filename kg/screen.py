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

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from rdflib import URIRef

from kg.backend import Backend, ResultTable
from kg.resources import lookup_query

LEGAL_FORMS = frozenset([
    "co", "company", "companies", "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp",
    "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "nv", "bv", "kk", "pte", "pvt", "private", "pty",
    "oy", "ab", "as", "asa", "jsc", "pjsc", "ojsc", "cjsc", "oao", "ooo", "zao", "ltda", "sl", "sp", "zoo", "sro",
    "doo", "ad", "ead",
])
COUNTRY_BONUS = 5.0
COUNTRY_PENALTY = 10.0
WORD_MATCH = 80.0  # rapidfuzz ratio at or above which two words count as the same word (typos)


def normalise_name(text: str) -> str:
    """Lower-case ASCII words without punctuation or legal-form words."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("&", " and ")
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text)  # s.r.l. -> srl. ; k.k. -> kk.
    text = re.sub(r"[^\w\s]+", " ", text)
    words = [w for w in text.split() if w not in LEGAL_FORMS]
    return " ".join(words)




@dataclass
class Candidate:
    party: URIRef
    name: str
    normalised: str
    countries: frozenset[str]


@dataclass
class Index:
    """Every name in the graph, normalised once, with word rarity."""

    candidates: list[Candidate]
    idf: dict[str, float]
    default_idf: float

    @classmethod
    def from_backend(cls, backend: Backend) -> Index:
        names: dict[URIRef, set[str]] = {}
        countries: dict[URIRef, set[str]] = {}
        for row in backend.select(lookup_query("screen-names")).rows:
            party = row["party"]
            assert isinstance(party, URIRef)
            if row.get("name") is not None:
                names.setdefault(party, set()).add(str(row["name"]))
            if row.get("country") is not None:
                countries.setdefault(party, set()).add(str(row["country"]))
        candidates = []
        for party, labels in names.items():
            for label in sorted(labels):
                normalised = normalise_name(label)
                if normalised:
                    candidates.append(Candidate(party, label, normalised,
                                                frozenset(countries.get(party, set()))))
        documents = Counter()
        for c in candidates:
            documents.update(set(c.normalised.split()))
        total = max(len(candidates), 1)
        idf = {w: math.log(1 + total / n) for w, n in documents.items()}
        return cls(candidates, idf, math.log(1 + total))


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


def _expand(query_words: list[str], candidate_words: list[str]) -> tuple[list[str], list[str]]:
    """Replace a query word that abbreviates a candidate word ("tech" -> "technologies")."""
    expanded, notes = [], []
    for word in query_words:
        if word in candidate_words or len(word) < 3:
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
        best = max((fuzz.ratio(w, o) for o in others), default=0.0)
        if best >= WORD_MATCH:
            got += index.idf.get(w, index.default_idf) * best / 100
    return got / weight


def score(query: str, candidate: Candidate, index: Index, country: str | None = None) -> tuple[float, str]:
    """The score (0-100) of ``candidate`` for ``query`` and the sentence that explains it."""
    q_words = normalise_name(query).split()
    c_words = candidate.normalised.split()
    q_words, notes = _expand(q_words, c_words)
    q_text = " ".join(q_words)
    sort_ratio = fuzz.token_sort_ratio(q_text, candidate.normalised)
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


def screen(backend: Backend, name: str, country: str | None = None, limit: int = 10,
           threshold: float = 75.0, index: Index | None = None, on: str | None = None,
           include_ended: bool = False) -> list[Match]:
    """The parties whose names best match ``name``, best first, one answer per party.

    Each answer says what holds on ``on`` (an ISO date; default today, or
    ``TRADEKG_TODAY``): listings, rules and exceptions that ended before it are
    left out unless ``include_ended``, and then marked "ended"; a rule
    suspended on that date is marked so. Legal reach (``rules``) and exposure
    through a listed parent or affiliate (``exposure``) are kept apart.
    """
    if on is None:
        from kg.queries import today

        on = str(today())
    index = index or Index.from_backend(backend)
    country = country.upper() if country else None
    wanted = normalise_name(name)
    if not wanted:
        return []
    # A cheap rapidfuzz pre-selection keeps the exact scorer off most of a large index.
    pool = process.extract(wanted, [c.normalised for c in index.candidates], scorer=fuzz.token_set_ratio,
                           limit=max(200, limit * 20), score_cutoff=40)
    best: dict[URIRef, Match] = {}
    for _, _, i in pool:
        candidate = index.candidates[i]
        total, why = score(name, candidate, index, country)
        if total < threshold:
            continue
        known = best.get(candidate.party)
        if known is None or total > known.score:
            best[candidate.party] = Match(round(total, 1), candidate.party, candidate.name, why)
    ranked = sorted(best.values(), key=lambda m: (-m.score, m.matched_name))
    for match in ranked[: limit * 2]:
        _describe(backend, match, on, include_ended)
    # Equal scores: the party whose own name matched, then the one with more list entries, first.
    ranked[: limit * 2] = sorted(ranked[: limit * 2], key=lambda m: (
        -m.score, m.label != m.matched_name, -len(m.designations), m.matched_name))
    return ranked[:limit]


def _period_status(start: str, end: str, on: str) -> str:
    """"ended END" / "from START (not yet)" / "" (holds), by ISO text."""
    if end and end < on:
        return f"ended {end}"
    if start and start > on:
        return f"not yet in force on {on}"
    return ""


def _describe(backend: Backend, match: Match, on: str, include_ended: bool) -> None:
    rows = backend.select(lookup_query("screen-party"), {"party": match.party}).rows
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
