"""The hostile SPARQL corpus (tests/reliability/hostile-queries.txt) over real
HTTP: each query gets the answer its entry expects, never a 500, and a cheap ASK
sent all the while stays quick (issue 10)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.apps import ServerFactory
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


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def server(
    make_module_server: ServerFactory, request: pytest.FixtureRequest
) -> PublisherProcess:
    """One process, and ``--workers 2`` (a query may land on either worker: the
    writer, or the follower over its checkpoint; docs/serving.md)."""
    return make_module_server(ENV, workers=request.param)


def test_the_corpus_is_well_formed() -> None:
    entries = load()
    assert len(entries) >= 20
    assert len({e.name for e in entries}) == len(entries)


def test_every_hostile_query_gets_its_answer(server: PublisherProcess) -> None:
    assert server.post_query("ASK {}")[0] == 200  # a warm reader
    latencies: list[float] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            status, _, seconds = server.post_query("ASK { ?s ?p ?o }")
            latencies.append(seconds if status == 200 else float("inf"))
            done.wait(0.2)

    thread = threading.Thread(target=probe)
    thread.start()
    wrong = []
    try:
        for entry in load():
            status, body, _ = server.post_query(entry.query)
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
