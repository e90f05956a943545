"""Read queries of the catalogue: release states and versions, tombstones, the
data version, figures, and the base URL the store was built for."""

from __future__ import annotations

from collections.abc import Iterable

from publisher.config import Settings
from publisher.errors import StoreConflictError
from publisher.namespaces import Iris, sparql_prefixes
from publisher.store import Store
from publisher.store.catalog.values import ReleaseState, StoreCounts, Tombstone

#: the PREFIX lines of every query and update of the catalogue
PREFIXES = sparql_prefixes(
    "pub", "dcat", "dcterms", "schema", "skos", "foaf", "xsd", "prov"
)


def recorded_base_url(store: Store) -> str | None:
    rows = store.select(
        PREFIXES
        + "SELECT ?base WHERE { GRAPH ?g { ?c a dcat:Catalog ; pub:baseUrl ?base } } "
        "LIMIT 2"
    )
    bases = {r["base"] for r in rows if "base" in r}
    if len(bases) > 1:
        raise StoreConflictError(
            f"{store.location} holds catalogues for several base URLs: "
            + ", ".join(sorted(bases))
        )
    return next(iter(bases), None)


def check_base_url(store: Store, settings: Settings) -> None:
    """Refuse to use a store built for another base URL (IRIs would not match)."""
    recorded = recorded_base_url(store)
    if recorded is not None and recorded != settings.base_url:
        raise StoreConflictError(
            f"{store.location} was built for base URL {recorded}, not "
            f"{settings.base_url}: its IRIs are minted from {recorded}. Use "
            f"--base-url {recorded} (or PUBLISHER_BASE_URL), or a new store."
        )


def data_version(store: Store, settings: Settings) -> str | None:
    iris = Iris(settings.base_url)
    rows = store.select(
        PREFIXES + f"SELECT ?v WHERE {{ GRAPH <{iris.catalog_graph}> "
        f"{{ <{iris.catalog}> pub:dataVersion ?v }} }}"
    )
    return rows[0]["v"] if rows else None


#: up to this many releases, their records are looked up one by one (a direct
#: lookup each); more, and every record is read in one query
LOOKUP_MAX = 2000


def release_states(
    store: Store, settings: Settings, slugs: Iterable[str] | None = None
) -> dict[str, ReleaseState]:
    """Live releases' versions, first-issued and last-modified times.

    With ``slugs``, only those (absent ones are left out); without, every one.
    """
    iris = Iris(settings.base_url)
    cat = iris.catalog_graph
    wanted = None if slugs is None else list(dict.fromkeys(slugs))
    if wanted is not None and len(wanted) <= LOOKUP_MAX:
        # A VALUES join over many records is slow in Oxigraph (minutes at 20,000);
        # a query per record is a direct lookup.
        found: dict[str, ReleaseState] = {}
        for slug in wanted:
            rec = f"<{iris.record(slug)}>"
            rows = store.select(
                PREFIXES
                + f"""SELECT ?hash ?issued ?modified ?title WHERE {{ GRAPH <{cat}> {{
  {rec} pub:contentHash ?hash ; dcterms:modified ?modified .
  OPTIONAL {{ {rec} dcterms:issued ?issued }}
  OPTIONAL {{ {rec} dcterms:title ?title }}
}} }}"""
            )
            if rows:
                r = rows[0]
                found[slug] = ReleaseState(
                    slug, r["hash"], r.get("issued"), r["modified"], r.get("title")
                )
        return found
    rows = store.select(
        PREFIXES
        + f"""SELECT ?rec ?hash ?issued ?modified ?title WHERE {{
  GRAPH <{cat}> {{
    ?rec pub:contentHash ?hash ; dcterms:modified ?modified .
    OPTIONAL {{ ?rec dcterms:issued ?issued }}
    OPTIONAL {{ ?rec dcterms:title ?title }}
  }}
}}"""
    )
    states = {}
    for r in rows:
        slug = iris.record_slug(r["rec"]) or r["rec"]
        states[slug] = ReleaseState(
            slug, r["hash"], r.get("issued"), r["modified"], r.get("title")
        )
    if wanted is not None:
        keep = set(wanted)
        states = {s: st for s, st in states.items() if s in keep}
    return states


def release_versions(store: Store, settings: Settings) -> dict[str, tuple[str, str]]:
    """slug -> (version, modified) of every live release: the index's sync check.

    Two triple patterns, no OPTIONAL: the cheapest full read of the catalogue.
    Tombstones carry no content hash, so they are not listed.
    """
    iris = Iris(settings.base_url)
    rows = store.select(
        PREFIXES + f"SELECT ?rec ?hash ?modified WHERE {{ GRAPH <{iris.catalog_graph}> "
        "{ ?rec pub:contentHash ?hash ; dcterms:modified ?modified } }"
    )
    return {
        iris.record_slug(r["rec"]) or r["rec"]: (r["hash"], r["modified"]) for r in rows
    }


def tombstones(store: Store, settings: Settings) -> dict[str, Tombstone]:
    iris = Iris(settings.base_url)
    rows = store.select(
        PREFIXES
        + f"""SELECT ?slug ?title ?at ?why WHERE {{
  GRAPH <{iris.catalog_graph}> {{
    ?rec a pub:Tombstone ; pub:slug ?slug ; pub:deletedAt ?at ;
         pub:deletionReason ?why .
    OPTIONAL {{ ?rec dcterms:title ?title }}
  }}
}}"""
    )
    return {
        r["slug"]: Tombstone(r["slug"], r.get("title"), r["at"], r["why"]) for r in rows
    }


def counts(store: Store, settings: Settings) -> StoreCounts:
    rows = store.select(
        PREFIXES
        + """SELECT ?status (COUNT(DISTINCT ?r) AS ?n) WHERE {
  GRAPH ?g { ?r a pub:Release ; pub:status ?status }
} GROUP BY ?status"""
    )
    by_status = {
        r["status"].rsplit("#", 1)[-1].lower(): int(r["n"])
        for r in rows
        if "status" in r
    }
    graphs = store.select(
        "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    )
    return StoreCounts(
        releases_by_status=dict(sorted(by_status.items())),
        releases=sum(by_status.values()),
        tombstones=len(tombstones(store, settings)),
        graphs=int(graphs[0]["n"]) if graphs else 0,
        triples=store.count_quads(),
        data_version=data_version(store, settings),
        base_url=recorded_base_url(store),
    )


def release_graph_ntriples(store: Store, settings: Settings, slug: str) -> str:
    return store.graph_ntriples(Iris(settings.base_url).release_graph(slug))


def is_empty(store: Store) -> bool:
    return store.count_quads() == 0
