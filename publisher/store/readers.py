"""Reader processes: where the public endpoint's queries run, so they can be stopped.

pyoxigraph's ``Store.query`` cannot be interrupted, and a thread running it cannot
be stopped (DESIGN.md, "Known hard parts"). So a client's query runs in a reader
process (``python -m publisher.store.reader_process``) over a *source* the main process
gives it (``Store.reader_source``): a checkpoint of the embedded store (hard links,
made in milliseconds whenever the data version changes), an N-Quads copy of an
in-memory store, or the remote store's endpoint. When the time limit passes, the
reader is killed (SIGKILL): the query stops and its memory is freed. A new reader
takes its place on the next query.

Between the two processes: one JSON line per request on the reader's stdin; one
JSON line (kind, truncated, payload length, or an error) and the payload bytes on
its stdout (publisher.store.reader_process). The cap on running queries, for the
whole server: publisher.store.reader_slots.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
import weakref

from publisher.errors import (
    QueryFailedError,
    QueryMemoryError,
    QueryRefusedError,
    QuerySyntaxError,
    QueryTimeoutError,
    ReadersBusyError,
    StoreError,
)
from publisher.store import Answer, QueryJob
from publisher.store.reader_slots import SharedCap, shared_cap

#: a reader's deaths that a query's text causes (not a kill: memory, timeout, OOM)
_CRASHES = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL})

#: how long a new reader may take to import its modules and say it is ready
START_SECONDS = 30.0


#: how often the waiting side looks at a busy reader's resident size
MEMORY_POLL_SECONDS = 0.05
#: how often idle readers are looked at (ReaderPool.retire_idle)
SWEEP_SECONDS = 1.0
#: a reader's environment beside the server's: a fixed hash seed, and glibc's
#: allocator held to two arenas (the reader runs one query at a time; more arenas
#: only keep more freed memory)
READER_ENVIRONMENT = {"PYTHONHASHSEED": "0", "MALLOC_ARENA_MAX": "2"}
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes(pid: int) -> int:
    """A process's resident set size (0 when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


