"""GOV.UK ``statistics_announcement`` content items (publishing-api / content store).

Accepted documents (docs/formats.md, "GOV.UK statistics announcements"): one content
item, a list of them, or ``{"results": [...]}`` holding content items.

``details.display_date`` is free text in UK time, in one of the three forms that
whitehall writes: an exact date and time ("20 January 2016 9:30am", also "7am",
"12:30pm"), a month ("January 2016") or a range of months ("January to February
2016"). ``details.release_timestamp``, when present, is the exact instant and wins.

Status: ``details.state`` cancelled, provisional or confirmed; a confirmed
announcement with a ``previous_display_date`` is postponed (its date moved), with one
date change whose reason is ``latest_change_note``.

Several items of one document with the same ``content_id`` are one announcement
whose slug changed: the most recently updated item (``public_updated_at``, then
``updated_at``, then the later in the document) is kept, and the others' slugs become
its ``former_slugs``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from publisher.config import Settings
from publisher.errors import InputError
from publisher.importers._common import (
    Fields,
    Where,
    add_topic,
    get_list,
    get_obj,
    get_str,
    iter_objects,
    language_field,
    local_time,
    parse_datetime,
    path_slug,
)
from publisher.model import (
    DateChange,
    Designation,
    Organization,
    Release,
    Status,
    Topic,
    slugify,
)

GOVUK_SITE = "https://www.gov.uk"
#: GOV.UK writes display dates in UK time, whatever the site's own time zone.
UK_ZONE = ZoneInfo("Europe/London")
SCHEMA_NAME = "statistics_announcement"

_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
MONTHS: dict[str, int] = {}
for _n, _name in enumerate(_MONTH_NAMES, start=1):
    MONTHS[_name] = _n
    MONTHS[_name[:3]] = _n
MONTHS["sept"] = 9

_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
_EXACT = re.compile(
    r"^" + _WEEKDAY + r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month>[a-z]+)\.?,?\s+"
    r"(?P<year>\d{4})"
    r"(?:\s*,?\s*(?:at\s+)?(?:"
    r"(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<ampm>[ap])\.?m\.?"
    r"|(?P<hour24>\d{1,2}):(?P<minute24>\d{2})"
    r"|(?P<noon>noon|midday)"
    r"))?$",
    re.IGNORECASE,
)
_MONTH = re.compile(r"^(?P<month>[a-z]+)\.?,?\s+(?P<year>\d{4})$", re.IGNORECASE)
_RANGE = re.compile(
    r"^(?P<m1>[a-z]+)\.?(?:,?\s+(?P<y1>\d{4}))?\s*(?:\bto\b|-|\u2013|\u2014)\s*"
    r"(?P<m2>[a-z]+)\.?,?\s+(?P<y2>\d{4})$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DisplayDate:
    """A parsed GOV.UK display date.

    ``kind`` is ``exact`` (``value`` an aware datetime), ``day`` (a date without a
    time), ``month`` or ``range`` (``value`` the first day of the first month).
    """

    kind: str
    value: datetime | date
    text: str


def parse_display_date(
    text: str, zone: ZoneInfo, where: Where, field: str
) -> DisplayDate:
    """Parse a GOV.UK display date; times are UK time, returned in ``zone``."""
    cleaned = " ".join(text.split())
    match = _EXACT.match(cleaned)
    if match and match["month"].lower() in MONTHS:
        day = _calendar_date(
            int(match["year"]),
            MONTHS[match["month"].lower()],
            int(match["day"]),
            text,
            where,
            field,
        )
        if match["hour"] is not None:
            hour = int(match["hour"])
            minute = int(match["minute"] or 0)
            if not 1 <= hour <= 12 or minute > 59:
                raise where.error(f"{text!r} has an impossible time of day", field)
            hour = hour % 12 + (12 if match["ampm"].lower() == "p" else 0)
        elif match["hour24"] is not None:
            hour, minute = int(match["hour24"]), int(match["minute24"])
            if hour > 23 or minute > 59:
                raise where.error(f"{text!r} has an impossible time of day", field)
        elif match["noon"] is not None:
            hour, minute = 12, 0
        else:
            return DisplayDate("day", day, text)
        wall = datetime(day.year, day.month, day.day, hour, minute)
        local = local_time(wall, UK_ZONE, where, field)
        return DisplayDate("exact", local.astimezone(zone), text)
    match = _MONTH.match(cleaned)
    if match and match["month"].lower() in MONTHS:
        first = date(int(match["year"]), MONTHS[match["month"].lower()], 1)
        return DisplayDate("month", first, text)
    match = _RANGE.match(cleaned)
    if match and match["m1"].lower() in MONTHS and match["m2"].lower() in MONTHS:
        start_month = MONTHS[match["m1"].lower()]
        end_year = int(match["y2"])
        if match["y1"] is not None:
            start_year = int(match["y1"])
        else:
            # "December to January 2017" starts in the year before.
            end_month = MONTHS[match["m2"].lower()]
            start_year = end_year if start_month <= end_month else end_year - 1
        return DisplayDate("range", date(start_year, start_month, 1), text)
    raise where.error(
        f"{text!r} is not a GOV.UK display date: expected an exact date and time "
        "('20 January 2016 9:30am'), a month ('January 2016') or a range of months "
        "('January to February 2016')",
        field,
    )


def _calendar_date(
    year: int, month: int, day: int, text: str, where: Where, field: str
) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise where.error(f"{text!r} is not a real calendar date", field) from None


def _is_announcement(item: Any) -> bool:
    if not isinstance(item, Mapping):
        return False
    document_type = item.get("document_type")
    return item.get("schema_name") == SCHEMA_NAME or (
        isinstance(document_type, str) and document_type.endswith(SCHEMA_NAME)
    )


def looks_like(data: Any) -> bool:
    """True for a statistics announcement, a list of them or ``{results: [...]}``."""
    if isinstance(data, Mapping):
        if _is_announcement(data):
            return True
        results = data.get("results")
        return (
            isinstance(results, list)
            and bool(results)
            and all(_is_announcement(r) for r in results)
        )
    if isinstance(data, list):
        return bool(data) and all(_is_announcement(i) for i in data)
    return False


def _records(data: Any, file: str) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping):
        if "results" in data and not _is_announcement(data):
            results = data["results"]
            if not isinstance(results, list):
                raise InputError(
                    f"expected a list of content items, got {type(results).__name__}",
                    file=file,
                    field="results",
                )
            return results
        return [data]
    raise InputError(
        "expected a GOV.UK statistics announcement content item, a list of them "
        'or {"results": [...]}',
        file=file,
    )


@dataclass(frozen=True)
class _Announcement:
    """A content item being read, with the ids that name it in messages."""

    raw: Mapping[str, Any]
    base_path: str
    content_id: str | None
    where: Where
    settings: Settings


@dataclass(frozen=True)
class _Item:
    release: Release
    content_id: str | None
    updated: tuple[float, float, int]


def _read_item(raw: Any, index: int, file: str, settings: Settings) -> _Item:
    """One content item as a Release: the steps of the GOV.UK mapping
    (:data:`_STEPS`) in order, then the slug from the base_path."""
    item = _announcement(raw, Where(file, index), settings)
    read = Fields(names=_report_names(item))
    for step in _STEPS:
        read.take(step(item))
    release = read.release(
        _slug(item.base_path, item.where), read.source(file, index, item.base_path)
    )
    return _Item(release=release, content_id=item.content_id, updated=_updated(item))


def _announcement(raw: Any, where: Where, settings: Settings) -> _Announcement:
    """The item if it is a statistics announcement with a base_path."""
    if not isinstance(raw, Mapping):
        raise where.error(f"expected a content item object, got {type(raw).__name__}")
    base_path = get_str(raw, "base_path", where, "base_path")
    content_id = get_str(raw, "content_id", where, "content_id")
    where = where.with_id(base_path or content_id)
    if not _is_announcement(raw):
        raise where.error(
            f"is not a statistics announcement (schema_name "
            f"{raw.get('schema_name')!r}, document_type {raw.get('document_type')!r})",
            "schema_name",
        )
    if base_path is None:
        raise where.error(
            "missing: the announcement's base_path gives its slug", "base_path"
        )
    return _Announcement(raw, base_path, content_id, where, settings)


def _report_names(item: _Announcement) -> dict[str, str]:
    """Reports use the source's names even for fields the record leaves empty."""
    names = {
        "slug": "base_path",
        "same_as": "base_path",
        "title": "title",
        "summary": "description",
        "release_date": "details.display_date",
        "published_date": "details.display_date",
        "provisional_date": "details.display_date",
        "cancellation_notice": "details.cancellation_reason",
        "date_changes": "details.previous_display_date",
    }
    if item.content_id is not None:
        names["identifier"] = "content_id"
    return names


