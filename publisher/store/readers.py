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

import json
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from typing import IO, Any

from publisher.errors import (
    QueryFailedError,
    QueryMemoryError,
    QueryRefusedError,
    QuerySyntaxError,
    QueryTimeoutError,
    ReadersBusyError,
    StoreError,
)
from publisher.store import Answer, QueryJob, Store

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


class _Reader:
    """One reader process and the two pipes to it."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "publisher.store.readers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        self._buffer = b""
        self.ready = False
        self.memory_limit = 0  # bytes of resident memory; 0: no cap

    def _read(self, size: int | None, deadline: float) -> bytes:
        """A line (size None) or ``size`` bytes, before ``deadline``."""
        out = self.process.stdout
        assert out is not None  # noqa: S101 - created with stdout=PIPE
        fd = out.fileno()
        while True:
            if size is None and b"\n" in self._buffer:
                line, _, self._buffer = self._buffer.partition(b"\n")
                return line
            if size is not None and len(self._buffer) >= size:
                data, self._buffer = self._buffer[:size], self._buffer[size:]
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
            chunk = os.read(fd, 1 << 20)
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
        request = {"source": source, "job": asdict(job), "check": check}
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
    """

    def __init__(self, size: int, timeout: float, memory_limit: int = 0) -> None:
        self.size = size
        self.share = max(1, size - 1)
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._running = 0
        self._by_client: dict[str, int] = {}
        self._idle: list[_Reader] = []
        self._lock = threading.Lock()
        self._closed = False

    def _acquire(self, client: str) -> None:
        with self._lock:
            if self._running >= self.size:
                raise ReadersBusyError(
                    f"{self.size} queries are running already; try again in a moment"
                )
            if self._by_client.get(client, 0) >= self.share:
                raise ReadersBusyError(
                    f"{self.share} of your queries are running already (each "
                    f"client may run {self.share} of the {self.size} at once); "
                    "try again in a moment"
                )
            self._running += 1
            self._by_client[client] = self._by_client.get(client, 0) + 1

    def _release(self, client: str) -> None:
        with self._lock:
            self._running -= 1
            self._by_client[client] -= 1
            if not self._by_client[client]:
                del self._by_client[client]

    def run(
        self, source: dict[str, str], job: QueryJob, client: str = "", check: str = ""
    ) -> Answer:
        """Run ``job`` in a free reader; busy, timed out or failed: an error.

        ``check``: the client's text, fully parsed in the reader first (within the
        time limit): a syntax error or a SERVICE/LOAD is QuerySyntaxError or
        QueryRefusedError, positions in the client's text."""
        self._acquire(client)
        try:
            reader = self._take()
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
                raise StoreError(
                    f"the query's reader process failed: {exc!r}"
                ) from None
            except (QueryFailedError, QuerySyntaxError, QueryRefusedError):
                self._give_back(reader)
                raise
            self._give_back(reader)
            return answer
        finally:
            self._release(client)

    def _take(self) -> _Reader:
        with self._lock:
            while self._idle:
                reader = self._idle.pop()
                if reader.process.poll() is None:
                    return reader
                reader.kill()
        return _Reader()

    def _give_back(self, reader: _Reader) -> None:
        with self._lock:
            if self._closed:
                reader.kill()
            else:
                self._idle.append(reader)

    def start(self, count: int = 1) -> None:
        """Start ``count`` readers ahead of the first queries."""
        with self._lock:
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
    out.write(json.dumps(head).encode("utf-8") + b"\n" + payload)
    out.flush()


def main() -> None:
    """Answer query requests on stdin until it closes."""
    from publisher.queries import inspect_query  # before "ready": not on the clock
    from publisher.workers import end_with_parent

    end_with_parent()  # a query running when the server is killed ends with it

    out = sys.stdout.buffer
    out.write(b"ready\n")
    out.flush()
    opened: tuple[str, Store] | None = None
    for line in sys.stdin.buffer:
        request = json.loads(line)
        source, job = request["source"], request["job"]
        key = json.dumps(source, sort_keys=True)
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
            if opened is None or opened[0] != key:
                if opened is not None:
                    opened[1].close()
                    opened = None
                opened = (key, _open(source))
            answer = opened[1].run_query(
                QueryJob(
                    query=job["query"],
                    default_graphs=_tuple(job["default_graphs"]),
                    named_graphs=_tuple(job["named_graphs"]),
                    has_dataset=has_dataset,
                    max_rows=int(job["max_rows"]),
                )
            )
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


def _tuple(value: list[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


if __name__ == "__main__":
    main()
