"""Operations: /healthz (the store's state) and /robots.txt."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from publisher.errors import PublisherError, StoreUnavailableError
from publisher.store import health
from publisher.web.context import site

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """200 with the data version while the store answers; 503 with Retry-After
    (and since when, and why) while it does not. It asks the store (the pages
    use the data version held in memory); while a write of this process is
    under way it answers with the version held, without waiting for it."""
    the_site = site()
    try:
        the_site.refresh(wait=False)
        version = the_site.data_version()
        releases = the_site.index.count()
    except PublisherError as exc:
        body: dict[str, object] = {
            "status": "error",
            "store": the_site.store.location,
            "store_state": "down",
            "error": str(exc),
        }
        state = health.state(the_site.store)
        if state is not None and not state.up:
            body["down_since"] = state.down_since
        response = jsonify(body)
        response.status_code = 503
        response.headers["Retry-After"] = str(
            exc.retry_after
            if isinstance(exc, StoreUnavailableError)
            else health.RETRY_AFTER
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    response = jsonify(
        {
            "status": "ok",
            "store": the_site.store.location,
            "store_state": "up",
            "data_version": version,
            "releases": releases,
            "base_url": the_site.settings.base_url,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/robots.txt")
def robots() -> Response:
    base = site().settings.base_url
    body = "\n".join(
        [
            "User-agent: *",
            "Disallow: /sparql",
            "Disallow: /api/",
            "Disallow: /dump.nq.gz",
            f"Sitemap: {base}/sitemap.xml",
            "",
        ]
    )
    return Response(body, mimetype="text/plain")
