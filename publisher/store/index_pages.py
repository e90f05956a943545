"""The listing index's pages: each list in the order it is shown, read from an index
in that order, and a deep page found by its key rather than by counting rows.

Every list (a view of the calendar, the catalogue by slug, the feed by change) has
an :class:`Order`: the rows it holds (``where``, the partial index's own condition)
and a sort key that is never NULL, then the slug. The index's schema
(:data:`ORDER_INDEXES`) holds each order as an index, so page 1 reads 20 entries.

A page far down (``OFFSET`` 80,000 walks 80,000 entries) starts instead from a
*mark*: the key of every :data:`MARK_STEP`-th row of that list under those filters,
found in one walk of the index the first time a deep page is asked for and kept
until the index next changes (:class:`Marks`). The page is then the rows from the
nearest mark on, skipping fewer than :data:`MARK_STEP`: the same rows as the
offset would give (a test compares them across page boundaries and ties).
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from publisher.model import UPCOMING_STATUSES
from publisher.store.index_fields import utc_text

#: the SQL list of the upcoming statuses: ('provisional','confirmed','postponed')
UPCOMING_SQL = "(" + ",".join(f"'{s.value}'" for s in UPCOMING_STATUSES) + ")"

#: rows between two marks: a deep page skips fewer than this many index entries
MARK_STEP = 1000
#: lists (a view under some filters) whose marks are kept at once
MARKS_KEPT = 64


#: the "all" view's key, in which the date filters are written
ALL_KEY = "COALESCE(release_date, '')"


@dataclass(frozen=True)
class Order:
    """A list's rows (``where``) in the order shown: ``key`` (never NULL), then slug."""

    where: str
    key: str
    descending: bool
    #: the index in this order (a partial one holds only the rows of ``where``)
    index: str

    @property
    def order_by(self) -> str:
        if self.key == "slug":
            return "slug"
        return f"{self.key} {'DESC' if self.descending else 'ASC'}, slug"

    def after(self) -> str:
        """Rows from a mark ``(?, ?)`` (key, slug) on, in this order, as a range of
        the key that the index can seek to."""
        if self.key == "slug":
            return "slug >= ?"
        op = "<" if self.descending else ">"
        return f"{self.key} {op}= ? AND ({self.key} {op} ? OR slug >= ?)"

    def after_params(self, mark: tuple[str, str]) -> list[object]:
        if self.key == "slug":
            return [mark[1]]
        return [mark[0], mark[0], mark[1]]


#: the calendar's views, as the listing page shows them
VIEWS: dict[str, Order] = {
    "upcoming": Order(
        f"status IN {UPCOMING_SQL}",
        "COALESCE(release_date, '9999')",
        False,
        "releases_view_upcoming",
    ),
    "published": Order(
        "status = 'published'",
        "COALESCE(published_date, release_date, '')",
        True,
        "releases_view_published",
    ),
    "cancelled": Order(
        "status = 'cancelled'",
        "COALESCE(release_date, '')",
        True,
        "releases_view_cancelled",
    ),
    "all": Order("1 = 1", "COALESCE(release_date, '')", True, "releases_view_all"),
}
#: the catalogue and the sitemap: every release by slug (its primary key's index)
BY_SLUG = Order("1 = 1", "slug", False, "sqlite_autoindex_releases_1")
#: the feed: every release by its last change, newest first
BY_CHANGE = Order("1 = 1", "COALESCE(modified, '')", True, "releases_by_change")


def _index_sql(order: Order) -> str:
    where = "" if order.where == "1 = 1" else f" WHERE {order.where}"
    return (
        f"CREATE INDEX IF NOT EXISTS {order.index} ON releases ({order.order_by})"
        f"{where};\n"
    )


#: one index per order, in that order (partial: only the rows of its view); and the
#: release date with the status, so that counts under a date filter read only it
ORDER_INDEXES = "".join(_index_sql(o) for o in [*VIEWS.values(), BY_CHANGE]) + (
    "CREATE INDEX IF NOT EXISTS releases_date_status "
    "ON releases (COALESCE(release_date, ''), status);\n"
)


@dataclass(frozen=True)
class Query:
    """A list under filters: ``where`` (SQL with ``?``) and its ``params``."""

    order: Order
    where: str
    params: tuple[object, ...]


def date_seek(
    order: Order, start: datetime | None, end: datetime | None
) -> tuple[list[str], list[object]]:
    """Date filters as a range of ``order``'s key, when it is the release date
    (the filters themselves stay: these only let SQLite seek in its index)."""
    terms: list[str] = []
    params: list[object] = []
    if order.key.startswith("COALESCE(release_date,") and order.key != ALL_KEY:
        for op, when in ((">=", start), ("<", end)):
            if when is not None:
                terms.append(f"{order.key} {op} ?")
                params.append(utc_text(when.isoformat()))
    return terms, params


def view_query(order: Order, filters: Sequence[str], params: Sequence[object]) -> Query:
    where = " AND ".join([order.where, *filters])
    return Query(order, where, tuple(params))


#: a list's name among the marks kept: its order, its conditions, their values
_Name = tuple[str, str, tuple[object, ...]]


