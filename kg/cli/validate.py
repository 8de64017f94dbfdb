"""``--shapes`` and ``tradekg validate --data``: the user's shapes, any RDF graph.

``build``, ``load`` and ``validate`` take ``--shapes FILE`` (repeatable) to
add a user's shapes to the project's; ``validate --data FILE`` checks any
RDF graph with the engine the build uses and prints a readable report, or a
standard ``sh:ValidationReport`` (Turtle or JSON-LD) other SHACL tools read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rdflib import Graph

from kg.checks.files import shapes_with, validate_files
from kg.checks.results import handoff_notes, report_graph, serialize, text

F = TypeVar("F", bound=Callable[..., Any])


def shapes_option(func: F) -> F:
    return click.option(
        "--shapes", "shapes", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
        help="A SHACL shapes file (Turtle, N-Triples, N-Quads or JSON-LD; repeatable). Without --data FILE "
             "its shapes are added to the project's.")(func)


def extra_shapes(paths: tuple[Path, ...]) -> Graph | None:
    """The project's shapes with the user's added, or None (the project's alone, cached) when none given."""
    return shapes_with(paths) if paths else None


def validate_rdf(data: list[Path], shapes: tuple[Path, ...], fmt: str) -> None:
    """Validate the RDF files ``data``; print the report; exit 1 when the graph does not conform."""
    results = validate_files(data, shapes)
    for note in handoff_notes(results.handed_off):
        click.echo(f"checked by pySHACL (slower): {note}", err=True)
    if fmt == "text":
        click.echo(text(results))
    else:
        click.echo(serialize(report_graph(results), fmt))
    if not results.conforms:
        raise SystemExit(1)
