"""Keeping a store's derived files current: the listing index, and restores.

The listing index (publisher.store.index) is derived from the store, never the
source: after a change it is brought up to date, and it can be rebuilt from
scratch. A restore loads a whole-store dump into an empty store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import replace

from publisher.config import Settings
from publisher.errors import PublisherError
from publisher.store import Store, catalog
from publisher.store.index import ListingIndex, SyncResult
from publisher.store.index_fields import Known


def refresh_index(
    store: Store, settings: Settings, known: Mapping[str, Known] | None = None
) -> str | None:
    """Bring the listing index up to date (``known``: rows an import already
    has). A failure is not fatal (the store changed all the same): it comes
    back as the warning to show, else None."""
    try:
        index = ListingIndex.for_settings(settings)
        try:
            if known:
                index.sync_known(store, settings, known)
            else:
                index.ensure_current(store, settings)
        finally:
            index.close()
    except (PublisherError, OSError, sqlite3.Error) as exc:
        return (
            f"Warning: the listing index {settings.index_path} was not updated "
            f"({exc}); run publisher reindex"
        )
    return None


def with_recorded_base_url(store: Store, settings: Settings) -> Settings:
    """``settings`` with the base URL the store was built for, if it records one."""
    base = catalog.recorded_base_url(store)
    if base is not None and base != settings.base_url:
        return replace(settings, base_url=base)
    return settings


def rebuild_index(store: Store, settings: Settings) -> SyncResult:
    """Rebuild the listing index from the store, for the base URL it records."""
    settings = with_recorded_base_url(store, settings)
    index = ListingIndex.for_settings(settings)
    try:
        return index.rebuild(store, settings)
    finally:
        index.close()


def restore_dump(store: Store, settings: Settings, path: str, fmt: str) -> Settings:
    """Load the dump at ``path`` (``nquads`` or ``trig``) into ``store``, which
    must be empty. Returns the settings with the base URL the dump records."""
    if not catalog.is_empty(store):
        raise PublisherError(
            f"{store.location} is not empty: restore needs an empty store "
            "(use a new --store path, or clear this one)"
        )
    store.load_dump(path, fmt)
    return with_recorded_base_url(store, settings)
