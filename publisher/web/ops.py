"""Operations: /healthz (the store's state) and /robots.txt."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from publisher.errors import PublisherError
from publisher.web import site

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    the_site = site()
    try:
        version = the_site.data_version()
        releases = the_site.index.count()
    except PublisherError as exc:
        return jsonify(
            {"status": "error", "store": the_site.store.location, "error": str(exc)}
        ), 503
    return (
        jsonify(
            {
                "status": "ok",
                "store": the_site.store.location,
                "data_version": version,
                "releases": releases,
                "base_url": the_site.settings.base_url,
            }
        ),
        200,
    )


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
