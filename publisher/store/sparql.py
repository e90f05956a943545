"""A remote store: any SPARQL 1.1 Query/Update endpoint, optionally with the Graph
Store HTTP Protocol (Oxigraph server, Fuseki, GraphDB, Virtuoso, Neptune).

- Reads (SELECT, one graph, query results, dumps, counts) are retried with
  exponential backoff (0.2 s, 0.4 s, ...) on connection errors, timeouts and HTTP
  5xx, ``store_retries`` times. Writes (updates, restores) are sent exactly once:
  the client cannot know whether a write that timed out was applied.
- An update is one HTTP request, so the store applies it atomically.
- Every failure is a :class:`~publisher.errors.StoreError` naming the endpoint.

Oxigraph server (``oxigraph serve``) is recognised by its ``Server`` header. Its
endpoints are ``<base>/query``, ``<base>/update`` and ``<base>/store`` (Graph Store
Protocol; ``GET <base>/store`` gives the whole dataset). With it, the update
endpoint defaults to ``<base>/update``, dumps and restores use ``<base>/store``
and :meth:`RemoteStore.query_results` asks for the union of all graphs as the
default graph, as the embedded store does. Other stores are sent the query as it
is: configure them with a union default graph if ad hoc queries should see it.

Virtuoso is recognised by its ``Server`` header too (docs/stores.md, "Virtuoso").
It turns each update request into one SQL procedure and, unless told otherwise,
writes INSERT DATA constants into it as code: past about a thousand triples it
refuses the request. Updates sent to it start with ``define sql:big-data-const 1``
(its own pragma), which passes them as data. Its TSV results are its CSV with
tabs, so TSV is made here from its JSON results; there its xsd:boolean values
are ``"1"``/``"0"``, read as ``true``/``false`` as its other formats write them.
Its default graph is the union of all graphs, like GraphDB's: counts and generic
dumps take a default graph triple only when no named graph holds it, so no quad
is listed twice. (Virtuoso refuses a request it cannot compile whole, but one
that fails while running keeps the operations before the failure.)

Reads refuse results a store cut off (Virtuoso's ``X-SPARQL-MaxRows``, its
``ResultSetMaxRows`` setting): a partial dump or catalogue must never pass as whole.

This module never adds ``SERVICE`` or ``LOAD`` to anything it sends.
"""

from __future__ import annotations

import ast
import base64
import http.client
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from email.message import Message
from typing import IO, Any, BinaryIO, TypeVar

import pyoxigraph as ox
from SPARQLWrapper import JSON, POST, URLENCODED, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import (
    EndPointInternalError,
    EndPointNotFound,
    QueryBadFormed,
    SPARQLWrapperException,
    Unauthorized,
    URITooLong,
)

from publisher.config import Settings
from publisher.errors import (
    ConfigError,
    StoreError,
    StoreRefusedError,
    StoreUnavailableError,
)
from publisher.formats import BY_NAME, DUMP, GRAPH, RESULTS, accepted, names
from publisher.lines import sorted_lines
from publisher.store import Answer, QueryJob, bindings, health
from publisher.store.results import cut_answer, rdf_format

T = TypeVar("T")

#: first pause between two attempts of a read; doubled after each failure
BACKOFF_SECONDS = 0.2

#: what may go wrong talking to a store (OSError covers URLError, HTTPError,
#: TimeoutError/socket.timeout and connection resets; ValueError covers JSON
#: and decoding errors)
_FAILURES = (OSError, http.client.HTTPException, SPARQLWrapperException, ValueError)

#: media types a store may answer with, per format (publisher.formats); graph
#: results are asked for in these three only
_RESULT_TYPES = {n: accepted(n, RESULTS) for n in names(RESULTS)}
_GRAPH_TYPES = {n: accepted(n, GRAPH) for n in ("ntriples", "turtle", "rdfxml")}
_NTRIPLES = _GRAPH_TYPES["ntriples"][0]
_DUMP_TYPES = {n: BY_NAME[n].mimetype for n in names(DUMP)}
_DUMP_FORMATS = {name: rdf_format(name) for name in _DUMP_TYPES}
_KINDS = {"SELECT": "select", "ASK": "ask", "CONSTRUCT": "graph", "DESCRIBE": "graph"}

