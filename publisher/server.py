"""Run the web app under waitress, a production WSGI server, in one or more processes.

Between the CLI and the web package, so neither imports the other (STYLE.md).

One worker serves as it always did: one process owns the store, threads serve.
Several (``--workers N``, setting ``workers``, default one per core) are forked by
publisher.supervisor after it has bound the public socket; each builds its own
app after the fork (docs/serving.md):

- over an embedded store, worker 0 is the *writer*: it opens the store, runs the
  scheduler, publishes a checkpoint after every change of the data version
  (publisher.store.checkpoints) and also listens on a private Unix socket; the
  other workers are *followers*: they read the current checkpoint and hand every
  write to the writer over that socket (publisher.store.handoff);
- over a remote store every worker is alike, and worker 0 runs the scheduler.

Exactly one process publishes scheduled releases: the scheduler runs only while
its process holds ``<schedule>.scheduler.lock`` (``flock``; it ends with the
process, so a killed worker leaves no stale lock).
"""

from __future__ import annotations

import fcntl
import gc
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from waitress import serve as waitress_serve
from waitress.server import create_server

from publisher import supervisor
from publisher.changes import ChangeLog
from publisher.config import Settings
from publisher.errors import PublisherError, StoreError
from publisher.scheduler import Scheduler
from publisher.shared_renderings import SharedRenderings
from publisher.store.checkpoints import (
    CheckpointPublisher,
    CheckpointStore,
    FollowerIndex,
    workers_folder,
)
from publisher.store.handoff import Handoff
from publisher.store.oxigraph import EmbeddedStore
from publisher.web import create_app
from publisher.web.warm import warm_changed_pages
from publisher.workers import MemoryTrimmer, limit_arenas

#: how often the writer looks for a new data version, and a follower for a new
#: checkpoint (a file's status: microseconds)
FOLLOW_SECONDS = 0.1
#: how often a process that does not hold the scheduler's lock tries for it, and
#: the scheduler's process looks at the shared schedule for entries others made
LEASE_SECONDS = 1.0
#: for every waitress server: its name, and X-Forwarded-For left to the app.
#: waitress drops proxy headers unless it trusts the proxy itself; the app
#: believes them only from the addresses in ``trusted_proxies`` (issue 7), so
#: waitress must pass them on.
WAITRESS_OPTIONS: dict[str, Any] = {
    "ident": "release-publisher",
    "clear_untrusted_proxy_headers": False,
}
#: threads of the writer's private server (writes take the write lock one by one)
HANDOFF_THREADS = 4


def worker_count(settings: Settings, workers: int | None = None) -> int:
    """``workers`` if given, else the setting; 0 means one per core."""
    count = settings.workers if workers is None else workers
    if count:
        return count
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def serve(
    settings: Settings,
    host: str,
    port: int,
    threads: int,
    announce: Callable[[str], None] = print,
    workers: int | None = None,
) -> int:
    """Serve the site until interrupted; the exit code."""
    count = worker_count(settings, workers)
    # memory budgets (renderings, SPARQL answers) are the whole server's
    settings = replace(settings, workers=count)
    if count == 1:
        _serve_alone(settings, host, port, threads, announce)
        return 0
    plan = _Plan.for_settings(settings)
    # what another run rendered (perhaps another version of this code): gone
    SharedRenderings.remove(f"{settings.index_path}.renderings")
    listener = supervisor.listen(host, port)
    announce(
        f"Serving {settings.site_name} at {settings.base_url}/ (listening on "
        f"http://{host}:{port}, {count} worker processes of {threads} threads"
        f"{', one writing the embedded store' if plan.folder else ''}). "
        "Ctrl-C stops."
    )

    def main(number: int, ready: Callable[[], None]) -> int:
        return _worker(settings, plan, number, listener, threads, ready)

    try:
        return supervisor.Supervisor(count, main, announce).run()
    finally:
        listener.close()
        plan.tidy()


