"""The embedded store shared by several worker processes: one writes, the rest follow.

RocksDB lets one process open the store for writing (publisher.store.oxigraph's
lock). With ``publisher serve --workers N`` that process is the *writer*; after
every change of the data version it publishes a checkpoint of the store (hard
links, milliseconds) in the workers' folder, ``<store>.workers/v-<version>``, and
then points ``current`` at it (a small JSON file replaced atomically). The other
workers, *followers*, open the current checkpoint read-only
(:class:`CheckpointStore`), look at ``current`` a few times a second and reopen
when it moved; their SPARQL readers query the same checkpoint.

The listing index is one SQLite file that only the writer writes. A follower sees
it through :class:`FollowerIndex`, which never syncs and whose data version is the
one of the follower's checkpoint: answers cached under a version are computed over
that version (its rows may be a few milliseconds newer, never older: the writer
brings the index up to a version before it publishes that version's checkpoint).

A checkpoint that is no longer current is removed once it has been replaced for
``grace`` seconds (longer than a request or a query may run, so nobody still
reads it); the decision needs no state (the folder's modification times), so a
restarted writer tidies up after a killed one.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import BinaryIO

from publisher.errors import StoreError
from publisher.store import Answer, QueryJob
from publisher.store.index import ListingIndex, SyncResult
from publisher.store.oxigraph import EmbeddedStore

POINTER = "current"
_PREFIX = "v-"
_WORKERS = ".workers"


def workers_folder(store_path: str) -> Path:
    """Where the writer publishes checkpoints for the other workers."""
    return Path(str(store_path).rstrip("/") + _WORKERS)


def _name(version: str | None) -> str:
    text = version or "empty"
    return _PREFIX + "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


class CheckpointPublisher:
    """The writer's side: a checkpoint per data version, ``current`` naming it."""

    def __init__(self, store: EmbeddedStore, folder: Path, grace: float) -> None:
        self.store = store
        self.folder = folder
        self.grace = grace
        self.version: str | None = None
        self.published = False
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)

    def publish(self, version: str | None) -> bool:
        """Make ``version``'s checkpoint current (if it is not already); True when
        a new one was published."""
        with self._lock:
            if self.published and version == self.version:
                return False
            target = self.folder / _name(version)
            if not target.is_dir():
                staging = self.folder / f"tmp-{uuid.uuid4().hex}"
                try:
                    self.store.store.backup(str(staging))
                    staging.rename(target)
                except OSError as exc:
                    shutil.rmtree(staging, ignore_errors=True)
                    if not target.is_dir():
                        raise StoreError(
                            f"cannot make a checkpoint in {self.folder}: {exc}"
                        ) from None
            os.utime(target)  # its time is the time it became current
            pointer = self.folder / f"{POINTER}.{uuid.uuid4().hex}"
            pointer.write_text(
                json.dumps({"version": version, "path": str(target)}), "utf-8"
            )
            os.replace(pointer, self.folder / POINTER)
            self.version, self.published = version, True
        self.prune()
        return True

    def prune(self, now: float | None = None) -> list[str]:
        """Remove the checkpoints replaced more than ``grace`` seconds ago and any
        unfinished one; the names removed."""
        now = time.time() if now is None else now
        current = read_pointer(self.folder)
        keep = Path(current["path"]).name if current else None
        found = []
        for entry in self.folder.iterdir():
            if entry.name.startswith("tmp-") and now - _mtime(entry) > self.grace:
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.name.startswith(_PREFIX) and entry.is_dir():
                found.append((_mtime(entry), entry))
        found.sort()
        removed = []
        # each checkpoint was replaced when the next one (by time) became current
        for (_, entry), (replaced, _) in itertools.pairwise(found):
            if entry.name != keep and now - replaced > self.grace:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
        return removed


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def read_pointer(folder: Path) -> dict[str, str] | None:
    """What ``current`` names: ``{"version": ..., "path": ...}``, or None."""
    try:
        found = json.loads((folder / POINTER).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and "path" in found else None


class CheckpointStore:
    """A follower's store: the writer's current checkpoint, read-only.

    Reads go to the checkpoint opened last; :meth:`follow` opens the next one
    when ``current`` names another. A request that is running keeps the
    checkpoint it started with (the old store closes when its last user is done).
    Writes are refused: a follower hands them to the writer (publisher.server).
    """

    path: str | None = None  # not a store of its own: SPARQL checkpoints are ours

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.location = f"checkpoint of the embedded store in {folder}"
        #: the writer's folder for its SPARQL readers (``<store>.readers``): a
        #: follower's readers are counted there too, so the concurrency cap and
        #: each client's share are the whole server's, not this worker's
        name = folder.name.removesuffix(_WORKERS) + ".readers"
        self.readers_folder = str(folder.with_name(name))
        self._lock = threading.Lock()
        self._current: tuple[str, EmbeddedStore] | None = None
        self.version: str | None = None
        self._seen: tuple[int, int] | None = None
        if not self.follow():
            raise StoreError(f"no checkpoint has been published in {folder} yet")

    def follow(self) -> bool:
        """Open the checkpoint ``current`` names, if it is another; True if it
        moved. A checkpoint that cannot be opened yet is tried again next time."""
        try:
            stat = (self.folder / POINTER).stat()
        except OSError:
            return False
        seen = (stat.st_ino, stat.st_mtime_ns)
        if seen == self._seen:
            return False
        pointer = read_pointer(self.folder)
        if pointer is None:
            return False
        if self._current is not None and self._current[0] == pointer["path"]:
            self._seen = seen
            return False
        opened = EmbeddedStore.read_only(pointer["path"])
        with self._lock:
            self._current = (pointer["path"], opened)
            self.version = pointer.get("version")
            self._seen = seen
        return True

    @property
    def checkpoint(self) -> EmbeddedStore:
        current = self._current
        if current is None:
            raise StoreError(f"the {self.location} is closed")
        return current[1]

    def select(self, query: str) -> list[dict[str, str]]:
        return self.checkpoint.select(query)

    def update(self, update: str) -> None:
        raise StoreError(
            f"the {self.location} is read-only; writes go to the writer process"
        )

    def graph_ntriples(self, graph: str) -> str:
        return self.checkpoint.graph_ntriples(graph)

    def query_results(self, query: str, fmt: str) -> tuple[str, bytes]:
        return self.checkpoint.query_results(query, fmt)

    def run_query(self, job: QueryJob) -> Answer:
        return self.checkpoint.run_query(job)

    def reader_source(self, folder: str) -> dict[str, str]:
        """The checkpoint itself: readers open it read-only, as this process does."""
        current = self._current
        if current is None:
            raise StoreError(f"the {self.location} is closed")
        return {"kind": "checkpoint", "path": current[0]}

    def dump(self, out: BinaryIO, fmt: str) -> None:
        self.checkpoint.dump(out, fmt)

    def load_dump(self, path: str, fmt: str) -> None:
        self.update(f"LOAD <file:{path}>")  # refused: read-only

    def count_quads(self) -> int:
        return self.checkpoint.count_quads()

    def close(self) -> None:
        with self._lock:
            current, self._current = self._current, None
        if current is not None:
            current[1].close()


class FollowerIndex(ListingIndex):
    """The writer's listing index as a follower reads it: never synced here, at
    the version of the follower's checkpoint."""

    def __init__(self, path: str, store: CheckpointStore) -> None:
        super().__init__(path)
        self._store = store

    def data_version(self) -> str | None:
        return self._store.version

    def stored_version(self) -> str | None:
        """The version the writer last brought the index to."""
        return super().data_version()

    def ensure_current(self, store: object, settings: object) -> SyncResult | None:
        return None

    def sync(
        self, store: object, settings: object, data_version: str | None = None
    ) -> SyncResult:
        return SyncResult(self.data_version(), 0, 0)

    def sync_releases(
        self,
        store: object,
        settings: object,
        previous: str | None,
        data_version: str | None,
        slugs: object,
        known: object = None,
    ) -> SyncResult:
        return SyncResult(self.data_version(), 0, 0)

    def rebuild(self, store: object, settings: object) -> SyncResult:
        return SyncResult(self.data_version(), 0, 0)
