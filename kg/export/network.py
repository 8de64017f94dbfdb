"""The one conversion from RDF to a networkx graph that every picture uses.

GraphML, GEXF, DOT, SVG/PNG and the HTML page are all drawn from the
``NetworkView`` built here, so a node has the same label, type and colour in
Gephi, yEd, Graphviz and the browser, and ``--focus``/``--depth``/``--type``
cut the same subgraph everywhere.

What becomes what
-----------------
* **Entities** (rows of every table in ``data/tables.yml`` except sources)
  are nodes, keyed by their IRI, with ``kind`` (the table, e.g. ``companies``),
  ``type`` (the class label, e.g. ``company``), ``label`` (full name),
  ``short_label`` (what pictures print), ``identifier`` and ``curie``.
* **Literals are node attributes, never nodes**, named after the table's
  column (``country``, ``citation``, ``start_date``...); several values are
  joined with ``"; "``. A value that is a SKOS concept (license policy,
  confidence, rule type, activity...) becomes an attribute holding the
  concept's label.
* **Sources are not nodes**: every fact cites them and they would be the
  biggest hubs of any picture. Each node carries ``sources`` (their titles)
  and the view keeps title and URL per node (``NetworkView.sources``) for the
  HTML page, where a click on a node lists them.
* **Object properties between two entities are edges** of a
  ``MultiDiGraph``, directed as in RDF, keyed and attributed by the predicate
  IRI, labelled with the property's ontology label (``designated by``).
* **N-ary records are nodes.** A designation links a party, a list, the rule
  that listed it and the rules that changed the entry, with dates and policy;
  folding that into one edge would drop either the rules or the dates, so
  a designation is drawn as a small node: ``firm ← designation → list`` and
  ``designation → rule``. The same holds for authorizations (rule, list,
  parties, standards bodies), tenures (person, post), posts (the agency a
  tenure is in) and appropriations (program, enacting rule). Records are
  drawn smaller and lighter than entities.
* **Rules issued during an official's term** get a derived, dashed edge
  ``rule → person`` labelled "issued in term of" (from the saved lookup query
  ``export-rules-in-office``, the logic of ``rules-by-official``): the store
  links an official only to a post in an agency, and without this edge a
  picture could not show who was in office when a rule came out.
* **Derived rule effects are left out of pictures by default**: every one of
  them repeats a path that the records already draw (rule → designation →
  firm), and for a listed parent they would add an edge per rule per
  subsidiary. ``include_effects=True`` (``--effects``) folds each into one
  dashed edge ``rule → party`` labelled with the effect and its reach
  ("designates · named"; a listed parent reads "parent listed · exposure only
  (no rule extends it)", never as a designation), marked ``derived``. RDF exports always
  carry them, since they are part of the store.

Labels
------
Pictures print ``short_label``: a rule as its citation over its most
descriptive short title ("84 FR 22961 / May 2019 Huawei listing"); an
agency, list, standards body or company with a long name as its best-known
alias ("BIS", "Huawei"); a record as what it says ("on Entity List /
2019-05-16 –"); all wrapped at about 24 characters, three lines at most. The
full name stays in ``label``, shown in tooltips, the HTML panel, GraphML and
GEXF.

Records that differ only in the party
-------------------------------------
A rule that lists a firm and ten affiliates makes eleven designations with
the same list, rules and dates; drawn apart they are eleven diamonds with
six edges each, the hairball this module exists to avoid. Pictures (DOT,
SVG, PNG, HTML) therefore draw such designations as one node ("on Entity List
2019-05-16 – · 11 parties") with an edge to each party; its attributes keep
every member's IRI, and values the members do not share are listed side by
side. GraphML and GEXF keep every record apart, for counting in Gephi; the
``--merge/--no-merge`` option of ``tradekg export`` overrides either default.

Focus and depth
---------------
``--focus ENTITY --depth N`` keeps the entities at most N steps from the
focus, counting steps **between entities**: passing through a record is free,
so a firm's listing rules are one step away (firm – designation – rule), the
agencies that issued them two, and so are the officials in office when those
rules were issued (rule – person); the standards bodies an authorization of
the firm names are one (firm – authorization – standards body).

The walk never goes from a restricted-party list to its entries (unless the
list is the focus): every listed party is two free steps from the list, and
walking there would turn "Huawei's neighbourhood" into "everyone on the Entity
List". From a list it does reach what changes the list for everyone on it:
authorizations that cover the list, rules that change its terms, the agency
that keeps it.

A record is drawn whole or not at all: one whose party, rule or list falls
outside the cut (another firm's listing by a rule at the edge) would read as
a claim about the wrong firm, so it is dropped. ``--type`` then keeps only
the named kinds (the focus stays).
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

import networkx as nx
import pyoxigraph as ox
from rdflib import RDF, RDFS, URIRef
from rdflib.namespace import ORG, SKOS

from kg.answers.resolve import resolve_entity
from kg.errors import NotFound, TradekgError
from kg.graph.backend import Backend
from kg.graph.terms import graph_to_quads
from kg.loaders.tables import load_catalog
from kg.namespaces import PREFIXES, SCHEMA, TKG
from kg.resources import lookup_query


@dataclass(frozen=True)
class Kind:
    """How one table's nodes look in every picture (Tableau 10 colours)."""

    table: str
    colour: str
    dot_shape: str
    html_shape: str
    record: bool = False


