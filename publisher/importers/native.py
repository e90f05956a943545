"""The native input format: JSON, JSON Lines, YAML and CSV (docs/native-format.md).

The record shape is publisher/data/release.schema.json. CSV flattens it: nested
fields are dotted column names with 1-based positions (``date_changes.1.previous_date``,
``datasets.1.downloads.2.url``), and the text lists ``topics``, ``keywords``,
``same_as`` and ``former_ids`` are separated by ``;``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from publisher.config import Settings
from publisher.importers._common import (
    ReleaseFields,
    Where,
    add_topic,
    get_bool,
    get_list,
    get_obj,
    get_str,
    parse_date_or_datetime,
    parse_datetime,
)

# release_to_record, the writer, lives apart and is imported from here too
from publisher.importers.native_writer import release_to_record as release_to_record
from publisher.model import (
    SLUG_RE,
    Contact,
    Dataset,
    DateChange,
    Designation,
    Document,
    Download,
    Organization,
    Release,
    Series,
    SourceRef,
    Status,
    Topic,
    slugify,
)

FIELDS = (
    "id",
    "title",
    "summary",
    "status",
    "release_date",
    "provisional_date",
    "date_changes",
    "cancellation_notice",
    "published_date",
    "designation",
    "census",
    "topics",
    "keywords",
    "language",
    "contacts",
    "publisher",
    "license",
    "datasets",
    "related_documents",
    "next_release",
    "next_release_id",
    "series",
    "previous_edition",
    "same_as",
    "identifier",
    "former_ids",
)
_CSV_LISTS = {"topics", "keywords", "same_as", "former_ids"}
# Model field -> native field, where the two differ (SourceRef.fields).
_RENAMED = (
    ("slug", "id"),
    ("next_release_slug", "next_release_id"),
    ("former_slugs", "former_ids"),
)


#: SourceRef.fields of every native record (built once, shared)
_FIELD_NAMES = tuple((f, f) for f in FIELDS if f != "id") + _RENAMED


def looks_like(data: Any) -> bool:
    records = _records(data)
    return (
        records is not None
        and len(records) > 0
        and all(
            isinstance(r, Mapping) and "id" in r and "description" not in r
            for r in records
        )
    )


def _records(data: Any) -> list[Any] | None:
    if isinstance(data, Mapping):
        if "releases" in data and isinstance(data["releases"], list):
            return data["releases"]
        return [data]
    if isinstance(data, list):
        return data
    return None


def releases_from_document(
    data: Any, *, file: str, settings: Settings, csv: bool = False
) -> list[Release]:
    return list(iter_releases(data, file=file, settings=settings, csv=csv))


def iter_releases(
    data: Any, *, file: str, settings: Settings, csv: bool = False, start: int = 1
) -> Iterator[Release]:
    """Releases one at a time; each record is dropped from ``data`` once read, so
    a big document's memory goes down as its releases go out."""
    records = _records(data)
    if not records:
        raise Where(file, start).error("no release records found")
    for n in range(len(records)):
        record = records[n]
        records[n] = None
        yield release_from_line(record, Where(file, n + start), settings, csv=csv)


def release_from_line(
    record: Any, where: Where, settings: Settings, *, csv: bool = False
) -> Release:
    """One record (a parsed JSON object or a CSV row) as a Release."""
    if not isinstance(record, Mapping):
        raise where.error(f"expected an object, got {type(record).__name__}")
    if csv:
        row_id = record.get("id")
        named = where.with_id(
            row_id.strip() or None if isinstance(row_id, str) else None
        )
        record = _unflatten_csv_row(record, named)
    return release_from_record(record, where, settings, csv=csv)


def release_from_record(
    record: Mapping[str, Any], where: Where, settings: Settings, *, csv: bool = False
) -> Release:
    """One native record as a Release: its id, then the steps of the native
    mapping (:data:`_STEPS`) in order. The native names are the model's (but for
    :data:`_RENAMED`), so a step returns only the fields' values."""
    slug, where = _id(record, where)
    values: ReleaseFields = {}
    for step in _STEPS:
        values.update(step(record, where, settings))
    return Release(
        slug=slug,
        **values,
        source=SourceRef(
            file=where.file,
            index=where.record,
            record_id=slug,
            fields=_FIELD_NAMES,
            style="csv" if csv else "json",
        ),
    )


