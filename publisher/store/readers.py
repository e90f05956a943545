"""Reader processes: where the public endpoint's queries run, so they can be stopped.

pyoxigraph's ``Store.query`` cannot be interrupted, and a thread running it cannot
be stopped (DESIGN.md, "Known hard parts"). So a client's query runs in a reader
process (``python -m publisher.store.readers``) over a *source* the main process
gives it (``Store.reader_source``): a checkpoint of the embedded store (hard links,
made in milliseconds whenever the data version changes), an N-Quads copy of an
in-memory store, or the remote store's endpoint. When the time limit passes, the
reader is killed (SIGKILL): the query stops and its memory is freed. A new reader
takes its place on the next query.

Between the two processes: one JSON line per request on the reader's stdin; one
JSON line (kind, truncated, payload length, or an error) and the payload bytes on
its stdout.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
from typing import IO, Any

from publisher.errors import (
    QueryFailedError,
    QueryMemoryError,
    QueryRefusedError,
    QuerySyntaxError,
    QueryTimeoutError,
    ReadersBusyError,
    StoreError,
    StoreRefusedError,
)
from publisher.store import Answer, QueryJob, Store

#: a reader's deaths that a query's text causes (not a kill: memory, timeout, OOM)
_CRASHES = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL})

#: how long a new reader may take to import its modules and say it is ready
START_SECONDS = 30.0


#: how often the waiting side looks at a busy reader's resident size
MEMORY_POLL_SECONDS = 0.05
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
    server forks its workers: each worker has its own).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._queue: queue.SimpleQueue[_Order] = queue.SimpleQueue()

    def popen(self) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._queue = os.getpid(), queue.SimpleQueue()
                threading.Thread(
                    target=self._serve,
                    args=(self._queue,),
                    name="sparql-readers",
                    daemon=True,
                ).start()
            orders = self._queue
        order = _Order()
        orders.put(order)
        order.done.wait()
        if order.process is None:
            raise order.error or OSError("no reader process was started")
        return order.process

    @staticmethod
    def _serve(orders: queue.SimpleQueue[_Order]) -> None:
        while True:
            order = orders.get()
            try:
                order.process = subprocess.Popen(
                    [sys.executable, "-m", "publisher.store.readers"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env={**os.environ, "PYTHONHASHSEED": "0"},
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


class _SharedCap:
    """Readers running and each client's share, counted for every process that
    serves the same settings (the workers of one server): byte-range locks
    (``fcntl.lockf``) on one file of the pool's run directory. Byte ``i`` is slot
    ``i``; a client's share is ``share`` bytes at an offset from a hash of its
    address. The kernel drops a process's locks when it ends, so a killed worker
    holds nothing. POSIX locks belong to a process, not a thread, and closing any
    descriptor of the file drops them all: one per file and process (``_SHARED``),
    never closed, this process's threads counted beside it; a forked child (which
    inherits no locks) makes its own.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.slots: set[int] = set()  # held by this process
        self.shares: dict[str, set[int]] = {}  # client -> their bytes held here
        self._fd: int | None = None

    def _file(self) -> int | None:
        if self.path is None:
            return None
        if self._fd is None:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    def _take(self, offset: int) -> bool:
        fd = self._file()
        if fd is None:
            return True
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset, os.SEEK_SET)
        except OSError:  # EAGAIN or EACCES: another process holds it
            return False
        return True

    def _give(self, offset: int) -> None:
        fd = self._file()
        if fd is not None:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset, os.SEEK_SET)

    def acquire_slot(self, size: int) -> int | None:
        """A free slot of ``size``, now held (call under ``lock``), or None."""
        for slot in range(size):
            if slot not in self.slots and self._take(slot):
                self.slots.add(slot)
                return slot
        return None

    def acquire_share(self, client: str, share: int, size: int) -> int | None:
        """One of ``client``'s ``share`` places, now held (under ``lock``)."""
        held = self.shares.setdefault(client, set())
        for place in range(share):
            if place not in held and self._take(_share_offset(client, place, size)):
                held.add(place)
                return place
        if not held:
            del self.shares[client]
        return None

    def release(
        self, slot: int | None, client: str, place: int | None, size: int
    ) -> None:
        """Give back the slot and the client's place, those held (under ``lock``)."""
        if slot is not None:
            self._give(slot)
            self.slots.discard(slot)
        if place is not None:
            self._give(_share_offset(client, place, size))
            held = self.shares.get(client, set())
            held.discard(place)
            if not held:
                self.shares.pop(client, None)


#: the slots are bytes [0, _SLOTS) of the file; clients' shares lie beyond
_SLOTS = 1 << 20
_SHARED: dict[tuple[str | None, int], _SharedCap] = {}
_SHARED_LOCK = threading.Lock()


def _share_offset(client: str, place: int, size: int) -> int:
    digest = hashlib.blake2b(client.encode("utf-8"), digest_size=5).digest()
    return _SLOTS + int.from_bytes(digest, "big") * max(size, 1) + place


def _shared_cap(path: str | None) -> _SharedCap:
    """This process's counts for the lock file ``path`` (None: this pool only)."""
    if path is None:
        return _SharedCap(None)
    with _SHARED_LOCK:
        key = (path, os.getpid())
        found = _SHARED.get(key)
        if found is None:
            found = _SHARED[key] = _SharedCap(path)
        return found


