"""Release -> the schema.org block a page embeds, built directly from the model.

The block :func:`publisher.jsonld.graph_to_embed` makes by compacting the release's
graph with pyld (DESIGN.md, "JSON-LD for pages and embedding"), made here as plain
dicts from the dataclasses: no graph, no pyld, tens of microseconds (issue 12, point
3). It is the same JSON, key for key and in the same order: ``@id`` and ``@type``
first, then the terms in the order of their schema.org IRIs; one value as itself,
several as a list in the order pyld keeps (the order of their JSON text); terms the
context types as ``@id`` (``url``, ``license``, ``isPartOf``...) as plain strings;
nodes used once (list items, topics, contacts, datasets, documents) nested where
they are used, the rest after the six main pieces in the order of their ``@id``.

``tests/test_embed.py`` holds it to the pyld block for every fixture and the
sample calendar. A release whose links cannot be IRIs (the shapes reject them, so a
stored release has none) or that names a topic twice is left to pyld, whose output
for those is not worth restating here.
"""

from __future__ import annotations

from functools import lru_cache
from json.encoder import encode_basestring_ascii
from typing import Any

from publisher.config import Settings
from publisher.jsonld import release_to_embed
from publisher.model import Dataset, Release, Status, slugify
from publisher.namespaces import SCHEMA_CONTEXT, Iris
from publisher.rdf import (
    NOT_IRI,  # the rule rdf._link applies
    eventstatus_for,
    human_size,
)

Node = dict[str, Any]


@lru_cache(maxsize=16)
def _iris(base_url: str) -> Iris:
    return Iris(base_url)


def release_embed(release: Release, settings: Settings) -> dict[str, Any]:
    """The schema.org block of one release: ``{"@context": ..., "@graph": [...]}``.

    Exactly :func:`publisher.jsonld.graph_to_embed` of the release's graph.
    """
    if not embeds_directly(release, settings):
        return release_to_embed(release, settings)
    iris = _iris(settings.base_url)
    slug = release.slug
    page = iris.page(slug)
    rel = page + "#release"
    org = iris.organization
    publisher = org
    rest: list[Node] = []
    if release.publisher is not None:
        publisher = iris.organization_other(slugify(release.publisher.name))
        rest.append(
            _organization(publisher, release.publisher.name, release.publisher.url)
        )
    if release.series is not None:
        series: Node = {
            "@id": iris.series(release.series.slug),
            "@type": "CreativeWorkSeries",
        }
        if release.series.title:
            series["name"] = release.series.title
        rest.append(series)
    site = _organization(
        org,
        settings.organization_name,
        settings.publisher_url,
        settings.organization_logo,
    )
    website = {
        "@id": iris.website,
        "@type": "WebSite",
        "inLanguage": settings.language,
        "name": settings.site_name,
        "publisher": {"@id": org},
        "url": iris.home,
    }
    web_page: Node = {
        "@id": page,
        "@type": "WebPage",
        "breadcrumb": {"@id": page + "#breadcrumb"},
        "inLanguage": release.language,
        "isPartOf": iris.website,
        "mainEntity": {"@id": rel},
    }
    if release.title:
        web_page["name"] = release.title
    web_page["url"] = page
    parts = _release_node(release, settings, iris, page, publisher, rest)
    rest.sort(key=_id)
    graph = [site, website, web_page, _breadcrumbs(release, iris, page), *parts, *rest]
    return {"@context": SCHEMA_CONTEXT, "@graph": graph}


def embeds_directly(release: Release, settings: Settings) -> bool:
    """Whether :func:`release_embed` builds the block itself (else pyld does): every
    link an IRI, each topic once.

    One search over the links joined by ``!``, a character the search does not
    look for; a link with spaces around it, which rdf strips, goes to pyld too.
    """
    links = [settings.publisher_url, release.license or settings.default_license]
    links.extend(release.same_as)
    if release.publisher is not None and release.publisher.url:
        links.append(release.publisher.url)
    links.extend(doc.url for doc in release.related_documents)
    for dataset in release.datasets:
        if dataset.url:
            links.append(dataset.url)
        links.extend(download.url for download in dataset.downloads)
    if NOT_IRI.search("!".join(links)):
        return False
    return len({topic.slug for topic in release.topics}) == len(release.topics)


def _id(node: Node) -> str:
    return str(node["@id"])


def _json_order(text: str) -> str:
    """pyld keeps the order the values were sorted in, that of their JSON text
    (``json.dumps``, ASCII only): ``"\\u00e9"`` before ``"z"``."""
    return encode_basestring_ascii(text)


