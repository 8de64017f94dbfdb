"""``tradekg show``: one entity, its statements, what points at it, its sources.

An analyst checking a counterparty wants the evidence next to the claim, so
the sources (title and URL) of the entity's facts are listed in full. For a
firm, what the derived rule effects say reaches it is shown in two parts
worded apart (issue 10): legal reach (rules that restrict the firm itself,
change its entry, or authorize an exception for it) and exposure (a listed
parent or affiliate, which no rule extends to the firm: never a designation
of it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import RDF, Literal, URIRef
from rdflib.namespace import DCTERMS, XSD
from rdflib.term import Node

from kg.answers.queries import today
from kg.answers.render import cell_text, shorten
from kg.answers.resolve import resolve_entity
from kg.graph.backend import Backend, ResultTable
from kg.loaders.tables import load_catalog
from kg.namespaces import CONCEPT, SCHEMA, TKG
from kg.resources import lookup_query


@dataclass
class Statement:
    property: URIRef
    property_label: str
    value: Node
    value_label: str | None


@dataclass
class Description:
    entity: URIRef
    statements: list[Statement] = field(default_factory=list)
    incoming: list[tuple[str, str, str]] = field(default_factory=list)  # (property, subject label, type)
    sources: list[tuple[str, str]] = field(default_factory=list)  # (title, url)
    is_firm: bool = False
    reach: list[Reach] = field(default_factory=list)  # legal reach and exposure, in date order
    status: str | None = None  # a rule's status on today's date (rule_status)
    history: list[str] = field(default_factory=list)  # a rule's dated events, oldest first
    person_terms: list[str] = field(default_factory=list)  # a person's posts and terms
    list_held: str | None = None  # a list: how many of its entries the graph holds

    def listings(self) -> list[Reach]:
        """Entries on a list that prohibits nothing by itself (effect "listed", "listed again")."""
        return [r for r in self.reach if not r.exposure and r.listing]

    def exporter_side(self) -> list[Reach]:
        return [r for r in self.reach if not r.exposure and r.exporter]

    def legal_reach(self) -> list[Reach]:
        return [r for r in self.reach if not r.exposure and not r.listing and not r.exporter]

    def exposure(self) -> list[Reach]:
        return [r for r in self.reach if r.exposure]

    def as_table(self) -> ResultTable:
        """The statements, then one ``tkg:reach`` row per reach line (value: the RuleEffect).

        The columns stay those of the statements; a reach row's valueLabel is the
        line ``show`` prints, led by "legal reach: " or "exposure (not a
        designation of this firm): " so a CSV reader cannot take one for the other.
        """
        table = ResultTable(["entity", "property", "value", "valueLabel"])
        for s in self.statements:
            row: dict[str, Node] = {"entity": self.entity, "property": s.property, "value": s.value}
            if s.value_label:
                row["valueLabel"] = Literal(s.value_label)
            table.rows.append(row)
        for r in self.reach:
            table.rows.append({"entity": self.entity, "property": TKG.reach, "value": r.effect,
                               "valueLabel": Literal(f"{r.section}: {r.line}")})
        # A rule's status and history, a person's terms, a list's held entries: the
        # lines `show` prints, one row each, so CSV and JSON readers get them too.
        extra = ([(TKG.ruleStatus, f"status {self.status}")] if self.status else []) + \
            [(TKG.ruleHistory, h) for h in (self.history if self.status else [])] + \
            [(TKG.postHeld, t) for t in self.person_terms] + \
            ([(TKG.entriesHeld, self.list_held)] if self.list_held else [])
        for prop, text in extra:
            table.rows.append({"entity": self.entity, "property": prop, "value": Literal(text),
                               "valueLabel": Literal(text)})
        return table


LEGAL_REACH = "legal reach"
EXPOSURE = "exposure (not a designation of this firm)"
LISTING = "listed (on a list that prohibits nothing by itself; its legal reach is the acts above)"
EXPORTER = "exporter-side (licence requirements on its own exports, not a restriction on dealing with it)"


@dataclass
class Reach:
    """One derived rule effect on the firm, worded for its section."""

    effect: URIRef  # the tkg:RuleEffect node
    rule: URIRef
    exposure: bool  # reach:exposure: a listed parent or affiliate, not legal reach
    line: str
    status: str = ""  # "holds on ...", "ended ...", "not yet in force on ...", "suspended on ..."
    listing: bool = False  # effect "listed" / "listed again": a listing, not a prohibition
    exporter: bool = False  # reach "as the exporter": exporter-side

    @property
    def section(self) -> str:
        if self.exposure:
            return EXPOSURE
        return LISTING if self.listing else EXPORTER if self.exporter else LEGAL_REACH


def describe(backend: Backend, text: str, tables: tuple[str, ...] | None = None) -> Description:
    tables = tables or tuple(load_catalog().tables)
    entity = resolve_entity(backend, text, tables)
    description = Description(entity)
    labels: dict[Node, str] = {}
    for row in backend.select(lookup_query("describe-out"), {"entity": entity}).rows:
        prop = row["property"]
        value = row["value"]
        assert isinstance(prop, URIRef)
        if "valueLabel" in row:
            labels.setdefault(value, str(row["valueLabel"]))
        if any(s.property == prop and s.value == value for s in description.statements):
            continue
        description.statements.append(Statement(prop, str(row.get("propertyLabel", shorten(str(prop)))),
                                                value, None))
    for statement in description.statements:
        statement.value_label = labels.get(statement.value)
    seen = set()
    entries = _list_entries(backend, entity)
    for row in backend.select(lookup_query("describe-in"), {"entity": entity}).rows:
        key = (str(row["property"]), str(row["subject"]))
        if key in seen:
            continue
        seen.add(key)
        subject = str(row.get("subjectLabel", "")) or entries.get(str(row["subject"]), "") or \
            shorten(str(row["subject"]))
        description.incoming.append((
            str(row.get("propertyLabel", shorten(str(row["property"])))),
            subject,
            str(row.get("subjectType", "")),
        ))
    for statement in description.statements:
        if statement.property == DCTERMS.source and isinstance(statement.value, URIRef):
            rows = backend.select(lookup_query("describe-out"), {"entity": statement.value}).rows
            url = next((str(r["value"]) for r in rows if r["property"] == SCHEMA.url), "")
            description.sources.append((statement.value_label or shorten(str(statement.value)), url))
    description.is_firm = any(s.property == RDF.type and s.value == TKG.Company for s in description.statements)
    if description.is_firm:
        description.reach = firm_reach(backend, entity)
    types = {s.value for s in description.statements if s.property == RDF.type}
    if TKG.Rule in types:
        description.status, description.history = rule_status(backend, entity, str(today()))
    if TKG.Person in types:
        description.person_terms = person_terms(backend, entity)
    if TKG.RestrictedPartyList in types:
        description.list_held = list_held(backend, entity, str(today()))
    return description


def _name(row: dict[str, Node]) -> str:
    by = str(row.get("byLabel", "")) or shorten(str(row.get("by", "")))
    citation = row.get("byCitation")
    return f"{by} ({citation})" if citation is not None and str(citation) not in by else by


def rule_status(backend: Backend, rule: URIRef, on: str) -> tuple[str, list[str]]:
    """A rule's status on ``on`` and its history, from queries/lookup/rule-lifecycle.rq.

    In force, not yet in force, suspended / not enforced / rescinded (from, to,
    by what), superseded, no longer in force: each said with its date and the
    act behind it, so that no answer treats a suspended or unenforced rule as
    in force. A suspension that has ended says what its own terms were.
    """
    rows = backend.select(lookup_query("rule-lifecycle"), {"entity": rule}).rows
    dates: dict[str, str] = {}
    history: list[str] = []
    status = ""
    ended_suspension = ""
    for row in rows:
        event, date = str(row["event"]), str(row.get("date", "")) or "date not recorded"
        if event in ("signed", "published", "in force", "no longer in force"):
            dates.setdefault(event, date)
            history.append(f"{date}  {event}")
        elif event == "suspension":
            kind = str(row.get("kind", "")) or "suspended"
            words = {"suspended": "suspended", "not-enforced": "not enforced", "rescinded": "rescinded"}[kind]
            until = str(row["until"]) if row.get("until") is not None else None
            span = f"to {until}" if until else "end not recorded"
            history.append(f"{date}  {words} by {_name(row)} ({span})")
            if until:
                history.append(f"{until}  {words} until this day (by its terms)")
            if date <= on and (until is None or until >= on):
                status = f"{words} since {date} by {_name(row)} ({span})"
            elif until is not None and until < on:
                ended_suspension = f"; it was {words} from {date} to {until} by {_name(row)}"
                if row.get("note") is not None:
                    ended_suspension += f" ({row['note']})"
        else:  # amended, superseded
            history.append(f"{date}  {event} by {_name(row)}")
            if event == "superseded" and date <= on and not status:
                status = f"superseded since {date} by {_name(row)}"
    start = dates.get("in force") or dates.get("published") or dates.get("signed")
    end = dates.get("no longer in force")
    if not status:
        if start is None:
            status = "not known: no date of the rule is recorded"
        elif start > on:
            status = f"not yet in force (in force from {start})"
        elif end is not None and end < on:
            status = f"no longer in force since {end}"
        else:
            if "in force" in dates:
                status = f"in force since {start}{ended_suspension}"
            else:
                how = "signed" if "signed" in dates else "published"
                status = f"in force: {how} {start} (its effective date is not recorded){ended_suspension}"
    return f"on {on}: {status}", sorted(dict.fromkeys(history))


def person_terms(backend: Backend, person: URIRef) -> list[str]:
    """A person's posts: "Under Secretary ... (Bureau of Industry and Security), 2022-04-19 to 2025-01"."""
    lines: list[str] = []
    for row in backend.select(lookup_query("person-terms"), {"entity": person}).rows:
        span = f"{row.get('start', 'start not recorded')} to {row['end']}" if row.get("end") is not None \
            else f"since {row.get('start', 'start not recorded')}"
        extra = []
        if row.get("nominated") is not None:
            extra.append(f"nominated {row['nominated']}")
        if row.get("confirmed") is not None:
            extra.append(f"confirmed {row['confirmed']}")
        more = f"; {', '.join(extra)}" if extra else ""
        lines.append(f"{row['post']} ({row['agency']}), {span}{more}")
    return lines


