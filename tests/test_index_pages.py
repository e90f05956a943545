"""The listing index's lists: pages from marks are the pages an offset gives, in
the order each list is shown, and the counts it keeps are the counts of its rows."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from publisher.config import Settings
from publisher.store import Store, open_store
from publisher.store import index_pages as pages
from publisher.store.index import ListingIndex
from publisher.store.index_fields import Fetched, Row

STATUSES = ["provisional", "confirmed", "postponed", "published", "cancelled"]
TOPICS = ["economy", "health", "census", "rare"]
# few dates, so that many rows tie on the sort key and the slug decides
DATES = [None, "2026-01-05T09:30:00Z", "2026-03-01T07:00:00Z", "2027-06-30T09:30:00Z"]


def _fetched(rng: random.Random, n: int, version: str = "a") -> Fetched:
    status = rng.choice([*STATUSES, None])
    release_date = rng.choice(DATES)
    published = rng.choice([None, release_date, "2026-02-01T09:30:00Z"])
    topics = sorted({t: t.title() for t in rng.sample(TOPICS, rng.randint(0, 2))})
    if "rare" in topics and rng.random() < 0.9:
        topics.remove("rare")
    row = Row(
        slug=f"release-{n:04d}",
        title=f"Release {n} about {' '.join(topics)}",
        summary=rng.choice(["labour market", "prices", "population"]),
        status=status,
        release_date=release_date,
        release_date_text=release_date,
        provisional_date=None,
        published_date=published,
        designation=rng.choice([None, "official-statistics", "in-development"]),
        census=False,
        modified=rng.choice(["2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z", None]),
        content_hash=f"{version}{n}",
    )
    return row, [(t, t.title()) for t in topics], "keyword"


@pytest.fixture(scope="module")
def store() -> Store:
    return open_store(Settings(), in_memory=True)


def _index(store: Store, fetched: list[Fetched]) -> ListingIndex:
    index = ListingIndex(":memory:")
    slugs = [f[0].slug for f in fetched]
    index._write_rows(store, Settings(), "v1", slugs, [], fetched)
    return index


@pytest.fixture(scope="module")
def index(store: Store) -> ListingIndex:
    rng = random.Random(12)  # noqa: S311 - test data, not secrets
    return _index(store, [_fetched(rng, n) for n in range(700)])


def _oracle(rows: list[Row], view: str) -> list[str]:
    """The view's slugs in the order shown, sorted in Python (not by SQL)."""
    upcoming = {"provisional", "confirmed", "postponed"}
    if view == "upcoming":
        chosen = [r for r in rows if r.status in upcoming]
        chosen.sort(key=lambda r: (r.release_date or "9999", r.slug))
        return [r.slug for r in chosen]
    if view == "published":
        chosen = [r for r in rows if r.status == "published"]
        key: Callable[[Row], str] = lambda r: r.published_date or r.release_date or ""  # noqa: E731
    elif view == "cancelled":
        chosen = [r for r in rows if r.status == "cancelled"]
        key = lambda r: r.release_date or ""  # noqa: E731
    else:
        chosen = list(rows)
        key = lambda r: r.release_date or ""  # noqa: E731
    chosen.sort(key=lambda r: r.slug)
    chosen.sort(key=key, reverse=True)  # stable: slug ascending within a key
    return [r.slug for r in chosen]


FILTERS: list[dict[str, object]] = [
    {},
    {"topic": "economy"},
    {"topic": "rare"},
    {"designation": "official-statistics"},
    {"topic": "health", "designation": "in-development"},
    {"start": datetime(2026, 2, 1, tzinfo=UTC)},
    {"end": datetime(2026, 6, 1, tzinfo=UTC)},
    {"text": "labour"},
    {"topic": "census", "text": "market", "start": datetime(2026, 1, 1, tzinfo=UTC)},
]


def _pages(index: ListingIndex, view: str, size: int, **filters: object) -> list[str]:
    out: list[str] = []
    offset = 0
    while True:
        rows, _total, _counts = index.listing(
            view, limit=size, offset=offset, **filters
        )
        if not rows:
            return out
        out += [r.slug for r in rows]
        offset += size


