"""Progress bars for long imports, builds and validations, only where a person watches.

A bar is drawn on stderr when stderr is a terminal and ``CI`` is not set;
piped or in CI the iterable passes through untouched, so logs stay clean.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

import click

T = TypeVar("T")


def interactive() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


def progress(items: Iterable[T], label: str, length: int | None = None) -> Iterator[T]:
    """Yield ``items``, drawing a click progress bar on a terminal."""
    if not interactive():
        yield from items
        return
    with click.progressbar(items, length=length, label=label, file=sys.stderr) as bar:
        yield from bar


def stage(label: str) -> None:
    """Say which step a long command has reached, on a terminal only.

    For steps that are one call into Oxigraph (deriving, bulk-loading), where
    there is nothing to count: a million-triple build spends ~10 s in each.
    """
    if interactive():
        click.echo(f"{label}...", err=True)
