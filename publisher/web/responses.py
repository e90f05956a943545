"""Responses made of kept renderings (publisher.renderings): the conditional
answer first, then the body as it was made, or its gzip copy.

One definition of such a response's status and headers (:func:`answer`) serves
both the Flask views (:func:`respond`) and the lookup in front of Flask
(publisher.web.kept). Headers are written as text: werkzeug's header objects
cost more than the rest of a kept page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from flask import Response, request
from werkzeug.datastructures import Accept
from werkzeug.http import http_date, parse_accept_header, parse_date, parse_etags

from publisher.renderings import Rendering
from publisher.web.context import site

#: set on every response that has not set them itself
SECURITY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)

Headers = list[tuple[str, str]]


def max_age(seconds: int, next_publication: Callable[[], datetime | None]) -> int:
    """``seconds``, cut to those left until the next scheduled publication: no
    cache may keep a page past it (issue 6, "every cache follows")."""
    upcoming = next_publication()
    if upcoming is None:
        return seconds
    left = int((upcoming - datetime.now(UTC)).total_seconds())
    return max(0, min(seconds, left))


def not_modified(
    made: Rendering, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """The request's validators match ``made`` (RFC 9110: If-None-Match wins
    over If-Modified-Since)."""
    if if_none_match:
        return parse_etags(if_none_match).contains_weak(made.etag)
    if not if_modified_since or made.last_modified is None:
        return False
    since = parse_date(if_modified_since)
    return since is not None and made.last_modified.replace(microsecond=0) <= since


def accepts_gzip(accept_encoding: str | None) -> bool:
    return bool(accept_encoding) and bool(
        parse_accept_header(accept_encoding, Accept)["gzip"]
    )


def answer(
    made: Rendering,
    *,
    method: str,
    validators: tuple[str | None, str | None],
    accept_encoding: str | None,
    max_age_seconds: int,
    vary_accept: bool = False,
    extra: Sequence[tuple[str, str]] = (),
) -> tuple[int, Headers, bytes]:
    """Status, headers and body of ``made`` for a request (its method, its
    If-None-Match and If-Modified-Since, its Accept-Encoding)."""
    vary = ["Accept"] if vary_accept else []
    if made.gzipped is not None:
        vary.append("Accept-Encoding")
    headers: Headers = [
        ("ETag", f'"{made.etag}"'),
        ("Cache-Control", f"public, max-age={max_age_seconds}"),
    ]
    if made.last_modified is not None:
        headers.append(("Last-Modified", http_date(made.last_modified)))
    if vary:
        headers.append(("Vary", ", ".join(vary)))
    headers.extend(extra)
    if method in ("GET", "HEAD") and not_modified(made, *validators):
        return 304, headers, b""
    headers.append(("Content-Type", made.content_type))
    if made.gzipped is not None and accepts_gzip(accept_encoding):
        headers.append(("Content-Encoding", "gzip"))
        return 200, headers, made.gzipped
    return 200, headers, made.body


def respond(
    made: Rendering,
    *,
    vary_accept: bool = False,
    extra: Sequence[tuple[str, str]] = (),
) -> Response:
    """``made`` as the answer to the Flask request being served."""
    status, headers, body = answer(
        made,
        method=request.method,
        validators=(
            request.headers.get("If-None-Match"),
            request.headers.get("If-Modified-Since"),
        ),
        accept_encoding=request.headers.get("Accept-Encoding"),
        max_age_seconds=site().settings.cache_seconds,  # cut after the request
        vary_accept=vary_accept,
        extra=extra,
    )
    response = Response(body, status=status, headers=headers)
    if status == 304:
        response.headers.remove("Content-Type")
    return response
