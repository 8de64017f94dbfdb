"""Which party, designation or rule in the graph an imported record is about.

Every importer (CSL, OFAC, the Federal Register) meets
parties, entries and rules the graph may already hold. Two sources that see
the same listing must give one designation with two sources, and a rule cited
by its first page, another page of it or its FR document number must be one
rule: a second node would read as a second listing or a second rule. This
module decides those identities, the same way for every importer, and says how
each decision was made, so that import reports and ``show`` can explain it.

Interface (all pure Python; the indexes are filled from the store by the
importer, or from anything else):

* ``parse_fr_citation("84 FR 22963")`` -> ``FrCitation(84, 22963)``, or None.
* ``fr_document_numbers(text)``: the FR document numbers ("2022-19415") in a cell.
* ``RuleIndex``: ``add(RuleFacts(...))`` for every known rule, then
  ``match(citation_or_document_number)`` -> ``RuleMatch`` or None. A citation
  equal to a rule's citation, then a document number equal to a rule's, then
  an FR page inside exactly one rule's printed page range (same volume,
  start <= page <= end) is that rule; else a page a few pages after the first
  page of a rule whose last page is not known, with no other known document
  starting between them, is that rule, *inferred* (``BY_INFERRED_PAGE``).
* ``PartyIndex``: ``add(iri, names, country, identifiers, whose)`` for every
  party an import may land on (curated, or made by an importer: ``whose``),
  then ``match(names, countries, identifiers, kind, order)`` -> ``Match`` or
  None: first by an identifier of the same scheme (an OFAC entity number the
  CSL copied, a Federal Register agency id or slug), then by folded name, of
  the same kind, with no conflicting country, and only when exactly one party
  fits. The CSL importer, the OFAC importer (its entries' parties and Linked
  To names) and the Federal Register importer (agencies) all match here.
* ``DesignationIndex``: ``add(DesignationFacts(...))`` for every designation,
  then ``match(party, list, identifiers)`` -> ``Match`` or None: by the list's
  own identifier for the entry where both sides have one, then by the same
  party on the same list (the entry in force, when the party has several).

A ``Match`` carries ``method`` (one of the ``BY_*`` constants below, stored as
``tkg:matchMethod``) and ``explanation`` (a sentence for people, stored as
``tkg:matchExplanation``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kg.answers.resolve import normalise as normalise_name  # names are matched as users' parameters are
from kg.namespaces import DATA

BY_IDENTIFIER = "identifier"
BY_NAME_AND_COUNTRY = "name and country"
BY_NAME = "name"
BY_PARTY_AND_LIST = "party and list"
BY_CITATION = "citation"
BY_DOCUMENT_NUMBER = "document number"
BY_PAGE_RANGE = "page range"
BY_INFERRED_PAGE = "page range (inferred)"
# How far after a rule's first page a citation may fall to be inferred as a page of that rule when its
# last page is not known (85 FR 51603 is page 8 of 85 FR 51596); further than this it stays unresolved.
MAX_INFERRED_PAGES = 20

# "84 FR 22961", "84 F.R. 22961", "84FR22961": volume and page, ASCII digits not glued to others.
FR_CITATION = re.compile(r"(?<![0-9])([0-9]{1,3})\s*F\.?\s*R\.?\s*([0-9]{1,6})(?![0-9])", re.IGNORECASE)
# FR document numbers: "2022-19415", "E9-17295"; not dates ("2019-05-21": the part after the hyphen has 4-5 digits).
_DOC_NUMBER = re.compile(r"(?<![0-9A-Za-z-])((?:19|20)[0-9]{2}-[0-9]{4,5}|E[0-9]-[0-9]{4,5})(?![0-9-])")




@dataclass(frozen=True, order=True)
class FrCitation:
    volume: int
    page: int

    def __str__(self) -> str:
        return f"{self.volume} FR {self.page}"


def parse_fr_citation(text: str) -> FrCitation | None:
    """The citation when the whole text is one FR citation ("84 FR 22963"), else None."""
    match = FR_CITATION.fullmatch((text or "").strip())
    if not match or not int(match.group(1)) or not int(match.group(2)):
        return None
    return FrCitation(int(match.group(1)), int(match.group(2)))


def fr_document_numbers(text: str) -> list[str]:
    """Every FR document number in a free-text cell, in order, once each."""
    return list(dict.fromkeys(_DOC_NUMBER.findall(text or "")))


# --------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleFacts:
    """What identifies a rule: its citation, document number and FR pages (any may be unknown)."""

    iri: str
    citation: str | None = None
    document_number: str | None = None
    start_page: int | None = None
    end_page: int | None = None
    label: str | None = None
    # A node an importer minted for a citation it could not resolve: found by that citation only,
    # never a page range (its pages are not known) nor a bound on other rules' inferred ranges.
    placeholder: bool = False


@dataclass(frozen=True)
class RuleMatch:
    iri: str
    method: str
    explanation: str


@dataclass
class RuleIndex:
    by_citation: dict[str, str] = field(default_factory=dict)
    by_document_number: dict[str, str] = field(default_factory=dict)
    ranges: dict[int, list[tuple[int, int | None, RuleFacts]]] = field(default_factory=dict)

    def add(self, rule: RuleFacts) -> None:
        if rule.citation:
            self.by_citation.setdefault(_citation_key(rule.citation), rule.iri)
        if rule.document_number:
            self.by_document_number.setdefault(rule.document_number.strip().upper(), rule.iri)
        cited = parse_fr_citation(rule.citation or "")
        if cited is None or rule.placeholder:
            return
        # A citation "84 FR 22961" is the document's first page: its range starts there even where
        # no source gave start_page. The last page stays unknown (None) unless a source printed it.
        start = rule.start_page if rule.start_page is not None else cited.page
        self.ranges.setdefault(cited.volume, []).append((start, rule.end_page, rule))

    def match(self, text: str) -> RuleMatch | None:
        """The rule a citation or document number names, or None when no known rule fits (or several do).

        In order: the rule's own citation; its FR document number; a page inside exactly one rule's
        printed range (first to last page); else a page a few pages after the first page of a rule
        whose last page is not known, with no other known document starting between them: that match
        is *inferred* (method ``BY_INFERRED_PAGE``) and says so, because the range was never printed.
        """
        key = _citation_key(text)
        if key in self.by_citation:
            return RuleMatch(self.by_citation[key], BY_CITATION, f"{text.strip()} is the rule's citation")
        number = text.strip().upper()
        if number in self.by_document_number:
            return RuleMatch(self.by_document_number[number], BY_DOCUMENT_NUMBER,
                             f"{text.strip()} is the rule's FR document number")
        cited = parse_fr_citation(text)
        if cited is None:
            return None
        ranges = self.ranges.get(cited.volume, [])
        fitting = {r.iri: (start, end, r) for start, end, r in ranges
                   if end is not None and start <= cited.page <= end}
        if len(fitting) == 1:
            start, end, rule = next(iter(fitting.values()))
            return RuleMatch(rule.iri, BY_PAGE_RANGE,
                             f"{cited} is page {cited.page} of {rule.citation} (pages {start}-{end})")
        if fitting:
            return None  # a page two printed ranges share: which document is meant is not known
        # No printed range holds the page. The nearest first page at or before it, if its document's
        # last page is unknown and the gap is small, is that document (DOMAIN E2: strong evidence, not proof).
        before = [(start, end, r) for start, end, r in ranges if start <= cited.page]
        if not before:
            return None
        nearest = max(start for start, _, _ in before)
        candidates = {r.iri: (start, end, r) for start, end, r in before if start == nearest}
        if len(candidates) != 1:
            return None
        start, end, rule = next(iter(candidates.values()))
        if end is not None or cited.page - start > MAX_INFERRED_PAGES:
            return None
        following = [s for s, _, _ in ranges if s > cited.page]
        bound = f"; the next known document in volume {cited.volume} starts at page {min(following)}" \
            if following else ""
        return RuleMatch(rule.iri, BY_INFERRED_PAGE,
                         f"{cited} inferred to be page {cited.page} of {rule.citation}: "
                         f"{cited.page - start} page(s) after its first page, its last page not known, "
                         f"no other known document starting between them{bound} (range inferred, not printed)")


def _citation_key(text: str) -> str:
    cited = parse_fr_citation(text)
    return str(cited) if cited is not None else normalise_name(text)


# --------------------------------------------------------------------------
# Parties
# --------------------------------------------------------------------------

def name_key(name: str) -> str:
    """Case, accents, punctuation and spacing folded: "HUAWEI TECHNOLOGIES CO., LTD." = "Huawei Technologies Co Ltd".

    The looser of the two foldings (``PartyIndex.key``): letters outside ASCII
    are dropped unless nothing else is left.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii") or name
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s&]+", " ", folded.casefold())).strip()


