"""What the dataset is, for linked-data clients: VoID, DCAT and a SPARQL 1.1 Service Description.

A client that finds the endpoint should learn what it holds without running
queries blind: how many statements and entities, which classes and
properties (VoID partitions), examples to start from, where to get all of it
(a dump), and on whose word it rests (a DCAT catalogue of the sources, each
with its publisher, licence where one is known, when it was imported and the
hash of the file read). ``tradekg serve`` answers these at ``/sparql`` (the
service description, when the endpoint is asked for without a query),
``/.well-known/void`` and ``/dcat``; ``tradekg export void|dcat`` writes them.

Licences are stated only where the law or the publisher says them: works of
the US federal government are in the public domain in the US (17 U.S.C.
105); the OpenSanctions files carry CC BY-NC 4.0. For every other source
(news, law firms, mirrors) the graph records no licence, and the catalogue
says so rather than guess.
"""

from __future__ import annotations

from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, VOID, XSD

from kg.graph.backend import Backend
from kg.namespaces import DATA, TKG, bind_prefixes
from kg.resources import lookup_query

DATASET = URIRef("https://w3id.org/tradekg/dataset")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
ENTAILMENT = Namespace("http://www.w3.org/ns/entailment/")

PUBLIC_DOMAIN_MARK = URIRef("https://creativecommons.org/publicdomain/mark/1.0/")
CC_BY_NC = URIRef("https://creativecommons.org/licenses/by-nc/4.0/")
ONTOLOGY_LICENSE = URIRef("https://creativecommons.org/publicdomain/zero/1.0/")  # as ontology/tradekg.ttl says
# Publishers that are parts of the US federal government (their works: 17 U.S.C. 105).
US_GOVERNMENT = frozenset({
    "Office of the Federal Register", "U.S. Government Publishing Office", "Bureau of Industry and Security",
    "U.S. Department of Defense", "Federal Communications Commission", "International Trade Administration",
    "International Trade Administration (trade.gov)", "Congressional Research Service",
    "U.S. Government Accountability Office", "Office of Foreign Assets Control",
    "Office of Foreign Assets Control (U.S. Treasury)", "U.S. Department of the Treasury",
})
EXAMPLES = ("company/huawei", "rule/el-huawei-2019", "list/entity-list", "designation/el-huawei")
_DUMP_QUERY = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


def _count(backend: Backend, query: str) -> int:
    rows = backend.select(query).rows
    return int(rows[0]["n"]) if rows and rows[0].get("n") is not None else 0  # type: ignore[call-overload]


