"""The public SPARQL endpoint's work, without HTTP: check, run, cache, update.

The web view (publisher.web.sparql) parses the protocol and calls this. Queries
are checked first (publisher.queries: syntax, and no SERVICE or LOAD, however
written), then run in a reader process that is killed at the time limit
(publisher.store.readers), over a checkpoint of the store taken at the current data
version. Results are cut at the row cap and kept in a bounded cache keyed by the
data version, so any write makes every cached answer unreachable (and it is
dropped). Updates run in this process, on the store itself, and are recorded in
the history (publisher.store.catalog.apply_admin_update).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from publisher.config import Settings
from publisher.errors import QuerySyntaxError
from publisher.namespaces import sparql_prefixes
from publisher.queries import (
    QueryInfo,
    check_update,
    graphs_written,
    scan_query,
    with_using,
)
from publisher.store import Answer, QueryJob, Store, catalog, health
from publisher.store.readers import ReaderPool


@dataclass(frozen=True)
class Result:
    """A query's answer, with what caching needs."""

    answer: Answer
    form: str  # select, ask, construct, describe
    data_version: str  # the store's data version it was computed at
    cached: bool

    @staticmethod
    def etag_for(data_version: str | None, key: str, fmt: str) -> str:
        """The ETag of a request's answer in ``fmt`` at a data version."""
        text = f"{data_version or 'empty'}\n{fmt}\n{key}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def request_key(
    query: str,
    default_graphs: tuple[str, ...] | None,
    named_graphs: tuple[str, ...] | None,
) -> str:
    return repr((query, default_graphs, named_graphs))


