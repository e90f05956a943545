"""``publisher serve --workers 2``: real processes over HTTP (docs/serving.md).

Over an embedded store worker 0 writes and the other follows its checkpoints and
hands writes to it; over a remote store both are alike. Which worker accepts a
connection is the kernel's choice, so the tests that need one of them stop the
other (SIGSTOP): then only that one can answer.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from publisher.store.oxigraph import EmbeddedStore

from .apps import ServerFactory
from .oxigraph_server import OxigraphProcess
from .publisher_server import ADMIN_TOKEN, PublisherProcess
from .test_api_e2e import Answer, call, get, page, provisional

#: a write shows on every worker within this (the follow interval is 0.1 s)
VISIBLE_SECONDS = 5.0


def _admin(server: PublisherProcess, method: str, path: str, body: Any = None) -> Any:
    return call(server, method, path, body, token=ADMIN_TOKEN)


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def _descendants(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        found += [child, *_descendants(child)]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _workers(server: PublisherProcess, count: int = 2) -> list[int]:
    """The server's worker processes, once there are ``count`` of them."""
    assert server.process is not None
    deadline = time.monotonic() + 30
    while True:
        found = _children(server.process.pid)
        if len(found) == count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _writer(server: PublisherProcess) -> int:
    """The worker that holds the embedded store (its lock file names it)."""
    info = json.loads(Path(server.store + ".lock").read_text())
    pid: int = info["pid"]
    return pid


