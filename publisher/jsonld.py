"""RDF -> JSON-LD: the embeddable schema.org block and full, self-contained JSON-LD.

Built with pyld from the triples and contexts that ship with the package: no
network at run time. :func:`document_loader` serves the package's copy of the
schema.org context and refuses every other URL (a remote fetch is a bug).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from copy import deepcopy
from functools import cache
from typing import Any

from pyld import jsonld
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from publisher.config import Settings
from publisher.errors import PublisherError, RemoteContextError
from publisher.model import Release
from publisher.namespaces import (
    PREFIXES,
    RDF,
    SCHEMA,
    SCHEMA_CONTEXT,
    SCHEMA_CONTEXTS,
    XSD,
)
from publisher.rdf import release_to_triples
from publisher.resources import schemaorg_context_text

SCHEMA_ORG_URLS = SCHEMA_CONTEXTS
#: schema.org properties the official context types as ``Date``: their values are
#: written as plain strings so they read the same under that context.
DATE_PROPERTIES = frozenset(
    str(SCHEMA[p])
    for p in (
        "startDate",
        "endDate",
        "previousStartDate",
        "datePublished",
        "dateModified",
        "dateCreated",
        "expires",
    )
)
#: Order of the main nodes in the embedded @graph (as Yoast SEO orders its pieces).
TOP_TYPES = (
    "Organization",
    "WebSite",
    "WebPage",
    "BreadcrumbList",
    "Dataset",
    "PublicationEvent",
)
SCHEMA_DATE = str(SCHEMA.Date)


@cache
def schemaorg_context() -> dict[str, Any]:
    """The package's stand-in for the official schema.org context."""
    doc: dict[str, Any] = json.loads(schemaorg_context_text())
    return doc


def document_loader(
    url: str, options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """pyld document loader: local schema.org context, nothing from the network."""
    if url in SCHEMA_ORG_URLS:
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": schemaorg_context(),
        }
    raise RemoteContextError(
        f"refusing to fetch {url}: JSON-LD contexts are served locally only"
    )


def _options(**extra: Any) -> dict[str, Any]:
    return {"documentLoader": document_loader, **extra}


def _compaction_context() -> dict[str, Any]:
    """The stand-in without its ``id``/``type`` aliases, so output keeps ``@id``."""
    schema = str(SCHEMA)
    ctx: dict[str, Any] = {}
    for key, value in schemaorg_context()["@context"].items():
        if key in {"id", "type", "schema"}:
            # No aliases and no "schema:" prefix in output: node IRIs such as
            # schema.org's EventScheduled are written in full, as crawlers expect.
            continue
        if isinstance(value, dict):
            value = {
                k: (
                    schema + v[len("schema:") :]
                    if isinstance(v, str) and v.startswith("schema:")
                    else v
                )
                for k, v in value.items()
            }
        ctx[key] = value
    return ctx


@cache
def full_context() -> dict[str, Any]:
    """Inline context of negotiated and downloaded JSON-LD: prefixes only."""
    return {prefix: str(ns) for prefix, ns in PREFIXES.items()}


def _value(obj: Node, *, date_as_schema: bool) -> dict[str, Any]:
    if isinstance(obj, URIRef):
        return {"@id": str(obj)}
    if isinstance(obj, Literal):
        if obj.language:
            return {"@value": str(obj), "@language": obj.language}
        dt = obj.datatype
        if dt is None or dt == XSD.string:
            return {"@value": str(obj)}
        if dt == XSD.boolean:
            return {"@value": bool(obj.toPython())}
        if dt == XSD.integer:
            return {"@value": int(obj)}
        if date_as_schema and dt in (XSD.dateTime, XSD.date):
            return {"@value": str(obj), "@type": SCHEMA_DATE}
        return {"@value": str(obj), "@type": str(dt)}
    raise PublisherError(f"blank nodes are not expected in release graphs: {obj!r}")


def triples_to_expanded(
    triples: Iterable[tuple[Node, Node, Node]], *, schema_only: bool = False
) -> list[dict[str, Any]]:
    """Expanded JSON-LD node objects, sorted by @id, values sorted."""
    nodes: dict[str, dict[str, list[Any]]] = {}
    schema = str(SCHEMA)
    for s, p, o in triples:
        if schema_only:
            if p == RDF.type:
                if not str(o).startswith(schema):
                    continue
            elif not str(p).startswith(schema):
                continue
        props = nodes.setdefault(str(s), {})
        if p == RDF.type:
            props.setdefault("@type", []).append(str(o))
        else:
            date_as_schema = schema_only and str(p) in DATE_PROPERTIES
            props.setdefault(str(p), []).append(
                _value(o, date_as_schema=date_as_schema)
            )
    out: list[dict[str, Any]] = []
    for iri in sorted(nodes):
        props = nodes[iri]
        node: dict[str, Any] = {"@id": iri}
        for key in sorted(props):
            values = props[key]
            if key == "@type":
                node[key] = sorted(set(values))
            else:
                unique = {json.dumps(v, sort_keys=True): v for v in values}
                node[key] = [unique[k] for k in sorted(unique)]
        out.append(node)
    return out


