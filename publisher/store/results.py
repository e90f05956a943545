"""Query results: cut at a row cap while the store writes them, then written in
the format a client asked for, always by Oxigraph's own serialisers.

Results travel in one lossless, line-based form (:class:`publisher.store.Answer`):
SPARQL TSV for SELECT (one row per line: RDF terms are written in Turtle syntax,
so newlines in literals are escaped), SPARQL JSON for ASK and N-Triples for
CONSTRUCT/DESCRIBE (one triple per line). Cutting them at N rows is cutting at a
line; turning them into JSON, XML, CSV, Turtle, RDF/XML or JSON-LD is parsing
them and serialising again with pyoxigraph.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from publisher.errors import ResultsCut, StoreError
from publisher.formats import BY_NAME, GRAPH, RESULTS, names
from publisher.namespaces import prefix_map
from publisher.store import Answer
from publisher.xmlchars import xml_safe_bytes


def rdf_format(name: str) -> ox.RdfFormat:
    """pyoxigraph's RDF format for a publisher.formats name."""
    member = BY_NAME[name].oxigraph
    found: ox.RdfFormat = getattr(ox.RdfFormat, member)
    return found


def results_format(name: str) -> ox.QueryResultsFormat:
    """pyoxigraph's query results format for a publisher.formats name."""
    member = BY_NAME[name].oxigraph
    found: ox.QueryResultsFormat = getattr(ox.QueryResultsFormat, member)
    return found


#: the formats answers are written in, by name (publisher.formats)
RESULT_TYPES = {n: results_format(n) for n in names(RESULTS)}
GRAPH_TYPES = {n: rdf_format(n) for n in names(GRAPH)}
#: prefixes Turtle output is written with (only those it uses are declared)
PREFIXES = prefix_map(
    "pub", "schema", "dcat", "dcterms", "skos", "foaf", "prov", "xsd", "rdf", "rdfs"
)


class _LineCap:
    """A binary writer that keeps the first ``limit`` lines and stops the writer."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.lines = 0
        self.cut = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        if self.cut:
            raise ResultsCut
        self.lines += chunk.count(b"\n")
        self.chunks.append(chunk)
        if self.lines > self.limit:
            self.cut = True
            raise ResultsCut
        return len(chunk)

    def flush(self) -> None:
        return None

    def text(self) -> bytes:
        data = b"".join(self.chunks)
        if not self.cut:
            return data
        return b"".join(line + b"\n" for line in data.split(b"\n")[: self.limit])


def capped(write: Callable[[Any], object], limit: int) -> tuple[bytes, bool]:
    """Call ``write(output)``, a pyoxigraph serialise; keep ``limit`` lines."""
    sink = _LineCap(limit)
    with contextlib.suppress(ResultsCut):
        write(sink)
    return sink.text(), sink.cut


def solutions_answer(results: ox.QuerySolutions, max_rows: int) -> Answer:
    tsv, cut = capped(
        lambda out: results.serialize(out, format=ox.QueryResultsFormat.TSV),
        max_rows + 1,  # the header line, then the rows
    )
    return Answer("select", tsv, cut)


def boolean_answer(result: ox.QueryBoolean) -> Answer:
    return Answer(
        "ask", bytes(result.serialize(format=ox.QueryResultsFormat.JSON) or b"")
    )


def triples_answer(triples: Iterator[ox.Triple], max_rows: int) -> Answer:
    nt, cut = capped(
        lambda out: ox.serialize(triples, out, format=ox.RdfFormat.N_TRIPLES),
        max_rows,
    )
    return Answer("graph", nt, cut)


def cut_answer(kind: str, payload: bytes, max_rows: int) -> Answer:
    """An Answer from a whole payload (a remote store's), cut at ``max_rows``."""
    if kind == "ask":
        return Answer(kind, payload)
    limit = max_rows + 1 if kind == "select" else max_rows
    lines = payload.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    cut = len(lines) > limit
    return Answer(kind, b"".join(line + b"\n" for line in lines[:limit]), cut)


def render(answer: Answer, fmt: str) -> bytes:
    """The answer written in ``fmt`` (a key of RESULT_TYPES or GRAPH_TYPES).

    XML (SPARQL XML results, RDF/XML) stays well-formed whatever the store holds:
    a character XML 1.0 cannot carry is written as U+FFFD (publisher.xmlchars)."""
    body = _render(answer, fmt)
    return xml_safe_bytes(body) if fmt in ("xml", "rdfxml") else body


def _render(answer: Answer, fmt: str) -> bytes:
    try:
        if answer.kind == "graph":
            if fmt in ("ntriples", "nquads"):
                return answer.payload  # triples in the default graph: same lines
            triples = ox.parse(answer.payload, format=ox.RdfFormat.N_TRIPLES)
            prefixes = PREFIXES if fmt in ("turtle", "rdfxml") else None
            return bytes(
                ox.serialize(triples, format=GRAPH_TYPES[fmt], prefixes=prefixes) or b""
            )
        if answer.kind == "select" and fmt == "tsv":
            return answer.payload
        source = (
            ox.QueryResultsFormat.TSV
            if answer.kind == "select"
            else ox.QueryResultsFormat.JSON
        )
        parsed = ox.parse_query_results(answer.payload, format=source)
        return bytes(parsed.serialize(format=RESULT_TYPES[fmt]) or b"")
    except (SyntaxError, ValueError, KeyError) as exc:
        raise StoreError(
            f"cannot write {answer.kind} results as {fmt}: {exc}"
        ) from None


@dataclass(frozen=True)
class Table:
    """SELECT results for a page: variables and rows of (kind, text) cells."""

    variables: list[str]
    rows: list[list[tuple[str, str] | None]]


def table(answer: Answer) -> Table:
    """SELECT results as Python values, for the HTML results table."""
    parsed = ox.parse_query_results(answer.payload, format=ox.QueryResultsFormat.TSV)
    if not isinstance(parsed, ox.QuerySolutions):
        raise StoreError("expected SELECT results")
    names = [v.value for v in parsed.variables]
    rows = []
    for solution in parsed:
        row: list[tuple[str, str] | None] = []
        for name in names:
            term = solution[name]
            row.append(None if term is None else _cell(term))
        rows.append(row)
    return Table(names, rows)


def triples_table(answer: Answer) -> Table:
    rows: list[list[tuple[str, str] | None]] = []
    for triple in ox.parse(answer.payload, format=ox.RdfFormat.N_TRIPLES):
        rows.append(
            [_cell(triple.subject), _cell(triple.predicate), _cell(triple.object)]
        )
    return Table(["subject", "predicate", "object"], rows)


def _cell(term: Any) -> tuple[str, str]:
    if isinstance(term, ox.NamedNode):
        return "iri", term.value
    if isinstance(term, ox.BlankNode):
        return "bnode", f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return "literal", term.value
    return "other", str(term)
