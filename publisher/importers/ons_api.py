"""ONS release-calendar API (``/v1/search/releases``) and its snake_case relatives.

Accepted documents (docs/formats.md, "ONS release-calendar API"):

- a search response ``{took, breakdown, releases: [...]}``;
- a capture wrapper ``{records: [...]}`` whose records carry ``uri`` (or ``id``),
  ``description`` and ``date_changes`` as the API returned them;
- a bare list of release objects, or one release object, including the
  dp-release-calendar-api ``/v1/releases/legacy`` entry (snake_case mirror of the
  zebedee ``data.json``: ``related_datasets``, ``cancellation_notice[]``, ``survey``).

The record mapping (``ons_record``) is shared with the camelCase legacy format
(``ons_legacy``): the two differ only in how they spell fields, which
:class:`~publisher.importers.ons_record.OnsNames` records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from publisher.config import Settings
from publisher.errors import InputError
from publisher.importers.ons_record import API_NAMES, release_from_record
from publisher.model import Release

# Keys that only one spelling has: they tell the two ONS formats apart.
_SNAKE_KEYS = frozenset(
    {
        "release_date",
        "provisional_date",
        "national_statistic",
        "next_release",
        "cancellation_notice",
        "canonical_topic",
        "secondary_topics",
        "welsh_statistic",
        "migration_link",
        "meta_description",
        "date_changes",
        "related_datasets",
        "related_documents",
        "related_api_datasets",
        "related_methodology",
        "related_methodology_article",
    }
)
_CAMEL_KEYS = frozenset(
    {
        "releaseDate",
        "provisionalDate",
        "nationalStatistic",
        "nextRelease",
        "cancellationNotice",
        "canonicalTopic",
        "secondaryTopics",
        "welshStatistic",
        "migrationLink",
        "metaDescription",
        "dateChanges",
        "relatedDatasets",
        "relatedDocuments",
        "relatedAPIDatasets",
        "relatedMethodology",
        "relatedMethodologyArticle",
    }
)


def release_style(item: Any) -> str | None:
    """``"snake"`` or ``"camel"`` for an object shaped like an ONS release, else None.

    An ONS release has a ``description`` object; the spelling of its keys (and of
    the top-level ``date_changes``/``dateChanges`` and related links) tells the API
    shape from the zebedee legacy shape. Neither or both: None.
    """
    if not isinstance(item, Mapping):
        return None
    description = item.get("description")
    if not isinstance(description, Mapping):
        return None
    keys = {k for k in (*description, *item) if isinstance(k, str)}
    snake = bool(keys & _SNAKE_KEYS)
    camel = bool(keys & _CAMEL_KEYS)
    if snake and not camel:
        return "snake"
    if camel and not snake:
        return "camel"
    return None


def _has_description(item: Any) -> bool:
    return isinstance(item, Mapping) and isinstance(item.get("description"), Mapping)


def _all_snake(items: list[Any], *, need_marker: bool = True) -> bool:
    if not items or not all(_has_description(i) for i in items):
        return False
    styles = [release_style(i) for i in items]
    if "camel" in styles:
        return False
    return "snake" in styles or not need_marker


def looks_like(data: Any) -> bool:
    """True for an ONS API response, capture wrapper, list or release (snake_case)."""
    if isinstance(data, Mapping):
        is_response = "breakdown" in data or "took" in data
        for key in ("releases", "records"):
            items = data.get(key)
            if isinstance(items, list):
                if not items:
                    return key == "releases" and is_response
                return _all_snake(items, need_marker=not is_response)
        if data.get("type") == "release":
            return False  # zebedee data.json: ons_legacy
        return release_style(data) == "snake"
    if isinstance(data, list):
        return _all_snake(data)
    return False


def _records(data: Any, file: str) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping):
        for key in ("releases", "records"):
            if key in data:
                items = data[key]
                if not isinstance(items, list):
                    raise InputError(
                        f"expected a list of releases, got {type(items).__name__}",
                        file=file,
                        field=key,
                    )
                return items
        if "description" in data:
            return [data]
    raise InputError(
        "expected an ONS release-calendar API response ({releases: [...]}), "
        "a list of releases or one release with a description object",
        file=file,
    )


def releases_from_document(
    data: Any, *, file: str, settings: Settings, csv: bool = False
) -> list[Release]:
    """Every release of an ONS release-calendar API document, in document order."""
    return [
        release_from_record(
            item, index=n, file=file, settings=settings, names=API_NAMES
        )
        for n, item in enumerate(_records(data, file), start=1)
    ]
