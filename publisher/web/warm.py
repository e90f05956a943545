"""Pages rendered again as soon as a write changes them, before readers ask.

When a write changes releases (this worker's own, or another worker's that it
follows), their kept renderings are dropped (publisher.site); the first reader of
each would then wait for the page to be made. On release day those are exactly
the pages everyone opens at the minute. A background thread of each worker makes
again the HTML page of each changed release whose page it kept (one someone
read: a batch of new releases costs nothing here), through the app itself (an in-process
WSGI call, never a network request), so the rendering is kept exactly as a
reader's request would have kept it, plain and gzip'd.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from flask import Flask
from werkzeug.test import EnvironBuilder

from publisher.site import SiteService
from publisher.web.kept import run_app

_log = logging.getLogger("publisher.web.warm")
#: the most releases one write has rendered again (a larger batch: the rest on
#: their first view)
WARM_MAX = 200


class Warmer:
    """Renders changed releases' pages from one daemon thread, started on the
    first change (never before a worker is forked)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._queue: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self.made = 0

    def changed(self, slugs: list[str]) -> None:
        if not slugs:
            return
        self._queue.put(list(slugs[:WARM_MAX]))
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="pages-warmer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            for slug in self._queue.get():
                try:
                    self._make(slug)
                except Exception as exc:  # a reader will make it, or see the error
                    _log.warning("page of %s not made ahead: %r", slug, exc)

    def _make(self, slug: str) -> None:
        # as the server hands a request to the app (no path prefix: the app
        # builds its URLs from the base URL, not from the request)
        environ: dict[str, Any] = EnvironBuilder(
            path=f"/releases/{slug}",
            headers=[("Accept", "text/html"), ("Accept-Encoding", "gzip")],
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        ).get_environ()
        run_app(self.app.wsgi_app, environ)  # made and kept on the way
        self.made += 1


def warm_changed_pages(app: Flask) -> Warmer:
    """From now on, ``app``'s changed release pages are made again at once."""
    site: SiteService = app.extensions["publisher"]
    warmer = Warmer(app)
    site.on_changed.append(warmer.changed)
    app.extensions["publisher.warmer"] = warmer
    return warmer
