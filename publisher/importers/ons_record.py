"""The mapping of one ONS release object to a Release, in either spelling: the
release-calendar API's snake_case (``ons_api``) or zebedee's camelCase
(``ons_legacy``); :class:`OnsNames` says how each spells the fields that differ.

Status (FORMATS.md sections 3 and 6, as ONS derives it): cancelled if ``cancelled``;
else published if ``published``; else postponed if ``finalised`` and there are date
changes; else confirmed if ``finalised``; else provisional. The API's own
``postponed`` flag is that same derivation, so it is not read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from publisher.config import Settings
from publisher.importers._common import (
    Fields,
    Where,
    add_topic,
    get_bool,
    get_list,
    get_obj,
    get_str,
    iter_objects,
    language_field,
    parse_date_or_datetime,
    parse_datetime,
    path_slug,
)
from publisher.model import (
    Contact,
    Dataset,
    DateChange,
    Designation,
    Document,
    Release,
    Status,
    Topic,
    slugify,
)

ONS_SITE = "https://www.ons.gov.uk"


@dataclass(frozen=True)
class OnsNames:
    """How one ONS format spells the fields that differ between snake and camel case."""

    date_changes: str
    previous_date: str
    change_notice: str
    release_date: str
    next_release: str
    provisional_date: str
    national_statistic: str
    cancellation_notice: str
    meta_description: str
    #: lists of links read as datasets, in this order
    datasets: tuple[str, ...]
    #: lists of links read as related documents, in this order
    documents: tuple[str, ...]


API_NAMES = OnsNames(
    date_changes="date_changes",
    previous_date="previous_date",
    change_notice="change_notice",
    release_date="release_date",
    next_release="next_release",
    provisional_date="provisional_date",
    national_statistic="national_statistic",
    cancellation_notice="cancellation_notice",
    meta_description="meta_description",
    datasets=("related_datasets", "related_api_datasets"),
    documents=(
        "related_documents",
        "related_methodology",
        "related_methodology_article",
        "links",
    ),
)

LEGACY_NAMES = OnsNames(
    date_changes="dateChanges",
    previous_date="previousDate",
    change_notice="changeNotice",
    release_date="releaseDate",
    next_release="nextRelease",
    provisional_date="provisionalDate",
    national_statistic="nationalStatistic",
    cancellation_notice="cancellationNotice",
    meta_description="metaDescription",
    datasets=("relatedDatasets", "relatedAPIDatasets"),
    documents=(
        "relatedDocuments",
        "relatedMethodology",
        "relatedMethodologyArticle",
        "links",
    ),
)


def absolute_ons_url(uri: str) -> str:
    """An ONS site path (``/releases/x`` or ``releases/x``) as an absolute URL."""
    if uri.startswith(("http://", "https://")):
        return uri
    return ONS_SITE + "/" + uri.lstrip("/")


def slug_from_path(path: str, where: Where, field: str) -> str:
    """The last segment of a URI path as a slug (made one if it is not already)."""
    slug = path_slug(path)
    if not slug:
        raise where.error(
            f"{path!r} has no last path segment to make the release's slug from",
            field,
        )
    return slug


def _links(
    item: Mapping[str, Any], keys: tuple[str, ...], where: Where
) -> tuple[list[tuple[str, str | None, str]], str | None]:
    """(absolute url, title, uri as given) of each link in the lists ``keys``.

    A URL that appears twice is kept once, at its first place.

    Also the source name to report for the combined list: the one list that gave
    links, or the lists joined by ``/`` when several did.
    """
    seen: set[str] = set()
    out: list[tuple[str, str | None, str]] = []
    used: list[str] = []
    for key in keys:
        entries = get_list(item, key, where, key)
        if entries:
            used.append(key)
        for i, entry in enumerate(entries):
            name = f"{key}[{i}]"
            if not isinstance(entry, Mapping):
                raise where.error(
                    f"expected a link object, got {type(entry).__name__}",
                    name,
                )
            uri = get_str(entry, "uri", where, f"{name}.uri")
            if uri is None:
                raise where.error("missing: a link needs a uri", f"{name}.uri")
            title = get_str(entry, "title", where, f"{name}.title")
            url = absolute_ons_url(uri)
            if url not in seen:
                seen.add(url)
                out.append((url, title, uri))
    return out, "/".join(used) if used else None


def _paragraphs(value: Any, where: Where, field: str) -> str | None:
    """A cancellation notice: a list of paragraphs (or one text) as one text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if not isinstance(value, list):
        raise where.error(
            f"expected a list of paragraphs, got {type(value).__name__}", field
        )
    paragraphs: list[str] = []
    for i, paragraph in enumerate(value):
        if paragraph is None:
            continue
        if not isinstance(paragraph, str):
            raise where.error(
                f"expected text, got {type(paragraph).__name__}", f"{field}[{i}]"
            )
        if paragraph.strip():
            paragraphs.append(paragraph.strip())
    return "\n\n".join(paragraphs) or None