def _id(record: Mapping[str, Any], where: Where) -> tuple[str, Where]:
    """The record's id (a slug), after checking that every field's name is a
    native one; and ``where`` named by the id."""
    slug = get_str(record, "id", where, "id")
    where = where.with_id(slug)
    unknown = [k for k in record if k not in FIELDS]
    if unknown:
        key = str(unknown[0])
        hint = difflib.get_close_matches(key, FIELDS, n=1)
        extra = f"; did you mean '{hint[0]}'?" if hint else ""
        raise where.error(f"unknown field{extra}", key)
    if slug is None:
        raise where.error("every release needs an id (its URL slug)", "id")
    if not SLUG_RE.match(slug):
        raise where.error(
            f"{slug!r} is not a slug: use lower-case letters, digits and hyphens "
            f"(e.g. {slugify(slug) or 'labour-market-january-2027'!r})",
            "id",
        )
    return slug, where


def _status(
    record: Mapping[str, Any], where: Where, settings: Settings
) -> ReleaseFields:
    status_text = get_str(record, "status", where, "status")
    status: Status | None = None
    if status_text is not None:
        try:
            status = Status(status_text.lower())
        except ValueError:
            raise where.error(
                f"{status_text!r} is not a status; use one of "
                + ", ".join(s.value for s in Status),
                "status",
            ) from None
    return {"status": status}


def _designation(
    record: Mapping[str, Any], where: Where, settings: Settings
) -> ReleaseFields:
    designation_text = get_str(record, "designation", where, "designation")
    designation: Designation | None = None
    if designation_text is not None:
        try:
            designation = Designation(designation_text.lower())
        except ValueError:
            raise where.error(
                f"{designation_text!r} is not a designation; use one of "
                + ", ".join(d.value for d in Designation),
                "designation",
            ) from None
    return {"designation": designation}


def _publisher(
    record: Mapping[str, Any], where: Where, settings: Settings
) -> ReleaseFields:
    publisher = None
    pub = get_obj(record, "publisher", where, "publisher")
    if pub is not None:
        name = get_str(pub, "name", where, "publisher.name")
        if name is None:
            raise where.error("a publisher needs a name", "publisher.name")
        publisher = Organization(name, get_str(pub, "url", where, "publisher.url"))
    return {"publisher": publisher}


def _series(
    record: Mapping[str, Any], where: Where, settings: Settings
) -> ReleaseFields:
    series = None
    ser = get_obj(record, "series", where, "series")
    if ser is not None:
        sid = get_str(ser, "id", where, "series.id")
        if sid is None or not SLUG_RE.match(sid):
            raise where.error("a series needs an id that is a slug", "series.id")
        series = Series(sid, get_str(ser, "title", where, "series.title"))
    return {"series": series}


def _title_and_dates(
    record: Mapping[str, Any], where: Where, settings: Settings
) -> ReleaseFields:
    """What the release is and when: title, summary, its dates and their changes."""
    zone = settings.zone
    return {
        "title": get_str(record, "title", where, "title"),
        "summary": get_str(record, "summary", where, "summary"),
        "release_date": parse_datetime(
            record.get("release_date"), zone, where, "release_date"
        ),
        "provisional_date": get_str(
            record, "provisional_date", where, "provisional_date"
        ),
        "date_changes": _date_changes(record, where, settings),
        "cancellation_notice": get_str(
            record, "cancellation_notice", where, "cancellation_notice"
        ),
        "published_date": parse_datetime(
            record.get("published_date"), zone, where, "published_date"
        ),
    }


def _subjects(
    record: Mapping[str, Any], where: Where, settings: Settings
) -> ReleaseFields:
    """What the release is about: census flag, topics, keywords, language."""
    return {
        "census": bool(get_bool(record, "census", where, "census")),
        "topics": _topics(record, where),
        "keywords": tuple(_texts(record, "keywords", where)),
        "language": get_str(record, "language", where, "language") or settings.language,
    }


def _contacts_and_licence(
    record: Mapping[str, Any], where: Where, settings: Settings
) -> ReleaseFields:
    return {
        "contacts": _contacts(record, where),
        "license": get_str(record, "license", where, "license"),
    }


def _data(record: Mapping[str, Any], where: Where, settings: Settings) -> ReleaseFields:
    """The datasets and related documents."""
    return {
        "datasets": _datasets(record, where),
        "related_documents": _documents(record, where),
    }


