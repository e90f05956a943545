"""The worker processes of ``publisher serve --workers N``: fork, restart, stop.

The supervisor binds the public socket, then forks the workers, which all accept
on it (the kernel hands each connection to one of them). It holds nothing else:
no store, no thread, no reader process, so a fork copies nothing that could be
shared by mistake (a lock, a RocksDB handle, a thread that does not exist in the
child); it refuses to fork while another thread runs. Each worker builds its app
after the fork, and says when it is ready through a pipe.

Worker 0 is the *primary* (over an embedded store, the writer; it runs the
scheduler) and is started first: the others start once it is ready. A worker that
ends is started again (after a second, if it ended within a second of starting,
so a worker that cannot start does not spin); only a primary that fails its very
first start ends the server, with its exit code (it said why). SIGTERM or SIGINT
(Ctrl-C) stops every worker with SIGTERM, then SIGKILL for any still running after
``STOP_SECONDS``. A worker ends with the supervisor however that ends
(publisher.workers.end_with_parent), so ``kill -9`` of the supervisor leaves no
worker behind, and the locks they held end with them (``flock``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from publisher.workers import end_with_parent

#: how long the workers have to stop after SIGTERM before they are killed
STOP_SECONDS = 10.0
#: a worker that ends sooner than this after starting is restarted after a pause
QUICK_END_SECONDS = 1.0
_BACKLOG = 1024

#: what a worker runs: (its number, a function to call once it is ready); it
#: returns the process's exit code
WorkerMain = Callable[[int, Callable[[], None]], int]


def listen(host: str, port: int) -> socket.socket:
    """The public listening socket, bound before any worker is forked."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(_BACKLOG)
    sock.set_inheritable(True)
    return sock


def private_socket(path: str) -> socket.socket:
    """A Unix socket at ``path`` that only this user may connect to (a stale
    one, left by a killed process, is replaced)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(path)
    finally:
        os.umask(old)
    sock.listen(_BACKLOG)
    return sock


@dataclass
class _Worker:
    number: int
    pid: int
    ready_fd: int
    started: float
    ready: bool = False
    status: int = 0  # as os.waitpid gives it, once it has ended


class Supervisor:
    """Runs ``count`` workers until SIGTERM or SIGINT."""

    def __init__(
        self, count: int, main: WorkerMain, announce: Callable[[str], None] = print
    ) -> None:
        self.count = count
        self.main = main
        self.announce = announce
        self.workers: dict[int, _Worker] = {}  # by pid
        self._stopping = False

    def run(self) -> int:
        """Start the workers and keep them running; the exit code."""
        previous = {
            s: signal.signal(s, _interrupt) for s in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            first = self._start(0)
            if not self._wait_ready(first):
                return self._first_failure(first)
            for number in range(1, self.count):
                self._start(number)
            self._watch()
        except KeyboardInterrupt:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, signal.SIG_IGN if sig == signal.SIGINT else handler)
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _start(self, number: int) -> _Worker:
        if threading.active_count() > 1:
            raise RuntimeError("the supervisor forks only while it runs no thread")
        read_fd, write_fd = os.pipe()
        parent = os.getpid()
        # what the supervisor imported stays shared with the workers: frozen out
        # of the collector, whose bookkeeping would otherwise copy every page
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the supervisor's code
            os.close(read_fd)
            for other in self.workers.values():
                os.close(other.ready_fd)
            os._exit(_child(number, parent, write_fd, self.main))
        os.close(write_fd)
        worker = _Worker(number, pid, read_fd, time.monotonic())
        self.workers[pid] = worker
        return worker

    def _wait_ready(self, worker: _Worker) -> bool:
        """Wait until ``worker`` is ready (True) or has ended (False)."""
        while True:
            readable, _, _ = select.select([worker.ready_fd], [], [], 0.5)
            if readable:
                worker.ready = os.read(worker.ready_fd, 1) == b"r"
                if worker.ready:
                    return True
            done, status = os.waitpid(worker.pid, os.WNOHANG)
            if done:
                self._forget(worker)
                worker.status = status
                return False

    def _first_failure(self, worker: _Worker) -> int:
        if os.WIFEXITED(worker.status) and os.WEXITSTATUS(worker.status):
            return os.WEXITSTATUS(worker.status)
        return 1

    def _watch(self) -> None:
        while True:
            pid, status = os.wait()
            worker = self.workers.get(pid)
            if worker is None:
                continue
            self._forget(worker)
            self.announce(
                f"Worker {worker.number} (process {pid}) {_ending(status)}; "
                "starting another."
            )
            if time.monotonic() - worker.started < QUICK_END_SECONDS:
                time.sleep(QUICK_END_SECONDS)
            self._start(worker.number)

    def _forget(self, worker: _Worker) -> None:
        self.workers.pop(worker.pid, None)
        with contextlib.suppress(OSError):
            os.close(worker.ready_fd)

    def _stop_all(self) -> None:
        for pid in list(self.workers):
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while self.workers and time.monotonic() < deadline:
            for pid in list(self.workers):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    self._forget(self.workers[pid])
            time.sleep(0.05)
        for pid in list(self.workers):
            _signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self._forget(self.workers[pid])


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _ending(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was ended by signal {os.WTERMSIG(status)}"
    return f"exited with code {os.WEXITSTATUS(status)}"


def _child(number: int, parent: int, ready_fd: int, main: WorkerMain) -> int:
    """The body of a forked worker: its exit code (it never returns further)."""
    try:
        end_with_parent(parent)
        # Ctrl-C reaches the whole process group: the supervisor decides, and
        # stops the workers with SIGTERM, which ends waitress' loop here
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, _interrupt)

        def ready() -> None:
            os.write(ready_fd, b"r")
            os.close(ready_fd)

        return main(number, ready)
    except KeyboardInterrupt:
        return 0
    except BaseException as exc:  # a worker must end here, whatever happened
        print(f"Worker {number} failed: {exc!r}", file=sys.stderr)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