@dataclass(frozen=True)
class _OnsRecord:
    """An ONS release object being read, with its description and uri."""

    item: Mapping[str, Any]
    desc: Mapping[str, Any]
    uri: str
    #: "uri", or "id" for a capture wrapper's record without a uri
    uri_key: str
    where: Where
    settings: Settings
    names: OnsNames

    def d(self, key: str) -> str:
        """The source name of a field of the description object."""
        return f"description.{key}"


def release_from_record(
    item: Any, *, index: int, file: str, settings: Settings, names: OnsNames
) -> Release:
    """One ONS release object (either spelling) as a :class:`Release`: the steps
    of the ONS mapping (:data:`_STEPS`) in order, then the slug from the uri."""
    record = _ons_record(item, Where(file, index), settings, names)
    read = Fields(names=_report_names(record))
    for step in _STEPS:
        read.take(step(record))
    return read.release(
        slug_from_path(record.uri, record.where, record.uri_key),
        read.source(file, index, record.uri),
    )


def _ons_record(
    item: Any, where: Where, settings: Settings, names: OnsNames
) -> _OnsRecord:
    """The release object if it has a uri and a description object."""
    if not isinstance(item, Mapping):
        raise where.error(f"expected a release object, got {type(item).__name__}")
    # The capture wrapper (records[]) names a record by "id" as well as "uri".
    uri_key = "uri" if item.get("uri") not in (None, "") or "id" not in item else "id"
    uri = get_str(item, uri_key, where, uri_key)
    where = where.with_id(uri)
    if uri is None:
        raise where.error(
            "missing: the release's uri (such as /releases/<name>) gives its slug",
            "uri",
        )
    desc = get_obj(item, "description", where, "description")
    if desc is None:
        raise where.error("missing: the release's description object", "description")
    return _OnsRecord(item, desc, uri, uri_key, where, settings, names)


def _report_names(record: _OnsRecord) -> dict[str, str]:
    """Where the source spells a field, reports use that name even when the record
    leaves it empty ("description.summary", not "summary")."""
    names, d = record.names, record.d
    return {
        "slug": record.uri_key,
        "same_as": record.uri_key,
        "title": d("title"),
        "summary": d("summary"),
        "release_date": d(names.release_date),
        "published_date": d(names.release_date),
        "provisional_date": d(names.provisional_date),
        "cancellation_notice": d(names.cancellation_notice),
        "date_changes": names.date_changes,
        "designation": d(names.national_statistic),
        "next_release": d(names.next_release),
        "contacts": d("contact"),
    }


