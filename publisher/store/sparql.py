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

import json
import re
import urllib.parse
import urllib.request
from typing import BinaryIO

import pyoxigraph as ox

from publisher.config import Settings
from publisher.errors import ConfigError, StoreError, StoreRefusedError
from publisher.lines import sorted_lines
from publisher.store import Answer, QueryJob, bindings, health, remote_dumps
from publisher.store.remote_http import (
    GRAPH_TYPES,
    NTRIPLES,
    RESULT_TYPES,
    NoRedirectedWrites,
    RemoteHttp,
    media_type,
    with_param,
)
from publisher.store.results import cut_answer

_KINDS = {"SELECT": "select", "ASK": "ask", "CONSTRUCT": "graph", "DESCRIBE": "graph"}

#: Virtuoso's pragma that passes INSERT/DELETE DATA constants as data, not code
_VIRTUOSO_PRAGMA = "define sql:big-data-const 1\n"
#: before an update this big, a store not heard from yet is asked what it is
#: (Virtuoso refuses updates from about 1,500 triples without the pragma)
_PROBE_ABOVE = 8192

_PROLOGUE = re.compile(
    r"\s+|#[^\n\r]*|(?i:PREFIX)\s*[^\s:<]*:\s*<[^>]*>|(?i:BASE)\s*<[^>]*>"
)
_WORD = re.compile(r"[A-Za-z]+")


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


class RemoteStore(RemoteHttp):
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
        shared_health: str | None = None,
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
        self._opener = urllib.request.build_opener(NoRedirectedWrites())
        self.health = health.Breaker(self.location, self._ping, shared_health)

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
            shared_health=health.shared_mark(settings.index_path, settings.endpoint),
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
            url = with_param(self.gsp_endpoint, "graph", graph)
            request = self._request(url, headers={"Accept": NTRIPLES})
            answer = self._fetch(request, doing="request", missing_ok=True)
            body, headers = answer if answer else (b"", None)
        else:
            if ">" in graph or "<" in graph or any(c.isspace() for c in graph):
                raise StoreError(f"not a valid graph IRI: {graph!r}")
            query = (
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
            )
            body, headers = self._query(query, NTRIPLES)
            self._check_whole(headers)
        got = media_type(headers)
        if got and got not in GRAPH_TYPES["ntriples"]:
            raise StoreError(
                f"the {self.location} answered {got} instead of {NTRIPLES}"
            )
        text = self._decode(body)
        return sorted_lines(text)

    def query_results(self, query: str, fmt: str) -> tuple[str, bytes]:
        kind = query_kind(query)
        if kind in ("select", "ask"):
            if fmt not in RESULT_TYPES:
                raise StoreRefusedError(
                    f"{kind.upper()} results cannot be written as {fmt}"
                )
            accepted = RESULT_TYPES[fmt]
        else:
            if fmt not in GRAPH_TYPES:
                raise StoreRefusedError(f"graph results cannot be written as {fmt}")
            accepted = GRAPH_TYPES[fmt]
        union = self._is_oxigraph()
        if fmt == "tsv" and self._is_virtuoso():
            # Virtuoso's TSV has no ?var header and IRIs without <>: convert JSON
            return kind, self._results_as(query, ox.QueryResultsFormat.TSV)
        body, headers = self._query(query, accepted[0], union=union)
        got = media_type(headers)
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
            accept = RESULT_TYPES["json"]
        elif kind == "select":
            if self._is_virtuoso():
                body = self._results_as(job.query, ox.QueryResultsFormat.TSV, dataset)
                return cut_answer(kind, body, job.max_rows)
            accept = RESULT_TYPES["tsv"]
        else:
            accept = GRAPH_TYPES["ntriples"]
        body, headers = self._query(job.query, accept[0], union=union, dataset=dataset)
        got = media_type(headers)
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
        body, headers = self._query(query, RESULT_TYPES["json"][0], dataset=dataset)
        got = media_type(headers)
        if got and got not in RESULT_TYPES["json"]:
            raise StoreError(
                f"the {self.location} answered {got} instead of "
                f"{RESULT_TYPES['json'][0]}"
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
        remote_dumps.dump(self, out, fmt)

    def load_dump(self, path: str, fmt: str) -> None:
        remote_dumps.load_dump(self, path, fmt)

    def count_quads(self) -> int:
        rows = self.select(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ {remote_dumps.ALL_QUADS} }}"
        )
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