def _serve_alone(
    settings: Settings,
    host: str,
    port: int,
    threads: int,
    announce: Callable[[str], None],
) -> None:
    limit_arenas()
    app = create_app(settings, scheduler=True)
    publishing = app.extensions["publisher.publishing"]
    publishing.write_listeners.append(MemoryTrimmer().wrote)
    # The listing index catches up before the port opens, not on the first
    # visitor's request (a whole store, after an upgrade, takes a while).
    announce("Bringing the listing index up to date with the store...")
    app.extensions["publisher"].current()
    app.extensions["publisher"].start_watcher()  # others' writes, within version_watch
    # two readers ready for the first SPARQL queries (a new one takes ~0.3 s)
    sparql = app.extensions["publisher.sparql"]
    sparql.readers.start(min(2, settings.query_concurrency))
    warm_changed_pages(app)
    gc.freeze()  # the app as built: out of the collector's full passes
    announce(
        f"Serving {settings.site_name} at {settings.base_url}/ (listening on "
        f"http://{host}:{port}, {threads} threads). Ctrl-C stops."
    )
    try:
        waitress_serve(app, host=host, port=port, threads=threads, **WAITRESS_OPTIONS)
    finally:
        sparql.close()
        app.extensions["publisher.scheduler"].stop()


@dataclass(frozen=True)
class _Plan:
    """Where the workers meet: decided before the fork, the same for all."""

    folder: Path | None  # the writer's checkpoints (embedded store only)
    writer_socket: str  # the writer's private socket ("" over a remote store)
    scheduler_lock: str
    grace: float  # seconds a replaced checkpoint is kept

    @classmethod
    def for_settings(cls, settings: Settings) -> _Plan:
        lock = settings.schedule_path + ".scheduler.lock"
        if settings.endpoint:
            return cls(None, "", lock, 0.0)
        folder = workers_folder(settings.store)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = str(folder / "writer.sock")
        if len(path.encode()) > 100:  # a Unix socket's path is short (108 bytes)
            path = str(Path(tempfile.mkdtemp(prefix="publisher-")) / "writer.sock")
        grace = settings.query_timeout + settings.page_timeout + 30.0
        return cls(folder, path, lock, grace)

    def tidy(self) -> None:
        if self.writer_socket:
            Path(self.writer_socket).unlink(missing_ok=True)


def _worker(
    settings: Settings,
    plan: _Plan,
    number: int,
    listener: Any,
    threads: int,
    ready: Callable[[], None],
) -> int:
    """One worker's life, after the fork: build its app, serve, clean up."""
    closing: list[Callable[[], None]] = []
    stop = threading.Event()
    limit_arenas()  # before any thread: waitress' would each get an arena
    try:
        if plan.folder is None:
            app: Any = _alike(settings, plan, number, stop, closing)
        elif number == 0:
            app = _writer(settings, plan, stop, closing)
        else:
            app = _follower(settings, plan, number, stop, closing)
        # the app as built lives as long as the worker: out of the collector's
        # full passes, which would walk it again and again while requests wait
        gc.freeze()
        ready()
        waitress_serve(app, sockets=[listener], threads=threads, **WAITRESS_OPTIONS)
    except PublisherError as exc:
        print(f"Error: {exc}", flush=True)
        return exc.exit_code or 1
    finally:
        stop.set()
        for close in reversed(closing):
            try:
                close()
            except (PublisherError, OSError) as exc:
                print(f"Worker {number}: {exc}", flush=True)
    return 0


def _app_closing(
    app: Any, settings: Settings, closing: list[Callable[[], None]], number: int = 0
) -> None:
    site = app.extensions["publisher"]
    sparql = app.extensions["publisher.sparql"]
    closing.append(site.store.close)
    closing.append(sparql.close)
    # a write's freed memory handed back to the system a second after it
    publishing = app.extensions["publisher.publishing"]
    publishing.write_listeners.append(MemoryTrimmer().wrote)
    # two readers ready per worker: a cheap query behind a heavy one finds one
    sparql.readers.start(min(2, settings.query_concurrency))
    # what each write changed, so that the other workers forget only that
    site.changes = ChangeLog(f"{settings.index_path}.changes")
    closing.append(site.changes.close)
    # and what each worker rendered, for the others
    site.shared = SharedRenderings(f"{settings.index_path}.renderings")
    closing.append(site.shared.close)
    warm_changed_pages(app, (number, settings.workers))


