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
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from publisher.publishing import PublishingService

logger = logging.getLogger("publisher.scheduler")


class Scheduler:
    """Publishes ``publishing``'s scheduled releases on time, from a thread."""

    def __init__(self, publishing: PublishingService) -> None:
        self.publishing = publishing
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        publishing.on_schedule = self.wake

    def publish_due(self, moment: datetime | None = None) -> list[str]:
        """Publish every scheduled release whose time has come, in one write."""
        published, failed = self.publishing.publish_due(moment or datetime.now(UTC))
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
                    if left > 0:
                        self._wake.wait(min(left, 60.0))
                if self._stopping:
                    return
            try:
                self.publish_due()
            except Exception as exc:  # the scheduler must keep going, whatever broke
                logger.error("the scheduler failed: %r", exc)
                time.sleep(1)

    def wake(self) -> None:
        """The schedule changed: the scheduler looks at it again."""
        with self._wake:
            self._wake.notify_all()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
