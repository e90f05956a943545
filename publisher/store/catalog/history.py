"""The history graph: a change per write (PROV-O), and the changes read back."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from publisher import records
from publisher.config import Settings
from publisher.namespaces import Iris
from publisher.store import Store
from publisher.store.catalog.reads import PREFIXES
from publisher.store.catalog.values import ChangeNote, HistoryEntry


def history_triples(
    iris: Iris,
    *,
    kind: str,
    agent: str,
    moment: datetime,
    version: str,
    releases: Iterable[str] = (),
    text: str | None = None,
    summary: str = "",
    entry: str | None = None,
) -> list[str]:
    """One change in the history graph as N-Triples lines (records.change)."""
    return records.lines(
        records.change(
            iris,
            kind=kind,
            agent=agent,
            moment=moment,
            version=version,
            releases=releases,
            text=text,
            summary=summary,
            entry=entry,
        )
    )


def release_history(
    iris: Iris,
    agent: str,
    moment: datetime,
    version: str,
    notes: dict[str, ChangeNote],
) -> list[str]:
    """A change per release of a write, each named after its slug."""
    lines: list[str] = []
    for slug, note in notes.items():
        lines += history_triples(
            iris,
            kind=note.kind,
            agent=agent,
            moment=moment,
            version=version,
            releases=[slug],
            summary=note.summary,
            entry=slug,
        )
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
