"""Publishing over HTTP, without HTTP: every API write goes through here.

One path for every write (issue 6): records are read by the native importer,
checked against the calendar's rules (publisher.lifecycle) and the release as
stored, validated by the shapes and published by the same pipeline and catalogue
code as ``publisher import`` (publisher.pipeline.import_batch), with one history
change per release. Writes take the site's write lock, one at a time, so a
version checked (``If-Match``) is still the version replaced.

Scheduled publication under embargo: a published version whose publication time
is still ahead is validated now and held in the schedule (publisher.store.schedule),
outside the store, so nothing of it shows anywhere. The scheduler
(publisher.scheduler) publishes it at that minute, through the same path, as the
token that sent it. Any later write to the release (a postponement, a deletion)
withdraws what was scheduled.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from publisher import pipeline
from publisher.config import Settings
from publisher.errors import (
    InputError,
    LifecycleError,
    NotFoundError,
    PreconditionFailedError,
    RejectedError,
)
from publisher.importers._common import Where, check_release_terms
from publisher.importers.native import release_from_record, release_to_record
from publisher.lifecycle import NO_CHANGE, Change, check_change, check_rename
from publisher.model import Release
from publisher.readback import (
    graph_text,
    ntriples_to_release,
    release_from_kept,
    stored_entry,
)
from publisher.store import Store, catalog
from publisher.store.catalog import ChangeNote, ReleaseState, content_hash
from publisher.store.record_cache import Entry, RecordCache
from publisher.store.schedule import ScheduleStore
from publisher.validation import ValidationReport
from publisher.write_values import (
    Ahead,
    Current,
    WriteResult,
    Wrote,
    input_report,
    publication_time,
)


class PublishingService:
    """Writes to one store: create, replace, rename, delete, batches, schedules."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        write_lock: threading.RLock,
        schedule: ScheduleStore,
        on_write: Callable[[Wrote], None] | None = None,
        record_cache: RecordCache | None = None,
    ) -> None:
        """``on_write(wrote)`` hears of every write that moved the data version,
        with the releases it changed (the listing index follows them without a
        full sync). ``record_cache``: the records kept by version
        (publisher.store.record_cache; default one in memory)."""
        self.settings = settings
        self.store = store
        self.schedule = schedule
        self.record_cache = record_cache or RecordCache(":memory:")
        #: held by every write, one at a time (the scheduler holds it from
        #: taking a minute's entries to their write)
        self.lock = write_lock
        #: each hears of every write that moved the data version, in order
        #: (the site's index first; the writer worker adds its checkpoints)
        self.write_listeners: list[Callable[[Wrote], None]]
        self.write_listeners = [on_write] if on_write is not None else []
        #: called whenever the schedule changes (publisher.scheduler sets it)
        self.on_schedule: Callable[[], None] | None = None

    # Reading -----------------------------------------------------------------

    def read(self, slug: str) -> Current | None:
        return self.read_many([slug]).get(slug)

    def read_many(self, slugs: Sequence[str]) -> dict[str, Current]:
        """The live releases among ``slugs`` as published now.

        Their versions come from the catalogue (a lookup each); a release whose
        record is kept at that version (``record_cache``) is read from it, the
        others from their stored graphs (publisher.readback), and kept.
        """
        states = catalog.release_states(self.store, self.settings, slugs)
        kept = self.record_cache.get_with_graphs(
            {s: st.content_hash for s, st in states.items()}
        )
        out: dict[str, Current] = {}
        fresh: list[Entry] = []
        for slug, state in states.items():
            if slug in kept:
                record, graph = kept[slug]
                release = release_from_kept(record, self.settings)
                out[slug] = _current(release, state, graph)
                continue
            text = catalog.release_graph_ntriples(self.store, self.settings, slug)
            if not text:
                continue
            release = ntriples_to_release(text, slug, self.settings)
            # the store writes some literals in a form of its own (a UTC time
            # with Z); the version is the hash of the graph as the mapping
            # writes it, which the release read back gives again
            ours = graph_text(release, self.settings)
            if content_hash(ours) == state.content_hash:
                out[slug] = _current(release, state, ours)
                record = release_to_record(release)
                fresh.append((slug, state.content_hash, record, ours))
            else:  # not the version recorded (another writer's graph)
                out[slug] = _current(release, state)
        self.record_cache.put_many(fresh)
        return out

    def records(self, versions: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """The API records of ``(slug, version)`` pairs (a page of a listing, from
        the listing index), in their order: kept ones from ``record_cache``, the
        others read from the store at once (and kept by the version read)."""
        wanted = dict(versions)
        kept = self.record_cache.get_many(wanted)
        missing = [s for s in wanted if s not in kept]
        if missing:
            # a version names its graph's content: a graph read between two
            # looks that both find the version asked is that version's
            first = catalog.release_states(self.store, self.settings, missing)
            # one direct read a graph (a VALUES join over the graphs was slower)
            graphs = {
                slug: text
                for slug in missing
                if (
                    text := catalog.release_graph_ntriples(
                        self.store, self.settings, slug
                    )
                )
            }
            then = catalog.release_states(self.store, self.settings, missing)
            fresh: list[Entry] = []
            for slug, text in graphs.items():
                release = ntriples_to_release(text, slug, self.settings)
                kept[slug] = release_to_record(release)
                looks = {wanted[slug]} | {
                    st.content_hash for st in (first.get(slug), then.get(slug)) if st
                }
                if len(looks) == 1 and slug in first and slug in then:
                    fresh.append((slug, wanted[slug], kept[slug], None))
            self.record_cache.put_many(fresh)
        return [kept[s] for s in wanted if s in kept]

    # Writing -----------------------------------------------------------------

    def parse(self, records: Sequence[Any], source: str) -> list[Release]:
        """The records as releases, or RejectedError naming the record and field."""
        releases = []
        for n, record in enumerate(records, start=1):
            where = Where(source, n)
            try:
                if not isinstance(record, dict):
                    raise where.error(
                        f"a release is a JSON object, not {type(record).__name__}"
                    )
                releases.append(
                    check_release_terms(
                        release_from_record(record, where, self.settings)
                    )
                )
            except InputError as exc:
                raise RejectedError(str(exc), input_report(exc, len(records))) from None
        seen: dict[str, int] = {}
        for n, release in enumerate(releases, start=1):
            if release.slug in seen:
                repeated = Where(source, n, release.slug).error(
                    f"the id is used by record {seen[release.slug]} too", "id"
                )
                raise RejectedError(str(repeated), input_report(repeated, len(records)))
            seen[release.slug] = n
        return releases

    def write(
        self,
        records: Sequence[Any],
        agent: str,
        *,
        source: str = "request",
        target: str | None = None,
        if_match: str | None = None,
        create_only: bool = False,
        moment: datetime | None = None,
    ) -> WriteResult:
        """Publish (or schedule) releases atomically: all of them, or none.

        ``target``: the id in the URL of a PUT (a different id in the record renames
        the release); ``if_match``: the version the client last saw (412 if it is
        no longer current); ``create_only``: a POST (409 if the id is taken).
        """
        releases = self.parse(records, source)
        with self.lock:
            return self._write(
                releases, agent, target, if_match, create_only, moment or _now()
            )

    def write_releases(
        self,
        releases: list[Release],
        agents: dict[str, str],
        moment: datetime,
        ahead: Ahead | None = None,
    ) -> WriteResult:
        """Publish releases that were scheduled, each as who sent it, in one
        write (the caller holds :attr:`lock`: publisher.scheduler)."""
        first = agents[releases[0].slug]
        return self._write(releases, first, None, None, False, moment, agents, ahead)

    def make_ahead(self, releases: list[Release], moment: datetime) -> Ahead:
        """Convert and validate releases due at ``moment``, as the calendar's
        rules will make them then from what is published now, and make their API
        records, so that their write has only the store's transaction left."""
        currents = self.read_many([r.slug for r in releases])
        changes = _changes(
            releases, {r.slug: currents.get(r.slug) for r in releases}, {}, moment
        )
        ready = [changes[r.slug].release for r in releases]
        batch = pipeline.prepare_batch(ready, self.settings, jobs=1, keep_releases=True)
        records = {r.slug: stored_entry(r, self.settings) for r in ready}
        return Ahead(batch, records)

    def _write(
        self,
        releases: list[Release],
        agent: str,
        target: str | None,
        if_match: str | None,
        create_only: bool,
        moment: datetime,
        agents: dict[str, str] | None = None,
        ahead: Ahead | None = None,
    ) -> WriteResult:
        """The write under the lock; ``agents``: who sent each release, when not
        ``agent`` (a scheduled minute's releases); ``ahead``: those releases
        made ready before (taken if they are exactly what is published now)."""
        olds, renames = self._check_targets(releases, target, if_match, create_only)
        changes = _changes(releases, olds, renames, moment)
        ready = [c.release for c in changes.values()]
        later = {
            r.slug: when
            for r in ready
            if (when := publication_time(r)) is not None and when > moment
        }
        result = WriteResult()
        if later:
            self._check_scheduled([r for r in ready if r.slug in later], renames)
        publish_now = [r for r in ready if r.slug not in later]
        warnings: ValidationReport | None = None
        if publish_now:
            warnings = self._publish(
                publish_now,
                changes,
                renames,
                olds,
                (agent, agents or {}),
                result,
                ahead,
            )
        # any write withdraws what was scheduled for the release before it
        self.schedule.remove_many([*(r.slug for r in ready), *renames])
        for release in ready:
            if release.slug in later:
                self.schedule.put(
                    release.slug, later[release.slug], release_to_record(release), agent
                )
                result.scheduled[release.slug] = later[release.slug]
        # what was published now has the hash just computed; ask the store only
        # for the versions of releases held in the schedule
        held = [r.slug for r in ready if r.slug not in result.content_hashes]
        states = catalog.release_states(self.store, self.settings, held)
        result.content_hashes.update({s: st.content_hash for s, st in states.items()})
        if warnings is not None and warnings.results:
            result.report = warnings.to_json()
        self.wake()
        return result

    def _check_targets(
        self,
        releases: list[Release],
        target: str | None,
        if_match: str | None,
        create_only: bool,
    ) -> tuple[dict[str, Current | None], dict[str, str]]:
        """Each release as stored now (by its new slug) and the renames, once the
        version, the id and a rename are as the request says (else an error)."""
        renames: dict[str, str] = {}
        olds: dict[str, Current | None] = {}
        keys = [target if target is not None else r.slug for r in releases]
        currents = self.read_many(keys)
        for i, release in enumerate(releases):
            key = keys[i]
            current = currents.get(key)
            if (
                target is not None
                and if_match is not None
                and (current is None or current.content_hash != if_match)
            ):
                raise PreconditionFailedError(
                    f"{key} has changed since version {if_match}"
                    + (f" (now {current.content_hash})" if current else " (it is gone)")
                    + ": fetch it again, apply your change, and send it with "
                    "the new ETag"
                )
            if create_only and self.schedule.get(release.slug) is not None:
                raise LifecycleError(
                    release.slug,
                    "a published version of this id is scheduled already; replace it "
                    f"with PUT /api/releases/{release.slug}, or withdraw it with "
                    f"DELETE /api/releases/{release.slug}/scheduled",
                )
            if create_only and current is not None:
                raise LifecycleError(
                    release.slug,
                    f"a release with this id exists; replace it with PUT "
                    f"/api/releases/{release.slug} (with If-Match)",
                )
            if target is not None and release.slug != target:
                if current is None:
                    raise NotFoundError(f"no release {target!r} to rename")
                taken = self.read(release.slug) is not None
                releases[i] = check_rename(target, release, taken)
                renames[target] = release.slug
            olds[releases[i].slug] = current
        return olds, renames

    def _check_scheduled(self, held: list[Release], renames: dict[str, str]) -> None:
        """Releases to hold until their time are validated now (a 422 now)."""
        if renames and any(renames.get(t) in {r.slug for r in held} for t in renames):
            raise LifecycleError(
                held[0].slug,
                "a release cannot be renamed and scheduled in one request: "
                "rename it first, then schedule the published version",
            )
        outcome = pipeline.run_batch_text(held, self.settings, "ntriples", jobs=1)
        if not outcome.written:
            raise RejectedError(
                "the scheduled release violates the shapes",
                outcome.report.to_json(),
            )

    def _publish(
        self,
        releases: list[Release],
        changes: dict[str, Change],
        renames: dict[str, str],
        olds: dict[str, Current | None],
        agents: tuple[str, dict[str, str]],
        result: WriteResult,
        ahead: Ahead | None = None,
    ) -> ValidationReport:
        """Publish ``releases`` now, into ``result``; the report's warnings.

        ``agents``: the write's agent, and who sent each release if another.
        """
        if ahead is not None and ahead.batch.releases != releases:
            ahead = None  # not what was made ready: made again now
        agent, senders = agents
        before = catalog.data_version(self.store, self.settings)
        notes = {
            r.slug: ChangeNote(
                changes[r.slug].kind, changes[r.slug].summary, senders.get(r.slug)
            )
            for r in releases
        }
        options: dict[str, Any] = {
            "agent": agent,
            "notes": notes,
            "renames": renames,
            "graphs_before": self._graphs_before(releases, olds, renames),
        }
        if ahead is not None:  # converted and validated already
            imported = pipeline.publish_prepared(
                ahead.batch, self.store, self.settings, **options
            )
        else:
            imported = pipeline.import_batch(
                releases, self.settings, self.store, jobs=1, **options
            )
        if imported.published is None:
            raise RejectedError(
                "the release violates the shapes"
                if len(releases) == 1
                else "releases violate the shapes; nothing was published",
                imported.batch.report.to_json(),
            )
        result.published = imported.published.changed
        result.unchanged = imported.published.unchanged
        result.data_version = imported.published.data_version
        result.created = [s for s in result.published if olds.get(s) is None]
        result.content_hashes = dict(imported.batch.hashes)
        by_slug = {r.slug: r for r in releases}
        self.record_cache.forget(list(renames))
        written = imported.published.graphs
        made = ahead.records if ahead is not None else {}
        self.record_cache.put_many(
            (
                s,
                result.content_hashes[s],
                *(
                    made.get(s)
                    or stored_entry(by_slug[s], self.settings, written.get(s))
                ),
            )
            for s in result.published
        )
        if result.published:
            known = imported.batch.known
            self._wrote(
                Wrote(
                    before,
                    result.data_version,
                    [*result.published, *renames],
                    {s: known[s] for s in result.published if s in known},
                )
            )
        return imported.batch.report

    def _graphs_before(
        self,
        releases: list[Release],
        olds: dict[str, Current | None],
        renames: dict[str, str],
    ) -> dict[str, str]:
        """The stored graphs of the releases a write replaces, as N-Triples, each
        checked against its version (so the store changes only what differs)."""
        out: dict[str, str] = {}
        renamed = set(renames.values())
        for release in releases:
            old = olds.get(release.slug)
            if old is None or release.slug in renamed:
                continue
            text = old.graph or graph_text(old.release, self.settings)
            if content_hash(text) == old.content_hash:
                out[release.slug] = text
        return out

    def delete(
        self, slug: str, reason: str, agent: str, if_match: str | None = None
    ) -> str | None:
        """Delete a release, leaving its tombstone; the new data version."""
        if not reason.strip():
            raise LifecycleError(
                slug,
                "deleting a release needs a reason, shown to people who follow an "
                'old link: send ?reason=... (or a JSON body {"reason": "..."})',
            )
        with self.lock:
            current = catalog.release_states(self.store, self.settings, [slug]).get(
                slug
            )
            if current is None:
                raise NotFoundError(f"no release {slug!r}")
            if if_match is not None and current.content_hash != if_match:
                raise PreconditionFailedError(
                    f"{slug} has changed since version {if_match} (now "
                    f"{current.content_hash}): fetch it again before deleting it"
                )
            before = catalog.data_version(self.store, self.settings)
            result = catalog.delete(
                self.store, [slug], reason, self.settings, agent=agent
            )
            self.schedule.remove(slug)
            self.record_cache.forget([slug])
            self._wrote(Wrote(before, result.data_version, [slug]))
        self.wake()
        return result.data_version

    def withdraw(self, slug: str) -> bool:
        """Cancel a scheduled publication (the release as published stays)."""
        with self.lock:
            done = self.schedule.remove(slug)
        self.wake()
        return done

    def wake(self) -> None:
        """The schedule changed: whoever publishes it (``on_schedule``) is told."""
        if self.on_schedule is not None:
            self.on_schedule()

    def _wrote(self, wrote: Wrote) -> None:
        for listener in self.write_listeners:
            listener(wrote)

    def next_publication(self) -> datetime | None:
        """The next scheduled publication time (held in memory: every response
        asks)."""
        return self.schedule.next_time()


def _changes(
    releases: list[Release],
    olds: dict[str, Current | None],
    renames: dict[str, str],
    moment: datetime,
) -> dict[str, Change]:
    """What the write does to each release, by the calendar's rules."""
    changes = {
        r.slug: check_change(_renamed(olds[r.slug], r.slug), r, moment)
        for r in releases
    }
    for old_slug, new_slug in renames.items():
        change = changes[new_slug]
        rest = "" if change.summary == NO_CHANGE else f"; {change.summary}"
        changes[new_slug] = dataclasses.replace(
            change, kind="renamed", summary=f"renamed from {old_slug}{rest}"
        )
    return changes


def _renamed(current: Current | None, slug: str) -> Release | None:
    """The stored release under its new id, so a rename is compared field by field."""
    if current is None:
        return None
    return dataclasses.replace(current.release, slug=slug)


def _now() -> datetime:
    return datetime.now(UTC)


def _current(
    release: Release, state: ReleaseState, graph: str | None = None
) -> Current:
    return Current(release, state.content_hash, state.issued, state.modified, graph)
