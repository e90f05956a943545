"""Releases scheduled for publication, held under embargo outside the store.

A publisher may send the published version of a release ahead of its publication
minute (docs/api.md, "Embargo"). Until then nothing of it may be visible anywhere:
pages, JSON-LD, cards, SPARQL, feeds, sitemaps and dumps are all made from the
store, so it waits here instead, in a small SQLite file next to the store
(setting ``schedule``), which survives a restart. At the minute, the server's
scheduler (publisher.scheduler) publishes it through the normal path.

The next publication time is held in memory (every response's ``max-age`` is cut
to it), read again from the file whenever this object changes the schedule; one
process writes the schedule.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from publisher.config import Settings
from publisher.errors import StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scheduled (
    slug TEXT PRIMARY KEY,
    publish_at TEXT NOT NULL,     -- UTC, ISO 8601
    record TEXT NOT NULL,         -- the native JSON record
    agent TEXT NOT NULL,          -- the token that scheduled it
    scheduled_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scheduled_at ON scheduled (publish_at);
"""


@dataclass(frozen=True)
class Scheduled:
    slug: str
    publish_at: datetime
    record: dict[str, Any]
    agent: str
    scheduled_at: datetime


class ScheduleStore:
    """The scheduled releases, by slug (one pending version per release)."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False)
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the schedule at {path}: {exc}") from None
        self._lock = threading.Lock()
        with self._lock:
            self._next = self._query_next()

    @classmethod
    def for_settings(cls, settings: Settings) -> ScheduleStore:
        return cls(settings.schedule_path)

    def put(
        self, slug: str, publish_at: datetime, record: dict[str, Any], agent: str
    ) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO scheduled VALUES (?, ?, ?, ?, ?)",
                (
                    slug,
                    _utc(publish_at),
                    json.dumps(record, ensure_ascii=False),
                    agent,
                    _utc(datetime.now(UTC)),
                ),
            )
            self._next = self._query_next()

    def get(self, slug: str) -> Scheduled | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM scheduled WHERE slug = ?", (slug,)
            ).fetchone()
        return _entry(row) if row else None

    def remove(self, slug: str) -> bool:
        return self.remove_many([slug]) > 0

    def remove_many(self, slugs: Iterable[str]) -> int:
        """Remove these entries in one transaction; how many there were."""
        wanted = [(slug,) for slug in dict.fromkeys(slugs)]
        if not wanted:
            return 0
        with self._lock, self._db:
            before = self._db.total_changes
            self._db.executemany("DELETE FROM scheduled WHERE slug = ?", wanted)
            removed = self._db.total_changes - before
            if removed:
                self._next = self._query_next()
        return removed

    def due(self, moment: datetime) -> list[Scheduled]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM scheduled WHERE publish_at <= ? ORDER BY publish_at",
                (_utc(moment),),
            ).fetchall()
        return [_entry(r) for r in rows]

    def next_time(self) -> datetime | None:
        """The earliest publication time scheduled (held in memory, no query)."""
        return self._next

    def reread(self) -> datetime | None:
        """The earliest publication time, read again from the file (other
        processes may have scheduled since: several workers over a remote
        store share the schedule)."""
        with self._lock:
            self._next = self._query_next()
            return self._next

    def _query_next(self) -> datetime | None:
        row = self._db.execute("SELECT MIN(publish_at) FROM scheduled").fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def all(self) -> list[Scheduled]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM scheduled ORDER BY publish_at"
            ).fetchall()
        return [_entry(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _entry(row: tuple[Any, ...]) -> Scheduled:
    slug, at, record, agent, when = row
    return Scheduled(
        slug,
        datetime.fromisoformat(at),
        json.loads(record),
        agent,
        datetime.fromisoformat(when),
    )
