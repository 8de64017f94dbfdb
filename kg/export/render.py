"""Static pictures: SVG and PNG drawn by the real Graphviz from our DOT.

Graphviz lays out graphs of this size better than anything we could write,
and its SVG keeps text as text (searchable, selectable, escaped). We call the
``dot`` program found on PATH; the layout engine is named inside the DOT
(``layout=dot`` or ``sfdp``), so the picture matches what the user gets by
running Graphviz on ``tradekg export dot`` themselves.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from typing import NamedTuple

from kg.errors import TradekgError
from kg.export.dot import to_dot
from kg.export.network import NetworkView

RENDER_FORMATS = ("svg", "png", "json0")  # json0: positions only, for layout_positions
# A layout that takes longer than this is stuck on a graph too big to read anyway.
TIMEOUT_SECONDS = 600


_running: set[subprocess.Popen[bytes]] = set()  # Graphviz processes now drawing, for stop_drawing
_running_lock = threading.Lock()


def stop_drawing() -> None:
    """Kill every Graphviz process this process started and has not yet reaped: a command stopped at its
    deadline (``tradekg export --time-limit``) leaves no ``dot`` running on."""
    with _running_lock:
        for process in _running:
            process.kill()


class GraphvizMissing(TradekgError):
    pass


def dot_binary() -> str:
    """The path of Graphviz's ``dot``, or an error that says how to install it."""
    path = shutil.which("dot")
    if path is None:
        raise GraphvizMissing(
            "Graphviz's `dot` program is not on PATH; install it (Debian/Ubuntu: "
            "`apt-get install graphviz`, macOS: `brew install graphviz`) or export DOT "
            "with `tradekg export dot` and render it elsewhere"
        )
    return path


def render_dot(dot_text: str, fmt: str) -> bytes:
    """Run ``dot -T<fmt>`` on ``dot_text`` and return the picture."""
    if fmt not in RENDER_FORMATS:
        raise TradekgError(f"cannot render {fmt!r}; choose one of {', '.join(RENDER_FORMATS)}")
    args = [dot_binary(), f"-T{fmt}"]
    if fmt == "png":
        args.append("-Gdpi=110")
    process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with _running_lock:
        _running.add(process)
    try:
        out, err = process.communicate(dot_text.encode("utf-8"), timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise TradekgError(
            f"Graphviz gave up after {TIMEOUT_SECONDS} s; the graph is too big for one picture, "
            "narrow it with --focus ENTITY --depth N or --type"
        ) from None
    finally:
        with _running_lock:
            _running.discard(process)
    if process.returncode != 0:
        message = err.decode("utf-8", "replace").strip().splitlines()
        raise TradekgError(f"Graphviz failed: {message[-1] if message else 'exit ' + str(process.returncode)}")
    return out


def render(view: NetworkView, fmt: str) -> bytes:
    """The view as an SVG or PNG picture."""
    return render_dot(to_dot(view), fmt)


class Placement(NamedTuple):
    """Where Graphviz put a node and how big it drew it, in points (y up)."""

    x: float
    y: float
    width: float
    height: float


def layout_positions(view: NetworkView) -> dict[str, Placement]:
    """Where Graphviz puts each node, or ``{}`` without Graphviz.

    The HTML page and the GraphML/GEXF files start from these, so every tool
    opens on the picture the SVG shows.
    """
    if shutil.which("dot") is None or view.graph.number_of_nodes() == 0:
        return {}
    try:
        layout = json.loads(render_dot(to_dot(view), "json0"))
    except (TradekgError, ValueError):
        return {}
    where: dict[str, Placement] = {}
    for item in layout.get("objects", []):
        name, pos = item.get("name"), item.get("pos")
        if name in view.graph and isinstance(pos, str) and "," in pos:
            x, y = pos.split(",")[:2]
            width = float(item.get("width", 1.0)) * 72
            height = float(item.get("height", 0.5)) * 72
            where[name] = Placement(float(x), float(y), width, height)
    return where
