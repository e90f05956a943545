"""A remote store outage under load (issue 10, defect 7): a real ``oxigraph serve``
holding the sample calendar, ``publisher serve`` over it, client threads reading
pages, the API and /sparql, and the store killed, restarted, then frozen.

- killed: every answer is 200 or 503 (never 500 nor another 5xx); a 503 carries
  Retry-After and the surface's own content type; once the store is known to be
  down (the first 503), answers come within 0.5 s;
- restarted on the same port and data: answers are 200 again within a few
  seconds, with no restart of ``publisher serve``;
- frozen (SIGSTOP): no request takes longer than page_timeout (2 s here) plus a
  margin; after SIGCONT, 200 again.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from publisher.errors import StoreUnavailableError
from publisher.store import health
from tests.oxigraph_server import OxigraphProcess
from tests.publisher_server import PublisherProcess

pytestmark = pytest.mark.reliability

PAGE_TIMEOUT = 2.0
#: how much past page_timeout a request may end (scheduling, a reader's kill)
MARGIN = 1.0
#: once the store is known down, every answer comes within this
FAST = 0.5
#: after the store is back, every answer is 200 again within this
RECOVERY = 3.0
SLUG = "labour-market-overview-uk-september-2026"
CLIENTS = 4

#: path -> the media type its 503 comes in
SURFACES = {
    "/": "text/html",
    "/releases?view=published": "text/html",
    f"/releases/{SLUG}": "text/html",
    "/api/releases": "application/json",
    f"/api/releases/{SLUG}": "application/json",
    "/sparql?query=": "text/plain",
    "/healthz": "application/json",
}
#: answered without the store: pages rendered before it went down, as they were,
#: and lists, from the listing index, the API's calendar page with the records
#: kept beside it (nothing can change either while it is down: docs/serving.md);
#: the others answer 503
KEPT = {"/", f"/releases/{SLUG}", "/releases?view=published", "/api/releases"}


@dataclass(frozen=True)
class Sample:
    surface: str  # a key of SURFACES
    path: str
    started: float
    ended: float
    status: int  # 0: no answer at all
    media_type: str
    retry_after: str | None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


class Load:
    """``CLIENTS`` threads that cycle through SURFACES until stopped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.samples: list[Sample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True)
            for n in range(CLIENTS)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self, n: int) -> None:
        paths = list(SURFACES)
        i = n
        while not self._stop.is_set():
            surface = path = paths[i % len(paths)]
            if path.endswith("query="):  # a new query each time: the readers run
                path += urllib.parse.quote(
                    f"SELECT ?s WHERE {{ ?s ?p ?o }} LIMIT 2 OFFSET {i}"
                )
            self._get(surface, path)
            i += 1

    def _get(self, surface: str, path: str) -> None:
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path, headers={"Accept": "*/*"})
            response = connection.getresponse()
            response.read()
            status = response.status
            media = (response.getheader("Content-Type") or "").split(";")[0].strip()
            retry = response.getheader("Retry-After")
        except OSError:
            status, media, retry = 0, "", None
        finally:
            connection.close()
        sample = Sample(surface, path, started, time.monotonic(), status, media, retry)
        with self._lock:
            self.samples.append(sample)

    def since(self, moment: float) -> list[Sample]:
        with self._lock:
            return [s for s in self.samples if s.started >= moment]

    def between(self, start: float, end: float) -> list[Sample]:
        """The requests under way at some moment from ``start`` to ``end``."""
        with self._lock:
            return [s for s in self.samples if s.ended >= start and s.started < end]


def _check_answers(samples: list[Sample]) -> None:
    """200 or 503; a 503 with Retry-After, in the surface's own format."""
    assert samples
    for sample in samples:
        assert sample.status in (200, 503), sample
        if sample.status == 503:
            assert sample.retry_after and int(sample.retry_after) >= 1, sample
            assert sample.media_type == SURFACES[sample.surface], sample


def _wait_for_200(load: Load, since: float, limit: float) -> float:
    """Seconds from ``since`` until the last answer that was not 200, once every
    surface has answered 200 (to a request made after ``since``)."""
    deadline = since + limit + 5
    while time.monotonic() < deadline:
        time.sleep(0.25)
        after = load.since(since)
        if {s.surface for s in after if s.status == 200} == set(SURFACES):
            bad = [s.ended for s in after if s.status != 200]
            return max(bad, default=since) - since
    raise AssertionError("the site did not come back after the store did")


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[OxigraphProcess, PublisherProcess]]:
    """The store, and over it one process, then ``--workers 2`` (over a remote
    store every worker is alike: each finds the outage and the recovery itself,
    and keeps its own renderings; docs/serving.md)."""
    folder: Path = tmp_path_factory.mktemp("outage")
    store = OxigraphProcess(folder / "oxigraph")
    store.start()
    site = PublisherProcess(
        {
            "PUBLISHER_ENDPOINT": store.query_url,
            "PUBLISHER_UPDATE_ENDPOINT": store.update_url,
            "PUBLISHER_GSP_ENDPOINT": store.store_url,
            "PUBLISHER_INDEX": str(folder / "index.sqlite"),
            "PUBLISHER_SCHEDULE": str(folder / "schedule.sqlite"),
            "PUBLISHER_PAGE_TIMEOUT": str(PAGE_TIMEOUT),
            "PUBLISHER_QUERY_TIMEOUT": "1",
            "PUBLISHER_STORE_TIMEOUT": "10",
            "PUBLISHER_STORE_RETRIES": "3",
        },
        workers=request.param,
    )
    try:
        site.start()
        yield store, site
    finally:
        site.cleanup()
        if store.process is not None:
            os.kill(store.process.pid, signal.SIGCONT)
        store.cleanup()


