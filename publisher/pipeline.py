"""Convert -> validate -> output: the one path every caller uses (CLI, later web/API).

A batch is all or nothing: output is assembled in memory or a temporary file and
only handed over when no record violates the shapes (or ``skip_invalid`` drops the
invalid ones). Large batches are split into chunks that worker processes convert and
validate (pySHACL has a fixed cost per call; both cores are used).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

from rdflib import Graph
from rdflib.plugins.serializers.nt import _nt_row

from publisher.config import Settings
from publisher.errors import InputError
from publisher.importers import read_releases
from publisher.jsonld import dumps_for_html, graph_to_embed, graph_to_jsonld
from publisher.model import Release
from publisher.namespaces import Iris
from publisher.rdf import bind_prefixes, new_graph, release_to_triples
from publisher.validation import (
    Result,
    ValidationReport,
    results_from_graph,
    validate_graph,
)

OUTPUT_FORMATS = ("turtle", "ntriples", "nquads", "rdfxml", "jsonld", "jsonld-embed")
#: formats written release by release (streamable); the others need one graph
LINE_FORMATS = ("ntriples", "nquads", "jsonld-embed")
CHUNK = 200


@dataclass
class ChunkResult:
    results: list[Result]
    outputs: list[str]  # per release, in the chunk's order
    shared: list[str] = field(default_factory=list)  # ntriples lines of site nodes


@dataclass
class BatchOutcome:
    """What a batch produced: the report, the releases kept, their output."""

    report: ValidationReport
    releases: list[Release]
    skipped: list[Release]
    text: str | None  # None when nothing may be written


def load(paths: Sequence[str], settings: Settings, fmt: str = "auto") -> list[Release]:
    """Read every input; refuse a batch that names one release twice."""
    releases = read_releases(paths, settings, fmt)
    seen: dict[str, Release] = {}
    for release in releases:
        first = seen.get(release.slug)
        if first is not None:
            src, other = release.source, first.source
            where = (
                f"{other.file} record {other.index}" if other else "an earlier record"
            )
            raise InputError(
                f"the id {release.slug!r} is already used by {where}; "
                "a batch names each release once",
                file=src.file if src else None,
                record=src.index if src else None,
                record_id=release.slug,
                field=src.field_name("slug") if src else "id",
            )
        seen[release.slug] = release
    return releases


def _process_chunk(args: tuple[list[Release], Settings, str]) -> ChunkResult:
    releases, settings, fmt = args
    data = new_graph()
    per_release: list[list[tuple[Any, Any, Any]]] = []
    for release in releases:
        triples = release_to_triples(release, settings)
        per_release.append(triples)
        data.addN((s, p, o, data) for s, p, o in triples)
    _, results_graph = validate_graph(data)
    results = list(results_from_graph(results_graph, data, releases, settings))
    outputs: list[str] = []
    iris = Iris(settings.base_url)
    shared: set[str] = set()
    for release, triples in zip(releases, per_release, strict=True):
        page = iris.page(release.slug)
        if fmt == "jsonld-embed":
            g = Graph()
            g.addN((s, p, o, g) for s, p, o in triples)
            block = graph_to_embed(g)
            outputs.append(
                json.dumps(
                    {"id": release.slug, "url": page, "jsonld": block},
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
                + "\n"
            )
            continue
        own: set[str] = set()
        for triple in triples:
            line = _nt_row(triple)
            if fmt != "nquads" and not str(triple[0]).startswith(page):
                shared.add(line)
            else:
                own.add(line)
        if fmt == "nquads":
            suffix = f" <{iris.release_graph(release.slug)}> .\n"
            outputs.append("".join(line[:-3] + suffix for line in sorted(own)))
        else:
            outputs.append("".join(sorted(own)))
    return ChunkResult(results, outputs, sorted(shared))


def _chunks(releases: Sequence[Release], size: int) -> Iterator[list[Release]]:
    for start in range(0, len(releases), size):
        yield list(releases[start : start + size])


def default_jobs(n_releases: int) -> int:
    if n_releases < 2 * CHUNK:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def run_batch(
    releases: Sequence[Release],
    settings: Settings,
    fmt: str = "ntriples",
    *,
    skip_invalid: bool = False,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> BatchOutcome:
    """Convert and validate a batch; output only if the batch may be written."""
    if fmt not in OUTPUT_FORMATS:
        raise InputError(
            f"unknown output format {fmt!r}; use one of {', '.join(OUTPUT_FORMATS)}"
        )
    line_fmt = fmt if fmt in LINE_FORMATS else "ntriples"
    jobs = default_jobs(len(releases)) if jobs is None else jobs
    chunks = list(_chunks(releases, CHUNK))
    work = [(c, settings, line_fmt) for c in chunks]
    outcomes: list[ChunkResult] = []
    if jobs <= 1 or len(chunks) <= 1:
        for item in work:
            outcomes.append(_process_chunk(item))
            if progress:
                progress(len(item[0]))
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for item, outcome in zip(work, pool.map(_process_chunk, work), strict=True):
                outcomes.append(outcome)
                if progress:
                    progress(len(item[0]))
    report = ValidationReport(checked=len(releases))
    for outcome in outcomes:
        report.results.extend(outcome.results)
    bad = {r.record_id for r in report.violations} | {
        r.focus for r in report.violations
    }
    kept: list[Release] = []
    skipped: list[Release] = []
    pieces: list[str] = []
    shared: dict[str, None] = {}
    for chunk, outcome in zip(chunks, outcomes, strict=True):
        for release, text in zip(chunk, outcome.outputs, strict=True):
            rid = release.source.record_id if release.source else release.slug
            if rid in bad or release.slug in bad:
                skipped.append(release)
                continue
            kept.append(release)
            pieces.append(text)
        for line in outcome.shared:
            shared.setdefault(line, None)
    if skipped and not skip_invalid:
        return BatchOutcome(report, kept, skipped, None)
    if not kept:
        return BatchOutcome(report, kept, skipped, None)
    if fmt == "jsonld-embed" or fmt == "nquads":
        text = "".join(pieces)
    elif fmt == "ntriples":
        text = "".join(sorted(shared)) + "".join(pieces)
    else:
        text = _serialize_whole(fmt, "".join(sorted(shared)) + "".join(pieces))
    return BatchOutcome(report, kept, skipped, text)


def _serialize_whole(fmt: str, ntriples: str) -> str:
    graph = bind_prefixes(Graph(bind_namespaces="none"))
    graph.parse(data=ntriples, format="nt")
    if fmt == "jsonld":
        return json.dumps(graph_to_jsonld(graph), indent=2, ensure_ascii=False) + "\n"
    rdflib_name = {"turtle": "turtle", "rdfxml": "pretty-xml"}[fmt]
    return graph.serialize(format=rdflib_name)


def release_embed_html(release: Release, settings: Settings) -> str:
    """The ``<script type="application/ld+json">`` element for one release."""
    g = Graph()
    g.addN((s, p, o, g) for s, p, o in release_to_triples(release, settings))
    return (
        '<script type="application/ld+json">\n'
        + dumps_for_html(graph_to_embed(g))
        + "\n</script>\n"
    )


def write_text(text: str, out: IO[str]) -> None:
    out.write(text)