def list_held(backend: Backend, lst: URIRef, on: str) -> str:
    """"6 of 134 entries held (entities on the January 2025 edition, 2025-01-07)", or why M is not known."""
    rows = backend.select(lookup_query("list-held"), {"entity": lst, "on": Literal(on, datatype=XSD.date)}).rows
    held = next((int(str(r["held"])) for r in rows if r.get("held") is not None), 0)
    sized = [r for r in rows if r.get("entries") is not None]
    if not sized:
        return f"{held} entries held on {on}; the list's size is not recorded, so the graph may hold only part of it"
    r = sized[-1]
    return (f"{r['heldThen']} of {r['entries']} entries held ({r['counted']}, {r['asOf']}); "
            f"{held} held on {on}")


_EXPOSURE = CONCEPT["reach/exposure"]
_EXPORTER = CONCEPT["reach/exporter"]
_LISTING_KINDS = {CONCEPT["effect-kind/lists"], CONCEPT["effect-kind/relists"]}


def firm_reach(backend: Backend, firm: URIRef, on: Literal | None = None) -> list[Reach]:
    """The firm's derived rule effects as lines, one per distinct wording (queries/lookup/firm-reach.rq).

    The status (holds, ended, not yet, suspended) is said for ``on`` (an
    xsd:date; the web page's as-of date), else today, or the date
    ``TRADEKG_TODAY`` pins.
    """
    found: list[Reach] = []
    seen: set[tuple[bool, str]] = set()
    for row in backend.select(lookup_query("firm-reach"), {"entity": firm, "today": on or today()}).rows:
        exposure = row["reachConcept"] == _EXPOSURE
        rule = _rule_name(row)
        period = _period(row)
        status = str(row["status"])
        if exposure:
            where = f"on {row['list']}" if row.get("list") is not None else \
                f"through {row['through']}" if row.get("through") is not None else "by the rule"
            parent = str(row.get("viaParent", "")) or shorten(str(row["rule"]))
            line = f"{row['effect']}: {parent} {where} ({rule}, {period}) — {status}"
        else:
            through = f"; {row['through']}" if row.get("through") is not None else ""
            line = f"{rule} — {row['effect']} ({row['reach']}{through}), {period} — {status}"
        if (exposure, line) in seen:
            continue
        seen.add((exposure, line))
        effect, rule_iri = row["effectNode"], row["rule"]
        assert isinstance(effect, URIRef) and isinstance(rule_iri, URIRef)
        found.append(Reach(effect, rule_iri, exposure, line, status, listing=row["kind"] in _LISTING_KINDS,
                           exporter=row["reachConcept"] == _EXPORTER))
    return found


