"""Writing the native format: a Release as its native JSON record, the inverse of
:func:`publisher.importers.native.release_from_record`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from publisher.model import Dataset, DateChange, Release, Series


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def release_to_record(release: Release) -> dict[str, Any]:
    """The native JSON record of a release (what the API returns and ``push``
    sends); :func:`~publisher.importers.native.release_from_record` reads it
    back to an equal release. Empty fields are left out."""
    record: dict[str, Any] = {
        "id": release.slug,
        "title": release.title,
        "summary": release.summary,
        "status": release.status.value if release.status else None,
        "release_date": _iso(release.release_date),
        "provisional_date": release.provisional_date,
        "date_changes": [_date_change_record(c) for c in release.date_changes],
        "cancellation_notice": release.cancellation_notice,
        "published_date": _iso(release.published_date),
        "designation": release.designation.value if release.designation else None,
        "census": release.census or None,
        "topics": [{"id": t.slug, "label": t.label} for t in release.topics],
        "keywords": list(release.keywords),
        "language": release.language,
        "contacts": [
            {k: v for k, v in vars(c).items() if v is not None}
            for c in release.contacts
        ],
        "publisher": (
            {k: v for k, v in vars(release.publisher).items() if v is not None}
            if release.publisher
            else None
        ),
        "license": release.license,
        "datasets": [_dataset_record(d) for d in release.datasets],
        "related_documents": [
            {k: v for k, v in vars(doc).items() if v is not None}
            for doc in release.related_documents
        ],
        "next_release": release.next_release,
        "next_release_id": release.next_release_slug,
        "series": _series_record(release.series) if release.series else None,
        "previous_edition": release.previous_edition,
        "same_as": list(release.same_as),
        "identifier": release.identifier,
        "former_ids": list(release.former_slugs),
    }
    return {k: v for k, v in record.items() if v not in (None, [], "")}


def _date_change_record(change: DateChange) -> dict[str, Any]:
    return {
        k: v
        for k, v in (
            ("previous_date", _iso(change.previous_date)),
            ("new_date", _iso(change.new_date)),
            ("reason", change.reason),
            ("changed_at", _iso(change.changed_at)),
        )
        if v is not None
    }


def _dataset_record(dataset: Dataset) -> dict[str, Any]:
    downloads = [
        {k: v for k, v in vars(dl).items() if v is not None} for dl in dataset.downloads
    ]
    return {
        k: v
        for k, v in (
            ("title", dataset.title),
            ("url", dataset.url),
            ("description", dataset.description),
            ("downloads", downloads),
        )
        if v not in (None, [])
    }


def _series_record(series: Series) -> dict[str, Any]:
    return {k: v for k, v in (("id", series.slug), ("title", series.title)) if v}