# Ordered as the legends list them: who acts, what they issue, whom it hits, the records in between.
KINDS: dict[str, Kind] = {k.table: k for k in (
    Kind("agencies", "#59a14f", "hexagon", "hexagon"),
    Kind("persons", "#b07aa1", "ellipse", "ellipse"),
    Kind("rules", "#4e79a7", "note", "rectangle"),
    Kind("lists", "#f28e2b", "folder", "tag"),
    Kind("companies", "#e15759", "box", "round-rectangle"),
    Kind("standards_bodies", "#edc948", "octagon", "octagon"),
    Kind("standards", "#bab0ac", "component", "rectangle"),
    Kind("funding_programs", "#9c755f", "cds", "barrel"),
    Kind("designations", "#ff9da7", "diamond", "diamond", record=True),
    Kind("authorizations", "#76b7b2", "parallelogram", "rhomboid", record=True),
    Kind("posts", "#d4b9da", "box", "round-rectangle", record=True),
    Kind("tenures", "#d4b9da", "ellipse", "ellipse", record=True),
    Kind("appropriations", "#c9a98f", "ellipse", "ellipse", record=True),
    # A rule naming a party with no list in between (the TikTok law, section 889): a record like a designation.
    Kind("rule_parties", "#ff9da7", "diamond", "diamond", record=True),
    # An act attaching a consequence to a list (section 805 and the 1260H list): a record between the two.
    Kind("list_consequences", "#76b7b2", "parallelogram", "rhomboid", record=True),
)}
DEFAULT_KIND = Kind("other", "#bbbbbb", "ellipse", "ellipse")

# The key of the derived edge rule -> official; not an ontology term, so not in the store's vocabulary.
IN_OFFICE = "urn:tradekg:picture:issued-in-term-of"

# Tables whose rows are not drawn: sources become node attributes.
NOT_NODES = frozenset({"sources", "list_sizes"})  # a list's recorded size is said on the list, not drawn
# The focus walk does not go from a node of the key table to its entries of the value table
# (from a list to everyone listed on it; see the module docstring).
HUB_ENTRIES: dict[str, str] = {"lists": "designations"}

# Attribute names that GEXF and GraphML writers reserve or that we set ourselves.
_RESERVED = frozenset({"id", "label", "start", "end", "viz", "pid", "spells", "type", "kind"})