def _writer(
    settings: Settings,
    plan: _Plan,
    stop: threading.Event,
    closing: list[Callable[[], None]],
) -> Any:
    assert plan.folder is not None  # noqa: S101 - an embedded store's plan
    app = create_app(settings)
    site = app.extensions["publisher"]
    _app_closing(app, settings, closing)
    site.current()
    store = site.store
    if not isinstance(store, EmbeddedStore):
        raise StoreError("the writer worker needs the embedded store")
    checkpoints = CheckpointPublisher(store, plan.folder, plan.grace)
    checkpoints.publish(site.data_version())
    _checkpoint_each_write(app, checkpoints)

    def publish_versions() -> None:
        ticks = 0
        while not stop.wait(FOLLOW_SECONDS):
            ticks += 1
            try:
                if not checkpoints.publish(site.data_version()) and not ticks % 100:
                    checkpoints.prune()
            except PublisherError as exc:
                print(f"The writer could not publish a checkpoint: {exc}", flush=True)

    _thread(publish_versions, "checkpoints")
    _run_scheduler(app, plan, stop, closing)
    # the followers' writes arrive on a socket of their own (waitress serves
    # Internet and Unix sockets apart), in a loop of their own
    private = create_server(
        app,
        sockets=[supervisor.private_socket(plan.writer_socket)],
        threads=HANDOFF_THREADS,
        **WAITRESS_OPTIONS,
    )
    closing.append(lambda: Path(plan.writer_socket).unlink(missing_ok=True))
    closing.append(private.close)
    _thread(private.run, "handoff-server")
    return app


def _checkpoint_each_write(app: Any, checkpoints: CheckpointPublisher) -> None:
    """An API write (or a scheduled one) publishes its checkpoint before it is
    answered, after the listing index has followed it: a client that reads after
    a write's answer waits only for the followers' next look. (Other writes, a
    SPARQL Update, are found by the writer's loop within FOLLOW_SECONDS.)"""
    app.extensions["publisher.publishing"].write_listeners.append(
        lambda wrote: checkpoints.publish(wrote.version)
    )


def _follower(
    settings: Settings,
    plan: _Plan,
    number: int,
    stop: threading.Event,
    closing: list[Callable[[], None]],
) -> Any:
    assert plan.folder is not None  # noqa: S101 - an embedded store's plan
    store = CheckpointStore(plan.folder)
    closing.append(store.close)
    index = FollowerIndex(settings.index_path, store)
    app = create_app(settings, store=store, index=index)
    site = app.extensions["publisher"]
    _app_closing(app, settings, closing, number)

    def follow() -> None:
        while not stop.wait(FOLLOW_SECONDS):
            try:
                if store.follow():
                    site.refresh()  # its version, and what it keeps, follow
            except PublisherError as exc:
                print(f"A worker could not open a checkpoint: {exc}", flush=True)

    _thread(follow, "checkpoint-follower")
    return Handoff(app, plan.writer_socket)


def _alike(
    settings: Settings,
    plan: _Plan,
    number: int,
    stop: threading.Event,
    closing: list[Callable[[], None]],
) -> Any:
    app = create_app(settings)
    _app_closing(app, settings, closing, number)
    app.extensions["publisher"].current()
    # the other workers' writes (and other nodes'), within version_watch
    app.extensions["publisher"].start_watcher()
    closing.append(app.extensions["publisher"].stop_watcher)
    if number == 0:
        _run_scheduler(app, plan, stop, closing)
    return app


def _run_scheduler(
    app: Any,
    plan: _Plan,
    stop: threading.Event,
    closing: list[Callable[[], None]],
) -> None:
    """Run the scheduler once this process holds the scheduler's lock, and wake
    it when the shared schedule changes elsewhere (another worker's API)."""
    scheduler: Scheduler = app.extensions["publisher.scheduler"]
    publishing = app.extensions["publisher.publishing"]
    closing.append(scheduler.stop)
    lock = open(plan.scheduler_lock, "a", encoding="utf-8")  # noqa: SIM115
    closing.append(lock.close)

    def lease() -> None:
        while not _try_lock(lock):
            if stop.wait(LEASE_SECONDS):
                return
        scheduler.start()
        upcoming = publishing.next_publication()
        while not stop.wait(LEASE_SECONDS):
            now = publishing.schedule.reread()  # others' entries too
            if now != upcoming:
                upcoming = now
                scheduler.wake()

    _thread(lease, "scheduler-lease")


def _try_lock(lock: IO[str]) -> bool:
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _thread(target: Callable[[], None], name: str) -> None:
    threading.Thread(target=target, name=name, daemon=True).start()
