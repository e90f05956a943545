"""Split line-based formats (N-Triples, N-Quads, JSON Lines) at their line ends only.

``str.splitlines()`` also breaks at U+2028, U+2029, U+0085, ``\\v``, ``\\f`` and
``\\x1c``-``\\x1e``, all of which an N-Triples literal or a JSON string may carry
unescaped (rdflib writes most control characters raw, Oxigraph writes U+2028 raw),
so a title holding one of them used to cut its triple in two. These formats end a
line only with LF, CR or CR LF, which can never occur raw inside a literal or a
string, so splitting there is exact.
"""

from __future__ import annotations

__all__ = ["sorted_lines", "split_lines"]


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, split at LF, CR LF and CR only; no empty lines."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [line for line in text.split("\n") if line]


def sorted_lines(text: str) -> str:
    """The distinct non-blank, non-comment lines of N-Triples or N-Quads ``text``,
    sorted, each ended by ``\\n``: the same graph always gives the same text."""
    lines = {line.strip(" \t") for line in split_lines(text)}
    return "".join(
        line + "\n" for line in sorted(lines) if line and not line.startswith("#")
    )
