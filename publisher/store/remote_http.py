"""The HTTP side of a remote store (publisher.store.sparql.RemoteStore): requests
and their credentials, redirects refused for writes, retries with backoff, what a
failure means (down, refused, maybe applied), and which server answers (Oxigraph,
Virtuoso).

Reads are retried with exponential backoff (0.2 s, 0.4 s, ...) on connection
errors, timeouts and HTTP 5xx; writes are sent exactly once. Every failure is a
:class:`~publisher.errors.StoreError` naming the endpoint.
"""

from __future__ import annotations

import ast
import base64
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from email.message import Message
from typing import IO, Any, BinaryIO, TypeVar

from SPARQLWrapper import JSON, POST, URLENCODED, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import (
    EndPointInternalError,
    EndPointNotFound,
    QueryBadFormed,
    SPARQLWrapperException,
    Unauthorized,
    URITooLong,
)

from publisher.errors import StoreError, StoreRefusedError, StoreUnavailableError
from publisher.formats import GRAPH, RESULTS, accepted, names
from publisher.store import bindings, health

T = TypeVar("T")

#: first pause between two attempts of a read; doubled after each failure
BACKOFF_SECONDS = 0.2

#: what may go wrong talking to a store (OSError covers URLError, HTTPError,
#: TimeoutError/socket.timeout and connection resets; ValueError covers JSON
#: and decoding errors)
_FAILURES = (OSError, http.client.HTTPException, SPARQLWrapperException, ValueError)

#: media types a store may answer with, per format (publisher.formats); graph
#: results are asked for in these three only
RESULT_TYPES = {n: accepted(n, RESULTS) for n in names(RESULTS)}
GRAPH_TYPES = {n: accepted(n, GRAPH) for n in ("ntriples", "turtle", "rdfxml")}
NTRIPLES = GRAPH_TYPES["ntriples"][0]

_SPARQLWRAPPER_STATUS: tuple[tuple[type[SPARQLWrapperException], int], ...] = (
    (QueryBadFormed, 400),
    (Unauthorized, 401),
    (EndPointNotFound, 404),
    (URITooLong, 414),
    (EndPointInternalError, 500),
)


class NoRedirectedWrites(urllib.request.HTTPRedirectHandler):
    """Follow redirects of GET only: urllib would turn a redirected POST (an
    update, a query, a restore) into a GET without its body, silently."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if req.get_method() not in ("GET", "HEAD"):
            return None  # urllib then raises the HTTPError of the 3xx
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def one_line(body: bytes | str | None, limit: int = 200) -> str:
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return " ".join(text.split())[:limit]


def media_type(headers: Message | None) -> str:
    if headers is None:
        return ""
    value = headers.get("Content-Type") or ""
    return value.split(";", 1)[0].strip().lower()


def _wrapper_body(exc: SPARQLWrapperException) -> str:
    """The server's answer, which SPARQLWrapper only keeps inside its message."""
    message = str(exc)
    marker = "Response:\n"
    if marker not in message:
        return ""
    tail = message.split(marker, 1)[1]
    try:
        value = ast.literal_eval(tail)
    except (ValueError, SyntaxError):
        return one_line(tail)
    return one_line(value if isinstance(value, bytes | str) else str(value))


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower() if reason.errno else reason.strerror
    return str(reason) or type(reason).__name__


