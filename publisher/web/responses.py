"""Responses made of kept renderings (publisher.renderings): the conditional
answer first, then the body as it was made, or its gzip copy."""

from __future__ import annotations

from flask import Response, request

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
    the client accepts it and a copy was made."""
    if request.method in ("GET", "HEAD") and not_modified(made):
        response = Response(status=304)
    elif made.gzipped is not None and request.accept_encodings["gzip"]:
        response = Response(made.gzipped, content_type=made.content_type)
        response.content_encoding = "gzip"
    else:
        response = Response(made.body, content_type=made.content_type)
    response.set_etag(made.etag)
    if made.last_modified is not None:
        response.last_modified = made.last_modified.replace(microsecond=0)
    response.cache_control.public = True
    response.cache_control.max_age = site().settings.cache_seconds
    if made.gzipped is not None:
        response.vary.add("Accept-Encoding")
    if vary_accept:
        response.vary.add("Accept")
    return response
