"""What the web shows, read from the store: a release's page model, the calendar,
topics, tombstones. Views call these and render; they never build graphs.

Everything comes from the store (a release's named graph, its catalogue record) or
from the listing index that follows it (publisher.store.index), never from input
files (DESIGN.md, "Data flow").
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from publisher.config import Settings
from publisher.importers.native import release_to_record
from publisher.jsonld import graph_to_embed, graph_to_jsonld
from publisher.model import SLUG_RE
from publisher.namespaces import PUB, SCHEMA, Iris
from publisher.rdf import bind_prefixes
from publisher.readback import ntriples_to_release
from publisher.store import Store, catalog, health
from publisher.store.graphs import release_graphs_ntriples
from publisher.store.index import ListingIndex, Row

PAGE_SIZE = 20
VIEWS = ("upcoming", "published", "cancelled", "all")
DESIGNATION_LABELS = {
    "accredited-official-statistics": "Accredited official statistics",
    "official-statistics": "Official statistics",
    "official-statistics-in-development": "Official statistics in development",
}


@dataclass(frozen=True)
class DateChangeView:
    previous: str
    reason: str | None
    changed_at: str | None
    new: str | None = None


@dataclass(frozen=True)
class DownloadView:
    title: str
    url: str
    format: str | None
    size: str | None


@dataclass(frozen=True)
class DatasetView:
    title: str
    url: str | None
    downloads: list[DownloadView]


@dataclass
class ReleasePage:
    """A release as its page shows it, with its graph for JSON-LD and negotiation."""

    slug: str
    graph: Graph
    version: str
    modified: datetime
    title: str
    summary: str | None
    status: str
    event_status: str | None
    release_date: datetime | None
    provisional_date: str | None
    published_date: datetime | None
    cancellation_notice: str | None
    designation: str | None
    census: bool
    next_release: str | None
    next_release_slug: str | None
    license: str | None
    publisher_name: str | None
    language: str
    keywords: list[str] = field(default_factory=list)
    topics: list[tuple[str, str]] = field(default_factory=list)  # (slug, label)
    contacts: list[dict[str, str]] = field(default_factory=list)
    date_changes: list[DateChangeView] = field(default_factory=list)
    datasets: list[DatasetView] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)  # (title, url)
    history: list[catalog.HistoryEntry] = field(default_factory=list)

    def embed(self) -> dict[str, Any]:
        return graph_to_embed(self.graph)

    def jsonld(self) -> dict[str, Any]:
        return graph_to_jsonld(self.graph)


@dataclass(frozen=True)
class Listing:
    rows: list[Row]
    total: int
    page: int
    pages: int
    counts: dict[str, int]


def _when(value: Node | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(value: Node | None) -> str | None:
    return str(value) if value is not None else None


def _local(value: Node | None) -> str | None:
    return (
        str(value).rsplit("#", 1)[-1].rsplit("/", 1)[-1] if value is not None else None
    )


def parse_day(value: str, settings: Settings) -> datetime | None:
    """A date filter (``from``, ``to``): an ISO date or time, read in the site's
    zone when it has no offset; None when empty; ValueError when unreadable or out
    of range."""
    text = value.strip()
    if not text:
        return None
    parsed = datetime.fromisoformat(text)
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=settings.zone)
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text} is out of range") from None
    return parsed


class Site:
    """The store, its listing index and the settings, for the web."""

    def __init__(self, settings: Settings, store: Store, index: ListingIndex) -> None:
        self.settings = settings
        self.store = store
        self.index = index
        self.iris = Iris(settings.base_url)
        self._lock = threading.Lock()
        #: held by every write (SPARQL Update, the API), one at a time
        self.write_lock = threading.Lock()

    def current(self) -> None:
        """Bring the listing index up to the store's data version.

        The version check (one tiny query) takes no lock, so requests do not
        queue behind one that waits for a store that went away, and it keeps the
        request's deadline; a sync it calls for does not (after another writer's
        large change it may take longer than page_timeout, and cut short it would
        never end).
        """
        version = catalog.data_version(self.store, self.settings)
        if version is not None and version == self.index.version():
            return
        with self._lock, health.unbounded():
            self.index.ensure_current(self.store, self.settings)

    def follow(
        self, previous: str | None, version: str | None, slugs: list[str]
    ) -> None:
        """A write in this process changed ``slugs``: the index re-reads just those."""
        with self._lock:
            self.index.sync_releases(
                self.store, self.settings, previous, version, slugs
            )

    def data_version(self) -> str | None:
        self.current()
        return self.index.version()

    # One release --------------------------------------------------------------

    def release(self, slug: str) -> ReleasePage | None:
        if not SLUG_RE.match(slug):
            return None  # not an id: nothing to look up (and nothing to quote)
        self.current()
        row = self.index.get(slug)
        if row is None:
            return None
        text = catalog.release_graph_ntriples(self.store, self.settings, slug)
        if not text:
            return None
        graph = bind_prefixes(Graph(bind_namespaces="none"))
        graph.parse(data=text, format="nt")
        page = _page(slug, graph, row, self.iris)
        page.history = catalog.history(self.store, self.settings, slug=slug)
        return page

    def moved_to(self, slug: str) -> str | None:
        """The slug a renamed release has now, or None."""
        if not SLUG_RE.match(slug):
            return None
        return catalog.redirect_for(self.store, self.settings, slug)

    def recent_changes(self, limit: int = 50) -> list[catalog.HistoryEntry]:
        return catalog.history(self.store, self.settings, limit=limit)

    def tombstone(self, slug: str) -> catalog.Tombstone | None:
        if not SLUG_RE.match(slug):
            return None
        self.current()
        return self.index.tombstone(slug)

    # Lists ----------------------------------------------------------------------

    def home(self, now: datetime | None = None) -> tuple[list[Row], list[Row]]:
        self.current()
        now = now or datetime.now(UTC)
        upcoming = self.index.upcoming(now, now + timedelta(days=3650), limit=10)
        return upcoming, self.index.latest_published(10)

    def listing(
        self,
        view: str = "upcoming",
        *,
        topic: str | None = None,
        designation: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        text: str | None = None,
        page: int = 1,
        now: datetime | None = None,
    ) -> Listing:
        self.current()
        rows, total, counts = self.index.listing(
            view,
            topic=topic,
            designation=designation,
            start=start,
            end=end,
            text=text,
            limit=PAGE_SIZE,
            offset=(max(page, 1) - 1) * PAGE_SIZE,
            now=now or datetime.now(UTC),
        )
        pages = max(1, -(-total // PAGE_SIZE))
        return Listing(rows, total, min(max(page, 1), pages), pages, counts)

    def recently_changed(self, topic: str | None = None) -> list[Row]:
        self.current()
        return self.index.recently_changed(50, topic)

    def catalog_page(self, page: int, size: int) -> tuple[list[Row], int]:
        self.current()
        return self.index.page_by_slug(size, (page - 1) * size), self.index.count()

    def topics(self) -> list[tuple[str, str, int]]:
        self.current()
        return self.index.count_by_topic()

    def sitemap_rows(self) -> Iterator[Row]:
        self.current()
        yield from self.index.all_rows()

    # Records, as the API writes them, and figures ------------------------------

    def record(self, slug: str) -> tuple[dict[str, Any], str] | None:
        """A live release as the API writes it, and its version (its ETag)."""
        state = catalog.release_states(self.store, self.settings, [slug]).get(slug)
        if state is None:
            return None
        text = catalog.release_graph_ntriples(self.store, self.settings, slug)
        if not text:
            return None
        release = ntriples_to_release(text, slug, self.settings)
        return release_to_record(release), state.version

    def records(self, slugs: Sequence[str]) -> list[dict[str, Any]]:
        """The records of the releases among ``slugs`` that have a graph, in
        their order, read from the store at once (a page of a list)."""
        graphs = release_graphs_ntriples(self.store, self.settings, slugs)
        return [
            release_to_record(ntriples_to_release(graphs[slug], slug, self.settings))
            for slug in slugs
            if graphs.get(slug)
        ]

    def stats(self) -> catalog.StoreStats:
        """What the store holds: releases by status, graphs, triples."""
        return catalog.stats(self.store, self.settings)

    @staticmethod
    def check_base_url(store: Store, settings: Settings) -> None:
        """StoreConflictError if ``store`` was built for another base URL (a site
        never serves another's IRIs)."""
        catalog.check_base_url(store, settings)


def _page(slug: str, g: Graph, row: Row, iris: Iris) -> ReleasePage:
    rel = URIRef(iris.release(slug))
    event = g.value(rel, SCHEMA.publication)
    changes = []
    for node in sorted(g.objects(rel, PUB.dateChange), key=str):
        changes.append(
            DateChangeView(
                previous=str(g.value(node, PUB.previousDate)),
                reason=_text(g.value(node, PUB.changeReason)),
                changed_at=_text(g.value(node, PUB.changedAt)),
                new=_text(g.value(node, PUB.newDate)),
            )
        )
    datasets = []
    for node in sorted(g.objects(rel, SCHEMA.hasPart), key=lambda n: _order(str(n))):
        downloads = [
            DownloadView(
                title=str(g.value(dl, SCHEMA.name) or g.value(dl, SCHEMA.contentUrl)),
                url=str(g.value(dl, SCHEMA.contentUrl)),
                format=_text(g.value(dl, SCHEMA.encodingFormat)),
                size=_text(g.value(dl, SCHEMA.contentSize)),
            )
            for dl in sorted(
                g.objects(node, SCHEMA.distribution), key=lambda n: _order(str(n))
            )
        ]
        datasets.append(
            DatasetView(
                title=str(g.value(node, SCHEMA.name)),
                url=_text(g.value(node, SCHEMA.url)),
                downloads=downloads,
            )
        )
    contacts = []
    for node in sorted(g.objects(rel, SCHEMA.contactPoint), key=str):
        contacts.append(
            {
                k: str(v)
                for k, v in (
                    ("name", g.value(node, SCHEMA.name)),
                    ("email", g.value(node, SCHEMA.email)),
                    ("telephone", g.value(node, SCHEMA.telephone)),
                )
                if v is not None
            }
        )
    documents = [
        (str(g.value(n, SCHEMA.name)), str(g.value(n, SCHEMA.url)))
        for n in sorted(g.objects(rel, SCHEMA.subjectOf), key=lambda n: _order(str(n)))
    ]
    topics = sorted(
        (str(t).rsplit("/topics/", 1)[-1].split("#")[0], str(g.value(t, SCHEMA.name)))
        for t in g.objects(rel, SCHEMA.about)
    )
    next_slug = g.value(rel, PUB.nextRelease)
    publisher = g.value(rel, SCHEMA.publisher)
    census = g.value(rel, PUB.census)
    return ReleasePage(
        slug=slug,
        graph=g,
        version=row.version,
        modified=_when(Literal(row.modified)) or datetime.now(UTC),
        title=str(g.value(rel, SCHEMA.name) or slug),
        summary=_text(g.value(rel, SCHEMA.description)),
        status=(_local(g.value(rel, PUB.status)) or "").lower(),
        event_status=_local(g.value(event, SCHEMA.eventStatus)) if event else None,
        release_date=_when(g.value(event, SCHEMA.startDate)) if event else None,
        provisional_date=_text(g.value(rel, PUB.provisionalDate)),
        published_date=_when(g.value(rel, SCHEMA.datePublished)),
        cancellation_notice=_text(g.value(rel, PUB.cancellationNotice)),
        designation=row.designation,
        census=census is not None and str(census) in ("true", "1"),
        next_release=_text(g.value(rel, PUB.nextReleaseText)),
        next_release_slug=(
            str(next_slug).rsplit("/releases/", 1)[-1].split("#")[0]
            if next_slug
            else None
        ),
        license=_text(g.value(rel, SCHEMA.license)),
        language=str(g.value(rel, SCHEMA.inLanguage) or "en"),
        publisher_name=_text(g.value(publisher, SCHEMA.name)) if publisher else None,
        keywords=sorted(str(k) for k in g.objects(rel, SCHEMA.keywords)),
        topics=topics,
        contacts=contacts,
        date_changes=changes,
        datasets=datasets,
        documents=documents,
    )


def _order(iri: str) -> tuple[int, ...]:
    """#dataset-2-download-10 sorts after #dataset-2-download-9."""
    import re

    return tuple(int(n) for n in re.findall(r"(\d+)", iri.rsplit("#", 1)[-1]))
