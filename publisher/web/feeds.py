"""Feeds for readers and crawlers: Atom, iCalendar, sitemap."""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, request

from publisher.errors import PublisherError
from publisher.model import Status
from publisher.site import SiteService
from publisher.store.index_fields import Row, parse_moment
from publisher.web.context import site
from publisher.web.errors import page_failed
from publisher.xmlchars import xml_safe

bp = Blueprint("feeds", __name__)
bp.register_error_handler(PublisherError, page_failed)


#: feeds and sitemaps kept per site: key -> (data version, body), the last few
_Made = OrderedDict[tuple[object, ...], tuple[str, bytes | None]]
_MADE: weakref.WeakKeyDictionary[SiteService, _Made] = weakref.WeakKeyDictionary()
_MADE_KEPT = 64
_MADE_LOCK = threading.Lock()


def _made_once(
    key: tuple[object, ...], make: Callable[[], bytes | None]
) -> bytes | None:
    """``make()``'s body, made once per data version of the index: a feed or a
    sitemap changes only when something is published (a sitemap part of 10,000
    URLs takes tens of milliseconds to write; a lookup, microseconds)."""
    the_site = site()
    version = the_site.data_version()
    with _MADE_LOCK:
        kept = _MADE.setdefault(the_site, OrderedDict())
        found = kept.get(key)
    if version is not None and found is not None and found[0] == version:
        return found[1]
    body = make()
    if version is not None:
        with _MADE_LOCK:
            kept[key] = (version, body)
            kept.move_to_end(key)
            while len(kept) > _MADE_KEPT:
                kept.popitem(last=False)
    return body


def _rows(view: str, topic: str | None, limit: int = 50) -> list[Row]:
    return site().listing(view, topic=topic, size=limit).rows


@bp.get("/feeds/releases.atom")
def atom() -> Response:
    """Recently published and changed releases, newest change first."""
    topic = request.args.get("topic") or None
    body = _made_once(("atom", topic), lambda: _atom_body(topic))
    return Response(body, mimetype="application/atom+xml")


def _atom_body(topic: str | None) -> bytes:
    the_site = site()
    base = the_site.settings.base_url
    rows = the_site.recently_changed(topic)
    updated = max((r.modified or "" for r in rows), default="")
    updated = updated or datetime.now(UTC).isoformat()
    latest = {  # slug -> (who, what) of its last change
        slug: (change.agent, _what(change.kind, change.summary))
        for slug, change in the_site.last_changes([r.slug for r in rows]).items()
    }
    entries = []
    for r in rows:
        url = f"{base}/releases/{r.slug}"
        label = found.feed_label if (found := Status.lookup(r.status)) else ""
        title = f"{label}: {r.title or r.slug}" if label else (r.title or r.slug)
        who, what = latest.get(r.slug, ("", ""))
        summary = f"{what}. {r.summary or ''}" if what else (r.summary or "")
        entries.append(
            "<entry>"
            f"<id>{escape(url)}</id><title>{escape(title)}</title>"
            f'<link rel="alternate" type="text/html" href="{escape(url)}"/>'
            f"<updated>{escape(r.modified or updated)}</updated>"
            + (
                f"<published>{escape(r.published_date)}</published>"
                if r.published_date
                else ""
            )
            + (f"<author><name>{escape(who)}</name></author>" if who else "")
            + f'<category term="{escape(r.status or "")}"/>'
            f"<summary>{escape(summary.strip())}</summary>"
            "</entry>"
        )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(base)}/feeds/releases.atom</id>"
        f"<title>{escape(the_site.settings.site_name)}: "
        "published and changed releases</title>"
        f'<link rel="self" href="{escape(base)}/feeds/releases.atom"/>'
        f'<link rel="alternate" href="{escape(base)}/releases"/>'
        f"<updated>{escape(updated)}</updated>"
        f"<author><name>{escape(the_site.settings.organization_name)}</name></author>"
        + "".join(entries)
        + "</feed>\n"
    )
    return xml_safe(body).encode()


def _what(kind: str, summary: str) -> str:
    text = kind.replace("-", " ").capitalize()
    return f"{text}: {summary}" if summary else text


