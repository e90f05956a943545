"""The one table of formats (publisher.formats) is whole and consistent."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib.plugin import Serializer, get

from publisher import formats
from publisher.formats import BY_NAME, DUMP, FORMATS, GRAPH, RESULTS


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_library_names_exist(fmt: formats.Format) -> None:
    family = ox.QueryResultsFormat if RESULTS in fmt.kinds else ox.RdfFormat
    member = getattr(family, fmt.oxigraph)
    assert member.media_type.split(";")[0] == fmt.mimetype
    if fmt.rdflib:
        assert get(fmt.rdflib, Serializer)


def test_names_and_suffixes_are_unique() -> None:
    assert len(BY_NAME) == len(FORMATS)
    for kind in (RESULTS, GRAPH, DUMP):
        suffixes = [f.suffix for f in formats.of_kind(kind)]
        assert len(set(suffixes)) == len(suffixes), kind


@pytest.mark.parametrize("kind", [RESULTS, GRAPH, DUMP])
def test_aliases_and_short_names_name_formats_of_their_kind(kind: str) -> None:
    for name in [*formats.ALIASES[kind].values(), *formats.SHORT[kind].values()]:
        assert BY_NAME[name].serves(kind), (kind, name)
    for alias in formats.ALIASES[kind]:
        assert alias not in {f.mimetype for f in formats.of_kind(kind)}


def test_accepted_and_file_names() -> None:
    assert formats.accepted("json", RESULTS) == (
        "application/sparql-results+json",
        "application/json",
    )
    assert formats.accepted("rdfxml", GRAPH) == (
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    )
    assert formats.names(DUMP) == ("nquads", "trig")
    assert formats.for_file("backup.trig", DUMP, "nquads") == "trig"
    assert formats.for_file("backup.nq", DUMP, "nquads") == "nquads"
    assert formats.for_file("backup", DUMP, "nquads") == "nquads"
