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

import gzip
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from publisher.config import Settings
from publisher.errors import PublisherError, QuerySyntaxError
from publisher.namespaces import sparql_prefixes
from publisher.queries import (
    QueryInfo,
    check_update,
    graphs_written,
    needs_parse,
    scan_query,
    with_using,
)
from publisher.store import Answer, QueryJob, Store, catalog, health
from publisher.store.readers import ReaderPool
from publisher.store.results import render

#: the most bytes the answer cache keeps (answers, their renderings and gzip
#: copies together) in the whole server, each worker its share
#: (``Settings.share``); the least recently used go first
CACHE_BYTES = 64 << 20
#: a reader idle this long is ended (it holds 30 to 100 MB once it has answered),
#: except the ``READERS_WARM`` most recently used of each process
READER_IDLE_SECONDS = 10.0
READERS_WARM = 1
#: a reader whose resident size passes this after a query is ended, not kept
#: (a heavy query's memory, freed, stays with the process)
READER_RETIRE_BYTES = 256 << 20


@dataclass(frozen=True)
class Rendering:
    """An answer written in one format, once: the bytes, their ETag and (made on
    the first request that accepts it, then kept) a gzip copy."""

    body: bytes
    etag: str
    _gzip: list[bytes] = field(default_factory=list, repr=False, compare=False)

    def gzipped(self) -> bytes:
        if not self._gzip:
            self._gzip.append(gzip.compress(self.body, compresslevel=6, mtime=0))
        return self._gzip[0]


