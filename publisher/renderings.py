"""Renderings made once: what a page, a serialisation or a feed looks like, kept
until something it shows changes (DESIGN.md, "Serving").

A read of anything public is a lookup here. A rendering is made on the first
request for its key, by that request alone: requests that arrive together for a
key being made wait for it rather than make it again. Each rendering carries
its body, a gzip copy made once (for clients that accept it), its validators
(ETag, Last-Modified) and:

- its *tags*, what it shows (``release:<slug>`` for a release and each release
  whose title it shows, ``listings`` for anything listing releases): a write
  drops every rendering tagged with what it changed (:meth:`Renderings.drop`);
- the moment its clock-dependent text goes stale (``expires``: the next release
  on the home page passing, "in 3 days" becoming "in 2 days"), after which it is
  made again.

The cache is bounded by the bytes it holds (bodies and gzip copies), least
recently used dropped first. Its lock guards dictionaries only and is never
held while a rendering is made.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

#: bodies shorter than this are not worth a gzip copy
GZIP_MIN_BYTES = 512

#: how long a request waits for another's rendering of the same key before it
#: makes its own (the other may be stuck on a store that went away)
WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Rendering:
    """One made response body and what a response of it needs."""

    body: bytes
    content_type: str
    etag: str
    last_modified: datetime | None = None
    tags: frozenset[str] = frozenset()
    expires: datetime | None = None
    gzipped: bytes | None = field(default=None, repr=False)
    #: other headers of the response, answered with it
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")

    def fresh(self, now: datetime) -> bool:
        return self.expires is None or now < self.expires


def rendering(
    body: bytes | str,
    content_type: str,
    *,
    kind: str,
    last_modified: datetime | None = None,
    tags: Iterable[str] = (),
    expires: datetime | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Rendering:
    """A rendering of ``body``: its strong ETag is a digest of the bytes (the
    same on every worker and node that renders the same thing), prefixed by
    ``kind`` (one per representation)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    digest = hashlib.blake2b(data, digest_size=12).hexdigest()
    packed = (
        gzip.compress(data, compresslevel=6, mtime=0)
        if len(data) >= GZIP_MIN_BYTES
        else None
    )
    return Rendering(
        body=data,
        content_type=content_type,
        etag=f"{kind}-{digest}",
        last_modified=last_modified,
        tags=frozenset(tags),
        expires=expires,
        gzipped=packed if packed is not None and len(packed) < len(data) else None,
        headers=tuple(headers),
    )


class _Making:
    """A rendering under way: the others asking for its key wait on ``done``."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.made: Rendering | None = None
        self.failed = False


@dataclass
class Figures:
    hits: int = 0
    misses: int = 0
    waits: int = 0
    dropped: int = 0
    evicted: int = 0


class Renderings:
    """A bounded cache of renderings, keyed by whatever the caller names them."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, Rendering] = OrderedDict()
        self._tagged: dict[str, set[Hashable]] = {}
        self._making: dict[Hashable, _Making] = {}
        self._bytes = 0
        #: moves on every drop: a rendering begun before one is not kept
        self._generation = 0
        self._lock = threading.Lock()
        self.figures = Figures()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, key: Hashable, now: datetime | None = None) -> Rendering | None:
        """The rendering kept for ``key`` if it is still fresh."""
        with self._lock:
            return self._fresh(key, now or datetime.now(UTC))

    def holds(self, key: Hashable) -> bool:
        """Whether something is kept for ``key`` (fresh or not)."""
        with self._lock:
            return key in self._entries

    def get_or_make(
        self, key: Hashable, make: Callable[[], Rendering | None]
    ) -> Rendering | None:
        """The rendering for ``key``, made by ``make`` if there is none (None:
        there is nothing to render, e.g. no such release; not kept)."""
        while True:
            with self._lock:
                found = self._fresh(key, datetime.now(UTC))
                if found is not None:
                    return found
                making = self._making.get(key)
                mine = making is None
                if making is None:
                    making = self._making[key] = _Making()
                    self.figures.misses += 1
                generation = self._generation
            if mine:
                return self._make(key, make, making, generation)
            self.figures.waits += 1
            if making.done.wait(WAIT_SECONDS) and not making.failed:
                return making.made
            # the maker failed or is stuck: try again (perhaps making it ourselves)
            with self._lock:
                if self._making.get(key) is making and not making.done.is_set():
                    del self._making[key]

    def _make(
        self,
        key: Hashable,
        make: Callable[[], Rendering | None],
        making: _Making,
        generation: int,
    ) -> Rendering | None:
        try:
            made = make()
        except BaseException:
            making.failed = True
            with self._lock:
                if self._making.get(key) is making:
                    del self._making[key]
            making.done.set()
            raise
        with self._lock:
            if made is not None and generation == self._generation:
                self._keep(key, made)
            if self._making.get(key) is making:
                del self._making[key]
        making.made = made
        making.done.set()
        return made

    def drop(self, tags: Iterable[str]) -> int:
        """Forget every rendering tagged with any of ``tags``; how many."""
        with self._lock:
            self._generation += 1
            keys = {k for t in tags for k in self._tagged.get(t, ())}
            for key in keys:
                self._forget(key)
            self.figures.dropped += len(keys)
            return len(keys)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self.figures.dropped += len(self._entries)
            self._entries.clear()
            self._tagged.clear()
            self._bytes = 0

    # Under the lock ----------------------------------------------------------

    def _fresh(self, key: Hashable, now: datetime) -> Rendering | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if not found.fresh(now):
            self._forget(key)
            return None
        self._entries.move_to_end(key)
        self.figures.hits += 1
        return found

    def _keep(self, key: Hashable, made: Rendering) -> None:
        if made.size > self.max_bytes:
            return  # larger than the whole cache: served, not kept
        self._forget(key)
        self._entries[key] = made
        self._bytes += made.size
        for tag in made.tags:
            self._tagged.setdefault(tag, set()).add(key)
        while self._bytes > self.max_bytes and self._entries:
            oldest = next(iter(self._entries))
            self._forget(oldest)
            self.figures.evicted += 1

    def _forget(self, key: Hashable) -> None:
        old = self._entries.pop(key, None)
        if old is None:
            return
        self._bytes -= old.size
        for tag in old.tags:
            keys = self._tagged.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tagged[tag]
