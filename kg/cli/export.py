"""``export``: RDF files, graph-tool files and pictures of the graph.

The export modules (networkx, matplotlib, the HTML assets) are imported when
the command runs, not when ``tradekg`` starts, so other commands stay quick.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kg.cli.common import (
    endpoint_options,
    handle_errors,
    open_backend,
    open_store,
    query_timeout_option,
    store_option,
    time_limit,
)
from kg.errors import TradekgError
from kg.export import ALIASES, DATA_FORMATS, FORMATS, GRAPH_FORMATS, PICTURE_FORMATS, PICTURE_NODE_LIMIT, RDF_FORMATS
from kg.graph.backend import Backend

if TYPE_CHECKING:
    from kg.export.network import NetworkView

_BINARY = frozenset({"png"})
TIME_LIMIT_ENV = "TRADEKG_EXPORT_TIME_LIMIT"
DEFAULT_TIME_LIMIT = 900.0  # Graphviz alone may take 600 s (kg.export.render.TIMEOUT_SECONDS)
_MERGED_BY_DEFAULT = frozenset({"dot", "svg", "png", "html"})
_LAYOUTS = ("sfdp", "neato", "fdp", "dot", "twopi", "circo")


# File name endings and the format each names; an -o FILE whose ending names another
# format (or one tradekg does not write, such as .pdf) is refused instead of written wrong.
_SUFFIXES = {
    "svg": "svg", "png": "png", "html": "html", "htm": "html", "graphml": "graphml", "gexf": "gexf",
    "dot": "dot", "gv": "dot", "jsonl": "ftm", "ttl": "turtle", "nt": "ntriples", "nq": "nquads", "jsonld": "jsonld",
    "pdf": None, "jpg": None, "jpeg": None, "gif": None, "webp": None, "eps": None, "ps": None, "tiff": None,
}


def check_suffix(output: str, fmt: str, allowed: tuple[str, ...] | None = None) -> None:
    """Refuse ``-o FILE`` whose ending names a format other than ``fmt`` (any of ``allowed``)."""
    if output == "-":
        return
    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix not in _SUFFIXES:
        return
    named = _SUFFIXES[suffix]
    allowed = allowed or (fmt,)
    if named in allowed:
        return
    stem = Path(output).with_suffix("").name
    if named is None:
        raise TradekgError(f"-o {output}: tradekg does not write .{suffix} files; this export writes "
                           f"{' or '.join(allowed)}: name it {stem}.{_ending(allowed[0])}")
    raise TradekgError(f"-o {output}: the name says {named} but the format is {fmt}; "
                       f"name it {stem}.{_ending(allowed[0])} or export {named}")


def _ending(fmt: str) -> str:
    return next(s for s, f in _SUFFIXES.items() if f == fmt)


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def _write(payload: bytes, output: str, binary: bool) -> str:
    """Write to ``output`` ('-' is standard output); return how to name where it went."""
    if output == "-":
        if binary and sys.stdout.isatty():
            raise click.UsageError("a PNG is binary; write it to a file with -o FILE.png")
        stream = sys.stdout.buffer
        stream.write(payload)
        stream.flush()
        return "standard output"
    from kg.graph.store import write_atomic

    path = Path(output)
    if not path.parent.is_dir():
        raise TradekgError(f"-o {output}: the folder {path.parent} does not exist")
    write_atomic(path, payload)  # whole or not at all: an export stopped at --time-limit leaves no half file
    return str(path)


def _timeline(focus: str | None, output: str, backend: Backend) -> None:
    from kg.export.timeline import draw_timeline, firm_timeline

    if not focus:
        raise click.UsageError("a timeline is of one firm: pass --focus FIRM (IRI, id, name or alias)")
    suffix = Path(output).suffix.lower().lstrip(".") if output != "-" else "svg"
    fmt = suffix if suffix in ("svg", "png") else "svg"
    check_suffix(output, "timeline", ("svg", "png"))
    timeline = firm_timeline(backend, focus)
    payload = draw_timeline(timeline, fmt)
    where = _write(payload, output, fmt == "png")
    count = len(timeline.events)
    click.echo(f"wrote {where}: timeline of {timeline.label}, {count} event{'s' if count != 1 else ''} "
               f"({_human_size(len(payload))})", err=True)


@click.command()
@click.argument("fmt", metavar="FORMAT",
                type=click.Choice([*FORMATS, *ALIASES], case_sensitive=False))
@click.option("-o", "--output", default="-", show_default=True, metavar="FILE",
              help="Where to write; '-' is standard output (PNG needs a file or a pipe).")
@click.option("--focus", metavar="ENTITY", default=None,
              help="Only the neighbourhood of this entity: IRI, id, name or alias, as in queries.")
@click.option("--depth", type=click.IntRange(0, 20), default=None,
              help="Steps from the focus to keep (default 2); records such as designations are free.")
@click.option("--type", "types", multiple=True, metavar="TABLE",
              help="Keep only nodes of this table (companies, rules, ...); repeatable.")
@click.option("--effects", is_flag=True,
              help="Draw derived rule effects as dashed rule → party edges (pictures leave them out).")
@click.option("--merge/--no-merge", default=None,
              help="Draw designations that differ only in the party as one node "
                   "(default: on for dot/svg/png/html, off for graphml/gexf).")
@click.option("--layout", type=click.Choice(_LAYOUTS), default=None,
              help="Graphviz layout engine for dot/svg/png (default sfdp).")
@click.option("--time-limit", "time_limit_seconds", type=click.FloatRange(min=0), default=DEFAULT_TIME_LIMIT,
              envvar=TIME_LIMIT_ENV, show_envvar=True, show_default=True, metavar="SECONDS",
              help="Stop the whole export after this long, whatever it is doing (0: no limit).")
@query_timeout_option
@store_option
@endpoint_options
@handle_errors
def export(fmt: str, output: str, focus: str | None, depth: int | None, types: tuple[str, ...],
           effects: bool, merge: bool | None, layout: str | None, time_limit_seconds: float,
           query_timeout: float | None, store_path: Path | None, endpoint: str | None, graph_iri: str | None,
           timeout: float | None) -> None:
    """Export the graph, or the neighbourhood of one entity, as FORMAT.

    \b
    RDF:          turtle (ttl), ntriples (nt), nquads (nq), jsonld
    graph tools:  graphml (Gephi, yEd, Cytoscape), gexf (Gephi), dot (Graphviz)
    pictures:     svg, png (drawn by Graphviz's dot), html (interactive, offline)
    history:      timeline --focus FIRM -o FILE.svg|png
    other tools:  ftm (FollowTheMoney JSON lines: yente, Aleph, ftm),
                  void, dcat (the dataset and its sources described, Turtle)
    \b
    Examples:
      tradekg export html --focus Huawei --depth 2 -o huawei.html
      tradekg export svg --focus Huawei -o huawei.svg
      tradekg export graphml -o tradekg.graphml
      tradekg export turtle --focus "84 FR 22961" --depth 1
      tradekg export timeline --focus Huawei -o huawei-timeline.png
      tradekg export ftm -o tradekg.ftm.json
    """
    fmt = ALIASES.get(fmt.lower(), fmt.lower())
    if depth is not None and not focus:
        raise click.UsageError("--depth counts steps from an entity: pass --focus ENTITY too")
    with time_limit(time_limit_seconds, "the export", "narrow it with --focus ENTITY --depth N or --type TABLE, "
                    f"or raise --time-limit SECONDS (or {TIME_LIMIT_ENV}; 0 means no limit)"):
        _export(fmt, output, focus, depth, types, effects, merge, layout, store_path,
                lambda: open_backend(store_path, endpoint, graph_iri, timeout, query_timeout), endpoint)


def _export(fmt: str, output: str, focus: str | None, depth: int | None, types: tuple[str, ...], effects: bool,
            merge: bool | None, layout: str | None, store_path: Path | None, connect: Callable[[], Backend],
            endpoint: str | None) -> None:
    if fmt == "timeline":
        if types or effects or merge is not None or layout or depth is not None:
            raise click.UsageError("timeline takes only --focus FIRM and -o FILE.svg|png")
        _timeline(focus, output, connect())
        return
    if fmt in DATA_FORMATS:
        if focus or types or effects or merge is not None or layout or depth is not None:
            raise click.UsageError(f"{fmt} exports the whole graph; it takes only -o FILE")
        ledger = None if endpoint else open_store(store_path).manifest().get("ledger", [])
        _data(fmt, output, connect(), ledger)
        return
    if layout and fmt not in ("dot", "svg", "png"):
        raise click.UsageError("--layout applies to dot, svg and png")
    if fmt in FORMATS:
        check_suffix(output, fmt)

    from kg.export.network import network_view

    backend = connect()
    depth = 2 if depth is None else depth
    if fmt in RDF_FORMATS:
        from kg.export.rdf import export_rdf

        nodes = None
        if focus or types:
            nodes = list(network_view(backend, focus=focus, depth=depth, types=types).graph.nodes)
        payload, count = export_rdf(backend, fmt, nodes)
        where = _write(payload, output, binary=False)
        click.echo(f"wrote {where}: {count} statement{'s' if count != 1 else ''} as {fmt} "
                   f"({_human_size(len(payload))})", err=True)
        return

    merge = fmt in _MERGED_BY_DEFAULT if merge is None else merge
    view = network_view(backend, focus=focus, depth=depth, types=types, include_effects=effects, merge=merge)
    nodes = view.graph.number_of_nodes()
    if fmt in ("dot", *PICTURE_FORMATS) and nodes > PICTURE_NODE_LIMIT:
        click.echo(f"warning: {nodes} nodes are too many to read in one picture; narrow it with "
                   "--focus ENTITY --depth 2 or --type TABLE (graphml/gexf suit the whole graph)", err=True)
    payload = _draw(view, fmt, layout)
    where = _write(payload, output, fmt in _BINARY)
    click.echo(f"wrote {where}: {view.size_text()} as {fmt} ({_human_size(len(payload))})", err=True)


def _data(fmt: str, output: str, backend: Backend, ledger: list[dict[str, object]] | None) -> None:
    if fmt == "ftm":
        from kg.export.ftm import write_ftm

        check_suffix(output, "ftm")
        buffer = io.StringIO()
        counts = write_ftm(backend, buffer)
        payload = buffer.getvalue().encode("utf-8")
        where = _write(payload, output, binary=False)
        summary = ", ".join(f"{n} {schema}" for schema, n in sorted(counts.items()))
        click.echo(f"wrote {where}: {sum(counts.values())} FollowTheMoney entities ({summary or 'none'}; "
                   f"{_human_size(len(payload))})", err=True)
        return
    from kg.export.describe import dcat_graph, void_graph

    check_suffix(output, fmt, (fmt, "turtle"))
    graph = void_graph(backend) if fmt == "void" else dcat_graph(backend, ledger)  # type: ignore[arg-type]
    payload = graph.serialize(format="turtle").encode("utf-8")
    where = _write(payload, output, binary=False)
    click.echo(f"wrote {where}: {'VoID' if fmt == 'void' else 'DCAT'} description, {len(graph)} statements "
               f"({_human_size(len(payload))})", err=True)


def _draw(view: NetworkView, fmt: str, layout: str | None) -> bytes:
    from kg.export import dot, graphtools

    if fmt == "graphml":
        buffer = io.BytesIO()
        graphtools.write_graphml(view, buffer)
        return buffer.getvalue()
    if fmt == "gexf":
        buffer = io.BytesIO()
        graphtools.write_gexf(view, buffer)
        return buffer.getvalue()
    if fmt == "dot":
        return dot.to_dot(view, layout=layout).encode("utf-8")
    if fmt in ("svg", "png"):
        from kg.export.render import render_dot

        return render_dot(dot.to_dot(view, layout=layout), fmt)
    if fmt == "html":
        from kg.export.html import to_html
        from kg.export.render import layout_positions

        positions = layout_positions(view) if view.graph.number_of_nodes() <= PICTURE_NODE_LIMIT else {}
        return to_html(view, positions).encode("utf-8")
    raise TradekgError(f"unknown format {fmt!r}; choose one of {', '.join(GRAPH_FORMATS + PICTURE_FORMATS)}")
