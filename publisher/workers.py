"""Worker processes that hold nothing of their parent and end when it ends.

``publisher import`` holds the embedded store's lock (a ``flock`` on
``<store>.lock``) while its workers convert and validate. Workers forked from it
would share that lock's open file, so a ``kill -9`` of the import would leave them
alive, holding the lock, and the store locked by a process that no longer exists.
So workers are never forked from the process that holds the store:

- they are *spawned* (a new interpreter, fork and exec, with only the pipes the
  pool passes: no lock, no store, no sockets of the parent's). Each imports the
  pipeline (about 1 s of CPU, in parallel). multiprocessing's forkserver would be
  cheaper, but it hands every worker the write end of its "parent alive" pipe,
  so it outlives a killed parent as long as its workers do, and they wait for it;
- each worker asks the kernel to kill it when its parent ends
  (``PR_SET_PDEATHSIG`` on Linux: the pool's workers are started by the thread
  that submits work), and watches its parent itself where that is not available
  (a thread that ends the worker once it has been reparented).

A reader process (publisher.store.readers) calls :func:`end_with_parent` too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

#: how often the fallback watcher looks whether the parent is still there
WATCH_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


def worker_pool(jobs: int) -> ProcessPoolExecutor:
    """A pool of ``jobs`` workers that inherit no descriptor of this process."""
    return ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=end_with_parent,
        initargs=(os.getpid(),),
    )


def end_with_parent(expected: int | None = None) -> None:
    """End this process when its parent ends (call it first thing in a child).

    ``expected``: the parent's pid as the parent saw it, to catch a parent that
    ended before this call; None: whichever process is the parent now.
    """
    parent = os.getppid() if expected is None else expected
    if not _death_signal():
        threading.Thread(
            target=_watch, args=(parent,), name="end-with-parent", daemon=True
        ).start()
    if os.getppid() != parent:  # it ended before the signal was asked for
        os._exit(1)


def _death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent ends; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


# The allocator of a long-lived server process -------------------------------

#: glibc's mallopt parameter for the most malloc arenas
_M_ARENA_MAX = -8
#: a worker process's malloc arenas: waitress' threads each get one otherwise (up
#: to 8 per core), and each keeps the memory freed in it
WORKER_ARENAS = 2
#: seconds after a write before its memory is handed back (the request has been
#: answered and its objects freed by then; writes close together trim once)
TRIM_DELAY_SECONDS = 1.0


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.malloc_trim  # noqa: B018 - glibc only (not musl)
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(count: int = WORKER_ARENAS) -> bool:
    """Hold this process to ``count`` malloc arenas (glibc; False elsewhere).
    Call it before the process starts threads."""
    libc = _libc()
    return libc is not None and int(libc.mallopt(_M_ARENA_MAX, count)) == 1


def trim_memory() -> bool:
    """Give the heap's free pages back to the system (``malloc_trim``; False
    where there is no glibc). Only the allocator's pages: no collection is run
    here, so no finalizer runs on this thread at a moment of its choosing."""
    libc = _libc()
    return libc is not None and bool(libc.malloc_trim(0))


class MemoryTrimmer:
    """Trims this process's memory (:func:`trim_memory`) a moment after a write.

    A write's rdflib graphs and SHACL reports are freed when it is answered, but
    the allocator keeps their pages; :meth:`wrote` asks for them to be given
    back ``delay`` seconds later, on a thread of its own (started on the first
    call, so after a server forks its workers).
    """

    def __init__(self, delay: float = TRIM_DELAY_SECONDS) -> None:
        self.delay = delay
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._pid = 0
        self.trims = 0

    def wrote(self, *_: object) -> None:
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._wanted = os.getpid(), threading.Event()
                threading.Thread(
                    target=self._run, args=(self._wanted,), name="trim", daemon=True
                ).start()
            self._wanted.set()

    def _run(self, wanted: threading.Event) -> None:
        while True:
            wanted.wait()
            time.sleep(self.delay)
            wanted.clear()
            trim_memory()
            self.trims += 1