def _rule_name(row: dict[str, Node]) -> str:
    """"84 FR 22961", "FR Doc 2022-19415", or the rule's short id when neither is recorded."""
    if row.get("citation") is not None:
        return str(row["citation"])
    if row.get("document") is not None:
        return f"FR Doc {row['document']}"
    return shorten(str(row["rule"]))


def _period(row: dict[str, Node]) -> str:
    start, end = row.get("from"), row.get("until")
    if start is None and row.get("knownSince") is not None:
        # The source gives no listing date: never shown as a start ("listed on or before" is in the status).
        return f"on or before {row['knownSince']}" + (f" to {end}" if end is not None else "")
    if start is None:
        return "date not recorded"
    return f"{start} to {end}" if end is not None else f"since {start}"


def _list_entries(backend: Backend, entity: URIRef) -> dict[str, str]:
    """Designation IRI -> "Entity List since 2019-05-16 (id:designation/el-huawei)": records have no label."""
    entries = {}
    for row in backend.select(lookup_query("party-designations"), {"entity": entity}).rows:
        text = str(row["list"])
        if row.get("start") is not None:
            text += f" since {row['start']}"
        elif row.get("knownSince") is not None:
            text += f" on or before {row['knownSince']} (no listing date in the source)"
        if row.get("end") is not None:
            text += f", ended {row['end']}" if row.get("start") is not None else f" until {row['end']}"
        entries[str(row["designation"])] = f"{text} ({shorten(str(row['designation']))})"
    return entries