def void_graph(backend: Backend, base: str | None = None) -> Graph:
    """The dataset's VoID description; ``base`` (``http://host:port``) adds the endpoint and the dump."""
    g = bind_prefixes(Graph())
    g.bind("void", VOID)
    g.bind("dcat", DCAT)
    d = DATASET
    g.add((d, RDF.type, VOID.Dataset))
    g.add((d, DCTERMS.title, Literal("tradekg: a knowledge graph of technology-trade restrictions", lang="en")))
    g.add((d, DCTERMS.description, Literal(
        "Who restricts whom, under which rule, since when, with which exceptions, on whose word: agencies, "
        "rules, restricted-party lists, designations, authorizations, companies and their owners, and the "
        "public source of every fact.", lang="en")))
    g.add((d, VOID.uriSpace, Literal(str(DATA))))
    g.add((d, VOID.vocabulary, URIRef(str(TKG))))
    g.add((d, VOID.vocabulary, URIRef("https://schema.org/")))
    g.add((d, VOID.vocabulary, URIRef("http://purl.org/dc/terms/")))
    g.add((d, VOID.vocabulary, URIRef("http://data.europa.eu/eli/ontology#")))
    g.add((d, DCTERMS.rights, Literal(
        "The ontology is CC0 1.0; each fact carries its source (dcterms:source), and each source's licence, "
        "where one is known, is in the DCAT catalogue.", lang="en")))
    triples = _count(backend, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    g.add((d, VOID.triples, Literal(triples)))
    g.add((d, VOID.entities, Literal(_count(backend, f"""
        SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a ?c FILTER(STRSTARTS(STR(?s), "{DATA}")) }}"""))))
    g.add((d, VOID.distinctSubjects, Literal(_count(backend, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }"))))
    g.add((d, VOID.distinctObjects, Literal(_count(backend, "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }"))))
    classes = backend.select("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY ?c").rows
    properties = backend.select("SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p").rows
    g.add((d, VOID.classes, Literal(len(classes))))
    g.add((d, VOID.properties, Literal(len(properties))))
    for row in classes:
        part = BNode()
        g.add((d, VOID.classPartition, part))
        g.add((part, VOID["class"], row["c"]))
        g.add((part, VOID.entities, Literal(int(row["n"]))))  # type: ignore[call-overload]
    for row in properties:
        part = BNode()
        g.add((d, VOID.propertyPartition, part))
        g.add((part, VOID.property, row["p"]))
        g.add((part, VOID.triples, Literal(int(row["n"]))))  # type: ignore[call-overload]
    for local in EXAMPLES:
        example = URIRef(str(DATA) + local)
        if backend.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ <{example}> ?p ?o }}").rows[0]["n"].toPython():
            g.add((d, VOID.exampleResource, example))
    if base:
        from urllib.parse import urlencode

        g.add((d, VOID.sparqlEndpoint, URIRef(f"{base}/sparql")))
        g.add((d, VOID.dataDump, URIRef(f"{base}/sparql?{urlencode({'query': _DUMP_QUERY, 'format': 'nt'})}")))
        g.add((d, FOAF.homepage, URIRef(f"{base}/")))
    g.add((d, RDFS.seeAlso, URIRef("https://w3id.org/tradekg/ontology")))
    return g


def _sources(backend: Backend) -> list[dict[str, Any]]:
    rows = backend.select(lookup_query("dcat-sources")).rows
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        found.setdefault(str(row["source"]), {k: v for k, v in row.items()})
    return list(found.values())


def dcat_graph(backend: Backend, ledger: list[dict[str, Any]] | None = None, base: str | None = None) -> Graph:
    """A DCAT catalogue: the dataset, and each source it rests on with publisher, licence, import time and hash.

    ``ledger`` (a store version's manifest) says when each imported file was
    read: its ``inputs`` are matched to the sources by their SHA-256.
    """
    g = bind_prefixes(Graph())
    g.bind("dcat", DCAT)
    g.bind("spdx", SPDX)
    catalog = URIRef(str(DATASET) + "/catalog")
    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, DCTERMS.title, Literal("tradekg and the public sources it rests on", lang="en")))
    g.add((catalog, DCAT.dataset, DATASET))
    g.add((DATASET, RDF.type, DCAT.Dataset))
    g.add((DATASET, DCTERMS.title, Literal("tradekg: a knowledge graph of technology-trade restrictions", lang="en")))
    g.add((DATASET, DCTERMS.conformsTo, URIRef("https://w3id.org/tradekg/ontology")))
    if base:
        g.add((DATASET, DCAT.landingPage, URIRef(f"{base}/")))
        service = URIRef(f"{base}/sparql")
        g.add((catalog, DCAT.service, service))
        g.add((service, RDF.type, DCAT.DataService))
        g.add((service, DCAT.endpointURL, service))
        g.add((service, DCAT.servesDataset, DATASET))
        g.add((service, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    imported: dict[str, str] = {}
    for entry in ledger or []:
        for item in entry.get("inputs", []):
            if item.get("sha256") and entry.get("at"):
                imported.setdefault(f"sha256:{item['sha256']}", str(entry["at"]))
    for src in _sources(backend):
        node = URIRef(str(src["source"]))
        g.add((catalog, DCAT.dataset, node))
        g.add((DATASET, DCTERMS.source, node))
        g.add((node, RDF.type, DCAT.Dataset))
        if src.get("title") is not None:
            g.add((node, DCTERMS.title, Literal(str(src["title"]))))
        publisher = str(src["publisher"]) if src.get("publisher") is not None else ""
        if publisher:
            agent = URIRef(str(node) + "#publisher")
            g.add((node, DCTERMS.publisher, agent))
            g.add((agent, RDF.type, FOAF.Agent))
            g.add((agent, FOAF.name, Literal(publisher)))
        if src.get("date") is not None:
            g.add((node, DCTERMS.issued, Literal(str(src["date"]), datatype=XSD.date)))
        if src.get("kind") is not None:
            g.add((node, DCTERMS.type, Literal(str(src["kind"]))))
        if src.get("url") is not None:
            g.add((node, DCAT.landingPage, URIRef(str(src["url"]))))
        license_ = _license(publisher, str(node))
        if license_ is not None:
            g.add((node, DCTERMS.license, license_))
        else:
            g.add((node, DCTERMS.rights, Literal("licence not recorded: cited for its facts; read the "
                                                 "publisher's terms before reusing its text", lang="en")))
        file = str(src["file"]) if src.get("file") is not None else ""
        digest = str(src["hash"]) if src.get("hash") is not None else ""
        if file and not file.startswith("data/") and digest.startswith("sha256:"):
            # An imported file: its hash is the file's, and the ledger says when it was read.
            dist = URIRef(str(node) + "#file")
            g.add((node, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCTERMS.title, Literal(file.rsplit("/", 1)[-1])))
            checksum = BNode()
            g.add((dist, SPDX.checksum, checksum))
            g.add((checksum, RDF.type, SPDX.Checksum))
            g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
            g.add((checksum, SPDX.checksumValue, Literal(digest.removeprefix("sha256:"), datatype=XSD.hexBinary)))
            if digest in imported:
                g.add((dist, DCTERMS.issued, Literal(imported[digest], datatype=XSD.dateTime)))
                g.add((node, DCTERMS.modified, Literal(imported[digest], datatype=XSD.dateTime)))
            if license_ is not None:
                g.add((dist, DCTERMS.license, license_))
    return g


def _license(publisher: str, source: str) -> URIRef | None:
    if publisher in US_GOVERNMENT:
        return PUBLIC_DOMAIN_MARK
    if publisher == "OpenSanctions" or source.startswith(str(DATA) + "source/os-"):
        return CC_BY_NC
    return None


def service_description(endpoint: str, backend: Backend, base: str | None = None) -> Graph:
    """A SPARQL 1.1 Service Description of the read-only endpoint at ``endpoint``."""
    g = bind_prefixes(Graph())
    g.bind("sd", SD)
    g.bind("void", VOID)
    service = URIRef(endpoint)
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, service))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.EmptyGraphs))
    for fmt in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                "Turtle", "N-Triples", "RDF_XML"):
        g.add((service, SD.resultFormat, FORMATS[fmt]))
    g.add((service, SD.defaultEntailmentRegime, ENTAILMENT.Simple))
    g.add((service, RDFS.comment, Literal(
        "Read-only: SPARQL Update is refused (403). Each answer comes from one published store version.",
        lang="en")))
    dataset = BNode()
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, RDFS.seeAlso, DATASET))
    default = BNode()
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, VOID.triples, Literal(_count(backend, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"))))
    for row in backend.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }").rows:
        named = BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, row["g"]))
    if base:
        g.add((service, RDFS.seeAlso, URIRef(f"{base}/.well-known/void")))
    return g
