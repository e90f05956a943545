"""The SPARQL readers' cap counted for every process of one server.

The running queries and each client's fair share (publisher.store.readers) are
byte-range locks on one file of the pool's run directory, so that they hold for
all the workers of a server together, and end with a killed worker.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading


class SharedCap:
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
_SHARED: dict[tuple[str | None, int], SharedCap] = {}
_SHARED_LOCK = threading.Lock()


def _share_offset(client: str, place: int, size: int) -> int:
    digest = hashlib.blake2b(client.encode("utf-8"), digest_size=5).digest()
    return _SLOTS + int.from_bytes(digest, "big") * max(size, 1) + place


def shared_cap(path: str | None) -> SharedCap:
    """This process's counts for the lock file ``path`` (None: this pool only)."""
    if path is None:
        return SharedCap(None)
    with _SHARED_LOCK:
        key = (path, os.getpid())
        found = _SHARED.get(key)
        if found is None:
            found = _SHARED[key] = SharedCap(path)
        return found
