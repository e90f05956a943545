"""Kept renderings answered in front of Flask: a read of a page already made is a
dictionary lookup (DESIGN.md, "Serving").

Only what a Flask view would answer with the same kept rendering is answered
here: GET and HEAD of a release in any of its forms (negotiated or by suffix),
its card, and the home page. The status and headers come from the same function
the views use (publisher.web.responses.answer). Anything else, and anything not
kept yet, goes on to the app, whose views make it and keep it.

Lists (the calendar's views and filters, topic pages, feeds, sitemaps, the DCAT
catalogue's pages, these by ``Accept`` too) are kept here too, by path and
query: the first GET of one runs the view, and a 200 is kept, tagged
``listings`` (every write drops them), until the next moment a release's time
passes (lists that show "upcoming" change then).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING

from publisher.model import SLUG_RE
from publisher.renderings import Rendering, rendering
from publisher.site import SiteService
from publisher.web.negotiation import BY_SUFFIX, link_header, release_kind
from publisher.web.responses import SECURITY_HEADERS, answer, max_age

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_STATUS = {code: f"{code} {HTTPStatus(code).phrase}" for code in (200, 304)}
#: lists kept by path and query (GET only; their views answer everything else)
_LISTS = ("/releases", "/topics/", "/feeds/", "/sitemap.xml", "/sitemaps/", "/catalog")
#: lists whose form is negotiated: kept by Accept header too
_NEGOTIATED = ("/catalog",)
#: headers of a list's response that are not kept (written again when answered)
_NOT_KEPT = {"content-type", "content-length", "etag", "cache-control", "vary"}
_NOT_KEPT |= {name.lower() for name, _ in SECURITY_HEADERS}
_PREFIX = "/releases/"
_CARD = "/card.png"


class KeptRenderings:
    """WSGI middleware: the kept rendering for the request, or the app."""

    def __init__(
        self,
        app: WSGIApplication,
        site: SiteService,
        next_publication: Callable[[], datetime | None],
    ) -> None:
        self.app = app
        self.site = site
        self.next_publication = next_publication

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        found = self._lookup(environ)
        if found is None:
            return self._list(environ, start_response, method)
        key, vary_accept, extra = found
        made = self.site.renderings.get(key)
        if made is None:
            return self.app(environ, start_response)
        return self._answer(environ, start_response, made, vary_accept, extra)

    def _answer(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        made: Rendering,
        vary_accept: bool,
        extra: list[tuple[str, str]],
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        status, headers, body = answer(
            made,
            method=method,
            validators=(
                environ.get("HTTP_IF_NONE_MATCH"),
                environ.get("HTTP_IF_MODIFIED_SINCE"),
            ),
            accept_encoding=environ.get("HTTP_ACCEPT_ENCODING"),
            max_age_seconds=max_age(
                self.site.settings.cache_seconds, self.next_publication
            ),
            vary_accept=vary_accept,
            extra=[*extra, *made.headers],
        )
        headers.extend(SECURITY_HEADERS)
        if status == 200:
            headers.append(("Content-Length", str(len(body))))
        start_response(_STATUS[status], headers)
        return [b"" if method == "HEAD" else body]

    def _lookup(
        self, environ: WSGIEnvironment
    ) -> tuple[Hashable, bool, list[tuple[str, str]]] | None:
        """The key of the rendering a view would answer the request with, whether
        it varies by Accept, and its extra headers; None: not one of those."""
        path: str = environ.get("PATH_INFO", "")
        self.site.current()  # the data version (and so what is kept) is current
        if path == "/":
            return ("home",), False, []
        if not path.startswith(_PREFIX):
            return None
        rest = path[len(_PREFIX) :]
        kind: str | None
        if rest.endswith(_CARD):
            slug, kind = rest[: -len(_CARD)], "card"
        elif "." in rest:
            slug, kind = rest.rsplit(".", 1)
            if kind not in BY_SUFFIX:
                return None
        else:
            slug, kind = rest, release_kind(environ.get("HTTP_ACCEPT"))
        if kind is None or not SLUG_RE.match(slug):
            return None
        if kind == "card":
            return ("release", slug, kind), False, []
        page = self.site.settings.base_url + _PREFIX + slug
        return ("release", slug, kind), True, [("Link", link_header(page))]

    def _list(
        self, environ: WSGIEnvironment, start_response: StartResponse, method: str
    ) -> Iterable[bytes]:
        """A list kept by path and query, or made by its view and kept."""
        path: str = environ.get("PATH_INFO", "")
        if not path.startswith(_LISTS) or path.startswith(_PREFIX):
            return self.app(environ, start_response)
        self.site.current()
        negotiated = path in _NEGOTIATED
        key: tuple[str, ...] = ("list", path, environ.get("QUERY_STRING", ""))
        if negotiated:
            key += (environ.get("HTTP_ACCEPT", ""),)
        made = self.site.renderings.get(key)
        if made is not None:
            return self._answer(environ, start_response, made, negotiated, [])
        if method != "GET":
            return self.app(environ, start_response)
        ran: list[tuple[str, list[tuple[str, str]], bytes]] = []

        def make() -> Rendering | None:
            status, headers, body = run_app(self.app, environ)
            ran.append((status, headers, body))
            if not status.startswith("200 "):
                return None
            kind = dict((k.lower(), v) for k, v in headers)
            return rendering(
                body,
                kind.get("content-type", "application/octet-stream"),
                kind="list",
                tags={"listings"},
                expires=self.site.next_moment(),
                headers=[(k, v) for k, v in headers if k.lower() not in _NOT_KEPT],
            )

        made = self.site.renderings.get_or_make(key, make)
        if made is not None:
            return self._answer(environ, start_response, made, negotiated, [])
        if not ran:  # another request made it and it was not kept
            return self.app(environ, start_response)
        status, headers, body = ran[0]
        start_response(status, headers)
        return [body]


def run_app(
    app: WSGIApplication, environ: WSGIEnvironment
) -> tuple[str, list[tuple[str, str]], bytes]:
    """Status, headers and body of ``app``'s answer to ``environ``."""
    answered: list[tuple[str, list[tuple[str, str]]]] = []

    def start(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> Callable[[bytes], object]:
        answered[:] = [(status, list(headers))]
        return lambda _data: None

    chunks = app(environ, start)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    status, headers = answered[0]
    return status, headers, body
