"""The publishing API through Flask's test client: reads, writes with tokens,
the rules, history on pages and feeds, renames, and scheduling under embargo with
the scheduler driven by hand (over real HTTP and real time: test_api_e2e.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from publisher.config import Settings
from publisher.model import Release
from publisher.namespaces import Iris
from publisher.publishing import PublishingService
from publisher.scheduler import Scheduler
from publisher.write_values import Wrote

from .apps import PUBLISH_TOKEN, AppFactory
from .publisher_server import ADMIN_TOKEN

ADMIN = ADMIN_TOKEN
PUBLISH = PUBLISH_TOKEN
CONFIRMED = "business-enterprise-rd-expenditure-provisional-uk-2025"
PUBLISHED = "labour-market-overview-uk-september-2026"


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The sample, the test tokens: a fresh app for each test (they write)."""
    return make_app()


def _auth(token: str = PUBLISH) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _get(client: FlaskClient, slug: str) -> tuple[dict[str, Any], str]:
    reply = client.get(f"/api/releases/{slug}")
    assert reply.status_code == 200, reply.json
    return reply.json, reply.headers["ETag"].strip('"')  # type: ignore[return-value]


def test_list_filters_and_pages(
    client: FlaskClient, sample_releases: list[Release]
) -> None:
    everything = client.get("/api/releases").json
    assert everything["total"] == 52
    assert len(everything["releases"]) == 20
    assert everything["next"].endswith("page=2")
    last = client.get("/api/releases?page=3").json
    assert last["next"] is None and len(last["releases"]) == 12
    cancelled = client.get("/api/releases?view=cancelled").json
    expected = {
        r.slug for r in sample_releases if r.status and r.status.value == "cancelled"
    }
    assert {r["id"] for r in cancelled["releases"]} == expected
    assert all("cancellation_notice" in r for r in cancelled["releases"])
    assert client.get("/api/releases?view=nope").status_code == 400
    assert client.get("/api/releases?page=x").status_code == 400
    assert client.get("/api/releases?from=31/01/2027").status_code == 400


def test_a_page_of_the_list_is_kept_until_a_write(app: Flask) -> None:
    client = app.test_client()
    site = app.extensions["publisher"]
    before = site.renderings.figures.misses
    first = client.get("/api/releases?view=all&page=2")
    misses = site.renderings.figures.misses
    assert misses == before + 1  # made once, and kept
    again = client.get("/api/releases?view=all&page=2")
    assert again.get_data() == first.get_data()
    assert site.renderings.figures.misses == misses  # a lookup: nothing made
    assert again.headers["Cache-Control"] == "no-cache"
    tag = again.headers["ETag"]
    assert (
        client.get("/api/releases?view=all&page=2", headers={"If-None-Match": tag})
    ).status_code == 304
    # a write shows on the next read of the list
    record, etag = _get(client, CONFIRMED)
    listed = client.get("/api/releases?view=upcoming").json["releases"]
    assert any(r["id"] == CONFIRMED for r in listed)
    record["title"] = "A title changed while its list was kept"
    reply = client.put(
        f"/api/releases/{CONFIRMED}",
        json=record,
        headers={**_auth(), "If-Match": f'"{etag}"'},
    )
    assert reply.status_code == 200, reply.json
    listed = client.get("/api/releases?view=upcoming").json["releases"]
    titles = {r["id"]: r["title"] for r in listed}
    assert titles[CONFIRMED] == "A title changed while its list was kept"


def test_a_release_reads_back_as_it_was_imported(
    client: FlaskClient, sample_releases: list[Release]
) -> None:
    from publisher.importers._common import Where
    from publisher.importers.native import release_from_record

    record, etag = _get(client, PUBLISHED)
    original = next(r for r in sample_releases if r.slug == PUBLISHED)
    back = release_from_record(record, Where("api", 1), Settings())
    assert back.title == original.title and back.datasets == original.datasets
    again = client.get(
        f"/api/releases/{PUBLISHED}", headers={"If-None-Match": f'"{etag}"'}
    )
    assert again.status_code == 304
    block = client.get(f"/api/releases/{PUBLISHED}/jsonld")
    assert block.mimetype == "application/ld+json"
    assert block.json["@context"] == "https://schema.org"


