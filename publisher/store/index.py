"""The listing index: a small SQLite side index for the calendar's list queries.

Listing queries (latest published, upcoming in a date range, counts by topic, text
search) scan and sort every release in a SPARQL store: 0.4 to 2.6 s at 100,000
releases in Oxigraph. This index answers them in well under a millisecond.

It is derived from the store and never the source of truth: every row comes from
the store's release graphs and catalogue records (or, after an import, from the
releases as written, at the content hash the catalogue records for them),
``publisher reindex`` rebuilds it
from scratch, and :meth:`ListingIndex.ensure_current` compares the store's data
version (one tiny query) before answering, re-syncing the releases whose content
hash differs. So it follows any writer, including another process
publishing into a shared remote store. docs/stores.md explains the design.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from publisher.config import Settings
from publisher.store import Store, catalog, index_fields
from publisher.store.index_fields import Fetched, Row, fetch_all, fetch_some, utc_text
from publisher.store.index_pages import (
    BY_CHANGE,
    BY_SLUG,
    ORDER_INDEXES,
    VIEWS,
    Marks,
    Query,
    date_seek,
    page_sql,
    recount_facets,
    view_counts,
    view_query,
)
from publisher.store.index_rows import forget_release, insert_release

SCHEMA_SQL = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS releases (
    slug TEXT PRIMARY KEY,
    version TEXT NOT NULL,     -- the release's content hash
    modified TEXT,
    title TEXT,
    summary TEXT,
    status TEXT,
    release_date TEXT,         -- UTC, ISO 8601 with Z: sorts as text
    release_date_text TEXT,    -- as stored, with its offset
    provisional_date TEXT,
    published_date TEXT,       -- UTC
    designation TEXT,
    census INTEGER NOT NULL DEFAULT 0,
    keywords TEXT
);
CREATE INDEX IF NOT EXISTS releases_status_date ON releases (status, release_date);
CREATE INDEX IF NOT EXISTS releases_published
    ON releases (status, published_date DESC, slug);
CREATE TABLE IF NOT EXISTS topic_counts (
    topic TEXT PRIMARY KEY, label TEXT, releases INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS release_topics (
    slug TEXT NOT NULL,
    topic TEXT NOT NULL,
    label TEXT,
    PRIMARY KEY (slug, topic)
);
DROP INDEX IF EXISTS release_topics_topic;
CREATE INDEX IF NOT EXISTS release_topics_by_topic ON release_topics (topic, slug);
-- a topic's count and label from the index alone (counted again after each write
-- of its releases: reading 17,000 rows of the table was seconds a batch at 100,000)
CREATE INDEX IF NOT EXISTS release_topics_labels ON release_topics (topic, label);
-- releases by topic, designation and status: the counts of each view a listing
-- page shows, kept by every sync ('' in topic or designation: any)
CREATE TABLE IF NOT EXISTS facet_counts (
    topic TEXT NOT NULL,
    designation TEXT NOT NULL,
    status TEXT NOT NULL,
    releases INTEGER NOT NULL,
    PRIMARY KEY (topic, designation, status)
);
-- rowid: the release's date in seconds x 10^6 + a tie-break, so a search walks the
-- matches newest first and stops after one page (no ranking of every match).
CREATE VIRTUAL TABLE IF NOT EXISTS release_text
    USING fts5(slug UNINDEXED, title, summary, keywords, prefix='3');
-- each release's row in release_text: FTS5 finds a rowid at once, a slug only by
-- reading every row
CREATE TABLE IF NOT EXISTS release_text_keys (
    slug TEXT PRIMARY KEY, text_rowid INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS release_text_keys_rowid ON release_text_keys (text_rowid);
CREATE TABLE IF NOT EXISTS tombstones (
    slug TEXT PRIMARY KEY, title TEXT, deleted_at TEXT, reason TEXT
);
"""

#: PRAGMA user_version of the schema above; an index file of an older one is
#: emptied on opening (it is derived data) and filled again by the next sync
SCHEMA_VERSION = 3
_TABLES = (
    "facet_counts",
    "releases",
    "release_topics",
    "release_text",
    "release_text_keys",
    "tombstones",
    "topic_counts",
    "meta",
)

#: one topic's count and label again (from the index release_topics_labels)
TOPIC_RECOUNT = (
    "INSERT INTO topic_counts SELECT topic, MAX(label), COUNT(*) "
    "FROM release_topics WHERE topic = ? GROUP BY topic"
)