def _texts(item: _Announcement) -> Fields:
    """title, description and locale."""
    raw, where = item.raw, item.where
    title = get_str(raw, "title", where, "title")
    summary = get_str(raw, "description", where, "description")
    texts = Fields({"title": title, "summary": summary})
    texts.named("title", "title", when=title is not None)
    texts.named("summary", "description", when=summary is not None)
    return texts.take(
        language_field(raw, "locale", where, "locale", item.settings.language)
    )


def _details(item: _Announcement) -> Mapping[str, Any]:
    """The details object (the steps after the texts read it)."""
    details = get_obj(item.raw, "details", item.where, "details")
    if details is None:
        raise item.where.error("missing: the announcement's details object", "details")
    return details


def _state(details: Mapping[str, Any], where: Where) -> str:
    """details.state in lower case: cancelled, confirmed or provisional."""
    state = get_str(details, "state", where, "details.state")
    if state is None or state.lower() not in {"cancelled", "confirmed", "provisional"}:
        raise where.error(
            ("missing" if state is None else f"{state!r} is not a known state")
            + ": expected cancelled, confirmed or provisional",
            "details.state",
        )
    return state.lower()


def _dates_and_status(item: _Announcement) -> Fields:
    """The state, the dates and the date change: a confirmed announcement whose
    date changed is postponed."""
    details = _details(item)
    state = _state(details, item.where)
    dates = _dates(item, details, state)
    changes = _date_changes(item, details)
    changed = bool(changes.values["date_changes"])
    return dates.take(changes).take(_status(state, changed=changed))


