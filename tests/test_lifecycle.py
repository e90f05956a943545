"""The release calendar's rules for a change (publisher/lifecycle.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from publisher.errors import LifecycleError
from publisher.lifecycle import check_change, check_rename
from publisher.model import DateChange, Release, Status

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DAY = datetime(2027, 1, 20, 7, 0, tzinfo=UTC)
LATER = datetime(2027, 2, 3, 7, 0, tzinfo=UTC)


def _release(**fields: object) -> Release:
    base = Release(slug="gdp-q4", title="GDP, Q4", status=Status.CONFIRMED)
    return dataclasses.replace(base, **{"release_date": DAY, **fields})  # type: ignore[arg-type]


def test_a_new_release_is_created() -> None:
    change = check_change(None, _release(), NOW)
    assert change.kind == "created"
    assert change.release == _release()


def test_moving_a_confirmed_date_needs_a_reason() -> None:
    with pytest.raises(LifecycleError) as caught:
        check_change(_release(), _release(release_date=LATER), NOW)
    message = str(caught.value)
    assert "needs a reason" in message
    assert '"previous_date": "2027-01-20T07:00:00+00:00"' in message
    no_reason = DateChange(previous_date=DAY)
    with pytest.raises(LifecycleError):
        check_change(
            _release(), _release(release_date=LATER, date_changes=(no_reason,)), NOW
        )


def test_a_date_change_is_recorded_with_the_new_date_and_when() -> None:
    new = _release(
        status=Status.POSTPONED,
        release_date=LATER,
        date_changes=(DateChange(previous_date=DAY, reason="Late survey returns"),),
    )
    change = check_change(_release(), new, NOW)
    (recorded,) = change.release.date_changes
    assert recorded == DateChange(
        previous_date=DAY, reason="Late survey returns", changed_at=NOW, new_date=LATER
    )
    assert change.kind == "postponed"
    assert "release date: 2027-01-20T07:00:00+00:00 -> 2027-02-03" in change.summary
    assert "Late survey returns" in change.summary


def test_the_same_instant_in_another_zone_is_no_change() -> None:
    from zoneinfo import ZoneInfo

    london = DAY.astimezone(ZoneInfo("Europe/London"))
    change = check_change(_release(), _release(release_date=london), NOW)
    assert change.release.date_changes == ()


def test_recorded_date_changes_are_never_lost() -> None:
    earlier = DateChange(previous_date=date(2027, 1, 6), reason="Moved once")
    old = _release(date_changes=(earlier,))
    change = check_change(old, _release(summary="Now with a summary."), NOW)
    assert change.release.date_changes == (earlier,)  # kept although not sent
    assert change.kind == "updated"
    assert change.summary == "changed: summary"


def test_a_published_release_does_not_become_upcoming() -> None:
    published = _release(status=Status.PUBLISHED)
    for status in (Status.PROVISIONAL, Status.CONFIRMED, Status.POSTPONED):
        with pytest.raises(LifecycleError, match="cannot become"):
            check_change(published, _release(status=status), NOW)
    # a correction of the published release is fine
    fixed = check_change(published, _release(status=Status.PUBLISHED, title="GDP"), NOW)
    assert fixed.kind == "updated"


def test_cancelling_needs_a_notice() -> None:
    with pytest.raises(LifecycleError, match="cancellation_notice"):
        check_change(_release(), _release(status=Status.CANCELLED), NOW)
    with pytest.raises(LifecycleError, match="needs a notice"):
        check_change(
            _release(status=Status.CANCELLED, cancellation_notice="Suspended."),
            _release(status=Status.CANCELLED),
            NOW,
        )
    # first sent as cancelled (an old calendar brought in): the shapes warn
    assert check_change(None, _release(status=Status.CANCELLED), NOW).kind == "created"
    done = check_change(
        _release(),
        _release(status=Status.CANCELLED, cancellation_notice="Survey suspended."),
        NOW,
    )
    assert done.kind == "cancelled"


def test_renaming_keeps_the_old_slug_and_refuses_a_taken_one() -> None:
    renamed = check_rename("gdp-q4", _release(slug="gdp-quarter-4"), taken=False)
    assert renamed.former_slugs == ("gdp-q4",)
    with pytest.raises(LifecycleError, match="a release with that id exists"):
        check_rename("gdp-q4", _release(slug="gdp-quarter-4"), taken=True)