#: every quad once, whether the default graph is a graph of its own (Oxigraph,
#: Fuseki) or the union of all graphs (Virtuoso, GraphDB): a default graph triple
#: that a named graph also holds is listed in the named graph only
_ALL_QUADS = (
    "{ ?s ?p ?o FILTER NOT EXISTS { GRAPH ?h { ?s ?p ?o } } } "
    "UNION { GRAPH ?g { ?s ?p ?o } }"
)
#: Virtuoso's pragma that passes INSERT/DELETE DATA constants as data, not code
_VIRTUOSO_PRAGMA = "define sql:big-data-const 1\n"
#: before an update this big, a store not heard from yet is asked what it is
#: (Virtuoso refuses updates from about 1,500 triples without the pragma)
_PROBE_ABOVE = 8192

_PROLOGUE = re.compile(
    r"\s+|#[^\n\r]*|(?i:PREFIX)\s*[^\s:<]*:\s*<[^>]*>|(?i:BASE)\s*<[^>]*>"
)
_WORD = re.compile(r"[A-Za-z]+")

_SPARQLWRAPPER_STATUS: tuple[tuple[type[SPARQLWrapperException], int], ...] = (
    (QueryBadFormed, 400),
    (Unauthorized, 401),
    (EndPointNotFound, 404),
    (URITooLong, 414),
    (EndPointInternalError, 500),
)


class _NoRedirectedWrites(urllib.request.HTTPRedirectHandler):
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


def query_form(query: str) -> str:
    """The query form (SELECT, ASK, CONSTRUCT, DESCRIBE, or another first keyword).

    Skips comments and PREFIX/BASE declarations (whose IRIs may contain ``#``).
    """
    pos = 0
    while (match := _PROLOGUE.match(query, pos)) and match.end() > pos:
        pos = match.end()
    word = _WORD.match(query, pos)
    return word.group(0).upper() if word else ""


def query_kind(query: str) -> str:
    """``select``, ``ask`` or ``graph``; StoreError for anything else."""
    form = query_form(query)
    if form not in _KINDS:
        raise StoreRefusedError(
            "bad SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE, "
            f"found {form or 'nothing'}"
        )
    return _KINDS[form]


def _one_line(body: bytes | str | None, limit: int = 200) -> str:
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return " ".join(text.split())[:limit]


def _media_type(headers: Message | None) -> str:
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
        return _one_line(tail)
    return _one_line(value if isinstance(value, bytes | str) else str(value))


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower() if reason.errno else reason.strerror
    return str(reason) or type(reason).__name__


