"""Run the web app under waitress, a production WSGI server.

Between the CLI and the web package, so neither imports the other (STYLE.md).
"""

from __future__ import annotations

from collections.abc import Callable

from waitress import serve as waitress_serve

from publisher.config import Settings
from publisher.web import create_app


def serve(
    settings: Settings,
    host: str,
    port: int,
    threads: int,
    announce: Callable[[str], None] = print,
) -> None:
    """Create the app over the settings' store and serve it until interrupted."""
    app = create_app(settings, scheduler=True)
    # The listing index catches up before the port opens, not on the first
    # visitor's request (a whole store, after an upgrade, takes a while).
    announce("Bringing the listing index up to date with the store...")
    app.extensions["publisher"].current()
    app.extensions["publisher"].start_watcher()  # others' writes, within version_watch
    # two readers ready for the first SPARQL queries (a new one takes ~0.3 s)
    sparql = app.extensions["publisher.sparql"]
    sparql.readers.start(min(2, settings.query_concurrency))
    announce(
        f"Serving {settings.site_name} at {settings.base_url}/ (listening on "
        f"http://{host}:{port}, {threads} threads). Ctrl-C stops."
    )
    try:
        waitress_serve(
            app, host=host, port=port, threads=threads, ident="release-publisher"
        )
    finally:
        sparql.close()
        app.extensions["publisher.scheduler"].stop()