def _dates(item: _Announcement, details: Mapping[str, Any], state: str) -> Fields:
    """The release date (release_timestamp, else an exact display date) and the
    provisional date (the display date as written, unless exact and confirmed)."""
    where, zone = item.where, item.settings.zone
    display_text = get_str(details, "display_date", where, "details.display_date")
    if display_text is None:
        raise where.error(
            "missing: an announcement needs a display date such as "
            "'20 January 2016 9:30am' or 'January 2016'",
            "details.display_date",
        )
    display = parse_display_date(display_text, zone, where, "details.display_date")
    timestamp = parse_datetime(
        details.get("release_timestamp"), UK_ZONE, where, "details.release_timestamp"
    )
    dates = Fields()
    release_date: datetime | None = None
    if timestamp is not None:
        release_date = timestamp.astimezone(zone)
        dates.named("release_date", "details.release_timestamp")
    elif state != "provisional" and isinstance(display.value, datetime):
        release_date = display.value
        dates.named("release_date", "details.display_date")
    provisional_date: str | None = None
    if state == "provisional" or display.kind != "exact":
        provisional_date = display_text
        dates.named("provisional_date", "details.display_date")
    dates.values.update(
        {"release_date": release_date, "provisional_date": provisional_date}
    )
    return dates


def _date_changes(item: _Announcement, details: Mapping[str, Any]) -> Fields:
    change = _date_change(details, item.settings, item.where)
    return Fields({"date_changes": (change,) if change is not None else ()}).named(
        "date_changes", "details.previous_display_date", when=change is not None
    )


def _date_change(
    details: Mapping[str, Any], settings: Settings, where: Where
) -> DateChange | None:
    previous_text = get_str(
        details, "previous_display_date", where, "details.previous_display_date"
    )
    if previous_text is None:
        return None
    note = get_str(details, "latest_change_note", where, "details.latest_change_note")
    previous = parse_display_date(
        previous_text, settings.zone, where, "details.previous_display_date"
    )
    if previous.kind in {"month", "range"}:
        # Only a month was known: keep its first day and the words as written.
        reason = f"Previously: {previous_text}." + (f" {note}" if note else "")
        return DateChange(previous_date=previous.value, reason=reason)
    return DateChange(previous_date=previous.value, reason=note)


def _status(state: str, *, changed: bool) -> Fields:
    """A confirmed announcement whose date changed is postponed."""
    if state == "cancelled":
        status = Status.CANCELLED
    elif state == "provisional":
        status = Status.PROVISIONAL
    else:
        status = Status.POSTPONED if changed else Status.CONFIRMED
    return Fields({"status": status}).named("status", "details.state")


def _cancellation(item: _Announcement) -> Fields:
    notice = get_str(
        _details(item),
        "cancellation_reason",
        item.where,
        "details.cancellation_reason",
    )
    return Fields({"cancellation_notice": notice}).named(
        "cancellation_notice", "details.cancellation_reason", when=notice is not None
    )


_SUB_TYPES = {"national": Designation.ACCREDITED, "official": Designation.OFFICIAL}


def _designation(item: _Announcement) -> Fields:
    """details.format_sub_type, else the document_type's prefix."""
    where = item.where
    sub_type = get_str(
        _details(item), "format_sub_type", where, "details.format_sub_type"
    )
    if sub_type is not None:
        if sub_type.lower() not in _SUB_TYPES:
            raise where.error(
                f"{sub_type!r} is not a known format_sub_type: expected national or "
                "official",
                "details.format_sub_type",
            )
        return Fields({"designation": _SUB_TYPES[sub_type.lower()]}).named(
            "designation", "details.format_sub_type"
        )
    designation: Designation | None = None
    document_type = get_str(item.raw, "document_type", where, "document_type") or ""
    if document_type.startswith("national_statistics"):
        designation = Designation.ACCREDITED
    elif document_type.startswith("official_statistics"):
        designation = Designation.OFFICIAL
    return Fields({"designation": designation}).named(
        "designation", "document_type", when=designation is not None
    )


