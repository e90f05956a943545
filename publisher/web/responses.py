"""Responses made of kept renderings (publisher.renderings): the conditional
answer first, then the body as it was made, or its gzip copy."""

from __future__ import annotations

from flask import Response, request
from werkzeug.http import http_date

from publisher.renderings import Rendering
from publisher.web.context import site


def not_modified(made: Rendering) -> bool:
    """The request's validators match ``made`` (RFC 9110: If-None-Match wins
    over If-Modified-Since)."""
    if request.if_none_match:
        return request.if_none_match.contains_weak(made.etag)
    since = request.if_modified_since
    return (
        since is not None
        and made.last_modified is not None
        and made.last_modified.replace(microsecond=0) <= since
    )


def respond(made: Rendering, *, vary_accept: bool = False) -> Response:
    """``made`` as a cacheable response: 304 when the client has it; gzip when
    the client accepts it and a copy was made. Headers are written as text
    (werkzeug's header objects cost more than the rest of a kept page)."""
    vary = ["Accept"] if vary_accept else []
    if made.gzipped is not None:
        vary.append("Accept-Encoding")
    headers = [
        ("ETag", f'"{made.etag}"'),
        ("Cache-Control", f"public, max-age={site().settings.cache_seconds}"),
    ]
    if made.last_modified is not None:
        headers.append(("Last-Modified", http_date(made.last_modified)))
    if vary:
        headers.append(("Vary", ", ".join(vary)))
    if request.method in ("GET", "HEAD") and not_modified(made):
        return Response(status=304, headers=headers)
    if made.gzipped is not None and request.accept_encodings["gzip"]:
        headers.append(("Content-Encoding", "gzip"))
        return Response(made.gzipped, content_type=made.content_type, headers=headers)
    return Response(made.body, content_type=made.content_type, headers=headers)
