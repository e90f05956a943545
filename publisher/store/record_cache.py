"""Each live release's API record, kept by its version, beside the listing index.

Reading a release back from an embedded store on disk costs milliseconds (every
long term of its graph is a lookup of its own: about 14 microseconds a triple,
some 2 ms for a release's graph, and as much again to read it into a Release).
A batch of 100 releases read each one back for the calendar's rules, and a page
of ``/api/releases`` read 20 (issue 12). So the record of each release, as
:mod:`publisher.readback` reads it from its stored graph, and that graph's
N-Triples as the mapping writes them (a write changes only the lines that
differ), are kept here, keyed by the release's slug and content hash (its
version, in the catalogue record): an entry is used only while the catalogue
says that version is current, so it can be stale but never wrong. Writes
through the API put what they publish; a read that found nothing puts what it
read back.

The file sits beside the listing index (``<index>.records``; in memory with an
in-memory index) and is derived data: deleting it only makes reads slower until
it fills again. Several worker processes share it (SQLite's locking; writes are
small and rare).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from publisher.errors import StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    slug TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    record BLOB NOT NULL,
    graph BLOB
);
"""
#: PRAGMA user_version of the table above
SCHEMA_VERSION = 1
#: a kept record and its graph's N-Triples (None when not kept)
Kept = tuple[dict[str, Any], str | None]
#: what is kept of a release: slug, version, record, graph
Entry = tuple[str, str, dict[str, Any], str | None]
#: SQLite's limit on the parameters of one statement is 999 in older builds
_CHUNK = 500


class RecordCache:
    """slug -> (content hash, API record); safe to share between threads."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=10
            )
            if path != ":memory:":
                # readers in other workers never wait for a writer
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            (found,) = self._db.execute("PRAGMA user_version").fetchone()
            if found != SCHEMA_VERSION:  # derived data: an older file starts again
                self._db.execute("DROP TABLE IF EXISTS records")
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the record cache at {path}: {exc}") from None
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, index_path: str) -> RecordCache:
        """The cache of the listing index at ``index_path``."""
        return cls(":memory:" if index_path == ":memory:" else index_path + ".records")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get_many(self, versions: Mapping[str, str]) -> dict[str, dict[str, Any]]:
        """The records of the slugs of ``versions`` kept at exactly that version."""
        return {s: r for s, (r, _) in self._get(versions, "NULL").items()}

    def get_with_graphs(self, versions: Mapping[str, str]) -> dict[str, Kept]:
        """The records kept at exactly the versions asked, with their graphs'
        N-Triples where kept."""
        return self._get(versions, "graph")

    def _get(self, versions: Mapping[str, str], graph: str) -> dict[str, Kept]:
        slugs = list(versions)
        found: dict[str, Kept] = {}
        for start in range(0, len(slugs), _CHUNK):
            part = slugs[start : start + _CHUNK]
            marks = ",".join("?" * len(part))
            try:
                with self._lock:
                    rows = self._db.execute(
                        f"SELECT slug, version, record, {graph} "  # noqa: S608
                        f"FROM records WHERE slug IN ({marks})",
                        part,
                    ).fetchall()
            except sqlite3.Error:
                return found  # a cache that cannot answer is a cache miss
            for slug, version, blob, text in rows:
                if versions.get(slug) == version:
                    found[slug] = (
                        json.loads(zlib.decompress(blob)),
                        zlib.decompress(text).decode("utf-8") if text else None,
                    )
        return found

    def put_many(self, entries: Iterable[Entry]) -> None:
        """Keep ``(slug, version, record, graph)`` entries (``graph``: the
        N-Triples the version is the hash of, or None), replacing older ones."""
        rows = [
            (slug, version, _pack(record), _zip(graph))
            for slug, version, record, graph in entries
        ]
        if not rows:
            return
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)", rows
                    )
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
        except sqlite3.Error:
            return  # derived data: a write that fails costs a later read its speed

    def forget(self, slugs: Sequence[str]) -> None:
        """Drop the entries of ``slugs`` (a deleted or renamed release)."""
        if not slugs:
            return
        try:
            with self._lock:
                self._db.executemany(
                    "DELETE FROM records WHERE slug = ?", [(s,) for s in slugs]
                )
        except sqlite3.Error:
            return


def _pack(record: dict[str, Any]) -> bytes:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(text.encode("utf-8"), 1)


def _zip(text: str | None) -> bytes | None:
    return zlib.compress(text.encode("utf-8"), 1) if text else None
