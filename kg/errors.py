"""Errors a user can act on: each names the file, line and column to fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class InputProblem:
    """One thing wrong with an input file, pinned to where it is."""

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.column:
            where += f": column {self.column}"
        return f"{where}: {self.message}"


class TradekgError(Exception):
    """A failure explained to the user in plain words (exit code 2)."""


class LoadFailed(TradekgError):
    """Raised with every problem of a load at once, so one pass fixes them all."""

    def __init__(self, problems: list[InputProblem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or ""))
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the input; nothing was loaded")

    def details(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class NotFound(TradekgError):
    """A named entity, query or parameter that does not exist (with suggestions)."""
