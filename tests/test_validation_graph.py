"""The validation graph's own store answers every triple pattern as rdflib's does."""

from __future__ import annotations

from itertools import product

from rdflib import Graph

from publisher.config import Settings
from publisher.model import Release
from publisher.rdf import release_to_triples
from publisher.validation import validation_graph


def test_every_pattern_matches_what_an_rdflib_graph_gives(
    settings: Settings, sample_releases: list[Release]
) -> None:
    releases = sample_releases[:5]
    triples = [t for r in releases for t in release_to_triples(r, settings)]
    ours = validation_graph(triples)
    plain = Graph()
    for triple in ours.triples((None, None, None)):
        plain.add(triple)
    assert len(ours) == len(plain) == len(set(ours.triples((None, None, None))))
    assert len(ours) < len(
        set(triples)
    )  # repeats kept once, unseen predicates left out
    for s, p, o in list(plain)[::7]:
        for pattern in product((s, None), (p, None), (o, None)):
            assert sorted(ours.triples(pattern)) == sorted(plain.triples(pattern))
    assert not list(ours.triples((None, None, plain.identifier)))
