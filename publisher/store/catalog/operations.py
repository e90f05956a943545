"""The SPARQL Update operations of the catalogue's writes: what a write clears,
and the one INSERT DATA of what the mapping (publisher.records) built."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from publisher import records
from publisher.namespaces import Iris
from publisher.records import ReleaseEntry


def clear_header(iris: Iris) -> list[str]:
    """Operations that clear the catalogue node, the organisation and the topic
    scheme, but not their links to records and topics."""
    cat = f"<{iris.catalog_graph}>"
    return [
        f"DELETE {{ GRAPH {cat} {{ <{iris.catalog}> ?p ?o }} }} WHERE {{ GRAPH {cat} "
        f"{{ <{iris.catalog}> ?p ?o "
        "FILTER(?p NOT IN (dcat:dataset, dcat:record, schema:dataset)) } }",
        f"DELETE WHERE {{ GRAPH {cat} {{ <{iris.organization}> ?p ?o }} }}",
        f"DELETE {{ GRAPH {cat} {{ <{iris.topic_scheme}> ?p ?o }} }} WHERE {{ "
        f"GRAPH {cat} {{ <{iris.topic_scheme}> ?p ?o "
        "FILTER(?p != skos:hasTopConcept) } }",
    ]


def publish_deletes(
    iris: Iris,
    releases: Sequence[ReleaseEntry],
    removed: Mapping[str, str] | None = None,
) -> list[str]:
    """The operations that clear what a publish of ``releases`` rewrites: the
    catalogue's header, each release's graph and record, and their topics.

    ``removed``: for the releases whose stored graph is known, the N-Triples
    lines that the new graph no longer has; only those are deleted (dropping a
    graph and writing it whole cost milliseconds a release on disk, issue 12).
    """
    cat = f"<{iris.catalog_graph}>"
    graphs, subjects = rewritten(iris, releases)
    known = removed or {}
    ops = clear_header(iris)
    for release, graph in zip(releases, graphs, strict=True):
        lines = known.get(release.slug)
        if lines is None:
            ops.append(f"DROP SILENT GRAPH <{graph}>")
        elif lines:
            ops.append(f"DELETE DATA {{ GRAPH <{graph}> {{\n{lines}}} }}")
    return ops + [f"DELETE WHERE {{ GRAPH {cat} {{ <{s}> ?p ?o }} }}" for s in subjects]


def rewritten(
    iris: Iris, releases: Sequence[ReleaseEntry]
) -> tuple[list[str], list[str]]:
    """What a publish of ``releases`` rewrites besides the catalogue's header:
    their graphs, and the subjects of the catalogue graph (each release's record
    and its topics) whose every triple there is replaced."""
    topic_slugs = sorted({t.slug for r in releases for t in r.topics})
    return (
        [iris.release_graph(r.slug) for r in releases],
        [iris.record(r.slug) for r in releases] + [iris.topic(t) for t in topic_slugs],
    )


def insert_data(iris: Iris, catalog_lines: list[str], history: list[str]) -> str:
    """One INSERT DATA of catalogue lines and history lines (N-Triples, each
    ending in a newline), in their graphs."""
    parts = []
    if catalog_lines:
        parts.append(
            f"GRAPH <{iris.catalog_graph}> {{\n" + "".join(catalog_lines) + "}"
        )
    if history:
        parts.append(f"GRAPH <{iris.history_graph}> {{\n" + "".join(history) + "}")
    return "INSERT DATA {\n" + "\n".join(parts) + "\n}"


def retire_record(iris: Iris, slug: str) -> list[str]:
    """Operations that take a release's record and its links out of the catalogue."""
    cat = f"<{iris.catalog_graph}>"
    rec, rel = f"<{iris.record(slug)}>", f"<{iris.release(slug)}>"
    return [
        f"DELETE WHERE {{ GRAPH {cat} {{ {rec} ?p ?o }} }}",
        f"DELETE DATA {{ GRAPH {cat} {{ <{iris.catalog}> dcat:dataset {rel} . "
        f"<{iris.catalog}> schema:dataset {rel} . "
        f"<{iris.catalog}> dcat:record {rec} }} }}",
    ]


def tombstone(
    iris: Iris, slug: str, title: str | None, moment: datetime, reason: str
) -> tuple[list[str], list[str]]:
    """Operations that retire a release's record, and its tombstone's lines."""
    ops = retire_record(iris, slug)
    return ops, records.lines(records.tombstone(iris, slug, title, moment, reason))
