"""Stored graph -> Release -> native record, and back: what the API returns is what
was published, and what it accepts again."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from publisher.config import Settings
from publisher.errors import PublisherError
from publisher.importers import read_file
from publisher.importers._common import Where
from publisher.importers.native import release_from_record, release_to_record
from publisher.model import DateChange, Release
from publisher.rdf import graph_to_ntriples, release_to_graph
from publisher.readback import ntriples_to_release
from publisher.resources import sample_calendar

from .conftest import FIXTURES

INPUTS = [
    sample_calendar(),
    *sorted((FIXTURES / "ons-api").glob("*.json")),
    *sorted((FIXTURES / "ons-legacy").glob("*.json")),
    *sorted((FIXTURES / "govuk").glob("*.json")),
    *sorted((FIXTURES / "native").glob("*.json*")),
]


def _releases(path: Path, settings: Settings) -> list[Release]:
    try:
        return read_file(str(path), settings, "auto")
    except PublisherError:  # fixtures of bad input
        return []


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_graph_to_release_gives_the_same_graph(path: Path) -> None:
    settings = Settings()
    releases = _releases(path, settings)
    if path == sample_calendar():
        assert len(releases) == 52
    for release in releases:
        stored = graph_to_ntriples(release_to_graph(release, settings))
        back = ntriples_to_release(stored, release.slug, settings)
        assert graph_to_ntriples(release_to_graph(back, settings)) == stored


def test_a_sample_release_reads_back_field_by_field(
    sample_releases: list[Release],
) -> None:
    settings = Settings()
    for release in sample_releases:
        stored = graph_to_ntriples(release_to_graph(release, settings))
        back = ntriples_to_release(stored, release.slug, settings)
        for name in (
            "title",
            "status",
            "summary",
            "release_date",
            "date_changes",
            "topics",
            "contacts",
            "datasets",
            "designation",
            "census",
        ):
            expected = getattr(release, name)
            if name == "topics":
                expected = tuple(sorted(expected, key=lambda t: t.slug))
            assert getattr(back, name) == expected, (release.slug, name)


def test_native_record_round_trip(sample_releases: list[Release]) -> None:
    settings = Settings()
    for release in sample_releases:
        record = release_to_record(release)
        assert "source" not in record
        assert release_from_record(record, Where("api", 1), settings) == release


def test_date_change_with_new_date_round_trips() -> None:
    settings = Settings()
    change = DateChange(
        previous_date=datetime(2027, 1, 5, 7, tzinfo=UTC),
        reason="Late data",
        changed_at=datetime(2026, 12, 1, 12, tzinfo=UTC),
        new_date=date(2027, 1, 12),
    )
    release = dataclasses.replace(
        Release(slug="a-release", title="A release", status=None),
        date_changes=(change,),
    )
    record = release_to_record(release)
    assert record["date_changes"] == [
        {
            "previous_date": "2027-01-05T07:00:00+00:00",
            "new_date": "2027-01-12",
            "reason": "Late data",
            "changed_at": "2026-12-01T12:00:00+00:00",
        }
    ]
    stored = graph_to_ntriples(release_to_graph(release, settings))
    assert "newDate" in stored
    back = ntriples_to_release(stored, "a-release", settings)
    assert back.date_changes == (change,)
