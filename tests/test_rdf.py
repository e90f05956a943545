"""Release -> RDF: the mapping of DESIGN.md, deterministic IRIs, stable output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, XSD

from publisher.config import Settings
from publisher.importers import read_file
from publisher.model import Release, Status
from publisher.namespaces import DCAT, DCT, PUB, SCHEMA
from publisher.pipeline import run_batch_text
from publisher.rdf import graph_to_nquads, graph_to_ntriples, release_to_graph

from .conftest import FIXTURES

BASE = FIXTURES / "shapes" / "base.json"


def _one(releases: list[Release], status: Status, **where: object) -> Release:
    for r in releases:
        if r.status is status and all(getattr(r, k) == v for k, v in where.items()):
            return r
    raise AssertionError(f"no {status} release in the sample")


def test_schema_org_is_http_everywhere(sample_releases: list[Release]) -> None:
    settings = Settings()
    for release in sample_releases:
        nt = graph_to_ntriples(release_to_graph(release, settings))
        assert "https://schema.org" not in nt
        assert "<http://schema.org/" in nt


def test_no_blank_nodes(sample_releases: list[Release]) -> None:
    settings = Settings()
    for release in sample_releases:
        graph = release_to_graph(release, settings)
        for triple in graph:
            assert not any(isinstance(term, BNode) for term in triple), triple


def test_iris_are_minted_from_the_base_url_with_a_path_prefix() -> None:
    settings = Settings(base_url="https://stats.example.org/calendar/")
    (release,) = read_file(str(BASE), settings)
    graph = release_to_graph(release, settings)
    slug = "labour-market-overview-uk-may-2027"
    rel = URIRef(f"https://stats.example.org/calendar/releases/{slug}#release")
    assert (rel, RDF.type, PUB.Release) in graph
    assert graph.identifier == URIRef(
        f"https://stats.example.org/calendar/graphs/releases/{slug}"
    )
    assert (
        URIRef(f"https://stats.example.org/calendar/releases/{slug}"),
        SCHEMA.mainEntity,
        rel,
    ) in graph
    assert (rel, PUB.dateChange, URIRef(f"{rel[: -len('#release')]}#change-1")) in graph


def test_status_mapping(sample_releases: list[Release]) -> None:
    settings = Settings()
    expected = {
        Status.PROVISIONAL: SCHEMA.EventScheduled,
        Status.CONFIRMED: SCHEMA.EventScheduled,
        Status.CANCELLED: SCHEMA.EventCancelled,
    }
    for release in sample_releases:
        graph = release_to_graph(release, settings)
        event = graph.value(
            URIRef(f"{settings.base_url}/releases/{release.slug}#release"),
            SCHEMA.publication,
        )
        status = graph.value(event, SCHEMA.eventStatus)
        if release.status is Status.POSTPONED:
            want = (
                SCHEMA.EventRescheduled
                if release.release_date
                else SCHEMA.EventPostponed
            )
            assert status == want
            previous = set(graph.objects(event, SCHEMA.previousStartDate))
            assert len(previous) == len(release.date_changes) > 0
        elif release.status in expected and not release.date_changes:
            assert status == expected[release.status], release.slug
        rel = URIRef(f"{settings.base_url}/releases/{release.slug}#release")
        published = list(graph.objects(rel, SCHEMA.datePublished))
        assert bool(published) is (release.status is Status.PUBLISHED)
        if published:
            assert published[0].datatype == XSD.dateTime  # type: ignore[union-attr]
            assert (rel, DCT.issued, published[0]) in graph


def test_cancelled_and_provisional_details(sample_releases: list[Release]) -> None:
    settings = Settings()
    cancelled = _one(sample_releases, Status.CANCELLED)
    graph = release_to_graph(cancelled, settings)
    rel = URIRef(f"{settings.base_url}/releases/{cancelled.slug}#release")
    assert (
        rel,
        PUB.cancellationNotice,
        Literal(cancelled.cancellation_notice),
    ) in graph
    assert (rel, PUB.status, PUB.Cancelled) in graph
    assert (rel, SCHEMA.creativeWorkStatus, Literal("Cancelled")) in graph
    provisional = _one(sample_releases, Status.PROVISIONAL)
    graph = release_to_graph(provisional, settings)
    rel = URIRef(f"{settings.base_url}/releases/{provisional.slug}#release")
    assert (rel, PUB.provisionalDate, Literal(provisional.provisional_date)) in graph


def test_times_keep_an_explicit_offset(settings: Settings) -> None:
    (release,) = read_file(str(BASE), settings)
    graph = release_to_graph(release, settings)
    starts = list(graph.objects(None, SCHEMA.startDate))
    assert [str(s) for s in starts] == ["2027-05-18T07:00:00+01:00"]


def test_publisher_and_licence_come_from_settings(settings: Settings) -> None:
    custom = Settings(
        organization_name="Office for Examples",
        organization_url="https://examples.gov.invalid/",
        default_license="https://creativecommons.org/licenses/by/4.0/",
    )
    (release,) = read_file(str(FIXTURES / "native" / "calendar.json"), custom)[:1]
    graph = release_to_graph(release, custom)
    org = URIRef(f"{custom.base_url}/#organization")
    rel = URIRef(f"{custom.base_url}/releases/{release.slug}#release")
    assert (rel, SCHEMA.publisher, org) in graph
    assert (org, SCHEMA.name, Literal("Office for Examples")) in graph
    assert (org, SCHEMA.url, URIRef("https://examples.gov.invalid/")) in graph
    assert (
        rel,
        DCT.license,
        URIRef("https://creativecommons.org/licenses/by/4.0/"),
    ) in graph


def test_downloads_in_schema_and_dcat(settings: Settings) -> None:
    releases = read_file(str(FIXTURES / "native" / "calendar.json"), settings)
    hpi = releases[1]
    graph = release_to_graph(hpi, settings)
    dl = URIRef(f"{settings.base_url}/releases/{hpi.slug}#dataset-1-download-1")
    assert (dl, RDF.type, SCHEMA.DataDownload) in graph
    assert (dl, RDF.type, DCAT.Distribution) in graph
    url = URIRef("https://www.example.org/files/hpi-2027-01.csv")
    assert (dl, SCHEMA.contentUrl, url) in graph
    assert (dl, DCAT.downloadURL, url) in graph
    assert (dl, SCHEMA.encodingFormat, Literal("text/csv")) in graph
    assert (
        dl,
        DCAT.mediaType,
        URIRef("https://www.iana.org/assignments/media-types/text/csv"),
    ) in graph
    assert (
        dl,
        DCAT.byteSize,
        Literal(2456789, datatype=XSD.nonNegativeInteger),
    ) in graph
    assert (dl, SCHEMA.contentSize, Literal("2.5 MB")) in graph


def test_series_and_previous_edition(sample_releases: list[Release]) -> None:
    settings = Settings()
    release = next(r for r in sample_releases if r.series and r.previous_edition)
    graph = release_to_graph(release, settings)
    rel = URIRef(f"{settings.base_url}/releases/{release.slug}#release")
    assert release.series is not None
    series = URIRef(f"{settings.base_url}/series/{release.series.slug}#series")
    assert (rel, DCAT.inSeries, series) in graph
    assert (series, RDF.type, DCAT.DatasetSeries) in graph
    prev = URIRef(f"{settings.base_url}/releases/{release.previous_edition}#release")
    assert (rel, DCAT.prev, prev) in graph


def test_nquads_carry_the_release_graph(settings: Settings) -> None:
    (release,) = read_file(str(BASE), settings)
    graph = release_to_graph(release, settings)
    nq = graph_to_nquads(graph, str(graph.identifier))
    lines = nq.splitlines()
    assert lines
    assert all(line.endswith(f" <{graph.identifier}> .") for line in lines)


def test_serialisations_agree(sample_releases: list[Release]) -> None:
    settings = Settings()
    batch = sample_releases[:8]
    graphs = {}
    for fmt, parser in (
        ("turtle", "turtle"),
        ("ntriples", "nt"),
        ("rdfxml", "xml"),
        ("jsonld", "json-ld"),
    ):
        outcome = run_batch_text(batch, settings, fmt, jobs=1)
        assert outcome.text is not None
        graphs[fmt] = Graph().parse(data=outcome.text, format=parser)
    for fmt in ("turtle", "rdfxml", "jsonld"):
        assert isomorphic(graphs["ntriples"], graphs[fmt]), fmt
    nq = run_batch_text(batch, settings, "nquads", jobs=1).text
    assert nq is not None
    names = {line.rsplit(" ", 2)[1].strip("<>") for line in nq.splitlines()}
    assert names == {f"{settings.base_url}/graphs/releases/{r.slug}" for r in batch}


def _convert_in_subprocess(seed: str, tmp_path: Path, fmt: str) -> bytes:
    out = tmp_path / f"out-{seed}.{fmt}"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    from publisher.resources import sample_calendar

    subprocess.run(
        [
            sys.executable,
            "-m",
            "publisher",
            "convert",
            str(sample_calendar()),
            "--to",
            fmt,
            "-o",
            str(out),
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    return out.read_bytes()


def test_same_input_gives_byte_identical_ntriples(tmp_path: Path) -> None:
    # Different hash seeds change set and dict iteration order between processes.
    for fmt in ("ntriples", "nquads"):
        first = _convert_in_subprocess("1", tmp_path, fmt)
        second = _convert_in_subprocess("12345", tmp_path, fmt)
        assert first == second
        assert len(first) > 10000
