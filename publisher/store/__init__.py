"""Where published releases live: the Store protocol and ``open_store(settings)``.

Two backends pass one contract test suite (tests/test_store_contract.py):

- :class:`publisher.store.oxigraph.EmbeddedStore`: pyoxigraph on disk (the default,
  ``./data/store``) or in memory (tests);
- :class:`publisher.store.sparql.RemoteStore`: any SPARQL 1.1 Query/Update store
  (Oxigraph server, Fuseki, GraphDB, Virtuoso, Neptune).

Backends only move data: SELECT, one atomic update request, one graph out, a whole
dump in or out. What a publish writes (graphs, catalogue records, tombstones, the
data version) is decided once, for every backend, in :mod:`publisher.store.catalog`.
Only this package talks to stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Protocol

from publisher.config import Settings

RESULT_FORMATS = ("json", "xml", "csv", "tsv")
GRAPH_FORMATS = ("ntriples", "turtle", "nquads", "rdfxml")


@dataclass(frozen=True)
class QueryJob:
    """A client's query as the public endpoint runs it (publisher.store.readers).

    ``default_graphs``/``named_graphs`` are the protocol's ``default-graph-uri``
    and ``named-graph-uri``: None when the request named no dataset, and then the
    query's own ``FROM``/``FROM NAMED`` apply (``has_dataset``), or else the
    default graph is the union of all graphs.
    """

    query: str
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    has_dataset: bool = False
    max_rows: int = 10000


@dataclass(frozen=True)
class Answer:
    """A query's results in one lossless form, cut at ``QueryJob.max_rows``.

    ``payload`` is SPARQL TSV for SELECT, SPARQL JSON for ASK and N-Triples for
    CONSTRUCT/DESCRIBE: each can be turned into every other format by the
    store's own serialisers (publisher.store.results).
    """

    kind: str  # select | ask | graph
    payload: bytes
    truncated: bool = False


class Store(Protocol):
    """What every backend provides. Values are strings; IRIs as plain strings."""

    #: for messages: "embedded store at ./data/store", "SPARQL store at http://..."
    location: str

    def select(self, query: str) -> list[dict[str, str]]:
        """Run a SELECT; each row maps variable -> lexical value (unbound: absent)."""
        ...

    def update(self, update: str) -> None:
        """Apply one SPARQL Update request atomically (all of it, or none)."""
        ...

    def graph_ntriples(self, graph: str) -> str:
        """The N-Triples of one named graph ("" when it does not exist)."""
        ...

    def query_results(self, query: str, fmt: str) -> tuple[str, bytes]:
        """Run any query; return (kind, payload) serialised by the store itself.

        kind is ``select``, ``ask`` or ``graph``; fmt one of RESULT_FORMATS for
        SELECT/ASK and GRAPH_FORMATS for CONSTRUCT/DESCRIBE. The default graph is
        the union of all graphs.
        """
        ...

    def run_query(self, job: QueryJob) -> Answer:
        """Run a client's query (already checked) and return its capped results."""
        ...

    def reader_source(self, folder: str) -> dict[str, str]:
        """What a reader process needs to query this store's current state.

        Embedded on disk: a checkpoint made in ``folder`` (hard links, milliseconds);
        in memory: an N-Quads copy there; remote: the endpoint and credentials.
        """
        ...

    def dump(self, out: BinaryIO, fmt: str) -> None:
        """Write every quad (``nquads`` or ``trig``)."""
        ...

    def load_dump(self, path: str, fmt: str) -> None:
        """Load a dump into this store (restore; publishing checks it is empty)."""
        ...

    def count_quads(self) -> int: ...

    def close(self) -> None: ...


def open_store(settings: Settings, *, in_memory: bool = False) -> Store:
    """The store the settings name: a remote endpoint if one is set, else embedded."""
    if settings.endpoint:
        from publisher.store.sparql import RemoteStore

        return RemoteStore.from_settings(settings)
    from publisher.store.oxigraph import EmbeddedStore

    if in_memory:
        return EmbeddedStore.in_memory()
    return EmbeddedStore.open(settings.store)
