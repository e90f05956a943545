"""The DCAT catalogue page written as text directly holds exactly the triples of the
rdflib graph built for it (publisher.describe.catalog_page, the oracle), in every
format the site serves it in, whatever the titles hold."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from publisher.config import Settings
from publisher.describe import (
    catalog_page,
    catalog_page_ntriples,
    catalog_page_turtle,
)
from publisher.namespaces import Iris
from publisher.store import Answer
from publisher.store.results import render

#: titles a page must carry as they are (quotes, backslashes, line ends, markup)
TITLES = [
    'A "quoted" title',
    "back\\slash \\n not a line end",
    "two\nlines",
    "<b>markup</b> & more",
    "\u2028 line separator, é, ☃",
    "",
    None,
]


@dataclass(frozen=True)
class _Row:
    slug: str
    content_hash: str
    title: str | None
    modified: str | None


def _rows(titles: list[str | None]) -> list[_Row]:
    return [
        _Row(
            f"release-{n:03d}",
            f"hash-{n}",
            title,
            "2026-01-05T09:30:00Z" if n % 2 else None,
        )
        for n, title in enumerate(titles)
    ]


@pytest.mark.parametrize(("page", "last"), [(1, 1), (1, 3), (2, 3), (3, 3)])
@pytest.mark.parametrize(
    ("fmt", "rdflib_format"),
    [
        ("turtle", "turtle"),
        ("ntriples", "nt"),
        ("jsonld", "json-ld"),
        ("rdfxml", "xml"),
    ],
)
def test_catalog_page_text_is_the_graph(
    page: int, last: int, fmt: str, rdflib_format: str
) -> None:
    settings = Settings()
    iris = Iris(settings.base_url)
    rows = _rows(TITLES * 3)
    oracle = catalog_page(settings, iris, rows, page=page, last=last, total=45)
    if fmt == "turtle":
        text = catalog_page_turtle(settings, iris, rows, page=page, last=last, total=45)
    else:
        nt = catalog_page_ntriples(settings, iris, rows, page=page, last=last, total=45)
        text = render(Answer("graph", nt.encode()), fmt).decode()
    got = Graph().parse(data=text, format=rdflib_format)
    assert len(got) == len(oracle)
    assert isomorphic(got, oracle), set(got) ^ set(oracle)


def test_an_empty_page_is_the_catalogue_alone() -> None:
    settings = Settings()
    iris = Iris(settings.base_url)
    oracle = catalog_page(settings, iris, [], page=1, last=1, total=0)
    for write, form in ((catalog_page_turtle, "turtle"), (catalog_page_ntriples, "nt")):
        text = write(settings, iris, [], page=1, last=1, total=0)
        assert isomorphic(Graph().parse(data=text, format=form), oracle)
