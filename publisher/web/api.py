"""The publishing API at /api (docs/api.md; OpenAPI at /api/openapi.json).

Views parse the request, call one publisher.publishing method (writes) or
publisher.site one (reads) and answer JSON.
Reads are public; writes need a write token (publisher.tokens), role publish or
admin. Errors are ``{"error": {"status": ..., "message": ...}}``; a release that
violates the shapes gets 422 with the validation report (the schema of
``publisher validate --report json``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request, url_for

from publisher import nesting
from publisher.errors import PublisherError, StoreError
from publisher.model import SLUG_RE
from publisher.renderings import Rendering, rendering
from publisher.site import VIEWS, parse_day
from publisher.tokens import Token
from publisher.web.context import publishing, site, tokens
from publisher.web.errors import ApiError, api_failed, json_answer, problem
from publisher.web.meta import meta_for
from publisher.web.openapi import MAX_PAGE, openapi
from publisher.write_values import WriteResult

bp = Blueprint("api", __name__, url_prefix="/api")
bp.register_error_handler(PublisherError, api_failed)

JSON = "application/json"


def _token() -> Token:
    given = request.headers.get("Authorization", "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise ApiError(
            401, "writing needs a write token: Authorization: Bearer <token>"
        )
    token = tokens().check(credentials.strip())
    if token is None:
        raise ApiError(403, "this token is not known here")
    return token


def _body() -> Any:
    if request.mimetype != JSON:
        raise ApiError(
            415,
            f"send the release as {JSON} (Content-Type), not "
            f"{request.mimetype or 'nothing'}",
        )
    limit = site().settings.query_max_bytes * 64
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"the body is larger than {limit} bytes")
    raw = request.get_data(cache=True)
    try:
        found = nesting.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not UTF-8") from None
    except ValueError as exc:  # a syntax error, or nesting.TooDeep
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    try:
        # a \ud800 escape alone (half a surrogate pair) stands for no character
        json.dumps(found, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(
            400, "the body is not valid JSON text: a \\u escape is half a character"
        ) from None
    return found


def _if_match() -> str | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = request.if_match
    if tags.star_tag:
        return None
    found = list(tags.as_set())
    if len(found) != 1:
        raise ApiError(400, "If-Match takes one ETag: the one GET returned")
    return found[0]


def _release_id(slug: str) -> str:
    """The slug of a URL, which can only name a release if it is a slug (a 404)."""
    if not SLUG_RE.match(slug):
        raise ApiError(
            404,
            f"no release {slug!r}: a release's id is a slug (lower-case letters, "
            "digits and hyphens)",
        )
    return slug


def _written(result: WriteResult, slug: str | None, created: bool) -> Response:
    record = None
    headers: dict[str, str] = {}
    if slug is not None and slug in result.content_hashes:
        found = site().record(slug)
        record = found[0] if found else None
        headers["ETag"] = f'"{result.content_hashes[slug]}"'
        headers["Location"] = url_for("api.release", slug=slug)
    body = {
        "published": result.published,
        "unchanged": result.unchanged,
        "created": result.created,
        "scheduled": {s: _utc(t) for s, t in result.scheduled.items()},
        "versions": result.content_hashes,
        "data_version": result.data_version,
        "report": result.report,
        "release": record,
    }
    if slug is not None and slug in result.scheduled:
        status = 202
        headers.pop("ETag", None)
        headers["Location"] = url_for("api.scheduled", slug=slug)
    elif created:
        status = 201
    else:
        status = 200
    return json_answer(body, status, **headers)


def _utc(moment: datetime) -> str:
    return moment.isoformat()


@contextmanager
def _writing() -> Iterator[None]:
    """A write the store cannot take is a 503 that says so (the rest of the
    errors of a write answer their own status: the blueprint's handler)."""
    try:
        yield
    except StoreError as exc:
        raise ApiError(503, f"the store cannot take the change: {exc}") from None


# Reading ---------------------------------------------------------------------


@bp.get("/releases")
def releases() -> Response:
    view = request.args.get("view", "all")
    if view not in VIEWS:
        raise ApiError(400, f"view is one of {', '.join(VIEWS)}, not {view!r}")
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        raise ApiError(400, "page is a whole number") from None
    if not 1 <= page <= MAX_PAGE:
        raise ApiError(400, f"page is from 1 to {MAX_PAGE}")
    start, end = _date("from"), _date("to")
    text = (request.args.get("q") or "").strip() or None
    topic = request.args.get("topic") or None
    designation = request.args.get("designation") or None

    def make() -> Rendering:
        listing = site().listing(
            view,
            topic=topic,
            designation=designation,
            start=start,
            end=end,
            text=text,
            page=page,
        )
        # the records kept at the rows' versions (publisher.store.record_cache)
        records = publishing().records([(r.slug, r.content_hash) for r in listing.rows])
        following = None
        if page < listing.pages:
            args = {**request.args.to_dict(), "page": str(page + 1)}
            following = url_for("api.releases") + "?" + urlencode(args)
        body = {
            "releases": records,
            "total": listing.total,
            "page": listing.page,
            "pages": listing.pages,
            "next": following,
        }
        return rendering(
            json.dumps(body, ensure_ascii=False, indent=2) + "\n",
            JSON,
            kind="api-list",
            tags={"listings"},
        )

    # kept until the next write, like the calendar's pages (and shared by workers)
    key = ("api-list", request.query_string.decode("latin-1"))
    made = site().kept(key, make)
    assert made is not None  # noqa: S101 - make() always makes one
    response = Response(made.body, mimetype=JSON)
    response.set_etag(made.etag)
    response.headers["Cache-Control"] = "no-cache"
    response.make_conditional(request)
    return response


def _date(name: str) -> datetime | None:
    try:
        return parse_day(request.args.get(name, ""), site().settings)
    except ValueError:
        raise ApiError(400, f"{name} is a date such as 2027-01-31") from None


def _gone_or_moved(slug: str) -> Response:
    the_site = site()
    moved = the_site.moved_to(slug)
    if moved is not None:
        response = Response(status=308)
        response.headers["Location"] = url_for(
            request.endpoint or "api.release", slug=moved, _external=True
        )
        return response
    stone = the_site.tombstone(slug)
    if stone is not None:
        return problem(
            410,
            f"{slug} was deleted: {stone.reason}",
            deleted_at=stone.deleted_at,
            reason=stone.reason,
        )
    return problem(404, f"no release {slug!r}")


@bp.get("/releases/<slug>")
def release(slug: str) -> Response:
    _release_id(slug)
    found = site().record(slug)
    if found is None:
        return _gone_or_moved(slug)
    record, content_hash = found
    response = json_answer(record)
    response.set_etag(content_hash)
    response.headers["Cache-Control"] = "no-cache"
    response.make_conditional(request)
    return response


@bp.get("/releases/<slug>/jsonld")
def release_jsonld(slug: str) -> Response:
    _release_id(slug)
    page = site().release(slug)
    if page is None:
        return _gone_or_moved(slug)
    response = Response(
        json.dumps(page.embed(), ensure_ascii=False, indent=2) + "\n",
        mimetype="application/ld+json",
    )
    response.set_etag(f"{page.content_hash}-embed")
    response.headers["Cache-Control"] = "no-cache"
    response.make_conditional(request)
    return response


# Writing ---------------------------------------------------------------------


@bp.post("/releases")
def create() -> Response:
    token = _token()
    body = _body()
    with _writing():
        result = publishing().write(
            [body], token.name, source="request", create_only=True
        )
    slug = next(iter(result.content_hashes), None) or next(iter(result.scheduled), None)
    return _written(result, slug, created=True)


@bp.put("/releases/<slug>")
def replace(slug: str) -> Response:
    token = _token()
    _release_id(slug)
    body = _body()
    if isinstance(body, dict) and "id" not in body:
        body = {"id": slug, **body}
    if_match = _if_match()
    with _writing():
        result = publishing().write(
            [body], token.name, source="request", target=slug, if_match=if_match
        )
    new_slug = body.get("id", slug) if isinstance(body, dict) else slug
    # created by this write (decided under the write lock), or renamed: a release
    # at a new URL (the old one redirects to it)
    created = new_slug in result.created or new_slug != slug
    return _written(result, new_slug, created=created)


@bp.delete("/releases/<slug>")
def delete(slug: str) -> Response:
    token = _token()
    _release_id(slug)
    reason = request.args.get("reason", "")
    if not reason and request.mimetype == JSON and request.get_data():
        body = _body()
        if isinstance(body, dict) and isinstance(body.get("reason"), str):
            reason = body["reason"]
    if_match = _if_match()
    with _writing():
        version = publishing().delete(slug, reason, token.name, if_match)
    return json_answer(
        {"deleted": slug, "reason": reason.strip(), "data_version": version}
    )


@bp.post("/batches")
def batch() -> Response:
    token = _token()
    body = _body()
    if isinstance(body, dict) and set(body) == {"releases"}:
        records = body["releases"]
    elif isinstance(body, list):
        records = body
    else:
        raise ApiError(400, 'a batch is {"releases": [release, ...]}')
    if not isinstance(records, list) or not records:
        raise ApiError(400, 'a batch is {"releases": [release, ...]}, at least one')
    with _writing():
        result = publishing().write(records, token.name, source="batch")
    return _written(result, None, created=False)


@bp.get("/releases/<slug>/scheduled")
def scheduled(slug: str) -> Response:
    _token()
    _release_id(slug)
    entry = publishing().schedule.get(slug)
    if entry is None:
        raise ApiError(404, f"nothing is scheduled for {slug!r}")
    return json_answer(
        {
            "id": entry.slug,
            "publish_at": _utc(entry.publish_at),
            "scheduled_by": entry.agent,
            "release": entry.record,
        }
    )


@bp.delete("/releases/<slug>/scheduled")
def withdraw(slug: str) -> Response:
    _token()
    _release_id(slug)
    if not publishing().withdraw(slug):
        raise ApiError(404, f"nothing is scheduled for {slug!r}")
    return Response(status=204)


# The description ---------------------------------------------------------------


@bp.get("/openapi.json")
def description() -> Response:
    response = json_answer(openapi())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("")
@bp.get("/")
def guide() -> str:
    spec = openapi()
    operations = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "auth": bool(operation.get("security")),
                    "parameters": [
                        p
                        for p in [
                            *item.get("parameters", []),
                            *operation.get("parameters", []),
                        ]
                    ],
                    "responses": sorted(operation["responses"].items()),
                    "id": operation.get("operationId", ""),
                }
            )
    return render_template(
        "api/guide.html",
        spec=spec,
        operations=operations,
        meta=meta_for(
            title="Publishing API",
            description="Publish releases from a pipeline: the HTTP API, "
            "described in OpenAPI 3.1.",
            path="/api",
        ),
    )