def kind_of(table: str) -> Kind:
    """The look of a table's nodes; a table added to tables.yml later is drawn grey until it gets one."""
    return KINDS.get(table, DEFAULT_KIND)


def fill_colour(table: str) -> str:
    """The fill of a node: the kind's colour, paler for records so entities stand out."""
    kind = kind_of(table)
    if not kind.record:
        return kind.colour
    rgb = [int(kind.colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * 0.45):02x}" for c in rgb)


def edge_sort_key(edge: tuple[str, str, dict[str, object]]) -> tuple[str, str, str]:
    """Writers list edges in this order, so the same graph gives the same file."""
    source, target, data = edge
    return source, target, str(data.get("predicate", "")) + str(data.get("effect", "")) + str(data.get("post", ""))


@dataclass
class NetworkView:
    """The picture-ready graph, plus what the writers need beside it."""

    graph: nx.MultiDiGraph
    focus: str | None = None
    depth: int | None = None
    sources: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    type_labels: dict[str, str] = field(default_factory=dict)

    def kinds_present(self) -> list[str]:
        """Tables that have nodes here, in legend order."""
        present = {data["kind"] for _, data in self.graph.nodes(data=True)}
        ordered = [t for t in KINDS if t in present]
        return ordered + sorted(present - set(ordered))

    def type_label(self, table: str) -> str:
        return self.type_labels.get(table, table.replace("_", " "))

    def size_text(self) -> str:
        nodes, edges = self.graph.number_of_nodes(), self.graph.number_of_edges()
        return f"{nodes} node{'s' if nodes != 1 else ''}, {edges} edge{'s' if edges != 1 else ''}"


# ---------------------------------------------------------------------------
# Reading the store
# ---------------------------------------------------------------------------

def source_store(backend: Backend) -> ox.Store:
    """An Oxigraph store holding what the backend serves.

    The embedded backend's own store is used as it is, named graphs and all.
    Any other backend (a SPARQL server) is read through its ``all_triples``
    (the default graph, or the graph chosen with ``--graph``) into an
    in-memory store, so exports and pictures have one code path whatever
    serves the graph.
    """
    store = getattr(backend, "store", None)
    if isinstance(store, ox.Store):
        return store
    memory = ox.Store()
    memory.extend(graph_to_quads(backend.all_triples()))
    return memory


class Text(str):
    """The lexical form of a literal. (Plain ``str`` values in ``Statements`` are IRIs.)"""

    __slots__ = ()


