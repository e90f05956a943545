"""The bundled sample calendar: rich enough for the demo and the tests, and valid."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from jsonschema import Draft202012Validator, FormatChecker

from publisher.config import Settings
from publisher.model import Designation, Release, Status
from publisher.resources import sample_calendar
from publisher.validation import validate_releases

from .conftest import ROOT


def test_sample_matches_the_native_json_schema() -> None:
    schema_file = ROOT / "publisher" / "data" / "release.schema.json"
    schema = json.loads(schema_file.read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    data = json.loads(sample_calendar().read_text())
    for record in data["releases"]:
        errors = list(validator.iter_errors(record))
        assert not errors, (record["id"], [e.message for e in errors])


def test_sample_covers_the_calendar(sample_releases: list[Release]) -> None:
    assert len(sample_releases) >= 40
    statuses = Counter(r.status for r in sample_releases)
    assert set(statuses) == set(Status)
    assert {r.designation for r in sample_releases} == set(Designation)
    assert any(r.census for r in sample_releases)
    assert len({t.slug for r in sample_releases for t in r.topics}) >= 5
    postponed = [r for r in sample_releases if r.status is Status.POSTPONED]
    assert all(r.date_changes for r in postponed)
    assert all(c.reason for r in postponed for c in r.date_changes)
    cancelled = [r for r in sample_releases if r.status is Status.CANCELLED]
    assert all(r.cancellation_notice for r in cancelled)
    assert any(d.downloads for r in sample_releases for d in r.datasets)
    offsets = {
        r.release_date.utcoffset()
        for r in sample_releases
        if r.release_date is not None
    }
    assert {timedelta(0), timedelta(hours=1)} <= offsets  # GMT and BST months


def test_sample_has_no_violations(sample_releases: list[Release]) -> None:
    report = validate_releases(sample_releases, Settings())
    assert report.conforms, report.to_text()
    assert report.checked == len(sample_releases)
