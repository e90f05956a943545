"""Several releases' named graphs in one read (a page of the API's list).

:meth:`Store.graph_ntriples` reads one graph a request; a page of records would
be a request per row. Here one SELECT over the page's graphs, its results as TSV
(whose terms are written as in N-Triples, but for Turtle's short numbers and
booleans), is split by graph and written as N-Triples.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from publisher.config import Settings
from publisher.errors import StoreError
from publisher.lines import sorted_lines
from publisher.namespaces import XSD, Iris
from publisher.store import Store


def release_graphs_ntriples(
    store: Store, settings: Settings, slugs: Sequence[str]
) -> dict[str, str]:
    """slug -> its graph as N-Triples, for the ``slugs`` that have one."""
    iris = Iris(settings.base_url)
    by_graph = {iris.release_graph(slug): slug for slug in dict.fromkeys(slugs)}
    if not by_graph:
        return {}
    values = " ".join(f"<{graph}>" for graph in by_graph)
    query = (
        f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {values} }} "
        "GRAPH ?g { ?s ?p ?o } }"
    )
    _, body = store.query_results(query, "tsv")
    triples: dict[str, list[str]] = {}
    for line in body.decode("utf-8").split("\n")[1:]:
        if not line:
            continue
        cells = line.split("\t")
        if len(cells) != 4 or cells[0][1:-1] not in by_graph:
            raise StoreError(f"the {store.location} sent a row that is not a quad")
        subject, predicate, obj = cells[1:]
        triples.setdefault(cells[0][1:-1], []).append(
            f"{subject} {predicate} {_ntriples_term(obj)} .\n"
        )
    return {
        by_graph[graph]: sorted_lines("".join(lines))
        for graph, lines in triples.items()
    }


_XSD = str(XSD)
#: Turtle's short literals (SPARQL 1.1 TSV, section 4) and their datatypes
_SHORT = (
    (re.compile(r"(true|false)"), "boolean"),
    (re.compile(r"[+-]?\d+"), "integer"),
    (re.compile(r"[+-]?\d*\.\d+"), "decimal"),
    (re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+"), "double"),
)


def _ntriples_term(term: str) -> str:
    """A TSV term as N-Triples writes it: a short number or boolean in full."""
    if term[:1] in ('"', "<", "_"):
        return term
    for pattern, datatype in _SHORT:
        if pattern.fullmatch(term):
            return f'"{term}"^^<{_XSD}{datatype}>'
    raise StoreError(f"not an RDF term in a TSV result: {term!r}")
