"""Files that ship inside the package: shapes, ontology, JSON-LD context, sample.

In a wheel, ``shapes/`` and ``ontology/`` are force-included as
``publisher/shapes`` and ``publisher/ontology`` (pyproject.toml). In a source
checkout (editable install) they are read from the repository's top level.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


def _packaged_dir(name: str) -> Path:
    packaged = resources.files("publisher") / name
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"publisher/{name} is missing from this installation")


def shapes_dir() -> Path:
    return _packaged_dir("shapes")


def ontology_dir() -> Path:
    return _packaged_dir("ontology")


def shapes_files() -> list[Path]:
    return sorted(shapes_dir().glob("*.ttl"))


def ontology_file() -> Path:
    return ontology_dir() / "release-publisher.ttl"


def data_file(name: str) -> Path:
    """A file of publisher/data (the sample, the JSON schemas, the context)."""
    return Path(str(resources.files("publisher") / "data" / name))


def sample_calendar() -> Path:
    return data_file("sample-calendar.json")


@cache
def schemaorg_context_text() -> str:
    return data_file("schemaorg-context.jsonld").read_text(encoding="utf-8")
