"""Helpers every importer shares: typed field access, date parsing and the steps
of a record's mapping.

Each helper raises :class:`InputError` naming the file, record and field, so an
importer never lets a ``KeyError`` or ``ValueError`` reach a person.

An importer reads a record as one list of steps (as ckanext-dcat's profiles do): each
step takes the record and returns the :class:`Fields` it read, the Release fields and
the source's name for each, and the steps' results together make the Release.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from publisher.errors import InputError
from publisher.model import (
    SLUG_RE,
    Contact,
    Dataset,
    DateChange,
    Designation,
    Document,
    Organization,
    Release,
    Series,
    SourceRef,
    Status,
    Topic,
    slugify,
)
from publisher.xmlchars import XML_ILLEGAL


@dataclass(frozen=True)
class Where:
    """The place of a record, for error messages."""

    file: str
    record: int  # 1-based
    record_id: str | None = None

    def error(self, message: str, field: str | None = None) -> InputError:
        return InputError(
            message,
            file=self.file,
            record=self.record,
            record_id=self.record_id,
            field=field,
        )

    def with_id(self, record_id: str | None) -> Where:
        return Where(self.file, self.record, record_id)


class ReleaseFields(TypedDict, total=False):
    """The fields of :class:`Release` but ``slug`` and ``source``, by name: what the
    steps of an importer return (mypy checks each name and type)."""

    title: str | None
    status: Status | None
    summary: str | None
    release_date: datetime | None
    provisional_date: str | None
    date_changes: tuple[DateChange, ...]
    cancellation_notice: str | None
    published_date: datetime | None
    designation: Designation | None
    census: bool
    topics: tuple[Topic, ...]
    keywords: tuple[str, ...]
    language: str
    contacts: tuple[Contact, ...]
    publisher: Organization | None
    license: str | None
    datasets: tuple[Dataset, ...]
    related_documents: tuple[Document, ...]
    next_release: str | None
    next_release_slug: str | None
    series: Series | None
    previous_edition: str | None
    same_as: tuple[str, ...]
    identifier: str | None
    former_slugs: tuple[str, ...]


@dataclass
class Fields:
    """What one step of a record's mapping read, or all the steps so far.

    ``values`` are Release fields; ``names`` maps a model field to the name the
    source gives it (``summary`` -> ``description.summary``), for reports
    (:attr:`SourceRef.fields`, in the order the names were first given).
    """

    values: ReleaseFields = field(default_factory=lambda: ReleaseFields())
    names: dict[str, str] = field(default_factory=dict)

    def named(self, model: str, source: str, *, when: bool = True) -> Fields:
        """These fields, noting that ``model`` was read from ``source`` if ``when``."""
        if when:
            self.names[model] = source
        return self

    def take(self, step: Fields) -> Fields:
        """Add what a later step read (its values and names win)."""
        self.values.update(step.values)
        self.names.update(step.names)
        return self

    def source(self, file: str, index: int, record_id: str | None) -> SourceRef:
        """The record's place, with the source names the steps gave."""
        return SourceRef(
            file=file,
            index=index,
            record_id=record_id,
            fields=tuple(self.names.items()),
        )

    def release(self, slug: str, source: SourceRef) -> Release:
        return Release(slug=slug, **self.values, source=source)


def language_field(
    obj: Mapping[str, Any], key: str, where: Where, name: str, default: str
) -> Fields:
    """The record's language (``default``, the site's, when it gives none)."""
    language = get_str(obj, key, where, name)
    return Fields({"language": language or default}).named(
        "language", name, when=language is not None
    )


def path_slug(path: str) -> str:
    """The last segment of a URI path as a slug (made one if it is not already);
    empty when the path has no segment a slug can be made from."""
    segment = path.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return segment if SLUG_RE.match(segment) else slugify(segment)


def add_topic(topics: list[Topic], slug: str, label: str) -> None:
    """Add a topic to ``topics`` unless one with its slug (or no slug) is there."""
    if slug and all(t.slug != slug for t in topics):
        topics.append(Topic(slug=slug, label=label))


