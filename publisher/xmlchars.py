"""The characters XML 1.0 cannot carry, refused at input and replaced on output.

XML 1.0 allows tab, LF, CR and every character from U+0020 but the surrogates,
U+FFFE and U+FFFF. The importers refuse the rest in any text field
(:func:`publisher.importers._common.text_problem`); every XML writer (Atom feeds,
sitemaps, RDF/XML, SPARQL XML results) passes its document through
:func:`xml_safe`, so a literal that reached the store another way (an admin's
SPARQL Update, another writer of a remote store) shows as U+FFFD instead of
making the document ill-formed.
"""

from __future__ import annotations

import re

__all__ = ["REPLACEMENT", "XML_ILLEGAL", "xml_safe", "xml_safe_bytes"]

XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"
# the same characters as UTF-8 (surrogates cannot occur in valid UTF-8)
_XML_ILLEGAL_UTF8 = re.compile(b"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return XML_ILLEGAL.sub(REPLACEMENT, text)


def xml_safe_bytes(data: bytes) -> bytes:
    """:func:`xml_safe` for a UTF-8 document."""
    return _XML_ILLEGAL_UTF8.sub(REPLACEMENT.encode("utf-8"), data)