def kind_of(iri: str) -> str:
    """The kind of party an entity IRI names (``company``, ``person``, ``agency``...), from its path."""
    return iri[len(str(DATA)):].split("/", 1)[0] if iri.startswith(str(DATA)) else ""


# Identifiers importers give the parties they make: "csl-" (kg.sources.csl), "ofac-", "frapi-".
_MADE_BY = (("csl-", "CSL-imported"), ("ofac-", "OFAC-imported"), ("frapi-", "FR-imported"))


def whose(iri: str) -> str:
    """Who made the party: "curated" (the project's tables), or the importer whose identifier it bears."""
    local = iri[len(str(DATA)):].split("/", 1)[-1] if iri.startswith(str(DATA)) else ""
    return next((label for prefix, label in _MADE_BY if local.startswith(prefix)), "curated")


# The scheme under which PartyIndex holds the identifiers list entries print for their parties.
PRINTED_IDENTIFIER = "printed identifier"


def identifier_key(kind: str, value: str) -> str | None:
    """One key for an identifier however a list prints it: OFAC's remark "Unified Social Credit Code (USCC)
    91120000783342508F", a CSL cell "Unified Social Credit Code (USCC), 91120000783342508F, CN", OFAC's
    "Registration ID C122790" and the CSL's "Registration ID, C122790" meet on "uscc 9112..." and
    "registration id c122790". ``kind`` is "uscc", "registration" (OFAC's remark forms) or "csl" (a CSL ids
    value). Identifiers that name no party (web sites, e-mail, gender, directives) give None."""
    if kind == "uscc":
        return f"uscc {value.strip().upper()}"
    if kind == "csl":
        parts = [p.strip() for p in value.split(",")]
        if len(parts) < 2 or not parts[1]:
            return None
        label, number = parts[0], parts[1]
        if "USCC" in label or "Unified Social Credit" in label:
            return f"uscc {number.upper()}"
        if not re.search(r"registration|registry|company number|tax id|inn\b|ogrn|vat", label, re.IGNORECASE):
            return None
        return f"{name_key(label)} {number.casefold()}"
    if kind == "registration":
        label, _, number = value.rpartition(" ")
        return f"{name_key(label)} {number.casefold()}" if label and number else None
    return None