def _links(
    record: Mapping[str, Any], where: Where, settings: Settings
) -> ReleaseFields:
    """The next and previous releases and the release's other names."""
    return {
        "next_release": get_str(record, "next_release", where, "next_release"),
        "next_release_slug": get_str(
            record, "next_release_id", where, "next_release_id"
        ),
        "previous_edition": get_str(
            record, "previous_edition", where, "previous_edition"
        ),
        "same_as": tuple(_texts(record, "same_as", where)),
        "identifier": get_str(record, "identifier", where, "identifier"),
        "former_slugs": tuple(_texts(record, "former_ids", where)),
    }


#: the native mapping: each step reads some fields of a record, in this order (the
#: order its errors are found in)
_STEPS: tuple[Callable[[Mapping[str, Any], Where, Settings], ReleaseFields], ...] = (
    _status,
    _designation,
    _publisher,
    _series,
    _title_and_dates,
    _subjects,
    _contacts_and_licence,
    _data,
    _links,
)


def _texts(record: Mapping[str, Any], key: str, where: Where) -> list[str]:
    out = []
    for i, item in enumerate(get_list(record, key, where, key)):
        text = get_str({"v": item}, "v", where, f"{key}[{i}]")
        if text:
            out.append(text)
    return out


def _items(
    record: Mapping[str, Any], key: str, where: Where
) -> list[Mapping[str, Any]]:
    items = get_list(record, key, where, key)
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise where.error(
                f"expected an object, got {type(item).__name__}", f"{key}[{i}]"
            )
    return items


def _check_keys(
    item: Mapping[str, Any], allowed: tuple[str, ...], where: Where, name: str
) -> None:
    for key in item:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            raise where.error(f"unknown field{extra}", f"{name}.{key}")


def _date_changes(
    record: Mapping[str, Any], where: Where, settings: Settings
) -> tuple[DateChange, ...]:
    changes = []
    for i, item in enumerate(_items(record, "date_changes", where)):
        name = f"date_changes[{i}]"
        _check_keys(
            item, ("previous_date", "new_date", "reason", "changed_at"), where, name
        )
        previous = parse_date_or_datetime(
            item.get("previous_date"), settings.zone, where, f"{name}.previous_date"
        )
        if previous is None:
            raise where.error(
                "a date change needs its previous date", f"{name}.previous_date"
            )
        changes.append(
            DateChange(
                previous_date=previous,
                reason=get_str(item, "reason", where, f"{name}.reason"),
                changed_at=parse_datetime(
                    item.get("changed_at"), settings.zone, where, f"{name}.changed_at"
                ),
                new_date=parse_date_or_datetime(
                    item.get("new_date"), settings.zone, where, f"{name}.new_date"
                ),
            )
        )
    return tuple(changes)


def _topics(record: Mapping[str, Any], where: Where) -> tuple[Topic, ...]:
    topics: list[Topic] = []
    for i, item in enumerate(get_list(record, "topics", where, "topics")):
        name = f"topics[{i}]"
        if isinstance(item, Mapping):
            _check_keys(item, ("id", "label"), where, name)
            label = get_str(item, "label", where, f"{name}.label")
            if label is None:
                raise where.error("a topic needs a label", f"{name}.label")
            tid = get_str(item, "id", where, f"{name}.id") or slugify(label)
        else:
            label = get_str({"v": item}, "v", where, name)
            if label is None:
                continue
            tid = slugify(label)
        if not SLUG_RE.match(tid):
            raise where.error(f"topic id {tid!r} is not a slug", f"{name}.id")
        add_topic(topics, tid, label)
    return tuple(topics)


def _contacts(record: Mapping[str, Any], where: Where) -> tuple[Contact, ...]:
    contacts = []
    for i, item in enumerate(_items(record, "contacts", where)):
        name = f"contacts[{i}]"
        _check_keys(item, ("name", "email", "telephone"), where, name)
        contact = Contact(
            get_str(item, "name", where, f"{name}.name"),
            get_str(item, "email", where, f"{name}.email"),
            get_str(item, "telephone", where, f"{name}.telephone"),
        )
        if contact != Contact():
            contacts.append(contact)
    return tuple(contacts)


