"""Renderings shared by a server's workers at one data version
(publisher.shared_renderings): made by one, taken by the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask

from publisher.renderings import rendering
from publisher.shared_renderings import ENTRIES, SharedRenderings
from publisher.site import SiteService

from .apps import AppFactory, put_summary, second_app

SLUG = "labour-market-overview-uk-september-2026"
NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def _site(app: Flask) -> SiteService:
    site: SiteService = app.extensions["publisher"]
    return site


def test_a_rendering_comes_back_as_it_was_put(tmp_path: Path) -> None:
    shared = SharedRenderings(str(tmp_path / "r"))
    made = rendering(
        "<p>" + "x" * 2000 + "</p>",
        "text/html; charset=utf-8",
        kind="html",
        last_modified=NOW,
        tags={"release:a", "listings"},
        expires=NOW + timedelta(hours=1),
        headers=[("X-Extra", "1")],
    )
    shared.put("v1", ("release", "a", "html"), made)
    other = SharedRenderings(str(tmp_path / "r"))  # another worker's connection
    assert other.get("v1", ("release", "a", "html"), NOW) == made
    assert other.get("v2", ("release", "a", "html"), NOW) is None  # another version
    assert other.get("v1", ("release", "b", "html"), NOW) is None
    # its clock-dependent text gone stale: not taken
    assert other.get("v1", ("release", "a", "html"), NOW + timedelta(hours=2)) is None


def test_only_the_last_entries_are_kept(tmp_path: Path) -> None:
    shared = SharedRenderings(str(tmp_path / "r"))
    for n in range(ENTRIES + 5):
        shared.put("v1", ("k", str(n)), rendering(b"x", "text/plain", kind="t"))
    assert shared.get("v1", ("k", "0"), NOW) is None
    assert shared.get("v1", ("k", str(ENTRIES + 4)), NOW) is not None


def test_a_page_one_worker_made_is_taken_by_another(
    make_app: AppFactory, tmp_path: Path
) -> None:
    first = make_app()
    second = second_app(make_app, first)
    path = str(tmp_path / "renderings")
    _site(first).shared = SharedRenderings(path)
    _site(second).shared = SharedRenderings(path)
    made = first.test_client().get(f"/releases/{SLUG}")
    taken = second.test_client().get(f"/releases/{SLUG}")
    assert _site(second).shared.taken == 1  # type: ignore[union-attr]
    assert taken.get_data() == made.get_data()
    assert taken.headers["ETag"] == made.headers["ETag"]
    # a write moves the version: the other worker's page is not taken again
    put_summary(second, SLUG, "Now with regional figures.")
    _site(first).refresh()
    again = first.test_client().get(f"/releases/{SLUG}")
    assert "Now with regional figures" in again.text
