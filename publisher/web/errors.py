"""Errors in the format of the surface that answers them.

Every :class:`~publisher.errors.PublisherError` carries its HTTP status; the
handler of each blueprint renders it in that surface's format: the error page
for people, ``{"error": {"status": ..., "message": ...}}`` for ``/api``,
``text/plain`` for ``/sparql``. What no view of a blueprint raises (a URL or a
method no route has) and a store that cannot answer are handled app-wide, in the
format of the surface the path belongs to (docs/web.md, "When the store is down").
An error with no status of its own (500) is raised on, as any bug is.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, current_app, render_template, request

from publisher.errors import (
    PublisherError,
    QueryFailedError,
    QueryMemoryError,
    QueryTimeoutError,
    ReadersBusyError,
    RejectedError,
    StoreError,
    StoreRefusedError,
    StoreUnavailableError,
)
from publisher.store import health
from publisher.web.context import sparql
from publisher.web.meta import meta_for

JSON = "application/json"
STORE_DOWN = "The store that holds the releases is not answering; try again shortly."


class ApiError(PublisherError):
    """An API request that cannot be answered: its status, a message and more
    fields for the body."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.extra = extra


class ProtocolError(PublisherError):
    """A request the SPARQL protocol does not allow: its status, a message and
    headers for the answer."""

    def __init__(self, status: int, message: str, **headers: str) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers


def register_errors(app: Flask) -> None:
    """The app-wide handlers: by path, for what no blueprint's view raised."""
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _not_allowed)
    app.register_error_handler(400, bad_request)
    app.register_error_handler(410, gone)
    app.register_error_handler(StoreError, store_failed)


def _surface() -> str:
    path = request.path
    for name in ("api", "sparql"):
        if path == f"/{name}" or path.startswith(f"/{name}/"):
            return name
    return "pages"


def _not_found(error: Any) -> Any:
    # /api answers errors in JSON, even for URLs it does not have
    return api_not_found(error) if _surface() == "api" else not_found(error)


def _not_allowed(error: Any) -> Any:
    return api_not_allowed(error) if _surface() == "api" else error


def _raise_bugs(exc: PublisherError) -> None:
    """An error with no status of its own (500) is a bug: raised on."""
    if exc.status == PublisherError.status:
        raise exc


# Pages for people -----------------------------------------------------------------

_HEADINGS = {400: "Bad request", 404: "Page not found"}


def _page(code: int, heading: str, title: str, **context: Any) -> str:
    return render_template(
        "pages/error.html",
        code=code,
        heading=heading,
        meta=meta_for(
            title=title,
            description=context.pop("description", title),
            path=request.path,
        ),
        **context,
    )


def page_failed(exc: PublisherError) -> Response:
    """The handler of the blueprints for people (pages, feeds, linked data)."""
    if isinstance(exc, StoreError):
        return store_failed(exc)
    _raise_bugs(exc)
    heading = _HEADINGS.get(exc.status, "Request refused")
    page = _page(exc.status, heading, heading, message=str(exc))
    return Response(page, status=exc.status, mimetype="text/html")


def not_found(error: Exception) -> tuple[str, int]:
    return _page(404, "Page not found", "Page not found"), 404


def gone(error: Any) -> tuple[str, int]:
    stone = getattr(error, "description", None)
    return (
        _page(
            410,
            "This release has been removed",
            "Release removed",
            description="This release has been removed",
            stone=stone if not isinstance(stone, str) else None,
        ),
        410,
    )


def bad_request(error: Any) -> tuple[str, int]:
    message = getattr(error, "description", "")
    return _page(400, "Bad request", "Bad request", message=message), 400


# The API's problem JSON -----------------------------------------------------------


def json_answer(body: Any, status: int = 200, **headers: str) -> Response:
    """JSON as the API writes it; ``headers`` with ``_`` for ``-``."""
    response = Response(
        json.dumps(body, ensure_ascii=False, indent=2) + "\n",
        status=status,
        mimetype=JSON,
    )
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    response.headers["Cache-Control"] = "no-cache"
    return response