def test_writes_need_a_token(client: FlaskClient) -> None:
    record, _ = _get(client, CONFIRMED)
    missing = client.put(f"/api/releases/{CONFIRMED}", json=record)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.put(f"/api/releases/{CONFIRMED}", json=record, headers=_auth("nope"))
    assert wrong.status_code == 403
    text = client.put(
        f"/api/releases/{CONFIRMED}",
        data="{}",
        headers={**_auth(), "Content-Type": "text/plain"},
    )
    assert text.status_code == 415
    broken = client.put(
        f"/api/releases/{CONFIRMED}",
        data="{",
        headers={**_auth(), "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json["error"]["message"]


def test_history_of_a_write_on_the_page_and_in_the_feeds(client: FlaskClient) -> None:
    record, etag = _get(client, CONFIRMED)
    record["summary"] += " Now with regional figures."
    reply = client.put(
        f"/api/releases/{CONFIRMED}",
        json=record,
        headers={**_auth(), "If-Match": f'"{etag}"'},
    )
    assert reply.status_code == 200, reply.json
    assert reply.json["published"] == [CONFIRMED]
    assert reply.headers["ETag"] != f'"{etag}"'
    page = client.get(f"/releases/{CONFIRMED}").get_data(as_text=True)
    assert "Changes to this release" in page
    assert "changed: summary" in page and "pipeline" in page
    changes = client.get("/feeds/changes.atom").get_data(as_text=True)
    assert "<name>pipeline</name>" in changes and CONFIRMED in changes
    releases = client.get("/feeds/releases.atom").get_data(as_text=True)
    assert "<name>pipeline</name>" in releases


def test_a_date_change_through_the_api(client: FlaskClient) -> None:
    record, etag = _get(client, CONFIRMED)
    old_date = record["release_date"]
    moved = {
        **record,
        "release_date": "2027-03-04T09:30:00+00:00",
        "status": "postponed",
    }
    refused = client.put(f"/api/releases/{CONFIRMED}", json=moved, headers=_auth())
    assert refused.status_code == 409
    assert "needs a reason" in refused.json["error"]["message"]
    assert _get(client, CONFIRMED)[1] == etag  # nothing changed
    moved["date_changes"] = [{"previous_date": old_date, "reason": "Late survey data"}]
    done = client.put(f"/api/releases/{CONFIRMED}", json=moved, headers=_auth())
    assert done.status_code == 200, done.json
    (change,) = done.json["release"]["date_changes"]
    assert change["new_date"] == "2027-03-04T09:30:00+00:00"
    assert change["reason"] == "Late survey data" and change["changed_at"]


def test_rename_redirects_the_old_urls(client: FlaskClient) -> None:
    record, etag = _get(client, PUBLISHED)
    renamed = {**record, "id": "labour-market-overview-september-2026"}
    reply = client.put(
        f"/api/releases/{PUBLISHED}",
        json=renamed,
        headers={**_auth(), "If-Match": f'"{etag}"'},
    )
    assert reply.status_code == 201, reply.json
    assert reply.json["release"]["former_ids"] == [PUBLISHED]
    page = client.get(f"/releases/{PUBLISHED}")
    assert page.status_code == 308
    assert page.headers["Location"].endswith(
        "/releases/labour-market-overview-september-2026"
    )
    data = client.get(f"/releases/{PUBLISHED}.ttl")
    assert data.headers["Location"].endswith(
        "/releases/labour-market-overview-september-2026.ttl"
    )
    api = client.get(f"/api/releases/{PUBLISHED}")
    assert api.status_code == 308
    assert "labour-market-overview-september-2026" in (
        client.get("/sitemap.xml").get_data(as_text=True)
    )
    assert PUBLISHED not in client.get("/sitemap.xml").get_data(as_text=True)


def test_scheduled_publication_stays_hidden_until_its_minute(
    app: Flask, client: FlaskClient
) -> None:
    scheduler: Scheduler = app.extensions["publisher.scheduler"]
    record, etag = _get(client, CONFIRMED)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    embargoed = "Embargoed figures: R&D spending rose by 7.5%."
    published = {
        **record,
        "status": "published",
        "release_date": at.isoformat(),
        "summary": embargoed,
        "date_changes": [
            {"previous_date": record["release_date"], "reason": "Brought forward"}
        ],
    }
    reply = client.put(f"/api/releases/{CONFIRMED}", json=published, headers=_auth())
    assert reply.status_code == 202, reply.json
    assert reply.json["scheduled"] == {CONFIRMED: at.isoformat()}
    for path in (
        f"/releases/{CONFIRMED}",
        f"/releases/{CONFIRMED}.ttl",
        f"/api/releases/{CONFIRMED}",
        f"/api/releases/{CONFIRMED}/jsonld",
        "/feeds/releases.atom",
        "/feeds/changes.atom",
        "/sitemap.xml",
        "/sparql?query=SELECT+*+WHERE+%7B%3Fs+%3Fp+%3Fo%7D&format=csv",
    ):
        assert "7.5%" not in client.get(path).get_data(as_text=True), path
    assert _get(client, CONFIRMED)[1] == etag
    page = client.get(f"/releases/{CONFIRMED}")
    assert 0 <= page.cache_control.max_age <= 2 * 3600
    held = client.get(f"/api/releases/{CONFIRMED}/scheduled", headers=_auth())
    assert held.json["release"]["summary"] == embargoed
    assert held.json["scheduled_by"] == "pipeline"
    assert client.get(f"/api/releases/{CONFIRMED}/scheduled").status_code == 401
    # the minute comes
    assert scheduler.publish_due(at - timedelta(seconds=1)) == []
    assert scheduler.publish_due(at) == [CONFIRMED]
    record, _ = _get(client, CONFIRMED)
    assert record["status"] == "published" and record["summary"] == embargoed
    assert embargoed.replace("&", "&amp;") in client.get(
        f"/releases/{CONFIRMED}"
    ).get_data(as_text=True)
    assert (
        client.get(f"/api/releases/{CONFIRMED}/scheduled", headers=_auth()).status_code
        == 404
    )


def test_a_later_write_withdraws_the_schedule(app: Flask, client: FlaskClient) -> None:
    publishing: PublishingService = app.extensions["publisher.publishing"]
    record, _ = _get(client, CONFIRMED)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    published = {
        **record,
        "status": "published",
        "release_date": at.isoformat(),
        "date_changes": [
            {"previous_date": record["release_date"], "reason": "Earlier"}
        ],
    }
    assert (
        client.put(
            f"/api/releases/{CONFIRMED}", json=published, headers=_auth()
        ).status_code
        == 202
    )
    later = {
        **record,
        "status": "postponed",
        "release_date": "2027-05-01T09:30:00+01:00",
        "date_changes": [
            {"previous_date": record["release_date"], "reason": "Data late"}
        ],
    }
    assert (
        client.put(
            f"/api/releases/{CONFIRMED}", json=later, headers=_auth()
        ).status_code
        == 200
    )
    assert publishing.schedule.get(CONFIRMED) is None
    assert (
        app.extensions["publisher.scheduler"].publish_due(at + timedelta(seconds=1))
        == []
    )
    assert _get(client, CONFIRMED)[0]["status"] == "postponed"


def test_batches_are_all_or_nothing(client: FlaskClient) -> None:
    good = {
        "id": "batch-release-one",
        "title": "Batch release one",
        "status": "provisional",
        "provisional_date": "April 2027",
        "summary": "A provisional release sent in a batch through the publishing API.",
    }
    bad = {
        **good,
        "id": "batch-release-two",
        "status": "confirmed",
        "provisional_date": None,
    }
    refused = client.post(
        "/api/batches", json={"releases": [good, bad]}, headers=_auth()
    )
    assert refused.status_code == 422
    (record,) = refused.json["report"]["records"]
    assert record["id"] == "batch-release-two" and record["record"] == 2
    assert record["results"][0]["field"] == "release_date"
    assert client.get("/api/releases/batch-release-one").status_code == 404
    done = client.post("/api/batches", json={"releases": [good]}, headers=_auth())
    assert done.status_code == 200
    assert done.json["published"] == ["batch-release-one"]
    again = client.post("/api/batches", json=[good], headers=_auth())
    assert again.json["unchanged"] == ["batch-release-one"]


def test_openapi_and_its_page(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    assert "/api/releases/{slug}" in spec["paths"]
    assert spec["components"]["schemas"]["Release"]["required"] == [
        "id",
        "title",
        "status",
    ]
    page = client.get("/api").get_data(as_text=True)
    for operation in (
        "GET /api/releases",
        "PUT /api/releases/{slug}",
        "POST /api/batches",
    ):
        assert operation in page


def test_a_scheduled_id_is_not_created_twice(client: FlaskClient) -> None:
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    record = {
        "id": "scheduled-only",
        "title": "Scheduled only",
        "status": "published",
        "release_date": at.isoformat(),
        "summary": "A release whose first public version is its published one.",
    }
    first = client.post("/api/releases", json=record, headers=_auth())
    assert first.status_code == 202, first.json
    second = client.post(
        "/api/releases", json={**record, "title": "Another"}, headers=_auth()
    )
    assert second.status_code == 409
    assert "scheduled already" in second.json["error"]["message"]
    held = client.get("/api/releases/scheduled-only/scheduled", headers=_auth())
    assert held.json["release"]["title"] == "Scheduled only"


def test_a_rename_alone_is_recorded_as_a_rename(client: FlaskClient) -> None:
    record, _ = _get(client, CONFIRMED)
    reply = client.put(
        f"/api/releases/{CONFIRMED}",
        json={**record, "id": "berd-provisional-2025"},
        headers=_auth(),
    )
    assert reply.status_code == 201
    page = client.get("/releases/berd-provisional-2025").get_data(as_text=True)
    assert f"Renamed: renamed from {CONFIRMED}</td>" in page


@pytest.mark.parametrize("depth", [101, 500, 3000])
def test_a_body_nested_too_deep_is_400(client: FlaskClient, depth: int) -> None:
    # The same check as every input file (publisher/nesting.py): a body nesting
    # past 100 levels is refused before any importer walks it; 3,000 levels used
    # to reach the JSON parser's RecursionError.
    body = '{"id": "x", "title": ' + "[" * depth + "]" * depth + "}"
    reply = client.put(
        f"/api/releases/{CONFIRMED}",
        data=body,
        headers={**_auth(), "Content-Type": "application/json"},
    )
    assert reply.status_code == 400, reply.json
    assert reply.json["error"]["message"].startswith(
        "the body is not valid JSON: nested more than 100 levels deep"
    )


def _scheduled_record(slug: str, at: datetime) -> dict[str, Any]:
    return {
        "id": slug,
        "title": f"Due together {slug}",
        "status": "published",
        "release_date": at.isoformat(),
        "summary": "One of several releases whose published versions are due at "
        "the same minute.",
    }


def _history_versions(app: Flask, slugs: list[str]) -> dict[str, tuple[str, str]]:
    """slug -> (data version of its latest change, who made it), from the store."""
    publishing: PublishingService = app.extensions["publisher.publishing"]
    iris = Iris(publishing.settings.base_url)
    rows = publishing.store.select(
        "PREFIX pub: <https://w3id.org/release-publisher/ns#> "
        "PREFIX prov: <http://www.w3.org/ns/prov#> "
        "PREFIX foaf: <http://xmlns.com/foaf/0.1/> "
        f"SELECT ?c ?r ?who WHERE {{ GRAPH <{iris.history_graph}> {{ "
        "?c pub:affects ?r ; prov:wasAssociatedWith ?a . ?a foaf:name ?who } }"
    )
    found = {}
    prefix = iris.history_entry("")
    for row in rows:
        slug = iris.slug_of(row["r"])
        if slug in slugs:
            version = row["c"][len(prefix) :].split("/", 1)[0]
            found[slug] = (version, row["who"])
    return found


def test_releases_due_together_are_published_in_one_write(
    app: Flask, client: FlaskClient
) -> None:
    scheduler: Scheduler = app.extensions["publisher.scheduler"]
    publishing: PublishingService = app.extensions["publisher.publishing"]
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    slugs = [f"due-together-{n:02d}" for n in range(12)]
    # sent in two requests by two tokens, as separate schedules
    first = client.post(
        "/api/batches",
        json=[_scheduled_record(s, at) for s in slugs[:6]],
        headers=_auth(),
    )
    assert first.status_code == 200, first.json
    assert sorted(first.json["scheduled"]) == slugs[:6]
    second = client.post(
        "/api/batches",
        json=[_scheduled_record(s, at) for s in slugs[6:]],
        headers=_auth(ADMIN),
    )
    assert second.status_code == 200, second.json
    later = client.post(
        "/api/releases",
        json=_scheduled_record("due-a-minute-later", at + timedelta(minutes=1)),
        headers=_auth(),
    )
    assert later.status_code == 202, later.json
    assert publishing.next_publication() == at

    writes: list[tuple[str | None, str | None, list[str]]] = []

    def heard(wrote: Wrote) -> None:
        writes.append((wrote.previous, wrote.version, wrote.slugs))

    publishing.write_listeners.append(heard)
    version_before = app.extensions["publisher"].data_version()
    assert scheduler.publish_due(at - timedelta(seconds=1)) == []
    assert writes == []
    assert sorted(scheduler.publish_due(at)) == slugs
    # one write: one call with every slug, one new data version
    assert len(writes) == 1, writes
    previous, version, changed = writes[0]
    assert previous == version_before
    assert sorted(changed) == slugs
    assert app.extensions["publisher"].data_version() == version
    # the history: one change (that data version), an entry per release, each
    # by the token that scheduled it
    recorded = _history_versions(app, slugs)
    assert {v for v, _ in recorded.values()} == {version}
    assert {s: who for s, (_, who) in recorded.items()} == {
        **{s: "pipeline" for s in slugs[:6]},
        **{s: "env-1" for s in slugs[6:]},  # the admin token of the environment
    }
    for slug in slugs:
        assert _get(client, slug)[0]["status"] == "published"
        assert client.get(f"/releases/{slug}").status_code == 200
    # the one due later stays held, and is next
    assert client.get("/releases/due-a-minute-later").status_code == 404
    assert publishing.next_publication() == at + timedelta(minutes=1)
    assert scheduler.publish_due(at) == []


def test_a_broken_entry_does_not_hold_back_the_others(
    app: Flask, client: FlaskClient
) -> None:
    scheduler: Scheduler = app.extensions["publisher.scheduler"]
    publishing: PublishingService = app.extensions["publisher.publishing"]
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    good = ["due-fine-a", "due-fine-b"]
    reply = client.post(
        "/api/batches", json=[_scheduled_record(s, at) for s in good], headers=_auth()
    )
    assert reply.status_code == 200, reply.json
    # an entry the calendar's rules refuse at the minute (put in the schedule
    # directly: the API would have refused it): a confirmed date moved, no reason
    record, etag = _get(client, CONFIRMED)
    moved = {**record, "status": "published", "release_date": at.isoformat()}
    publishing.schedule.put(CONFIRMED, at, moved, "pipeline")
    assert sorted(scheduler.publish_due(at)) == good
    for slug in good:
        assert _get(client, slug)[0]["status"] == "published"
    assert _get(client, CONFIRMED)[1] == etag  # left as it was
    assert publishing.schedule.get(CONFIRMED) is None  # dropped: no repeat
    assert publishing.next_publication() is None


def test_the_next_publication_time_follows_the_schedule(client: FlaskClient) -> None:
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    page = client.get(f"/releases/{PUBLISHED}")
    assert page.cache_control.max_age is not None
    unbounded = page.cache_control.max_age
    reply = client.post(
        "/api/releases", json=_scheduled_record("due-soon", at), headers=_auth()
    )
    assert reply.status_code == 202
    bounded = client.get(f"/releases/{PUBLISHED}").cache_control.max_age
    assert bounded is not None and bounded <= min(unbounded, 2 * 3600)
    withdrawn = client.delete("/api/releases/due-soon/scheduled", headers=_auth())
    assert withdrawn.status_code == 204
    assert client.get(f"/releases/{PUBLISHED}").cache_control.max_age == unbounded
