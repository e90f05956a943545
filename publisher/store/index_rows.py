"""The listing index's rows of one release, written and deleted inside a sync's
transaction (publisher.store.index): its row, its topics, its text for search and
its part of the facet counts."""

from __future__ import annotations

import sqlite3
import zlib
from datetime import datetime

from publisher.store.index_fields import Row
from publisher.store.index_pages import count_facets, facet_keys


def forget_release(db: sqlite3.Connection, slug: str, *, count: bool) -> list[str]:
    """Delete a release's rows (and, with ``count``, its facet counts); its
    topics."""
    topics = [
        t
        for (t,) in db.execute(
            "SELECT topic FROM release_topics WHERE slug = ?", (slug,)
        )
    ]
    old = db.execute(
        "SELECT status, designation FROM releases WHERE slug = ?", (slug,)
    ).fetchone()
    if old is not None and count:
        count_facets(db, facet_keys(old[0], old[1], topics), -1)
    db.execute("DELETE FROM releases WHERE slug = ?", (slug,))
    db.execute("DELETE FROM release_topics WHERE slug = ?", (slug,))
    db.execute(
        "DELETE FROM release_text WHERE rowid IN (SELECT text_rowid FROM "
        "release_text_keys WHERE slug = ?)",
        (slug,),
    )
    db.execute("DELETE FROM release_text_keys WHERE slug = ?", (slug,))
    return topics


def insert_release(
    db: sqlite3.Connection,
    row: Row,
    topics: list[tuple[str, str]],
    keywords: str,
    *,
    count: bool,
) -> None:
    db.execute(
        "INSERT INTO releases VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            row.slug,
            row.content_hash,
            row.modified,
            row.title,
            row.summary,
            row.status,
            row.release_date,
            row.release_date_text,
            row.provisional_date,
            row.published_date,
            row.designation,
            int(row.census),
            keywords,
        ),
    )
    db.executemany(
        "INSERT OR REPLACE INTO release_topics VALUES (?,?,?)",
        [(row.slug, t, label) for t, label in topics],
    )
    _insert_text(db, row, keywords)
    if count:
        names = [t for t, _label in topics]
        count_facets(db, facet_keys(row.status, row.designation, names), 1)


def _insert_text(db: sqlite3.Connection, row: Row, keywords: str) -> None:
    when = row.release_date or row.published_date
    seconds = 0
    if when:
        seconds = max(
            0, int(datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp())
        )
    key = seconds * 1_000_000 + zlib.crc32(row.slug.encode()) % 1_000_000
    while True:
        try:
            db.execute(
                "INSERT INTO release_text(rowid, slug, title, summary, keywords) "
                "VALUES (?,?,?,?,?)",
                (key, row.slug, row.title or "", row.summary or "", keywords),
            )
            db.execute(
                "INSERT OR REPLACE INTO release_text_keys VALUES (?, ?)",
                (row.slug, key),
            )
            return
        except sqlite3.IntegrityError:
            key += 1  # another release at the same second with the same tie-break
