"""Which releases each write changed, shared by the worker processes of one server.

A worker that finds the data version moved by another worker (a follower opening
the writer's new checkpoint, or a worker over a remote store seeing another's
write) would otherwise forget every rendering it keeps, since it cannot tell what
the write changed: on release day, every page that did not change would be
rendered again while readers wait. The worker that wrote records here the
releases its write changed, by (previous version, new version); the others read
the steps from the version they hold to the one they find, and forget only what
those releases show. A step not recorded (a SPARQL Update, another node, a tool
writing to the store) means everything is forgotten, as before.

A small SQLite file beside the listing index, written in autocommit; the last
``KEPT`` steps are kept.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence

#: steps kept (a follower further behind forgets everything)
KEPT = 500
#: most steps followed from one version to another
FOLLOWED = 50


class ChangeLog:
    """Steps from one data version to the next, with the releases they changed."""

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=5)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS steps (n INTEGER PRIMARY KEY, "
            "previous TEXT, version TEXT NOT NULL, slugs TEXT NOT NULL)"
        )
        self._db.commit()

    def record(
        self, previous: str | None, version: str | None, slugs: Sequence[str]
    ) -> None:
        """A write moved the data version from ``previous`` to ``version``,
        changing only ``slugs``."""
        if version is None or previous == version:
            return
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO steps (previous, version, slugs) VALUES (?, ?, ?)",
                (previous, version, json.dumps(sorted(set(slugs)))),
            )
            self._db.execute(
                "DELETE FROM steps WHERE n <= (SELECT MAX(n) FROM steps) - ?", (KEPT,)
            )

    def between(self, previous: str | None, version: str | None) -> set[str] | None:
        """The releases changed on the way from ``previous`` to ``version``, or
        None when a step is not recorded (then anything may have changed)."""
        if previous is None or version is None:
            return None
        with self._lock:
            rows = self._db.execute(
                "SELECT previous, version, slugs FROM steps ORDER BY n DESC LIMIT ?",
                (KEPT,),
            ).fetchall()
        by_version = {row[1]: (row[0], row[2]) for row in reversed(rows)}
        changed: set[str] = set()
        at = version
        for _ in range(FOLLOWED):
            if at == previous:
                return changed
            step = by_version.get(at)
            if step is None:
                return None
            at = step[0]
            changed.update(json.loads(step[1]))
        return None

    def close(self) -> None:
        with self._lock:
            self._db.close()
