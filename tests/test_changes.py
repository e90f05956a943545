"""What each write changed, shared by a server's workers (publisher.changes), and
the pages made again ahead of readers (publisher.web.warm)."""

from __future__ import annotations

import gzip
import threading
import time
from pathlib import Path

from flask import Flask

from publisher.changes import KEPT, ChangeLog
from publisher.site import SiteService
from publisher.web.warm import Warmer, in_turn, warm_changed_pages
from publisher.write_values import Wrote

from .apps import AppFactory, put_summary, second_app

SLUG = "labour-market-overview-uk-september-2026"
OTHER = "business-enterprise-rd-expenditure-provisional-uk-2025"


def _site(app: Flask) -> SiteService:
    site: SiteService = app.extensions["publisher"]
    return site


def test_steps_are_followed_from_one_version_to_another(tmp_path: Path) -> None:
    log = ChangeLog(str(tmp_path / "changes"))
    log.record("v1", "v2", ["a", "b"])
    log.record("v2", "v3", ["c"])
    log.record("v3", "v3", ["ignored"])  # not a move
    assert log.between("v1", "v3") == {"a", "b", "c"}
    assert log.between("v2", "v3") == {"c"}
    assert log.between("v3", "v3") == set()
    assert log.between("v0", "v3") is None  # a step not recorded: anything changed
    assert log.between(None, "v3") is None
    # another process sees the same steps
    assert ChangeLog(str(tmp_path / "changes")).between("v1", "v2") == {"a", "b"}


def test_only_the_last_steps_are_kept(tmp_path: Path) -> None:
    log = ChangeLog(str(tmp_path / "changes"))
    for n in range(KEPT + 10):
        log.record(f"v{n}", f"v{n + 1}", [f"r{n}"])
    assert log.between(f"v{KEPT + 9}", f"v{KEPT + 10}") == {f"r{KEPT + 9}"}
    assert log.between("v0", "v1") is None


def test_another_workers_recorded_write_forgets_only_what_it_changed(
    make_app: AppFactory, tmp_path: Path
) -> None:
    reader = make_app()
    writer = second_app(make_app, reader)
    log = str(tmp_path / "changes")
    _site(reader).changes = ChangeLog(log)
    _site(writer).changes = ChangeLog(log)
    client = reader.test_client()
    kept_other = client.get(f"/releases/{OTHER}").get_data()
    client.get(f"/releases/{SLUG}")
    put_summary(writer, SLUG, "Now with regional figures.")
    assert _site(reader).refresh()  # the version moved, by a step it can read
    misses = _site(reader).renderings.figures.misses
    assert client.get(f"/releases/{OTHER}").get_data() == kept_other
    assert _site(reader).renderings.figures.misses == misses  # still kept
    assert "Now with regional figures" in client.get(f"/releases/{SLUG}").text


def test_a_step_not_recorded_forgets_everything(
    make_app: AppFactory, tmp_path: Path
) -> None:
    reader = make_app()
    writer = second_app(make_app, reader)
    _site(reader).changes = ChangeLog(str(tmp_path / "changes"))  # the writer's: none
    client = reader.test_client()
    client.get(f"/releases/{OTHER}")
    put_summary(writer, SLUG, "Now with regional figures.")
    assert _site(reader).refresh()
    misses = _site(reader).renderings.figures.misses
    client.get(f"/releases/{OTHER}")
    assert _site(reader).renderings.figures.misses == misses + 1  # made again


def test_a_changed_page_is_made_again_before_anyone_asks(
    make_app: AppFactory,
) -> None:
    app = make_app()
    warmer: Warmer = warm_changed_pages(app)
    client = app.test_client()
    client.get(f"/releases/{SLUG}")
    put_summary(app, SLUG, "Now with regional figures.")
    deadline = time.monotonic() + 30
    while warmer.made < 1:
        assert time.monotonic() < deadline, "the changed page was never made"
        time.sleep(0.02)
    hits = _site(app).renderings.figures.hits
    page = client.get(f"/releases/{SLUG}", headers={"Accept-Encoding": "gzip"})
    assert _site(app).renderings.figures.hits == hits + 1  # kept ahead of the reader
    assert page.headers["Content-Encoding"] == "gzip"
    assert b"Now with regional figures" in gzip.decompress(page.data)


def test_a_page_nobody_read_is_not_made_ahead(make_app: AppFactory) -> None:
    app = make_app()
    warmer: Warmer = warm_changed_pages(app)
    put_summary(app, OTHER, "Not read by anyone yet.")
    assert warmer.made == 0
    assert warmer._thread is None  # nothing was ever handed to it


def test_a_look_in_the_middle_of_a_write_leaves_the_write_to_follow_it(
    make_app: AppFactory,
) -> None:
    """Between a write's commit and its follow, a reader's due look (or the
    watcher) finds the store's version moved. It must not sync the index then: a
    sync in full at 100,000 releases held the minute's releases back by seconds,
    and the write's follow, finding the index no longer at the version it started
    from, synced in full again."""
    app = make_app()
    site = _site(app)
    publishing = app.extensions["publisher.publishing"]
    before = site.data_version()
    seen: list[tuple[bool, str | None]] = []

    def look_now(wrote: Wrote) -> None:
        assert wrote.previous == before and wrote.version != before

        def reader() -> None:  # a reader's due look, from another thread
            seen.append((site.refresh(wait=False), site.index.data_version()))

        thread = threading.Thread(target=reader)
        thread.start()
        thread.join()

    publishing.write_listeners.insert(0, look_now)
    put_summary(app, SLUG, "Now with regional figures.")
    assert seen == [(False, before)]  # no look, the index untouched, mid-write
    after = site.data_version()
    assert after != before and site.index.data_version() == after
    page = app.test_client().get(f"/releases/{SLUG}").text
    assert "Now with regional figures" in page


def test_each_worker_starts_making_pages_at_its_own_share() -> None:
    slugs = [f"r{n}" for n in range(6)]
    assert in_turn(slugs, (0, 1)) == slugs
    assert in_turn(slugs, (0, 2)) == slugs
    assert in_turn(slugs, (1, 2)) == ["r3", "r4", "r5", "r0", "r1", "r2"]
    assert in_turn(slugs, (2, 3)) == ["r4", "r5", "r0", "r1", "r2", "r3"]
    assert in_turn([], (1, 2)) == []