@pytest.mark.parametrize("view", list(pages.VIEWS))
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "none")
def test_pages_from_marks_are_the_pages_of_an_offset(
    index: ListingIndex,
    monkeypatch: pytest.MonkeyPatch,
    view: str,
    filters: dict[str, object],
) -> None:
    monkeypatch.setattr(pages, "MARK_STEP", 10**9)
    by_offset = _pages(index, view, 13, **filters)
    index._marks.clear()
    monkeypatch.setattr(pages, "MARK_STEP", 7)  # a mark every 7 rows: many, mid-page
    by_marks = _pages(index, view, 13, **filters)
    assert by_marks == by_offset
    # and one deep page asked alone, its marks found as far as it needs
    index._marks.clear()
    rows, total, _ = index.listing(view, limit=13, offset=13 * 9, **filters)
    assert [r.slug for r in rows] == by_offset[13 * 9 : 13 * 10]
    assert total == len(by_offset)


@pytest.mark.parametrize("view", list(pages.VIEWS))
def test_each_view_is_in_the_order_shown(
    index: ListingIndex, monkeypatch: pytest.MonkeyPatch, view: str
) -> None:
    monkeypatch.setattr(pages, "MARK_STEP", 5)
    index._marks.clear()
    assert _pages(index, view, 20) == _oracle(index.all_rows(), view)
    topic = [r for r in index.all_rows() if _topics(index, r.slug) & {"economy"}]
    assert _pages(index, view, 20, topic="economy") == _oracle(topic, view)


def _topics(index: ListingIndex, slug: str) -> set[str]:
    with index._lock:
        found = index._db.execute(
            "SELECT topic FROM release_topics WHERE slug = ?", (slug,)
        )
        return {t for (t,) in found}


def test_catalogue_sitemap_and_feed_orders(
    index: ListingIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "MARK_STEP", 9)
    index._marks.clear()
    slugs = sorted(r.slug for r in index.all_rows())
    by_page = [r.slug for n in range(0, 720, 25) for r in index.page_by_slug(25, n)]
    assert by_page == slugs
    parts = [s for n in range(0, 720, 100) for s, _ in index.slugs_modified(100, n)]
    assert parts == slugs
    changed = sorted(index.all_rows(), key=lambda r: r.slug)
    changed.sort(key=lambda r: r.modified or "", reverse=True)
    assert [r.slug for r in index.recently_changed(50)] == [
        r.slug for r in changed[:50]
    ]


def _facets(index: ListingIndex) -> dict[tuple[str, str, str], int]:
    with index._lock:
        rows = index._db.execute("SELECT * FROM facet_counts").fetchall()
    return {(r[0], r[1], r[2]): int(r[3]) for r in rows}


def _counted(index: ListingIndex, **filters: object) -> dict[str, int]:
    """Each view's count by reading every page (no kept count involved)."""
    return {v: len(_pages(index, v, 50, **filters)) for v in pages.VIEWS}


def test_kept_counts_follow_every_change(store: Store) -> None:
    rng = random.Random(3)  # noqa: S311 - test data, not secrets
    fetched = [_fetched(rng, n) for n in range(120)]
    small = _index(store, fetched)  # 120 < FULL_SCAN_MIN: counted row by row
    recounted = _index(store, fetched)
    with recounted._transaction() as db:
        pages.recount_facets(db)
    assert _facets(small) == _facets(recounted)
    # change some, delete some, add some: counts adjusted, never recounted
    changed = [_fetched(rng, n, "b") for n in range(0, 120, 3)] + [
        _fetched(rng, n) for n in range(120, 140)
    ]
    gone = [f"release-{n:04d}" for n in range(1, 120, 9)]  # none re-added
    stale = [f[0].slug for f in changed]
    small._write_rows(store, Settings(), "v2", stale, gone, changed)
    with recounted._transaction() as db:
        db.execute("DELETE FROM facet_counts")
    recounted._write_rows(store, Settings(), "v2", stale, gone, changed)
    with recounted._transaction() as db:
        pages.recount_facets(db)
    assert _facets(small) == _facets(recounted)
    for filters in ({}, {"topic": "economy"}, {"designation": "in-development"}):
        _rows, _total, counts = small.listing("all", **filters)  # type: ignore[arg-type]
        assert counts == _counted(small, **filters)
    assert small.count() == 140 - len(gone)