def _title_and_summary(record: _OnsRecord) -> Fields:
    """The title, and the summary (else the meta description)."""
    desc, where, d = record.desc, record.where, record.d
    title = get_str(desc, "title", where, d("title"))
    texts = Fields({"title": title}).named("title", d("title"), when=title is not None)
    summary = get_str(desc, "summary", where, d("summary"))
    if summary is not None:
        texts.named("summary", d("summary"))
    else:
        meta = record.names.meta_description
        summary = get_str(desc, meta, where, d(meta))
        texts.named("summary", d(meta), when=summary is not None)
    texts.values["summary"] = summary
    return texts


def _dates(record: _OnsRecord) -> Fields:
    """The release date and the provisional date (free text)."""
    desc, where, d = record.desc, record.where, record.d
    release_key = record.names.release_date
    provisional_key = record.names.provisional_date
    release_date = parse_datetime(
        desc.get(release_key), record.settings.zone, where, d(release_key)
    )
    provisional_date = get_str(desc, provisional_key, where, d(provisional_key))
    dates = Fields({"release_date": release_date, "provisional_date": provisional_date})
    dates.named("release_date", d(release_key), when=release_date is not None)
    return dates.named(
        "provisional_date", d(provisional_key), when=provisional_date is not None
    )


def _date_changes_and_status(record: _OnsRecord) -> Fields:
    """The date changes, then the status (a finalised release with date changes
    is postponed)."""
    changes = _date_changes(record)
    changed = bool(changes.values["date_changes"])
    return changes.take(_status(record, changed=changed))


def _date_changes(record: _OnsRecord) -> Fields:
    where, names = record.where, record.names
    changes: list[DateChange] = []
    for base, change in iter_objects(
        record.item,
        names.date_changes,
        where,
        names.date_changes,
        "a date change object",
    ):
        previous = parse_date_or_datetime(
            change.get(names.previous_date),
            record.settings.zone,
            where,
            f"{base}.{names.previous_date}",
        )
        if previous is None:
            raise where.error(
                "missing: a date change needs the date it replaced",
                f"{base}.{names.previous_date}",
            )
        reason = get_str(
            change, names.change_notice, where, f"{base}.{names.change_notice}"
        )
        changes.append(DateChange(previous_date=previous, reason=reason))
    return Fields({"date_changes": tuple(changes)}).named(
        "date_changes", names.date_changes, when=bool(changes)
    )


def _status(record: _OnsRecord, *, changed: bool) -> Fields:
    """As ONS derives it (see the module's docstring)."""
    desc, where, d = record.desc, record.where, record.d
    cancelled = get_bool(desc, "cancelled", where, d("cancelled"))
    published = get_bool(desc, "published", where, d("published"))
    finalised = get_bool(desc, "finalised", where, d("finalised"))
    if cancelled:
        status, source = Status.CANCELLED, d("cancelled")
    elif published:
        status, source = Status.PUBLISHED, d("published")
    elif finalised and changed:
        status, source = Status.POSTPONED, record.names.date_changes
    elif finalised:
        status, source = Status.CONFIRMED, d("finalised")
    else:
        status, source = Status.PROVISIONAL, d("finalised")
    return Fields({"status": status}).named("status", source)


def _cancellation(record: _OnsRecord) -> Fields:
    name = record.d(record.names.cancellation_notice)
    notice = _paragraphs(
        record.desc.get(record.names.cancellation_notice), record.where, name
    )
    return Fields({"cancellation_notice": notice}).named(
        "cancellation_notice", name, when=notice is not None
    )


def _designation(record: _OnsRecord) -> Fields:
    """The national statistic flag: accredited if true, official if false."""
    key = record.names.national_statistic
    national = get_bool(record.desc, key, record.where, record.d(key))
    designation: Designation | None = None
    if national is not None:
        designation = Designation.ACCREDITED if national else Designation.OFFICIAL
    return Fields({"designation": designation}).named(
        "designation", record.d(key), when=national is not None
    )


