"""Checks on SPARQL text before it reaches a store: what form it is, and that it
asks no store to fetch anything from the network on our behalf.

pyoxigraph and Oxigraph server execute ``SERVICE`` and ``LOAD`` by making real HTTP
requests (DESIGN.md, "Known hard parts"): passed through, a client's query becomes a
request from our machine. Queries are parsed with rdflib's SPARQL 1.1 grammar and
refused when the parse tree holds a ``SERVICE`` pattern or a ``LOAD`` operation,
however they are spelled, nested or commented; a lexical scan for the keywords
outside strings, IRIs and comments is a second line of defence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pyparsing import ParseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from publisher.errors import PublisherError


class QueryRefusedError(PublisherError):
    """A query or update that may not run here."""


class QuerySyntaxError(PublisherError):
    """SPARQL that does not parse; the message is the parser's."""


FORMS = {
    "SelectQuery": "select",
    "AskQuery": "ask",
    "ConstructQuery": "construct",
    "DescribeQuery": "describe",
}
_FORBIDDEN = {"ServiceGraphPattern": "SERVICE", "Load": "LOAD"}
# Strings, IRIs, comments, variables and prefixed names, which may contain the
# words harmlessly (?service, ex:load).
_NOT_CODE = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*'
    r"|[?$]\w+|[A-Za-z_][\w.-]*:[\w.-]*|:[\w.-]+"
)
_KEYWORD = re.compile(r"\b(SERVICE|LOAD)\b", re.IGNORECASE)


def _names(node: Any) -> Iterator[str]:
    if isinstance(node, CompValue):
        yield node.name
        for value in node.values():
            yield from _names(value)
    elif isinstance(node, list | tuple | ParseResults):
        for value in node:
            yield from _names(value)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _names(value)


def _refuse_fetches(names: set[str], text: str) -> None:
    for name, keyword in _FORBIDDEN.items():
        if name in names:
            raise QueryRefusedError(
                f"{keyword} is not allowed: this service never fetches data from "
                "other servers on a client's behalf"
            )
    code = _NOT_CODE.sub(" ", text)
    found = _KEYWORD.search(code)
    if found:
        raise QueryRefusedError(
            f"{found.group(1).upper()} is not allowed: this service never fetches "
            "data from other servers on a client's behalf"
        )


def check_query(text: str) -> str:
    """The query's form (select, ask, construct, describe), or an error."""
    try:
        parsed = parseQuery(text)
    except ParseException as exc:
        raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from None
    names = set(_names(parsed))
    _refuse_fetches(names, text)
    for name, form in FORMS.items():
        if name in names:
            return form
    raise QuerySyntaxError("not a SPARQL query (SELECT, ASK, CONSTRUCT or DESCRIBE)")


def check_update(text: str) -> None:
    """An update that parses and loads nothing from elsewhere, or an error."""
    try:
        parsed = parseUpdate(text)
    except ParseException as exc:
        raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from None
    _refuse_fetches(set(_names(parsed)), text)
