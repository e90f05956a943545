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
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pyparsing import ParseException, ParseResults
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef

from publisher.errors import QueryRefusedError, QuerySyntaxError

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
#: rdflib's SPARQL grammar (pyparsing) is not safe to use from two threads at once:
#: concurrent parses fail with errors from inside pyparsing
_PARSER = threading.Lock()


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


def _refuse_fetch_words(text: str) -> str:
    """``text`` without its strings, IRIs and comments, once SERVICE and LOAD are
    found in none of the rest (else QueryRefusedError): a linear lexical check."""
    code = _NOT_CODE.sub(" ", text)
    found = _KEYWORD.search(code)
    if found:
        raise QueryRefusedError(
            f"{found.group(1).upper()} is not allowed: this service never fetches "
            "data from other servers on a client's behalf"
        )
    return code


def _refuse_fetches(names: set[str], text: str) -> None:
    for name, keyword in _FORBIDDEN.items():
        if name in names:
            raise QueryRefusedError(
                f"{keyword} is not allowed: this service never fetches data from "
                "other servers on a client's behalf"
            )
    _refuse_fetch_words(text)


@dataclass(frozen=True)
class QueryInfo:
    form: str  # select, ask, construct, describe
    has_dataset: bool  # FROM or FROM NAMED in the query


def inspect_query(text: str) -> QueryInfo:
    """The query's form and whether it names its dataset, or an error."""
    try:
        with _PARSER:
            parsed = parseQuery(text)
        names = set(_names(parsed))
    except ParseException as exc:
        raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from None
    except RecursionError:
        raise QuerySyntaxError(
            "SPARQL syntax error: the query is nested too deeply to read"
        ) from None
    _refuse_fetches(names, text)
    for name, form in FORMS.items():
        if name in names:
            return QueryInfo(form, "DatasetClause" in names)
    raise QuerySyntaxError(
        "SPARQL syntax error: not a SPARQL query (SELECT, ASK, CONSTRUCT or DESCRIBE)"
    )


#: deeper nesting of ``{``, ``(`` and ``[`` is refused before any parser sees it
#: (rdflib's and Oxigraph's parsers recurse)
MAX_DEPTH = 200
_FORM_WORD = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def scan_query(text: str) -> QueryInfo:
    """What the server process checks: linear, no parser and no lock.

    SERVICE or LOAD anywhere in the code (outside strings, IRIs and comments) is
    refused; so is nesting deeper than MAX_DEPTH. The form is the first form
    keyword of the code; ``has_dataset`` is a guess (FROM in the code) that the
    reader's full parse (:func:`inspect_query`, in the killable reader) settles.
    """
    code = _refuse_fetch_words(text)
    depth = deepest = 0
    for char in code:
        if char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise QuerySyntaxError(
            f"SPARQL syntax error: the query nests groups {deepest} deep; at most "
            f"{MAX_DEPTH} levels are accepted"
        )
    form = _FORM_WORD.search(code)
    if form is None:
        raise QuerySyntaxError(
            "SPARQL syntax error: not a SPARQL query "
            "(SELECT, ASK, CONSTRUCT or DESCRIBE)"
        )
    has_dataset = re.search(r"\bFROM\b", code, re.IGNORECASE) is not None
    return QueryInfo(form.group(1).lower(), has_dataset)


#: what a SERVICE or LOAD must be spelled with, however it is written (ASCII,
#: any case), or a codepoint escape (SPARQL 1.1, 19.2) that could spell one
_RISKY = ("service", "load", "\\u")


def needs_parse(text: str) -> bool:
    """Whether only a full parse (:func:`inspect_query`) can tell that ``text``
    fetches nothing.

    A SERVICE or LOAD is spelled with those letters, in any case, whatever
    surrounds it; a store's parser reads keywords case-insensitively in ASCII
    (Oxigraph even without a word boundary: ``SERVICE:x``, ``1SERVICE``), so a
    text without them anywhere, not even in a string, an IRI or a name, and
    without a ``\\u`` escape cannot hold either, by any grammar. Only texts that
    do are parsed (rdflib's parser takes milliseconds, an Oxigraph query
    microseconds); the scan (:func:`scan_query`) still refuses the plain cases.
    """
    lowered = text.lower()
    return any(word in lowered for word in _RISKY)


