"""The fast reader of stored N-Triples (publisher.readback.Lookup) reads every
fixture and the sample calendar back to exactly the Release that rdflib's parser
gives, as the embedded store serialises the graphs; text it does not recognise goes
through rdflib."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from publisher import pipeline
from publisher.config import Settings
from publisher.model import Release
from publisher.namespaces import Iris
from publisher.rdf import graph_to_ntriples, release_to_graph
from publisher.readback import (
    Lookup,
    graph_to_release,
    ntriples_to_release,
    read_ntriples,
)
from publisher.store.oxigraph import EmbeddedStore

from .test_readback import INPUTS, _releases


def _both(text: str, slug: str, settings: Settings) -> tuple[Release, Release]:
    assert Lookup.from_ntriples(text) is not None, text[:500]
    return (
        ntriples_to_release(text, slug, settings),
        graph_to_release(read_ntriples(text), slug, settings),
    )


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_the_lookup_reads_what_rdflib_reads(path: Path) -> None:
    settings = Settings()
    for release in _releases(path, settings):
        text = graph_to_ntriples(release_to_graph(release, settings))
        fast, slow = _both(text, release.slug, settings)
        assert fast == slow


def test_the_lookup_reads_graphs_as_the_store_holds_them(
    sample_releases: list[Release], store: EmbeddedStore
) -> None:
    settings = Settings()
    imported = pipeline.import_batch(sample_releases, settings, store, jobs=1)
    assert imported.published is not None
    iris = Iris(settings.base_url)
    for release in sample_releases:
        text = store.graph_ntriples(iris.release_graph(release.slug))
        fast, slow = _both(text, release.slug, settings)
        assert fast == slow


def test_escapes_languages_and_datatypes(sample_releases: list[Release]) -> None:
    settings = Settings()
    awkward = 'Quotes " and \\ backslash,\nnew line, tab\t, é, 😀 and \u2028'
    release = dataclasses.replace(
        sample_releases[0], title=awkward, summary=awkward + " (summary)"
    )
    text = graph_to_ntriples(release_to_graph(release, settings))
    fast, slow = _both(text, release.slug, settings)
    assert fast == slow
    assert fast.title == awkward
    escaped = text.replace("é", "\\u00E9").replace("😀", "\\U0001F600")
    assert escaped != text
    fast, slow = _both(escaped, release.slug, settings)
    assert fast == slow
    assert fast.title == awkward


def test_text_it_does_not_recognise_goes_through_rdflib(
    sample_releases: list[Release],
) -> None:
    settings = Settings()
    release = sample_releases[0]
    text = graph_to_ntriples(release_to_graph(release, settings))
    # legal N-Triples, spaced unusually: not the fast path, the same answer
    spaced = text.replace("> <", ">\t<")
    assert Lookup.from_ntriples(spaced) is None
    assert ntriples_to_release(spaced, release.slug, settings) == graph_to_release(
        read_ntriples(text), release.slug, settings
    )