def _kept_in_every_worker(site: PublisherProcess) -> None:
    """Each worker renders the KEPT pages (the others stopped meanwhile): each
    keeps its own renderings, and a page one worker never rendered needs the
    store (docs/serving.md)."""
    workers = site.worker_pids()
    for pid in workers:
        others = [other for other in workers if other != pid]
        for other in others:
            os.kill(other, signal.SIGSTOP)
        try:
            for path in KEPT:
                assert site.request("GET", path)[0] == 200, path
        finally:
            for other in others:
                os.kill(other, signal.SIGCONT)


def test_a_killed_store_answers_503_fast_and_recovers(
    stack: tuple[OxigraphProcess, PublisherProcess],
) -> None:
    store, site = stack
    _kept_in_every_worker(site)
    with Load(site.port) as load:
        time.sleep(1.0)
        warm = load.since(0)
        assert warm and all(s.status == 200 for s in warm), warm

        store.kill()
        killed = time.monotonic()
        time.sleep(2.5)
        during = load.between(killed, time.monotonic())
        _check_answers(during)
        down = [s for s in during if s.status == 503]
        assert down, "no 503 while the store was down"
        known = min(s.ended for s in down)
        late = [s for s in load.since(known) if s.seconds > FAST]
        assert not late, late
        assert {s.surface for s in down} == set(SURFACES) - KEPT
        kept = [s for s in during if s.surface in KEPT]
        assert kept and all(s.status == 200 for s in kept), kept

        store.start()  # the same port and data folder
        back = time.monotonic()
        recovered = _wait_for_200(load, back, RECOVERY)
        assert recovered < RECOVERY
        _check_answers(load.since(killed))
        fast = [s for s in load.since(known) if s.started < back]
        print(  # for -s: what was measured
            f"killed: {len(during)} answers, {len(down)} 503, first 503 after "
            f"{known - killed:.2f} s, slowest once known "
            f"{max(s.seconds for s in fast):.3f} s, recovery {recovered:.2f} s"
        )


def test_a_frozen_store_holds_no_request_past_page_timeout(
    stack: tuple[OxigraphProcess, PublisherProcess],
) -> None:
    store, site = stack
    store.start()  # running already, unless the test before failed
    assert store.process is not None
    with Load(site.port) as load:
        time.sleep(0.5)
        os.kill(store.process.pid, signal.SIGSTOP)
        frozen = time.monotonic()
        try:
            time.sleep(2 * PAGE_TIMEOUT + 1)
        finally:
            os.kill(store.process.pid, signal.SIGCONT)
        thawed = time.monotonic()
        recovered = _wait_for_200(load, thawed, RECOVERY)
    # the load has stopped: every request made while frozen has ended
    during = load.between(frozen, thawed)
    slow = [s for s in during if s.seconds > PAGE_TIMEOUT + MARGIN]
    assert not slow, slow
    _check_answers(during)
    assert any(s.status == 503 for s in during)
    assert recovered < RECOVERY
    print(
        f"frozen: {len(during)} answers, "
        f"{sum(s.status == 503 for s in during)} 503, slowest "
        f"{max(s.seconds for s in during):.2f} s, recovery {recovered:.2f} s"
    )


def test_a_store_found_down_by_one_worker_is_down_for_all(tmp_path: Path) -> None:
    """Two breakers of one site (two workers' stores): once one finds the store
    down, the other fails at once too, then probes for itself; the first
    answered probe removes the mark, and a stale mark is ignored."""
    mark = health.shared_mark(str(tmp_path / "index.sqlite"), "http://127.0.0.1:1/q")
    assert mark is not None
    up = threading.Event()

    def probe(timeout: float) -> None:
        if not up.is_set():
            raise OSError("connection refused")

    first, second = (health.Breaker("store", probe, mark) for _ in range(2))
    with health.serving(PAGE_TIMEOUT):
        second.check()  # nothing known: tried
        first.failed("connection refused")
        with pytest.raises(StoreUnavailableError):
            second.check()  # at once, without a probe of its own
        assert second.state().up is False
        up.set()
        time.sleep(health.PROBE_EVERY)
        second.check()  # its own probe, answered: up, and the mark is gone
        assert not Path(mark).exists()
        first.failed("connection refused")
        os.utime(mark, (0, time.time() - health.MARK_FRESH - 1))
        third = health.Breaker("store", probe, mark)
        third.check()  # a leftover of a killed process: not news
        assert third.state().up
