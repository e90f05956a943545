"""The SPARQL 1.1 endpoint at /sparql: the Protocol, the service description, the
query page for people, CORS and HTTP caching. The work itself (checks, reader
processes, the row cap, the cache, updates) is publisher.sparql's.

SPARQL 1.1 Protocol (https://www.w3.org/TR/sparql11-protocol/):

- 2.1 query: GET ``?query=``; POST form (``application/x-www-form-urlencoded``);
  POST ``application/sparql-query`` with dataset parameters in the URL;
  ``default-graph-uri`` and ``named-graph-uri`` repeatable.
- 2.2 update: POST form ``update=`` or ``application/sparql-update``, with
  ``using-graph-uri``/``using-named-graph-uri``; here only with an admin token.
- Parameters are read from the raw request, strictly as UTF-8, so a repeated
  ``query``, a body that is not UTF-8 or a missing content type is a 4xx, never a
  guess (publisher.web.sparql_params).

The query page for people is publisher.web.sparql_page's; the formats are
publisher.formats'.
"""

from __future__ import annotations

import json
from functools import lru_cache

from flask import Blueprint, Response, request
from rdflib import Graph
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from publisher.describe import service_description
from publisher.errors import (
    PublisherError,
    QueryFailedError,
    QueryRefusedError,
    QuerySyntaxError,
    QueryTimeoutError,
    StoreError,
)
from publisher.formats import (
    ALIASES,
    BY_NAME,
    GRAPH,
    HTML,
    RESULTS,
    SHORT,
    Format,
)
from publisher.formats import FORMATS as ALL_FORMATS
from publisher.sparql import Result, request_key
from publisher.store import health
from publisher.web.clients import client_address
from publisher.web.context import site, sparql, tokens
from publisher.web.errors import (
    ProtocolError,
    query_error,
    sparql_failed,
    text_answer,
    update_failed,
)
from publisher.web.sparql_page import query_page
from publisher.web.sparql_params import request_params

bp = Blueprint("sparql", __name__)
bp.register_error_handler(PublisherError, sparql_failed)


#: the endpoint's formats: SELECT/ASK results and CONSTRUCT/DESCRIBE graphs
FORMATS = tuple(f for f in ALL_FORMATS if f.kinds & {RESULTS, GRAPH})
_MIMETYPES = [f.mimetype for f in FORMATS]
QUERY_PARAMS = {"query", "default-graph-uri", "named-graph-uri", "format"}
UPDATE_PARAMS = {"update", "using-graph-uri", "using-named-graph-uri"}


# The route ---------------------------------------------------------------------


ALLOW = "GET, HEAD, POST, OPTIONS"


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"])
def endpoint() -> Response:
    if request.method == "OPTIONS":
        return _preflight()
    if request.method not in ("GET", "HEAD", "POST"):
        raise ProtocolError(
            405,
            f"{request.method} is not a SPARQL 1.1 Protocol method: queries are GET "
            "or POST, updates POST",
            Allow=ALLOW,
        )
    params = _params()
    if "update" in params:
        if request.method != "POST":
            raise ProtocolError(
                400, "SPARQL Update must be sent by POST (SPARQL 1.1 Protocol, 2.2)"
            )
        return _update(params)
    if "query" not in params:
        if request.method == "POST":
            raise ProtocolError(400, "no 'query' or 'update' parameter")
        return _description()
    return _query(params)


def _params() -> dict[str, list[str]]:
    """The request's parameters, from the URL and (POST) the body, strictly."""
    return request_params(request, sparql().settings.query_max_bytes)


# Queries -----------------------------------------------------------------------