@dataclass(frozen=True)
class Result:
    """A query's answer, with what caching needs: ``key`` (the request's, see
    :func:`request_key`) and its renderings, one per format, made once."""

    answer: Answer
    form: str  # select, ask, construct, describe
    data_version: str  # the store's data version it was computed at
    cached: bool
    key: str = ""
    renderings: dict[str, Rendering] = field(
        default_factory=dict, repr=False, compare=False
    )

    @staticmethod
    def etag_for(data_version: str | None, key: str, fmt: str) -> str:
        """The ETag of a request's answer in ``fmt`` at a data version."""
        text = f"{data_version or 'empty'}\n{fmt}\n{key}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def size(self) -> int:
        return len(self.answer.payload) + sum(
            2 * len(r.body) for r in list(self.renderings.values())
        )


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
        write_lock: threading.RLock,
    ) -> None:
        self.settings = settings
        self.store = store
        self.endpoint = settings.base_url + "/sparql"
        self._data_version = data_version
        self._write_lock = write_lock
        self._cache_bytes = settings.share(CACHE_BYTES)
        folder, self._temporary = _checkpoint_folder(settings, store)
        self._folder = Path(folder)
        # one cap for every process serving these settings (store.readers)
        self.readers = ReaderPool(
            settings.query_concurrency,
            settings.query_timeout,
            settings.memory_limit_bytes,
            run_dir=_run_dir(settings, self._folder, self._temporary),
            idle_seconds=READER_IDLE_SECONDS,
            warm=READERS_WARM,
            retire_bytes=READER_RETIRE_BYTES,
        )
        _remove_leftovers(self._folder)  # a killed server's checkpoints
        self._source: tuple[str, dict[str, str]] | None = None
        self._pid = os.getpid()
        self._sources_lock = threading.Lock()
        self._in_use: dict[str, int] = {}
        self._retired: list[str] = []
        # answers at one data version (_cache_version), least recently used first
        self._cache: OrderedDict[str, Result] = OrderedDict()
        self._cache_version = ""
        self._sizes: dict[str, int] = {}  # bytes of each kept answer, and in all:
        self._total = 0
        self._cache_lock = threading.Lock()
        self._running: dict[tuple[str, str], _Flight] = {}

    # Queries ------------------------------------------------------------------

    def inspect(self, text: str) -> QueryInfo:
        """The query's form and a dataset guess from a linear lexical scan (no
        parser, no lock: the full parse, when one is needed, runs in the reader,
        on the clock); or QuerySyntaxError/QueryRefusedError."""
        return scan_query(_clean(text))

    def cached(self, version: str, key: str) -> Result | None:
        """The answer to the request ``key`` at ``version``, if it is kept: a
        dictionary lookup (only queries that passed the checks are kept)."""
        with self._cache_lock:
            if version != self._cache_version:
                return None
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
            return hit

    def lookup(
        self,
        text: str,
        default_graphs: tuple[str, ...] | None = None,
        named_graphs: tuple[str, ...] | None = None,
    ) -> Result | None:
        """The cached answer at the current data version, if there is one."""
        key = request_key(text, default_graphs, named_graphs)
        return self.cached(self.data_version(), key)

    def data_version(self) -> str:
        return self._data_version() or "empty"

    def rendering(self, result: Result, fmt: str) -> Rendering:
        """``result`` written in ``fmt`` (publisher.store.results), made once per
        answer and format and kept with the answer."""
        found = result.renderings.get(fmt)
        if found is None:
            made = Rendering(
                render(result.answer, fmt),
                Result.etag_for(result.data_version, result.key, fmt),
            )
            found = result.renderings.setdefault(fmt, made)
            if found is made:
                # counted twice: the body and, at most as big, its gzip copy
                self._grew(result, 2 * len(made.body))
        return found

    def _grew(self, result: Result, size: int) -> None:
        with self._cache_lock:
            if result.key in self._sizes and self._cache_version == result.data_version:
                self._sizes[result.key] += size
                self._total += size

    def query(
        self,
        text: str,
        default_graphs: tuple[str, ...] | None = None,
        named_graphs: tuple[str, ...] | None = None,
        info: QueryInfo | None = None,
        client: str = "",
        version: str | None = None,
    ) -> Result:
        """Check and run a client's query (or answer it from the cache).

        ``info``: what :meth:`inspect` said of it, when the caller asked already;
        ``client``: who asks (their fair share of the readers: store.readers);
        ``version``: the data version the caller read. Identical queries that
        arrive together run once: the others wait for its answer.
        Raises QuerySyntaxError/QueryRefusedError (the client's fault) or a
        StoreError: ReadersBusyError, QueryTimeoutError, QueryFailedError.
        """
        version = version or self.data_version()
        key = request_key(text, default_graphs, named_graphs)
        hit = self.cached(version, key)
        if hit is not None:
            return hit
        info = info or self.inspect(text)
        with self._cache_lock:
            running = self._running.get((version, key))
            if running is None:
                mine = self._running[(version, key)] = _Flight()
        job = QueryJob(
            query=_with_base(text, self.endpoint),  # relative IRIs: the endpoint's
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            has_dataset=info.has_dataset,
            max_rows=self.settings.query_max_rows,
        )
        if running is not None:  # the same query, running already: its outcome
            running.done.wait(self.settings.query_timeout + 1)
            if running.error is not None:
                raise running.error
            hit = self.cached(version, key)
            return hit or self._run(job, text, key, version, info.form, client)
        try:
            return self._run(job, text, key, version, info.form, client)
        except PublisherError as exc:
            mine.error = exc
            raise
        finally:
            with self._cache_lock:
                del self._running[(version, key)]
            mine.done.set()

    def _run(
        self, job: QueryJob, text: str, key: str, version: str, form: str, client: str
    ) -> Result:
        health.check(self.store)  # a store known to be down: 503 at once
        name, source = self._current_source(version)
        try:
            # The full parse where a lexical scan could be fooled (queries.py),
            # and always for a remote store, whose grammar may have more words
            # that fetch (Virtuoso's DEFINE input:grab-...); the parse refuses them.
            remote = source.get("kind") == "remote"
            check = text if remote or needs_parse(text) else ""
            answer = self.readers.run(source, job, client, check=check)
        finally:
            self._release(name)
        result = Result(answer, form, version, cached=False, key=key)
        self._remember(result)
        return result

    def _remember(self, result: Result) -> None:
        limit = self.settings.query_cache
        size = result.size()
        if not limit or size > self._cache_bytes // 4:
            return
        with self._cache_lock:
            if result.data_version != self._cache_version:
                self._cache.clear()  # a write: every kept answer is out of date
                self._sizes.clear()
                self._total = 0
                self._cache_version = result.data_version
            self._forget(result.key)
            # kept as the hit it will be (its renderings shared with ``result``)
            self._cache[result.key] = replace(result, cached=True)
            self._sizes[result.key] = size
            self._total += size
            while len(self._cache) > limit or (
                len(self._cache) > 1 and self._total > self._cache_bytes
            ):
                self._forget(next(iter(self._cache)))

    def _forget(self, key: str) -> None:
        if self._cache.pop(key, None) is not None:
            self._total -= self._sizes.pop(key)

    def cached_entries(self) -> int:
        with self._cache_lock:
            return len(self._cache)

    # Sources for the readers: one checkpoint per data version -----------------

    def _current_source(self, version: str) -> tuple[str, dict[str, str]]:
        with self._sources_lock:
            if self._pid != os.getpid():  # a forked worker: its own checkpoints
                self._pid, self._source = os.getpid(), None
                self._in_use, self._retired = {}, []
            if self._source is None or self._source[0] != version:
                if self._source is not None:
                    self._retired.append(self._source[0])
                folder = self._folder / self._checkpoint_name(version)
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
                    shutil.rmtree(
                        self._folder / self._checkpoint_name(old), ignore_errors=True
                    )

    def _checkpoint_name(self, version: str) -> str:
        """A checkpoint's folder: each process (each worker) makes its own."""
        return f"p{os.getpid()}-{id(self):x}-v-{version}"

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
        if self._temporary:
            shutil.rmtree(self._folder, ignore_errors=True)
            return
        with self._sources_lock:
            names = [self._source[0]] if self._source else []
            names += self._retired
        for version in names:
            shutil.rmtree(
                self._folder / self._checkpoint_name(version), ignore_errors=True
            )


