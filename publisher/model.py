"""Typed release metadata: what every importer produces and ``rdf`` converts.

Types only; publishing rules (what is required, what is a warning) live in the
SHACL shapes under ``shapes/``. No rdflib here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Status(StrEnum):
    """Where a release is in its life (DESIGN.md, "Who it is for")."""

    PROVISIONAL = "provisional"  # announced with a month or a range, not a date
    CONFIRMED = "confirmed"  # date and time fixed
    POSTPONED = "postponed"  # a confirmed date that moved (ONS "postponed")
    CANCELLED = "cancelled"
    PUBLISHED = "published"

    @classmethod
    def lookup(cls, value: str | None) -> Status | None:
        """The status whose value is ``value``, or None for any other text."""
        return cls._value2member_map_.get(value or "")  # type: ignore[return-value]

    @property
    def label(self) -> str:
        """What pages call it: ``Postponed``."""
        return _STATUS_LABELS[self]

    @property
    def feed_label(self) -> str:
        """What the Atom feed's entry titles call it: ``Date changed``."""
        return _FEED_LABELS.get(self, self.label)

    @property
    def upcoming(self) -> bool:
        """Not yet out, nor cancelled: the calendar's "upcoming" view."""
        return self in UPCOMING_STATUSES


class Designation(StrEnum):
    """The UK designations of official statistics (Code of Practice)."""

    ACCREDITED = "accredited-official-statistics"  # formerly National Statistics
    OFFICIAL = "official-statistics"
    IN_DEVELOPMENT = "official-statistics-in-development"  # formerly experimental

    @classmethod
    def lookup(cls, value: str | None) -> Designation | None:
        """The designation whose value is ``value``, or None for any other text."""
        return cls._value2member_map_.get(value or "")  # type: ignore[return-value]

    @property
    def label(self) -> str:
        """What pages call it: ``Official statistics in development``."""
        return _DESIGNATION_LABELS[self]


_STATUS_LABELS = {
    Status.PROVISIONAL: "Provisional",
    Status.CONFIRMED: "Confirmed",
    Status.POSTPONED: "Postponed",
    Status.CANCELLED: "Cancelled",
    Status.PUBLISHED: "Published",
}
_FEED_LABELS = {Status.POSTPONED: "Date changed"}
#: the statuses of a release still to come, in their order of life
UPCOMING_STATUSES = (Status.PROVISIONAL, Status.CONFIRMED, Status.POSTPONED)
_DESIGNATION_LABELS = {
    Designation.ACCREDITED: "Accredited official statistics",
    Designation.OFFICIAL: "Official statistics",
    Designation.IN_DEVELOPMENT: "Official statistics in development",
}


@dataclass(frozen=True)
class DateChange:
    """One change of a release date, kept for ever (Code of Practice)."""

    previous_date: datetime | date
    reason: str | None = None
    changed_at: datetime | None = None
    new_date: datetime | date | None = None  # the date it moved to, when known


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    email: str | None = None
    telephone: str | None = None


@dataclass(frozen=True)
class Download:
    """One file of a dataset. ``format`` should be a MIME type (shapes check)."""

    url: str
    title: str | None = None
    format: str | None = None
    size: int | None = None  # bytes


@dataclass(frozen=True)
class Dataset:
    title: str
    url: str | None = None
    description: str | None = None
    downloads: tuple[Download, ...] = ()


@dataclass(frozen=True)
class Document:
    """A related document: a bulletin, an article, a methodology page."""

    url: str
    title: str | None = None


@dataclass(frozen=True)
class Topic:
    slug: str
    label: str


@dataclass(frozen=True)
class Organization:
    name: str
    url: str | None = None


@dataclass(frozen=True)
class Series:
    slug: str
    title: str | None = None


@dataclass(frozen=True)
class SourceRef:
    """Where a record came from, so reports name fields as the input named them.

    ``fields`` maps a model field (``summary``) to the input's name for it
    (``description.summary``). ``style`` says how list positions are written:
    ``json`` gives ``datasets[0].downloads[1].url``, ``csv`` gives the 1-based
    column name ``datasets.1.downloads.2.url``.
    """

    file: str
    index: int  # 1-based position in the file
    record_id: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    style: str = "json"

    def field_name(self, model_path: str) -> str:
        """Translate a model path such as ``datasets[0].url`` to the input's name."""
        head, sep, rest = model_path.partition("[")
        head, dot, tail = head.partition(".") if not sep else (head, "", "")
        mapped = dict(self.fields).get(head, head)
        if sep:
            suffix = "[" + rest
        elif dot:
            suffix = "." + tail
        else:
            suffix = ""
        if self.style == "csv":
            suffix = re.sub(r"\[(\d+)\]", lambda m: f".{int(m.group(1)) + 1}", suffix)
        return mapped + suffix


@dataclass(frozen=True)
class Release:
    """One release of statistics, as announced in a release calendar."""

    slug: str
    title: str | None
    status: Status | None
    summary: str | None = None
    release_date: datetime | None = None  # always timezone-aware
    provisional_date: str | None = None  # free text: "October 2026"
    date_changes: tuple[DateChange, ...] = ()
    cancellation_notice: str | None = None
    published_date: datetime | None = None
    designation: Designation | None = None
    census: bool = False
    topics: tuple[Topic, ...] = ()
    keywords: tuple[str, ...] = ()
    language: str = "en"
    contacts: tuple[Contact, ...] = ()
    publisher: Organization | None = None  # None: the site's organisation
    license: str | None = None  # None: the site's default licence
    datasets: tuple[Dataset, ...] = ()
    related_documents: tuple[Document, ...] = ()
    next_release: str | None = None  # free text or a date as text
    next_release_slug: str | None = None
    series: Series | None = None
    previous_edition: str | None = None  # slug
    same_as: tuple[str, ...] = ()  # the release's page at its source
    identifier: str | None = None  # source identifier (GOV.UK content_id)
    former_slugs: tuple[str, ...] = ()
    source: SourceRef | None = field(default=None, compare=False)


SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,198}[a-z0-9])?$")


def slugify(text: str) -> str:
    """A URL slug from free text: lower case ASCII letters, digits and hyphens."""
    import unicodedata

    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:200].rstrip("-")
