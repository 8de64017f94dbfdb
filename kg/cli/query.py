"""``query``, ``sparql`` and ``show``: reading the graph."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rdflib import Graph

from kg.answers.queries import find_query, run_saved, saved_queries
from kg.answers.render import render, wrap_text
from kg.answers.show import describe, render_description
from kg.cli.common import (
    endpoint_options,
    format_option,
    handle_errors,
    open_backend,
    output_format,
    query_timeout_option,
    service_option,
    store_option,
)
from kg.errors import TradekgError
from kg.graph.backend import Backend, ResultTable
from kg.graph.sparqltext import with_default_prefixes
from kg.namespaces import bind_prefixes


def _backend(store_path: Path | None, endpoint: str | None = None, graph_iri: str | None = None,
             timeout: float | None = None, query_timeout: float | None = None,
             allow_service: tuple[str, ...] = ()) -> Backend:
    return open_backend(store_path, endpoint, graph_iri, timeout, query_timeout, allow_service)


def _parse_params(params: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="-p")
        if key.strip() in values:
            raise click.BadParameter(f"parameter {key.strip()!r} given twice", param_hint="-p")
        values[key.strip()] = value
    return values


def _list_queries(fmt: str) -> None:
    table = ResultTable(["name", "title", "parameters", "description"])
    from rdflib import Literal

    for q in saved_queries().values():
        params = "; ".join(
            f"{p.name} ({p.kind}{', required' if p.required else ', optional'}): {p.description}"
            for p in q.parameters
        )
        table.rows.append({"name": Literal(q.name), "title": Literal(q.title),
                           "parameters": Literal(params), "description": Literal(q.description)})
    if fmt == "table":
        for q in saved_queries().values():
            click.echo(wrap_text(f"{q.name}\n  {q.title}: {q.description}"))
            for p in q.parameters:
                need = "required" if p.required else "optional"
                kind = f"entity: {', '.join(p.tables)}" if p.kind == "entity" else p.kind
                click.echo(wrap_text(f"  -p {p.name}=...  ({kind}, {need}) {p.description}", hang=4))
            click.echo("")
        return
    render(table, fmt, sys.stdout)


@click.command()
@click.argument("name", required=False)
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A parameter of the query; repeat for several.")
@click.option("--list", "list_queries", is_flag=True, help="List the saved queries and their parameters.")
@format_option
@store_option
@endpoint_options
@query_timeout_option
@service_option
@handle_errors
def query(name: str | None, params: tuple[str, ...], list_queries: bool, fmt: str | None,
          store_path: Path | None, endpoint: str | None, graph_iri: str | None, timeout: float | None,
          query_timeout: float | None, allow_service: tuple[str, ...]) -> None:
    """Run the saved query NAME.

    \b
    Examples:
      tradekg query rules-affecting-firm -p firm=Huawei
      tradekg query rules-affecting-firm -p firm=Huawei -p as_of=2021-01-01
      tradekg query firms-affected-by-rule -p "rule=84 FR 22961" --format json
      tradekg query --list
      tradekg query designations --endpoint http://127.0.0.1:7878/query
    """
    fmt = output_format(fmt)
    if list_queries:
        _list_queries(fmt)
        return
    if not name:
        raise click.UsageError("name a saved query, or pass --list to see them")
    saved = find_query(name)
    result = run_saved(saved, _parse_params(params),
                       _backend(store_path, endpoint, graph_iri, timeout, query_timeout, allow_service))
    render(result, fmt, sys.stdout)


@click.command()
@click.argument("text", required=False)
@click.option("-f", "--file", "query_file", type=click.File("r", encoding="utf-8-sig"),
              help="Read the query from a .rq file ('-' for standard input).")
@format_option
@store_option
@endpoint_options
@query_timeout_option
@service_option
@handle_errors
def sparql(text: str | None, query_file: click.utils.LazyFile | None, fmt: str | None,
           store_path: Path | None, endpoint: str | None, graph_iri: str | None, timeout: float | None,
           query_timeout: float | None, allow_service: tuple[str, ...]) -> None:
    """Run your own read-only SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE).

    Updates (INSERT, DELETE, LOAD, CLEAR, DROP...) are refused: the graph
    changes only through build and load, which validate first. The prefixes
    tables print (tkg:, id:, schema:, eli:, dcterms:, skos:, rdfs:...) are
    declared unless the query declares them itself.
    CONSTRUCT and DESCRIBE print Turtle.
    """
    if (text is None) == (query_file is None):
        raise click.UsageError("give the query as an argument or with -f FILE, not both")
    query_text = text if text is not None else query_file.read()  # type: ignore[union-attr]
    result = _backend(store_path, endpoint, graph_iri, timeout, query_timeout, allow_service).query_any(
        with_default_prefixes(query_text))
    if isinstance(result, bool):
        click.echo("true" if result else "false")
    elif isinstance(result, Graph):
        click.echo(bind_prefixes(result).serialize(format="turtle"))
    else:
        render(result, output_format(fmt), sys.stdout)


@click.command()
@click.argument("entity")
@click.option("--type", "tables", multiple=True, help="Only look among this table's entities (repeatable).")
@format_option
@store_option
@endpoint_options
@query_timeout_option
@service_option
@handle_errors
def show(entity: str, tables: tuple[str, ...], fmt: str | None, store_path: Path | None,
         endpoint: str | None, graph_iri: str | None, timeout: float | None,
         query_timeout: float | None, allow_service: tuple[str, ...]) -> None:
    """Everything about one ENTITY (IRI, id, name or alias), with its sources.

    For a company, also its legal reach (rules that restrict it, change its
    entry or authorize an exception for it) and, apart, its exposure (a listed
    parent or affiliate: never a designation of the firm), with what holds
    today (TRADEKG_TODAY pins the date).

    \b
    Examples:
      tradekg show Huawei
      tradekg show "84 FR 22961"
    """
    backend = _backend(store_path, endpoint, graph_iri, timeout, query_timeout, allow_service)
    description = describe(backend, entity, tables or None)
    fmt = output_format(fmt)
    if fmt == "table":
        click.echo(wrap_text(render_description(description)))
    else:
        render(description.as_table(), fmt, sys.stdout)
    if not description.statements:
        raise TradekgError("the entity has no statements")
