"""The history graph: a change per write (PROV-O), and the changes read back."""

from __future__ import annotations

from datetime import datetime

from publisher import records
from publisher.config import Settings
from publisher.namespaces import Iris
from publisher.store import Store
from publisher.store.catalog.reads import PREFIXES
from publisher.store.catalog.values import ChangeNote, HistoryEntry


def release_history(
    iris: Iris,
    agent: str,
    moment: datetime,
    data_version: str,
    notes: dict[str, ChangeNote],
) -> list[str]:
    """A change per release of a write, each named after its slug, by ``agent``
    unless its note names another."""
    lines: list[str] = []
    for slug, note in notes.items():
        change = records.change(
            iris,
            kind=note.kind,
            agent=note.agent or agent,
            moment=moment,
            data_version=data_version,
            releases=[slug],
            summary=note.summary,
            entry=slug,
        )
        lines += records.lines(change)
    return lines


def history(
    store: Store, settings: Settings, *, slug: str | None = None, limit: int = 0
) -> list[HistoryEntry]:
    """Recorded changes to releases, newest first: one release's (``slug``), or
    the latest ``limit`` of all (the Atom feed of changes)."""
    iris = Iris(settings.base_url)
    release = f"<{iris.release(slug)}>" if slug else "?release"
    rows = store.select(
        PREFIXES
        + f"""SELECT ?when ?who ?kind ?summary {"" if slug else "?release"} WHERE {{
  GRAPH <{iris.history_graph}> {{
    ?c pub:affects {release} ; pub:changeKind ?kind ;
       prov:endedAtTime ?when ; prov:wasAssociatedWith ?agent .
    ?agent foaf:name ?who .
    OPTIONAL {{ ?c dcterms:description ?summary }}
  }}
}} ORDER BY DESC(?when)"""
        + (f" LIMIT {int(limit)}" if limit else "")
    )
    return [
        HistoryEntry(
            slug or iris.slug_of(r["release"]) or "",
            r["when"],
            r["who"],
            r["kind"],
            r.get("summary", ""),
        )
        for r in rows
    ]