def _ox_value(term: object) -> str:
    if isinstance(term, ox.Literal):
        return Text(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value  # type: ignore[attr-defined, no-any-return]


@dataclass
class Statements:
    """The default graph indexed by subject, as strings.

    Building rdflib terms costs more than everything else the view does (3 s
    for 100k triples); the view needs only IRIs and the text of literals.
    """

    by_subject: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def read(cls, store: ox.Store) -> Statements:
        index: dict[str, list[tuple[str, str]]] = {}
        for quad in store.quads_for_pattern(None, None, None, ox.DefaultGraph()):
            index.setdefault(_ox_value(quad.subject), []).append(
                (quad.predicate.value, _ox_value(quad.object)))
        return cls(index)

    def pairs(self, subject: str) -> list[tuple[str, str]]:
        return self.by_subject.get(subject, [])

    def objects(self, subject: str, predicate: str) -> list[str]:
        return [o for p, o in self.by_subject.get(subject, ()) if p == predicate]

    def value(self, subject: str, predicate: str) -> str | None:
        """One object as a plain ``str`` (node attributes must not carry ``Text``)."""
        return next((str(o) for p, o in self.by_subject.get(subject, ()) if p == predicate), None)

    def label(self, subject: str) -> str | None:
        for predicate in _LABEL_PREDICATES:
            values = sorted(self.objects(subject, predicate))
            if values:
                return str(values[0])
        return None


_LABEL_PREDICATES = (str(RDFS.label), str(SKOS.prefLabel))


def read_statements(backend: Backend) -> Statements:
    """Read the backend's graph once, for as many views as a caller builds from it."""
    return Statements.read(source_store(backend))


# ---------------------------------------------------------------------------
# RDF -> networkx
# ---------------------------------------------------------------------------

_NAMESPACES = sorted(((str(ns), prefix) for prefix, ns in PREFIXES.items()), key=lambda p: -len(p[0]))


def shorten(iri: str) -> str:
    """``id:company/huawei`` for our IRIs: ``kg.answers.render.shorten`` with the prefixes sorted once.

    (The view shortens every node's IRI; at 100k triples the difference is a second.)
    """
    for namespace, prefix in _NAMESPACES:
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri

def _property_label(statements: Statements, predicate: str) -> str:
    label = statements.label(predicate)
    if not label:
        return shorten(predicate)
    # "passed by (ELI)" -> "passed by": the vocabulary matters in RDF, not in a picture.
    if label.endswith(")") and " (" in label:
        label = label[: label.rindex(" (")]
    return label


def _wrap(text: str, width: int = 24, lines: int = 3) -> str:
    wrapped = textwrap.wrap(" ".join(text.split()), width=width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1].rstrip() + "…"
    return "\n".join(wrapped)


def _nickname(aliases: Iterable[str]) -> str | None:
    """The alias a reader knows a thing by: words over numbers, then the shortest."""
    candidates = [a for a in aliases if 1 < len(a) <= 32]
    if not candidates:
        return None

    def score(alias: str) -> tuple[int, int, str]:
        digits = sum(c.isdigit() for c in alias)
        return (1 if digits * 2 > len(alias) or alias[:1].isdigit() else 0, len(alias), alias)

    return min(candidates, key=score)


def _descriptive_alias(aliases: Iterable[str]) -> str | None:
    """For rules: the most descriptive short title (the citation already gives the number)."""
    candidates = [a for a in aliases if len(a) <= 34 and sum(c.isalpha() for c in a) >= len(a) / 2]
    if not candidates:
        return None
    return max(candidates, key=lambda a: (len(a.split()), -len(a), a))


def _span(start: str | None, end: str | None) -> str:
    if not start and not end:
        return ""
    return f"{start or '?'} – {end or ''}".rstrip()


@dataclass
class _Raw:
    table: str
    literals: dict[str, list[str]] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # (predicate, object)
    sources: list[str] = field(default_factory=list)


@cache
def _attribute_name(table: str, predicate: str) -> str:
    spec = load_catalog().tables.get(table)
    column = spec.column_for_predicate(predicate) if spec else None
    special = {str(RDFS.label): "name", str(TKG.sourceFile): "source_file", str(TKG.sourceLine): "source_line",
               str(TKG.sourceHash): "source_hash"}
    name = special.get(predicate) or column or shorten(predicate).replace(":", "_")
    return f"{name}_value" if name in _RESERVED else name


def build_view(statements: Statements, *, include_effects: bool = False,
               in_office: Iterable[tuple[str, str, str]] = ()) -> NetworkView:
    """Convert a whole tradekg graph (facts, derived effects, ontology) to a view.

    ``in_office`` holds (rule, person, post title) rows of the lookup query
    ``export-rules-in-office``; each becomes a derived "issued in term of" edge.
    """
    catalog = load_catalog()
    class_to_table = {spec.class_iri: name for name, spec in catalog.tables.items()}
    rdf_type, rule_effect = str(RDF.type), str(TKG.RuleEffect)
    tables: dict[str, str] = {}
    effects: list[str] = []
    for subject, pairs in statements.by_subject.items():
        if isinstance(subject, Text) or subject.startswith("_:"):
            continue
        for predicate, cls in pairs:
            if predicate != rdf_type:
                continue
            if cls == rule_effect:
                effects.append(subject)
            elif cls in class_to_table:
                tables[subject] = class_to_table[cls]

    type_labels = {name: (statements.label(spec.class_iri) or name) for name, spec in catalog.tables.items()}

    source_info: dict[str, tuple[str, str]] = {}
    for node, table in tables.items():
        if table == "sources":
            title = statements.label(node) or shorten(node)
            source_info[node] = (title, statements.value(node, str(SCHEMA.url)) or "")

    value_labels: dict[str, str] = {}

    def value_label(value: str) -> str:
        if value not in value_labels:
            value_labels[value] = statements.label(value) or shorten(value)
        return value_labels[value]

    raws: dict[str, _Raw] = {}
    for node, table in tables.items():
        if table in NOT_NODES:
            continue
        raw = _Raw(table)
        for predicate, value in statements.pairs(node):
            if predicate == rdf_type:
                continue
            if not isinstance(value, Text) and value in tables:
                if value in source_info:
                    raw.sources.append(value)
                elif tables[value] not in NOT_NODES:
                    raw.links.append((predicate, value))
                continue
            text = str(value) if isinstance(value, Text) else value_label(value)
            raw.literals.setdefault(_attribute_name(table, predicate), []).append(text)
        raws[node] = raw

    view = NetworkView(nx.MultiDiGraph(), type_labels=type_labels)
    g = view.graph
    for node, raw in sorted(raws.items()):
        attrs = {name: str("; ".join(sorted(set(values)))) for name, values in sorted(raw.literals.items())}
        attrs.update(
            kind=raw.table,
            type=type_labels.get(raw.table, raw.table),
            iri=node,
            curie=shorten(node),
            identifier=node.rstrip("/").rsplit("/", 1)[-1],
            record="true" if kind_of(raw.table).record else "false",
        )
        srcs = sorted({source_info[s] for s in raw.sources})
        if srcs:
            attrs["sources"] = "; ".join(t for t, _ in srcs)
        view.sources[node] = srcs
        g.add_node(node, **attrs)

    property_labels: dict[str, str] = {}
    for node, raw in raws.items():
        for predicate, value in sorted(raw.links):
            if predicate not in property_labels:
                property_labels[predicate] = _property_label(statements, predicate)
            g.add_edge(node, value, key=predicate, label=property_labels[predicate],
                       predicate=predicate, curie=shorten(predicate), derived="false")

    _label_nodes(g)
    for rule, person, post in sorted(set(in_office)):
        if rule in g and person in g:
            g.add_edge(rule, person, key=f"{IN_OFFICE}|{post}", label="issued in term of", predicate=IN_OFFICE,
                       curie="derived:issued-in-term-of", derived="true", post=post)
    if include_effects:
        _add_effects(statements, g, effects, value_label)
    return view


def _neighbour(g: nx.MultiDiGraph, node: str, predicate: str) -> str | None:
    for _, target, key in g.out_edges(node, keys=True):
        if key == str(predicate):
            return str(target)
    return None


def _label_nodes(g: nx.MultiDiGraph) -> None:
    """Give each node a full ``label`` and a ``short_label`` for pictures.

    Entities first (records name themselves after the entities they link).
    """
    nodes = g.nodes
    for node in sorted(g.nodes):
        data = nodes[node]
        if data["record"] == "true":
            continue
        name = data.get("name") or data["identifier"]
        name = name.split("; ")[0]
        data["label"] = name
        aliases = [a for col in ("aliases", "short_name", "short_title") for a in data.get(col, "").split("; ") if a]
        if data["kind"] == "rules":
            first = data.get("citation") or data.get("document_number") or ""
            second = _descriptive_alias(aliases) or name
            data["short_label"] = (f"{first}\n" if first else "") + _wrap(second, 24, 2)
        elif len(name) > 20 and (nick := _nickname(aliases)):
            data["short_label"] = _wrap(nick)
        else:
            data["short_label"] = _wrap(name)

    for node in sorted(g.nodes):
        data = nodes[node]
        if data["record"] == "false":
            continue
        span = _span(data.get("start_date") or data.get("date"), data.get("end_date"))
        kind = data["kind"]
        if kind == "designations":
            party = _neighbour(g, node, str(TKG.designatedParty))
            lst = _neighbour(g, node, str(TKG.onList))
            party_name = nodes[party]["label"] if party else "?"
            list_name = nodes[lst]["label"] if lst else "a list"
            list_short = nodes[lst]["short_label"].replace("\n", " ") if lst else "list"
            data["label"] = f"{party_name} on the {list_name}" + (f", {span}" if span else "")
            data["short_label"] = f"on {list_short}\n{span}" if span else f"on {list_short}"
        elif kind == "rule_parties":
            party = _neighbour(g, node, str(TKG.namedParty))
            rule = _neighbour(g, node, str(TKG.namingRule))
            party_name = nodes[party]["label"] if party else "?"
            rule_short = nodes[rule]["short_label"].split("\n")[0] if rule else "a rule"
            data["label"] = f"{party_name} named in {rule_short}" + (f", {span}" if span else "")
            # Wrapped as narrow as the other records: a wide node widens every ring of the rings layout.
            named = _wrap(f"named in {rule_short}", 18, 2)
            data["short_label"] = f"{named}\n{span}" if span else named
        elif kind == "tenures":
            person = _neighbour(g, node, str(ORG.member))
            post = _neighbour(g, node, str(TKG.post))
            who = nodes[person]["label"] if person else "?"
            what = nodes[post].get("name", "a post") if post else "a post"
            data["label"] = f"{who} as {what}" + (f", {span}" if span else "")
            data["short_label"] = f"in office\n{span}" if span else "in office"
        else:
            name = (data.get("name") or data["identifier"]).split("; ")[0]
            data["label"] = name
            data["short_label"] = _wrap(name, 24, 2) + (f"\n{span}" if span and kind != "posts" else "")
            if kind == "appropriations" and data.get("amount_usd"):
                data["short_label"] = _wrap(name, 22, 2) + f"\n${_money(data['amount_usd'])}"


def _money(amount: str) -> str:
    try:
        value = float(amount)
    except ValueError:
        return amount
    for unit, size in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:g}"


