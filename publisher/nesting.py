"""How deep a parsed document may nest, checked once where input is read.

Every input format (JSON, JSON Lines, YAML; the API's request bodies too) is
parsed into lists and mappings. A parser refuses, or recurses past Python's
limit on, a document nested thousands deep; what it accepts would still reach
code that walks it. So a document is refused at the door when it nests deeper
than :data:`MAX_DEPTH`, whichever way it got there: no release record of any
supported format comes near (the deepest, a GOV.UK content item, nests about 8).
"""

from __future__ import annotations

import json
import re
from typing import Any

from publisher.errors import TooDeep, Unreadable

#: the deepest a document may nest (docs/native-format.md, "Limits")
MAX_DEPTH = TooDeep.limit


def too_deep(data: Any, limit: int = MAX_DEPTH) -> tuple[str | int, ...] | None:
    """The path to a list or mapping nested more than ``limit`` deep in ``data``,
    or None. Walks a level at a time, never by recursion, and once through a part
    that YAML aliases share (a "billion laughs" document costs its size, not its
    expansion; one that contains itself is too deep)."""
    level: list[Any] = [data] if isinstance(data, dict | list) else []
    for _ in range(limit):
        below: dict[int, Any] = {}
        for node in level:
            for value in node.values() if isinstance(node, dict) else node:
                if isinstance(value, dict | list):
                    below[id(value)] = value
        if not below:
            return None
        level = list(below.values())
    return _path_below(data, limit)


def _path_below(data: Any, limit: int) -> tuple[str | int, ...]:
    """The keys and positions that lead ``limit`` levels down (one such path)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    seen: set[tuple[int, int]] = set()
    while stack:
        node, path = stack.pop()
        if len(path) >= limit:
            return path
        if (id(node), len(path)) in seen:
            continue
        seen.add((id(node), len(path)))
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in reversed(list(items)):
            if isinstance(value, dict | list):
                stack.append(
                    (value, (*path, key if isinstance(key, int) else str(key)))
                )
    return ()  # pragma: no cover - too_deep found a path


def check_depth(data: Any) -> Any:
    """``data``, or TooDeep when it nests deeper than MAX_DEPTH."""
    path = too_deep(data)
    if path is not None:
        raise TooDeep(path)
    return data


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _where_too_deep(text: str | bytes) -> str:
    """'line L, column C' of the bracket that opens level MAX_DEPTH + 1 of JSON
    text the parser gave up on (it recursed past Python's limit first)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth = 0
    for token in _TOKEN.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, token.start()) + 1
                column = token.start() - text.rfind("\n", 0, token.start())
                if "\n" not in text.rstrip("\n"):  # a JSON Lines line, say
                    return f"at column {column}"
                return f"at line {line}, column {column}"
        elif mark in "]}":
            depth -= 1
    return ""  # pragma: no cover - the parser recursed, so some level is deep


def loads(text: str | bytes) -> Any:
    """``json.loads`` that raises TooDeep (a ValueError, like a syntax error)
    for a document nested too deep, instead of a RecursionError, and Unreadable
    for a number too long to read, instead of a bare ValueError."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise TooDeep(at=_where_too_deep(text)) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # int()'s digit limit, from inside the parser
        raise Unreadable(
            f"a number is too long ({exc.args[0].split(':')[0]})"
        ) from None
    return check_depth(data)
