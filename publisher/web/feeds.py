"""Feeds for readers and crawlers: Atom, iCalendar, sitemap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

from flask import Blueprint, Response, request

from publisher.web import site

bp = Blueprint("feeds", __name__)


def _rows(view: str, limit: int = 50) -> list:  # type: ignore[type-arg]
    topic = request.args.get("topic") or None
    return site().listing(view, topic=topic).rows[:limit]


@bp.get("/feeds/releases.atom")
def atom() -> Response:
    the_site = site()
    base = the_site.settings.base_url
    rows = _rows("published")
    updated = (
        max((r.modified or "" for r in rows), default="")
        or datetime.now(UTC).isoformat()
    )
    entries = []
    for r in rows:
        url = f"{base}/releases/{r.slug}"
        entries.append(
            "<entry>"
            f"<id>{escape(url)}</id><title>{escape(r.title or r.slug)}</title>"
            f'<link rel="alternate" href="{escape(url)}"/>'
            f"<updated>{escape(r.modified or updated)}</updated>"
            "<published>"
            f"{escape(r.published_date or r.modified or updated)}</published>"
            f"<summary>{escape(r.summary or '')}</summary>"
            "</entry>"
        )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(base)}/feeds/releases.atom</id>"
        f"<title>{escape(the_site.settings.site_name)}: published releases</title>"
        f'<link rel="self" href="{escape(base)}/feeds/releases.atom"/>'
        f'<link rel="alternate" href="{escape(base)}/releases?view=published"/>'
        f"<updated>{escape(updated)}</updated>"
        f"<author><name>{escape(the_site.settings.organization_name)}</name></author>"
        + "".join(entries)
        + "</feed>\n"
    )
    return Response(body, mimetype="application/atom+xml")


def _ics_text(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """RFC 5545: lines of at most 75 octets, continued with a space."""
    out, current = [], ""
    for ch in line:
        if len((current + ch).encode()) > 75:
            out.append(current)
            current = " " + ch
        else:
            current += ch
    out.append(current)
    return "\r\n".join(out)


def _ics_status(status: str | None) -> str:
    if status == "cancelled":
        return "CANCELLED"
    return "CONFIRMED" if status in ("confirmed", "postponed") else "TENTATIVE"


@bp.get("/feeds/upcoming.ics")
def ics() -> Response:
    the_site = site()
    base = the_site.settings.base_url
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Release Publisher//Release calendar//EN",
        f"X-WR-CALNAME:{_ics_text(the_site.settings.site_name)}",
    ]
    rows = [r for r in _rows("upcoming", 500) if r.release_date] + [
        r for r in _rows("cancelled", 100) if r.release_date
    ]
    for r in rows:
        start = datetime.fromisoformat(str(r.release_date).replace("Z", "+00:00"))
        end = start + timedelta(minutes=30)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{r.slug}@{base.split('://', 1)[-1].split('/')[0]}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}",
            f"DTEND:{end.astimezone(UTC):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{_ics_text(r.title or r.slug)}",
            f"URL:{base}/releases/{r.slug}",
            f"STATUS:{_ics_status(r.status)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    body = "\r\n".join(_fold(line) for line in lines) + "\r\n"
    return Response(body, mimetype="text/calendar")


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    base = site().settings.base_url
    urls = [
        f"<url><loc>{escape(base)}/</loc></url>",
        f"<url><loc>{escape(base)}/releases</loc></url>",
    ]
    for r in site().sitemap_rows():
        lastmod = (r.modified or "")[:10]
        urls.append(
            f"<url><loc>{escape(base)}/releases/{escape(r.slug)}</loc>"
            + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
            + "</url>"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(urls[:50000])
        + "</urlset>\n"
    )
    return Response(body, mimetype="application/xml")