def _add_effects(statements: Statements, g: nx.MultiDiGraph, effects: list[str],
                 value_label: Callable[[str], str]) -> None:
    for effect in sorted(effects):
        def value(predicate: URIRef, effect: str = effect) -> str:
            return statements.value(effect, str(predicate)) or ""

        rule, party = value(TKG.effectRule), value(TKG.effectParty)
        if rule not in g or party not in g:
            continue
        kind_text = value_label(value(TKG.effectKind)) if value(TKG.effectKind) else "affects"
        reach_text = value_label(value(TKG.reach)) if value(TKG.reach) else ""
        g.add_edge(rule, party, key=effect,
                   label=f"{kind_text} · {reach_text}" if reach_text else kind_text,
                   predicate=str(TKG.RuleEffect), curie=shorten(str(TKG.RuleEffect)), derived="true",
                   effect=effect, effect_kind=kind_text, reach=reach_text,
                   start_date=value(SCHEMA.startDate), end_date=value(SCHEMA.endDate),
                   via=value(TKG.via), via_parent=value(TKG.viaParent))


# ---------------------------------------------------------------------------
# Cutting: focus, depth, types
# ---------------------------------------------------------------------------

def _undirected(g: nx.MultiDiGraph, node: str) -> Iterator[str]:
    yield from g.successors(node)
    yield from g.predecessors(node)


