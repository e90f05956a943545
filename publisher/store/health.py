"""Whether the store answers, and how long a request may wait for it.

- :class:`Breaker`: a circuit breaker for a remote store. A request to the store
  that cannot connect, times out or meets a gateway error (502, 503, 504) marks the
  store down; while it is down every request fails at once with
  :class:`~publisher.errors.StoreUnavailableError`, except one probe (``ASK {}``,
  at most :data:`PROBE_SECONDS` long) every :data:`PROBE_EVERY` seconds, made by
  the next request that comes: when the probe is answered the store is up again,
  with no restart.
- :func:`serving`: the web wraps each request in it. The breaker fails fast only
  there (the CLI always tries, with its retries), and a read request gets a
  deadline: how long its work may wait for the store in all (``page_timeout``).
  Reads of a remote store cut their timeout and their retries to fit; writes keep
  ``store_timeout`` (a write that timed out may or may not have been applied).
  Outside a deadline (the CLI, admin work) reads keep ``store_timeout`` and
  ``store_retries``.

The processes serving one site over one remote store (``publisher serve
--workers N``) share what a breaker finds: a store found down is marked in a file
beside the listing index (:func:`shared_mark`), and every other worker's breaker
takes that mark as its own on its next request (a file's status: microseconds),
so one worker's discovery of an outage is the whole server's. Each then probes
for itself; the first answered probe removes the mark.

An embedded store has no breaker: it is in this process, and a failure of its
files is a StoreError like any other.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from publisher.errors import StoreError, StoreUnavailableError

#: while the store is down, one web request every this many seconds probes it
PROBE_EVERY = 0.25
#: a probe waits at most this long for an answer
PROBE_SECONDS = 1.0
#: what a client is told to wait (Retry-After) while the store is down
RETRY_AFTER = 5
#: a shared mark not renewed for this long is a leftover (a killed process's)
MARK_FRESH = 2.0

_local = threading.local()


@contextmanager
def serving(seconds: float | None) -> Iterator[None]:
    """This thread serves a web request within the block: while the store is
    known to be down its requests fail at once, and its reads end within
    ``seconds`` in all (None: no bound, for writes)."""
    previous = (getattr(_local, "serving", False), getattr(_local, "deadline", None))
    _local.serving = True
    _local.deadline = None if seconds is None else time.monotonic() + seconds
    try:
        yield
    finally:
        _local.serving, _local.deadline = previous


@contextmanager
def unbounded() -> Iterator[None]:
    """No deadline within the block (work that cut short would never finish)."""
    previous: float | None = getattr(_local, "deadline", None)
    _local.deadline = None
    try:
        yield
    finally:
        _local.deadline = previous


def _serving() -> bool:
    return bool(getattr(_local, "serving", False))


def time_left() -> float | None:
    """Seconds left of this thread's deadline (None: no deadline)."""
    end: float | None = getattr(_local, "deadline", None)
    return None if end is None else end - time.monotonic()


@dataclass(frozen=True)
class State:
    """What /healthz reports."""

    up: bool
    down_since: str | None = None  # ISO 8601, UTC
    error: str | None = None