def _one_or_many(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def _organization(node: str, name: str, url: str | None, logo: str = "") -> Node:
    out: Node = {"@id": node, "@type": "Organization"}
    if logo:
        out["logo"] = logo.strip()
    out["name"] = name
    if url:
        out["url"] = url.strip()
    return out


def _breadcrumbs(release: Release, iris: Iris, page: str) -> Node:
    trail = (
        ("Home", iris.home),
        ("Releases", iris.releases_page),
        (release.title or release.slug, page),
    )
    items = [
        {
            "@id": f"{page}#breadcrumb-{n}",
            "@type": "ListItem",
            "item": {"@id": target},
            "name": name,
            "position": n,
        }
        for n, (name, target) in enumerate(trail, start=1)
    ]
    return {
        "@id": page + "#breadcrumb",
        "@type": "BreadcrumbList",
        "itemListElement": items,
    }


def _release_node(
    release: Release,
    settings: Settings,
    iris: Iris,
    page: str,
    publisher: str,
    rest: list[Node],
) -> tuple[Node, Node]:
    """The release (Dataset) and its PublicationEvent; downloads go to ``rest``."""
    rel = page + "#release"
    node: Node = {"@id": rel, "@type": "Dataset"}
    if release.topics:
        topics = [(iris.topic(t.slug).strip(), t.label) for t in release.topics]
        scheme = iris.topic_scheme
        node["about"] = _one_or_many(
            [
                {
                    "@id": iri,
                    "@type": "DefinedTerm",
                    "inDefinedTermSet": scheme,
                    "name": label,
                }
                for iri, label in sorted(topics, key=lambda t: _json_order(t[0]))
            ]
        )
    if release.contacts:
        node["contactPoint"] = _one_or_many(_contacts(release, page))
    if release.status is not None:
        node["creativeWorkStatus"] = release.status.label
        if release.status is Status.PUBLISHED:
            when = release.published_date or release.release_date
            if when is not None:
                node["datePublished"] = when.isoformat()
    if release.summary:
        node["description"] = release.summary
    if release.datasets:
        parts, downloads = _datasets(release.datasets, page)
        rest.extend(downloads)
        if downloads:
            node["distribution"] = _one_or_many(
                [{"@id": iri} for iri in sorted(d["@id"] for d in downloads)]
            )
        node["hasPart"] = _one_or_many(parts)
    if release.identifier:
        node["identifier"] = release.identifier
    node["inLanguage"] = release.language
    node["includedInDataCatalog"] = {"@id": iris.catalog}
    node["isAccessibleForFree"] = True
    if release.series is not None:
        node["isPartOf"] = iris.series(release.series.slug)
    if release.keywords:
        node["keywords"] = _one_or_many(sorted(set(release.keywords), key=_json_order))
    licence = release.license or settings.default_license
    if licence:
        node["license"] = licence.strip()
    node["mainEntityOfPage"] = page
    if release.title:
        node["name"] = release.title
    node["publication"] = {"@id": page + "#publication"}
    node["publisher"] = {"@id": publisher}
    if release.same_as:
        same = {link.strip() for link in release.same_as}
        node["sameAs"] = _one_or_many(sorted(same, key=_json_order))
    if release.related_documents:
        node["subjectOf"] = _one_or_many(_documents(release, page))
    node["url"] = page
    return node, _event(release, page, publisher)


def _event(release: Release, page: str, publisher: str) -> Node:
    event: Node = {
        "@id": page + "#publication",
        "@type": "PublicationEvent",
        "eventStatus": {"@id": str(eventstatus_for(release))},
    }
    if release.title:
        event["name"] = f"Release of {release.title}"
    if release.date_changes:
        previous = {change.previous_date.isoformat() for change in release.date_changes}
        event["previousStartDate"] = _one_or_many(sorted(previous))
    event["publishedBy"] = {"@id": publisher}
    if release.release_date is not None:
        event["startDate"] = release.release_date.isoformat()
    return event


def _contacts(release: Release, page: str) -> list[Node]:
    out = []
    for n, contact in enumerate(release.contacts, start=1):
        node: Node = {
            "@id": f"{page}#contact-{n}",
            "@type": "ContactPoint",
            "contactType": "statistical enquiries",
        }
        if contact.email:
            node["email"] = contact.email
        if contact.name:
            node["name"] = contact.name
        if contact.telephone:
            node["telephone"] = contact.telephone
        out.append(node)
    out.sort(key=_id)
    return out


def _documents(release: Release, page: str) -> list[Node]:
    out = [
        {
            "@id": f"{page}#document-{n}",
            "@type": "CreativeWork",
            "name": doc.title or doc.url,
            "url": doc.url.strip(),
        }
        for n, doc in enumerate(release.related_documents, start=1)
    ]
    out.sort(key=_id)
    return out


def _datasets(
    datasets: tuple[Dataset, ...], page: str
) -> tuple[list[Node], list[Node]]:
    """The release's parts (nested) and their downloads (after the main pieces:
    the release and the part both name each download)."""
    parts: list[Node] = []
    downloads: list[Node] = []
    for n, dataset in enumerate(datasets, start=1):
        node: Node = {"@id": f"{page}#dataset-{n}", "@type": "Dataset"}
        if dataset.description:
            node["description"] = dataset.description
        own = []
        for m, download in enumerate(dataset.downloads, start=1):
            iri = f"{page}#dataset-{n}-download-{m}"
            own.append(iri)
            dl: Node = {"@id": iri, "@type": "DataDownload"}
            if download.size is not None:
                dl["contentSize"] = human_size(download.size)
            dl["contentUrl"] = download.url.strip()
            if download.format:
                dl["encodingFormat"] = download.format
            dl["name"] = download.title or dataset.title
            downloads.append(dl)
        if own:
            node["distribution"] = _one_or_many([{"@id": iri} for iri in sorted(own)])
        node["name"] = dataset.title
        if dataset.url:
            node["url"] = dataset.url.strip()
        parts.append(node)
    parts.sort(key=_id)
    return parts, downloads
