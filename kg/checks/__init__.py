"""SHACL validation that gives SHACL's verdicts, fast where it can and complete everywhere.

Every build, load and import validates the graph. The shapes are split in two
(``kg.checks.sparql.plan``): the shapes whose every target, constraint, path
form and parameter value the SPARQL translation implements run as SPARQL on
Oxigraph, where the data already is (seconds at a million triples); every
other shape is handed, alone, to pySHACL, the reference engine
(``kg.checks.complete``), and the user is told which shapes went there and
why. Nothing is skipped: a shape neither side can check is refused before
anything is written.

``kg.checks.rawterms`` keeps the data's literals as written: Oxigraph stores
``"5"^^xsd:int`` as ``xsd:integer`` and ``"1.0"^^xsd:decimal`` as ``"1"``, so
a shape that reads a predicate carrying such a literal is checked on the
terms as written, by the complete engine. ``kg.checks.results`` holds the
results and writes them as a standard ``sh:ValidationReport``.
``kg.checks.validate`` turns results into reports that name the CSV file, line
and column a fact came from; ``kg.checks.files`` validates RDF files a user gives.

May import: basics, graph, loaders.
"""

import logging
import warnings

# rdflib logs a traceback for every ill-formed literal it meets ("Failed to
# convert Literal lexical form to value"); the validator reports those
# literals itself, as sh:DatatypeConstraintComponent results.
logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)
warnings.filterwarnings("ignore", message="Parsing weird boolean")