@contextmanager
def _stopped(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def _seen_everywhere(server: PublisherProcess, path: str, status: int) -> None:
    """Within VISIBLE_SECONDS, ``path`` answers ``status`` to 20 requests in a row
    (each request a new connection: any worker may take it)."""
    deadline = time.monotonic() + VISIBLE_SECONDS
    while True:
        answers = [page(server, path).status for _ in range(20)]
        if answers == [status] * 20:
            return
        assert time.monotonic() < deadline, (path, answers)
        time.sleep(0.1)


@pytest.fixture(scope="module")
def embedded(make_module_server: ServerFactory) -> PublisherProcess:
    return make_module_server(workers=2)


@pytest.fixture(scope="module")
def remote(
    make_module_server: ServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PublisherProcess]:
    folder = tmp_path_factory.mktemp("workers-remote")
    with OxigraphProcess(folder / "oxigraph") as store:
        yield make_module_server(
            {
                "PUBLISHER_ENDPOINT": store.query_url,
                "PUBLISHER_UPDATE_ENDPOINT": store.update_url,
                "PUBLISHER_GSP_ENDPOINT": store.store_url,
                "PUBLISHER_INDEX": str(folder / "index.sqlite"),
                "PUBLISHER_SCHEDULE": str(folder / "schedule.sqlite"),
            },
            workers=2,
        )


def test_each_worker_answers_on_the_one_port(embedded: PublisherProcess) -> None:
    workers = _workers(embedded)
    assert len(workers) == 2, workers
    for worker in workers:
        other = next(w for w in workers if w != worker)
        with _stopped(other):  # only ``worker`` can take the connections now
            for path in ("/", "/releases/labour-market-overview-uk-september-2026"):
                assert page(embedded, path).status == 200, (worker, path)
            answer = call(
                embedded,
                "GET",
                "/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D&format=json",
                token=None,
            )
            assert answer.status == 200, answer.body
            assert answer.json["boolean"] is True


MARK = "Handed-over-7Z2Q"


def _marked(server: PublisherProcess) -> bool:
    """Whether the SPARQL endpoint finds MARK in any graph."""
    status, body, _ = server.post_query(
        f'ASK {{ GRAPH ?g {{ ?s ?p ?o FILTER(CONTAINS(STR(?o), "{MARK}")) }} }}'
    )
    assert status == 200, body
    found: bool = json.loads(body)["boolean"]
    return found


def test_a_write_to_the_follower_reaches_the_writer_and_every_worker(
    embedded: PublisherProcess,
) -> None:
    writer = _writer(embedded)
    (follower,) = [w for w in _workers(embedded) if w != writer]
    slug = "workers-handed-over"
    record = provisional(slug, summary=f"{MARK}: {provisional(slug)['summary']}")
    answers: list[Answer] = []

    def create() -> None:
        answers.append(_admin(embedded, "POST", "/api/releases", record))

    with _stopped(follower):
        assert not _marked(embedded)  # (and the writer's answer is cached)
    with _stopped(writer):  # the follower takes the write and waits for the writer
        assert not _marked(embedded)
        thread = threading.Thread(target=create)
        thread.start()
        time.sleep(0.5)
        assert not answers, "answered while the writer was stopped"
    thread.join(30)
    assert answers and answers[0].status == 201, answers
    _seen_everywhere(embedded, f"/releases/{slug}", 200)
    _seen_everywhere(embedded, f"/api/releases/{slug}", 200)
    with _stopped(writer):  # the follower's queries see it (no answer of before)
        deadline = time.monotonic() + VISIBLE_SECONDS
        while not _marked(embedded):
            assert time.monotonic() < deadline, "the follower's answer is stale"
            time.sleep(0.1)

    # and a write the writer takes itself reaches the follower
    with _stopped(follower):
        deleted = _admin(embedded, "DELETE", f"/api/releases/{slug}?reason=test")
        assert deleted.status == 200, deleted.body
    _seen_everywhere(embedded, f"/releases/{slug}", 410)
    with _stopped(follower):
        assert not _marked(embedded)
    with _stopped(writer):  # its checkpoint was published before its answer
        deadline = time.monotonic() + VISIBLE_SECONDS
        while _marked(embedded):
            assert time.monotonic() < deadline, "the follower's answer is stale"
            time.sleep(0.1)


def _schedule(server: PublisherProcess, slug: str, at: datetime) -> None:
    """A confirmed release, and its published version scheduled for ``at``."""
    moment = at.isoformat().replace("+00:00", "Z")
    record = provisional(slug, status="confirmed", release_date=moment)
    record.pop("provisional_date")
    created = _admin(server, "POST", "/api/releases", record)
    assert created.status == 201, created.body
    _seen_everywhere(server, f"/api/releases/{slug}", 200)
    announced = get(server, slug)
    published = {**announced.json, "status": "published", "published_date": moment}
    scheduled = call(
        server,
        "PUT",
        f"/api/releases/{slug}",
        published,
        token=ADMIN_TOKEN,
        if_match=announced.etag,
    )
    assert scheduled.status == 202, scheduled.body


@pytest.mark.parametrize("where", ["embedded", "remote"])
def test_a_scheduled_release_is_published_once(
    where: str, request: pytest.FixtureRequest
) -> None:
    server: PublisherProcess = request.getfixturevalue(where)
    slug = f"workers-scheduled-{where}"
    # far enough ahead that announcing it and sending the published version is
    # done before the minute even on a busy machine (4 s was not, at load 10)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=8)
    _schedule(server, slug, at)
    assert datetime.now(UTC) < at, "too slow to test: scheduled after its minute"
    while datetime.now(UTC) < at:
        time.sleep(0.1)
    deadline = time.monotonic() + 10
    while get(server, slug).json["status"] != "published":
        assert time.monotonic() < deadline, "never published"
        time.sleep(0.2)
    time.sleep(1.5)  # a second publisher would have published by now
    feed = page(server, "/feeds/changes.atom").body.decode()
    entries = [e for e in feed.split("<entry>") if f"/releases/{slug}" in e]
    published = [e for e in entries if '<category term="published"/>' in e]
    assert len(published) == 1, entries


def test_remote_workers_are_alike(remote: PublisherProcess) -> None:
    workers = _workers(remote)
    assert len(workers) == 2, workers
    slug = "workers-remote-alike"
    for worker in workers:
        other = next(w for w in workers if w != worker)
        with _stopped(other):
            answer = _admin(remote, "POST", "/api/releases", provisional(slug))
            assert answer.status == 201, (worker, answer.body)
        _seen_everywhere(remote, f"/releases/{slug}", 200)
        with _stopped(other):
            deleted = _admin(remote, "DELETE", f"/api/releases/{slug}?reason=t")
            assert deleted.status == 200, (worker, deleted.body)
        _seen_everywhere(remote, f"/releases/{slug}", 410)
        slug += "-2"


def test_a_killed_worker_is_replaced_and_sigterm_stops_all(
    make_server: ServerFactory,
) -> None:
    server = make_server(workers=2)
    assert server.process is not None
    supervisor = server.process.pid
    writer = _writer(server)
    (follower,) = [w for w in _workers(server) if w != writer]

    os.kill(follower, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while follower in (found := _workers(server)) or len(found) != 2:
        assert time.monotonic() < deadline, f"not replaced: {found}"
        time.sleep(0.1)
    with _stopped(writer):  # the new follower answers on its own
        assert page(server, "/").status == 200

    os.kill(writer, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _writer(server) == writer or len(_workers(server)) != 2:
        assert time.monotonic() < deadline, "no new writer"
        time.sleep(0.1)
    created = _admin(server, "POST", "/api/releases", provisional("workers-after"))
    assert created.status == 201, created.body
    _seen_everywhere(server, "/releases/workers-after", 200)

    everyone = _descendants(supervisor)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(20) == 0
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in everyone):
        assert time.monotonic() < deadline, [p for p in everyone if _alive(p)]
        time.sleep(0.1)
    # no lock left behind: the store opens at once, and the private socket is gone
    EmbeddedStore.open(server.store).close()
    assert not Path(server.store + ".workers", "writer.sock").exists()
