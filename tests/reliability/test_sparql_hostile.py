"""The hostile SPARQL corpus (tests/reliability/hostile-queries.txt) over real
HTTP: each query gets the answer its entry expects, never a 500, and a cheap ASK
sent all the while stays quick (issue 10)."""

from __future__ import annotations

import http.client
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.publisher_server import PublisherProcess

pytestmark = pytest.mark.reliability

CORPUS = Path(__file__).with_name("hostile-queries.txt")
ENV = {
    "PUBLISHER_QUERY_TIMEOUT": "2",
    "PUBLISHER_QUERY_MEMORY_MB": "200",
    "PUBLISHER_QUERY_CACHE": "0",
}
#: the cheap query's latency while the corpus runs
BOUND = 1.5


@dataclass(frozen=True)
class Entry:
    name: str
    statuses: frozenset[int]
    contains: str
    query: str


def _expand(text: str) -> str:
    return re.sub(
        r"<<(\d+)\*(.*?)>>", lambda m: m.group(2) * int(m.group(1)), text, flags=re.S
    )


def load() -> list[Entry]:
    entries: list[Entry] = []
    header: list[str] | None = None
    lines: list[str] = []

    def close() -> None:
        if header is not None:
            entries.append(
                Entry(
                    header[0],
                    frozenset(int(s) for s in header[1].split(",")),
                    header[2] if len(header) > 2 else "",
                    _expand("\n".join(lines)),
                )
            )

    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.startswith("=== "):
            close()
            header = [part.strip() for part in line[4:].split("|")]
            lines = []
        elif header is not None:
            lines.append(line)
    close()
    return entries


def post(port: int, query: str) -> tuple[int, bytes, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.monotonic()
    try:
        connection.request(
            "POST",
            "/sparql",
            body=query.encode("utf-8"),
            headers={
                "Content-Type": "application/sparql-query",
                "Accept": "application/sparql-results+json",
            },
        )
        response = connection.getresponse()
        return response.status, response.read(), time.monotonic() - started
    finally:
        connection.close()


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with PublisherProcess(env=ENV) as server:
        found = urllib.parse.urlsplit(server.url("/")).port
        assert found is not None
        yield found


def test_the_corpus_is_well_formed() -> None:
    entries = load()
    assert len(entries) >= 20
    assert len({e.name for e in entries}) == len(entries)


def test_every_hostile_query_gets_its_answer(port: int) -> None:
    assert post(port, "ASK {}")[0] == 200  # a warm reader
    latencies: list[float] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            status, _, seconds = post(port, "ASK { ?s ?p ?o }")
            latencies.append(seconds if status == 200 else float("inf"))
            done.wait(0.2)

    thread = threading.Thread(target=probe)
    thread.start()
    wrong = []
    try:
        for entry in load():
            status, body, _ = post(port, entry.query)
            text = body.decode("utf-8", "replace")
            if (
                status == 500
                or status not in entry.statuses
                or entry.contains.lower() not in text.lower()
                or "Traceback" in text
            ):
                wrong.append((entry.name, status, text[:200]))
    finally:
        done.set()
        thread.join()
    assert wrong == []
    assert latencies and max(latencies) < BOUND, sorted(latencies)[-5:]
