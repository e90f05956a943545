"""What a write takes and gives (publisher.publishing): a release as published
now, the result answered to the client, what those who follow a write hear of it,
a scheduled minute's releases made ready before it, and an unreadable record as
the API's validation report."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from publisher import pipeline
from publisher.errors import InputError
from publisher.model import Release, Status
from publisher.store.index_fields import Known


@dataclasses.dataclass(frozen=True)
class Current:
    """A release as published now, with its version (its ETag)."""

    release: Release
    content_hash: str
    issued: str | None
    modified: str
    #: the graph's N-Triples as stored, when known (a write changes only the
    #: triples that differ: publisher.store.catalog.publish)
    graph: str | None = None


@dataclasses.dataclass(frozen=True)
class Wrote:
    """A write that moved the data version, for those who follow it: the
    versions before and after, the releases it changed, and the listing index's
    rows of those it wrote, as their Releases give them (publisher.store.index
    takes them instead of reading the graphs back)."""

    previous: str | None
    version: str | None
    slugs: list[str]
    known: Mapping[str, Known] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Ahead:
    """A scheduled minute's releases made ready before it (publisher.scheduler):
    converted and validated, and their API records as they will read back."""

    batch: pipeline.PreparedBatch
    records: dict[str, tuple[dict[str, Any], str]]


@dataclasses.dataclass
class WriteResult:
    published: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)
    scheduled: dict[str, datetime] = dataclasses.field(default_factory=dict)
    created: list[str] = dataclasses.field(default_factory=list)
    content_hashes: dict[str, str] = dataclasses.field(default_factory=dict)
    data_version: str | None = None
    report: dict[str, Any] | None = None  # warnings, in the 422 body's schema


def publication_time(release: Release) -> datetime | None:
    """When a published version goes public: its published date, else its date."""
    if release.status is not Status.PUBLISHED:
        return None
    return release.published_date or release.release_date


def input_report(exc: InputError, checked: int) -> dict[str, Any]:
    """An unreadable record as a validation report (the 422 body's schema)."""
    return {
        "conforms": False,
        "checked": checked,
        "violations": 1,
        "warnings": 0,
        "skipped": [],
        "records": [
            {
                "file": exc.file,
                "record": exc.record,
                "id": exc.record_id,
                "results": [
                    {
                        "field": exc.field or "",
                        "severity": "Violation",
                        "message": exc.message,
                    }
                ],
            }
        ],
    }
