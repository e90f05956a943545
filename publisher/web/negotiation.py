"""Accept header and suffix -> RDF format; Link headers for the alternates.

Parsing and q-values are werkzeug's (``request.accept_mimetypes.best_match``), not
ours (STYLE.md, section 3). The formats are publisher.formats'.
"""

from __future__ import annotations

from functools import lru_cache

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from publisher.formats import BY_NAME, HTML, Format

#: the RDF formats of a page, in the order offered
RDF_FORMATS: tuple[Format, ...] = tuple(
    BY_NAME[name] for name in ("turtle", "jsonld", "rdfxml", "ntriples")
)
BY_SUFFIX = {f.suffix: f for f in RDF_FORMATS}
BY_MIMETYPE = {f.mimetype: f for f in RDF_FORMATS}
OFFERED = (HTML, *(f.mimetype for f in RDF_FORMATS))

__all__ = [
    "BY_MIMETYPE",
    "BY_SUFFIX",
    "HTML",
    "OFFERED",
    "RDF_FORMATS",
    "link_header",
    "release_kind",
]


@lru_cache(maxsize=512)
def release_kind(accept: str | None) -> str | None:
    """What a release page answers an ``Accept`` header with: ``html`` or an RDF
    suffix; None when it offers nothing acceptable (406). Clients send few
    distinct headers, so the answers are kept."""
    accepted = parse_accept_header(accept, MIMEAccept)
    best = accepted.best_match(OFFERED)
    if accepted and best is None:
        return None
    if best and best != HTML:
        return BY_MIMETYPE[best].suffix
    return "html"


def link_header(page_url: str) -> str:
    """``Link`` alternates for a page: one per RDF format (RFC 8288)."""
    return ", ".join(
        f'<{page_url}.{f.suffix}>; rel="alternate"; type="{f.mimetype}"'
        for f in RDF_FORMATS
    )