class SparqlService:
    """Runs the endpoint's queries and updates over one store."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        data_version: Callable[[], str | None],
        write_lock: threading.Lock,
    ) -> None:
        self.settings = settings
        self.store = store
        self.endpoint = settings.base_url + "/sparql"
        self._data_version = data_version
        self._write_lock = write_lock
        self.readers = ReaderPool(
            settings.query_concurrency,
            settings.query_timeout,
            settings.memory_limit_bytes,
        )
        self._folder = Path(_checkpoint_folder(settings, store))
        shutil.rmtree(self._folder, ignore_errors=True)  # a killed server's leftovers
        self._source: tuple[str, dict[str, str]] | None = None
        self._sources_lock = threading.Lock()
        self._in_use: dict[str, int] = {}
        self._retired: list[str] = []
        self._cache: OrderedDict[tuple[str, str], tuple[Answer, str]] = OrderedDict()
        self._cache_lock = threading.Lock()

    # Queries ------------------------------------------------------------------

    def inspect(self, text: str) -> QueryInfo:
        """The query's form and a dataset guess from a linear lexical scan (no
        parser, no lock: the full parse runs in the reader, on the clock); or
        QuerySyntaxError/QueryRefusedError."""
        return scan_query(_clean(text))

    def lookup(
        self,
        text: str,
        default_graphs: tuple[str, ...] | None = None,
        named_graphs: tuple[str, ...] | None = None,
    ) -> Result | None:
        """The cached answer at the current data version, if there is one: no
        parsing (only queries that passed the checks are cached)."""
        version = self.data_version()
        key = (version, request_key(text, default_graphs, named_graphs))
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is None:
                return None
            self._cache.move_to_end(key)
            return Result(hit[0], hit[1], version, cached=True)

    def data_version(self) -> str:
        return self._data_version() or "empty"

    def query(
        self,
        text: str,
        default_graphs: tuple[str, ...] | None = None,
        named_graphs: tuple[str, ...] | None = None,
        info: QueryInfo | None = None,
        client: str = "",
    ) -> Result:
        """Check and run a client's query (or answer it from the cache).

        ``info``: what :meth:`inspect` said of it, when the caller asked already;
        ``client``: who asks (their fair share of the readers: store.readers).
        Raises QuerySyntaxError/QueryRefusedError (the client's fault) or a
        StoreError: ReadersBusyError, QueryTimeoutError, QueryFailedError.
        """
        hit = self.lookup(text, default_graphs, named_graphs)
        if hit is not None:
            return hit
        info = info or self.inspect(text)
        query = _with_base(text, self.endpoint)  # relative IRIs: the endpoint's
        version = self.data_version()
        key = (version, request_key(text, default_graphs, named_graphs))
        job = QueryJob(
            query=query,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            has_dataset=info.has_dataset,
            max_rows=self.settings.query_max_rows,
        )
        health.check(self.store)  # a store known to be down: 503 at once
        name, source = self._current_source(version)
        try:
            answer = self.readers.run(source, job, client, check=text)
        finally:
            self._release(name)
        self._remember(key, answer, info.form)
        return Result(answer, info.form, version, cached=False)

    def _remember(self, key: tuple[str, str], answer: Answer, form: str) -> None:
        limit = self.settings.query_cache
        if not limit:
            return
        with self._cache_lock:
            stale = [k for k in self._cache if k[0] != key[0]]
            for old in stale:
                del self._cache[old]
            self._cache[key] = (answer, form)
            while len(self._cache) > limit:
                self._cache.popitem(last=False)

    def cached_entries(self) -> int:
        with self._cache_lock:
            return len(self._cache)

    # Sources for the readers: one checkpoint per data version -----------------

    def _current_source(self, version: str) -> tuple[str, dict[str, str]]:
        with self._sources_lock:
            if self._source is None or self._source[0] != version:
                if self._source is not None:
                    self._retired.append(self._source[0])
                folder = self._folder / f"v-{version}"
                shutil.rmtree(folder, ignore_errors=True)
                self._source = (version, self.store.reader_source(str(folder)))
            name, source = self._source
            self._in_use[name] = self._in_use.get(name, 0) + 1
            return name, source

    def _release(self, name: str) -> None:
        with self._sources_lock:
            self._in_use[name] -= 1
            if not self._in_use[name]:
                del self._in_use[name]
            for old in list(self._retired):
                if old not in self._in_use:
                    self._retired.remove(old)
                    shutil.rmtree(self._folder / f"v-{old}", ignore_errors=True)

    # Updates ------------------------------------------------------------------

    def update(
        self,
        text: str,
        agent: str,
        using: tuple[str, ...] = (),
        using_named: tuple[str, ...] = (),
    ) -> catalog.PublishResult:
        """Apply an administrator's update; recorded in the history as ``agent``."""
        update = _with_base(
            with_using(text, list(using), list(using_named)), self.endpoint
        )
        check_update(update)
        graphs = graphs_written(update)
        with self._write_lock:
            return catalog.apply_admin_update(
                self.store, self.settings, update, graphs, agent
            )

    def close(self) -> None:
        self.readers.close()
        shutil.rmtree(self._folder, ignore_errors=True)


def _clean(text: str) -> str:
    if "\x00" in text:
        raise QuerySyntaxError("SPARQL syntax error: NUL character in the request")
    return text


def _with_base(text: str, endpoint: str) -> str:
    """Relative IRIs resolve against the endpoint (SPARQL 1.1 Protocol, 2.1.5)."""
    return f"BASE <{_clean(endpoint)}>\n{_clean(text)}"


def _checkpoint_folder(settings: Settings, store: Store) -> str:
    """Where reader checkpoints go: next to an embedded store on disk (the same
    file system, so a checkpoint is hard links), else a temporary folder."""
    path = getattr(store, "path", None)
    if path:
        return str(path).rstrip("/") + ".readers"
    return tempfile.mkdtemp(prefix="publisher-readers-")


@dataclass(frozen=True)
class Example:
    name: str
    title: str
    query: str


_PREFIXES = sparql_prefixes("pub", "schema")

#: the query page's examples (docs/sparql.md shows the same ones; the tests run them)
EXAMPLES = (
    Example(
        "upcoming",
        "Upcoming releases, soonest first",
        _PREFIXES
        + """SELECT ?slug ?title ?date ?status WHERE {
  ?release a pub:Release ; pub:slug ?slug ; schema:name ?title ;
           pub:status ?status ; schema:publication ?event .
  ?event schema:startDate ?date .
  FILTER (?status IN (pub:Confirmed, pub:Provisional, pub:Postponed))
  FILTER (?date >= NOW())
}
ORDER BY ?date
LIMIT 20""",
    ),
    Example(
        "by-topic",
        "Releases by topic",
        _PREFIXES
        + """SELECT ?topic (COUNT(DISTINCT ?release) AS ?releases) WHERE {
  GRAPH ?g { ?release a pub:Release ; schema:about ?t . ?t schema:name ?topic }
}
GROUP BY ?topic
ORDER BY DESC(?releases) ?topic""",
    ),
    Example(
        "cancelled",
        "Cancelled releases and their notices",
        _PREFIXES
        + """SELECT ?slug ?title ?notice WHERE {
  ?release a pub:Release ; pub:status pub:Cancelled ;
           pub:slug ?slug ; schema:name ?title .
  OPTIONAL { ?release pub:cancellationNotice ?notice }
}
ORDER BY ?slug""",
    ),
    Example(
        "postponed",
        "Postponed releases with their previous dates",
        _PREFIXES
        + """SELECT ?slug ?previous ?reason ?now WHERE {
  ?release a pub:Release ; pub:status pub:Postponed ; pub:slug ?slug ;
           pub:dateChange ?change ; schema:publication ?event .
  ?change pub:previousDate ?previous .
  OPTIONAL { ?change pub:changeReason ?reason }
  OPTIONAL { ?event schema:startDate ?now }
}
ORDER BY ?slug ?previous""",
    ),
    Example(
        "one-release",
        "Everything about one release (CONSTRUCT)",
        _PREFIXES
        + """CONSTRUCT { ?release ?p ?o } WHERE {
  ?release a pub:Release ;
           pub:slug "labour-market-overview-uk-september-2026" ; ?p ?o .
}""",
    ),
)