def graph_to_jsonld(graph: Graph) -> dict[str, Any]:
    """Full JSON-LD of a graph with its context inline: any client parses it offline."""
    expanded = triples_to_expanded(graph)
    compacted: dict[str, Any] = jsonld.compact(
        {"@graph": expanded}, {"@context": full_context()}, _options(graph=True)
    )
    compacted["@context"] = full_context()
    return compacted


def graph_to_embed(graph: Graph) -> dict[str, Any]:
    """The schema.org block a page embeds (DESIGN.md, "JSON-LD for pages").

    ``{"@context": SCHEMA_CONTEXT, "@graph": [...]}`` with Organization,
    WebSite, WebPage, BreadcrumbList, the release (Dataset) and its
    PublicationEvent at the top, linked by ``@id``; nodes referenced once (list
    items, downloads, contacts, topics) are nested where they are used.
    """
    expanded = triples_to_expanded(graph, schema_only=True)
    compacted = jsonld.compact(
        {"@graph": expanded}, {"@context": _compaction_context()}, _options(graph=True)
    )
    nodes: list[dict[str, Any]] = compacted.get("@graph", [])
    return {"@context": SCHEMA_CONTEXT, "@graph": _nest(nodes)}


def release_to_embed(release: Release, settings: Settings) -> dict[str, Any]:
    """The embeddable schema.org block of one release (for publishing pipelines)."""
    graph = Graph()
    graph.addN((s, p, o, graph) for s, p, o in release_to_triples(release, settings))
    return graph_to_embed(graph)


def release_to_script_tag(release: Release, settings: Settings) -> str:
    """The ``<script type="application/ld+json">`` element for one release."""
    block = dumps_for_html(release_to_embed(release, settings))
    return f'<script type="application/ld+json">\n{block}\n</script>\n'


def _types(node: Mapping[str, Any]) -> list[str]:
    t = node.get("@type", [])
    return [t] if isinstance(t, str) else list(t)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _nest(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {n["@id"]: n for n in nodes}
    refs: dict[str, int] = {}

    def count(value: Any) -> None:
        if isinstance(value, dict):
            if set(value) == {"@id"}:
                refs[value["@id"]] = refs.get(value["@id"], 0) + 1
            for v in value.values():
                count(v)
        elif isinstance(value, list):
            for v in value:
                count(v)

    for node in nodes:
        for key, value in node.items():
            if key != "@id":
                count(value)

    # The site's Organization is the one the WebSite names as publisher; any other
    # organisation (a release's own publisher) follows the main pieces.
    site_orgs = {
        ref.get("@id") if isinstance(ref, dict) else ref
        for n in nodes
        if "WebSite" in _types(n)
        for ref in _as_list(n.get("publisher"))
    }

    def top_rank(node: Mapping[str, Any]) -> int | None:
        types = _types(node)
        for rank, name in enumerate(TOP_TYPES):
            if name in types:
                if name == "Dataset" and not str(node["@id"]).endswith("#release"):
                    continue
                if (
                    name == "Organization"
                    and site_orgs
                    and node["@id"] not in site_orgs
                ):
                    continue
                return rank
        return None

    top_ids = {n["@id"] for n in nodes if top_rank(n) is not None}
    nested: set[str] = set()

    def embed(value: Any) -> Any:
        if isinstance(value, list):
            return [embed(v) for v in value]
        if isinstance(value, dict):
            ref = value.get("@id")
            if (
                isinstance(ref, str)
                and set(value) == {"@id"}
                and ref in by_id
                and ref not in top_ids
                and refs.get(ref) == 1
                and ref not in nested
            ):
                nested.add(ref)
                inner = deepcopy(by_id[ref])
                return {k: embed(v) if k != "@id" else v for k, v in inner.items()}
            return {k: embed(v) if k != "@id" else v for k, v in value.items()}
        return value

    tops = sorted(
        (n for n in nodes if n["@id"] in top_ids),
        key=lambda n: (top_rank(n), n["@id"]),
    )
    result = [embed(n) for n in tops]
    rest = [
        embed(n) for n in nodes if n["@id"] not in top_ids and n["@id"] not in nested
    ]
    return result + [n for n in rest if n["@id"] not in nested]


def dumps_for_html(data: Any) -> str:
    """JSON safe inside ``<script>``: ``<``, ``>`` and ``&`` as ``\\u003c`` etc."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def expand_offline(document: Any) -> list[dict[str, Any]]:
    """Expand JSON-LD as a consumer would, with the local document loader."""
    expanded: list[dict[str, Any]] = jsonld.expand(document, _options())
    return expanded
