"""Kept renderings answered in front of Flask: a read of a page already made is a
dictionary lookup (DESIGN.md, "Serving").

Only what a Flask view would answer with the same kept rendering is answered
here: GET and HEAD of a release in any of its forms (negotiated or by suffix),
its card, and the home page. The status and headers come from the same function
the views use (publisher.web.responses.answer). Anything else, and anything not
kept yet, goes on to the app, whose views make it and keep it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING

from publisher.model import SLUG_RE
from publisher.site import SiteService
from publisher.web.negotiation import BY_SUFFIX, link_header, release_kind
from publisher.web.responses import SECURITY_HEADERS, answer, max_age

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_STATUS = {code: f"{code} {HTTPStatus(code).phrase}" for code in (200, 304)}
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
        found = self._lookup(environ) if method in ("GET", "HEAD") else None
        if found is None:
            return self.app(environ, start_response)
        key, vary_accept, extra = found
        made = self.site.renderings.get(key)
        if made is None:
            return self.app(environ, start_response)
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
            extra=extra,
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
