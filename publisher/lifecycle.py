"""The rules of a release calendar that apply to a change, not to one record.

The shapes (shapes/) say what a release must be; these say how a release may
change from what is published now (issue 6, "Lifecycle rules"). Each refusal is a
:class:`LifecycleError` (HTTP 409) whose message says what to do instead:

- a confirmed date changes only with a reason, recorded as a date change
  (previous date, new date, reason, when); recorded date changes are never lost;
- a published release never becomes upcoming (provisional, confirmed, postponed)
  again;
- cancelling a release needs a notice (a release first sent as cancelled only
  gets the shapes' warning, as an import does);
- a release's slug changes only to one that is free (the old URL then redirects).

Pure functions: the publishing service (publisher.publishing) gives them the
release as stored and as sent, and publishes what they return.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

from publisher.errors import LifecycleError
from publisher.model import UPCOMING_STATUSES, DateChange, Release, Status

NO_CHANGE = "no visible change"
#: statuses whose release date was announced as confirmed
CONFIRMED = (Status.CONFIRMED, Status.POSTPONED)


@dataclasses.dataclass(frozen=True)
class Change:
    """What a write does to a release: the release to publish and, for the
    history, a kind and a summary."""

    release: Release
    kind: str
    summary: str


def _instant(value: datetime | date | None) -> datetime | date | None:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _same(a: datetime | date | None, b: datetime | date | None) -> bool:
    return _instant(a) == _instant(b)


def _text(value: datetime | date | None) -> str:
    return "none" if value is None else value.isoformat()


def check_change(
    old: Release | None, new: Release, moment: datetime | None = None
) -> Change:
    """``new`` as it may be published over ``old`` (None: a new release), or a
    LifecycleError that says what to do."""
    moment = moment or datetime.now(UTC)
    slug = new.slug
    if old is None:
        # a release first published as cancelled (an older calendar brought in)
        # is not a cancellation: the shapes warn if it has no notice
        return Change(new, "created", f"created ({_status(new)})")
    if new.status is Status.CANCELLED and not new.cancellation_notice:
        raise LifecycleError(
            slug,
            "cancelling a release needs a notice that says why: add "
            '"cancellation_notice" to the record',
        )
    if old.status is Status.PUBLISHED and new.status in UPCOMING_STATUSES:
        raise LifecycleError(
            slug,
            f"a published release cannot become {_status(new)} again; correct it "
            "by sending it as published, or announce the next edition under a new "
            "id",
        )
    changes = _merge_date_changes(old, new, moment)
    release = dataclasses.replace(new, date_changes=changes)
    return Change(release, _kind(old, release), _summary(old, release))


def _merge_date_changes(
    old: Release, new: Release, moment: datetime
) -> tuple[DateChange, ...]:
    """Recorded changes kept; a moved confirmed date needs a new one, with a reason."""
    kept = list(old.date_changes)
    fresh = [
        c
        for c in new.date_changes
        if not any(_same(c.previous_date, k.previous_date) for k in kept)
    ]
    moved = (
        old.status in CONFIRMED
        and old.release_date is not None
        and not _same(old.release_date, new.release_date)
    )
    if moved:
        assert old.release_date is not None  # noqa: S101 - moved says so
        matching = [c for c in fresh if _same(c.previous_date, old.release_date)]
        if not matching or not matching[0].reason:
            raise LifecycleError(
                new.slug,
                f"changing the confirmed date from {_text(old.release_date)} to "
                f"{_text(new.release_date)} needs a reason: add "
                f'{{"previous_date": "{_text(old.release_date)}", "reason": "..."}} '
                "to date_changes (the Code of Practice requires the change and its "
                "reason to be public)",
            )
    out = list(kept)
    for change in fresh:
        if moved and _same(change.previous_date, old.release_date):
            change = dataclasses.replace(
                change,
                new_date=change.new_date or new.release_date,
                changed_at=change.changed_at or moment.replace(microsecond=0),
            )
        out.append(change)
    return tuple(out)


def _status(release: Release) -> str:
    return release.status.value if release.status else "no status"


def _kind(old: Release, new: Release) -> str:
    if old.status is not new.status and new.status is not None:
        return new.status.value
    if len(new.date_changes) > len(old.date_changes):
        return "date-changed"
    return "updated"


#: fields a summary names when they change (status, dates and the slug are told
#: apart; the source is where a record came from, not what it says)
_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(Release)
    if f.name
    not in ("slug", "status", "release_date", "date_changes", "former_slugs", "source")
)


def _summary(old: Release, new: Release) -> str:
    """What changed, for people: ``status: confirmed -> published; summary``."""
    parts = []
    if old.status is not new.status:
        parts.append(f"status: {_status(old)} -> {_status(new)}")
    if not _same(old.release_date, new.release_date):
        added = new.date_changes[len(old.date_changes) :]
        reason = f" ({added[-1].reason})" if added and added[-1].reason else ""
        parts.append(
            f"release date: {_text(old.release_date)} -> "
            f"{_text(new.release_date)}{reason}"
        )
    fields = [f for f in _FIELDS if getattr(old, f) != getattr(new, f)]
    if fields:
        parts.append("changed: " + ", ".join(fields))
    if old.slug != new.slug:
        parts.append(f"renamed from {old.slug}")
    return "; ".join(parts) or NO_CHANGE


def check_rename(old_slug: str, new: Release, taken: bool) -> Release:
    """``new`` renamed from ``old_slug``: the old slug recorded as a former one."""
    if taken:
        raise LifecycleError(
            old_slug,
            f"cannot rename to {new.slug!r}: a release with that id exists; choose "
            "another id, or delete that release first",
        )
    former = tuple(dict.fromkeys((*new.former_slugs, old_slug)))
    return dataclasses.replace(new, former_slugs=former)