@dataclass(frozen=True)
class Match:
    iri: str
    method: str
    explanation: str
    whose: str = "curated"  # whose party it is: "curated", or the importer's that made it ("CSL-imported")


@dataclass(frozen=True)
class _Candidate:
    iri: str
    country: str | None
    whose: str


@dataclass
class PartyIndex:
    """Every party an import may land on, by identifier and by folded name; ``match`` picks one or none.

    ``key`` folds names before they are compared: ``normalise_name`` (case and
    spacing, what users' parameters get) or ``name_key`` (also accents and
    punctuation). A party's kind is read from its IRI (``kind_of``).
    """

    key: Callable[[str], str] = normalise_name
    names: dict[str, list[_Candidate]] = field(default_factory=dict)  # folded name -> candidates
    identifiers: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (scheme, value) -> iris
    whose_of: dict[str, str] = field(default_factory=dict)  # iri -> whose party it is

    def add(self, iri: str, names: Iterable[str], country: str | None = None,
            identifiers: Mapping[str, str] | None = None, whose: str = "curated") -> None:
        self.whose_of.setdefault(iri, whose)
        for name in names:
            entry = _Candidate(iri, country, whose)
            bucket = self.names.setdefault(self.key(name), [])
            if entry not in bucket:
                bucket.append(entry)
        for scheme, value in (identifiers or {}).items():
            self.identifiers.setdefault((scheme, value.strip()), set()).add(iri)

    def match(self, names: Sequence[str], countries: Sequence[str] = (),
              identifiers: Mapping[str, str] | None = None, kind: str | None = None,
              order: Sequence[str] | None = None, stop_when_ambiguous: bool = False,
              report: list[str] | None = None) -> Match | None:
        """The one party these identifiers, else these names (in order), point to; None when none or several do.

        First an identifier of the same scheme held by exactly one party. Then,
        for each group of parties in ``order`` (whose they are; None: all
        together), each name in turn: the parties of that folded name, of the
        same ``kind`` when given, whose country (when both sides have one) is one
        of ``countries``. Exactly one is the match; several are no match for that
        name, and with ``stop_when_ambiguous`` no match at all: a wrong merge puts
        one firm's restrictions on another, which is worse than two nodes. ``report``, when given, is told
        of every ambiguous identifier or name (for review: never merged silently).
        """
        for scheme, value in (identifiers or {}).items():
            hits = self.identifiers.get((scheme, value.strip()), set())
            if len(hits) == 1:
                iri = next(iter(hits))
                return Match(iri, BY_IDENTIFIER, f"same {scheme} {value.strip()!r}", self.whose_of.get(iri, "curated"))
            if len(hits) > 1 and report is not None:
                report.append(f"warning: {scheme} {value.strip()!r} is printed for {len(hits)} parties "
                              f"({', '.join(sorted(hits))}); not merged: review")
        for group in (order or [None]):
            for name in names:
                fitting: dict[str, _Candidate] = {}
                for c in self.names.get(self.key(name), []):
                    if (group is None or c.whose == group) and (kind is None or kind_of(c.iri) == kind) \
                            and (c.country is None or not countries or c.country in countries):
                        fitting.setdefault(c.iri, c)
                if len(fitting) > 1 and report is not None:
                    report.append(f"warning: {names[0]!r}: the name {name!r} fits {len(fitting)} "
                                  f"{group or 'known'} parties ({', '.join(sorted(fitting))}); not merged: review")
                if len(fitting) > 1 and stop_when_ambiguous:
                    return None
                if len(fitting) != 1:
                    continue
                found = next(iter(fitting.values()))
                if found.country is not None and countries:
                    return Match(found.iri, BY_NAME_AND_COUNTRY, f"same normalised name {self.key(name)!r} "
                                 f"and country {found.country}", found.whose)
                return Match(found.iri, BY_NAME, f"same normalised name {self.key(name)!r} "
                                                 "(no country on one side to compare)", found.whose)
        return None


