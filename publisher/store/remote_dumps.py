"""Dumps and restores of a remote store (publisher.store.sparql.RemoteStore).

With a whole-dataset Graph Store endpoint (Oxigraph's ``<base>/store``, or
``gsp_endpoint`` for a restore) a dump is one streamed GET and a restore one POST
of the file. Other stores are dumped by a SELECT of every quad and restored by
one INSERT DATA update.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, BinaryIO

import pyoxigraph as ox

from publisher.errors import StoreError, StoreRefusedError
from publisher.formats import BY_NAME, DUMP, names
from publisher.store import bindings, health
from publisher.store.remote_http import media_type
from publisher.store.results import rdf_format

if TYPE_CHECKING:
    from publisher.store.sparql import RemoteStore

_DUMP_TYPES = {n: BY_NAME[n].mimetype for n in names(DUMP)}
_DUMP_FORMATS = {name: rdf_format(name) for name in _DUMP_TYPES}

#: every quad once, whether the default graph is a graph of its own (Oxigraph,
#: Fuseki) or the union of all graphs (Virtuoso, GraphDB): a default graph triple
#: that a named graph also holds is listed in the named graph only
ALL_QUADS = (
    "{ ?s ?p ?o FILTER NOT EXISTS { GRAPH ?h { ?s ?p ?o } } } "
    "UNION { GRAPH ?g { ?s ?p ?o } }"
)


def dump(store: RemoteStore, out: BinaryIO, fmt: str) -> None:
    if fmt not in _DUMP_TYPES:
        raise StoreRefusedError(f"a dump is nquads or trig, not {fmt}")
    url = store._dataset_url()
    if url is None:
        _dump_by_query(store, out, fmt)
        return
    request = store._request(url, headers={"Accept": _DUMP_TYPES[fmt]})
    response = store._attempt(
        url,
        lambda timeout: store._opener.open(request, timeout=timeout),
        retry=True,
        doing="dump",
    )
    with response:
        got = media_type(response.headers)
        if got and got != _DUMP_TYPES[fmt]:
            raise StoreError(
                f"the {store.location} sent {got} instead of {_DUMP_TYPES[fmt]}"
            )
        # once it answered, a dump streams for as long as it takes: each read
        # waits at most the timeout the request was opened with
        with health.unbounded():
            while True:
                # once bytes went out, trying again would write them twice
                chunk: bytes = store._attempt(
                    url, lambda _: response.read(1 << 20), retry=False, doing="dump"
                )
                if not chunk:
                    break
                out.write(chunk)


def load_dump(store: RemoteStore, path: str, fmt: str) -> None:
    if fmt not in _DUMP_TYPES:
        raise StoreRefusedError(f"a dump is nquads or trig, not {fmt}")
    try:
        size = os.path.getsize(path)
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        url = store.gsp_endpoint or store._dataset_url()
        if url is None:
            _load_by_update(store, handle, path, fmt)
            return
        request = store._request(
            url,
            data=handle,
            headers={
                "Content-Type": _DUMP_TYPES[fmt],
                "Content-Length": str(size),
            },
        )
        store._fetch(request, write=True, doing=f"restore of {path}")


def _dump_by_query(store: RemoteStore, out: BinaryIO, fmt: str) -> None:
    rows = store._bindings(f"SELECT ?g ?s ?p ?o WHERE {{ {ALL_QUADS} }}")
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
            f"the {store.location} sent a quad that cannot be written: {exc}"
        ) from None


def _load_by_update(store: RemoteStore, handle: BinaryIO, path: str, fmt: str) -> None:
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
    store.update("INSERT DATA {\n" + "\n".join(parts) + "\n}")