@bp.get("/feeds/changes.atom")
def changes() -> Response:
    """Every recorded change (the history graph), newest first: who, when, what."""
    the_site = site()
    base = the_site.settings.base_url
    found = the_site.recent_changes(100)
    updated = found[0].when if found else datetime.now(UTC).isoformat()
    entries = []
    for change in found:
        url = f"{base}/releases/{change.slug}"
        title = f"{change.slug}: {_what(change.kind, '')}"
        entries.append(
            "<entry>"
            f"<id>{escape(url)}#change-{escape(change.when)}</id>"
            f"<title>{escape(title)}</title>"
            f'<link rel="alternate" type="text/html" href="{escape(url)}"/>'
            f"<updated>{escape(change.when)}</updated>"
            f"<author><name>{escape(change.agent)}</name></author>"
            f'<category term="{escape(change.kind)}"/>'
            f"<summary>{escape(_what(change.kind, change.summary))}</summary>"
            "</entry>"
        )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(base)}/feeds/changes.atom</id>"
        f"<title>{escape(the_site.settings.site_name)}: every change</title>"
        f'<link rel="self" href="{escape(base)}/feeds/changes.atom"/>'
        f"<updated>{escape(updated)}</updated>"
        f"<author><name>{escape(the_site.settings.organization_name)}</name></author>"
        + "".join(entries)
        + "</feed>\n"
    )
    return Response(xml_safe(body), mimetype="application/atom+xml")


#: RFC 5545 TEXT holds no control character but tab (line ends are written \n)
_ICS_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _ics_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _ICS_CONTROL.sub(
        "\ufffd",
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n"),
    )


def _fold(line: str) -> str:
    """RFC 5545: lines of at most 75 octets, continued with a space."""
    if line.isascii():  # an octet a character: cut by slicing
        if len(line) <= 75:
            return line
        rest = [" " + line[i : i + 74] for i in range(75, len(line), 74)]
        return "\r\n".join([line[:75], *rest])
    out, current, size = [], "", 0
    for ch in line:
        width = len(ch.encode())
        if size + width > 75:
            out.append(current)
            current, size = " " + ch, 1 + width
        else:
            current, size = current + ch, size + width
    out.append(current)
    return "\r\n".join(out)


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


@lru_cache(maxsize=256)
def _transitions(zone: ZoneInfo, year: int) -> tuple[datetime, ...]:
    """The instants in ``year`` when the zone's UTC offset changes (to the minute):
    a walk of the year's days, so found once per zone and year."""
    found = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    previous = day.astimezone(zone).utcoffset()
    while day.year == year:
        nxt = day + timedelta(days=1)
        if nxt.astimezone(zone).utcoffset() != previous:
            lo, hi = day, nxt
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == previous:
                    lo = mid
                else:
                    hi = mid
            found.append(hi.replace(second=0, microsecond=0))
            previous = nxt.astimezone(zone).utcoffset()
        day = nxt
    return tuple(found)


def vtimezone(tzid: str, years: set[int]) -> list[str]:
    """A VTIMEZONE (RFC 5545, 3.6.5) listing each offset change of the years used."""
    zone = ZoneInfo(tzid)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}"]
    changes = [t for year in sorted(years) for t in _transitions(zone, year)]
    if not changes:
        first = datetime(min(years), 1, 1, tzinfo=UTC)
        offset = _offset(first.astimezone(zone).utcoffset())
        return [
            *lines,
            "BEGIN:STANDARD",
            f"DTSTART:{min(years)}0101T000000",
            f"TZOFFSETFROM:{offset}",
            f"TZOFFSETTO:{offset}",
            f"TZNAME:{first.astimezone(zone).tzname()}",
            "END:STANDARD",
            "END:VTIMEZONE",
        ]
    for instant in changes:
        before = (instant - timedelta(minutes=1)).astimezone(zone)
        after = instant.astimezone(zone)
        kind = "DAYLIGHT" if after.dst() else "STANDARD"
        local_start = instant + (before.utcoffset() or timedelta(0))
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{local_start:%Y%m%dT%H%M%S}",
            f"TZOFFSETFROM:{_offset(before.utcoffset())}",
            f"TZOFFSETTO:{_offset(after.utcoffset())}",
            f"TZNAME:{after.tzname()}",
            f"END:{kind}",
        ]
    return [*lines, "END:VTIMEZONE"]


def _ics_status(status: str | None) -> str:
    if status == "cancelled":
        return "CANCELLED"
    return "CONFIRMED" if status in ("confirmed", "postponed") else "TENTATIVE"


@bp.get("/feeds/upcoming.ics")
def ics() -> Response:
    """Upcoming releases with a date, and cancelled ones: made once per data
    version (an event's DTSTAMP is its release's last change, RFC 5545 3.8.7.2,
    so the body depends on nothing else)."""
    topic = request.args.get("topic") or None
    body = _made_once(("ics", topic), lambda: _ics_body(topic))
    return Response(body, mimetype="text/calendar")


