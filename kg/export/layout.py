"""Starting positions for graph-tool files without numpy or a slow layout run.

GraphML and GEXF carry positions only so that Gephi and yEd open a graph
spread out instead of as a pile in one corner; the reader runs the tool's own
layout after that. So the positions must be cheap: networkx's spring layout
needs numpy (not in the base install), and Graphviz on a few hundred nodes
took a minute. Here, in pure Python: a Fruchterman-Reingold run for small
graphs (at most ``SPRING_LIMIT`` nodes, about 0.1 s), and for larger ones
concentric rings, one per kind of node, in linear time.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Iterable

SPRING_LIMIT = 150


def spring(nodes: list[Hashable], edges: Iterable[tuple[Hashable, Hashable]], scale: float = 1000.0,
           iterations: int = 60, seed: int = 7) -> dict[Hashable, tuple[float, float]]:
    """Fruchterman-Reingold positions in [-scale, scale], seeded so the same graph lands the same way."""
    n = len(nodes)
    if n == 0:
        return {}
    if n == 1:
        return {nodes[0]: (0.0, 0.0)}
    rng = random.Random(seed)
    at = {v: i for i, v in enumerate(nodes)}
    pairs = sorted({(min(at[u], at[v]), max(at[u], at[v])) for u, v in edges if u in at and v in at and u != v})
    x = [rng.random() for _ in range(n)]
    y = [rng.random() for _ in range(n)]
    k = 1.0 / math.sqrt(n)
    temperature = 0.1
    cooling = temperature / (iterations + 1)
    for _ in range(iterations):
        dx = [0.0] * n
        dy = [0.0] * n
        for i in range(n):
            xi, yi = x[i], y[i]
            for j in range(i + 1, n):
                ex, ey = xi - x[j], yi - y[j]
                d2 = ex * ex + ey * ey or 1e-9
                f = k * k / d2  # repulsion k²/d, along the unit vector (e/d)
                dx[i] += ex * f
                dy[i] += ey * f
                dx[j] -= ex * f
                dy[j] -= ey * f
        for i, j in pairs:
            ex, ey = x[i] - x[j], y[i] - y[j]
            d = math.sqrt(ex * ex + ey * ey) or 1e-9
            f = d / k  # attraction d²/k, along the unit vector
            dx[i] -= ex * f
            dy[i] -= ey * f
            dx[j] += ex * f
            dy[j] += ey * f
        for i in range(n):
            length = math.sqrt(dx[i] * dx[i] + dy[i] * dy[i]) or 1e-9
            step = min(length, temperature) / length
            x[i] += dx[i] * step
            y[i] += dy[i] * step
        temperature -= cooling
    return _scaled(nodes, x, y, scale)


def rings(groups: dict[str, list[Hashable]], scale: float = 1000.0) -> dict[Hashable, tuple[float, float]]:
    """One ring per group, the smallest innermost, nodes evenly spaced on it; linear time.

    Each ring is at least one unit outside the previous one and large enough
    to leave about a unit between neighbours on it.
    """
    where: dict[Hashable, tuple[float, float]] = {}
    radius = 0.0
    for _, members in sorted(groups.items(), key=lambda item: (len(item[1]), item[0])):
        count = len(members)
        if not count:
            continue
        if where or count > 1:
            radius = max(radius + 1.0, count / (2 * math.pi))
        for i, node in enumerate(members):
            angle = 2 * math.pi * i / count
            where[node] = (radius * math.cos(angle), radius * math.sin(angle))
    if not where:
        return {}
    nodes = list(where)
    return _scaled(nodes, [where[v][0] for v in nodes], [where[v][1] for v in nodes], scale)


def _scaled(nodes: list[Hashable], x: list[float], y: list[float], scale: float) -> dict[Hashable, tuple[float, float]]:
    cx, cy = sum(x) / len(x), sum(y) / len(y)
    extent = max(max(abs(v - cx) for v in x), max(abs(v - cy) for v in y)) or 1.0
    return {v: ((x[i] - cx) / extent * scale, (y[i] - cy) / extent * scale) for i, v in enumerate(nodes)}
