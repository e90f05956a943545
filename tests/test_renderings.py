"""Renderings made once per change (publisher.renderings), and pages served
from them: one rendering however many ask at once, dropped by what they show,
bounded, gzip made once, 304 before anything is made."""

from __future__ import annotations

import gzip
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from publisher.renderings import Rendering, Renderings, rendering
from publisher.site import SiteService
from publisher.store import catalog

from .apps import PUBLISH_TOKEN, AppFactory

SLUG = "labour-market-overview-uk-september-2026"


def _made(text: str, **kw: object) -> Rendering:
    return rendering(text, "text/plain", kind="t", **kw)  # type: ignore[arg-type]


def test_one_rendering_however_many_ask_at_once() -> None:
    cache = Renderings(1 << 20)
    calls: list[int] = []
    gate = threading.Event()

    def make() -> Rendering:
        calls.append(1)
        gate.wait(5)
        return _made("x" * 1000)

    got: list[Rendering | None] = []
    threads = [
        threading.Thread(target=lambda: got.append(cache.get_or_make("k", make)))
        for _ in range(16)
    ]
    for t in threads:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join(10)
    assert len(calls) == 1
    assert len(got) == 16 and all(g is got[0] for g in got)
    assert cache.figures.waits >= 1


def test_a_failed_rendering_is_not_kept_and_the_next_request_makes_it() -> None:
    cache = Renderings(1 << 20)

    def broken() -> Rendering:
        raise RuntimeError("store down")

    with pytest.raises(RuntimeError):
        cache.get_or_make("k", broken)
    assert cache.get_or_make("k", lambda: _made("ok")) is not None
    assert cache.get("k") is not None


def test_drop_forgets_what_shows_a_tag_and_nothing_else() -> None:
    cache = Renderings(1 << 20)
    cache.get_or_make("a", lambda: _made("a", tags={"release:a", "listings"}))
    cache.get_or_make("b", lambda: _made("b", tags={"release:b"}))
    assert cache.drop(["release:a"]) == 1
    assert cache.get("a") is None
    assert cache.get("b") is not None
    assert cache.drop(["listings"]) == 0


def test_a_rendering_begun_before_a_drop_is_not_kept() -> None:
    cache = Renderings(1 << 20)

    def make() -> Rendering:
        cache.drop(["release:a"])  # a write lands while this renders
        return _made("old", tags={"release:a"})

    assert cache.get_or_make("a", make) is not None  # served to its asker
    assert cache.get("a") is None  # but not kept


def test_clock_dependent_renderings_expire() -> None:
    cache = Renderings(1 << 20)
    soon = datetime.now(UTC) + timedelta(seconds=0.3)
    cache.get_or_make("home", lambda: _made("next: 07:00", expires=soon))
    assert cache.get("home") is not None
    assert cache.get("home", now=soon + timedelta(seconds=1)) is None


def test_the_cache_is_bounded_by_bytes_least_recently_used_first() -> None:
    cache = Renderings(10_000)
    for n in range(30):
        cache.get_or_make(n, lambda n=n: _made(f"{n:04d}" * 100))  # 400 bytes
        cache.get(0)  # kept warm
    assert cache.bytes <= 10_000
    assert cache.get(0) is not None
    assert cache.get(1) is None
    assert cache.figures.evicted > 0


def test_gzip_copy_is_made_once_and_is_the_body() -> None:
    made = _made("release " * 500)
    assert made.gzipped is not None
    assert gzip.decompress(made.gzipped) == made.body
    assert _made("tiny").gzipped is None
    assert _made("same").etag == _made("same").etag != _made("other").etag


# Pages served from renderings ----------------------------------------------------


def _site(app: Flask) -> SiteService:
    found: SiteService = app.extensions["publisher"]
    return found


def test_a_release_page_is_rendered_once_and_then_looked_up(
    app: Flask, client: FlaskClient
) -> None:
    first = client.get(f"/releases/{SLUG}")
    assert first.status_code == 200
    misses = _site(app).renderings.figures.misses
    for _ in range(5):
        again = client.get(f"/releases/{SLUG}")
        assert again.get_data() == first.get_data()
        assert again.headers["ETag"] == first.headers["ETag"]
    assert _site(app).renderings.figures.misses == misses


def test_304_is_answered_from_the_kept_rendering(
    app: Flask, client: FlaskClient
) -> None:
    etag = client.get(f"/releases/{SLUG}.ttl").headers["ETag"]
    misses = _site(app).renderings.figures.misses
    answer = client.get(f"/releases/{SLUG}.ttl", headers={"If-None-Match": etag})
    assert (answer.status_code, answer.get_data()) == (304, b"")
    assert answer.headers["ETag"] == etag
    assert _site(app).renderings.figures.misses == misses