#: from this many stale releases on, a sync scans every release graph at once
FULL_SCAN_MIN = 500


@dataclass(frozen=True)
class SyncResult:
    data_version: str | None
    updated: int
    removed: int


class ListingIndex:
    """SQLite rows for listing; safe to share between threads of one process."""

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        #: where deep pages start, dropped at every change (index_pages)
        self._marks = Marks()
        with self._lock:
            self._db.executescript(SCHEMA_SQL + ORDER_INDEXES)
            (found,) = self._db.execute("PRAGMA user_version").fetchone()
            if found != SCHEMA_VERSION:
                for table in _TABLES:
                    self._db.execute(f"DELETE FROM {table}")  # noqa: S608
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @classmethod
    def for_settings(
        cls, settings: Settings, *, in_memory: bool = False
    ) -> ListingIndex:
        return cls(":memory:" if in_memory else settings.index_path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # Keeping up with the store ---------------------------------------------

    def data_version(self) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM meta WHERE key = 'data_version'"
            ).fetchone()
        return row[0] if row else None

    def ensure_current(self, store: Store, settings: Settings) -> SyncResult | None:
        """Sync if the store's data version moved; None when already current."""
        current = catalog.data_version(store, settings)
        if current is not None and current == self.data_version():
            return None
        return self.sync(store, settings, current)

    def rebuild(self, store: Store, settings: Settings) -> SyncResult:
        """Forget everything and read every release back from the store."""
        with self._transaction() as db:
            for table in _TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            self._marks.clear()
        return self.sync(store, settings)

    def sync(
        self, store: Store, settings: Settings, data_version: str | None = None
    ) -> SyncResult:
        """Bring rows in line with the store, release by release, by content hash."""
        return self.sync_known(store, settings, {}, data_version)

    def sync_known(
        self,
        store: Store,
        settings: Settings,
        known: Mapping[str, index_fields.Known],
        data_version: str | None = None,
    ) -> SyncResult:
        """sync, taking rows an import already has (index_fields.known_rows)."""
        # Read the data version first: a write during the sync moves it again, and the
        # next ensure_current re-syncs.
        if data_version is None:
            data_version = catalog.data_version(store, settings)
        hashes = catalog.release_versions(store, settings)
        with self._lock:
            indexed = dict(
                self._db.execute("SELECT slug, version FROM releases").fetchall()
            )
        stale = sorted(s for s, h in hashes.items() if indexed.get(s) != h[0])
        gone = sorted(set(indexed) - set(hashes))
        rows, unknown = index_fields.known_rows(stale, known, hashes)
        if len(unknown) >= FULL_SCAN_MIN:
            # Many releases: two scans of every release graph beat naming each graph.
            wanted = set(unknown)
            rows += [
                r for r in fetch_all(store, settings, hashes) if r[0].slug in wanted
            ]
        elif unknown:
            rows += fetch_some(store, settings, {s: hashes[s] for s in unknown})
        return self._write_rows(store, settings, data_version, stale, gone, rows)

    def sync_releases(
        self,
        store: Store,
        settings: Settings,
        previous: str | None,
        data_version: str | None,
        slugs: Sequence[str],
        known: Mapping[str, index_fields.Known] | None = None,
    ) -> SyncResult:
        """Follow a write this process made, which changed only ``slugs`` and moved
        the data version from ``previous`` to ``data_version``: those rows are
        taken from ``known`` where it has their version (the releases as the write
        wrote them) or re-read (the bulk queries asked of their graphs only),
        nothing else. If the index was not at ``previous``, it syncs in full."""
        at = self.data_version()
        if at is not None and at == data_version:  # already followed
            return SyncResult(data_version, 0, 0)
        if at != previous:
            return self.sync(store, settings, data_version)
        states = catalog.release_states(store, settings, slugs)
        hashes = {s: (st.content_hash, st.modified) for s, st in states.items()}
        rows, unknown = index_fields.known_rows(sorted(hashes), known or {}, hashes)
        rows += fetch_some(store, settings, {s: hashes[s] for s in unknown})
        gone = sorted(set(slugs) - set(hashes))
        return self._write_rows(
            store, settings, data_version, sorted(hashes), gone, rows
        )

    def _write_rows(
        self,
        store: Store,
        settings: Settings,
        data_version: str | None,
        stale: list[str],
        gone: list[str],
        rows: list[Fetched],
    ) -> SyncResult:
        stones = catalog.tombstones(store, settings)
        # a large sync counts every facet again; a small one adjusts its releases'
        recount = len(gone) + len(stale) >= FULL_SCAN_MIN
        with self._transaction() as db:
            self._marks.clear()
            touched: set[str] = set()  # topics whose counts change
            for slug in gone + stale:
                touched.update(forget_release(db, slug, count=not recount))
            for row, topics, keywords in rows:
                insert_release(db, row, topics, keywords, count=not recount)
                touched.update(t for t, _label in topics)
            if recount:
                recount_facets(db)
            else:
                db.execute("DELETE FROM facet_counts WHERE releases = 0")
            # Counts by topic are read on every page: kept, not a GROUP BY; only
            # the topics of the releases that changed are counted again.
            for topic in sorted(touched):
                db.execute("DELETE FROM topic_counts WHERE topic = ?", (topic,))
                db.execute(TOPIC_RECOUNT, (topic,))
            db.execute("DELETE FROM tombstones")
            db.executemany(
                "INSERT INTO tombstones VALUES (?,?,?,?)",
                [(t.slug, t.title, t.deleted_at, t.reason) for t in stones.values()],
            )
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('data_version', ?)",
                (data_version,),
            )
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('base_url', ?)",
                (settings.base_url,),
            )
        return SyncResult(data_version, len(stale), len(gone))

    # Queries ----------------------------------------------------------------

    @staticmethod
    def _row(r: sqlite3.Row) -> Row:
        return Row(
            slug=r["slug"],
            title=r["title"],
            summary=r["summary"],
            status=r["status"],
            release_date=r["release_date"],
            release_date_text=r["release_date_text"],
            provisional_date=r["provisional_date"],
            published_date=r["published_date"],
            designation=r["designation"],
            census=bool(r["census"]),
            modified=r["modified"],
            content_hash=r["version"],  # the column keeps its name
        )

    def _rows(self, sql: str, params: Sequence[object]) -> list[Row]:
        with self._lock:
            found = self._db.execute(sql, params).fetchall()
        return [self._row(r) for r in found]

    def _page(self, query: Query, limit: int, offset: int) -> list[Row]:
        """A page of a list in its order, by key from a mark when deep."""
        with self._lock:
            found = page_sql(self._db, self._marks, query, limit, offset)
        return [self._row(r) for r in found]

    def count(self) -> int:
        """Every release (kept in facet_counts: no walk of the table)."""
        with self._lock:
            (n,) = self._db.execute(
                "SELECT COALESCE(SUM(releases), 0) FROM facet_counts "
                "WHERE topic = '' AND designation = ''"
            ).fetchone()
        return int(n)

    def get(self, slug: str) -> Row | None:
        rows = self._rows("SELECT * FROM releases WHERE slug = ?", (slug,))
        return rows[0] if rows else None

    def latest_published(self, limit: int = 20) -> list[Row]:
        return self._rows(
            "SELECT * FROM releases WHERE status = 'published' "
            "ORDER BY published_date DESC, slug LIMIT ?",
            (limit,),
        )

    def upcoming(
        self, start: datetime, end: datetime, limit: int = 20, offset: int = 0
    ) -> list[Row]:
        """Upcoming releases with a date in [start, end), soonest first."""
        order = VIEWS["upcoming"]
        # the range on the view's own key: a seek in its index, then ``limit`` rows
        query = view_query(
            order,
            [f"{order.key} >= ?", f"{order.key} < ?"],
            [utc_text(start.isoformat()), utc_text(end.isoformat())],
        )
        return self._page(query, limit, offset)

    def count_by_topic(self) -> list[tuple[str, str, int]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT topic, label, releases FROM topic_counts ORDER BY label, topic"
            ).fetchall()
        return [(r[0], r[1], int(r[2])) for r in rows]

    def count_by_status(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT status, COUNT(*) FROM releases GROUP BY status ORDER BY status"
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    @staticmethod
    def _match(text: str) -> str | None:
        """An FTS5 query: every word must match; the last may be a prefix."""
        words = re.findall(r"\w+", text.lower())
        if not words:
            return None
        terms = [f'"{w}"' for w in words[:-1]]
        last = words[-1]
        terms.append(f'"{last}"*' if len(last) >= 3 else f'"{last}"')
        return " ".join(terms)

    def search(self, text: str, limit: int = 20, offset: int = 0) -> list[Row]:
        """Releases whose title, summary or keywords hold every word, newest first."""
        match = self._match(text)
        if match is None:
            return []
        return self._rows(
            "SELECT r.* FROM (SELECT slug, rowid AS k FROM release_text "
            "WHERE release_text MATCH ? ORDER BY rowid DESC LIMIT ? OFFSET ?) AS t "
            "JOIN releases r ON r.slug = t.slug ORDER BY t.k DESC",
            (match, limit, offset),
        )

    def search_count(self, text: str) -> int:
        match = self._match(text)
        if match is None:
            return 0
        with self._lock:
            return int(
                self._db.execute(
                    "SELECT COUNT(*) FROM release_text WHERE release_text MATCH ?",
                    (match,),
                ).fetchone()[0]
            )

    def _filters(
        self,
        topic: str | None,
        designation: str | None,
        start: datetime | None,
        end: datetime | None,
        text: str | None,
    ) -> tuple[list[str], list[object]]:
        filters: list[str] = []
        params: list[object] = []
        if topic:
            # a lookup per row walked in the view's order (a page reads a few
            # hundred), not a set of every release of the topic built each time
            filters.append(
                "EXISTS (SELECT 1 FROM release_topics t "
                "WHERE t.slug = releases.slug AND t.topic = ?)"
            )
            params.append(topic)
        if designation:
            filters.append("designation = ?")
            params.append(designation)
        # the dates as the "all" view's key (NULL as ''), as its indexes hold them
        if start is not None:
            filters.append("COALESCE(release_date, '') >= ?")
            params.append(utc_text(start.isoformat()))
        if end is not None:
            filters.append(
                "COALESCE(release_date, '') > '' AND COALESCE(release_date, '') < ?"
            )
            params.append(utc_text(end.isoformat()))
        if text:
            match = self._match(text)
            if match is None:
                filters.append("0 = 1")
            else:
                # the matches' rowids (FTS5 reads only its index), then their slugs
                filters.append(
                    "slug IN (SELECT slug FROM release_text_keys WHERE text_rowid IN "
                    "(SELECT rowid FROM release_text WHERE release_text MATCH ?))"
                )
                params.append(match)
        return filters, params

    def listing(
        self,
        view: str,
        *,
        topic: str | None = None,
        designation: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        text: str | None = None,
        limit: int = 20,
        offset: int = 0,
        now: datetime | None = None,
    ) -> tuple[list[Row], int, dict[str, int]]:
        """The calendar: one view's page of rows, its total, and every view's count
        under the same filters."""
        filters, params = self._filters(topic, designation, start, end, text)
        kept = start is None and end is None and not text
        name = view if view in VIEWS else "upcoming"
        order = VIEWS[name]
        with self._lock:
            counts = view_counts(
                self._db, topic, designation, filters, params, kept=kept
            )
        if offset >= counts[name]:
            return [], counts[name], counts  # past the end: nothing to walk
        seek, more = date_seek(order, start, end)
        query = view_query(order, [*filters, *seek], [*params, *more])
        return self._page(query, limit, offset), counts[name], counts

    def recently_changed(self, limit: int = 50, topic: str | None = None) -> list[Row]:
        """Releases by last modification, newest first (for the Atom feed)."""
        filters, params = self._filters(topic, None, None, None, None)
        return self._page(view_query(BY_CHANGE, filters, params), limit, 0)

    def page_by_slug(self, limit: int, offset: int) -> list[Row]:
        return self._page(view_query(BY_SLUG, [], []), limit, offset)

    def slugs_modified(
        self, limit: int, offset: int, columns: str = "slug, modified"
    ) -> list[sqlite3.Row]:
        """``columns`` of releases ``offset`` on by slug: a sitemap's part, a page
        of the catalogue (no Row made of each: 1,000 at once)."""
        slugs = view_query(BY_SLUG, [], [])
        with self._lock:
            return page_sql(self._db, self._marks, slugs, limit, offset, columns)

    def all_rows(self) -> list[Row]:
        return self._rows("SELECT * FROM releases ORDER BY slug", ())

    def tombstone(self, slug: str) -> catalog.Tombstone | None:
        with self._lock:
            row = self._db.execute(
                "SELECT slug, title, deleted_at, reason FROM tombstones WHERE slug = ?",
                (slug,),
            ).fetchone()
        return catalog.Tombstone(row[0], row[1], row[2], row[3]) if row else None
