"""The SPARQL endpoint under hostile queries (issue 10, defects 4, 5, 8, 9), over
real HTTP against one server with a 2 s time limit, a 200 MB memory cap and four
readers: one process, then ``publisher serve --workers 2``."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from tests.apps import ServerFactory
from tests.publisher_server import PublisherProcess

pytestmark = pytest.mark.reliability

TIMEOUT = 2.0
#: readers for the whole server; each client may hold SHARE of them
CAP, SHARE = 4, 3
ENV = {
    "PUBLISHER_QUERY_TIMEOUT": "2",
    "PUBLISHER_QUERY_MEMORY_MB": "200",
    "PUBLISHER_QUERY_CONCURRENCY": str(CAP),
    "PUBLISHER_QUERY_MAX_BYTES": str(4 << 20),
    "PUBLISHER_QUERY_CACHE": "0",
}
ASK = "ASK { ?s ?p ?o }"
#: a string that doubles until it is gigabytes (within 2 s, past 200 MB)
BOMB = (
    'SELECT (STRLEN(?s30) AS ?n) WHERE { BIND ("0123456789abcdef" AS ?s0) '
    + " ".join(f"BIND (CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(30))
    + " }"
)
#: seconds of work (a cartesian product), long past the time limit
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
_heavy = itertools.count()


def heavy() -> str:
    """HEAVY, a text never sent before (identical queries sent together share
    one run: docs/sparql.md), so each holds a reader of its own."""
    return f"{HEAVY} OFFSET {next(_heavy)}"


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def server(
    make_module_server: ServerFactory, request: pytest.FixtureRequest
) -> Iterator[PublisherProcess]:
    """One process, then ``--workers 2``: the limits hold for the whole server,
    whichever worker takes a query (docs/serving.md). The default four readers:
    with one shared cap, eight heavy queries from one client would hold all four
    and every other client's query would get 503."""
    server = make_module_server(ENV, workers=request.param)
    yield server
    server.stop()  # before the next worker count's server starts


def test_a_huge_query_holds_up_no_other_query(server: PublisherProcess) -> None:
    """Defect 4: a 1 MB query is checked within the time limit, and cheap ASKs
    sent meanwhile answer within 1 s each (they waited 27 s behind the parser)."""
    # rdflib takes minutes over this one (was parsed in the server, under a lock)
    big = "SELECT * WHERE { VALUES ?x { " + "1 " * 510_000 + "} }"
    assert len(big) > 1_000_000
    assert server.post_query(ASK)[0] == 200  # a warm reader: its start is not the stall
    outcome: list[tuple[int, bytes, float]] = []
    thread = threading.Thread(target=lambda: outcome.append(server.post_query(big)))
    thread.start()
    latencies = []
    while thread.is_alive():
        status, _, seconds = server.post_query(ASK)
        assert status == 200
        latencies.append(seconds)
    thread.join()
    status, body, seconds = outcome[0]
    # (Oxigraph parses it at once, then its 510,000 rows may pass the memory cap)
    assert status in (200, 400, 504, 507), body[:300]
    assert seconds < TIMEOUT + 1
    assert latencies and max(latencies) < 1.0, latencies


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE " + "{ " * 3000 + "?s ?p ?o" + " }" * 3000,
        "SELECT * WHERE { ?s ?p ?o "
        + " ".join(f"OPTIONAL {{ ?s ?p ?o{i} }}" for i in range(2000))
        + " }",
        "SELECT * WHERE { FILTER (" + "(" * 3000 + "1" + ")" * 3000 + ") }",
    ],
    ids=["3000-braces", "2000-optionals", "3000-parentheses"],
)
def test_deep_nesting_is_a_clean_answer(server: PublisherProcess, query: str) -> None:
    """Defect 5: deep nesting was a 500 (RecursionError)."""
    status, body, _ = server.post_query(query)
    assert status in (200, 400, 504), body[:300]
    if status == 400:
        assert b"Traceback" not in body and body.strip()


def test_a_memory_bomb_is_stopped_at_the_cap(server: PublisherProcess) -> None:
    """Defect 8: a string-doubling query reached 3.1 GB; now 507 at the cap, and
    the next query is answered by a fresh reader."""
    status, body, seconds = server.post_query(BOMB)
    assert status == 507, (status, body[:300])
    assert b"MB" in body
    assert seconds < TIMEOUT + 1
    assert server.post_query(ASK)[0] == 200


def test_one_clients_heavy_queries_leave_room_for_another(
    server: PublisherProcess,
) -> None:
    """Defect 9: while 127.0.0.2 keeps eight heavy queries running, at least 95 %
    of 127.0.0.3's cheap queries answer 200 (they all answered 503)."""
    stop = time.monotonic() + 2 * TIMEOUT

    def keep_busy() -> None:
        while time.monotonic() < stop:
            server.post_query(heavy(), "127.0.0.2")

    threads = [threading.Thread(target=keep_busy) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    statuses = []
    while time.monotonic() < stop:
        statuses.append(server.post_query(ASK, "127.0.0.3")[0])
    for thread in threads:
        thread.join()
    assert statuses
    assert statuses.count(200) >= 0.95 * len(statuses), statuses


def test_the_cap_and_the_shares_are_the_whole_servers(
    server: PublisherProcess,
) -> None:
    """Two rounds of heavy queries sent at once, four from 127.0.0.2 and two from
    other clients, each round taken by one worker (the other stopped meanwhile):
    at most CAP run in all (the others 503 at once), at most SHARE of them
    127.0.0.2's. Counted per worker, two workers would run eight, six of them
    127.0.0.2's. (With one process, both rounds go to it.)"""
    workers = server.worker_pids()
    rounds = [[w for w in workers if w != pid] for pid in workers] or [[], []]
    statuses: list[tuple[str, int]] = []
    threads: list[threading.Thread] = []

    def send(text: str, source: str, start: threading.Barrier) -> None:
        start.wait()
        statuses.append((source, server.post_query(text, source)[0]))

    for n, stopped in enumerate(rounds):
        sources = ["127.0.0.2"] * 4 + [f"127.0.0.{4 + 2 * n}", f"127.0.0.{5 + 2 * n}"]
        start = threading.Barrier(len(sources))
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        try:
            for source in sources:
                threads.append(
                    threading.Thread(target=send, args=(heavy(), source, start))
                )
                threads[-1].start()
            time.sleep(0.5)  # taken: each that runs holds a reader for TIMEOUT
        finally:
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)
    for thread in threads:
        thread.join()
    ran = [source for source, status in statuses if status != 503]
    assert len(statuses) == 12
    assert 1 <= len(ran) <= CAP, statuses
    assert ran.count("127.0.0.2") <= SHARE, statuses
