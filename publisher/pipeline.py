"""Convert -> validate -> output: the one path every caller uses (CLI, later web/API).

A batch is all or nothing: output goes to a stream the caller provides (a temporary
file the CLI renames into place) and the caller keeps it only when no record
violates the shapes, or when ``skip_invalid`` drops the invalid ones. Large batches
are split into chunks that worker processes convert and validate (pySHACL has a
fixed cost per call; both cores are used), with a bounded number of chunks in
flight so memory stays flat. Workers are spawned, never forked from a process that
holds the store's lock, and end when it ends (publisher.workers).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any, Protocol

from rdflib import Graph

from publisher.config import Settings
from publisher.errors import InputError
from publisher.formats import BY_NAME
from publisher.importers import iter_releases, read_releases
from publisher.jsonld import graph_to_embed, graph_to_jsonld
from publisher.model import Release, Topic
from publisher.namespaces import Iris
from publisher.rdf import bind_prefixes, nt_line, release_to_triples
from publisher.store import Store, catalog
from publisher.store.catalog import (
    ChangeNote,
    PublishResult,
    ReleaseEntry,
    content_hash,
)
from publisher.store.index_fields import Known, known_of_release
from publisher.validation import (
    Result,
    ValidationReport,
    results_from_graph,
    validate_graph,
    validation_graph,
)
from publisher.workers import worker_pool

#: RDF syntaxes (names of publisher.formats), then JSON Lines of schema.org blocks
OUTPUT_FORMATS = ("turtle", "ntriples", "nquads", "rdfxml", "jsonld", "jsonld-embed")
#: formats written release by release (streamed); the others need one whole graph
LINE_FORMATS = ("ntriples", "nquads", "jsonld-embed")
CHUNK = 500


class TextSink(Protocol):
    """Where run_batch writes: a text file, or a bulk load fed as it goes."""

    def write(self, text: str, /) -> int: ...


@dataclass
class ChunkResult:
    results: list[Result]
    outputs: list[str]  # per release, in the chunk's order
    shared: list[str] = field(default_factory=list)  # N-Triples of site-wide nodes
    hashes: list[str] = field(default_factory=list)  # nquads: each graph's version


@dataclass
class BatchOutcome:
    """What a batch produced: the report, and which releases were written."""

    report: ValidationReport
    kept: list[str]  # slugs written
    skipped: list[str]  # slugs left out as invalid
    written: bool  # False: nothing may be written (the caller discards the output)
    text: str | None = None  # the output, for run_batch_text
    hashes: dict[str, str] = field(default_factory=dict)  # nquads: slug -> version
    meta: dict[str, tuple[str, tuple[Topic, ...]]] = field(default_factory=dict)
    known: dict[str, Known] = field(default_factory=dict)  # nquads: index rows


def load(paths: Sequence[str], settings: Settings, fmt: str = "auto") -> list[Release]:
    """Read every input into a list; refuse a batch that names one release twice."""
    releases = list(read_releases(paths, settings, fmt))
    _check_unique(releases, {})
    return releases


def iter_inputs(
    paths: Sequence[str], settings: Settings, fmt: str = "auto"
) -> Iterator[Release]:
    """Every input's releases, streamed (run_batch checks that ids are unique)."""
    return iter_releases(paths, settings, fmt)


def _check_unique(
    releases: Iterable[Release], seen: dict[str, tuple[str | None, int | None]]
) -> None:
    for release in releases:
        src = release.source
        first = seen.get(release.slug)
        if first is not None:
            where = f"{first[0]} record {first[1]}" if first[0] else "an earlier record"
            raise InputError(
                f"the id {release.slug!r} is already used by {where}; "
                "a batch names each release once",
                file=src.file if src else None,
                record=src.index if src else None,
                record_id=release.slug,
                field=src.field_name("slug") if src else "id",
            )
        seen[release.slug] = (src.file, src.index) if src else (None, None)