def test_gzip_is_served_to_clients_that_accept_it(client: FlaskClient) -> None:
    plain = client.get(f"/releases/{SLUG}")
    packed = client.get(f"/releases/{SLUG}", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    refused = client.get(f"/releases/{SLUG}", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


def test_a_write_through_the_api_renders_what_it_changed_again(
    make_app: AppFactory,
) -> None:
    app = make_app()
    client = app.test_client()
    other = "business-enterprise-rd-expenditure-provisional-uk-2025"
    assert "Now with regional figures" not in client.get(f"/releases/{SLUG}").text
    kept_other = client.get(f"/releases/{other}.ttl")
    record = client.get(f"/api/releases/{SLUG}").json
    assert record is not None
    record["summary"] += " Now with regional figures."
    reply = client.put(
        f"/api/releases/{SLUG}",
        json=record,
        headers={"Authorization": f"Bearer {PUBLISH_TOKEN}"},
    )
    assert reply.status_code == 200, reply.json
    page = client.get(f"/releases/{SLUG}").text
    assert "Now with regional figures" in page
    assert "changed: summary" in page  # its history too
    assert "Now with regional figures" in client.get(f"/releases/{SLUG}.ttl").text
    # another release's rendering was kept: same bytes, no new rendering
    misses = _site(app).renderings.figures.misses
    assert client.get(f"/releases/{other}.ttl").get_data() == kept_other.get_data()
    assert _site(app).renderings.figures.misses == misses


def test_a_write_made_elsewhere_is_seen_within_the_watch_bound(
    make_app: AppFactory,
) -> None:
    app = make_app(version_watch="0.2")
    site = _site(app)
    client = app.test_client()
    assert client.get(f"/releases/{SLUG}").status_code == 200
    version = site.data_version()
    # another process's write, straight into the store (an admin's tool)
    catalog.apply_admin_update(
        site.store,
        site.settings,
        f"DELETE {{ GRAPH ?g {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
        f"FILTER (?g = <{site.iris.release_graph(SLUG)}>) }}",
        {site.iris.release_graph(SLUG)},
        "elsewhere",
    )
    site.start_watcher()
    try:
        deadline = time.monotonic() + 5
        while site.data_version() == version and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        site.stop_watcher()
    assert site.data_version() != version
    assert client.get(f"/releases/{SLUG}").status_code in (404, 410)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/", {}),
        (f"/releases/{SLUG}", {}),
        (f"/releases/{SLUG}", {"Accept": "text/turtle"}),
        (f"/releases/{SLUG}", {"Accept": "application/ld+json;q=0.9, text/html;q=0.1"}),
        (f"/releases/{SLUG}", {"Accept-Encoding": "gzip, br"}),
        (f"/releases/{SLUG}.nt", {}),
        (f"/releases/{SLUG}.rdf", {"Accept-Encoding": "gzip"}),
        (f"/releases/{SLUG}/card.png", {}),
    ],
)
def test_the_lookup_before_flask_answers_as_the_view_did(
    make_app: AppFactory, path: str, headers: dict[str, str]
) -> None:
    app = make_app()
    client = app.test_client()
    made = client.get(path, headers=headers)  # by the view, which keeps it
    hits = _site(app).renderings.figures.hits
    kept = client.get(path, headers=headers)  # by the lookup
    assert _site(app).renderings.figures.hits == hits + 1
    assert kept.status_code == made.status_code == 200
    assert kept.get_data() == made.get_data()
    assert sorted(kept.headers.items()) == sorted(made.headers.items())
    for method in ("GET", "HEAD"):
        again = client.open(
            path,
            method=method,
            headers={**headers, "If-None-Match": made.headers["ETag"]},
        )
        assert (again.status_code, again.get_data()) == (304, b"")
        assert again.headers["ETag"] == made.headers["ETag"]
    head = client.head(path, headers=headers)
    assert head.get_data() == b""
    assert head.headers["Content-Length"] == made.headers["Content-Length"]


def test_lists_are_kept_by_path_and_query_until_a_write(make_app: AppFactory) -> None:
    app = make_app()
    client = app.test_client()
    site = _site(app)
    paths = [
        "/releases?view=published&page=2",
        "/feeds/releases.atom",
        "/feeds/upcoming.ics",
        "/sitemap.xml",
    ]
    first = {p: client.get(p) for p in paths}
    misses = site.renderings.figures.misses
    for path in paths:
        again = client.get(path)
        assert again.get_data() == first[path].get_data(), path
        assert again.headers["Content-Type"] == first[path].headers["Content-Type"]
        assert (
            client.get(
                path, headers={"If-None-Match": again.headers["ETag"]}
            ).status_code
            == 304
        )
    assert site.renderings.figures.misses == misses
    # another query is another list
    assert (
        client.get("/releases?view=cancelled").get_data() != first[paths[0]].get_data()
    )
    # not found is answered by the view and not kept
    assert client.get("/topics/no-such-topic").status_code == 404
    assert client.get("/topics/no-such-topic").status_code == 404
    assert ("list", "/topics/no-such-topic", "") not in site.renderings._entries
    # a write drops every list
    record = client.get(f"/api/releases/{SLUG}").json
    assert record is not None
    record["title"] = "Labour market overview, renamed for the test"
    reply = client.put(
        f"/api/releases/{SLUG}",
        json=record,
        headers={"Authorization": f"Bearer {PUBLISH_TOKEN}"},
    )
    assert reply.status_code == 200, reply.json
    assert "renamed for the test" in client.get("/feeds/releases.atom").text


def test_lists_expire_when_an_upcoming_release_time_passes(
    make_app: AppFactory,
) -> None:
    app = make_app()
    site = _site(app)
    moment = site.next_moment()
    assert moment is not None and moment > datetime.now(UTC)
    app.test_client().get("/releases")
    kept = site.renderings._entries[("list", "/releases", "")]
    assert kept.expires == moment
    assert site.renderings.get(("list", "/releases", ""), now=moment) is None


def test_catalogue_pages_are_kept_by_accept_header(make_app: AppFactory) -> None:
    app = make_app()
    client = app.test_client()
    turtle = client.get("/catalog", headers={"Accept": "text/turtle"})
    misses = _site(app).renderings.figures.misses
    again = client.get("/catalog", headers={"Accept": "text/turtle"})
    jsonld = client.get("/catalog", headers={"Accept": "application/ld+json"})
    assert (
        _site(app).renderings.figures.misses == misses + 1
    )  # JSON-LD made, Turtle kept
    assert again.get_data() == turtle.get_data()
    assert again.headers["Content-Type"].startswith("text/turtle")
    assert jsonld.headers["Content-Type"].startswith("application/ld+json")
    assert "Accept" in again.headers["Vary"]
