"""What a publish or a delete writes, for every backend (DESIGN.md, "Graphs").

Each release lives in its own named graph ``{base}/graphs/releases/{slug}``. The
catalogue graph ``{base}/graphs/catalog`` holds the organisation, the topic scheme
and a DCAT catalogue with one ``dcat:CatalogRecord`` per release: its content hash
(the release's version, for ETags), when it was first issued and last modified.
A deleted release's record becomes a ``pub:Tombstone`` (slug, title, when, why).
The catalogue also records the base URL the store was built for and the data
version, a new random value on every write.

A batch is one SPARQL Update request: embedded stores apply it in one transaction,
remote stores apply a request atomically. Releases whose content hash has not
changed are not rewritten, so importing the same data twice changes nothing.

The mapping (publisher.records) builds the triples; the modules here send them:
``writes`` (publish, delete, an administrator's update), ``history``,
``redirects``, ``reads`` (states, versions, tombstones, figures, the data version
and the base URL check).
"""

from __future__ import annotations

from publisher.store.catalog.history import history
from publisher.store.catalog.reads import (
    LOOKUP_MAX,
    PREFIXES,
    check_base_url,
    counts,
    data_version,
    is_empty,
    recorded_base_url,
    release_graph_ntriples,
    release_states,
    release_versions,
    tombstones,
)
from publisher.store.catalog.redirects import redirect_for
from publisher.store.catalog.values import (
    ChangeNote,
    HistoryEntry,
    PublishResult,
    ReleaseEntry,
    ReleaseState,
    StoreCounts,
    Tombstone,
    content_hash,
)
from publisher.store.catalog.writes import (
    BULK_MIN,
    apply_admin_update,
    build_publish_update,
    catalog_lines,
    delete,
    describe_publish,
    new_data_version,
    now,
    publish,
    publish_streamed,
)

__all__ = [
    "BULK_MIN",
    "LOOKUP_MAX",
    "PREFIXES",
    "ChangeNote",
    "HistoryEntry",
    "PublishResult",
    "ReleaseEntry",
    "ReleaseState",
    "StoreCounts",
    "Tombstone",
    "apply_admin_update",
    "build_publish_update",
    "catalog_lines",
    "check_base_url",
    "content_hash",
    "counts",
    "data_version",
    "delete",
    "describe_publish",
    "history",
    "is_empty",
    "new_data_version",
    "now",
    "publish",
    "publish_streamed",
    "recorded_base_url",
    "redirect_for",
    "release_graph_ntriples",
    "release_states",
    "release_versions",
    "tombstones",
]