def problem(status: int, message: str, **extra: Any) -> Response:
    """An error in the API's format, with ``extra`` fields beside ``error``."""
    headers = {}
    if status == 401:
        headers["WWW_Authenticate"] = 'Bearer realm="Release Publisher API"'
    if status == 503:
        headers["Retry_After"] = str(health.RETRY_AFTER)
    return json_answer(
        {"error": {"status": status, "message": message}, **extra}, status, **headers
    )


def api_failed(exc: PublisherError) -> Response:
    """The API blueprint's handler: the error's status and message as JSON."""
    if isinstance(exc, StoreError):
        return store_failed(exc)
    _raise_bugs(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, ApiError):
        extra = exc.extra
    elif isinstance(exc, RejectedError):
        extra = {"report": exc.report}
    return problem(exc.status, str(exc), **extra)


def api_not_found(_exc: Exception) -> Response:
    return problem(404, "no such API resource; see /api/openapi.json")


def api_not_allowed(exc: Exception) -> Response:
    response = problem(
        405, f"{request.method} is not allowed here; see /api/openapi.json"
    )
    allowed = getattr(exc, "valid_methods", None)
    if allowed:
        response.headers["Allow"] = ", ".join(sorted(allowed))
    return response


# SPARQL's plain text --------------------------------------------------------------


def text_answer(
    status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    response = Response(message.rstrip() + "\n", status=status, mimetype="text/plain")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def sparql_failed(exc: PublisherError) -> Response:
    """The SPARQL blueprint's handler (a query's errors: :func:`query_error`)."""
    if isinstance(exc, ProtocolError):
        return text_answer(exc.status, str(exc), exc.headers)
    if isinstance(exc, StoreError):
        return store_failed(exc)
    _raise_bugs(exc)
    return text_answer(exc.status, str(exc))


def query_error(exc: PublisherError) -> tuple[int, str, dict[str, str]]:
    """Status, message and headers for a SPARQL query that failed.

    A store that cannot run it (not a reader's verdict on the query) is a 503.
    """
    settings = sparql().settings
    if isinstance(exc, QueryTimeoutError):
        return (
            exc.status,
            f"the query ran longer than {settings.query_timeout:g} s "
            "(PUBLISHER_QUERY_TIMEOUT) and was stopped: narrow it, or add a LIMIT",
            {},
        )
    if isinstance(exc, QueryMemoryError):
        return (
            exc.status,
            f"{exc} (PUBLISHER_QUERY_MEMORY_MB): narrow it, or add a LIMIT",
            {},
        )
    if isinstance(exc, ReadersBusyError):
        return exc.status, str(exc), {"Retry-After": "1"}
    if isinstance(exc, StoreError) and not isinstance(exc, QueryFailedError):
        retry = {"Retry-After": str(health.RETRY_AFTER)}
        return StoreError.status, f"the store cannot answer: {exc}", retry
    return exc.status, str(exc), {}


def update_failed(exc: PublisherError) -> Response:
    """A SPARQL Update that failed, as text: a store that does not answer is a
    503; one that could not apply the update refuses it (400)."""
    if isinstance(exc, StoreUnavailableError):
        retry = {"Retry-After": str(exc.retry_after)}
        return text_answer(exc.status, f"the update failed: {exc}", retry)
    if isinstance(exc, StoreError):
        return text_answer(StoreRefusedError.status, f"the update failed: {exc}")
    return text_answer(exc.status, str(exc))


# The store that cannot answer, app-wide -------------------------------------------


def store_failed(error: StoreError) -> Response:
    """The store cannot answer: 503 with Retry-After, in the surface's format
    (JSON for /api, text for /sparql, a page for people). The details, which
    name the store's address, go to the log, not to the client."""
    current_app.logger.warning("%s %s: %s", request.method, request.path, error)
    retry = (
        error.retry_after
        if isinstance(error, StoreUnavailableError)
        else health.RETRY_AFTER
    )
    surface = _surface()
    if surface == "api":
        response = problem(503, STORE_DOWN)
    elif surface == "sparql":
        response = text_answer(503, STORE_DOWN)
    else:
        page = _page(
            503,
            "Temporarily unavailable",
            "Temporarily unavailable",
            description=STORE_DOWN,
            message=STORE_DOWN,
        )
        response = Response(page, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(retry)
    response.headers["Cache-Control"] = "no-store"
    return response
