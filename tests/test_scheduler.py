"""A scheduled minute's releases made ready ahead of it (publisher.scheduler):
converted, validated and their records made before the minute, so that only the
store's transaction is left for it; nothing of them shows before it, and an
entry changed after the work ahead is published as changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from publisher import pipeline
from publisher.config import Settings
from publisher.model import Release
from publisher.scheduler import Scheduler

from .apps import PUBLISH_TOKEN, AppFactory

AUTH = {"Authorization": f"Bearer {PUBLISH_TOKEN}"}
SLUGS = [f"made-ahead-{n}" for n in range(3)]


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


def _record(slug: str, at: datetime, summary: str) -> dict[str, Any]:
    return {
        "id": slug,
        "title": f"Made ahead {slug}",
        "status": "published",
        "release_date": at.isoformat(),
        "summary": summary,
    }


def _schedule(client: FlaskClient, at: datetime, summary: str) -> None:
    """Confirmed releases announced for ``at``, then their published versions
    sent under embargo (as a statistics office does)."""
    confirmed = [
        {**_record(s, at, "Announced for the minute."), "status": "confirmed"}
        for s in SLUGS
    ]
    announced = client.post("/api/batches", json=confirmed, headers=AUTH)
    assert announced.status_code == 200, announced.json
    reply = client.post(
        "/api/batches",
        json=[_record(s, at, summary) for s in SLUGS],
        headers=AUTH,
    )
    assert reply.status_code == 200, reply.json
    assert sorted(reply.json["scheduled"]) == SLUGS


def _made_ready(
    app: Flask, client: FlaskClient, summary: str
) -> tuple[Scheduler, datetime]:
    """Releases scheduled two hours ahead, and their minute made ready."""
    scheduler: Scheduler = app.extensions["publisher.scheduler"]
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    _schedule(client, at, summary)
    assert scheduler.prepare(at)
    return scheduler, at


def _no_conversion_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, a write that converts and validates its releases fails."""

    def refused(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("converted and validated at the minute")

    monkeypatch.setattr(pipeline, "import_batch", refused)
    monkeypatch.setattr(pipeline, "prepare_batch", refused)


def test_the_minutes_write_takes_what_was_made_ready(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduler, at = _made_ready(
        app, client, "Figures for the quarter, published at the minute."
    )
    # made ready, and still under embargo: nothing of it shows
    for slug in SLUGS:
        page = client.get(f"/releases/{slug}")
        assert "Announced for the minute" in page.text
        assert "published at the minute" not in page.text
        record = client.get(f"/api/releases/{slug}").json
        assert record is not None and record["status"] == "confirmed"
    _no_conversion_now(monkeypatch)
    assert sorted(scheduler.publish_due(at)) == SLUGS
    for slug in SLUGS:
        page = client.get(f"/releases/{slug}")
        assert page.status_code == 200
        assert "published at the minute" in page.text
        record = client.get(f"/api/releases/{slug}").json
        assert record is not None and record["status"] == "published"
    # the listing index has them, from the rows the write had
    listed = client.get("/api/releases?q=made+ahead").json
    assert listed is not None
    assert sorted(r["id"] for r in listed["releases"]) == SLUGS


def test_an_entry_replaced_after_the_work_ahead_is_published_as_replaced(
    app: Flask, client: FlaskClient
) -> None:
    scheduler, at = _made_ready(app, client, "The first wording.")
    replaced = client.put(
        f"/api/releases/{SLUGS[1]}",
        json=_record(SLUGS[1], at, "The wording as corrected before the minute."),
        headers=AUTH,
    )
    assert replaced.status_code == 202, replaced.json
    assert sorted(scheduler.publish_due(at)) == SLUGS
    assert "corrected before the minute" in client.get(f"/releases/{SLUGS[1]}").text
    assert "The first wording" in client.get(f"/releases/{SLUGS[0]}").text


def test_an_entry_withdrawn_after_the_work_ahead_is_not_published(
    app: Flask, client: FlaskClient
) -> None:
    scheduler, at = _made_ready(app, client, "Due at the minute.")
    withdrawn = client.delete(f"/api/releases/{SLUGS[2]}/scheduled", headers=AUTH)
    assert withdrawn.status_code in (200, 204), withdrawn.data
    assert sorted(scheduler.publish_due(at)) == SLUGS[:2]
    record = client.get(f"/api/releases/{SLUGS[2]}").json
    assert record is not None and record["status"] == "confirmed"


def test_nothing_due_is_nothing_to_make_ready(app: Flask) -> None:
    scheduler: Scheduler = app.extensions["publisher.scheduler"]
    assert not scheduler.prepare(datetime.now(UTC) + timedelta(hours=2))


def test_what_was_made_ready_is_removed_when_the_scheduler_stops(
    app: Flask, client: FlaskClient
) -> None:
    scheduler, _at = _made_ready(app, client, "Embargoed until the minute.")
    folder = Path(scheduler._ahead[1].batch.folder.name)  # type: ignore[index]
    assert folder.is_dir()
    scheduler.stop()
    assert not folder.exists()


def test_only_a_batch_made_ahead_holds_its_releases(
    sample_releases: list[Release], settings: Settings
) -> None:
    """An import streams its releases through; a minute made ahead keeps them, to
    be checked against what is due when the minute comes."""
    releases = sample_releases[:3]
    with pipeline.prepare_batch(releases, settings, jobs=1) as streamed:
        assert streamed.outcome.written and streamed.releases == []
    with pipeline.prepare_batch(
        releases, settings, jobs=1, keep_releases=True
    ) as ahead:
        assert ahead.outcome.written and ahead.releases == releases
