"""SPARQL answers the endpoint gave from its cache, replayed in front of Flask.

The endpoint keeps answers by query and data version (publisher.sparql), so a
repeated query is already a lookup; what remained on its path was Flask: routing,
the strict parsing of the protocol's parameters, content negotiation and building
the response. Here a query request is keyed by what the view reads of it (method,
query string, body and its type, Accept, Accept-Encoding, Origin), and when the
view answered such a request with a kept answer (``X-Cache: hit``, a 200), the
status, headers and body it gave are kept too, at that data version; the same
request at the same version gets them again without reaching Flask.

Nothing is replayed across a data version (a write forgets them all), nothing
conditional (``If-None-Match`` goes to the view, which answers 304), nothing with
credentials, and only bodies the view would read whole (at most the query size
limit). The view stays the only code that decides an answer: this only repeats
one it gave for the same request.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from publisher.site import SiteService
from publisher.web.kept import run_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: the request headers the SPARQL view reads for a query (CORS, negotiation)
_READ = ("CONTENT_TYPE", "HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_ORIGIN")
#: requests that go to the view whatever is kept
_NOT_REPLAYED = ("HTTP_AUTHORIZATION", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")
#: at most this many answers are kept per worker, and none bigger than this
ENTRIES = 2048
LARGEST = 256 << 10

Answer = tuple[str, list[tuple[str, str]], bytes]


class ReplayedAnswers:
    """WSGI middleware: ``/sparql`` queries answered again as the view answered."""

    def __init__(
        self,
        app: WSGIApplication,
        site: SiteService,
        version: Callable[[], str],
        max_body: int,
    ) -> None:
        self.app = app
        self.site = site
        self.version = version
        self.max_body = max_body
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[object, ...], Answer] = OrderedDict()
        self._at: str | None = None
        self.replayed = 0

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        if (
            environ.get("PATH_INFO") != "/sparql"
            or method not in ("GET", "POST")
            or any(environ.get(name) for name in _NOT_REPLAYED)
        ):
            return self.app(environ, start_response)
        body = _body(environ, self.max_body) if method == "POST" else b""
        if body is None:
            return self.app(environ, start_response)
        key: tuple[object, ...] = (method, environ.get("QUERY_STRING", ""), body)
        key += tuple(environ.get(name, "") for name in _READ)
        self.site.current()  # the data version is current
        version = self.version()
        with self._lock:
            if self._at != version:
                self._kept.clear()
                self._at = version
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                self.replayed += 1
        if found is not None:
            status, headers, payload = found
            start_response(status, list(headers))
            return [payload]
        return self._through(environ, start_response, key, version)

    def _through(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        key: tuple[object, ...],
        version: str,
    ) -> Iterable[bytes]:
        """The view's answer, kept when it was a kept answer of the cache."""
        status, headers, payload = run_app(self.app, environ)
        start_response(status, headers)
        hit = any(k.lower() == "x-cache" and v == "hit" for k, v in headers)
        if status.startswith("200 ") and hit and len(payload) <= LARGEST:
            with self._lock:
                if self._at == version:
                    self._kept[key] = (status, headers, payload)
                    while len(self._kept) > ENTRIES:
                        self._kept.popitem(last=False)
        return [payload]


def _body(environ: WSGIEnvironment, limit: int) -> bytes | None:
    """A POST body read whole (and given back to the app to read again), or None
    when it has no length or is over ``limit`` (the view answers those)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if length < 0 or length > limit:
        return None
    body: bytes = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body