def _query(params: dict[str, list[str]]) -> Response:
    text = params["query"][0]
    dataset = _dataset(params)
    the_service = sparql()
    wants_html = _wants_html(params)

    def failed(exc: PublisherError) -> Response:
        """For people, the query page again with the message; else text/plain."""
        status, message, headers = query_error(exc)
        if not wants_html:
            return text_answer(status, message, headers)
        response = Response(_page(text, params, None, error=message), status=status)
        for name, value in headers.items():
            response.headers[name] = value
        return response

    # A kept answer is a lookup: no parsing, no store, then bytes written once.
    version = the_service.data_version()
    key = request_key(text, *dataset)
    hit = the_service.cached(version, key)
    info = None
    if hit is None:
        try:
            info = the_service.inspect(text)
        except (QuerySyntaxError, QueryRefusedError) as exc:
            return failed(exc)
    form = hit.form if hit is not None else info.form if info else ""
    kind = "results" if form in ("select", "ask") else "graph"
    fmt = None if wants_html else _negotiate(kind, params.get("format"))
    zipped = fmt is not None and _accepts_gzip()
    conditional = request.method in ("GET", "HEAD")
    tag = _tag(version, key, fmt, zipped)
    if conditional and tag in request.if_none_match:
        response = Response(status=304)
        _cache_headers(response, tag)
        return response
    try:
        result = hit or the_service.query(
            text,
            *dataset,
            info=info,
            client=client_address(request, the_service.settings),
            version=version,
        )
    except (QueryTimeoutError, QueryFailedError) as exc:
        # a hung store, or a reader that could not reach it: 503, not the query's
        # fault (health.confirm raises StoreUnavailableError)
        health.confirm(site().store)
        return failed(exc)
    except (QuerySyntaxError, QueryRefusedError, StoreError) as exc:
        return failed(exc)
    if fmt is None:
        response = Response(_page(text, params, result))
    else:
        rendering = the_service.rendering(result, fmt.name)
        body = rendering.gzipped() if zipped else rendering.body
        response = Response(body, mimetype=fmt.mimetype)
        if zipped:
            response.headers["Content-Encoding"] = "gzip"
    if result.answer.truncated:
        response.headers["X-SPARQL-MaxRows"] = str(the_service.settings.query_max_rows)
    response.headers["X-Cache"] = "hit" if result.cached else "miss"
    if conditional:
        _cache_headers(response, _tag(result.data_version, key, fmt, zipped))
    response.headers["Vary"] = "Accept" if fmt is None else "Accept, Accept-Encoding"
    return response


def _tag(version: str, key: str, fmt: Format | None, zipped: bool) -> str:
    """The ETag of the answer in ``fmt`` (None: the page), gzip'd or not: one
    per representation (RFC 9110, 8.8.3)."""
    tag = Result.etag_for(version, key, fmt.name if fmt else "html")
    return tag + "-gz" if zipped else tag


def _accepts_gzip() -> bool:
    given = request.headers.get("Accept-Encoding", "")
    return "gzip" in given and request.accept_encodings["gzip"] > 0


