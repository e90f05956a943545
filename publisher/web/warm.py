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

    def __init__(self, app: Flask, turn: tuple[int, int] = (0, 1)) -> None:
        """``turn``: this worker's number and the number of workers. Each starts
        its list at its own share of it, so that two workers do not make the
        same pages at the same moment: what one made, the other takes from the
        renderings shared by the server's workers."""
        self.app = app
        self.turn = turn
        self._queue: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self.made = 0

    def changed(self, slugs: list[str]) -> None:
        if not slugs:
            return
        self._queue.put(in_turn(slugs[:WARM_MAX], self.turn))
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


def in_turn(slugs: list[str], turn: tuple[int, int]) -> list[str]:
    """``slugs`` from worker ``turn[0]``'s share of them on, of ``turn[1]``."""
    number, count = turn
    start = len(slugs) * number // max(count, 1)
    return slugs[start:] + slugs[:start]


def warm_changed_pages(app: Flask, turn: tuple[int, int] = (0, 1)) -> Warmer:
    """From now on, ``app``'s changed release pages are made again at once
    (``turn``: see :class:`Warmer`)."""
    site: SiteService = app.extensions["publisher"]
    warmer = Warmer(app, turn)
    site.on_changed.append(warmer.changed)
    app.extensions["publisher.warmer"] = warmer
    return warmer
