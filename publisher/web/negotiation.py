"""Accept header and suffix -> RDF format; Link headers for the alternates.

Parsing and q-values are werkzeug's (``request.accept_mimetypes.best_match``), not
ours (STYLE.md, section 3). The formats are publisher.formats'.
"""

from __future__ import annotations

from publisher.formats import BY_NAME, HTML, Format

#: the RDF formats of a page, in the order offered
RDF_FORMATS: tuple[Format, ...] = tuple(
    BY_NAME[name] for name in ("turtle", "jsonld", "rdfxml", "ntriples")
)
BY_SUFFIX = {f.suffix: f for f in RDF_FORMATS}
BY_MIMETYPE = {f.mimetype: f for f in RDF_FORMATS}
OFFERED = (HTML, *(f.mimetype for f in RDF_FORMATS))

__all__ = ["BY_MIMETYPE", "BY_SUFFIX", "HTML", "OFFERED", "RDF_FORMATS", "link_header"]


def link_header(page_url: str) -> str:
    """``Link`` alternates for a page: one per RDF format (RFC 8288)."""
    return ", ".join(
        f'<{page_url}.{f.suffix}>; rel="alternate"; type="{f.mimetype}"'
        for f in RDF_FORMATS
    )