class Marks:
    """The marks of each list asked for since the index last changed (a few).

    A list's marks are found as far as a page asks, each from the one before by a
    jump of MARK_STEP rows in the order's index (``OFFSET`` inside SQLite, which
    walks index entries only): the first deep page costs one walk to it, later
    ones fewer than MARK_STEP entries.
    """

    def __init__(self) -> None:
        self._kept: OrderedDict[_Name, list[tuple[str, str]]] = OrderedDict()

    def clear(self) -> None:
        self._kept.clear()

    def nearest(
        self, db: sqlite3.Connection, query: Query, offset: int
    ) -> tuple[int, tuple[str, str] | None]:
        """The position and (key, slug) of the last mark at or before ``offset``
        (None: the list is shorter). The caller holds the index's lock."""
        name = (query.order.order_by, query.where, query.params)
        found = self._kept.pop(name, None)
        if found is None:
            found = _rows_from(db, query, None, 1, 0)
        want = offset // MARK_STEP
        while found and len(found) <= want:
            nxt = _rows_from(db, query, found[-1], 1, MARK_STEP)
            if not nxt:
                break
            found += nxt
        self._kept[name] = found
        while len(self._kept) > MARKS_KEPT:
            self._kept.popitem(last=False)
        if not found:
            return 0, None
        n = min(want, len(found) - 1)
        return n * MARK_STEP, found[n]


def _rows_from(
    db: sqlite3.Connection,
    query: Query,
    mark: tuple[str, str] | None,
    limit: int,
    offset: int,
    columns: str = "",
) -> list[tuple[str, str]]:
    o = query.order
    where, params = query.where, list(query.params)
    if mark is not None:
        where = f"{where} AND {o.after()}"
        params += o.after_params(mark)
    found = db.execute(
        f"SELECT {columns or o.key + ', slug'} FROM releases "  # noqa: S608
        f"INDEXED BY {o.index} WHERE {where} "
        f"ORDER BY {o.order_by} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    if columns:
        return list(found)
    return [(str(k), str(slug)) for k, slug in found]


def page_sql(
    db: sqlite3.Connection,
    marks: Marks,
    query: Query,
    limit: int,
    offset: int,
    columns: str = "*",
) -> list[sqlite3.Row]:
    """Rows ``offset`` to ``offset + limit`` of the list, in its order; from the
    nearest mark when the offset is deep. The caller holds the index's lock."""
    mark = None
    if offset >= MARK_STEP:
        at, mark = marks.nearest(db, query, offset)
        if mark is None:
            return []
        offset -= at
    return _rows_from(db, query, mark, limit, offset, columns)  # type: ignore[return-value]


# Counts of each view ---------------------------------------------------------


def facet_keys(
    status: str | None, designation: str | None, topics: Sequence[str]
) -> list[tuple[str, str, str]]:
    """The facet_counts rows one release counts in: (topic, designation, status),
    '' for any topic or designation."""
    designations = ["", designation] if designation else [""]
    return [(t, d, status or "") for t in ["", *topics] for d in designations]


def count_facets(
    db: sqlite3.Connection, keys: Sequence[tuple[str, str, str]], delta: int
) -> None:
    db.executemany(
        "INSERT INTO facet_counts VALUES (?, ?, ?, ?) "
        "ON CONFLICT (topic, designation, status) "
        "DO UPDATE SET releases = releases + excluded.releases",
        [(*k, delta) for k in keys],
    )


def recount_facets(db: sqlite3.Connection) -> None:
    """Every facet count again from the rows (after a large sync)."""
    db.execute("DELETE FROM facet_counts")
    db.execute(
        "INSERT INTO facet_counts SELECT topic, designation, status, COUNT(*) FROM ("
        "SELECT '' AS topic, '' AS designation, COALESCE(status, '') AS status "
        "FROM releases "
        "UNION ALL SELECT '', designation, COALESCE(status, '') FROM releases "
        "WHERE designation IS NOT NULL AND designation != '' "
        "UNION ALL SELECT t.topic, '', COALESCE(r.status, '') "
        "FROM release_topics t JOIN releases r USING (slug) "
        "UNION ALL SELECT t.topic, r.designation, COALESCE(r.status, '') "
        "FROM release_topics t JOIN releases r USING (slug) "
        "WHERE r.designation IS NOT NULL AND r.designation != ''"
        ") GROUP BY topic, designation, status"
    )
    db.execute("DELETE FROM facet_counts WHERE releases = 0")


def by_status_to_views(by_status: dict[str, int]) -> dict[str, int]:
    """Releases by status -> the count of each view."""
    upcoming = {s.value for s in UPCOMING_STATUSES}
    return {
        "upcoming": sum(n for s, n in by_status.items() if s in upcoming),
        "published": by_status.get("published", 0),
        "cancelled": by_status.get("cancelled", 0),
        "all": sum(by_status.values()),
    }


def view_counts(
    db: sqlite3.Connection,
    topic: str | None,
    designation: str | None,
    filters: Sequence[str],
    params: Sequence[object],
    *,
    kept: bool,
) -> dict[str, int]:
    """Each view's count: read from facet_counts when the filters are only a topic
    and a designation (``kept``), else counted under ``filters``."""
    if kept:
        rows = db.execute(
            "SELECT status, releases FROM facet_counts "
            "WHERE topic = ? AND designation = ?",
            (topic or "", designation or ""),
        )
    else:
        rows = db.execute(
            "SELECT COALESCE(status, ''), COUNT(*) FROM releases "  # noqa: S608
            f"WHERE {' AND '.join(['1 = 1', *filters])} GROUP BY 1",
            params,
        )
    return by_status_to_views({str(s): int(n) for s, n in rows})