def iter_objects(
    obj: Mapping[str, Any], key: str, where: Where, name: str, what: str
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(``name[i]``, item) for each item of the list ``key``, refusing an item that
    is not an object as "expected ``what``" when it is reached."""
    for i, item in enumerate(get_list(obj, key, where, name)):
        position = f"{name}[{i}]"
        if not isinstance(item, Mapping):
            raise where.error(f"expected {what}, got {type(item).__name__}", position)
        yield position, item


def get_str(obj: Mapping[str, Any], key: str, where: Where, name: str) -> str | None:
    """A text field, or None when absent, null or blank."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise where.error(f"expected text, got {type(value).__name__}", name)
    text = str(value).strip()
    return text or None


def get_bool(obj: Mapping[str, Any], key: str, where: Where, name: str) -> bool | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "1"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "no", "0"}:
        return False
    raise where.error(f"expected true or false, got {value!r}", name)


def get_list(obj: Mapping[str, Any], key: str, where: Where, name: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error(f"expected a list, got {type(value).__name__}", name)
    return value


def get_obj(
    obj: Mapping[str, Any], key: str, where: Where, name: str
) -> Mapping[str, Any] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise where.error(f"expected an object, got {type(value).__name__}", name)
    return value


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_datetime(
    value: Any, zone: ZoneInfo, where: Where, name: str, *, allow_date: bool = False
) -> datetime | None:
    """An ISO 8601 date-time made timezone-aware and written in ``zone``.

    A value with an offset (``08:30:00.000Z``) keeps its instant: the ONS API gives
    true UTC, so ``2018-06-25T08:30:00.000Z`` is 09:30 in London. A value without
    one is read as local time in ``zone``. A date alone is refused unless
    ``allow_date``, when it means midnight in ``zone``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        if not allow_date:
            raise where.error(
                f"{value.isoformat()} has no time; give a date and time such as "
                f"{value.isoformat()}T09:30:00+00:00, or use provisional text",
                name,
            )
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if _DATE_ONLY.match(text) and not allow_date:
            raise where.error(
                f"{text!r} has no time; give a date and time such as "
                f"{text}T09:30:00+00:00, or use provisional text",
                name,
            )
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise where.error(
                f"{text!r} is not a valid ISO 8601 date and time "
                "(expected e.g. 2027-01-20T07:00:00Z)",
                name,
            ) from None
    else:
        raise where.error(f"expected a date and time, got {type(value).__name__}", name)
    _check_year(parsed, where, name)
    if parsed.tzinfo is None:
        parsed = local_time(parsed, zone, where, name)
    try:
        return parsed.astimezone(zone)
    except OverflowError:  # pragma: no cover - years are checked first
        raise where.error(f"{value!r} is out of range", name) from None


def local_time(naive: datetime, zone: ZoneInfo, where: Where, name: str) -> datetime:
    """A wall-clock time without an offset, made aware in ``zone``.

    zoneinfo quietly gives a time in the spring-forward gap (01:30 in London on
    the last Sunday of March, which no clock shows) the offset before the change,
    and a time in the repeated autumn hour the first of its two offsets. Neither
    is what the person meant, so both are refused: the first does not exist, the
    second needs its offset written out.
    """
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    shown = naive.isoformat()
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise where.error(
            f"{shown} does not exist in {zone.key}: the clocks go forward over it; "
            "give the time with its offset",
            name,
        )
    raise where.error(
        f"{shown} happens twice in {zone.key} (the clocks go back): give its "
        f"offset, {shown}{_offset(first)} or {shown}{_offset(second)}",
        name,
    )


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset()
    total = int(offset.total_seconds()) // 60 if offset is not None else 0
    hours, minutes = divmod(abs(total), 60)
    return f"{'-' if total < 0 else '+'}{hours:02d}:{minutes:02d}"


#: the years a release calendar's dates may fall in: outside them a date is a
#: mistake (and before 1900 local times carry odd offsets such as -00:01:15)
YEARS = range(1900, 3000)


def _check_year(value: date, where: Where, name: str) -> None:
    if value.year not in YEARS:
        raise where.error(
            f"the year {value.year} is not a release calendar's: dates from "
            f"{YEARS.start} to {YEARS.stop - 1} only",
            name,
        )


def parse_date_or_datetime(
    value: Any, zone: ZoneInfo, where: Where, name: str
) -> datetime | date | None:
    """A calendar date (kept as a date) or a date and time (made aware)."""
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        _check_year(value, where, name)
        return value
    if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise where.error(f"{value!r} is not a real calendar date", name) from None
        _check_year(day, where, name)
        return day
    return parse_datetime(value, zone, where, name)


def release_terms_problem(release: Release) -> tuple[str, str] | None:
    """The first id field (model path) that is not a slug, with the reason; None
    when every one is. Ids become parts of IRIs, and no shape checks them; links
    that cannot be IRIs are left to the shapes (publisher.rdf writes them as text,
    which sh:nodeKind sh:IRI refuses with its own message)."""
    slugs: list[tuple[str, str | None]] = [
        ("next_release_slug", release.next_release_slug),
        ("previous_edition", release.previous_edition),
        ("series.slug", release.series.slug if release.series else None),
    ]
    slugs += [(f"topics[{i}].slug", t.slug) for i, t in enumerate(release.topics)]
    slugs += [(f"former_slugs[{i}]", s) for i, s in enumerate(release.former_slugs)]
    for path, value in slugs:
        if value is not None and not SLUG_RE.match(value):
            return path, (
                f"{value!r} is not an id: use lower-case letters, digits and hyphens"
            )
    return text_problem(release)


#: no text field is longer (the shapes' sh:maxLength limits per field are lower):
#: a longer value is refused before it is turned into RDF or validated
MAX_TEXT = 20_000


def text_problem(release: Release) -> tuple[str, str] | None:
    """The first text field (model path) longer than MAX_TEXT or holding a
    character XML 1.0 cannot carry (tab, LF and CR it can), with the reason; None
    when there is none. Feeds, sitemaps and RDF/XML would be ill-formed, and a
    huge value would cost seconds on every page, so both are refused here."""
    texts = list(_plain_texts(release))
    longest = max(map(len, texts), default=0)
    if longest <= MAX_TEXT and not XML_ILLEGAL.search("\n".join(texts)):
        return None  # the common case, without naming every field on the way
    for path, value in _texts(release, ""):
        if len(value) > MAX_TEXT:
            return path, (
                f"{len(value):,} characters is too long: text fields hold at most "
                f"{MAX_TEXT:,} (the shapes set lower limits per field)"
            )
        found = XML_ILLEGAL.search(value)
        if found:
            return path, (
                f"character U+{ord(found.group()):04X} at position {found.start() + 1} "
                "is not allowed (XML 1.0 cannot carry it)"
            )
    return None


def _texts(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _texts(item, f"{path}[{i}]")
    elif is_dataclass(value) and not isinstance(value, type | SourceRef):
        for f in fields(value):
            yield from _texts(getattr(value, f.name), f"{path}.{f.name}".lstrip("."))


#: a model class's field names, looked up once
_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain_texts(value: object) -> Iterator[str]:
    """The strings _texts finds, in its order, without their paths."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _plain_texts(item)
    elif is_dataclass(value) and not isinstance(value, type | SourceRef):
        kind = type(value)
        names = _FIELDS.get(kind)
        if names is None:
            names = _FIELDS[kind] = tuple(f.name for f in fields(value))
        for name in names:
            yield from _plain_texts(getattr(value, name))


def check_release_terms(release: Release) -> Release:
    """The release, or an InputError naming the field as the input named it."""
    problem = release_terms_problem(release)
    if problem is None:
        return release
    path, message = problem
    source = release.source
    raise InputError(
        message,
        file=source.file if source else None,
        record=source.index if source else None,
        record_id=(source.record_id if source else None) or release.slug,
        field=source.field_name(path) if source else path,
    )