_SKIP_IN_TABLE = {str(TKG.sourceFile), str(TKG.sourceHash), str(TKG.sourceLine), str(DCTERMS.source)}


def render_description(d: Description) -> str:
    lines = [f"{_title(d)}  <{d.entity}>"]
    types = [s.value_label or shorten(str(s.value)) for s in d.statements if s.property == RDF.type]
    if types:
        lines.append(f"  type: {', '.join(types)}")
    if d.status:
        lines.append(f"  status {d.status}")
        lines.append("  history:")
        lines.extend(f"    {h}" for h in d.history or ["no dated event recorded"])
    if d.person_terms:
        lines.append("  posts held:")
        lines.extend(f"    {t}" for t in d.person_terms)
    if d.list_held:
        lines.append(f"  entries held: {d.list_held}")
    origin_file = next((str(s.value) for s in d.statements if s.property == TKG.sourceFile), None)
    origin_line = next((str(s.value) for s in d.statements if s.property == TKG.sourceLine), None)
    origin_hash = next((str(s.value) for s in d.statements if s.property == TKG.sourceHash), None)
    width = max((len(s.property_label) for s in d.statements), default=10)
    for s in d.statements:
        if s.property == RDF.type or str(s.property) in _SKIP_IN_TABLE:
            continue
        value = cell_text(s.value, short=True)
        if s.value_label and s.value_label != value:
            value = f"{s.value_label}  ({value})"
        lines.append(f"  {s.property_label.ljust(width)}  {value}")
    if d.incoming:
        lines.append("  referenced by:")
        for prop, subject, kind in d.incoming:
            lines.append(f"    {subject}{f' [{kind}]' if kind else ''} — {prop}")
    if d.is_firm:
        for section, found in ((LEGAL_REACH, d.legal_reach()), (LISTING, d.listings()),
                               (EXPORTER, d.exporter_side()), (EXPOSURE, d.exposure())):
            if section in (LISTING, EXPORTER) and not found:
                continue
            lines.append(f"  {section}:")
            if not found:
                lines.append("    none in the graph" if section == LEGAL_REACH else
                             "    none in the graph (no listed parent or affiliate)")
            lines.extend(f"    {r.line}" for r in found)
    if d.sources:
        lines.append("  sources:")
        for title, url in d.sources:
            lines.append(f"    {title}{f'  {url}' if url else ''}")
    if origin_file:
        content = f"  ({origin_hash[:19]})" if origin_hash else ""
        lines.append(f"  loaded from: {origin_file}:{origin_line}{content}")
    return "\n".join(lines)


def _title(d: Description) -> str:
    for s in d.statements:
        if str(s.property) == "http://www.w3.org/2000/01/rdf-schema#label":
            return str(s.value)
    return shorten(str(d.entity))