# --------------------------------------------------------------------------
# Designations
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class DesignationFacts:
    iri: str
    party: str
    list: str
    start: str | None = None
    end: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()  # (scheme, value): the list's own ids for the entry


@dataclass
class DesignationIndex:
    by_party_list: dict[tuple[str, str], list[DesignationFacts]] = field(default_factory=dict)
    by_identifier: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)  # (list, scheme, value)

    def add(self, facts: DesignationFacts) -> None:
        self.by_party_list.setdefault((facts.party, facts.list), []).append(facts)
        for scheme, value in facts.identifiers:
            self.by_identifier.setdefault((facts.list, scheme, value.strip()), set()).add(facts.iri)

    def match(self, party: str, list_iri: str, identifiers: Mapping[str, str] | None = None,
              party_match: Match | None = None) -> Match | None:
        for scheme, value in (identifiers or {}).items():
            hits = self.by_identifier.get((list_iri, scheme, value.strip()), set())
            if len(hits) == 1:
                return Match(next(iter(hits)), BY_IDENTIFIER, f"same {scheme} {value.strip()!r} on the same list")
        entries = self.by_party_list.get((party, list_iri), [])
        if len(entries) > 1:
            entries = [e for e in entries if e.end is None]  # the entry in force
        if len(entries) != 1:
            return None
        how = f"party found by {party_match.method} ({party_match.explanation})" if party_match else "same party"
        return Match(entries[0].iri, BY_PARTY_AND_LIST, f"the party's entry on the same list; {how}")
