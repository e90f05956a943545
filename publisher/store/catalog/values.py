"""What the catalogue answers and what its writes return."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from publisher.records import ReleaseEntry

__all__ = [
    "ChangeNote",
    "HistoryEntry",
    "PublishResult",
    "ReleaseEntry",
    "ReleaseState",
    "StoreCounts",
    "Tombstone",
    "content_hash",
]


def content_hash(ntriples: str) -> str:
    return hashlib.sha256(ntriples.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ReleaseState:
    slug: str
    content_hash: str  # the release's ETag
    issued: str | None
    modified: str
    title: str | None = None


@dataclass(frozen=True)
class Tombstone:
    slug: str
    title: str | None
    deleted_at: str
    reason: str


@dataclass
class PublishResult:
    data_version: str | None
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: slug -> the N-Triples written, for the changed releases whose graphs a
    #: publish in one request read from its batch file (the others: absent; a
    #: help for the record cache, not part of what was published, so not compared)
    graphs: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class StoreCounts:
    releases_by_status: dict[str, int]
    releases: int
    tombstones: int
    graphs: int
    triples: int
    data_version: str | None
    base_url: str | None


@dataclass(frozen=True)
class ChangeNote:
    """What a write did to one release, for its history: a kind and, for people,
    a summary (``status: confirmed -> published``), and who made it when not the
    write's agent (a scheduled minute publishes releases sent by several tokens)."""

    kind: str
    summary: str = ""
    agent: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    slug: str
    when: str
    agent: str
    kind: str
    summary: str