class _Flight:
    """A query running for every request that asks it at the same data version:
    they wait for it, and get its answer or its error."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: PublisherError | None = None


def _clean(text: str) -> str:
    if "\x00" in text:
        raise QuerySyntaxError("SPARQL syntax error: NUL character in the request")
    return text


def _with_base(text: str, endpoint: str) -> str:
    """Relative IRIs resolve against the endpoint (SPARQL 1.1 Protocol, 2.1.5)."""
    return f"BASE <{_clean(endpoint)}>\n{_clean(text)}"


def _checkpoint_folder(settings: Settings, store: Store) -> tuple[str, bool]:
    """Where reader checkpoints go: next to an embedded store on disk (the same
    file system, so a checkpoint is hard links), else a temporary folder (True)."""
    path = getattr(store, "path", None)
    if path:
        return str(path).rstrip("/") + ".readers", False
    shared = getattr(store, "readers_folder", None)  # a follower: the writer's
    if shared:
        return str(shared), False
    return tempfile.mkdtemp(prefix="publisher-readers-"), True


def _run_dir(settings: Settings, folder: Path, temporary: bool) -> str:
    """Where the readers' cap is counted for every process of the server: beside
    the embedded store, or beside the listing index for a remote one (a store in
    memory has no other process: its temporary folder)."""
    if temporary and settings.endpoint:
        return settings.index_path + ".readers"
    return str(folder / "slots")


_OWNER = re.compile(r"p(\d+)-")


def _remove_leftovers(folder: Path) -> None:
    """Remove the checkpoints of processes that are gone (killed servers)."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name == "slots":
            continue
        owner = _OWNER.match(entry.name)
        if owner and _alive(int(owner.group(1))):
            continue
        shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
