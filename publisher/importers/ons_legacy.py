"""ONS legacy release JSON: zebedee/babbage ``data.json`` of type ``release``.

Accepted documents (docs/formats.md, "ONS legacy release JSON"):

- one zebedee ``data.json`` release (camelCase: ``description.releaseDate``,
  ``dateChanges[]``, ``relatedDatasets[]``, ...), with or without its ``type`` key
  and with ``uri`` with or without its leading slash (``releases/adoption``);
- babbage's ``/releasecalendar/data`` list
  ``{type: "list", listType: "releasecalendar", result: {results: [...]}}``;
- a plain list of legacy release objects.

Fields and status rules are those of the API (``ons_api``), spelt in camelCase:
cancelled > published > postponed (finalised with dateChanges) > confirmed
(finalised) > provisional. Empty strings, which zebedee writes for unset fields
(``nextRelease: ""``, ``provisionalDate: ""``), mean absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from publisher.config import Settings
from publisher.errors import InputError
from publisher.importers._common import Where
from publisher.importers.ons_api import release_style
from publisher.importers.ons_record import LEGACY_NAMES, release_from_record
from publisher.model import Release


def _is_legacy_release(item: Any) -> bool:
    if not isinstance(item, Mapping) or not isinstance(
        item.get("description"), Mapping
    ):
        return False
    if item.get("type") == "release" or item.get("_type") == "release":
        return release_style(item) != "snake"
    return release_style(item) == "camel"


def _is_list_wrapper(data: Mapping[str, Any]) -> bool:
    if data.get("type") == "list" and data.get("listType") == "releasecalendar":
        return True
    result = data.get("result")
    return isinstance(result, Mapping) and isinstance(result.get("results"), list)


def looks_like(data: Any) -> bool:
    """True for a zebedee release, a babbage release-calendar list or a list of them."""
    if isinstance(data, Mapping):
        if _is_list_wrapper(data):
            result = data.get("result")
            results = result.get("results") if isinstance(result, Mapping) else None
            if not isinstance(results, list):
                return data.get("listType") == "releasecalendar"
            if not results:
                return data.get("listType") == "releasecalendar"
            return all(_is_legacy_release(r) for r in results)
        return _is_legacy_release(data)
    if isinstance(data, list):
        return bool(data) and all(_is_legacy_release(i) for i in data)
    return False


def _records(data: Any, file: str) -> list[Any]:
    """The release objects of a document."""
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping):
        if _is_list_wrapper(data):
            result = data.get("result")
            if not isinstance(result, Mapping):
                raise InputError(
                    "expected the release-calendar list's result object",
                    file=file,
                    field="result",
                )
            results = result.get("results")
            if results is None:
                return []
            if not isinstance(results, list):
                raise InputError(
                    f"expected a list of releases, got {type(results).__name__}",
                    file=file,
                    field="result.results",
                )
            return results
        if "description" in data:
            return [data]
    raise InputError(
        "expected an ONS legacy release (data.json of type release), a babbage "
        "release-calendar list or a list of releases",
        file=file,
    )


def releases_from_document(
    data: Any, *, file: str, settings: Settings, csv: bool = False
) -> list[Release]:
    """Every release of an ONS legacy document, in document order."""
    items = _records(data, file)
    releases: list[Release] = []
    for n, item in enumerate(items, start=1):
        if isinstance(item, Mapping):
            kind = item.get("type", item.get("_type"))
            if kind is not None and kind != "release":
                uri = item.get("uri")
                raise Where(file, n, uri if isinstance(uri, str) else None).error(
                    f"expected a release, got content of type {kind!r}", "type"
                )
        releases.append(
            release_from_record(
                item, index=n, file=file, settings=settings, names=LEGACY_NAMES
            )
        )
    return releases