class RemoteHttp:
    """How a remote store talks to its endpoints; RemoteStore sets the fields."""

    endpoint: str
    update_endpoint: str
    gsp_endpoint: str
    location: str
    health: health.Breaker
    _user: str
    _password: str
    _token: str
    _timeout: float
    _retries: int
    _server: str | None  # the Server header, once seen
    _opener: urllib.request.OpenerDirector

    # Endpoints --------------------------------------------------------------

    def _oxigraph_base(self) -> str | None:
        """``<base>`` when the query endpoint looks like Oxigraph's ``<base>/query``."""
        parts = urllib.parse.urlsplit(self.endpoint)
        if parts.query or not parts.path.endswith("/query"):
            return None
        return self.endpoint[: -len("/query")]

    def _is_oxigraph(self) -> bool:
        if self._server is None:
            self._probe()
        return (self._server or "").lower().startswith("oxigraph")

    def _is_virtuoso(self) -> bool:
        """Whether an answer so far came from Virtuoso (no request of its own)."""
        return (self._server or "").lower().startswith("virtuoso")

    def _probe(self) -> None:
        """Learn which server this is (one GET of the query endpoint)."""
        request = self._request(self.endpoint, headers={"Accept": "*/*"})

        def call(timeout: float) -> None:
            try:
                with self._opener.open(request, timeout=timeout) as response:
                    self._note(response.headers)
                    response.read()
            except urllib.error.HTTPError as exc:
                if exc.code >= 500:
                    raise
                self._note(exc.headers)
                exc.close()

        self._attempt(self.endpoint, call, retry=True, doing="request")

    def _update_url(self) -> str:
        if self.update_endpoint:
            return self.update_endpoint
        base = self._oxigraph_base()
        if base is not None and self._is_oxigraph():
            return base + "/update"
        return self.endpoint

    def _dataset_url(self) -> str | None:
        """Oxigraph's whole-dataset Graph Store URL, or None for other stores."""
        base = self._oxigraph_base()
        url = self.gsp_endpoint or (base + "/store" if base is not None else "")
        if url and self._is_oxigraph():
            return url
        return None

    # Requests ---------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        if self._token:
            return {"Authorization": f"Bearer {self._token}"}
        if self._user or self._password:
            pair = f"{self._user}:{self._password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        return {}

    def _request(
        self,
        url: str,
        *,
        data: bytes | BinaryIO | None = None,
        headers: dict[str, str] | None = None,
    ) -> urllib.request.Request:
        all_headers = {"User-Agent": "release-publisher", **self._auth_headers()}
        all_headers.update(headers or {})
        method = "GET" if data is None else "POST"
        # S310: from_settings only accepts http(s) endpoints
        return urllib.request.Request(  # noqa: S310
            url, data=data, headers=all_headers, method=method
        )

    def _note(self, headers: Message | None) -> None:
        if headers is not None and self._server is None:
            self._server = headers.get("Server") or ""

    def _fetch(
        self,
        request: urllib.request.Request,
        *,
        doing: str,
        write: bool = False,
        missing_ok: bool = False,
    ) -> tuple[bytes, Message] | None:
        """Send a request and read the whole answer (None: 404 and missing_ok).

        Reads are retried; a write is sent once.
        """

        def call(timeout: float) -> tuple[bytes, Message] | None:
            try:
                with self._opener.open(request, timeout=timeout) as response:
                    self._note(response.headers)
                    return response.read(), response.headers
            except urllib.error.HTTPError as exc:
                if missing_ok and exc.code == 404:
                    self._note(exc.headers)
                    exc.close()
                    return None
                raise

        return self._attempt(
            request.full_url, call, retry=not write, doing=doing, write=write
        )

    def _query(
        self,
        query: str,
        accept: str,
        *,
        union: bool = False,
        dataset: dict[str, list[str]] | None = None,
    ) -> tuple[bytes, Message | None]:
        """POST a query (form-encoded) asking for one media type."""
        fields: dict[str, str | list[str]] = {"query": query}
        if union:
            fields["union-default-graph"] = ""
        fields.update(dataset or {})
        request = self._request(
            self.endpoint,
            data=urllib.parse.urlencode(fields, doseq=True).encode("ascii"),
            headers={
                "Accept": accept,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        answer = self._fetch(request, doing="query")
        if answer is None:  # pragma: no cover - only with missing_ok
            return b"", None
        return answer

    def _bindings(self, query: str) -> list[dict[str, dict[str, Any]]]:
        """SELECT through SPARQLWrapper; the JSON result rows."""

        def call(timeout: float) -> list[dict[str, dict[str, Any]]]:
            wrapper = SPARQLWrapper(self.endpoint)
            wrapper.setMethod(POST)
            wrapper.setRequestMethod(URLENCODED)
            wrapper.setOnlyConneg(True)
            wrapper.setReturnFormat(JSON)
            wrapper.setQuery(query)
            wrapper.agent = "release-publisher"
            # setTimeout() would truncate to int (0.5 s -> no timeout at all)
            wrapper.timeout = timeout  # type: ignore[assignment]
            for name, value in self._auth_headers().items():
                wrapper.addCustomHttpHeader(name, value)
            try:
                result = wrapper.query()
            except urllib.error.HTTPError as exc:
                self._note(exc.headers)
                raise
            with result.response as response:
                self._note(response.headers)
                self._check_whole(response.headers)
                data = json.loads(response.read())
            if not isinstance(data, dict) or "results" not in data:
                raise ValueError("the answer is not SELECT results")
            rows = data["results"].get("bindings", [])
            if not isinstance(rows, list):
                raise ValueError("the bindings are not a list")
            if self._is_virtuoso():
                bindings.canonical_booleans(rows)
            return rows

        return self._attempt(self.endpoint, call, retry=True, doing="query")

    def _attempt(
        self,
        url: str,
        call: Callable[[float], T],
        *,
        retry: bool,
        doing: str,
        write: bool = False,
    ) -> T:
        """Run ``call(timeout)``; on failure retry (reads only), then raise a
        StoreError.

        In a web request, while the store is known to be down, this fails at once
        (health.Breaker); failing to reach it marks it down
        (StoreUnavailableError). A read within a deadline (health.serving) waits
        no longer than the time left and retries only while time is left.
        """
        attempts = 1 + (self._retries if retry else 0)
        failure: tuple[str, bool, bool] | None = None
        tried = 0
        for attempt in range(attempts):
            left = None if write else health.time_left()
            if attempt:
                pause = BACKOFF_SECONDS * 2 ** (attempt - 1)
                if left is not None and left <= pause:
                    break
                time.sleep(pause)
                left = health.time_left()
            self.health.check()
            timeout = self._timeout if left is None else min(self._timeout, left)
            if timeout <= 0 and failure is not None:
                break
            if timeout <= 0:  # the request's time went on answers: slow, not down
                raise StoreUnavailableError(
                    self._timed_out(f"the SPARQL store at {url}", 0),
                    retry_after=health.RETRY_AFTER,
                )
            tried += 1
            try:
                answer = call(timeout)
            except StoreError:
                raise
            except _FAILURES as exc:
                message, retryable = self._describe(exc, url, doing, timeout)
                if write and _maybe_applied(exc):
                    message += f"; the {doing} may or may not have been applied"
                failure = (message, _unreachable(exc), _refused(exc))
                if not retryable:
                    break
            else:
                self.health.answered()
                return answer
        if failure is None:  # pragma: no cover - the loop runs at least once
            raise AssertionError("unreachable")
        message, down, refused = failure
        if tried > 1:
            message += f" (tried {tried} times)"
        if down:
            self.health.failed(message)
            raise StoreUnavailableError(message, retry_after=health.RETRY_AFTER)
        raise (StoreRefusedError if refused else StoreError)(message)

    def _ping(self, timeout: float) -> None:
        """Whether the store answers at all (the breaker's probe): ``ASK {}``,
        sent once, waiting at most ``timeout``; any answer but a 5xx will do."""
        url = with_param(self.endpoint, "query", "ASK {}")
        request = self._request(url, headers={"Accept": RESULT_TYPES["json"][0]})
        try:
            with self._opener.open(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code >= 500:
                raise StoreError(f"HTTP {exc.code}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise StoreError(_reason(getattr(exc, "reason", exc))) from None

    def _describe(
        self, exc: BaseException, url: str, doing: str, timeout: float
    ) -> tuple[str, bool]:
        """A one-line message for a failure, and whether a read may try again."""
        where = f"the SPARQL store at {url}"
        if isinstance(exc, SPARQLWrapperException):
            for kind, status in _SPARQLWRAPPER_STATUS:
                if isinstance(exc, kind):
                    return self._http_failure(where, status, _wrapper_body(exc), doing)
            return f"{where} failed: {one_line(str(exc))}", False
        if isinstance(exc, urllib.error.HTTPError):
            try:
                body = exc.read(4096)
            except (OSError, http.client.HTTPException):
                body = b""
            finally:
                exc.close()
            text = one_line(body) or str(exc.reason)
            if 300 <= exc.code < 400 and exc.headers.get("Location"):
                text = f"redirects to {exc.headers['Location']}; use that URL"
            return self._http_failure(where, exc.code, text, doing)
        if isinstance(exc, urllib.error.URLError):
            if isinstance(exc.reason, TimeoutError):
                return self._timed_out(where, timeout), True
            return f"cannot reach {where}: {_reason(exc.reason)}", True
        if isinstance(exc, TimeoutError):
            return self._timed_out(where, timeout), True
        if isinstance(exc, ConnectionRefusedError):
            return f"cannot reach {where}: connection refused", True
        if isinstance(exc, OSError | http.client.HTTPException):
            text = _reason(exc) if isinstance(exc, OSError) else type(exc).__name__
            return f"lost the connection to {where}: {text}", True
        return (
            f"{where} sent an answer that cannot be read: {one_line(str(exc))}",
            False,
        )

    def _check_whole(self, headers: Message | None) -> None:
        """Refuse results the store cut off at its row limit."""
        limit = headers.get("X-SPARQL-MaxRows") if headers is not None else None
        if limit:
            raise StoreError(
                f"the {self.location} cut the results off at {limit} rows: raise "
                "its limit (Virtuoso: ResultSetMaxRows in [SPARQL] of virtuoso.ini)"
            )

    def _timed_out(self, where: str, timeout: float) -> str:
        if timeout >= self._timeout:
            return f"{where} did not answer within {self._timeout:g} s"
        return f"{where} did not answer within the time a request may wait for it"

    def _http_failure(
        self, where: str, status: int, text: str, doing: str
    ) -> tuple[str, bool]:
        if status in (401, 403):
            if self._token or self._user or self._password:
                return f"{where} refused the credentials (HTTP {status}): {text}", False
            return (
                f"{where} asks for credentials (HTTP {status}): set store_user and "
                "store_password, or store_token",
                False,
            )
        if status == 400:
            return f"{where} rejected the {doing} (HTTP 400): {text}", False
        if status == 404:
            return f"{where} answered HTTP 404 (is the URL right?): {text}", False
        if status >= 500:
            return f"{where} failed with HTTP {status}: {text}", True
        return f"{where} answered HTTP {status}: {text}", False

    def _decode(self, body: bytes) -> str:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise StoreError(
                f"the {self.location} sent text that is not UTF-8"
            ) from None

    # Generic dump and restore (stores without a whole-dataset endpoint) ------


def _unreachable(exc: BaseException) -> bool:
    """Whether a failure says the store is down (not that it refused a request)."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in (502, 503, 504)
    return isinstance(exc, OSError | http.client.HTTPException)


def _refused(exc: BaseException) -> bool:
    """Whether a failure is the store refusing the request itself (HTTP 400)."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code == 400
    return isinstance(exc, QueryBadFormed)


def _maybe_applied(exc: BaseException) -> bool:
    """Whether a write that failed this way may still have been applied.

    An HTTP status is the server's verdict, and urllib raises URLError only
    before the request was fully sent; a timeout or a lost connection while
    waiting for the answer leaves it unknown.
    """
    if isinstance(exc, urllib.error.URLError | SPARQLWrapperException):
        return False
    return isinstance(exc, TimeoutError | ConnectionError | http.client.HTTPException)


def with_param(url: str, name: str, value: str) -> str:
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + joiner + urllib.parse.urlencode({name: value})
