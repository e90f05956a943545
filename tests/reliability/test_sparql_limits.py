"""The SPARQL endpoint under hostile queries (issue 10, defects 4, 5, 8, 9), over
real HTTP against one server with a 2 s time limit and a 200 MB memory cap."""

from __future__ import annotations

import threading
import time

import pytest

from tests.apps import ServerFactory
from tests.publisher_server import PublisherProcess

pytestmark = pytest.mark.reliability

TIMEOUT = 2.0
ENV = {
    "PUBLISHER_QUERY_TIMEOUT": "2",
    "PUBLISHER_QUERY_MEMORY_MB": "200",
    "PUBLISHER_QUERY_CONCURRENCY": "9",
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


@pytest.fixture(scope="module")
def server(make_module_server: ServerFactory) -> PublisherProcess:
    return make_module_server(ENV)


@pytest.fixture(scope="module")
def fair_server(make_module_server: ServerFactory) -> PublisherProcess:
    """The default four readers: with one shared cap, eight heavy queries from one
    client would hold all four and every other client's query would get 503."""
    return make_module_server({**ENV, "PUBLISHER_QUERY_CONCURRENCY": "4"})


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
    fair_server: PublisherProcess,
) -> None:
    """Defect 9: while 127.0.0.2 keeps eight heavy queries running, at least 95 %
    of 127.0.0.3's cheap queries answer 200 (they all answered 503)."""
    stop = time.monotonic() + 2 * TIMEOUT

    def heavy() -> None:
        while time.monotonic() < stop:
            fair_server.post_query(HEAVY, "127.0.0.2")

    threads = [threading.Thread(target=heavy) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    statuses = []
    while time.monotonic() < stop:
        statuses.append(fair_server.post_query(ASK, "127.0.0.3")[0])
    for thread in threads:
        thread.join()
    assert statuses
    assert statuses.count(200) >= 0.95 * len(statuses), statuses
