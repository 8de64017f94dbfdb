"""Find the ontology, queries and curated data from a checkout or a wheel.

In a checkout they sit beside the package (``../ontology``); in an installed
wheel they are force-included inside it (``kg/_resources/ontology``), see
``pyproject.toml``. One lookup keeps both layouts working.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent


def _resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / "_resources" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"cannot find the {name}/ folder beside the kg package or inside it; "
        "reinstall tradekg or run from a checkout"
    )


def ontology_dir() -> Path:
    return _resource_dir("ontology")


def queries_dir() -> Path:
    return _resource_dir("queries")


def data_dir() -> Path:
    return _resource_dir("data")


def ontology_files() -> list[Path]:
    """The OWL ontology and the SKOS concept schemes (shapes are separate)."""
    return sorted(p for p in ontology_dir().glob("*.ttl") if p.name != "shapes.ttl")


def shapes_file() -> Path:
    return ontology_dir() / "shapes.ttl"


def tables_file() -> Path:
    return data_dir() / "tables.yml"


@cache
def data_mapping(file_name: str) -> dict[str, Any]:
    """A source's mapping file in data/ (``csl.yml``, ``ofac.yml``...): facts about a source, not code."""
    import yaml  # only the importers read these

    return yaml.safe_load((data_dir() / file_name).read_text(encoding="utf-8"))


@cache
def lookup_query(name: str) -> str:
    """The text of ``queries/lookup/<name>.rq``: SPARQL the code runs lives in files."""
    return (queries_dir() / "lookup" / f"{name}.rq").read_text(encoding="utf-8")