def _ics_stamp(modified: str | None, fallback: str) -> str:
    """A DTSTAMP: the release's last change in UTC (``fallback`` if unknown)."""
    moment = parse_moment(modified)
    if moment is None:
        return fallback
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _ics_body(topic: str | None) -> bytes:
    the_site = site()
    base = the_site.settings.base_url
    host = base.split("://", 1)[-1].split("/")[0]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    zone = the_site.settings.zone
    tzid = the_site.settings.timezone
    rows = [r for r in _rows("upcoming", topic, 500) if r.release_date] + [
        r for r in _rows("cancelled", topic, 100) if r.release_date
    ]
    starts = [
        datetime.fromisoformat(str(r.release_date).replace("Z", "+00:00")).astimezone(
            zone
        )
        for r in rows
    ]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Release Publisher//Release calendar//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_ics_text(the_site.settings.site_name)}",
        f"X-WR-TIMEZONE:{tzid}",
        *vtimezone(tzid, {s.year for s in starts} or {datetime.now(UTC).year}),
    ]
    for r, start in zip(rows, starts, strict=True):
        end = start + timedelta(minutes=30)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{r.slug}@{host}",
            f"DTSTAMP:{_ics_stamp(r.modified, stamp)}",
            f"DTSTART;TZID={tzid}:{start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID={tzid}:{end:%Y%m%dT%H%M%S}",
            f"SUMMARY:{_ics_text(r.title or r.slug)}",
            f"URL:{base}/releases/{r.slug}",
            f"STATUS:{_ics_status(r.status)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()


#: URLs per sitemap file (sitemaps.org allows 50,000; a part of 2,000, about 300 KB,
#: is made and sent in a few milliseconds); past it, a sitemap index lists the parts
SITEMAP_MAX = 2_000


def _urlset(urls: list[str]) -> bytes:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(urls)
        + "</urlset>\n"
    )
    return xml_safe(body).encode()


_UTC_SECOND = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _to_the_second(value: str | None) -> str:
    """A sitemap lastmod: UTC, to the second (a later change the same day shows)."""
    if not value:
        return ""
    if _UTC_SECOND.fullmatch(value):
        return value  # already so: no parsing
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value[:10]
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _part_urls(part: int) -> list[str] | None:
    """The URLs of sitemap part ``part`` (from 1): the home page and the calendar,
    then every release by slug, SITEMAP_MAX a part; None past the last part."""
    base = escape(site().settings.base_url)
    pages = [f"<url><loc>{base}/</loc></url>", f"<url><loc>{base}/releases</loc></url>"]
    if part < 1:
        return None
    first = (part - 1) * SITEMAP_MAX  # the position of its first URL
    head = pages[first:]
    entries, _total = site().sitemap_rows(
        max(0, first - len(pages)), SITEMAP_MAX - len(head)
    )
    if not (head or entries):
        return None
    urls = list(head)
    for slug, modified in entries:
        lastmod = _to_the_second(modified)
        urls.append(
            f"<url><loc>{base}/releases/{escape(slug)}</loc>"
            + (f"<lastmod>{escape(lastmod)}</lastmod>" if lastmod else "")
            + "</url>"
        )
    return urls


def _sitemap_body() -> bytes:
    _entries, total = site().sitemap_rows(0, 0)
    urls = total + 2  # the home page and the calendar
    if urls <= SITEMAP_MAX:
        return _urlset(_part_urls(1) or [])
    base = escape(site().settings.base_url)
    parts = -(-urls // SITEMAP_MAX)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(
            f"<sitemap><loc>{base}/sitemaps/{n}.xml</loc></sitemap>"
            for n in range(1, parts + 1)
        )
        + "</sitemapindex>\n"
    ).encode()


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """All pages with lastmod; a sitemap index once there are too many for one file."""
    body = _made_once(("sitemap", SITEMAP_MAX), _sitemap_body)
    return Response(body, mimetype="application/xml")


@bp.get("/sitemaps/<int:part>.xml")
def sitemap_part(part: int) -> Response:
    def make() -> bytes | None:
        urls = _part_urls(part)
        return None if urls is None else _urlset(urls)

    body = _made_once(("sitemap-part", part, SITEMAP_MAX), make)
    if body is None:
        abort(404)
    return Response(body, mimetype="application/xml")
