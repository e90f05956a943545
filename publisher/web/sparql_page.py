"""The SPARQL query page for people: the form, the examples, the results as a
table (or true/false) and links to download them in each format."""

from __future__ import annotations

import json
import urllib.parse

from flask import render_template

from publisher.config import Settings
from publisher.formats import FORMATS, GRAPH, RESULTS
from publisher.sparql import EXAMPLES, Result
from publisher.store.results import Table, table, triples_table
from publisher.web.meta import meta_for


def query_page(
    settings: Settings, text: str, result: Result | None, error: str | None = None
) -> str:
    """The page with the query ``text``, its ``result`` or the ``error`` it met."""
    grid: Table | None = None
    boolean: bool | None = None
    if result is not None:
        if result.answer.kind == "select":
            grid = table(result.answer)
        elif result.answer.kind == "ask":
            boolean = json.loads(result.answer.payload).get("boolean")
        else:
            grid = triples_table(result.answer)
    return render_template(
        "sparql/query.html",
        meta=meta_for(
            title="SPARQL query",
            description="Query every release, topic and change with SPARQL 1.1.",
            path="/sparql",
        ),
        query=text or EXAMPLES[0].query,
        examples=EXAMPLES,
        result=result,
        grid=grid,
        boolean=boolean,
        downloads=_downloads(text, result),
        error=error,
        settings_=settings,
    )


def _downloads(text: str, result: Result | None) -> list[tuple[str, str]]:
    """(label, URL) of the result in each format of its kind."""
    if result is None:
        return []
    kind = RESULTS if result.answer.kind in ("select", "ask") else GRAPH
    return [
        (
            fmt.label,
            "/sparql?" + urllib.parse.urlencode({"query": text, "format": fmt.name}),
        )
        for fmt in FORMATS
        if fmt.serves(kind)
    ]
