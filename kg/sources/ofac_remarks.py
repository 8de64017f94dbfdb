"""Read the facts in OFAC's Remarks field, where they follow OFAC's regular forms.

OFAC's legacy CSV files put most of what they know about an entry into one
free-text Remarks field, as "; "-separated statements in a small number of
fixed forms: ``DOB 01 Jan 1962``, ``POB Tehran, Iran``, ``nationality Iran``,
``Passport A123 (Iran)``, ``Unified Social Credit Code (USCC) 9144... (China)``,
``ISIN CND10003D0F9``, ``Equity Ticker CHL US``, ``Linked To: HAMAS``,
``Listing Date (CMIC) 03 Jun 2021``, ``Effective Date (EO 14024 Directive 3): 26 Mar 2022``...
Each statement in one of these forms becomes a fact; every other statement
is left alone (the whole Remarks text is always kept verbatim, so nothing is
lost). ``parse_remarks`` says which form each statement matched, so an import
can report how many it read of each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_ONE_DATE = rf"(?:circa )?(?:[0-9]{{1,2}} (?:{_MONTHS}) [0-9]{{4}}|(?:{_MONTHS}) [0-9]{{4}}|[0-9]{{4}})"
_DATE_VALUE = re.compile(rf"^(?P<a>{_ONE_DATE})(?: to (?P<b>{_ONE_DATE}))?$")
_DAY = re.compile(rf"^[0-9]{{1,2}} (?:{_MONTHS}) [0-9]{{4}}$")

_REGISTRATION_KINDS = (
    "Registration Number", "Registration ID", "Tax ID No.", "National ID No.", "Company Number",
    "Commercial Registry Number", "Public Registration Number", "Government Gazette Number",
    "Legal Entity Number", "Identification Number", "Cedula No.", "NIT #", "RUC #", "D.N.I.",
    "Folio Mercantil No.", "Matricula Mercantil No", "Business Registration Number", "Business Number",
    "Personal ID Card", "Residency Number", "SSN", "C.U.I.T.", "C.U.R.P.", "R.F.C.", "Trade License No.",
    "Vessel Registration Identification", "MMSI", "SWIFT/BIC", "Aircraft Manufacturer's Serial Number (MSN)",
    "Aircraft Tail Number",
)
_KINDS = "|".join(re.escape(k) for k in sorted(_REGISTRATION_KINDS, key=len, reverse=True))

# form name -> pattern over one statement (without its trailing period)
FORMS: dict[str, re.Pattern[str]] = {
    "date of birth": re.compile(r"^(?:alt\. )?DOB (?P<value>.+)$"),
    "place of birth": re.compile(r"^(?:alt\. )?POB (?P<value>.+)$"),
    "nationality": re.compile(r"^(?:alt\. )?(?:nationality|citizen|Nationality of Registration) (?P<value>.+)$"),
    "USCC": re.compile(
        r"^(?:alt\. )?Unified Social Credit Code \(USCC\) (?P<value>[0-9A-Z]{18})(?: \((?P<country>[^)]+)\))?$"),
    "ISIN": re.compile(r"^(?:alt\. )?ISIN (?P<value>[A-Z]{2}[A-Z0-9]{9}[0-9])$"),
    "equity ticker": re.compile(r"^(?:alt\. )?Equity Ticker (?P<value>.+)$"),
    "passport": re.compile(r"^(?:alt\. )?Passport (?P<value>.+)$"),
    "registration number": re.compile(rf"^(?:alt\. )?(?P<kind>{_KINDS}) (?P<value>.+)$"),
    "linked to": re.compile(r"^Linked To: (?P<value>.+)$"),
    "CMIC listing date": re.compile(r"^Listing Date \(CMIC\):? (?P<value>.+)$"),
    "CMIC effective date": re.compile(r"^Effective Date \(CMIC\):? (?P<value>.+)$"),
    "CMIC purchase/sale-for-divestment date": re.compile(
        r"^Purchase/Sales For Divestment Date \(CMIC\):? (?P<value>.+)$"),
    "directive listing date": re.compile(r"^Listing Date \((?P<kind>EO [0-9]+[^)]*)\):? (?P<value>.+)$"),
    "directive effective date": re.compile(r"^Effective Date \((?P<kind>EO [0-9]+[^)]*)\):? (?P<value>.+)$"),
    "alias": re.compile(r"^(?:a\.k\.a\.|f\.k\.a\.|n\.k\.a\.) '(?P<value>.+)'$"),
}
_DATE_FORMS = {"CMIC listing date", "CMIC effective date", "CMIC purchase/sale-for-divestment date",
               "directive listing date", "directive effective date"}


@dataclass
class RemarkFacts:
    """What the remarks of one entry say, in the forms read; ``unparsed`` keeps the rest verbatim."""

    dates_of_birth: list[str] = field(default_factory=list)
    places_of_birth: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    uscc: list[str] = field(default_factory=list)
    isin: list[str] = field(default_factory=list)
    tickers: list[str] = field(default_factory=list)
    passports: list[str] = field(default_factory=list)
    registrations: list[str] = field(default_factory=list)
    linked_to: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    listing_date: str | None = None
    effective_date: str | None = None
    divestment_date: str | None = None
    identifiers: list[str] = field(default_factory=list)  # identifying statements, verbatim
    forms: dict[str, int] = field(default_factory=dict)  # form -> statements read in it
    unparsed: list[str] = field(default_factory=list)


def iso_day(value: str) -> str | None:
    """ "03 Jun 2021" -> "2021-06-03"; None for anything else."""
    try:
        return datetime.strptime(value.strip(), "%d %b %Y").date().isoformat()
    except ValueError:
        return None


def _one(value: str) -> str:
    circa = value.startswith("circa ")
    value = value.removeprefix("circa ")
    if _DAY.match(value):
        out = datetime.strptime(value, "%d %b %Y").date().isoformat()
    elif re.fullmatch(rf"(?:{_MONTHS}) [0-9]{{4}}", value):
        out = datetime.strptime(value, "%b %Y").strftime("%Y-%m")
    else:
        out = value
    return f"circa {out}" if circa else out


def birth_date(value: str) -> str | None:
    """An OFAC DOB ("01 Jan 1962", "Jan 1962", "1962", "circa 1955", "1960 to 1962") in ISO order."""
    match = _DATE_VALUE.match(value.strip())
    if not match:
        return None
    a, b = match.group("a"), match.group("b")
    return _one(a) + (f" to {_one(b)}" if b else "")


def split_statements(remarks: str) -> list[str]:
    """The "; "-separated statements of a Remarks field, without the final period."""
    text = remarks.strip()
    if text.endswith("."):
        text = text[:-1]
    return [s.strip() for s in re.split(r";\s+", text) if s.strip()]


def parse_remarks(remarks: str) -> RemarkFacts:
    facts = RemarkFacts()
    for statement in split_statements(remarks):
        form, match = _match(statement)
        if form is None or match is None:
            facts.unparsed.append(statement)
            continue
        value = match.group("value").strip().rstrip(".")
        if form in _DATE_FORMS:
            day = iso_day(value)
            if day is None:
                facts.unparsed.append(statement)
                continue
            if form in ("CMIC listing date", "directive listing date"):
                facts.listing_date = facts.listing_date or day
            elif form in ("CMIC effective date", "directive effective date"):
                facts.effective_date = facts.effective_date or day
            else:
                facts.divestment_date = facts.divestment_date or day
        elif form == "date of birth":
            parsed = birth_date(value)
            if parsed is None:
                facts.unparsed.append(statement)
                continue
            facts.dates_of_birth.append(parsed)
        elif form == "place of birth":
            facts.places_of_birth.append(value)
        elif form == "nationality":
            facts.nationalities.append(value)
        elif form == "USCC":
            facts.uscc.append(value)
            facts.identifiers.append(statement)
        elif form == "ISIN":
            facts.isin.append(value)
            facts.identifiers.append(statement.removeprefix("alt. "))
        elif form == "equity ticker":
            facts.tickers.append(value)
        elif form == "passport":
            facts.passports.append(value)
            facts.identifiers.append(statement.removeprefix("alt. "))
        elif form == "registration number":
            facts.registrations.append(f"{match.group('kind')} {value}")
            facts.identifiers.append(statement.removeprefix("alt. "))
        elif form == "linked to":
            facts.linked_to.append(value)
        elif form == "alias":
            facts.aliases.append(value)
        facts.forms[form] = facts.forms.get(form, 0) + 1
    for name in ("dates_of_birth", "places_of_birth", "nationalities", "uscc", "isin", "tickers", "passports",
                 "registrations", "linked_to", "aliases", "identifiers"):
        setattr(facts, name, list(dict.fromkeys(getattr(facts, name))))
    return facts


def _match(statement: str) -> tuple[str | None, re.Match[str] | None]:
    for form, pattern in FORMS.items():
        match = pattern.match(statement)
        if match:
            return form, match
    return None, None
