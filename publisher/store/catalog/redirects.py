"""Renamed releases: their old records become redirects to the new IRI."""

from __future__ import annotations

from datetime import datetime

from publisher import records
from publisher.config import Settings
from publisher.namespaces import Iris
from publisher.store import Store
from publisher.store.catalog.operations import retire_record
from publisher.store.catalog.reads import PREFIXES


def redirect(
    iris: Iris, old: str, new: str, moment: datetime
) -> tuple[list[str], list[str]]:
    """Operations and lines that turn ``old``'s record into a redirect to ``new``."""
    cat = f"<{iris.catalog_graph}>"
    rel = f"<{iris.release(old)}>"
    ops = [
        f"DROP SILENT GRAPH <{iris.release_graph(old)}>",
        *retire_record(iris, old),
        # older redirects to ``old`` now lead straight to ``new``
        f"DELETE {{ GRAPH {cat} {{ ?r dcterms:isReplacedBy {rel} }} }} "
        f"INSERT {{ GRAPH {cat} {{ ?r dcterms:isReplacedBy <{iris.release(new)}> }} }} "
        f"WHERE {{ GRAPH {cat} {{ ?r dcterms:isReplacedBy {rel} }} }}",
    ]
    return ops, records.lines(records.redirect(iris, old, new, moment))


def redirect_for(store: Store, settings: Settings, slug: str) -> str | None:
    """The slug a renamed release now has, or None."""
    iris = Iris(settings.base_url)
    rows = store.select(
        PREFIXES + f"SELECT ?to WHERE {{ GRAPH <{iris.catalog_graph}> {{ "
        f"<{iris.record(slug)}> a pub:Redirect ; dcterms:isReplacedBy ?to }} }} LIMIT 1"
    )
    if not rows:
        return None
    return iris.slug_of(rows[0]["to"])
