"""The Flask app: pages for people, linked data for machines, feeds for readers.

``create_app(settings)`` follows flaskr: settings from publisher.config (shared with
the CLI), then the store and its listing index opened from them and kept in
``app.extensions["publisher"]``, then the blueprints. Nothing runs at import time.
Only this package imports Flask.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, g, request
from werkzeug.routing import MapAdapter

from publisher.config import Settings, load_settings
from publisher.publishing import PublishingService
from publisher.scheduler import Scheduler
from publisher.site import SiteService
from publisher.sparql import SparqlService
from publisher.store import Store, health, open_store
from publisher.store.index import ListingIndex
from publisher.store.record_cache import RecordCache
from publisher.store.schedule import ScheduleStore
from publisher.tokens import load_tokens
from publisher.web import api, feeds, linked, ops, pages, sparql
from publisher.web.context import publishing
from publisher.web.errors import register_errors
from publisher.web.filters import register_filters
from publisher.web.kept import KeptRenderings
from publisher.web.replay import ReplayedAnswers
from publisher.web.responses import SECURITY_HEADERS, max_age


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    index: ListingIndex | None = None,
    schedule: ScheduleStore | None = None,
    scheduler: bool = False,
) -> Flask:
    """An app over ``store`` (default: the one the settings name).

    ``scheduler``: publish scheduled releases on time from a thread of this
    process (``publisher serve`` does; tests start it when they need it).
    """
    settings = settings or load_settings()
    app = _App(__name__)
    app.config["PUBLISHER_SETTINGS"] = settings
    store = store or open_store(settings)
    SiteService.check_base_url(store, settings)  # refuse to serve another site's IRIs
    index = index or ListingIndex.for_settings(settings)
    the_site = SiteService(settings, store, index)
    app.extensions["publisher"] = the_site
    app.extensions["publisher.tokens"] = load_tokens(settings)
    app.extensions["publisher.sparql"] = SparqlService(
        settings, store, the_site.data_version, the_site.write_lock
    )
    publishing = PublishingService(
        settings,
        store,
        the_site.write_lock,
        schedule or ScheduleStore.for_settings(settings),
        on_write=lambda w: the_site.follow(w.previous, w.version, w.slugs, w.known),
        record_cache=RecordCache.beside(index.path),
    )
    app.extensions["publisher.publishing"] = publishing
    app.extensions["publisher.scheduler"] = Scheduler(publishing)
    if scheduler:
        app.extensions["publisher.scheduler"].start()

    app.register_blueprint(ops.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(linked.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(api.bp)
    register_errors(app)
    app.before_request(_store_deadline)
    app.teardown_request(_end_store_deadline)
    app.after_request(_security_headers)
    app.after_request(_until_next_publication)
    app.jinja_env.globals["settings"] = settings
    # what was made once is answered before Flask (publisher.web.kept)
    kept = KeptRenderings(app.wsgi_app, the_site, publishing.next_publication)
    # and a repeated SPARQL query, as the endpoint answered it (publisher.web.replay)
    app.wsgi_app = ReplayedAnswers(  # type: ignore[method-assign]
        kept,
        the_site,
        app.extensions["publisher.sparql"].data_version,
        settings.query_max_bytes,
    )
    register_filters(app)
    return app


class _App(Flask):
    """Flask whose URLs (redirects, ``url_for``) are built from the base URL.

    Werkzeug builds the redirects of its routing (``//`` merged, a missing
    trailing slash) and external URLs from the request's Host header; here the
    URL map is bound to ``base_url`` (scheme, host and path prefix) instead, so
    no Host or X-Forwarded-Host a client sends is ever reflected.
    """

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        settings: Settings = self.config["PUBLISHER_SETTINGS"]
        base = urlsplit(settings.base_url)
        if request is None:
            return self.url_map.bind(
                base.netloc, script_name=base.path or "/", url_scheme=base.scheme
            )
        return self.url_map.bind(
            base.netloc,
            script_name=base.path or "/",
            url_scheme=base.scheme,
            subdomain=self.url_map.default_subdomain or "",
            path_info=request.path,
            default_method=request.method,
            query_args=request.query_string.decode("latin-1"),
        )


def _store_deadline() -> None:
    """Requests to the store fail at once while it is known to be down, and a
    read waits for it at most page_timeout in all (health.serving).

    Writes (the API's, SPARQL Update) have no deadline: what a write reads after
    writing must not fail once the write is applied.
    """
    reads = request.method in ("GET", "HEAD", "OPTIONS") or (
        request.method == "POST"
        and request.path == "/sparql"
        and request.mimetype == "application/sparql-query"
    )
    settings: Settings = current_app.config["PUBLISHER_SETTINGS"]
    stack = ExitStack()
    stack.enter_context(health.serving(settings.page_timeout if reads else None))
    g.store_deadline = stack


def _end_store_deadline(_error: BaseException | None) -> None:
    stack: ExitStack | None = g.pop("store_deadline", None)
    if stack is not None:
        stack.close()


_MAX_AGE = re.compile(r"max-age=(\d+)")


def _until_next_publication(response: Response) -> Response:
    """No cache may keep a page past a scheduled publication: max-age is cut to
    the seconds left until the next one (issue 6, "every cache follows")."""
    control = response.headers.get("Cache-Control")
    found = _MAX_AGE.search(control) if control else None
    if found is None:
        return response
    seconds = int(found.group(1))
    cut = max_age(seconds, publishing().next_publication)
    if cut < seconds:
        response.cache_control.max_age = cut
    return response


def _security_headers(response: Response) -> Response:
    present = {name.lower() for name in response.headers.keys()}  # noqa: SIM118
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            response.headers.add(name, value)
    return response


def wsgi_app(**overrides: Any) -> Flask:
    """For ``flask --app publisher.web run`` (development only)."""
    return create_app(load_settings(overrides or None), scheduler=True)