def _datasets(record: Mapping[str, Any], where: Where) -> tuple[Dataset, ...]:
    datasets = []
    for i, item in enumerate(_items(record, "datasets", where)):
        name = f"datasets[{i}]"
        _check_keys(item, ("title", "url", "description", "downloads"), where, name)
        title = get_str(item, "title", where, f"{name}.title")
        if title is None:
            raise where.error("a dataset needs a title", f"{name}.title")
        downloads = []
        for j, dl in enumerate(_items(item, "downloads", where)):
            dname = f"{name}.downloads[{j}]"
            _check_keys(dl, ("url", "title", "format", "size"), where, dname)
            url = get_str(dl, "url", where, f"{dname}.url")
            if url is None:
                raise where.error("a download needs a url", f"{dname}.url")
            downloads.append(
                Download(
                    url=url,
                    title=get_str(dl, "title", where, f"{dname}.title"),
                    format=get_str(dl, "format", where, f"{dname}.format"),
                    size=_size(dl.get("size"), where, f"{dname}.size"),
                )
            )
        datasets.append(
            Dataset(
                title=title,
                url=get_str(item, "url", where, f"{name}.url"),
                description=get_str(item, "description", where, f"{name}.description"),
                downloads=tuple(downloads),
            )
        )
    return tuple(datasets)


def _size(value: Any, where: Where, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise where.error("expected a number of bytes", name)
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and _CSV_POSITION.match(value.strip()):
        # ASCII digits only: '²' is isdigit() but not int()
        if len(value.strip()) > 18:
            raise where.error("a size of more than 18 digits is not a file's", name)
        size = int(value.strip())
    else:
        raise where.error(f"expected a whole number of bytes, got {value!r}", name)
    if size < 0:
        raise where.error("a size cannot be negative", name)
    return size


def _documents(record: Mapping[str, Any], where: Where) -> tuple[Document, ...]:
    docs = []
    for i, item in enumerate(_items(record, "related_documents", where)):
        name = f"related_documents[{i}]"
        _check_keys(item, ("url", "title"), where, name)
        url = get_str(item, "url", where, f"{name}.url")
        if url is None:
            raise where.error("a related document needs a url", f"{name}.url")
        docs.append(Document(url, get_str(item, "title", where, f"{name}.title")))
    return tuple(docs)


_CSV_PART = re.compile(r"^[a-z_]+$")
_CSV_POSITION = re.compile(r"^[0-9]+\Z")
#: the highest position a CSV column may name (``datasets.1000.title``): a column
#: name is a few bytes, and the list it implies must not outgrow the file
MAX_CSV_POSITION = 1000


def _unflatten_csv_row(row: Mapping[str, Any], where: Where) -> dict[str, Any]:
    """Rebuild the nested record from dotted, 1-based CSV column names."""
    out: dict[str, Any] = {}
    for column, raw in row.items():
        value = raw.strip() if isinstance(raw, str) else raw
        if value in ("", None):
            continue
        parts = column.split(".")
        if parts[0] in _CSV_LISTS and len(parts) == 1:
            out[parts[0]] = [v.strip() for v in str(value).split(";") if v.strip()]
            continue
        node: Any = out
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            if _CSV_POSITION.match(part):
                digits = part.lstrip("0")
                if len(digits) > len(str(MAX_CSV_POSITION)) or (
                    int(digits or "0") > MAX_CSV_POSITION
                ):
                    raise where.error(
                        f"position {part} is too high: a CSV column counts items "
                        f"from 1 to {MAX_CSV_POSITION}",
                        column,
                    )
                idx = int(part) - 1
                if idx < 0 or not isinstance(node, list):
                    raise where.error("column name has a misplaced position", column)
                while len(node) <= idx:
                    node.append({})
                if last:
                    node[idx] = value
                else:
                    node = node[idx]
                continue
            if not _CSV_PART.match(part) or not isinstance(node, dict):
                raise where.error("not a column of the native CSV format", column)
            nxt = parts[k + 1] if not last else None
            if last:
                node[part] = value
            elif nxt is not None and _CSV_POSITION.match(nxt):
                node = node.setdefault(part, [])
            else:
                node = node.setdefault(part, {})
    # Positions left empty by a sparse spreadsheet are dropped, not invented.
    for key, val in list(out.items()):
        if isinstance(val, list) and key not in _CSV_LISTS:
            out[key] = [v for v in val if v != {}]
            for item in out[key]:
                if isinstance(item, dict) and isinstance(item.get("downloads"), list):
                    item["downloads"] = [d for d in item["downloads"] if d != {}]
    return out
