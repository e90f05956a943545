"""The SPARQL readers' cap across processes, their lifetime, and the check that
decides which queries need the full parse (publisher.queries.needs_parse).

The endpoint's own limits over real HTTP are in test_sparql_e2e.py and
tests/reliability/.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from publisher.errors import ReadersBusyError
from publisher.queries import needs_parse
from publisher.store import QueryJob
from publisher.store.oxigraph import EmbeddedStore
from publisher.store.readers import SWEEP_SECONDS, ReaderPool

# The cap across processes ------------------------------------------------------

_HOLDER = """
import sys, time
from publisher.store.readers import ReaderPool
pool = ReaderPool(3, 10, run_dir=sys.argv[1])
pool._acquire("10.0.0.1")
pool._acquire("10.0.0.1")
print("holding", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process over the same run directory, holding two of three slots
    for client 10.0.0.1 (its whole share)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "holding"
    yield process
    process.kill()
    process.wait()
    process.stdout.close()


def test_the_cap_and_fair_shares_hold_across_processes(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    pool = ReaderPool(3, 10, run_dir=str(tmp_path))
    with pytest.raises(ReadersBusyError, match="of your queries"):
        pool._acquire("10.0.0.1")  # its share is taken in the other process
    held = pool._acquire("10.0.0.2")  # the third slot
    with pytest.raises(ReadersBusyError, match="3 queries are running"):
        pool._acquire("10.0.0.3")
    pool._release(held, "10.0.0.2")
    pool._release(pool._acquire("10.0.0.3"), "10.0.0.3")
    holder.kill()  # a killed worker holds nothing
    holder.wait()
    taken = [pool._acquire("10.0.0.1"), pool._acquire("10.0.0.1")]
    taken.append(pool._acquire("10.0.0.4"))
    for held, client in zip(taken, ["10.0.0.1", "10.0.0.1", "10.0.0.4"], strict=True):
        pool._release(held, client)


def test_without_a_run_directory_each_pool_has_its_own_cap(tmp_path: Path) -> None:
    first, second = ReaderPool(1, 10), ReaderPool(1, 10)
    held = first._acquire("a")
    with pytest.raises(ReadersBusyError):
        first._acquire("b")
    second._release(second._acquire("b"), "b")
    first._release(held, "a")


# Readers live as long as the server, not the thread that started them ----------


def test_a_reader_outlives_the_thread_that_started_it() -> None:
    pool = ReaderPool(1, 10)
    try:

        def start() -> None:
            pool.start(1)
            pool._idle[0].wait_ready()  # its death signal is set by now

        thread = threading.Thread(target=start)
        thread.start()
        thread.join()
        time.sleep(0.5)
        assert pool._idle[0].process.poll() is None
    finally:
        pool.close()


# Readers no longer needed end ------------------------------------------------------

ASK = QueryJob("ASK { ?s ?p ?o }", None, None, False, 10)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A checkpoint of a small embedded store, as the endpoint gives readers."""
    folder = tmp_path_factory.mktemp("readers")
    store = EmbeddedStore.open(folder / "store")
    try:
        return store.reader_source(str(folder / "checkpoint"))
    finally:
        store.close()


def _until(done: Callable[[], bool], seconds: float) -> bool:
    """Whether ``done()`` comes true within ``seconds`` (a bound on a stall,
    not a timing: the sweep runs every SWEEP_SECONDS)."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_idle_readers_end_but_the_most_recently_used(source: dict[str, str]) -> None:
    pool = ReaderPool(3, 10, idle_seconds=0.2, warm=1)
    try:
        pool.start(3)
        started = [reader.process for reader in pool._idle]
        assert pool.run(source, ASK).kind == "ask"  # takes, gives back the last
        last = pool._idle[-1].process
        assert _until(lambda: len(pool._idle) == 1, 10 * SWEEP_SECONDS)
        assert pool._idle[0].process is last and last.poll() is None
        # ended, not leaked (each is killed just after it leaves the idle list)
        assert _until(
            lambda: sum(p.poll() is not None for p in started) == 2, 10 * SWEEP_SECONDS
        )
        assert pool.run(source, ASK).kind == "ask"  # the warm one answers
    finally:
        pool.close()


def test_without_an_idle_time_readers_are_kept(source: dict[str, str]) -> None:
    pool = ReaderPool(3, 10)
    try:
        pool.start(3)
        time.sleep(3 * SWEEP_SECONDS)
        assert len(pool._idle) == 3
    finally:
        pool.close()


def test_a_reader_grown_past_the_bound_is_ended_not_kept(
    source: dict[str, str],
) -> None:
    pool = ReaderPool(1, 10, keep_idle=1, retire_bytes=1)  # every reader is past it
    try:
        pool.start(1)
        first = pool._idle[0].process
        assert pool.run(source, ASK).kind == "ask"
        assert first.poll() is not None
        assert pool._idle == []
        assert pool.run(source, ASK).kind == "ask"  # a new one takes its place
    finally:
        pool.close()


# Which texts need the full parse -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needed"),
    [
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 10", False),
        ("ASK { <http://example.org/a> ?p ?o }", False),
        ("select * where { service <x> {} }", True),
        ("SELECT ?service WHERE { BIND (1 AS ?service) }", True),
        ("PREFIX s: <http://schema.org/> ASK { ?x a s:Service }", True),
        ("ASK { ?x ?p 'Download' }", True),
        ("SELECT * WHERE { \\u0053ERVICE <x> {} }", True),
        ("SELECT * WHERE { \\U00000053ERVICE <x> {} }", True),
    ],
)
def test_only_texts_that_could_spell_service_or_load_are_parsed(
    text: str, needed: bool
) -> None:
    assert needs_parse(text) is needed


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A port on 127.0.0.1 that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            seen.append(conn.recv(100))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize(
    "pattern",
    [
        "SERVICE:x {}",  # Oxigraph reads SERVICE then the name :x
        "SERVICE SILENT:x {}",
        "?s ?p 1SERVICE :x {}",
        "SERVICEex:x {}",
        "FILTER (1<2)SERVICE:x#>\n {}",  # a "<...>" that is no IRI
    ],
)
def test_service_as_oxigraph_reads_it_is_refused_and_fetches_nothing(
    client: FlaskClient, listener: tuple[int, list[bytes]], pattern: str
) -> None:
    """Spellings that Oxigraph runs as SERVICE (each fetched a port like this
    one when run directly by pyoxigraph 0.5.13), through the endpoint."""
    port, seen = listener
    query = (
        f"PREFIX : <http://127.0.0.1:{port}/>\n"
        f"PREFIX ex: <http://127.0.0.1:{port}/>\n"
        f"SELECT * WHERE {{ {pattern} }}"
    )
    reply = client.get("/sparql", query_string={"query": query, "format": "json"})
    assert reply.status_code == 400, reply.data
    time.sleep(0.3)
    assert seen == []
