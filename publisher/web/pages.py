"""Pages for people: home, the calendar, a release, a topic, the vocabulary.

``/releases/<slug>`` also answers Turtle, JSON-LD, RDF/XML and N-Triples by content
negotiation (and at ``.ttl``, ``.jsonld``, ``.rdf``, ``.nt``), with ``Vary: Accept``,
``Link`` alternates and ETag/Last-Modified from the store's versioning.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import cast
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, redirect, render_template, request
from markupsafe import Markup

from publisher.cards import Card, render_card
from publisher.errors import PublisherError
from publisher.jsonld import dumps_for_html
from publisher.lines import sorted_lines
from publisher.model import Designation, Status
from publisher.renderings import Rendering, rendering
from publisher.site import VIEWS, ReleasePage, parse_day
from publisher.store.index_fields import parse_moment
from publisher.web.context import site
from publisher.web.errors import page_failed
from publisher.web.filters import local_time
from publisher.web.meta import absolute, meta_for, share_links
from publisher.web.negotiation import (
    BY_SUFFIX,
    OFFERED,
    RDF_FORMATS,
    link_header,
    release_kind,
)
from publisher.web.responses import respond
from publisher.xmlchars import xml_safe

bp = Blueprint("pages", __name__)
bp.register_error_handler(PublisherError, page_failed)


@bp.app_template_global()
def status_label(status: str | None) -> str:
    found = Status.lookup(status)
    return found.label if found else (status or "").capitalize()


@bp.app_template_global()
def designation_label(designation: str | None) -> str:
    found = Designation.lookup(designation)
    return found.label if found else ""


@bp.get("/")
def home() -> Response:
    return respond(cast(Rendering, site().renderings.get_or_make(("home",), _home)))


def _home() -> Rendering:
    """The home page, kept until a write or until its first upcoming release's
    time passes (it then leaves "Next releases")."""
    upcoming, recent = site().home()
    settings = site().settings
    html = render_template(
        "pages/home.html",
        upcoming=upcoming,
        recent=recent,
        meta=meta_for(
            title=settings.site_name,
            description=(
                f"Upcoming and recently published statistics from "
                f"{settings.organization_name}: release dates, changes and "
                "cancellations."
            ),
            path="/",
        ),
    )
    soonest = [m for r in upcoming if (m := parse_moment(r.release_date))]
    return rendering(
        html,
        "text/html; charset=utf-8",
        kind="home",
        tags={"listings"},
        expires=min(soonest, default=None),
    )


def _date_arg(name: str) -> datetime | None:
    try:
        return parse_day(request.args.get(name, ""), site().settings)
    except ValueError:
        abort(400, f"{name} must be a date such as 2027-01-31")


@bp.get("/releases")
def releases() -> str:
    view = request.args.get("view", "upcoming")
    if view not in VIEWS:
        view = "upcoming"
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    end = _date_arg("to")
    if end is not None and len(request.args.get("to", "").strip()) == 10:
        end += timedelta(days=1)  # a date alone: up to the end of that day
    listing = site().listing(
        view,
        page=page,
        topic=request.args.get("topic") or None,
        designation=request.args.get("designation") or None,
        start=_date_arg("from"),
        end=end,
        text=(request.args.get("q") or "").strip() or None,
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}

    def page_url(n: int) -> str:
        return "/releases?" + urlencode({**args, "page": n})

    def view_url(name: str) -> str:
        return "/releases?" + urlencode(
            {**{k: v for k, v in args.items() if k != "view"}, "view": name}
        )

    return render_template(
        "pages/releases.html",
        listing=listing,
        view=view,
        views=VIEWS,
        args=args,
        topics=site().topics(),
        designations={d.value: d.label for d in Designation},
        page_url=page_url,
        view_url=view_url,
        meta=meta_for(
            title=f"Release calendar: {view}",
            description=(
                f"{listing.total} {view} releases of official statistics from "
                f"{site().settings.organization_name}."
            ),
            path="/releases",
        ),
    )


def _release_or_error(slug: str) -> ReleasePage:
    found = site().release(slug)
    if found is None:
        moved = site().moved_to(slug)
        if moved is not None:
            # a renamed release keeps its URL: permanently redirected (308)
            target = request.path.replace(f"/releases/{slug}", f"/releases/{moved}", 1)
            abort(redirect(absolute(target), 308))
        stone = site().tombstone(slug)
        if stone is not None:
            abort(410, stone)
        abort(404)
    return found


def _tags(page: ReleasePage) -> set[str]:
    """What a release's renderings show: the release and the one it links to."""
    tags = {f"release:{page.slug}"}
    if page.next_release_slug:
        tags.add(f"release:{page.next_release_slug}")
    return tags