class RemoteStore:
    """A SPARQL 1.1 endpoint behind the Store protocol."""

    def __init__(
        self,
        endpoint: str,
        *,
        update_endpoint: str = "",
        gsp_endpoint: str = "",
        user: str = "",
        password: str = "",
        token: str = "",
        timeout: float = 30.0,
        retries: int = 3,
    ) -> None:
        for name, url in (
            ("endpoint", endpoint),
            ("update_endpoint", update_endpoint),
            ("gsp_endpoint", gsp_endpoint),
        ):
            if url and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise ConfigError(f"{name} must be an http(s) URL, not {url!r}")
        if not endpoint:
            raise ConfigError("a remote store needs a SPARQL query endpoint")
        self.endpoint = endpoint
        self.update_endpoint = update_endpoint
        self.gsp_endpoint = gsp_endpoint
        self.location = f"SPARQL store at {endpoint}"
        self._user = user
        self._password = password
        self._token = token
        self._timeout = timeout
        self._retries = retries
        self._server: str | None = None  # the Server header, once seen
        self._opener = urllib.request.build_opener(_NoRedirectedWrites())
        self.health = health.Breaker(self.location, self._ping)

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteStore:
        return cls(
            settings.endpoint,
            update_endpoint=settings.update_endpoint,
            gsp_endpoint=settings.gsp_endpoint,
            user=settings.store_user,
            password=settings.store_password,
            token=settings.store_token,
            timeout=settings.store_timeout,
            retries=settings.store_retries,
        )

    # Store protocol ---------------------------------------------------------

    def select(self, query: str) -> list[dict[str, str]]:
        if query_kind(query) != "select":
            raise StoreRefusedError("expected a SELECT query")
        return [
            {name: bindings.binding_value(value) for name, value in row.items()}
            for row in self._bindings(query)
        ]

    def update(self, update: str) -> None:
        url = self._update_url()
        if self._server is None and len(update) > _PROBE_ABOVE:
            self._probe()
        if self._is_virtuoso():
            update = _VIRTUOSO_PRAGMA + update
        request = self._request(
            url,
            data=update.encode("utf-8"),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
        )
        self._fetch(request, write=True, doing="update")

    def graph_ntriples(self, graph: str) -> str:
        if self.gsp_endpoint:
            url = _with_param(self.gsp_endpoint, "graph", graph)
            request = self._request(url, headers={"Accept": _NTRIPLES})
            answer = self._fetch(request, doing="request", missing_ok=True)
            body, headers = answer if answer else (b"", None)
        else:
            if ">" in graph or "<" in graph or any(c.isspace() for c in graph):
                raise StoreError(f"not a valid graph IRI: {graph!r}")
            query = (
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
            )
            body, headers = self._query(query, _NTRIPLES)
            self._check_whole(headers)
        got = _media_type(headers)
        if got and got not in _GRAPH_TYPES["ntriples"]:
            raise StoreError(
                f"the {self.location} answered {got} instead of {_NTRIPLES}"
            )
        text = self._decode(body)
        return sorted_lines(text)

    def query_results(self, query: str, fmt: str) -> tuple[str, bytes]:
        kind = query_kind(query)
        if kind in ("select", "ask"):
            if fmt not in _RESULT_TYPES:
                raise StoreRefusedError(
                    f"{kind.upper()} results cannot be written as {fmt}"
                )
            accepted = _RESULT_TYPES[fmt]
        else:
            if fmt not in _GRAPH_TYPES:
                raise StoreRefusedError(f"graph results cannot be written as {fmt}")
            accepted = _GRAPH_TYPES[fmt]
        union = self._is_oxigraph()
        if fmt == "tsv" and self._is_virtuoso():
            # Virtuoso's TSV has no ?var header and IRIs without <>: convert JSON
            return kind, self._results_as(query, ox.QueryResultsFormat.TSV)
        body, headers = self._query(query, accepted[0], union=union)
        got = _media_type(headers)
        if got and got not in accepted:
            raise StoreError(
                f"the {self.location} answered {got} instead of {accepted[0]}"
            )
        return kind, body

    def run_query(self, job: QueryJob) -> Answer:
        """The store computes and sends the whole result; it is cut here."""
        kind = query_kind(job.query)
        dataset: dict[str, list[str]] = {}
        if job.default_graphs is not None or job.named_graphs is not None:
            dataset["default-graph-uri"] = list(job.default_graphs or ())
            dataset["named-graph-uri"] = list(job.named_graphs or ())
        union = not dataset and not job.has_dataset and self._is_oxigraph()
        if kind == "ask":
            accept = _RESULT_TYPES["json"]
        elif kind == "select":
            if self._is_virtuoso():
                body = self._results_as(job.query, ox.QueryResultsFormat.TSV, dataset)
                return cut_answer(kind, body, job.max_rows)
            accept = _RESULT_TYPES["tsv"]
        else:
            accept = _GRAPH_TYPES["ntriples"]
        body, headers = self._query(job.query, accept[0], union=union, dataset=dataset)
        got = _media_type(headers)
        if got and got not in accept:
            raise StoreError(
                f"the {self.location} answered {got} instead of {accept[0]}"
            )
        if kind == "ask":
            # canonical JSON, written by Oxigraph whatever the store wrote
            parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
            body = bytes(parsed.serialize(format=ox.QueryResultsFormat.JSON) or b"")
        return cut_answer(kind, body, job.max_rows)

    def reader_source(self, folder: str) -> dict[str, str]:
        return {
            "kind": "remote",
            "endpoint": self.endpoint,
            "update_endpoint": self.update_endpoint,
            "gsp_endpoint": self.gsp_endpoint,
            "user": self._user,
            "password": self._password,
            "token": self._token,
            "timeout": str(self._timeout),
        }

    def _results_as(
        self,
        query: str,
        fmt: ox.QueryResultsFormat,
        dataset: dict[str, list[str]] | None = None,
    ) -> bytes:
        """SELECT/ASK results fetched as JSON and written in ``fmt`` here."""
        body, headers = self._query(query, _RESULT_TYPES["json"][0], dataset=dataset)
        got = _media_type(headers)
        if got and got not in _RESULT_TYPES["json"]:
            raise StoreError(
                f"the {self.location} answered {got} instead of "
                f"{_RESULT_TYPES['json'][0]}"
            )
        try:
            data = json.loads(body)
            if isinstance(data, dict) and isinstance(data.get("results"), dict):
                bindings.canonical_booleans(data["results"].get("bindings") or [])
                body = json.dumps(data).encode("utf-8")
            results = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
            if isinstance(results, ox.QueryBoolean):
                return b"true" if bool(results) else b"false"
            written = results.serialize(format=fmt) or b""
        except (SyntaxError, ValueError) as exc:
            raise StoreError(
                f"the {self.location} sent results that cannot be read: {exc}"
            ) from None
        return written

    def dump(self, out: BinaryIO, fmt: str) -> None:
        if fmt not in _DUMP_TYPES:
            raise StoreRefusedError(f"a dump is nquads or trig, not {fmt}")
        url = self._dataset_url()
        if url is None:
            self._dump_by_query(out, fmt)
            return
        request = self._request(url, headers={"Accept": _DUMP_TYPES[fmt]})
        response = self._attempt(
            url,
            lambda timeout: self._opener.open(request, timeout=timeout),
            retry=True,
            doing="dump",
        )
        with response:
            got = _media_type(response.headers)
            if got and got != _DUMP_TYPES[fmt]:
                raise StoreError(
                    f"the {self.location} sent {got} instead of {_DUMP_TYPES[fmt]}"
                )
            # once it answered, a dump streams for as long as it takes: each read
            # waits at most the timeout the request was opened with
            with health.unbounded():
                while True:
                    # once bytes went out, trying again would write them twice
                    chunk: bytes = self._attempt(
                        url, lambda _: response.read(1 << 20), retry=False, doing="dump"
                    )
                    if not chunk:
                        break
                    out.write(chunk)

    def load_dump(self, path: str, fmt: str) -> None:
        if fmt not in _DUMP_TYPES:
            raise StoreRefusedError(f"a dump is nquads or trig, not {fmt}")
        try:
            size = os.path.getsize(path)
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror}") from None
        with handle:
            url = self.gsp_endpoint or self._dataset_url()
            if url is None:
                self._load_by_update(handle, path, fmt)
                return
            request = self._request(
                url,
                data=handle,
                headers={
                    "Content-Type": _DUMP_TYPES[fmt],
                    "Content-Length": str(size),
                },
            )
            self._fetch(request, write=True, doing=f"restore of {path}")

    def count_quads(self) -> int:
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {_ALL_QUADS} }}")
        try:
            return int(rows[0]["n"])
        except (IndexError, KeyError, ValueError):
            raise StoreError(f"the {self.location} did not count its quads") from None

    def close(self) -> None:
        """Nothing to release: every request opens and closes its connection."""

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        url = _with_param(self.endpoint, "query", "ASK {}")
        request = self._request(url, headers={"Accept": _RESULT_TYPES["json"][0]})
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
            return f"{where} failed: {_one_line(str(exc))}", False
        if isinstance(exc, urllib.error.HTTPError):
            try:
                body = exc.read(4096)
            except (OSError, http.client.HTTPException):
                body = b""
            finally:
                exc.close()
            text = _one_line(body) or str(exc.reason)
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
            f"{where} sent an answer that cannot be read: {_one_line(str(exc))}",
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

    def _dump_by_query(self, out: BinaryIO, fmt: str) -> None:
        rows = self._bindings(f"SELECT ?g ?s ?p ?o WHERE {{ {_ALL_QUADS} }}")
        bnodes: dict[str, ox.BlankNode] = {}
        try:
            quads = [
                ox.Quad(
                    bindings.subject(row["s"], bnodes),
                    ox.NamedNode(row["p"]["value"]),
                    bindings.term(row["o"], bnodes),
                    bindings.graph(row.get("g"), bnodes),
                )
                for row in rows
            ]
            ox.serialize(quads, out, _DUMP_FORMATS[fmt])
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(
                f"the {self.location} sent a quad that cannot be written: {exc}"
            ) from None

    def _load_by_update(self, handle: BinaryIO, path: str, fmt: str) -> None:
        graphs: dict[str, list[str]] = {}
        try:
            for quad in ox.parse(handle, _DUMP_FORMATS[fmt]):
                triple = f"{quad.subject} {quad.predicate} {quad.object} ."
                graph = quad.graph_name
                key = "" if isinstance(graph, ox.DefaultGraph) else str(graph)
                graphs.setdefault(key, []).append(triple)
        except SyntaxError as exc:
            raise StoreError(f"{path} is not valid {fmt}: {exc}") from None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc}") from None
        if not graphs:
            return
        parts = []
        for key, triples in graphs.items():
            body = "\n".join(triples)
            parts.append(f"GRAPH {key} {{\n{body}\n}}" if key else body)
        self.update("INSERT DATA {\n" + "\n".join(parts) + "\n}")


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


def _with_param(url: str, name: str, value: str) -> str:
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + joiner + urllib.parse.urlencode({name: value})
