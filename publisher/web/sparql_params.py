"""The parameters of a SPARQL 1.1 Protocol request, read strictly.

From the URL and, for a POST, the body: a form
(``application/x-www-form-urlencoded``) or a direct query or update
(``application/sparql-query``, ``application/sparql-update``). Only UTF-8 is
read, so a repeated ``query``, a body that is not UTF-8 or a missing content
type is a 4xx, never a guess.
"""

from __future__ import annotations

import urllib.parse

from flask import Request

from publisher.formats import DIRECT_QUERY, DIRECT_UPDATE, FORM
from publisher.web.errors import ProtocolError


def request_params(request: Request, limit: int) -> dict[str, list[str]]:
    """The request's parameters, from the URL and (POST) the body, strictly;
    ``limit`` is the most bytes the URL's query string or the body may have."""
    if len(request.query_string) > limit:
        raise ProtocolError(414, f"the request is longer than {limit} bytes")
    params = parse_params(request.query_string)
    if request.method != "POST":
        _single(params)
        return params
    length = request.content_length
    if length is not None and length > limit:
        raise ProtocolError(413, f"the request body is larger than {limit} bytes")
    body = request.get_data(cache=True)
    if len(body) > limit:
        raise ProtocolError(413, f"the request body is larger than {limit} bytes")
    mimetype = request.mimetype
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if not request.content_type:
        raise ProtocolError(
            415,
            f"a POST needs a Content-Type: {FORM}, {DIRECT_QUERY} or {DIRECT_UPDATE}",
        )
    if charset not in ("utf-8", "utf8"):
        raise ProtocolError(415, f"only UTF-8 is accepted, not {charset}")
    if mimetype == FORM:
        for name, values in parse_params(body).items():
            params.setdefault(name, []).extend(values)
    elif mimetype in (DIRECT_QUERY, DIRECT_UPDATE):
        field = "query" if mimetype == DIRECT_QUERY else "update"
        if field in params:
            raise ProtocolError(
                400, f"the {field} is in the body: it may not also be in the URL"
            )
        try:
            params[field] = [body.decode("utf-8")]
        except UnicodeDecodeError:
            raise ProtocolError(400, "the request body is not UTF-8") from None
    else:
        raise ProtocolError(
            415,
            f"a SPARQL request is {FORM}, {DIRECT_QUERY} or {DIRECT_UPDATE}, "
            f"not {mimetype}",
        )
    _single(params)
    return params


def parse_params(raw: bytes) -> dict[str, list[str]]:
    """``name=value&...`` (ASCII, percent-encoded UTF-8) as lists of values."""
    try:
        text = raw.decode("ascii")
        pairs = urllib.parse.parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict"
        )
    except UnicodeDecodeError:
        raise ProtocolError(400, "the request's parameters are not UTF-8") from None
    except ValueError as exc:
        raise ProtocolError(
            400, f"the request's parameters cannot be read: {exc}"
        ) from None
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def _single(params: dict[str, list[str]]) -> None:
    for name in ("query", "update"):
        if len(params.get(name, [])) > 1:
            raise ProtocolError(400, f"the '{name}' parameter is given more than once")
    if "query" in params and "update" in params:
        raise ProtocolError(400, "a request is a query or an update, not both")