def process_chunk(args: tuple[list[Release], Settings, str]) -> ChunkResult:
    """Convert and validate one chunk (runs in a worker process)."""
    releases, settings, fmt = args
    per_release = [release_to_triples(release, settings) for release in releases]
    data = validation_graph(t for triples in per_release for t in triples)
    _, results_graph = validate_graph(data)
    results = list(results_from_graph(results_graph, data, releases, settings))
    outputs: list[str] = []
    iris = Iris(settings.base_url)
    shared: set[str] = set()
    hashes: list[str] = []
    for release, triples in zip(releases, per_release, strict=True):
        page = iris.page(release.slug)
        if fmt == "jsonld-embed":
            g = Graph()
            g.addN((s, p, o, g) for s, p, o in triples)
            record = {"id": release.slug, "url": page, "jsonld": graph_to_embed(g)}
            outputs.append(
                json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
            )
            continue
        own: set[str] = set()
        for triple in triples:
            line = nt_line(triple)
            if fmt != "nquads" and not str(triple[0]).startswith(page):
                shared.add(line)  # site nodes repeat in every release's graph
            else:
                own.add(line)
        if fmt == "nquads":
            lines = sorted(own)
            hashes.append(content_hash("".join(lines)))
            suffix = f" <{iris.release_graph(release.slug)}> .\n"
            outputs.append("".join([line[:-3] + suffix for line in lines]))
        else:
            outputs.append("".join(sorted(own)))
    return ChunkResult(results, outputs, sorted(shared), hashes)


def _chunks(
    releases: Iterable[Release],
    size: int,
    seen: dict[str, tuple[str | None, int | None]],
) -> Iterator[list[Release]]:
    it = iter(releases)
    while chunk := list(islice(it, size)):
        _check_unique(chunk, seen)
        yield chunk


def _outcomes(
    chunks: Iterator[list[Release]], settings: Settings, fmt: str, jobs: int
) -> Iterator[tuple[list[Release], ChunkResult]]:
    """Chunk results in input order; at most 6 * jobs chunks in flight (enough
    that workers keep busy while this process writes their output)."""
    if jobs <= 1:
        for chunk in chunks:
            yield chunk, process_chunk((chunk, settings, fmt))
        return
    with worker_pool(jobs) as pool:  # never forked from this process: no lock
        window: deque[tuple[list[Release], Future[ChunkResult]]] = deque()
        for chunk in chunks:
            window.append((chunk, pool.submit(process_chunk, (chunk, settings, fmt))))
            if len(window) >= 6 * jobs:
                done, future = window.popleft()
                yield done, future.result()
        while window:
            done, future = window.popleft()
            yield done, future.result()