class _Spawner:
    """Starts reader processes from one long-lived thread of this process.

    Linux's death signal (publisher.workers.end_with_parent) follows the *thread*
    that started a child: a reader started by a request thread would be killed
    when that thread ends. The thread starts with the first reader (after a
    server forks its workers: each worker has its own). Between orders it ends
    the readers that pools no longer need (:meth:`ReaderPool.retire_idle`), every
    ``SWEEP_SECONDS``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._queue: queue.SimpleQueue[_Order] = queue.SimpleQueue()
        self._pools: weakref.WeakSet[ReaderPool] = weakref.WeakSet()

    def _orders(self) -> queue.SimpleQueue[_Order]:
        """This process's queue of orders (call under ``_lock``)."""
        if self._pid != os.getpid():
            self._pid, self._queue = os.getpid(), queue.SimpleQueue()
            self._pools = weakref.WeakSet()
            threading.Thread(
                target=self._serve,
                args=(self._queue, self._pools),
                name="sparql-readers",
                daemon=True,
            ).start()
        return self._queue

    def watch(self, pool: ReaderPool) -> None:
        """Look at ``pool``'s idle readers every ``SWEEP_SECONDS`` from now on."""
        with self._lock:
            self._orders()
            self._pools.add(pool)

    def popen(self) -> subprocess.Popen[bytes]:
        with self._lock:
            orders = self._orders()
        order = _Order()
        orders.put(order)
        order.done.wait()
        if order.process is None:
            raise order.error or OSError("no reader process was started")
        return order.process

    def _serve(
        self, orders: queue.SimpleQueue[_Order], pools: weakref.WeakSet[ReaderPool]
    ) -> None:
        while True:
            try:
                order = orders.get(timeout=SWEEP_SECONDS)
            except queue.Empty:
                with self._lock:
                    watched = list(pools)
                for pool in watched:
                    pool.retire_idle()
                continue
            try:
                order.process = subprocess.Popen(
                    [sys.executable, "-m", "publisher.store.reader_process"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env={**os.environ, **READER_ENVIRONMENT},
                )
            except OSError as exc:
                order.error = exc
            order.done.set()


class _Order:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.process: subprocess.Popen[bytes] | None = None
        self.error: OSError | None = None


_SPAWNER = _Spawner()


class _Reader:
    """One reader process and the two pipes to it."""

    def __init__(self) -> None:
        self.process = _SPAWNER.popen()
        self._buffer = bytearray()
        self.ready = False
        self.memory_limit = 0  # bytes of resident memory; 0: no cap
        self.idle_since = time.monotonic()

    def _read(self, size: int | None, deadline: float) -> bytes:
        """A line (size None) or ``size`` bytes, before ``deadline``."""
        out = self.process.stdout
        assert out is not None  # noqa: S101 - created with stdout=PIPE
        fd = out.fileno()
        while True:
            if size is None:
                end = self._buffer.find(b"\n")
                if end >= 0:
                    line = bytes(self._buffer[:end])
                    del self._buffer[: end + 1]
                    return line
            elif len(self._buffer) >= size:
                data = bytes(self._buffer[:size])
                del self._buffer[:size]
                return data
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            wait = min(left, MEMORY_POLL_SECONDS) if self.memory_limit else left
            readable, _, _ = select.select([fd], [], [], wait)
            if not readable:
                if (
                    self.memory_limit
                    and resident_bytes(self.process.pid) > self.memory_limit
                ):
                    raise MemoryError
                continue
            want = 1 << 16 if size is None else max(1 << 16, size - len(self._buffer))
            chunk = os.read(fd, min(want, 1 << 24))
            if not chunk:
                raise EOFError
            self._buffer += chunk

    def wait_ready(self) -> None:
        if not self.ready:
            if self._read(None, time.monotonic() + START_SECONDS) != b"ready":
                raise EOFError
            self.ready = True

    def ask(
        self, source: dict[str, str], job: QueryJob, timeout: float, check: str
    ) -> Answer:
        stdin = self.process.stdin
        assert stdin is not None  # noqa: S101
        request = {
            "source": source,
            "job": {
                "query": job.query,
                "default_graphs": job.default_graphs,
                "named_graphs": job.named_graphs,
                "has_dataset": job.has_dataset,
                "max_rows": job.max_rows,
            },
            "check": check,
        }
        line = json.dumps(request) + "\n"
        stdin.write(line.encode("utf-8"))
        stdin.flush()
        deadline = time.monotonic() + timeout
        head = json.loads(self._read(None, deadline))
        payload = self._read(int(head["length"]), deadline)
        if head.get("refused") == "syntax":
            raise QuerySyntaxError(head["error"])
        if head.get("refused") == "refused":
            raise QueryRefusedError(head["error"])
        if "error" in head:
            raise QueryFailedError(head["error"])
        return Answer(head["kind"], payload, bool(head["truncated"]))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


class ReaderPool:
    """At most ``size`` readers, each running one query at a time.

    Fair shares: one client (``run``'s ``client``, an address) may hold at most
    ``share`` readers, ``size - 1`` when there are two or more, so a client's
    heavy queries always leave a reader for everyone else's.

    ``run_dir``: where the cap is kept for every process that names the same
    folder (the workers of one server over the same settings, SharedCap); None:
    this pool's own. Readers start on the first query that needs one (or
    :meth:`start`), never before: a pool made before the server forks its workers
    has no process and no open file to share with them. Each process keeps at
    most ``keep_idle`` idle readers (default ``size``); one of the first ``warm``
    queries running here that takes the last one starts a spare, so a cheap query
    arriving behind a heavy one finds a reader ready, not one starting.

    Memory: a reader that has answered holds the store's blocks it read (30 to
    100 MB). One idle for ``idle_seconds`` (0: never) is ended, except the
    ``warm`` most recently used; one whose resident size after a query passes
    ``retire_bytes`` (0: no bound) is ended instead of kept.
    """

    def __init__(
        self,
        size: int,
        timeout: float,
        memory_limit: int = 0,
        run_dir: str | None = None,
        keep_idle: int | None = None,
        idle_seconds: float = 0.0,
        warm: int = 1,
        retire_bytes: int = 0,
    ) -> None:
        self.size = size
        self.share = max(1, size - 1)
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.keep_idle = size if keep_idle is None else keep_idle
        self.idle_seconds = idle_seconds
        self.warm = warm
        self.retire_bytes = retire_bytes
        self._path = None if run_dir is None else os.path.join(run_dir, "readers.lock")
        self._own = SharedCap(None)  # run_dir None: this pool's counts
        self._idle: list[_Reader] = []
        self._busy = 0  # this process's readers running a query
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._closed = False

    def _cap(self) -> SharedCap:
        return self._own if self._path is None else shared_cap(self._path)

    def _acquire(self, client: str) -> tuple[SharedCap, int, int | None]:
        cap = self._cap()
        with cap.lock:
            # the place first: over its share, a client never holds a slot at all
            place = cap.acquire_share(client, self.share, self.size)
            if place is None and self.size > 1:
                raise ReadersBusyError(
                    f"{self.share} of your queries are running already (each "
                    f"client may run {self.share} of the {self.size} at once); "
                    "try again in a moment"
                )
            slot = cap.acquire_slot(self.size)
            if slot is None:
                cap.release(None, client, place, self.size)
                raise ReadersBusyError(
                    f"{self.size} queries are running already; try again in a moment"
                )
            return cap, slot, place

    def _release(self, held: tuple[SharedCap, int, int | None], client: str) -> None:
        cap, slot, place = held
        with cap.lock:
            cap.release(slot, client, place, self.size)

    def run(
        self, source: dict[str, str], job: QueryJob, client: str = "", check: str = ""
    ) -> Answer:
        """Run ``job`` in a free reader; busy, timed out or failed: an error.

        ``check``: the client's text, fully parsed in the reader first (within the
        time limit): a syntax error or a SERVICE/LOAD is QuerySyntaxError or
        QueryRefusedError, positions in the client's text."""
        held = self._acquire(client)
        try:
            reader = self._take()
        except BaseException:
            self._done()
            self._release(held, client)
            raise
        try:
            reader.memory_limit = self.memory_limit
            try:
                reader.wait_ready()
                answer = reader.ask(source, job, self.timeout, check)
            except MemoryError:
                reader.kill()
                raise QueryMemoryError(
                    f"the query needed more than {self.memory_limit >> 20} MB of "
                    "memory and was stopped"
                ) from None
            except TimeoutError:
                reader.kill()
                raise QueryTimeoutError(
                    f"the query ran longer than {self.timeout:g} s and was stopped"
                ) from None
            except (EOFError, OSError, ValueError, KeyError) as exc:
                reader.kill()
                crash = -reader.process.returncode
                if isinstance(exc, EOFError) and crash in _CRASHES:
                    # Oxigraph's recursive parser and planner overflow the stack
                    # on some hostile texts (10,000 triple patterns): the query's
                    # fault, not the store's
                    raise QueryFailedError(
                        "the query could not be run: it crashed the query engine "
                        f"({signal.Signals(crash).name}); simplify it"
                    ) from None
                raise StoreError(
                    f"the query's reader process failed: {exc!r}"
                ) from None
            except (QueryFailedError, QuerySyntaxError, QueryRefusedError):
                self._give_back(reader)
                raise
            self._give_back(reader)
            return answer
        finally:
            self._done()
            self._release(held, client)

    def _take(self) -> _Reader:
        """An idle reader, or a new one; and, if that leaves none idle here, a
        spare started at once: its start (~0.3 s, seconds on a busy machine)
        overlaps this query, not the next one's wait."""
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's readers are not ours
                self._pid, self._idle, self._busy = os.getpid(), [], 0
            found: _Reader | None = None
            while self._idle and found is None:
                reader = self._idle.pop()
                if reader.process.poll() is None:
                    found = reader
                else:
                    reader.kill()
            self._busy += 1
            # a spare beside the first ``warm`` queries only: beyond them, every
            # query that found none idle would start one, and a burst after a
            # quiet spell became a storm of starting readers (each taking the
            # last, not yet ready, one)
            room = self._busy <= max(1, self.warm) and self.keep_idle > 0
            room = room and self._busy < self.size
            spare = room and not self._idle and not self._closed
        if self.idle_seconds:
            _SPAWNER.watch(self)
        if found is None:
            found = _Reader()
        if spare:
            with contextlib.suppress(OSError):  # none: the next query starts one
                self._give_back(_Reader())
        return found

    def _done(self) -> None:
        """A query of this process ended (its reader given back or killed)."""
        with self._lock:
            if self._pid == os.getpid():
                self._busy -= 1

    def _give_back(self, reader: _Reader) -> None:
        keep = not (
            self.retire_bytes and resident_bytes(reader.process.pid) > self.retire_bytes
        )
        with self._lock:
            keep = keep and not self._closed and len(self._idle) < self.keep_idle
            if keep:
                reader.idle_since = time.monotonic()
                self._idle.append(reader)
        if not keep:
            reader.kill()

    def retire_idle(self) -> None:
        """End the readers idle for ``idle_seconds``, but the ``warm`` most
        recently used (the idle list's end: :meth:`_take` takes from there)."""
        if not self.idle_seconds:
            return
        before = time.monotonic() - self.idle_seconds
        with self._lock:
            if self._pid != os.getpid():
                return
            count = 0
            while (
                count < len(self._idle) - self.warm
                and self._idle[count].idle_since < before
            ):
                count += 1
            retired, self._idle = self._idle[:count], self._idle[count:]
        for reader in retired:
            reader.kill()

    def start(self, count: int = 1) -> None:
        """Start ``count`` readers ahead of the first queries (in a server with
        several workers: in each worker, after the fork)."""
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._idle = os.getpid(), []
            for _ in range(max(0, count - len(self._idle))):
                self._idle.append(_Reader())
        if self.idle_seconds:
            _SPAWNER.watch(self)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for reader in idle:
            reader.kill()
