"""The shapes are the contract: every shape has a fixture that violates it.

Fixtures live in tests/fixtures/shapes/: ``base.json`` is a release that conforms
with no finding at all; ``<Shape>.patch.json`` is a JSON merge patch (RFC 7396) of
it that an importer can produce; ``<Shape>.ru`` is a SPARQL Update applied to the
base's graph for what no importer produces. A shape's key is its local name, or for
a property shape without one, its parent's local name and its ``sh:name``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import SH

from publisher.config import Settings
from publisher.importers import read_file
from publisher.rdf import release_to_graph
from publisher.validation import (
    results_from_graph,
    shapes_graph,
    validate_graph,
    validate_releases,
    validation_graph,
)

from .conftest import FIXTURES

SHAPES = FIXTURES / "shapes"
BASE = json.loads((SHAPES / "base.json").read_text())
PUBSH = "https://w3id.org/release-publisher/shapes#"


def _key(shape: Any, graph: Graph) -> str:
    if isinstance(shape, URIRef):
        return str(shape).removeprefix(PUBSH)
    parent = graph.value(None, SH.property, shape)
    assert isinstance(parent, URIRef), (
        f"anonymous shape without a named parent: {shape}"
    )
    return f"{str(parent).removeprefix(PUBSH)}.{graph.value(shape, SH.name)}"


def _message_shapes() -> dict[str, tuple[str, str]]:
    """key -> (message, severity) for every shape that reports."""
    graph = shapes_graph()
    out = {}
    for shape, message in graph.subject_objects(SH.message):
        severity = graph.value(shape, SH.severity)
        out[_key(shape, graph)] = (str(message), str(severity).removeprefix(str(SH)))
    return out


SHAPE_MESSAGES = _message_shapes()


def _merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def _fixture(key: str) -> Path:
    for suffix in (".patch.json", ".ru"):
        path = SHAPES / f"{key}{suffix}"
        if path.exists():
            return path
    raise AssertionError(f"shape {key} has no fixture in {SHAPES}")


def _graph_for(key: str, tmp_path: Path, settings: Settings) -> tuple[Graph, Any]:
    fixture = _fixture(key)
    record = BASE
    if fixture.name.endswith(".patch.json"):
        record = _merge(BASE, json.loads(fixture.read_text()))
    path = tmp_path / "release.json"
    path.write_text(json.dumps(record))
    releases = read_file(str(path), settings)
    graph = release_to_graph(releases[0], settings)
    if fixture.suffix == ".ru":
        graph.update(fixture.read_text())
    return graph, releases


def test_every_reporting_shape_has_message_severity_and_field() -> None:
    graph = shapes_graph()
    for shape in set(graph.subjects(SH.severity, None)):
        assert graph.value(shape, SH.message) is not None, shape
        assert graph.value(shape, SH.name) is not None, shape
    for shape in set(graph.subjects(SH.message, None)):
        assert graph.value(shape, SH.severity) in (SH.Violation, SH.Warning), shape
    assert len(SHAPE_MESSAGES) >= 25


def test_every_shape_has_a_fixture() -> None:
    fixtures = {
        p.name.removesuffix(".patch.json").removesuffix(".ru")
        for p in SHAPES.iterdir()
        if p.name != "base.json"
    }
    assert fixtures == set(SHAPE_MESSAGES)


def test_base_release_conforms_without_findings(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "base.json"
    path.write_text(json.dumps(BASE))
    report = validate_releases(read_file(str(path), settings), settings)
    assert report.results == []


@pytest.mark.parametrize("key", sorted(SHAPE_MESSAGES))
def test_fixture_violates_its_shape(
    key: str, tmp_path: Path, settings: Settings
) -> None:
    message, severity = SHAPE_MESSAGES[key]
    graph, releases = _graph_for(key, tmp_path, settings)
    conforms, results = validate_graph(graph)
    found = list(results_from_graph(results, graph, releases, settings))
    matching = [r for r in found if r.message == message]
    assert matching, f"{key}: expected {message!r}, got {[r.message for r in found]}"
    assert {r.severity for r in matching} == {severity}
    assert conforms is (
        severity != "Violation" and all(r.severity != "Violation" for r in found)
    )
    # Every finding is traced back to its record and names a field
    for result in matching:
        assert result.record_id == BASE["id"]
        assert result.record == 1
        assert result.field


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("TitleRequired", "title"),
        ("SummaryLength", "summary"),
        ("ReleaseDateOrProvisional.release_date", "release_date"),
        ("PublishedHasDatePublished.published_date", "published_date"),
        ("CancelledHasNotice.cancellation_notice", "cancellation_notice"),
        ("RescheduledHasPreviousDate.date_changes", "date_changes"),
        ("DateChangeReason", "date_changes[0].reason"),
        ("ContentUrlIri", "datasets[0].downloads[0].url"),
        ("EncodingFormatMime", "datasets[0].downloads[0].format"),
        ("DatasetUrlIri", "datasets[0].url"),
        ("DocumentUrlIri", "related_documents[0].url"),
        ("PublisherUrlIri", "publisher.url"),
    ],
)
def test_report_names_the_input_field(
    key: str, field: str, tmp_path: Path, settings: Settings
) -> None:
    message, _ = SHAPE_MESSAGES[key]
    _, releases = _graph_for(key, tmp_path, settings)
    report = validate_releases(releases, settings)
    fields = {r.field for r in report.results if r.message == message}
    assert fields == {field}


def test_shapes_use_http_schema_org_only() -> None:
    text = "\n".join(
        p.read_text() for p in (FIXTURES.parent.parent / "shapes").glob("*.ttl")
    )
    assert "https://schema.org" not in text


@pytest.mark.parametrize("key", sorted(SHAPE_MESSAGES))
def test_validating_the_shape_subgraph_gives_the_same_report(
    key: str, tmp_path: Path, settings: Settings
) -> None:
    """The pipeline validates only the triples the shapes can see (faster)."""
    graph, releases = _graph_for(key, tmp_path, settings)
    small = validation_graph(graph)
    assert len(small) < len(graph)
    whole = validate_graph(graph)
    part = validate_graph(small)
    assert whole[0] == part[0]

    def summary(results: Graph, data: Graph) -> list[tuple[str, str, str, str]]:
        return sorted(
            (r.severity, r.field, r.focus, r.message)
            for r in results_from_graph(results, data, releases, settings)
        )

    assert summary(whole[1], graph) == summary(part[1], small)