def _census(record: _OnsRecord) -> Fields:
    """The census flag, or a survey named census."""
    desc, where, d = record.desc, record.where, record.d
    census = bool(get_bool(desc, "census", where, d("census")))
    read = Fields().named("census", d("census"), when=census)
    survey = get_str(desc, "survey", where, d("survey"))
    if not census and survey is not None and survey.lower() == "census":
        census = True
        read.named("census", d("survey"))
    read.values["census"] = census
    return read


def _keywords(record: _OnsRecord) -> Fields:
    desc, where = record.desc, record.where
    out: list[str] = []
    for i, keyword in enumerate(
        get_list(desc, "keywords", where, "description.keywords")
    ):
        if keyword is None:
            continue
        if not isinstance(keyword, str):
            raise where.error(
                f"expected text, got {type(keyword).__name__}",
                f"description.keywords[{i}]",
            )
        text = keyword.strip()
        if text and text not in out:
            out.append(text)
    return Fields({"keywords": tuple(out)}).named(
        "keywords", "description.keywords", when=bool(out)
    )


def _topics(record: _OnsRecord) -> Fields:
    """zebedee ``topics`` links that carry a title (a bare ID has no label)."""
    where = record.where
    out: list[Topic] = []
    for name, entry in iter_objects(
        record.item, "topics", where, "topics", "a link object"
    ):
        title = get_str(entry, "title", where, f"{name}.title")
        uri = get_str(entry, "uri", where, f"{name}.uri")
        if title is None:
            continue
        add_topic(
            out,
            slug_from_path(uri, where, f"{name}.uri") if uri else slugify(title),
            title,
        )
    return Fields({"topics": tuple(out)}).named("topics", "topics", when=bool(out))


def _contacts(record: _OnsRecord) -> Fields:
    """The one contact object, if it gives a name, an email or a telephone."""
    where, d = record.where, record.d
    contact = get_obj(record.desc, "contact", where, d("contact"))
    if contact is None:
        return Fields({"contacts": ()})
    name = get_str(contact, "name", where, d("contact.name"))
    email = get_str(contact, "email", where, d("contact.email"))
    telephone = get_str(contact, "telephone", where, d("contact.telephone"))
    if not (name or email or telephone):
        return Fields({"contacts": ()})
    contacts = (Contact(name=name, email=email, telephone=telephone),)
    return Fields({"contacts": contacts}).named("contacts", d("contact"))


def _next_release(record: _OnsRecord) -> Fields:
    name = record.d(record.names.next_release)
    next_release = get_str(record.desc, record.names.next_release, record.where, name)
    return Fields({"next_release": next_release}).named(
        "next_release", name, when=next_release is not None
    )


def _datasets(record: _OnsRecord) -> Fields:
    links, source = _links(record.item, record.names.datasets, record.where)
    datasets = tuple(Dataset(title=t or uri, url=url) for url, t, uri in links)
    return Fields({"datasets": datasets}).named(
        "datasets", source or "", when=bool(source)
    )


def _documents(record: _OnsRecord) -> Fields:
    links, source = _links(record.item, record.names.documents, record.where)
    documents = tuple(Document(url=url, title=t) for url, t, _ in links)
    return Fields({"related_documents": documents}).named(
        "related_documents", source or "", when=bool(source)
    )


def _language(record: _OnsRecord) -> Fields:
    where, default = record.where, record.settings.language
    return language_field(record.desc, "language", where, record.d("language"), default)


def _same_as(record: _OnsRecord) -> Fields:
    """The release's page on the ONS site."""
    return Fields({"same_as": (absolute_ons_url(record.uri),)})


#: the ONS mapping: each step reads some fields of a record, in this order (the
#: order its errors are found in)
_STEPS: tuple[Callable[[_OnsRecord], Fields], ...] = (
    _title_and_summary,
    _dates,
    _date_changes_and_status,
    _cancellation,
    _designation,
    _census,
    _keywords,
    _topics,
    _language,
    _contacts,
    _next_release,
    _datasets,
    _documents,
    _same_as,
)
