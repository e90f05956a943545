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
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from publisher.config import Settings
from publisher.errors import InputError
from publisher.importers._common import (
    Where,
    get_list,
    get_obj,
    get_str,
    local_time,
    parse_datetime,
)
from publisher.model import (
    SLUG_RE,
    DateChange,
    Designation,
    Organization,
    Release,
    SourceRef,
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


def _last_segment(path: str) -> str:
    segment = path.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return segment if SLUG_RE.match(segment) else slugify(segment)


def _publisher(
    links: Mapping[str, Any], where: Where, fields: dict[str, str]
) -> Organization | None:
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
        fields["publisher"] = f"links.{key}"
        return Organization(name=title, url=url)
    return None


def _topics(
    links: Mapping[str, Any], where: Where, fields: dict[str, str]
) -> tuple[Topic, ...]:
    out: list[Topic] = []
    used: list[str] = []
    for key in ("policy_areas", "topics", "taxons"):
        entries = get_list(links, key, where, f"links.{key}")
        if entries:
            used.append(f"links.{key}")
        for i, entry in enumerate(entries):
            name = f"links.{key}[{i}]"
            if not isinstance(entry, Mapping):
                raise where.error(
                    f"expected a linked item object, got {type(entry).__name__}", name
                )
            title = get_str(entry, "title", where, f"{name}.title")
            if title is None:
                continue  # a topic without a label cannot be shown
            base_path = get_str(entry, "base_path", where, f"{name}.base_path")
            slug = _last_segment(base_path) if base_path else slugify(title)
            if slug and all(t.slug != slug for t in out):
                out.append(Topic(slug=slug, label=title))
    if out:
        fields["topics"] = "/".join(used)
    return tuple(out)


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


@dataclass(frozen=True)
class _Item:
    release: Release
    content_id: str | None
    updated: tuple[float, float, int]


def _timestamp(
    item: Mapping[str, Any], key: str, settings: Settings, where: Where
) -> float:
    value = parse_datetime(item.get(key), settings.zone, where, key, allow_date=True)
    return value.timestamp() if value is not None else float("-inf")


def _read_item(raw: Any, index: int, file: str, settings: Settings) -> _Item:
    where = Where(file, index)
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
    fields: dict[str, str] = {
        "slug": "base_path",
        "same_as": "base_path",
        # Reports use the source's names even for fields the record leaves empty.
        "title": "title",
        "summary": "description",
        "release_date": "details.display_date",
        "published_date": "details.display_date",
        "provisional_date": "details.display_date",
        "cancellation_notice": "details.cancellation_reason",
        "date_changes": "details.previous_display_date",
    }
    if content_id is not None:
        fields["identifier"] = "content_id"

    title = get_str(raw, "title", where, "title")
    if title is not None:
        fields["title"] = "title"
    summary = get_str(raw, "description", where, "description")
    if summary is not None:
        fields["summary"] = "description"
    language = get_str(raw, "locale", where, "locale")
    if language is not None:
        fields["language"] = "locale"

    details = get_obj(raw, "details", where, "details")
    if details is None:
        raise where.error("missing: the announcement's details object", "details")
    state = get_str(details, "state", where, "details.state")
    if state is None or state.lower() not in {"cancelled", "confirmed", "provisional"}:
        raise where.error(
            ("missing" if state is None else f"{state!r} is not a known state")
            + ": expected cancelled, confirmed or provisional",
            "details.state",
        )
    state = state.lower()

    display_text = get_str(details, "display_date", where, "details.display_date")
    if display_text is None:
        raise where.error(
            "missing: an announcement needs a display date such as "
            "'20 January 2016 9:30am' or 'January 2016'",
            "details.display_date",
        )
    display = parse_display_date(
        display_text, settings.zone, where, "details.display_date"
    )
    timestamp = parse_datetime(
        details.get("release_timestamp"), UK_ZONE, where, "details.release_timestamp"
    )
    release_date: datetime | None = None
    if timestamp is not None:
        release_date = timestamp.astimezone(settings.zone)
        fields["release_date"] = "details.release_timestamp"
    elif state != "provisional" and isinstance(display.value, datetime):
        release_date = display.value
        fields["release_date"] = "details.display_date"
    provisional_date: str | None = None
    if state == "provisional" or display.kind != "exact":
        provisional_date = display_text
        fields["provisional_date"] = "details.display_date"

    change = _date_change(details, settings, where)
    date_changes = (change,) if change is not None else ()
    if change is not None:
        fields["date_changes"] = "details.previous_display_date"

    if state == "cancelled":
        status = Status.CANCELLED
    elif state == "provisional":
        status = Status.PROVISIONAL
    else:
        status = Status.POSTPONED if change is not None else Status.CONFIRMED
    fields["status"] = "details.state"

    notice = get_str(
        details, "cancellation_reason", where, "details.cancellation_reason"
    )
    if notice is not None:
        fields["cancellation_notice"] = "details.cancellation_reason"

    designation: Designation | None = None
    sub_type = get_str(details, "format_sub_type", where, "details.format_sub_type")
    if sub_type is not None:
        designations = {
            "national": Designation.ACCREDITED,
            "official": Designation.OFFICIAL,
        }
        if sub_type.lower() not in designations:
            raise where.error(
                f"{sub_type!r} is not a known format_sub_type: expected national or "
                "official",
                "details.format_sub_type",
            )
        designation = designations[sub_type.lower()]
        fields["designation"] = "details.format_sub_type"
    else:
        document_type = get_str(raw, "document_type", where, "document_type") or ""
        if document_type.startswith("national_statistics"):
            designation = Designation.ACCREDITED
        elif document_type.startswith("official_statistics"):
            designation = Designation.OFFICIAL
        if designation is not None:
            fields["designation"] = "document_type"

    links = get_obj(raw, "links", where, "links") or {}
    publisher = _publisher(links, where, fields)
    topics = _topics(links, where, fields)

    release = Release(
        slug=_slug(base_path, where),
        title=title,
        status=status,
        summary=summary,
        release_date=release_date,
        provisional_date=provisional_date,
        date_changes=date_changes,
        cancellation_notice=notice,
        designation=designation,
        topics=topics,
        language=language or settings.language,
        publisher=publisher,
        same_as=(GOVUK_SITE + base_path if base_path.startswith("/") else base_path,),
        identifier=content_id,
        source=SourceRef(
            file=file, index=index, record_id=base_path, fields=tuple(fields.items())
        ),
    )
    updated = (
        _timestamp(raw, "public_updated_at", settings, where),
        _timestamp(raw, "updated_at", settings, where),
        index,
    )
    return _Item(release=release, content_id=content_id, updated=updated)


def _slug(base_path: str, where: Where) -> str:
    slug = _last_segment(base_path)
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
