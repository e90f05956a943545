"""Scheduled publication: what the schedule holds goes public at its minute.

A published version sent ahead of its time waits in the schedule
(publisher.store.schedule), outside the store. The scheduler's thread sleeps until
the next publication time (or a minute, or until the schedule changes) and then
publishes everything due, in one write, through the publishing service's one path
for writes, each release as the token that scheduled it (publisher.publishing).
``publisher serve`` runs it.

It reports through :mod:`logging`, logger ``publisher.scheduler``: each release it
publishes (INFO), and each one it cannot (ERROR; that entry is dropped, so a broken
one does not repeat). With no logging configured, errors go to stderr.

Work ahead of the minute (issue 12): ``PREPARE_AHEAD`` seconds before a
publication time the scheduler converts and validates what is due then and makes
its API records (``PublishingService.make_ahead``), in memory and a private
temporary folder of this process, outside the write lock. At the minute, if the
schedule still holds exactly those entries, only the store's transaction and the
index's rows are left to do; anything changed since (an entry replaced,
withdrawn or added) is made again then, as without the work ahead.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from publisher.errors import PublisherError
from publisher.model import Release
from publisher.publishing import PublishingService
from publisher.store.schedule import Scheduled
from publisher.write_values import Ahead

logger = logging.getLogger("publisher.scheduler")

#: seconds before a publication time when what is due then is made ready
PREPARE_AHEAD = 30.0


class Scheduler:
    """Publishes ``publishing``'s scheduled releases on time, from a thread."""

    def __init__(self, publishing: PublishingService) -> None:
        self.publishing = publishing
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        #: the entries of the next publication time, and their work made ahead
        self._ahead: tuple[list[Scheduled], Ahead] | None = None
        #: the publication time whose work ahead was tried (once per change of
        #: the schedule)
        self._tried: datetime | None = None
        publishing.on_schedule = self.wake

    def publish_due(self, moment: datetime | None = None) -> list[str]:
        """Publish every scheduled release whose time has come, in one write."""
        published, failed = self._publish_due(moment or datetime.now(UTC))
        for slug, why in failed.items():
            logger.error("scheduled publication of %s failed: %s", slug, why)
        for entry in published:
            logger.info(
                "published %s, scheduled for %s by %s",
                entry.slug,
                entry.publish_at.isoformat(),
                entry.agent,
            )
        return [entry.slug for entry in published]

    def prepare(self, moment: datetime) -> bool:
        """Make ready what is due at ``moment`` (converted, validated, its
        records), for its write; False if nothing is due or it cannot be."""
        entries = self.publishing.schedule.due(moment)
        if self._ahead is not None and self._ahead[0] == entries:
            return True
        self._drop_ahead()
        if not entries:
            return False
        try:
            releases = [self._parse(entry) for entry in entries]
            ahead = self.publishing.make_ahead(releases, moment)
        except PublisherError:  # the minute's write says why, entry by entry
            return False
        if not ahead.batch.outcome.written:
            ahead.batch.close()
            return False
        self._ahead = (entries, ahead)
        return True

    def _drop_ahead(self) -> None:
        if self._ahead is not None:
            self._ahead[1].batch.close()
            self._ahead = None

    def _parse(self, entry: Scheduled) -> Release:
        return self.publishing.parse([entry.record], f"schedule ({entry.slug})")[0]

    def _publish_due(self, moment: datetime) -> tuple[list[Scheduled], dict[str, str]]:
        """Publish every scheduled release due at ``moment``, all in one write.

        One transaction, one data version, one change in the history with an
        entry per release (each by the token that scheduled it), one call of
        each write listener with every slug (issue 12: a minute's releases in
        one write). If that write is refused, each release is tried alone, so
        one broken entry does not hold back the others. Returns the entries
        published and why the others could not be (they are dropped, so they
        do not repeat).
        """
        publishing = self.publishing
        with publishing.lock:
            entries = publishing.schedule.due(moment)
            ahead = None
            if self._ahead is not None and self._ahead[0] == entries:
                ahead = self._ahead[1]
            failed: dict[str, str] = {}
            due: list[tuple[Scheduled, Release]] = []
            for entry in entries:
                try:
                    due.append((entry, self._parse(entry)))
                except PublisherError as exc:
                    failed[entry.slug] = str(exc)
            done = due
            try:
                if due:
                    self._write_due(due, ahead)
            except PublisherError:
                done = []
                for one in due:
                    try:
                        self._write_due([one], None)
                    except PublisherError as exc:
                        failed[one[0].slug] = str(exc)
                    else:
                        done.append(one)
            finally:
                if entries:
                    self._drop_ahead()
            publishing.schedule.remove_many(failed)
        if entries:
            publishing.wake()
        return [entry for entry, _ in done], failed

    def _write_due(
        self, due: list[tuple[Scheduled, Release]], ahead: Ahead | None
    ) -> None:
        """Scheduled releases published in one write, each as its sender."""
        latest = max(entry.publish_at for entry, _ in due)
        self.publishing.write_releases(
            [release for _, release in due],
            {release.slug: entry.agent for entry, release in due},
            max(datetime.now(UTC), latest),
            ahead,
        )

    def start(self) -> None:
        """Publish what is due now, then keep publishing on time, in a thread."""
        if self._thread is not None:
            return
        self.publish_due()
        self._thread = threading.Thread(
            target=self._run, name="publisher-scheduler", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                upcoming = self.publishing.next_publication()
                if upcoming is None:
                    self._wake.wait()
                else:
                    left = (upcoming - datetime.now(UTC)).total_seconds()
                    if self._tried != upcoming:
                        left -= PREPARE_AHEAD  # wake to make it ready first
                    if left > 0:
                        self._wake.wait(min(left, 60.0))
                if self._stopping:
                    return
            try:
                self._next(upcoming)
            except Exception as exc:  # the scheduler must keep going, whatever broke
                logger.error("the scheduler failed: %r", exc)
                time.sleep(1)

    def _next(self, upcoming: datetime | None) -> None:
        """Publish what is due; else, within PREPARE_AHEAD of the next time,
        make it ready."""
        now = datetime.now(UTC)
        if upcoming is not None and upcoming > now:
            if upcoming - now <= timedelta(seconds=PREPARE_AHEAD):
                self._tried = upcoming
                self.prepare(upcoming)
            return
        self.publish_due(now)

    def wake(self) -> None:
        """The schedule changed: the scheduler looks at it again (and makes the
        next minute ready again, if it had)."""
        with self._wake:
            self._tried = None
            self._wake.notify_all()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self._drop_ahead()  # nothing embargoed left behind in a temporary folder