def check_query(text: str) -> str:
    """The query's form (select, ask, construct, describe), or an error."""
    return inspect_query(text).form


def _parse_update(text: str) -> Any:
    try:
        with _PARSER:
            return parseUpdate(text)
    except ParseException as exc:
        raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from None


def check_update(text: str) -> None:
    """An update that parses and loads nothing from elsewhere, or an error."""
    _refuse_fetches(set(_names(_parse_update(text))), text)


_WORDS = re.compile(r"\b(USING|WITH|WHERE|DELETE|INSERT)\b|[{};]", re.IGNORECASE)


def with_using(text: str, using: list[str], using_named: list[str]) -> str:
    """The update with the protocol's ``using-graph-uri``/``using-named-graph-uri``.

    SPARQL 1.1 Protocol, 2.2.3: they give the dataset of every operation's WHERE
    clause; an update that names its own (USING, USING NAMED, WITH) is refused.
    They are written in as ``USING <g>`` before each DELETE/INSERT ... WHERE.
    """
    if not using and not using_named:
        return text
    names = set(_names(_parse_update(text)))
    if names & {"UsingClause"} or _has_with(text):
        raise QuerySyntaxError(
            "the update names its dataset (USING, USING NAMED or WITH) and the "
            "request gives using-graph-uri or using-named-graph-uri: give one"
        )
    clause = " ".join(
        [f"USING <{_iri(g)}>" for g in using]
        + [f"USING NAMED <{_iri(g)}>" for g in using_named]
    )
    code = _NOT_CODE.sub(lambda m: " " * len(m.group(0)), text)
    out, last, depth, previous = [], 0, 0, ""
    for match in _WORDS.finditer(code):
        word = match.group(0).upper()
        if word == "{":
            depth += 1
        elif word == "}":
            depth -= 1
        elif depth == 0 and word == "WHERE" and previous != "DELETE":
            out.append(text[last : match.start()] + clause + " ")
            last = match.start()
        if word not in "{}":
            previous = word if depth == 0 else previous
    out.append(text[last:])
    return "".join(out)


def _has_with(text: str) -> bool:
    code = _NOT_CODE.sub(" ", text)
    return re.search(r"\bWITH\b", code, re.IGNORECASE) is not None


def _iri(value: str) -> str:
    if any(c in value for c in '<>"{}|^`\\') or any(c.isspace() for c in value):
        raise QuerySyntaxError(f"not a valid graph IRI: {value!r}")
    return value


def graphs_written(text: str, base: str | None = None) -> set[str] | None:
    """The named graphs an update may change; None when it could be any.

    Operations on the default graph change no named graph. A ``GRAPH ?g``
    template, ``DROP ALL``/``NAMED`` and the like could change any.
    """
    try:
        parsed = _parse_update(text)
        with _PARSER:
            update = translateUpdate(parsed, base=base)
    except (ParseException, ValueError, KeyError) as exc:
        raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from None
    graphs: set[str] = set()
    for op in update.algebra:
        if op.name in ("InsertData", "DeleteData", "DeleteWhere"):
            # (CompValue.get's second argument is not a default: no SIM401)
            quads = op["quads"] if "quads" in op else {}  # noqa: SIM401
            targets: list[Any] = list(quads.keys())
        elif op.name == "Modify":
            targets = []
            if "withClause" in op:
                targets.append(op["withClause"])
            for part in ("delete", "insert"):
                clause = op[part] if part in op else None  # noqa: SIM401
                if clause:
                    targets += list((clause.get("quads") or {}).keys())
        elif op.name in ("Drop", "Clear", "Create"):
            targets = [op["graphiri"]]
        elif op.name in ("Add", "Copy"):
            targets = [op["graph"][1]]
        elif op.name == "Move":
            targets = list(op["graph"])
        else:
            return None
        for target in targets:
            if target == "DEFAULT":
                continue
            if not isinstance(target, URIRef):
                return None  # a variable, ALL, NAMED
            graphs.add(str(target))
    return graphs
