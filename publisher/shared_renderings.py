"""Renderings shared by the worker processes of one server, at one data version.

Each worker keeps its renderings in its own memory (publisher.renderings), so
without this a release page would be made once per worker: after a publish, or
when a crawler walks the calendar, every worker makes the same page again, and
which one a connection reaches is the kernel's choice. A worker that makes a
release's rendering also puts it here, under the data version it made it at; a
worker that misses it in memory looks here before making it. A data version
names one state of the store, so what one worker made at a version is what any
other would make at it; a rendering whose clock-dependent text has gone stale
(``expires``) is not taken.

A small SQLite file beside the listing index (WAL, each put its own short
transaction, best effort: a busy file means the worker makes the page itself).
It holds at most the last ``ENTRIES`` renderings put (those of earlier data
versions are never read again, and go first); ``publisher serve`` removes it
when it starts, so nothing made by another version of the code is ever served.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Hashable
from datetime import datetime

from publisher.renderings import Rendering

#: renderings kept in the file (a release page and its gzip copy: about 25 KB)
ENTRIES = 10_000


class SharedRenderings:
    """Renderings by (data version, key), for every worker of a server."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=0.2)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")  # a cache: lost on a crash is fine
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS kept (version TEXT NOT NULL, key TEXT NOT "
            "NULL, meta TEXT NOT NULL, body BLOB NOT NULL, gz BLOB, "
            "PRIMARY KEY (version, key))"
        )
        self._db.commit()
        self.taken = 0

    @staticmethod
    def remove(path: str) -> None:
        """Forget every shared rendering (the server starts)."""
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path + suffix)

    def get(self, version: str, key: Hashable, now: datetime) -> Rendering | None:
        try:
            with self._lock:
                row = self._db.execute(
                    "SELECT meta, body, gz FROM kept WHERE version = ? AND key = ?",
                    (version, _name(key)),
                ).fetchone()
        except sqlite3.Error:
            return None
        if row is None:
            return None
        made = _rendering(row[0], row[1], row[2])
        if not made.fresh(now):
            return None
        self.taken += 1
        return made

    def put(self, version: str, key: Hashable, made: Rendering) -> None:
        try:
            with self._lock, self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO kept VALUES (?, ?, ?, ?, ?)",
                    (version, _name(key), _meta(made), made.body, made.gzipped),
                )
                self._db.execute(
                    "DELETE FROM kept WHERE rowid <= (SELECT MAX(rowid) FROM kept) - ?",
                    (ENTRIES,),
                )
        except sqlite3.Error:
            return  # busy or full: this worker keeps its own copy all the same

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _name(key: Hashable) -> str:
    return json.dumps(key if isinstance(key, str) else list(key))  # type: ignore[call-overload]


def _meta(made: Rendering) -> str:
    return json.dumps(
        {
            "type": made.content_type,
            "etag": made.etag,
            "modified": made.last_modified.isoformat() if made.last_modified else None,
            "tags": sorted(made.tags),
            "expires": made.expires.isoformat() if made.expires else None,
            "headers": [list(h) for h in made.headers],
        }
    )


def _rendering(meta: str, body: bytes, gz: bytes | None) -> Rendering:
    data = json.loads(meta)
    return Rendering(
        body=bytes(body),
        content_type=data["type"],
        etag=data["etag"],
        last_modified=_moment(data["modified"]),
        tags=frozenset(data["tags"]),
        expires=_moment(data["expires"]),
        gzipped=bytes(gz) if gz is not None else None,
        headers=tuple((str(k), str(v)) for k, v in data["headers"]),
    )


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