class Breaker:
    """The circuit breaker of one remote store (thread-safe).

    ``probe(timeout)`` asks the store something tiny, raising StoreError (or
    OSError) when it does not answer.
    """

    def __init__(
        self,
        location: str,
        probe: Callable[[float], None],
        shared: str | None = None,
    ) -> None:
        self.location = location
        self._probe = probe
        #: the mark that the other processes over this store see (shared_mark)
        self.shared = shared
        self._lock = threading.Lock()
        self._down_since: datetime | None = None
        self._error = ""
        self._next_probe = 0.0
        self._probing = False
        self._up_at = 0.0  # wall-clock time of the store's last answer here

    def state(self) -> State:
        with self._lock:
            if self._down_since is None:
                return State(True)
            return State(False, self._down_since.isoformat(), self._error)

    def unavailable(self) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"the {self.location} is unavailable: {self._error}",
            retry_after=RETRY_AFTER,
        )

    def check(self) -> None:
        """Before a request to the store: at once a StoreUnavailableError while
        it is down, unless this request is the one that probes it (and it
        answers)."""
        if not _serving():
            return  # outside a web request (the CLI) every request is tried
        if self._down_since is None and not self._marked_elsewhere():
            return
        with self._lock:
            if self._down_since is None:
                return
            now = time.monotonic()
            if self._probing or now < self._next_probe:
                raise self.unavailable()
            self._probing = True
        left = time_left()
        wait = PROBE_SECONDS if left is None else min(PROBE_SECONDS, left)
        try:
            if wait <= 0:
                raise StoreUnavailableError("no time left to probe")
            self._probe(wait)
        except (StoreError, OSError) as exc:
            with self._lock:
                self._probing = False
                self._next_probe = time.monotonic() + PROBE_EVERY
                self._error = self._error or str(exc)
            self._mark()
            raise self.unavailable() from None
        self._up_at = time.time()
        with self._lock:
            self._probing = False
            self._down_since = None
            self._error = ""
        self._unmark()

    def answered(self) -> None:
        """The store answered a request: up (whoever sent it)."""
        self._up_at = time.time()
        if self._down_since is not None:
            with self._lock:
                self._down_since = None
                self._error = ""
            self._unmark()

    def failed(self, message: str) -> None:
        """The store did not answer: down until a probe is answered."""
        with self._lock:
            if self._down_since is None:
                self._down_since = datetime.now(UTC).replace(microsecond=0)
            self._error = message
            self._next_probe = time.monotonic() + PROBE_EVERY
        self._mark()

    # The mark shared with the other processes over this store -----------------

    def _marked_elsewhere(self) -> bool:
        """Another process found the store down since it last answered here: if
        so this breaker is down too (probing first after PROBE_EVERY)."""
        if self.shared is None:
            return False
        try:
            marked = os.stat(self.shared).st_mtime
        except OSError:
            return False
        if marked <= self._up_at or time.time() - marked > MARK_FRESH:
            return False
        error = "another process serving this site could not reach it"
        with contextlib.suppress(OSError), open(self.shared) as mark:
            error = mark.read() or error
        with self._lock:
            if self._down_since is None:
                self._down_since = datetime.now(UTC).replace(microsecond=0)
                self._error = error
                self._next_probe = time.monotonic() + PROBE_EVERY
        return True

    def _mark(self) -> None:
        if self.shared is not None:
            with contextlib.suppress(OSError), open(self.shared, "w") as mark:
                mark.write(self._error)

    def _unmark(self) -> None:
        if self.shared is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.shared)

    def confirm(self) -> None:
        """Probe now: StoreUnavailableError if the store does not answer.

        For a failure seen elsewhere (a reader process) that may be the store's.
        """
        with self._lock:
            down = self._down_since is not None
        if down:
            self.check()
            return
        # a query may have used up the request's time on its own (query_timeout
        # above page_timeout): a short probe still, never "down" untried
        left = time_left()
        wait = PROBE_SECONDS if left is None else min(PROBE_SECONDS, max(left, 0.25))
        try:
            self._probe(wait)
        except (StoreError, OSError) as exc:
            self.failed(f"it did not answer a probe: {exc}")
            raise self.unavailable() from None


def confirm(store: object) -> None:
    """Probe ``store`` if it has a breaker (a remote store): StoreUnavailableError
    if it does not answer. An embedded store is in this process: nothing to do."""
    breaker = getattr(store, "health", None)
    if isinstance(breaker, Breaker):
        breaker.confirm()


def check(store: object) -> None:
    """Before work that reaches ``store`` another way (a reader process): at once
    a StoreUnavailableError while it is known to be down (or the probe, when one
    is due). An embedded store has no breaker: nothing to do."""
    breaker = getattr(store, "health", None)
    if isinstance(breaker, Breaker):
        breaker.check()


def state(store: object) -> State | None:
    """The breaker's state of ``store`` (None: it has none, being embedded)."""
    breaker = getattr(store, "health", None)
    return breaker.state() if isinstance(breaker, Breaker) else None


def shared_mark(index_path: str, endpoint: str) -> str | None:
    """The file that marks the store at ``endpoint`` down for every process
    serving the site of the listing index ``index_path`` (None: an index in
    memory, so no other process)."""
    if not index_path or index_path == ":memory:":
        return None
    digest = hashlib.blake2b(endpoint.encode("utf-8"), digest_size=4).hexdigest()
    return f"{index_path}.store-down-{digest}"
