"""The embedded store: pyoxigraph on disk (the default) or in memory (tests).

Only one process may open an on-disk store for writing. A lock file next to it,
``<path>.lock``, says which process holds it, so a second process gets a clear
message (which path, which process, what to do) instead of RocksDB's "Resource
temporarily unavailable", and the store is never opened twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import queue
import shutil
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

import pyoxigraph as ox

from publisher.errors import StoreError, StoreLockedError, StoreRefusedError
from publisher.formats import DUMP, names
from publisher.lines import sorted_lines
from publisher.store import Answer, QueryJob
from publisher.store.results import (
    GRAPH_TYPES,
    RESULT_TYPES,
    boolean_answer,
    rdf_format,
    solutions_answer,
    triples_answer,
)

_DUMPS = {name: rdf_format(name) for name in names(DUMP)}


def _value(term: Any) -> str:
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term.value)


class EmbeddedStore:
    """pyoxigraph behind the Store protocol."""

    def __init__(self, store: ox.Store, location: str, lock: IO[str] | None) -> None:
        self._store: ox.Store | None = store
        self.location = location
        self._lock = lock
        self.path: str | None = None
        self._read_only = False

    @classmethod
    def in_memory(cls) -> EmbeddedStore:
        return cls(ox.Store(), "in-memory embedded store", None)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> EmbeddedStore:
        """Open (creating if needed) the store at ``path`` for this process only."""
        target = Path(path)
        location = f"embedded store at {target}"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            lock = open(f"{target}.lock", "a+", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise StoreError(f"cannot open {location}: {exc.strerror}") from None
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = _describe_holder(lock.read())
            lock.close()
            raise StoreLockedError(
                f"the {location} is in use by {holder}. Only one process may open "
                "it: if that is a server, publish through the server; otherwise "
                "wait for it to finish, or stop it first."
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:]),
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
        )
        lock.flush()
        try:
            _finish_swap(target)
            store = ox.Store(str(target))
        except OSError as exc:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
            lock.close()
            if "lock" in str(exc).lower():
                raise StoreLockedError(
                    f"the {location} is in use by another process that did not "
                    "leave its name; only one process may open it"
                ) from None
            raise StoreError(f"cannot open {location}: {exc}") from None
        opened = cls(store, location, lock)
        opened.path = str(target)
        return opened

    @classmethod
    def read_only(cls, path: str) -> EmbeddedStore:
        """A checkpoint (see :meth:`reader_source`) opened by a reader process."""
        try:
            store = ox.Store.read_only(path)
        except OSError as exc:
            raise StoreError(f"cannot open the checkpoint at {path}: {exc}") from None
        opened = cls(store, f"checkpoint at {path}", None)
        opened._read_only = True
        return opened

    @classmethod
    def from_nquads(cls, path: str) -> EmbeddedStore:
        """An in-memory copy of an in-memory store, loaded by a reader process."""
        opened = cls.in_memory()
        opened.load_dump(path, "nquads")
        return opened

    @property
    def store(self) -> ox.Store:
        if self._store is None:
            raise StoreError(f"the {self.location} is closed")
        return self._store

    def select(self, query: str) -> list[dict[str, str]]:
        try:
            results = self.store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise StoreRefusedError(f"bad SPARQL query: {exc}") from None
        if not isinstance(results, ox.QuerySolutions):
            raise StoreRefusedError("expected a SELECT query")
        names = [v.value for v in results.variables]
        rows: list[dict[str, str]] = []
        for solution in results:
            row = {}
            for name in names:
                term = solution[name]
                if term is not None:
                    row[name] = _value(term)
            rows.append(row)
        return rows

    def update(self, update: str) -> None:
        try:
            self.store.update(update)
        except SyntaxError as exc:
            raise StoreRefusedError(f"bad SPARQL update: {exc}") from None
        except OSError as exc:
            raise StoreError(f"{self.location} could not write: {exc}") from None

    def graph_ntriples(self, graph: str) -> str:
        # dumped natively: no Python object per quad
        data = self.store.dump(
            format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph)
        )
        text = data.decode("utf-8") if isinstance(data, bytes) else ""
        return sorted_lines(text)

    def query_results(self, query: str, fmt: str) -> tuple[str, bytes]:
        try:
            results = self.store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise StoreRefusedError(f"bad SPARQL query: {exc}") from None
        if isinstance(results, ox.QuerySolutions | ox.QueryBoolean):
            kind = "select" if isinstance(results, ox.QuerySolutions) else "ask"
            if fmt not in RESULT_TYPES:
                raise StoreRefusedError(
                    f"{kind.upper()} results cannot be written as {fmt}"
                )
            return kind, bytes(results.serialize(format=RESULT_TYPES[fmt]) or b"")
        if fmt not in GRAPH_TYPES or fmt in ("nquads", "jsonld"):
            raise StoreRefusedError(f"graph results cannot be written as {fmt}")
        return "graph", bytes(results.serialize(format=GRAPH_TYPES[fmt]) or b"")

    def run_query(self, job: QueryJob) -> Answer:
        options: dict[str, Any] = {}
        if job.default_graphs is not None or job.named_graphs is not None:
            options["default_graph"] = [
                ox.NamedNode(g) for g in job.default_graphs or ()
            ]
            options["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs or ()]
        elif not job.has_dataset:
            # (pyoxigraph lets the union flag win over the query's FROM clauses)
            options["use_default_graph_as_union"] = True
        try:
            results = self.store.query(job.query, **options)
            if isinstance(results, ox.QuerySolutions):
                return solutions_answer(results, job.max_rows)
            if isinstance(results, ox.QueryBoolean):
                return boolean_answer(results)
            return triples_answer(results, job.max_rows)
        except SyntaxError as exc:
            raise StoreRefusedError(f"bad SPARQL query: {exc}") from None
        except (OSError, ValueError) as exc:
            raise StoreError(f"the query failed: {exc}") from None

    def reader_source(self, folder: str) -> dict[str, str]:
        target = Path(folder)
        try:
            if self.path is None:
                target.mkdir(parents=True, exist_ok=True)
                copy = target / "store.nq"
                with copy.open("wb") as out:
                    self.dump(out, "nquads")
                return {"kind": "nquads", "path": str(copy)}
            target.parent.mkdir(parents=True, exist_ok=True)
            self.store.backup(str(target))
        except OSError as exc:
            raise StoreError(f"cannot make a checkpoint in {folder}: {exc}") from None
        return {"kind": "checkpoint", "path": str(target)}

    def dump(self, out: BinaryIO, fmt: str) -> None:
        self.store.dump(out, _DUMPS[fmt])

    def load_dump(self, path: str, fmt: str) -> None:
        try:
            self.store.bulk_load(path=path, format=_DUMPS[fmt])
            self.store.flush()
        except SyntaxError as exc:
            raise StoreError(f"{path} is not valid {fmt}: {exc}") from None
        except OSError as exc:
            raise StoreError(f"cannot load {path}: {exc}") from None

    def bulk_replace_empty(self, nquads_path: str) -> None:
        """Load a big first batch with pyoxigraph's bulk loader, all or nothing.

        The bulk loader is 5x faster than one transaction but not atomic, so on
        disk it fills a new store in a staging folder and swaps it in with two
        renames; readers (this process only: it holds the lock) see the empty
        store or the whole batch. In memory there is nobody else to see it.
        """
        if self.path is None:
            self.load_dump(nquads_path, "nquads")
            return
        target = Path(self.path)
        staging = target.with_name(target.name + ".staging")
        old = target.with_name(target.name + ".old")
        for leftover in (staging, old):
            shutil.rmtree(leftover, ignore_errors=True)
        try:
            fresh = ox.Store(str(staging))
            fresh.bulk_load(path=nquads_path, format=ox.RdfFormat.N_QUADS)
            fresh.flush()
            del fresh
        except (OSError, SyntaxError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(f"bulk load into {self.location} failed: {exc}") from None
        self._swap_in(target, staging)

    def streamed_load(self) -> StreamedLoad | None:
        """A bulk load into this store, empty and on disk, that starts now and is
        fed as its quads are made (:class:`StreamedLoad`): nothing is visible
        until it is committed, and an abandoned one leaves the store as it was.
        None when the store holds anything (a look at one quad, not a count)."""
        if self.path is None:
            raise StoreError(f"the {self.location} has no folder to stage in")
        if next(iter(self.store.quads_for_pattern(None, None, None)), None):
            return None
        target = Path(self.path)
        staging = target.with_name(target.name + ".staging")
        for leftover in (staging, target.with_name(target.name + ".old")):
            shutil.rmtree(leftover, ignore_errors=True)
        try:
            fresh = ox.Store(str(staging))
        except OSError as exc:
            raise StoreError(f"cannot stage a load of {self.location}: {exc}") from None
        return StreamedLoad(self, fresh, target, staging)

    def bulk_replace_staged(
        self,
        deletes: list[str],
        nquads_path: str,
        graphs: Sequence[str] = (),
        subjects: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Apply a big publish to a store on disk, all or nothing, without one
        huge transaction (RocksDB keeps a transaction's writes in memory).

        A checkpoint of the store (hard links) is made in a staging folder;
        there the named ``graphs`` are removed and so is every quad of each
        ``(subject, graph)`` of ``subjects``, natively (a SPARQL DELETE per
        release was most of a re-import's time: its reads slow down as its
        transaction grows); the ``deletes`` (SPARQL Updates) run one by one, the
        quads of ``nquads_path`` go in through the bulk loader, and the copy is
        swapped in with two renames. A crash before the swap leaves the store as
        it was (the staging folder is removed when the store is next opened);
        one between the renames is finished by the next open, back to the old
        store.
        """
        if self.path is None:
            raise StoreError(f"the {self.location} has no folder to stage in")
        target = Path(self.path)
        staging = target.with_name(target.name + ".staging")
        for leftover in (staging, target.with_name(target.name + ".old")):
            shutil.rmtree(leftover, ignore_errors=True)
        try:
            self.store.backup(str(staging))
            # Let go of the store's own caches while the copy is written (two
            # open stores were a third of a re-import's memory); the lock stays.
            self._store = None
            fresh = ox.Store(str(staging))
            for graph in graphs:
                fresh.remove_graph(ox.NamedNode(graph))
            for subject, graph in subjects:
                pattern = (ox.NamedNode(subject), None, None, ox.NamedNode(graph))
                for quad in list(fresh.quads_for_pattern(*pattern)):
                    fresh.remove(quad)
            for update in deletes:
                fresh.update(update)
            fresh.flush()  # the removals' memtables out before the bulk loader's
            fresh.bulk_load(path=nquads_path, format=ox.RdfFormat.N_QUADS)
            fresh.flush()
            del fresh
        except (OSError, SyntaxError, ValueError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            self._store = ox.Store(str(target))
            raise StoreError(
                f"staged write into {self.location} failed: {exc}"
            ) from None
        self._swap_in(target, staging)

    def _swap_in(self, target: Path, staging: Path) -> None:
        """Put the store prepared in ``staging`` in place of the one at ``target``."""
        old = target.with_name(target.name + ".old")
        self._store = None  # RocksDB closes when its last reference goes
        target.rename(old)
        staging.rename(target)
        self._store = ox.Store(str(target))
        shutil.rmtree(old, ignore_errors=True)

    def count_quads(self) -> int:
        return len(self.store)

    def close(self) -> None:
        """Flush and let go of the lock (let go of it even if the flush fails:
        the store's files deleted under it, say)."""
        store, self._store = self._store, None
        try:
            if store is not None and not self._read_only:
                store.flush()
        except OSError as exc:
            raise StoreError(f"{self.location} could not write: {exc}") from None
        finally:
            if self._lock is not None:
                fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
                self._lock.close()
                self._lock = None

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Pipe(io.RawIOBase):
    """Bytes handed from one thread to another through a short queue: the writer
    waits while the reader is behind (memory stays flat), and stops waiting
    once the reader has failed."""

    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self._buffer = b""
        self._ended = False
        self.failed: BaseException | None = None
        self.stopped = False  # the reader is to see the end at once

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.stopped:
            return 0
        while not self._buffer and not self._ended:
            item = self._queue.get()
            if item is None:
                self._ended = True
            else:
                self._buffer = item
        n = min(len(buffer), len(self._buffer))
        buffer[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def stop(self) -> None:
        """End the reader's input now (a reader waiting on the queue wakes)."""
        self.stopped = True
        # (a full queue: the reader is not waiting, and sees ``stopped`` next read)
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)

    def put(self, item: bytes | None) -> None:
        while self.failed is None:
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue


class StreamedLoad:
    """pyoxigraph's bulk loader on a thread, filling a staging store from N-Quads
    text given to :meth:`write` while the caller makes more (the loader runs in
    Rust, mostly without the GIL). :meth:`commit` waits for it and swaps the
    staging store in (as ``bulk_replace_empty`` does); :meth:`abandon` throws it
    away. A crash in between leaves only a staging folder, removed on the next
    open."""

    #: text gathered before it goes to the loader (fewer, larger hand-overs)
    BLOCK = 4 << 20

    def __init__(
        self, owner: EmbeddedStore, fresh: ox.Store, target: Path, staging: Path
    ) -> None:
        self._owner = owner
        self._fresh: ox.Store | None = fresh
        self._target = target
        self._staging = staging
        self._pipe = _Pipe()
        self._parts: list[bytes] = []
        self._size = 0
        self._thread = threading.Thread(
            target=self._load, name="bulk-load", daemon=True
        )
        self._thread.start()

    def _load(self) -> None:
        try:
            assert self._fresh is not None  # noqa: S101 - set until the end
            reader = io.BufferedReader(self._pipe, self.BLOCK)
            self._fresh.bulk_load(input=reader, format=ox.RdfFormat.N_QUADS)
            self._fresh.flush()
        except BaseException as exc:
            self._pipe.failed = exc

    def _check(self) -> None:
        exc = self._pipe.failed
        if exc is not None:
            self.abandon()
            raise StoreError(
                f"bulk load into {self._owner.location} failed: {exc}"
            ) from None

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self._parts.append(data)
        self._size += len(data)
        if self._size >= self.BLOCK:
            self._hand_over()
        return len(text)

    def _hand_over(self) -> None:
        self._check()
        self._pipe.put(b"".join(self._parts))
        self._parts, self._size = [], 0

    def _finish(self) -> None:
        if self._parts:
            self._pipe.put(b"".join(self._parts))
            self._parts, self._size = [], 0
        self._pipe.put(None)
        self._thread.join()

    def commit(self) -> None:
        """Wait for the loader and put the loaded store in place of the empty one."""
        self._finish()
        self._check()
        self._fresh = None  # RocksDB closes when its last reference goes
        self._owner._swap_in(self._target, self._staging)

    def abandon(self) -> None:
        """Stop the loader and remove what it loaded; the store stays as it was."""
        if self._fresh is None:
            return
        if self._thread.is_alive():
            self._pipe.stop()
            self._thread.join()
        self._fresh = None
        shutil.rmtree(self._staging, ignore_errors=True)


def _finish_swap(target: Path) -> None:
    """Tidy up after a staged write that a crash interrupted (the lock is held).

    No store but an ``.old`` one: the crash came between the swap's two renames,
    so the old store stands (the staged one was never in place). Any staging
    folder is an unfinished write, and an ``.old`` one beside a store is done with.
    """
    old = target.with_name(target.name + ".old")
    staging = target.with_name(target.name + ".staging")
    if not target.exists() and old.is_dir():
        old.rename(target)
    for leftover in (staging, old):
        if leftover.exists():
            shutil.rmtree(leftover, ignore_errors=True)


def _describe_holder(text: str) -> str:
    try:
        info = json.loads(text)
        return f"process {info['pid']} ({info['command']}, since {info['since']})"
    except (ValueError, KeyError, TypeError):
        return "another process"
