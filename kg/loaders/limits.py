"""Limits checked before the work: how big an input file may be, and what no importer accepts.

Every importer reads a whole file into memory (its bytes are also kept in the
store's ledger). Read blindly, ``tradekg load /dev/zero`` grew to 9 GB before
anything could refuse it. So a file is measured before it is read (a
regular file by its size; a device or a pipe, which has none, by reading at
most one byte more than the limit) and refused in one line when it is too
big. ``TRADEKG_MAX_INPUT_MB`` (default 256: the whole trade.gov CSL is 15 MB) moves the limit.

NUL bytes are refused by every importer in the same words as ``load``: they
have no place in a CSV or JSON export, they mean a binary or damaged file,
and a NUL kept in a name would reach the graph and every page.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kg.errors import InputProblem, TradekgError

MAX_INPUT_ENV = "TRADEKG_MAX_INPUT_MB"
DEFAULT_MAX_INPUT_MB = 256
NUL_MESSAGE = "contains a NUL byte; is this a binary file?"


class InputTooBig(TradekgError):
    """An input file over the size limit; nothing was read past the limit."""


def max_input_bytes() -> int:
    raw = os.environ.get(MAX_INPUT_ENV, "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_MAX_INPUT_MB
    except ValueError:
        megabytes = -1
    if not megabytes > 0:
        raise TradekgError(f"{MAX_INPUT_ENV} must be a number of megabytes above 0, not {raw!r}")
    return int(megabytes * 1024 * 1024)


def read_input(path: Path, display: str | None = None) -> bytes:
    """The bytes of ``path``, refused with ``InputTooBig`` before the work if over the limit."""
    limit = max_input_bytes()
    shown = display or str(path)
    with open(path, "rb") as handle:
        info = os.fstat(handle.fileno())
        if stat.S_ISREG(info.st_mode) and info.st_size > limit:
            raise InputTooBig(f"{shown}: {info.st_size / 2**20:,.0f} MB is more than an input may be "
                          f"({limit / 2**20:,.0f} MB; {MAX_INPUT_ENV} raises it); nothing was read")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InputTooBig(f"{shown}: more than {limit / 2**20:,.0f} MB (not a regular file, or still growing); "
                      f"an input may be at most that ({MAX_INPUT_ENV} raises it); nothing was loaded")
    return data


def nul_problem(data: bytes, display: str) -> InputProblem | None:
    """The problem of a NUL byte in ``data`` (with its line), or None."""
    at = data.find(b"\x00")
    if at < 0:
        return None
    return InputProblem(display, data.count(b"\n", 0, at) + 1, None, NUL_MESSAGE)