def _rdf_body(page: ReleasePage, suffix: str) -> tuple[str, str]:
    fmt = BY_SUFFIX[suffix]
    if fmt.suffix == "jsonld":
        body = json.dumps(page.jsonld(), indent=2, ensure_ascii=False)
    elif fmt.suffix == "nt":
        body = sorted_lines(page.ntriples)  # as stored, one line per triple
    else:
        body = page.graph.serialize(format=fmt.rdflib)
        if fmt.suffix == "rdf":  # well-formed whatever the store holds
            body = xml_safe(body)
    mimetype = fmt.mimetype if fmt.suffix == "rdf" else f"{fmt.mimetype}; charset=utf-8"
    return body, mimetype


def _html_body(page: ReleasePage) -> tuple[str, str]:
    html = render_template(
        "pages/release.html",
        page=page,
        jsonld=Markup(dumps_for_html(page.embed())),  # noqa: S704 - escaped for HTML
        share=share_links(page),
        formats=RDF_FORMATS,
        page_language=page.language,
        meta=meta_for(
            title=page.title,
            description=page.summary or page.title,
            path=f"/releases/{page.slug}",
            og_type="article",
            image=absolute(f"/releases/{page.slug}/card.png"),
            image_alt=(
                f"{page.title}: {status_label(page.status)}, "
                f"{local_time(page.release_date) or page.provisional_date or ''}"
            ),
            extra={"page": page},
        ),
    )
    return html, "text/html; charset=utf-8"


def _card_body(page: ReleasePage) -> tuple[bytes, str]:
    settings = site().settings
    when = local_time(page.release_date) or page.provisional_date or ""
    if page.status == "published" and page.published_date:
        when = local_time(page.published_date)
    png = render_card(
        Card(
            title=page.title,
            organisation=page.publisher_name or settings.organization_name,
            when=when,
            status=page.status,
            status_label=status_label(page.status),
            site=settings.base_url.split("://", 1)[-1],
        )
    )
    return png, "image/png"


def _made(slug: str, kind: str) -> Rendering:
    """A release's ``kind`` (``html``, an RDF suffix, ``card``) as kept, made on
    its first view since the release last changed; aborts with the release's
    redirect, 410 or 404 when there is none."""

    def make() -> Rendering | None:
        page = site().release(slug)
        if page is None:
            return None
        body: str | bytes
        if kind == "html":
            body, mimetype = _html_body(page)
        elif kind == "card":
            body, mimetype = _card_body(page)
        else:
            body, mimetype = _rdf_body(page, kind)
        return rendering(
            body, mimetype, kind=kind, last_modified=page.modified, tags=_tags(page)
        )

    made = site().kept(("release", slug, kind), make)
    if made is None:
        _release_or_error(slug)  # aborts: moved, gone or never there
        abort(404)  # deleted as it was read
    return made


def _release_response(slug: str, kind: str) -> Response:
    link = ("Link", link_header(absolute(f"/releases/{slug}")))
    return respond(_made(slug, kind), vary_accept=True, extra=[link])


@bp.get("/releases/<slug>.<suffix>")
def release_as(slug: str, suffix: str) -> Response:
    if suffix not in BY_SUFFIX:
        abort(404)
    return _release_response(slug, suffix)


@bp.get("/releases/<slug>")
def release(slug: str) -> Response:
    kind = release_kind(request.headers.get("Accept"))
    if kind is None:
        _made(slug, "html")  # a release that is not there: 404 (or 308, 410)
        formats = ", ".join(OFFERED)
        response = Response(
            f"406 Not Acceptable: this release is available as {formats}.\n",
            status=406,
            mimetype="text/plain",
        )
        response.vary.add("Accept")
        response.headers["Link"] = link_header(absolute(f"/releases/{slug}"))
        return response
    return _release_response(slug, kind)


@bp.get("/releases/<slug>/card.png")
def card(slug: str) -> Response:
    """The release's share image, drawn from the store once per change."""
    return respond(_made(slug, "card"))


_SITE_CARD: dict[str, Rendering] = {}


@bp.get("/card.png")
def site_card() -> Response:
    settings = site().settings
    if settings.site_name not in _SITE_CARD:
        png = render_card(
            Card(
                title=settings.site_name,
                organisation=settings.organization_name,
                when="Release calendar of official statistics",
                site=settings.base_url.split("://", 1)[-1],
            )
        )
        _SITE_CARD[settings.site_name] = rendering(png, "image/png", kind="site-card")
    return respond(_SITE_CARD[settings.site_name])


@bp.get("/topics/<slug>")
def topic(slug: str) -> str:
    labels = {t: label for t, label, _ in site().topics()}
    if slug not in labels:
        abort(404)
    upcoming = site().listing("upcoming", topic=slug)
    published = site().listing("published", topic=slug)
    return render_template(
        "pages/topic.html",
        label=labels[slug],
        slug=slug,
        upcoming=upcoming,
        published=published,
        meta=meta_for(
            title=f"{labels[slug]}: releases",
            description=f"Upcoming and published releases about {labels[slug]}.",
            path=f"/topics/{slug}",
        ),
    )