def run_batch(
    releases: Iterable[Release],
    settings: Settings,
    fmt: str,
    out: TextSink,
    *,
    skip_invalid: bool = False,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> BatchOutcome:
    """Convert and validate a batch, writing the output to ``out`` as it goes.

    Returns ``written=False`` when the batch may not be published (a violation and
    no ``skip_invalid``, or nothing valid): the caller must then discard ``out``.
    """
    if fmt not in OUTPUT_FORMATS:
        raise InputError(
            f"unknown output format {fmt!r}; use one of {', '.join(OUTPUT_FORMATS)}"
        )
    streamed = fmt in LINE_FORMATS
    line_fmt = fmt if streamed else "ntriples"
    chunks = _chunks(releases, CHUNK, {})
    first = next(chunks, None)
    second = next(chunks, None) if first is not None else None
    if jobs is None:
        jobs = 1 if second is None else max(1, min(os.cpu_count() or 1, 8))
    head = [c for c in (first, second) if c is not None]
    report = ValidationReport(checked=0)
    kept: list[str] = []
    skipped: list[str] = []
    hashes: dict[str, str] = {}
    shared: set[str] = set()
    whole = io.StringIO()  # N-Triples for the formats that need one graph
    sink: TextSink = out if streamed else whole
    meta: dict[str, tuple[str, tuple[Topic, ...]]] = {}
    known: dict[str, Known] = {}
    for chunk, outcome in _outcomes(chain(head, chunks), settings, line_fmt, jobs):
        report.checked += len(chunk)
        report.results.extend(outcome.results)
        bad = {r.record_id for r in outcome.results if r.severity == "Violation"}
        for n, (release, text) in enumerate(zip(chunk, outcome.outputs, strict=True)):
            rid = release.source.record_id if release.source else release.slug
            if rid in bad or release.slug in bad:
                skipped.append(release.slug)
                continue
            kept.append(release.slug)
            if outcome.hashes:
                hashes[release.slug] = outcome.hashes[n]
                meta[release.slug] = (release.title or release.slug, release.topics)
                known[release.slug] = known_of_release(release, outcome.hashes[n])
            if skip_invalid or not skipped:
                sink.write(text)
        shared.update(outcome.shared)
        if progress:
            progress(len(chunk))
    if (skipped and not skip_invalid) or not kept:
        return BatchOutcome(report, kept, skipped, written=False)
    if line_fmt == "ntriples":
        sink.write("".join(sorted(shared)))
    if not streamed:
        out.write(_serialize_whole(fmt, whole.getvalue()))
    return BatchOutcome(
        report, kept, skipped, written=True, hashes=hashes, meta=meta, known=known
    )


def run_batch_text(
    releases: Iterable[Release], settings: Settings, fmt: str, **options: Any
) -> BatchOutcome:
    """run_batch into memory: for small batches and tests."""
    buffer = io.StringIO()
    outcome = run_batch(releases, settings, fmt, buffer, **options)
    if outcome.written:
        outcome.text = buffer.getvalue()
    return outcome


def _serialize_whole(fmt: str, ntriples: str) -> str:
    graph = bind_prefixes(Graph(bind_namespaces="none"))
    graph.parse(data=ntriples, format=BY_NAME["ntriples"].rdflib)
    if fmt == "jsonld":
        return json.dumps(graph_to_jsonld(graph), indent=2, ensure_ascii=False) + "\n"
    return graph.serialize(format=BY_NAME[fmt].rdflib)


@dataclass
class ImportOutcome:
    """A publish through the store: the batch's report and what was written."""

    batch: BatchOutcome
    published: PublishResult | None  # None: nothing was written


def import_batch(
    releases: Iterable[Release],
    settings: Settings,
    store: Store,
    *,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    agent: str = "cli",
    notes: dict[str, ChangeNote] | None = None,
    renames: dict[str, str] | None = None,
    exclusive: bool = False,
    graphs_before: dict[str, str] | None = None,
) -> ImportOutcome:
    """Validate and publish a batch atomically: all of it, or (a violation) none.

    ``agent``, ``notes`` and ``renames`` go to the history and the catalogue;
    ``exclusive``: nobody else reads the store meanwhile; ``graphs_before``: the
    stored graphs the batch replaces, where known (publisher.store.catalog.publish).
    A big first batch into an empty store on disk is loaded while it is
    converted and validated (_import_streamed).
    """
    it = iter(releases)
    head = list(islice(it, catalog.writes.BULK_MIN))
    releases = chain(head, it)
    start = getattr(store, "streamed_load", None)
    big = len(head) >= catalog.writes.BULK_MIN and not renames
    on_disk = getattr(store, "path", None) is not None
    load = start() if start and big and exclusive and on_disk else None
    if load is not None:
        return _import_streamed(
            releases,
            settings,
            load,
            jobs=jobs,
            progress=progress,
            agent=agent,
            notes=notes,
        )
    with prepare_batch(releases, settings, jobs=jobs, progress=progress) as prepared:
        return publish_prepared(
            prepared,
            store,
            settings,
            agent=agent,
            notes=notes,
            renames=renames,
            exclusive=exclusive,
            graphs_before=graphs_before,
        )


@dataclass
class PreparedBatch:
    """A batch converted and validated, its N-Quads in a file of its own, ready
    for its write (:func:`publish_prepared`): made ahead for a scheduled minute's
    releases (publisher.scheduler), so that only the store's transaction is left
    for the minute. It holds embargoed data: kept in the process that made it and
    a private temporary folder, never in the store before the write."""

    releases: list[Release]  # with keep_releases only: else empty
    outcome: BatchOutcome
    folder: tempfile.TemporaryDirectory[str]

    @property
    def path(self) -> str:
        return os.path.join(self.folder.name, "batch.nq")

    def close(self) -> None:
        self.folder.cleanup()

    def __enter__(self) -> PreparedBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def prepare_batch(
    releases: Iterable[Release],
    settings: Settings,
    *,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    keep_releases: bool = False,
) -> PreparedBatch:
    """Convert and validate a batch into N-Quads, for a write now or later;
    ``keep_releases``: the prepared batch holds the releases too (a batch made
    ahead is checked against them; an import streams them, keeping none)."""
    kept: list[Release] = []
    folder = tempfile.TemporaryDirectory(prefix="publisher-import-")
    try:
        prepared = PreparedBatch(
            kept, BatchOutcome(ValidationReport(checked=0), [], [], False), folder
        )
        with open(prepared.path, "w", encoding="utf-8") as fh:
            prepared.outcome = run_batch(
                _kept(releases, kept) if keep_releases else releases,
                settings,
                "nquads",
                fh,
                jobs=jobs,
                progress=progress,
            )
    except BaseException:
        folder.cleanup()
        raise
    return prepared


def _kept(releases: Iterable[Release], into: list[Release]) -> Iterator[Release]:
    for release in releases:
        into.append(release)
        yield release


def publish_prepared(
    prepared: PreparedBatch,
    store: Store,
    settings: Settings,
    *,
    agent: str = "cli",
    notes: dict[str, ChangeNote] | None = None,
    renames: dict[str, str] | None = None,
    exclusive: bool = False,
    graphs_before: dict[str, str] | None = None,
) -> ImportOutcome:
    """Write a prepared batch in one transaction (nothing, if it may not be)."""
    outcome = prepared.outcome
    if not outcome.written:
        return ImportOutcome(outcome, None)
    return ImportOutcome(
        outcome,
        catalog.publish(
            store,
            _entries(outcome),
            prepared.path,
            settings,
            agent=agent,
            notes=notes,
            renames=renames,
            exclusive=exclusive,
            graphs_before=graphs_before,
        ),
    )


class _Load(Protocol):
    """A bulk load fed as it goes (publisher.store.oxigraph.StreamedLoad)."""

    def write(self, text: str, /) -> int: ...
    def commit(self) -> None: ...
    def abandon(self) -> None: ...


def _import_streamed(
    releases: Iterable[Release],
    settings: Settings,
    load: _Load,
    *,
    jobs: int | None,
    progress: Callable[[int], None] | None,
    agent: str,
    notes: dict[str, ChangeNote] | None,
) -> ImportOutcome:
    """A first batch, its quads handed to the store's bulk loader chunk by chunk
    as the workers validate them, so that loading overlaps converting. The load
    fills a staging store that is swapped in only when every record passed; a
    violation (or any failure) abandons it, and the store stays empty."""
    try:
        outcome = run_batch(
            releases, settings, "nquads", load, jobs=jobs, progress=progress
        )
        if not outcome.written:
            load.abandon()
            return ImportOutcome(outcome, None)
        published = catalog.publish_streamed(
            _entries(outcome), settings, load.write, agent=agent, notes=notes
        )
        load.commit()
    except BaseException:
        load.abandon()
        raise
    return ImportOutcome(outcome, published)


def _entries(outcome: BatchOutcome) -> list[ReleaseEntry]:
    return [
        ReleaseEntry(
            slug=slug,
            title=outcome.meta[slug][0],
            content_hash=outcome.hashes[slug],
            topics=outcome.meta[slug][1],
        )
        for slug in outcome.kept
    ]