def _dataset(
    params: dict[str, list[str]],
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    default = params.get("default-graph-uri")
    named = params.get("named-graph-uri")
    if default is None and named is None:
        return None, None
    return tuple(default or ()), tuple(named or ())


def _wants_html(params: dict[str, list[str]]) -> bool:
    chosen = params.get("format")
    if chosen:
        return chosen[0] in ("html", HTML)
    return _accept_prefers_html(request.headers.get("Accept", ""))


@lru_cache(maxsize=512)
def _accept_prefers_html(header: str) -> bool:
    """:func:`_prefers_html` of an Accept header (clients repeat theirs: the
    answer is worked out once per header)."""
    return _html_first(parse_accept_header(header, MIMEAccept), _MIMETYPES)


def _prefers_html(others: list[str]) -> bool:
    """Accept names text/html itself (not only */*) and ranks it first."""
    return _html_first(request.accept_mimetypes, others)


def _html_first(accept: MIMEAccept, others: list[str]) -> bool:
    named = any(value == HTML and quality > 0 for value, quality in accept)
    return named and accept.best_match([HTML, *others]) == HTML


def _negotiate(kind: str, chosen: list[str] | None) -> Format:
    """The format asked for by ``?format=`` or Accept; 406 when none fits."""
    return _choose(kind, tuple(chosen or ()), request.headers.get("Accept", ""))


@lru_cache(maxsize=512)
def _choose(kind: str, chosen: tuple[str, ...], header: str) -> Format:
    """The format asked for by ``?format=`` or the Accept ``header``; 406 when
    none fits (worked out once per kind, parameter and header).

    ``format`` may be a name (``json``, ``turtle``), a media type, or a short
    name clients use for either kind (``xml`` and ``json`` are RDF/XML and JSON-LD
    for a graph: SPARQLWrapper sends them so); given more than once, the first
    that fits wins.
    """
    suitable = [f for f in FORMATS if f.serves(kind)]
    if chosen:
        by_type = {f.mimetype: f for f in suitable}
        for value in chosen:
            name = SHORT[kind].get(value.lower(), value.lower())
            name = ALIASES[kind].get(name, name)
            found = BY_NAME.get(name) or by_type.get(name)
            if found is not None and found.serves(kind):
                return found
        raise ProtocolError(
            406,
            f"format {', '.join(chosen)} does not fit {_kind_text(kind)}; use one of "
            + ", ".join(f.name for f in suitable),
        )
    accept = parse_accept_header(header or None, MIMEAccept)
    if not accept or (accept.best == "*/*" and len(list(accept.values())) == 1):
        return suitable[0]
    offered = [f.mimetype for f in suitable] + list(ALIASES[kind])
    best = accept.best_match(offered)
    if best is None:
        raise ProtocolError(
            406,
            f"cannot answer {_kind_text(kind)} as {header or None}; "
            "acceptable: " + ", ".join(f.mimetype for f in suitable),
        )
    alias = ALIASES[kind].get(best)
    return BY_NAME[alias] if alias else next(f for f in suitable if f.mimetype == best)


def _kind_text(kind: str) -> str:
    return (
        "SELECT or ASK results"
        if kind == "results"
        else "CONSTRUCT or DESCRIBE results"
    )


def _cache_headers(response: Response, tag: str) -> None:
    response.set_etag(tag)
    # Revalidate every time: a publish can change any answer at any moment.
    response.headers["Cache-Control"] = "public, no-cache"


# Updates -----------------------------------------------------------------------


def _update(params: dict[str, list[str]]) -> Response:
    given = request.headers.get("Authorization", "")
    scheme, _, credentials = given.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="SPARQL Update"'}
    if scheme.lower() != "bearer" or not credentials.strip():
        raise ProtocolError(
            401,
            "SPARQL Update needs an admin token: Authorization: Bearer <token>",
            **challenge,
        )
    token = tokens().check(credentials.strip())
    if token is None:
        raise ProtocolError(403, "this token is not known here", **challenge)
    if not token.admin:
        raise ProtocolError(
            403,
            f"the token {token.name!r} may publish through the API but not send "
            "SPARQL Update (role publish, not admin)",
        )
    try:
        result = sparql().update(
            params["update"][0],
            token.name,
            tuple(params.get("using-graph-uri", [])),
            tuple(params.get("using-named-graph-uri", [])),
        )
    except (QuerySyntaxError, QueryRefusedError, StoreError) as exc:
        return update_failed(exc)
    site().refresh()  # the data version in memory, the index and renderings follow
    body = {
        "data_version": result.data_version,
        "changed": result.changed,
        "removed": result.deleted,
        "by": token.name,
    }
    return Response(json.dumps(body, indent=2) + "\n", mimetype="application/json")


# Service description -----------------------------------------------------------


def _description() -> Response:
    rdf = {
        "turtle": "text/turtle",
        "rdfxml": "application/rdf+xml",
        "jsonld": "application/ld+json",
        "ntriples": "application/n-triples",
    }
    chosen = request.args.get("format")
    if chosen == "html" or (chosen is None and _prefers_html(list(rdf.values()))):
        return Response(_page("", {}, None))
    if chosen is not None:
        if chosen not in rdf:
            raise ProtocolError(
                406, f"the service description is {', '.join(rdf)} or html"
            )
        mimetype = rdf[chosen]
    else:
        accept = request.accept_mimetypes
        best = accept.best_match(list(rdf.values())) if accept else "text/turtle"
        if best is None:
            raise ProtocolError(
                406, "the service description is " + ", ".join(rdf.values())
            )
        mimetype = "text/turtle" if accept.best == "*/*" else best
    graph = _description_graph()
    if mimetype == "application/ld+json":
        body = graph.serialize(format="json-ld", auto_compact=True)
    else:
        fmt = {
            "text/turtle": "turtle",
            "application/rdf+xml": "pretty-xml",
            "application/n-triples": "nt",
        }[mimetype]
        body = graph.serialize(format=fmt)
    response = Response(body, mimetype=mimetype)
    response.vary.add("Accept")
    return response


def _description_graph() -> Graph:
    """SPARQL 1.1 Service Description of this endpoint, with VoID counts."""
    the_site = site()
    figures = the_site.counts()
    return service_description(
        the_site.settings,
        the_site.iris,
        sparql().endpoint,
        [fmt.w3c for fmt in FORMATS],
        triples=figures.triples,
        releases=figures.releases,
    )


# The query page ----------------------------------------------------------------


def _page(
    text: str,
    params: dict[str, list[str]],
    result: Result | None,
    error: str | None = None,
) -> str:
    return query_page(sparql().settings, text, result, error)


# CORS --------------------------------------------------------------------------


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = (
        "Accept, Content-Type, If-None-Match"
    )
    response.headers["Access-Control-Max-Age"] = "86400"
    response.headers["Allow"] = ALLOW
    return response


@bp.after_app_request
def _cors(response: Response) -> Response:
    """CORS on every /sparql answer, errors included (settings: cors_origins)."""
    if request.path != "/sparql":
        return response
    allowed = sparql().settings.cors_origins
    origin = request.headers.get("Origin")
    if not allowed:
        return response
    if "*" in allowed:
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        # the answer depends on Origin, whether it names one or not
        response.vary.add("Origin")
        if not origin or origin not in allowed:
            return response
        response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = (
        "ETag, X-SPARQL-MaxRows, Retry-After, X-Cache"
    )
    return response
