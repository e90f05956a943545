"""ONS release-calendar API (``/v1/search/releases``) and its snake_case relatives.

Accepted documents (docs/formats.md, "ONS release-calendar API"):

- a search response ``{took, breakdown, releases: [...]}``;
- a capture wrapper ``{records: [...]}`` whose records carry ``uri`` (or ``id``),
  ``description`` and ``date_changes`` as the API returned them;
- a bare list of release objects, or one release object, including the
  dp-release-calendar-api ``/v1/releases/legacy`` entry (snake_case mirror of the
  zebedee ``data.json``: ``related_datasets``, ``cancellation_notice[]``, ``survey``).

The record logic is shared with the camelCase legacy format (``ons_legacy``): the two
differ only in how they spell fields, which :class:`OnsNames` records.

Status (FORMATS.md sections 3 and 6, as ONS derives it): cancelled if ``cancelled``;
else published if ``published``; else postponed if ``finalised`` and there are date
changes; else confirmed if ``finalised``; else provisional. The API's own
``postponed`` flag is that same derivation, so it is not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from publisher.config import Settings
from publisher.errors import InputError
from publisher.importers._common import (
    Where,
    get_bool,
    get_list,
    get_obj,
    get_str,
    parse_date_or_datetime,
    parse_datetime,
)
from publisher.model import (
    SLUG_RE,
    Contact,
    Dataset,
    DateChange,
    Designation,
    Document,
    Release,
    SourceRef,
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


# --- shared with ons_legacy ---------------------------------------------------------


def absolute_ons_url(uri: str) -> str:
    """An ONS site path (``/releases/x`` or ``releases/x``) as an absolute URL."""
    if uri.startswith(("http://", "https://")):
        return uri
    return ONS_SITE + "/" + uri.lstrip("/")


def slug_from_path(path: str, where: Where, field: str) -> str:
    """The last segment of a URI path as a slug (made one if it is not already)."""
    segment = path.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    slug = segment if SLUG_RE.match(segment) else slugify(segment)
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


def _keywords(desc: Mapping[str, Any], where: Where) -> tuple[str, ...]:
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
    return tuple(out)


def _topics(item: Mapping[str, Any], where: Where) -> tuple[Topic, ...]:
    """zebedee ``topics`` links that carry a title (a bare ID has no label)."""
    out: list[Topic] = []
    for i, entry in enumerate(get_list(item, "topics", where, "topics")):
        name = f"topics[{i}]"
        if not isinstance(entry, Mapping):
            raise where.error(
                f"expected a link object, got {type(entry).__name__}",
                name,
            )
        title = get_str(entry, "title", where, f"{name}.title")
        uri = get_str(entry, "uri", where, f"{name}.uri")
        if title is None:
            continue
        slug = slug_from_path(uri, where, f"{name}.uri") if uri else slugify(title)
        if slug and all(t.slug != slug for t in out):
            out.append(Topic(slug=slug, label=title))
    return tuple(out)


def release_from_record(
    item: Any, *, index: int, file: str, settings: Settings, names: OnsNames
) -> Release:
    """One ONS release object (either spelling) as a :class:`Release`."""
    where = Where(file, index)
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
    fields: dict[str, str] = {"slug": uri_key, "same_as": uri_key}

    def d(key: str) -> str:
        return f"description.{key}"

    # Where the source spells a field, reports use that name even when the record
    # leaves it empty ("description.summary", not "summary").
    fields.update(
        {
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
    )

    title = get_str(desc, "title", where, d("title"))
    if title is not None:
        fields["title"] = d("title")
    summary = get_str(desc, "summary", where, d("summary"))
    if summary is not None:
        fields["summary"] = d("summary")
    else:
        summary = get_str(
            desc, names.meta_description, where, d(names.meta_description)
        )
        if summary is not None:
            fields["summary"] = d(names.meta_description)

    release_date = parse_datetime(
        desc.get(names.release_date), settings.zone, where, d(names.release_date)
    )
    if release_date is not None:
        fields["release_date"] = d(names.release_date)
    provisional_date = get_str(
        desc, names.provisional_date, where, d(names.provisional_date)
    )
    if provisional_date is not None:
        fields["provisional_date"] = d(names.provisional_date)

    changes: list[DateChange] = []
    for i, change in enumerate(
        get_list(item, names.date_changes, where, names.date_changes)
    ):
        base = f"{names.date_changes}[{i}]"
        if not isinstance(change, Mapping):
            raise where.error(
                f"expected a date change object, got {type(change).__name__}", base
            )
        previous = parse_date_or_datetime(
            change.get(names.previous_date),
            settings.zone,
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
    if changes:
        fields["date_changes"] = names.date_changes

    cancelled = get_bool(desc, "cancelled", where, d("cancelled"))
    published = get_bool(desc, "published", where, d("published"))
    finalised = get_bool(desc, "finalised", where, d("finalised"))
    if cancelled:
        status, fields["status"] = Status.CANCELLED, d("cancelled")
    elif published:
        status, fields["status"] = Status.PUBLISHED, d("published")
    elif finalised and changes:
        status, fields["status"] = Status.POSTPONED, names.date_changes
    elif finalised:
        status, fields["status"] = Status.CONFIRMED, d("finalised")
    else:
        status, fields["status"] = Status.PROVISIONAL, d("finalised")

    notice = _paragraphs(
        desc.get(names.cancellation_notice), where, d(names.cancellation_notice)
    )
    if notice is not None:
        fields["cancellation_notice"] = d(names.cancellation_notice)

    national = get_bool(
        desc, names.national_statistic, where, d(names.national_statistic)
    )
    designation: Designation | None = None
    if national is not None:
        designation = Designation.ACCREDITED if national else Designation.OFFICIAL
        fields["designation"] = d(names.national_statistic)

    census = bool(get_bool(desc, "census", where, d("census")))
    if census:
        fields["census"] = d("census")
    survey = get_str(desc, "survey", where, d("survey"))
    if not census and survey is not None and survey.lower() == "census":
        census = True
        fields["census"] = d("survey")

    keywords = _keywords(desc, where)
    if keywords:
        fields["keywords"] = d("keywords")
    topics = _topics(item, where)
    if topics:
        fields["topics"] = "topics"

    language = get_str(desc, "language", where, d("language"))
    if language is not None:
        fields["language"] = d("language")

    contacts: tuple[Contact, ...] = ()
    contact = get_obj(desc, "contact", where, d("contact"))
    if contact is not None:
        name = get_str(contact, "name", where, d("contact.name"))
        email = get_str(contact, "email", where, d("contact.email"))
        telephone = get_str(contact, "telephone", where, d("contact.telephone"))
        if name or email or telephone:
            contacts = (Contact(name=name, email=email, telephone=telephone),)
            fields["contacts"] = d("contact")

    next_release = get_str(desc, names.next_release, where, d(names.next_release))
    if next_release is not None:
        fields["next_release"] = d(names.next_release)

    dataset_links, dataset_field = _links(item, names.datasets, where)
    datasets = tuple(Dataset(title=t or uri, url=url) for url, t, uri in dataset_links)
    if dataset_field:
        fields["datasets"] = dataset_field
    document_links, document_field = _links(item, names.documents, where)
    documents = tuple(Document(url=url, title=t) for url, t, _ in document_links)
    if document_field:
        fields["related_documents"] = document_field

    return Release(
        slug=slug_from_path(uri, where, uri_key),
        title=title,
        status=status,
        summary=summary,
        release_date=release_date,
        provisional_date=provisional_date,
        date_changes=tuple(changes),
        cancellation_notice=notice,
        designation=designation,
        census=census,
        topics=topics,
        keywords=keywords,
        language=language or settings.language,
        contacts=contacts,
        datasets=datasets,
        related_documents=documents,
        next_release=next_release,
        same_as=(absolute_ons_url(uri),),
        source=SourceRef(
            file=file,
            index=index,
            record_id=uri,
            fields=tuple(fields.items()),
        ),
    )