class ReaderPool:
    """At most ``size`` readers, each running one query at a time.

    Fair shares: one client (``run``'s ``client``, an address) may hold at most
    ``share`` readers, ``size - 1`` when there are two or more, so a client's
    heavy queries always leave a reader for everyone else's.

    ``run_dir``: where the cap is kept for every process that names the same
    folder (the workers of one server over the same settings, _SharedCap); None:
    this pool's own. Readers start on the first query that needs one (or
    :meth:`start`), never before: a pool made before the server forks its workers
    has no process and no open file to share with them. Each process keeps at
    most ``keep_idle`` idle readers (default ``size``); a query that takes the
    last one starts a spare (fewer than ``size`` running here), so a cheap query
    arriving behind a heavy one finds a reader ready, not one starting.
    """

    def __init__(
        self,
        size: int,
        timeout: float,
        memory_limit: int = 0,
        run_dir: str | None = None,
        keep_idle: int | None = None,
    ) -> None:
        self.size = size
        self.share = max(1, size - 1)
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.keep_idle = size if keep_idle is None else keep_idle
        self._path = None if run_dir is None else os.path.join(run_dir, "readers.lock")
        self._own = _SharedCap(None)  # run_dir None: this pool's counts
        self._idle: list[_Reader] = []
        self._busy = 0  # this process's readers running a query
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._closed = False

    def _cap(self) -> _SharedCap:
        return self._own if self._path is None else _shared_cap(self._path)

    def _acquire(self, client: str) -> tuple[_SharedCap, int, int | None]:
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

    def _release(self, held: tuple[_SharedCap, int, int | None], client: str) -> None:
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
            room = self._busy < self.size and self.keep_idle > 0
            spare = room and not self._idle and not self._closed
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
        with self._lock:
            keep = not self._closed and len(self._idle) < self.keep_idle
            if keep:
                self._idle.append(reader)
        if not keep:
            reader.kill()

    def start(self, count: int = 1) -> None:
        """Start ``count`` readers ahead of the first queries (in a server with
        several workers: in each worker, after the fork)."""
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._idle = os.getpid(), []
            for _ in range(max(0, count - len(self._idle))):
                self._idle.append(_Reader())

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for reader in idle:
            reader.kill()


# The reader process ---------------------------------------------------------


def _open(source: dict[str, str]) -> Store:
    kind = source.get("kind")
    if kind == "checkpoint":
        from publisher.store.oxigraph import EmbeddedStore

        return EmbeddedStore.read_only(source["path"])
    if kind == "nquads":
        from publisher.store.oxigraph import EmbeddedStore

        return EmbeddedStore.from_nquads(source["path"])
    if kind == "remote":
        from publisher.store.sparql import RemoteStore

        return RemoteStore(
            source["endpoint"],
            update_endpoint=source["update_endpoint"],
            gsp_endpoint=source["gsp_endpoint"],
            user=source["user"],
            password=source["password"],
            token=source["token"],
            timeout=float(source["timeout"]),
            retries=0,
        )
    raise StoreError(f"unknown reader source {kind!r}")


def _answer(out: IO[bytes], head: dict[str, Any], payload: bytes) -> None:
    head["length"] = len(payload)
    out.write(json.dumps(head).encode("utf-8") + b"\n")
    out.write(payload)
    out.flush()


def main() -> None:
    """Answer query requests on stdin until it closes."""
    from publisher.queries import inspect_query  # before "ready": not on the clock
    from publisher.workers import end_with_parent

    end_with_parent()  # a query running when the server is killed ends with it

    out = sys.stdout.buffer
    out.write(b"ready\n")
    out.flush()
    opened: tuple[dict[str, str], Store] | None = None
    for line in sys.stdin.buffer:
        request = json.loads(line)
        source, job = request["source"], request["job"]
        has_dataset = bool(job["has_dataset"])
        if request.get("check"):
            try:
                has_dataset = inspect_query(request["check"]).has_dataset
            except QuerySyntaxError as exc:
                _answer(out, {"refused": "syntax", "error": str(exc)}, b"")
                continue
            except QueryRefusedError as exc:
                _answer(out, {"refused": "refused", "error": str(exc)}, b"")
                continue
        try:
            if opened is None or opened[0] != source:
                if opened is not None:
                    opened[1].close()
                    opened = None
                opened = (source, _open(source))
            answer = opened[1].run_query(
                QueryJob(
                    query=job["query"],
                    default_graphs=_tuple(job["default_graphs"]),
                    named_graphs=_tuple(job["named_graphs"]),
                    has_dataset=has_dataset,
                    max_rows=int(job["max_rows"]),
                )
            )
        except StoreRefusedError as exc:
            # the store's own parser (pyoxigraph: "bad SPARQL query: error at
            # 3:7: ..."), its lines counted from the BASE line put in front
            _answer(out, _refusal(str(exc), source), b"")
            continue
        except StoreError as exc:
            _answer(out, {"error": str(exc)}, b"")
            continue
        except Exception as exc:
            _answer(out, {"error": f"the query failed: {exc}"}, b"")
            opened = None
            continue
        _answer(
            out, {"kind": answer.kind, "truncated": answer.truncated}, answer.payload
        )


_POSITION = re.compile(r"^bad SPARQL query: error at (\d+):(\d+): ")


def _refusal(message: str, source: dict[str, str]) -> dict[str, str]:
    """An embedded store's syntax error as the client's (a 400 naming the line
    and column in the text they sent); any other refusal as a failure."""
    found = _POSITION.match(message)
    if found is None or source.get("kind") == "remote":
        return {"error": message}
    line, column = int(found.group(1)) - 1, int(found.group(2))
    rest = message[found.end() :]
    return {
        "refused": "syntax",
        "error": f"SPARQL syntax error at line {line}, column {column}: {rest}",
    }


def _tuple(value: list[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


if __name__ == "__main__":
    main()
