"""The whole store as a gzipped N-Quads file, prepared once per data version.

``/dump.nq.gz`` used to build the dump in memory for every request (about 4 GB
of N-Quads at 100,000 releases). Here it is written once per data version,
streamed from the store into a gzip file (a temporary name, renamed into place),
and served from that file; a new data version gets a new file and the old ones
are removed. Concurrent first requests for one version wait for one build (a
lock per version). The files live beside an embedded store on disk
(``<store>.dumps``), or in a temporary folder for a store in memory or a remote
one.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from publisher.config import Settings
from publisher.errors import StoreError
from publisher.formats import BY_NAME
from publisher.store import Store, catalog

#: the file names this module writes (and removes when they are out of date)
PREFIX = "dump-"
SUFFIX = f".{BY_NAME['nquads'].suffix}.gz"
#: a build whose data version changed meanwhile is tried again this many times
ATTEMPTS = 3


@dataclass
class Dump:
    """An open dump file: ``version`` None when the store changed during every
    attempt (the file is then a one-off, not kept)."""

    file: BinaryIO
    size: int
    data_version: str | None


class DumpFiles:
    """The prepared dumps of one store."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._folder: Path | None = None
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def data_version(self) -> str | None:
        """The store's data version, the key of its dump (None: an empty store)."""
        return catalog.data_version(self.store, self.settings)

    def open(self) -> Dump:
        """The dump of the store's current data version, opened for reading.

        The file stays readable to the end even if a newer version removes it.
        """
        version = self.data_version()
        for _ in range(ATTEMPTS):
            path = self._path(version)
            with self._lock_for(version):
                try:
                    return self._opened(path, version)
                except FileNotFoundError:
                    pass
                built = self._build(path)
                now = self.data_version()
                if now == version:
                    dump = self._opened(built, version)  # before anyone removes it
                    os.replace(built, path)
                    self._remove_others(path)
                    return dump
            os.unlink(built)  # the store changed while it was written
            version = now
        built = self._build(self._path(None).with_name(PREFIX + "one-off"))
        dump = self._opened(built, None)
        os.unlink(built)  # read to the end through the open file, then gone
        return dump

    def _opened(self, path: Path, version: str | None) -> Dump:
        handle = open(path, "rb")  # noqa: SIM115 - the caller closes it
        return Dump(handle, os.fstat(handle.fileno()).st_size, version)

    def _build(self, path: Path) -> Path:
        """Write the store's N-Quads, gzipped, to a temporary file beside ``path``."""
        fd, name = tempfile.mkstemp(
            prefix=path.name + ".", suffix=".tmp", dir=path.parent
        )
        try:
            with (
                os.fdopen(fd, "wb") as raw,
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out,
            ):
                self.store.dump(cast(BinaryIO, out), "nquads")
        except BaseException:
            os.unlink(name)
            raise
        return Path(name)

    def _path(self, version: str | None) -> Path:
        key = hashlib.sha256((version or "").encode()).hexdigest()[:32]
        return self.folder() / f"{PREFIX}{key}{SUFFIX}"

    def _lock_for(self, version: str | None) -> threading.Lock:
        key = version or ""
        with self._guard:
            for other in [k for k in self._locks if k != key]:
                if not self._locks[other].locked():
                    del self._locks[other]  # an old version's: nobody waits on it
            return self._locks.setdefault(key, threading.Lock())

    def _remove_others(self, keep: Path) -> None:
        for path in self.folder().iterdir():
            if path == keep or not path.name.startswith(PREFIX):
                continue
            if path.name.endswith(SUFFIX):
                path.unlink(missing_ok=True)  # one being read stays readable

    def folder(self) -> Path:
        """Beside an embedded store on disk; a temporary folder otherwise."""
        with self._guard:
            if self._folder is None:
                self._folder = self._make_folder()
            return self._folder

    def _make_folder(self) -> Path:
        home = getattr(self.store, "path", None)
        if home:
            folder = Path(home).with_name(Path(home).name + ".dumps")
            try:
                folder.mkdir(exist_ok=True)
                for stale in folder.glob(f"{PREFIX}*.tmp"):
                    stale.unlink(missing_ok=True)  # a build a crash cut short
                return folder
            except OSError:
                pass  # a store folder we may not write beside: a temporary one
        try:
            folder = Path(tempfile.mkdtemp(prefix="publisher-dumps-"))
        except OSError as exc:
            raise StoreError(f"cannot make a folder for dumps: {exc}") from None
        weakref.finalize(self, shutil.rmtree, folder, True)
        return folder