def neighbourhood(view: NetworkView, focus: str, depth: int) -> NetworkView:
    """Keep what is at most ``depth`` entity-steps from ``focus`` (see the module docstring)."""
    g = view.graph
    if focus not in g:
        raise TradekgError(f"--focus: {focus} is not drawn in pictures (it is a source or not an entity)")
    if depth < 0:
        raise TradekgError("--depth must be 0 or more")
    distance: dict[str, int] = {focus: 0}
    queue: deque[str] = deque([focus])
    while queue:
        node = queue.popleft()
        entries = HUB_ENTRIES.get(g.nodes[node]["kind"]) if node != focus else None
        for other in _undirected(g, node):
            if entries and g.nodes[other]["kind"] == entries:
                continue
            cost = 0 if g.nodes[other]["record"] == "true" else 1
            d = distance[node] + cost
            if d > depth or d >= distance.get(other, depth + 1):
                continue
            distance[other] = d
            if cost == 0:
                queue.appendleft(other)
            else:
                queue.append(other)
    keep = set(distance)
    changed = True
    while changed:  # dropping one record can leave another incomplete (a post without its tenure)
        changed = False
        for node in sorted(keep):
            if node == focus or g.nodes[node]["record"] != "true":
                continue
            if any(n not in keep for n in _undirected(g, node)):
                keep.discard(node)
                changed = True
    sub = g.subgraph(keep).copy()
    for node in sub.nodes:
        sub.nodes[node]["distance"] = distance[node]
    return NetworkView(sub, focus=focus, depth=depth, sources={n: view.sources.get(n, []) for n in sub},
                       type_labels=view.type_labels)