def _links(item: _Announcement) -> Fields:
    """The publishing organisation and the topics, from ``links``."""
    links = get_obj(item.raw, "links", item.where, "links") or {}
    return _publisher(links, item.where).take(_topics(links, item.where))


def _publisher(links: Mapping[str, Any], where: Where) -> Fields:
    for key in ("primary_publishing_organisation", "organisations"):
        orgs = get_list(links, key, where, f"links.{key}")
        if not orgs:
            continue
        org = orgs[0]
        name = f"links.{key}[0]"
        if not isinstance(org, Mapping):
            raise where.error(
                f"expected an organisation object, got {type(org).__name__}", name
            )
        title = get_str(org, "title", where, f"{name}.title")
        if title is None:
            continue
        url = get_str(org, "web_url", where, f"{name}.web_url")
        if url is None:
            base_path = get_str(org, "base_path", where, f"{name}.base_path")
            url = GOVUK_SITE + base_path if base_path else None
        organization = Organization(name=title, url=url)
        return Fields({"publisher": organization}).named("publisher", f"links.{key}")
    return Fields({"publisher": None})


def _topics(links: Mapping[str, Any], where: Where) -> Fields:
    out: list[Topic] = []
    used: list[str] = []
    for key in ("policy_areas", "topics", "taxons"):
        entries = iter_objects(
            links, key, where, f"links.{key}", "a linked item object"
        )
        for n, (name, entry) in enumerate(entries):
            if n == 0:
                used.append(f"links.{key}")
            title = get_str(entry, "title", where, f"{name}.title")
            if title is None:
                continue  # a topic without a label cannot be shown
            base_path = get_str(entry, "base_path", where, f"{name}.base_path")
            add_topic(out, path_slug(base_path) if base_path else slugify(title), title)
    return Fields({"topics": tuple(out)}).named(
        "topics", "/".join(used), when=bool(out)
    )


def _same_as(item: _Announcement) -> Fields:
    """The page on GOV.UK, and the content_id as the identifier."""
    base_path = item.base_path
    page = GOVUK_SITE + base_path if base_path.startswith("/") else base_path
    return Fields({"same_as": (page,), "identifier": item.content_id})


#: the GOV.UK mapping: each step reads some fields of a content item, in this order
#: (the order its errors are found in)
_STEPS: tuple[Callable[[_Announcement], Fields], ...] = (
    _texts,
    _dates_and_status,
    _cancellation,
    _designation,
    _links,
    _same_as,
)


def _updated(item: _Announcement) -> tuple[float, float, int]:
    """The key that picks the item kept among those with one content_id."""
    raw, settings, where = item.raw, item.settings, item.where
    return (
        _timestamp(raw, "public_updated_at", settings, where),
        _timestamp(raw, "updated_at", settings, where),
        where.record,
    )


def _timestamp(
    item: Mapping[str, Any], key: str, settings: Settings, where: Where
) -> float:
    value = parse_datetime(item.get(key), settings.zone, where, key, allow_date=True)
    return value.timestamp() if value is not None else float("-inf")


def _slug(base_path: str, where: Where) -> str:
    slug = path_slug(base_path)
    if not slug:
        raise where.error(
            f"{base_path!r} has no last path segment to make the slug from",
            "base_path",
        )
    return slug


def releases_from_document(
    data: Any, *, file: str, settings: Settings, csv: bool = False
) -> list[Release]:
    """Every announcement of a document, one per content_id, in document order."""
    items = [
        _read_item(raw, n, file, settings)
        for n, raw in enumerate(_records(data, file), start=1)
    ]
    groups: dict[str, list[_Item]] = {}
    for item in items:
        if item.content_id is not None:
            groups.setdefault(item.content_id, []).append(item)
    out: list[Release] = []
    for item in items:
        group = groups.get(item.content_id) if item.content_id is not None else None
        if not group or len(group) == 1:
            out.append(item.release)
            continue
        kept = max(group, key=lambda i: i.updated)
        if kept is not item:
            continue
        own = item.release.slug
        former = sorted({i.release.slug for i in group} - {own})
        source = item.release.source
        if source is not None:
            source = replace(
                source, fields=(*source.fields, ("former_slugs", "base_path"))
            )
        out.append(replace(item.release, former_slugs=tuple(former), source=source))
    return out
