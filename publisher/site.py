"""What the web shows, read from the store: a release's page model, the calendar,
topics, tombstones. Views call these and render; they never build graphs.

Everything comes from the store (a release's named graph, its catalogue record) or
from the listing index that follows it (publisher.store.index), never from input
files (DESIGN.md, "Data flow").
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, NamedTuple

from rdflib import Graph

from publisher.changes import ChangeLog
from publisher.config import Settings
from publisher.embed import release_embed
from publisher.errors import PublisherError
from publisher.importers.native import release_to_record
from publisher.jsonld import graph_to_embed, graph_to_jsonld
from publisher.model import SLUG_RE, Contact, Dataset, DateChange, Release
from publisher.namespaces import Iris
from publisher.rdf import human_size
from publisher.readback import ntriples_to_release, read_ntriples
from publisher.renderings import Rendering, Renderings
from publisher.shared_renderings import SharedRenderings
from publisher.store import Store, catalog, health
from publisher.store.graphs import release_graphs_ntriples
from publisher.store.index import ListingIndex
from publisher.store.index_fields import Known, Row, parse_moment

PAGE_SIZE = 20
#: page models of this many releases are kept, for the other forms of a release
#: just rendered (a crawler fetching the page, then its card); the renderings are
#: kept apart. About 100 KB each in memory.
MODELS_KEPT = 256

_log = logging.getLogger("publisher.site")
VIEWS = ("upcoming", "published", "cancelled", "all")


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
    #: the release's stored graph, as N-Triples (sorted lines)
    ntriples: str
    content_hash: str
    modified: datetime
    title: str
    summary: str | None
    status: str
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
    #: the release read back from the graph (what the JSON-LD block is made of)
    release: Release | None = None
    settings: Settings | None = None

    @cached_property
    def graph(self) -> Graph:
        """The stored graph through rdflib, parsed on first use: only the RDF
        serialisations need it (the page itself is made from ``release``)."""
        return read_ntriples(self.ntriples)

    def embed(self) -> dict[str, Any]:
        """The page's schema.org block, built directly from the release
        (publisher.embed; pyld's compaction of the graph is its oracle)."""
        if self.release is None or self.settings is None:
            return graph_to_embed(self.graph)
        return release_embed(self.release, self.settings)

    def jsonld(self) -> dict[str, Any]:
        return graph_to_jsonld(self.graph)


class CatalogEntry(NamedTuple):
    """A release as a page of the DCAT catalogue lists it."""

    slug: str
    content_hash: str
    title: str | None
    modified: str | None


@dataclass(frozen=True)
class Listing:
    rows: list[Row]
    total: int
    page: int
    pages: int
    counts: dict[str, int]


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


class SiteService:
    """The store, its listing index and the settings, for the web.

    The store's data version is held in memory (DESIGN.md, "Serving"): this
    process's own writes set it (:meth:`follow`, :meth:`refresh` after an
    update); a watcher (:meth:`start_watcher`) looks at the store every
    ``version_watch`` seconds for writes made elsewhere. A read never queries the
    store for it and takes no lock. Without a watcher (tests, one-off apps) the
    first request that finds the look due makes it; the others go on.
    """

    def __init__(self, settings: Settings, store: Store, index: ListingIndex) -> None:
        self.settings = settings
        self.store = store
        self.index = index
        self.iris = Iris(settings.base_url)
        self._lock = threading.Lock()
        #: held by every write (SPARQL Update, the API), one at a time, and by a
        #: look at the store (:meth:`refresh`); reentrant, for a look made by the
        #: writing thread itself (after its follow: nothing then to sync)
        self.write_lock = threading.RLock()
        #: what pages, serialisations and cards look like now (web/pages.py)
        self.renderings = Renderings(settings.share(settings.render_cache_mb << 20))
        self._models: OrderedDict[str, ReleasePage] = OrderedDict()
        self._version: str | None = None
        self._known = False
        self._looked = 0.0  # time.monotonic() of the last look at the store
        self._looking = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        #: steps of the data version shared by a server's workers (publisher.changes);
        #: None: a move made elsewhere forgets every rendering
        self.changes: ChangeLog | None = None
        #: what the other workers of this server made, by data version
        #: (publisher.shared_renderings); None: this process alone
        self.shared: SharedRenderings | None = None
        #: told the releases whose kept pages were just forgotten (web: renders
        #: them again ahead of the readers)
        self.on_changed: list[Callable[[list[str]], None]] = []
        #: the last next_moment found: (data version, asked at, the moment)
        self._next: tuple[str | None, datetime, datetime | None] | None = None

    def current(self) -> None:
        """The listing index and the data version in memory are the store's (as
        of the last look). Only the first call, and a due look when no watcher
        runs, ask the store."""
        if self._known and (
            self._watcher is not None
            or time.monotonic() - self._looked < self.settings.version_watch
        ):
            return
        if not self._known:
            self.refresh()
        elif self._looking.acquire(blocking=False):
            try:
                self.refresh(wait=False)
            finally:
                self._looking.release()

    def refresh(self, wait: bool = True) -> bool:
        """Look at the store's data version; if a writer other than this
        process moved it (or, in a follower worker, a new checkpoint is open),
        bring the index up to it and forget every rendering. True when it moved.

        It holds the write lock, so it never looks in the middle of this
        process's own write: that write's new version is the write's to follow
        (:meth:`follow`, the releases it changed), and a look between its
        commit and its follow would sync the index in full. With ``wait``
        False (a reader's due look, the watcher) a write under way means no
        look now. A sync it calls for has no deadline (after another writer's
        large change it may take longer than page_timeout, and cut short it
        would never end).
        """
        if not self.write_lock.acquire(blocking=wait):
            return False
        try:
            return self._refresh()
        finally:
            self.write_lock.release()

    def _refresh(self) -> bool:
        version = catalog.data_version(self.store, self.settings)
        self._looked = time.monotonic()
        if self._known and version == self._version:
            return False
        with self._lock, health.unbounded():
            if version is None or version != self.index.data_version():
                self.index.ensure_current(self.store, self.settings)
            first, previous = not self._known, self._version
            self._version, self._known = self.index.data_version(), True
        moved = not first and self._version != previous
        if moved:
            changed = (
                self.changes.between(previous, self._version) if self.changes else None
            )
            if changed is None:
                self._forget_all()
            else:  # another worker's write, recorded: only what it changed
                self._changed(self._forget(sorted(changed)))
        return moved

    def follow(
        self,
        previous: str | None,
        version: str | None,
        slugs: list[str],
        known: Mapping[str, Known] | None = None,
    ) -> None:
        """A write in this process changed ``slugs``: the index re-reads just
        those (taking the rows ``known`` has, by version, as written), and what
        shows them is rendered again."""
        with self._lock:
            self.index.sync_releases(
                self.store, self.settings, previous, version, slugs, known or {}
            )
            self._version, self._known = self.index.data_version(), True
            self._looked = time.monotonic()
        read = self._forget(slugs)
        if self.changes is not None:
            self.changes.record(previous, self._version, slugs)
        self._changed(read)

    def _changed(self, slugs: list[str]) -> None:
        for listener in self.on_changed:
            listener(slugs)

    def data_version(self) -> str | None:
        self.current()
        return self._version

    def next_moment(self, now: datetime | None = None) -> datetime | None:
        """The next time an upcoming release's time passes: what lists show
        changes then ("Next releases", "Awaiting publication"). Found in the
        index once per data version and moment (every kept list asks)."""
        self.current()
        now = now or datetime.now(UTC)
        kept, version = self._next, self._version
        if kept is not None and kept[0] == version and kept[1] <= now:
            # nothing of this version falls between the last look and its moment
            moment = kept[2]
            if moment is not None and now < moment:
                return moment
            if moment is None and now < kept[1] + timedelta(days=1):
                return None
        soonest = self.index.upcoming(now, now + timedelta(days=3650), limit=1)
        moment = parse_moment(soonest[0].release_date) if soonest else None
        self._next = (version, now, moment)
        return moment

    def start_watcher(self) -> None:
        """Follow writes made elsewhere from a daemon thread (``publisher serve``
        starts it in each worker, after forking)."""
        if self._watcher is not None:
            return
        self._stop.clear()
        self._watcher = threading.Thread(
            target=self._watch, name="data-version-watcher", daemon=True
        )
        self._watcher.start()

    def stop_watcher(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None

    def _watch(self) -> None:
        while not self._stop.wait(self.settings.version_watch):
            try:
                self.refresh(wait=False)
            except PublisherError as exc:  # the store is down: look again later
                _log.warning("data version not read: %s", exc)

    def _forget(self, slugs: Sequence[str]) -> list[str]:
        """Drop what shows ``slugs``; the ones whose page was kept (someone
        reads them: worth making again ahead of the next reader)."""
        read = [s for s in slugs if self.renderings.holds(("release", s, "html"))]
        self.renderings.drop(["listings", *(f"release:{s}" for s in slugs)])
        changed = set(slugs)
        with self._lock:
            for slug, page in list(self._models.items()):
                if slug in changed or page.next_release_slug in changed:
                    del self._models[slug]
        return read

    def kept(
        self, key: tuple[str, ...], make: Callable[[], Rendering | None]
    ) -> Rendering | None:
        """The rendering kept for ``key``, else the one another worker made at
        this data version, else ``make``'s (then offered to the other workers)."""
        shared = self.shared
        if shared is None:
            return self.renderings.get_or_make(key, make)

        def shared_or_made() -> Rendering | None:
            version = self._version
            if version is not None:
                found = shared.get(version, key, datetime.now(UTC))
                if found is not None:
                    return found
            made = make()
            # not offered if the version moved meanwhile (made from which state?)
            if made is not None and version is not None and version == self._version:
                shared.put(version, key, made)
            return made

        return self.renderings.get_or_make(key, shared_or_made)

    def _forget_all(self) -> None:
        self.renderings.clear()
        with self._lock:
            self._models.clear()

    # One release --------------------------------------------------------------

    def release(self, slug: str) -> ReleasePage | None:
        """A release's page model, read once per change of what it shows."""
        if not SLUG_RE.match(slug):
            return None  # not an id: nothing to look up (and nothing to quote)
        self.current()
        with self._lock:
            found = self._models.get(slug)
            if found is not None:
                self._models.move_to_end(slug)
                return found
        row = self.index.get(slug)
        if row is None:
            return None
        text = catalog.release_graph_ntriples(self.store, self.settings, slug)
        if not text:
            return None
        release = ntriples_to_release(text, slug, self.settings)
        page = _page(release, text, row, self.settings)
        page.history = catalog.history(self.store, self.settings, slug=slug)
        with self._lock:
            self._models[slug] = page
            while len(self._models) > MODELS_KEPT:
                self._models.popitem(last=False)
        return page

    def moved_to(self, slug: str) -> str | None:
        """The slug a renamed release has now, or None."""
        if not SLUG_RE.match(slug):
            return None
        return catalog.redirect_for(self.store, self.settings, slug)

    def recent_changes(self, limit: int = 50) -> list[catalog.HistoryEntry]:
        return catalog.history(self.store, self.settings, limit=limit)

    def last_changes(self, slugs: Sequence[str]) -> dict[str, catalog.HistoryEntry]:
        """The latest recorded change of each of ``slugs`` (a feed's entries): a
        lookup of each release's own changes, where the latest changes of all
        (``recent_changes``) sort the whole history graph (a second and more at
        100,000 releases)."""
        found = {}
        for slug in dict.fromkeys(slugs):
            if SLUG_RE.match(slug):
                latest = catalog.history(self.store, self.settings, slug=slug, limit=1)
                if latest:
                    found[slug] = latest[0]
        return found

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
        size: int = PAGE_SIZE,
    ) -> Listing:
        self.current()
        rows, total, counts = self.index.listing(
            view,
            topic=topic,
            designation=designation,
            start=start,
            end=end,
            text=text,
            limit=size,
            offset=(max(page, 1) - 1) * size,
            now=now or datetime.now(UTC),
        )
        pages = max(1, -(-total // size))
        return Listing(rows, total, min(max(page, 1), pages), pages, counts)

    def recently_changed(self, topic: str | None = None) -> list[Row]:
        self.current()
        return self.index.recently_changed(50, topic)

    def catalog_page(self, page: int, size: int) -> tuple[list[CatalogEntry], int]:
        """A page of the DCAT catalogue (every release by slug), and how many
        releases there are."""
        self.current()
        found = self.index.slugs_modified(
            size, (page - 1) * size, "slug, version, title, modified"
        )
        return [CatalogEntry(*r) for r in found], self.index.count()

    def topics(self) -> list[tuple[str, str, int]]:
        self.current()
        return self.index.count_by_topic()

    def sitemap_rows(
        self, offset: int, limit: int
    ) -> tuple[list[tuple[str, str | None]], int]:
        """(slug, modified) of the releases from ``offset`` on by slug (a sitemap
        part), and how many releases there are."""
        self.current()
        found = self.index.slugs_modified(limit, offset)
        return [(r[0], r[1]) for r in found], self.index.count()

    # Records, as the API writes them, and figures ------------------------------

    def record(self, slug: str) -> tuple[dict[str, Any], str] | None:
        """A live release as the API writes it, and its content hash (its ETag)."""
        found = stored_release(self.store, self.settings, slug)
        if found is None:
            return None
        release, state = found
        return release_to_record(release), state.content_hash

    def records(self, slugs: Sequence[str]) -> list[dict[str, Any]]:
        """The records of the releases among ``slugs`` that have a graph, in
        their order, read from the store at once (a page of a list)."""
        graphs = release_graphs_ntriples(self.store, self.settings, slugs)
        return [
            release_to_record(ntriples_to_release(graphs[slug], slug, self.settings))
            for slug in slugs
            if graphs.get(slug)
        ]

    def counts(self) -> catalog.StoreCounts:
        """What the store holds: releases by status, graphs, triples."""
        return catalog.counts(self.store, self.settings)

    @staticmethod
    def check_base_url(store: Store, settings: Settings) -> None:
        """StoreConflictError if ``store`` was built for another base URL (a site
        never serves another's IRIs)."""
        catalog.check_base_url(store, settings)


def stored_release(
    store: Store, settings: Settings, slug: str
) -> tuple[Release, catalog.ReleaseState] | None:
    """A live release read back from its stored graph (publisher.readback, the one
    reader), with its catalogue state; None when there is none."""
    state = catalog.release_states(store, settings, [slug]).get(slug)
    if state is None:
        return None
    text = catalog.release_graph_ntriples(store, settings, slug)
    if not text:
        return None
    return ntriples_to_release(text, slug, settings), state


def _page(release: Release, ntriples: str, row: Row, settings: Settings) -> ReleasePage:
    """The page model of a release read back from its stored graph."""
    publisher = release.publisher
    return ReleasePage(
        slug=release.slug,
        ntriples=ntriples,
        content_hash=row.content_hash,
        modified=parse_moment(row.modified) or datetime.now(UTC),
        title=release.title or release.slug,
        summary=release.summary,
        status=release.status.value if release.status else "",
        release_date=release.release_date,
        provisional_date=release.provisional_date,
        published_date=release.published_date,
        cancellation_notice=release.cancellation_notice,
        designation=release.designation.value if release.designation else None,
        census=release.census,
        next_release=release.next_release,
        next_release_slug=release.next_release_slug,
        license=release.license,
        language=release.language,
        publisher_name=publisher.name if publisher else settings.organization_name,
        keywords=list(release.keywords),
        topics=[(t.slug, t.label) for t in release.topics],
        contacts=[_contact(c) for c in release.contacts],
        date_changes=[_change(c) for c in release.date_changes],
        datasets=[_dataset(d) for d in release.datasets],
        documents=[(d.title or d.url, d.url) for d in release.related_documents],
        release=release,
        settings=settings,
    )


def _contact(contact: Contact) -> dict[str, str]:
    return {
        k: v
        for k, v in (
            ("name", contact.name),
            ("email", contact.email),
            ("telephone", contact.telephone),
        )
        if v is not None
    }


def _change(change: DateChange) -> DateChangeView:
    return DateChangeView(
        previous=change.previous_date.isoformat(),
        reason=change.reason,
        changed_at=change.changed_at.isoformat() if change.changed_at else None,
        new=change.new_date.isoformat() if change.new_date else None,
    )


def _dataset(dataset: Dataset) -> DatasetView:
    return DatasetView(
        title=dataset.title,
        url=dataset.url,
        downloads=[
            DownloadView(
                title=d.title or dataset.title or d.url,
                url=d.url,
                format=d.format,
                size=human_size(d.size) if d.size is not None else None,
            )
            for d in dataset.downloads
        ],
    )