def filter_types(view: NetworkView, tables: Iterable[str]) -> NetworkView:
    """Keep only nodes of the named tables (and the focus, which anchors the picture)."""
    wanted = set(tables)
    catalog = load_catalog()
    unknown = sorted(wanted - set(catalog.tables))
    if unknown:
        raise TradekgError(
            f"--type: unknown table {', '.join(unknown)}; known: {', '.join(sorted(set(catalog.tables) - NOT_NODES))}"
        )
    hidden = sorted(wanted & NOT_NODES)
    if hidden:
        raise TradekgError(f"--type: {', '.join(hidden)} are not drawn as nodes; each node lists its sources")
    keep = [n for n, d in view.graph.nodes(data=True) if d["kind"] in wanted or n == view.focus]
    sub = view.graph.subgraph(keep).copy()
    return NetworkView(sub, focus=view.focus, depth=view.depth, sources={n: view.sources.get(n, []) for n in sub},
                       type_labels=view.type_labels)


# Records merged in pictures when everything but the links of this predicate agrees.
MERGE_BY: dict[str, URIRef] = {"designations": TKG.designatedParty}
# Attributes that must agree too (dates and policy are what a reader compares).
_MERGE_SAME = ("start_date", "end_date", "license_policy")
GROUP_PREFIX = "urn:tradekg:picture:group:"


def merge_parallel_records(view: NetworkView) -> NetworkView:
    """Draw records that differ only in their party as one node (see the module docstring)."""
    g = view.graph
    groups: dict[tuple[object, ...], list[str]] = {}
    for node, data in g.nodes(data=True):
        predicate = MERGE_BY.get(str(data["kind"]))
        if predicate is None or node == view.focus:
            continue
        links = tuple(sorted((str(k), str(t)) for _, t, k in g.out_edges(node, keys=True) if k != str(predicate)))
        parties = [t for _, t, k in g.out_edges(node, keys=True) if k == str(predicate)]
        if len(parties) != 1:
            continue
        signature = (data["kind"], links, *(data.get(a, "") for a in _MERGE_SAME))
        groups.setdefault(signature, []).append(node)
    merged = g.copy()
    sources = dict(view.sources)
    for (kind, *_), members in groups.items():
        if len(members) < 2:
            continue
        predicate = MERGE_BY[str(kind)]
        members.sort()
        group = GROUP_PREFIX + hashlib.md5("|".join(members).encode("utf-8")).hexdigest()[:16]
        attrs = _merged_attributes([g.nodes[m] for m in members])
        first = g.nodes[members[0]]
        parties = sorted(g.nodes[_neighbour(g, m, str(predicate)) or m]["label"] for m in members)
        on_list = _neighbour(g, members[0], str(TKG.onList))
        span = _span(first.get("start_date"), first.get("end_date"))
        attrs.update(
            iri=group, curie=f"group of {len(members)}", identifier=f"group-{len(members)}",
            members="; ".join(members), member_count=str(len(members)), member_labels="; ".join(parties),
            label=f"{len(members)} {view.type_label(str(first['kind']))}s"
                  + (f" on the {g.nodes[on_list]['label']}" if on_list else "") + (f", {span}" if span else ""),
            short_label="\n".join([*first["short_label"].split("\n")[:2], f"{len(members)} parties"]),
        )
        if "distance" in first:
            attrs["distance"] = min(int(g.nodes[m]["distance"]) for m in members)
        merged.add_node(group, **attrs)
        seen: set[tuple[str, str]] = set()
        for member in members:
            for _, target, key, data in g.out_edges(member, keys=True, data=True):
                if (target, key) not in seen:
                    seen.add((target, key))
                    merged.add_edge(group, target, key=key, **data)
            for source, _, key, data in g.in_edges(member, keys=True, data=True):
                if (source, key) not in seen:
                    seen.add((source, key))
                    merged.add_edge(source, group, key=key, **data)
            merged.remove_node(member)
        sources[group] = sorted({s for m in members for s in view.sources.get(m, [])})
        for member in members:
            sources.pop(member, None)
    return NetworkView(merged, focus=view.focus, depth=view.depth, sources=sources,
                       type_labels=view.type_labels)


def _merged_attributes(members: list[dict[str, object]]) -> dict[str, object]:
    names = sorted({k for m in members for k in m})
    attrs: dict[str, object] = {}
    for name in names:
        values = sorted({str(m[name]) for m in members if name in m})
        attrs[name] = values[0] if len(values) == 1 else " | ".join(values)
    return attrs


def resolve_focus(backend: Backend, text: str) -> str:
    """An entity named as in queries: IRI, identifier, name or alias (any drawn table)."""
    tables = tuple(t for t in load_catalog().tables if t not in NOT_NODES)
    try:
        return str(resolve_entity(backend, text, tables, "--focus"))
    except NotFound as exc:
        # The resolver names every table it looked in; for --focus that is all of them.
        message = str(exc)
        hint = message[message.index("; did you mean"):] if "; did you mean" in message else ""
        what = "has the IRI" if re.match(r"^(https?|urn):", text) else "is named"
        raise NotFound(f"--focus: no entity in the graph {what} {text!r}{hint}") from None


def network_view(backend: Backend, *, focus: str | None = None, depth: int = 2,
                 types: Iterable[str] = (), include_effects: bool = False, merge: bool = False,
                 statements: Statements | None = None) -> NetworkView:
    """The view every picture starts from: the store, cut by focus/depth and type.

    ``merge`` draws parallel records as one node (pictures do, graph files
    don't); ``statements`` lets a caller that already read the store pass them in.
    """
    focus_iri = resolve_focus(backend, focus) if focus else None
    rows = backend.select(lookup_query("export-rules-in-office")).rows
    in_office = [(str(r["rule"]), str(r["person"]), str(r.get("post", ""))) for r in rows]
    view = build_view(statements if statements is not None else read_statements(backend),
                      include_effects=include_effects, in_office=in_office)
    if focus_iri:
        view = neighbourhood(view, focus_iri, depth)
    types = tuple(types)
    if types:
        view = filter_types(view, types)
    if merge:
        view = merge_parallel_records(view)
    return view


__all__ = [
    "KINDS", "Kind", "NetworkView", "build_view", "edge_sort_key", "fill_colour", "filter_types", "kind_of",
    "neighbourhood", "network_view", "read_statements", "resolve_focus", "source_store",
]
