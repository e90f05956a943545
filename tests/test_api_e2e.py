"""The publishing API end to end: real HTTP against ``publisher serve`` (waitress).

A release's life (create, confirm, postpone, cancel, publish, rename, delete) and
the calendar's rules (409, each refusal changing nothing); shape violations (422
with the report), bad requests (400, 415), tokens (401, 403); atomic batches; no
lost updates under real concurrent requests; and scheduled publication under
embargo (issue 6): nothing of the published version shows anywhere until its
minute, then everything shows it within a second, with no request to trigger it
and a server restart in between.
"""

from __future__ import annotations

import gzip
import html as html_text
import http.client
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from publisher.tokens import token_digest

from .apps import ServerFactory
from .publisher_server import ADMIN_TOKEN, PublisherProcess

#: a publish-role token from a tokens file, named as the history shows it
BOT_TOKEN = "release-bot-token-9f8e7d6c5b4a"  # noqa: S105 - a test's own token
BOT = "release-bot"
UNKNOWN_TOKEN = "not-a-token-of-this-site"  # noqa: S105
JSON = "application/json"

CONFIRMED = "labour-market-overview-uk-december-2026"  # has datasets
PUBLISHED = "labour-market-overview-uk-september-2026"
PROVISIONAL = "labour-market-overview-uk-february-2027"


def _tokens_file(folder: Path) -> dict[str, str]:
    path = folder / "tokens"
    path.write_text(f"# name role sha256\n{BOT} publish {token_digest(BOT_TOKEN)}\n")
    return {"PUBLISHER_WRITE_TOKENS_FILE": str(path)}


@pytest.fixture(scope="module")
def server(
    make_module_server: ServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> PublisherProcess:
    return make_module_server(_tokens_file(tmp_path_factory.mktemp("tokens")))


# Requests ----------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def message(self) -> str:
        message: str = self.json["error"]["message"]
        return message


def call(
    server: PublisherProcess,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = BOT_TOKEN,
    if_match: str | None = None,
    content_type: str = JSON,
    raw: bytes | None = None,
) -> Answer:
    headers = {}
    data = raw
    if body is not None:
        data = json.dumps(body).encode("utf-8")
    if data is not None:
        headers["Content-Type"] = content_type
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if if_match is not None:
        headers["If-Match"] = if_match
    return Answer(*server.request(method, path, data, headers))


def unfollowed(server: PublisherProcess, path: str) -> tuple[int, str | None]:
    """Status and Location of a GET, redirects not followed (urllib follows 308)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location")
    finally:
        connection.close()


def get(server: PublisherProcess, slug: str) -> Answer:
    return call(server, "GET", f"/api/releases/{slug}", token=None)


def page(server: PublisherProcess, path: str) -> Answer:
    return call(server, "GET", path, token=None)


def assert_unchanged(server: PublisherProcess, slug: str, before: Answer) -> None:
    """A refused request changed nothing: same record, same ETag."""
    after = get(server, slug)
    assert after.status == before.status
    assert after.etag == before.etag
    assert after.body == before.body


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _days(n: int) -> str:
    moment = datetime.now(UTC).replace(hour=9, minute=30, second=0, microsecond=0)
    return _utc(moment + timedelta(days=n))


def _same_moment(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


def _section(html: str, heading: str) -> str:
    """The text of the section under ``<h2>heading</h2>``, tags dropped."""
    found = re.search(rf">{re.escape(heading)}</h2>(.*?)</section>", html, re.S)
    assert found, f"no section {heading!r}"
    text = html_text.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))
    return re.sub(r"\s+", " ", text)


def provisional(slug: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": slug,
        "title": f"API test release {slug}",
        "summary": "A release made by the API tests, with a summary long enough "
        "for Google's Dataset rich results.",
        "status": "provisional",
        "provisional_date": "Spring 2027",
        **fields,
    }


# A release's life --------------------------------------------------------------


def test_the_life_of_a_release(server: PublisherProcess) -> None:
    slug = "api-life-of-a-release"
    record = provisional(slug)

    created = call(server, "POST", "/api/releases", record)
    assert created.status == 201, created.body
    assert created.headers["Location"] == f"/api/releases/{slug}"
    assert created.etag
    assert created.json["created"] == [slug]
    assert created.json["release"]["status"] == "provisional"
    current = get(server, slug)
    assert current.status == 200
    assert current.etag == created.etag
    assert current.headers["Cache-Control"] == "no-cache"

    # confirmed, with a date, replacing exactly the version we saw
    first_date = _days(30)
    confirmed = {**current.json, "status": "confirmed", "release_date": first_date}
    answer = call(
        server, "PUT", f"/api/releases/{slug}", confirmed, if_match=current.etag
    )
    assert answer.status == 200, answer.body
    assert answer.etag and answer.etag != current.etag
    current = get(server, slug)
    assert current.etag == answer.etag
    assert current.json["status"] == "confirmed"

    # postponed: a confirmed date moves only with a reason
    second_date = _days(37)
    moved = {**current.json, "release_date": second_date}
    refused = call(server, "PUT", f"/api/releases/{slug}", moved, if_match=current.etag)
    assert refused.status == 409, refused.body
    assert "date_changes" in refused.message
    assert "reason" in refused.message
    assert "previous_date" in refused.message
    assert_unchanged(server, slug, current)

    reason = "The survey's fieldwork finished late"
    moved["date_changes"] = [{"previous_date": first_date, "reason": reason}]
    moved["status"] = "postponed"
    answer = call(server, "PUT", f"/api/releases/{slug}", moved, if_match=current.etag)
    assert answer.status == 200, answer.body
    current = get(server, slug)
    assert current.json["status"] == "postponed"
    (change,) = current.json["date_changes"]
    assert _same_moment(change["previous_date"], first_date)
    assert _same_moment(change["new_date"], second_date)
    assert change["reason"] == reason
    changed_at = datetime.fromisoformat(change["changed_at"])
    assert abs((datetime.now(UTC) - changed_at).total_seconds()) < 60

    html = page(server, f"/releases/{slug}").body.decode()
    dates = _section(html, "Changes to the release date")
    assert reason in dates
    history = _section(html, "Changes to this release")
    assert BOT in history
    assert "Created" in history
    assert "Postponed" in history
    assert reason in history

    # cancelled without a notice: refused, nothing changes
    cancelled = {**current.json, "status": "cancelled"}
    refused = call(server, "PUT", f"/api/releases/{slug}", cancelled)
    assert refused.status == 409, refused.body
    assert "cancellation_notice" in refused.message
    assert_unchanged(server, slug, current)

    # published (now, ahead of its date): then it never becomes upcoming again
    published = {
        **current.json,
        "status": "published",
        "published_date": _utc(datetime.now(UTC).replace(microsecond=0)),
    }
    answer = call(server, "PUT", f"/api/releases/{slug}", published)
    assert answer.status == 200, answer.body
    current = get(server, slug)
    assert current.json["status"] == "published"
    assert current.json["date_changes"] == [change]  # recorded changes are kept
    for status in ("confirmed", "provisional", "postponed"):
        back = {**current.json, "status": status}
        refused = call(server, "PUT", f"/api/releases/{slug}", back)
        assert refused.status == 409, refused.body
        assert f"cannot become {status}" in refused.message
        assert_unchanged(server, slug, current)

    # deleted: only with a reason, then gone (410) from the API and the page
    refused = call(server, "DELETE", f"/api/releases/{slug}")
    assert refused.status == 409, refused.body
    assert "reason" in refused.message
    assert_unchanged(server, slug, current)
    why = "Published by mistake under the wrong series"
    answer = call(
        server,
        "DELETE",
        f"/api/releases/{slug}?" + urllib.parse.urlencode({"reason": why}),
        if_match=current.etag,
    )
    assert answer.status == 200, answer.body
    assert answer.json["deleted"] == slug
    gone = get(server, slug)
    assert gone.status == 410
    assert gone.json["reason"] == why
    assert gone.json["deleted_at"]
    tombstone = page(server, f"/releases/{slug}")
    assert tombstone.status == 410
    assert why in tombstone.body.decode()
    again = call(server, "DELETE", f"/api/releases/{slug}?reason=again")
    assert again.status == 404


def test_cancelling_with_a_notice(server: PublisherProcess) -> None:
    slug = "api-cancelled-release"
    assert call(server, "POST", "/api/releases", provisional(slug)).status == 201
    current = get(server, slug)
    notice = "This release is cancelled: the survey was discontinued."
    cancelled = {**current.json, "status": "cancelled", "cancellation_notice": notice}
    answer = call(
        server, "PUT", f"/api/releases/{slug}", cancelled, if_match=current.etag
    )
    assert answer.status == 200, answer.body
    assert get(server, slug).json["cancellation_notice"] == notice
    assert notice in page(server, f"/releases/{slug}").body.decode()


def test_a_sample_published_release_cannot_be_confirmed(
    server: PublisherProcess,
) -> None:
    before = get(server, PUBLISHED)
    back = {**before.json, "status": "confirmed"}
    refused = call(
        server, "PUT", f"/api/releases/{PUBLISHED}", back, if_match=before.etag
    )
    assert refused.status == 409, refused.body
    assert_unchanged(server, PUBLISHED, before)


def test_creating_an_existing_id_is_refused(server: PublisherProcess) -> None:
    before = get(server, PROVISIONAL)
    refused = call(server, "POST", "/api/releases", before.json)
    assert refused.status == 409, refused.body
    assert "PUT" in refused.message
    assert_unchanged(server, PROVISIONAL, before)


def test_rename(server: PublisherProcess) -> None:
    old, new = "api-rename-before", "api-rename-after"
    assert call(server, "POST", "/api/releases", provisional(old)).status == 201
    current = get(server, old)

    # not onto an id that is taken
    taken = {**current.json, "id": PROVISIONAL}
    refused = call(server, "PUT", f"/api/releases/{old}", taken)
    assert refused.status == 409, refused.body
    assert_unchanged(server, old, current)

    renamed = {**current.json, "id": new}
    answer = call(server, "PUT", f"/api/releases/{old}", renamed, if_match=current.etag)
    # created at its new URL, which the old one now redirects to
    assert answer.status == 201, answer.body
    assert answer.headers["Location"] == f"/api/releases/{new}"

    assert unfollowed(server, f"/api/releases/{old}") == (
        308,
        server.url(f"/api/releases/{new}"),
    )
    status, location = unfollowed(server, f"/releases/{old}")
    assert status == 308
    assert location is not None and location.endswith(f"/releases/{new}")
    moved = get(server, new)
    assert moved.status == 200
    assert old in moved.json["former_ids"]
    history = _section(
        page(server, f"/releases/{new}").body.decode(), "Changes to this release"
    )
    assert f"renamed from {old}" in history
    assert BOT in history


# Refusals before any change ------------------------------------------------------


def test_a_shape_violation_gets_the_report(server: PublisherProcess) -> None:
    slug = "api-confirmed-without-a-date"
    bad = {**provisional(slug), "status": "confirmed"}
    del bad["provisional_date"]
    refused = call(server, "POST", "/api/releases", bad)
    assert refused.status == 422, refused.body
    body = refused.json
    assert body["error"]["status"] == 422
    report = body["report"]
    assert report["conforms"] is False
    (entry,) = report["records"]
    assert entry["record"] == 1
    assert entry["id"] == slug
    violations = [r for r in entry["results"] if r["severity"] == "Violation"]
    assert [r["field"] for r in violations] == ["release_date"]
    assert violations[0]["message"]
    assert get(server, slug).status == 404


def test_a_shape_violation_leaves_the_release_alone(server: PublisherProcess) -> None:
    before = get(server, PROVISIONAL)
    bad = {k: v for k, v in before.json.items() if k != "provisional_date"}
    refused = call(server, "PUT", f"/api/releases/{PROVISIONAL}", bad)
    assert refused.status == 422, refused.body
    fields = [r["field"] for r in refused.json["report"]["records"][0]["results"]]
    assert "release_date" in fields
    assert_unchanged(server, PROVISIONAL, before)


def test_an_unreadable_record_names_its_field(server: PublisherProcess) -> None:
    bad = provisional("api-unreadable", release_date="next Tuesday")
    refused = call(server, "POST", "/api/releases", bad)
    assert refused.status == 422, refused.body
    (entry,) = refused.json["report"]["records"]
    assert entry["record"] == 1
    assert [r["field"] for r in entry["results"]] == ["release_date"]
    assert get(server, "api-unreadable").status == 404


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b'{"id": "api-malformed", "title": ', JSON, 400),
        (b"\xff\xfe not utf-8", JSON, 400),
        (b'{"id": "api-malformed"}', "text/plain", 415),
        (b'{"id": "api-malformed"}', "application/x-www-form-urlencoded", 415),
    ],
)
def test_a_body_that_cannot_be_read(
    server: PublisherProcess, raw: bytes, content_type: str, status: int
) -> None:
    refused = call(server, "POST", "/api/releases", raw=raw, content_type=content_type)
    assert refused.status == status, refused.body
    assert refused.json["error"]["status"] == status
    assert refused.message
    assert get(server, "api-malformed").status == 404


def test_tokens(server: PublisherProcess) -> None:
    record = provisional("api-token-check")
    before = get(server, PROVISIONAL)
    for method, path, body in [
        ("POST", "/api/releases", record),
        ("PUT", f"/api/releases/{PROVISIONAL}", {**before.json, "title": "Changed"}),
        ("DELETE", f"/api/releases/{PROVISIONAL}?reason=no", None),
        ("POST", "/api/batches", {"releases": [record]}),
    ]:
        anonymous = call(server, method, path, body, token=None)
        assert anonymous.status == 401, (method, path, anonymous.body)
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        unknown = call(server, method, path, body, token=UNKNOWN_TOKEN)
        assert unknown.status == 403, (method, path, unknown.body)
        assert "WWW-Authenticate" not in unknown.headers
    admin = call(server, "POST", "/api/releases", record, token=ADMIN_TOKEN)
    assert admin.status == 201  # the admin token may write too
    assert_unchanged(server, PROVISIONAL, before)
    # reading needs no token
    assert get(server, PROVISIONAL).status == 200


def test_if_match_with_an_old_version(server: PublisherProcess) -> None:
    before = get(server, PROVISIONAL)
    stale = '"0000000000000000000000000000000000000000000000000000000000000000"'
    changed = {**before.json, "title": "Not applied"}
    refused = call(
        server, "PUT", f"/api/releases/{PROVISIONAL}", changed, if_match=stale
    )
    assert refused.status == 412, refused.body
    assert_unchanged(server, PROVISIONAL, before)
    gone = call(
        server, "DELETE", f"/api/releases/{PROVISIONAL}?reason=x", if_match=stale
    )
    assert gone.status == 412
    assert_unchanged(server, PROVISIONAL, before)


# Batches ---------------------------------------------------------------------------


def test_a_batch_with_one_invalid_release_publishes_none(
    server: PublisherProcess,
) -> None:
    records = [provisional(f"api-batch-a-{n}") for n in range(4)]
    records[2] = {**records[2], "status": "confirmed"}
    del records[2]["provisional_date"]
    refused = call(server, "POST", "/api/batches", {"releases": records})
    assert refused.status == 422, refused.body
    flagged = [
        (r["record"], r["id"])
        for r in refused.json["report"]["records"]
        if any(x["severity"] == "Violation" for x in r["results"])
    ]
    assert flagged == [(3, "api-batch-a-2")]
    for record in records:
        assert get(server, record["id"]).status == 404, record["id"]


def test_a_valid_batch_publishes_all(server: PublisherProcess) -> None:
    before = get(server, PROVISIONAL)
    changed = {**before.json, "keywords": ["batch", "change"]}
    records = [provisional(f"api-batch-b-{n}") for n in range(4)] + [changed]
    answer = call(server, "POST", "/api/batches", records)  # a bare list works too
    assert answer.status == 200, answer.body
    assert sorted(answer.json["published"]) == sorted(r["id"] for r in records)
    assert sorted(answer.json["created"]) == [f"api-batch-b-{n}" for n in range(4)]
    for record in records:
        found = get(server, record["id"])
        assert found.status == 200, record["id"]
        assert found.etag == f'"{answer.json["versions"][record["id"]]}"'
    assert get(server, PROVISIONAL).json["keywords"] == ["batch", "change"]
    # the same batch again changes nothing
    again = call(server, "POST", "/api/batches", records)
    assert again.status == 200
    assert again.json["published"] == []
    assert sorted(again.json["unchanged"]) == sorted(r["id"] for r in records)


def test_a_batch_repeating_an_id_is_refused(server: PublisherProcess) -> None:
    records = [provisional("api-batch-twice"), provisional("api-batch-twice")]
    refused = call(server, "POST", "/api/batches", {"releases": records})
    assert refused.status == 422, refused.body
    assert get(server, "api-batch-twice").status == 404


# No lost updates -------------------------------------------------------------------


def _at_once(jobs: list[Any]) -> list[Any]:
    """Run the callables in threads released together by a barrier."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(n: int) -> None:
        barrier.wait()
        results[n] = jobs[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_writes_to_different_releases_all_land(
    server: PublisherProcess,
) -> None:
    slugs = [f"api-concurrent-{n}" for n in range(8)]
    created = call(server, "POST", "/api/batches", [provisional(s) for s in slugs])
    assert created.status == 200, created.body
    currents = {s: get(server, s) for s in slugs}

    def job(slug: str) -> Any:
        changed = {**currents[slug].json, "title": f"Changed concurrently: {slug}"}
        return lambda: call(
            server,
            "PUT",
            f"/api/releases/{slug}",
            changed,
            if_match=currents[slug].etag,
        )

    answers = _at_once([job(s) for s in slugs])
    assert [a.status for a in answers] == [200] * len(slugs), [
        a.body for a in answers if a.status != 200
    ]
    for slug in slugs:
        assert get(server, slug).json["title"] == f"Changed concurrently: {slug}"


@pytest.mark.parametrize("round_", range(3))
def test_two_writers_with_one_etag_one_wins(
    server: PublisherProcess, round_: int
) -> None:
    slug = f"api-contended-{round_}"
    assert call(server, "POST", "/api/releases", provisional(slug)).status == 201
    seen = [get(server, slug), get(server, slug)]
    assert seen[0].etag == seen[1].etag

    def job(n: int) -> Any:
        changed = {**seen[n].json, "title": f"Writer {n}'s title"}
        return lambda: call(
            server, "PUT", f"/api/releases/{slug}", changed, if_match=seen[n].etag
        )

    answers = _at_once([job(0), job(1)])
    assert sorted(a.status for a in answers) == [200, 412], [a.body for a in answers]
    winner = next(n for n, a in enumerate(answers) if a.status == 200)
    loser = answers[1 - winner]
    assert "fetch it again" in loser.message
    stored = get(server, slug)
    assert stored.json["title"] == f"Writer {winner}'s title"
    assert stored.etag == answers[winner].etag


def test_a_write_to_another_release_never_makes_an_etag_stale(
    server: PublisherProcess,
) -> None:
    a, b = "api-etag-a", "api-etag-b"
    assert call(server, "POST", "/api/batches", [provisional(a), provisional(b)])
    seen_a = get(server, a)
    seen_b = get(server, b)
    changed_b = {**seen_b.json, "title": "B changed"}
    assert (
        call(
            server, "PUT", f"/api/releases/{b}", changed_b, if_match=seen_b.etag
        ).status
        == 200
    )
    assert get(server, a).etag == seen_a.etag
    changed_a = {**seen_a.json, "title": "A changed"}
    answer = call(server, "PUT", f"/api/releases/{a}", changed_a, if_match=seen_a.etag)
    assert answer.status == 200, answer.body


# Embargo -----------------------------------------------------------------------------

#: distinctive: only the version published under embargo has them
MARK = "Embargoed-figures-7Q3Z"
MARK_URL = "https://www.example.org/datasets/embargoed-7q3z/figures-7q3z.csv"
OTHER_MARK = "Withdrawn-figures-5K2W"


@pytest.fixture(scope="module")
def embargo_server(
    make_module_server: ServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> PublisherProcess:
    env = _tokens_file(tmp_path_factory.mktemp("embargo-tokens"))
    return make_module_server(env)


def _whole_second(seconds: float) -> datetime:
    """A moment on a whole second, ``seconds`` or a little more from now."""
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def _sparql(server: PublisherProcess, text: str) -> list[Any]:
    query = (
        "SELECT ?g ?s ?p WHERE { GRAPH ?g { ?s ?p ?o "
        f'FILTER(CONTAINS(STR(?o), "{text}")) }} }}'
    )
    answer = call(
        server,
        "GET",
        "/sparql?" + urllib.parse.urlencode({"query": query, "format": "json"}),
        token=None,
    )
    assert answer.status == 200, answer.body
    rows: list[Any] = answer.json["results"]["bindings"]
    return rows


def _everywhere(server: PublisherProcess, slug: str) -> dict[str, str]:
    """Every public view of the release and the site, as text."""
    views = {}
    for path in [
        f"/releases/{slug}",
        f"/releases/{slug}.jsonld",
        f"/releases/{slug}.ttl",
        f"/releases/{slug}.nt",
        f"/api/releases/{slug}",
        f"/api/releases/{slug}/jsonld",
        "/",
        "/releases?view=all",
        f"/api/releases?view=all&q={MARK}",
        "/feeds/releases.atom",
        "/feeds/changes.atom",
        "/feeds/upcoming.ics",
        "/sitemap.xml",
        "/catalog",
    ]:
        answer = page(server, path)
        assert answer.status == 200, (path, answer.body[:300])
        views[path] = answer.body.decode("utf-8")
    dump = page(server, "/dump.nq.gz")
    assert dump.status == 200
    views["/dump.nq.gz"] = gzip.decompress(dump.body).decode("utf-8")
    return views


def _sitemap_lastmod(server: PublisherProcess, slug: str) -> str:
    text = page(server, "/sitemap.xml").body.decode()
    found = re.search(rf"/releases/{slug}</loc><lastmod>([^<]+)</lastmod>", text)
    assert found, text[:500]
    return found.group(1)


def _atom_entry(feed: str, slug: str) -> str:
    for entry in re.findall(r"<entry>.*?</entry>", feed, re.S):
        if re.search(rf"/releases/{slug}[\"<#]", entry):
            return str(entry)
    raise AssertionError(f"no entry for {slug}")


def test_scheduled_publication_under_embargo(embargo_server: PublisherProcess) -> None:
    server, slug = embargo_server, CONFIRMED
    announced = get(server, slug)
    assert announced.json["status"] == "confirmed"
    card_before = page(server, f"/releases/{slug}/card.png")
    assert card_before.status == 200

    # the published version, at a whole second a few seconds ahead; the confirmed
    # announcement moves to that moment first (with its reason)
    at = _whole_second(6)
    confirmed = {
        **announced.json,
        "release_date": _utc(at),
        "date_changes": [
            {
                "previous_date": announced.json["release_date"],
                "reason": "Brought forward to test the embargo",
            }
        ],
    }
    answer = call(
        server, "PUT", f"/api/releases/{slug}", confirmed, if_match=announced.etag
    )
    assert answer.status == 200, answer.body
    announced = get(server, slug)
    card_before = page(server, f"/releases/{slug}/card.png")
    page_before = page(server, f"/releases/{slug}")
    published = {
        **announced.json,
        "status": "published",
        "published_date": _utc(at),
        "summary": f"{MARK}: {announced.json['summary']}",
        "datasets": [
            *announced.json.get("datasets", []),
            {
                "title": "Embargoed figures",
                "downloads": [{"url": MARK_URL, "format": "text/csv"}],
            },
        ],
    }
    scheduled = call(
        server, "PUT", f"/api/releases/{slug}", published, if_match=announced.etag
    )
    assert scheduled.status == 202, scheduled.body
    assert scheduled.json["published"] == []
    assert datetime.fromisoformat(scheduled.json["scheduled"][slug]) == at

    # until then: nothing of it anywhere; the confirmed announcement stands
    views = _everywhere(server, slug)
    # read before the minute, or what they show says nothing of the embargo
    assert datetime.now(UTC) < at, "too slow to test: the minute came meanwhile"
    for path, text in views.items():
        assert MARK not in text, path
        assert MARK_URL not in text, path
    assert _sparql(server, MARK) == []
    assert _sparql(server, MARK_URL) == []
    assert_unchanged(server, slug, announced)
    card = page(server, f"/releases/{slug}/card.png")
    assert card.etag == card_before.etag
    assert card.body == card_before.body
    release_page = page(server, f"/releases/{slug}")
    assert release_page.etag == page_before.etag
    assert release_page.body == page_before.body
    # no cache may keep the page past the publication
    left = (at - datetime.now(UTC)).total_seconds()
    cache_control = release_page.headers["Cache-Control"]
    max_age = re.search(r"max-age=(\d+)", cache_control)
    assert max_age, cache_control
    assert int(max_age.group(1)) <= left, (cache_control, left)
    held = call(server, "GET", f"/api/releases/{slug}/scheduled")
    assert held.status == 200, held.body
    assert datetime.fromisoformat(held.json["publish_at"]) == at
    assert held.json["scheduled_by"] == BOT
    assert held.json["release"]["summary"].startswith(MARK)
    assert call(
        server, "GET", f"/api/releases/{slug}/scheduled", token=None
    ).status == (401)
    lastmod_before = _sitemap_lastmod(server, slug)

    # a restart before the minute; then no request until the minute has come
    assert datetime.now(UTC) < at - timedelta(seconds=1.5), "too slow to test"
    server.restart()
    assert datetime.now(UTC) < at, "the restart took past the publication time"
    while (wait := (at - datetime.now(UTC)).total_seconds()) > 0:
        time.sleep(wait)

    # published within a second, with nothing to trigger it
    seen_at = None
    for _ in range(15):
        if MARK in page(server, f"/releases/{slug}").body.decode():
            seen_at = datetime.now(UTC)
            break
        time.sleep(0.1)
    assert seen_at is not None, "not published 1.5 s after its time"
    late = (seen_at - at).total_seconds()
    assert late < 1.0, f"published {late:.2f} s after its time"

    # and everything follows
    now = get(server, slug)
    assert now.json["status"] == "published"
    assert now.json["summary"].startswith(MARK)
    assert datetime.fromisoformat(now.json["published_date"]) == at
    assert now.etag != announced.etag
    views = _everywhere(server, slug)
    for path in [
        f"/releases/{slug}",
        f"/releases/{slug}.jsonld",
        f"/releases/{slug}.ttl",
        f"/api/releases/{slug}",
        f"/api/releases/{slug}/jsonld",
        f"/api/releases?view=all&q={MARK}",
        "/feeds/releases.atom",
        "/dump.nq.gz",
    ]:
        assert MARK in views[path], path
    for path in [f"/releases/{slug}", f"/releases/{slug}.jsonld", "/dump.nq.gz"]:
        assert MARK_URL in views[path], path
    assert _sparql(server, MARK)
    assert _sparql(server, MARK_URL)
    card = page(server, f"/releases/{slug}/card.png")
    assert card.etag != card_before.etag
    assert call(server, "GET", f"/api/releases/{slug}/scheduled").status == 404

    # the feeds and the sitemap say it changed, and who published it
    entry = _atom_entry(views["/feeds/releases.atom"], slug)
    assert "<title>Published:" in entry
    assert f"<author><name>{BOT}</name></author>" in entry
    changes = _atom_entry(views["/feeds/changes.atom"], slug)  # the newest change
    assert '<category term="published"/>' in changes
    assert f"<author><name>{BOT}</name></author>" in changes
    lastmod = _sitemap_lastmod(server, slug)
    assert lastmod > lastmod_before  # to the second: the publication shows
    assert lastmod >= at.strftime("%Y-%m-%dT%H:%M:%SZ")
    history = _section(views[f"/releases/{slug}"], "Changes to this release")
    assert re.search(rf"Published: status: confirmed -> published.*?{BOT}", history), (
        history
    )
    assert datetime.fromisoformat(now.json["published_date"]) == at


def test_a_withdrawn_schedule_never_appears(embargo_server: PublisherProcess) -> None:
    server, slug = embargo_server, "labour-market-overview-uk-january-2027"
    announced = get(server, slug)
    at = _whole_second(2)
    published = {
        **announced.json,
        "status": "published",
        "release_date": _utc(at),
        "summary": f"{OTHER_MARK}: {announced.json['summary']}",
        "date_changes": [
            {
                "previous_date": announced.json["release_date"],
                "reason": "Brought forward",
            }
        ],
    }
    scheduled = call(server, "PUT", f"/api/releases/{slug}", published)
    assert scheduled.status == 202, scheduled.body
    assert call(server, "GET", f"/api/releases/{slug}/scheduled").status == 200

    # a postponement (a later write) withdraws it
    later = _days(60)
    postponed = {
        **announced.json,
        "status": "postponed",
        "release_date": later,
        "date_changes": [
            {
                "previous_date": announced.json["release_date"],
                "reason": "Postponed: the data supplier is late",
            }
        ],
    }
    answer = call(server, "PUT", f"/api/releases/{slug}", postponed)
    assert answer.status == 200, answer.body
    assert call(server, "GET", f"/api/releases/{slug}/scheduled").status == 404
    postponed_version = get(server, slug)

    while (wait := (at - datetime.now(UTC)).total_seconds() + 1.2) > 0:
        time.sleep(wait)
    after = get(server, slug)
    assert after.json["status"] == "postponed"
    assert after.etag == postponed_version.etag
    assert OTHER_MARK not in page(server, f"/releases/{slug}").body.decode()
    assert OTHER_MARK not in page(server, "/feeds/releases.atom").body.decode()
    assert _sparql(server, OTHER_MARK) == []


def test_a_schedule_can_be_withdrawn_by_itself(
    embargo_server: PublisherProcess,
) -> None:
    server, slug = embargo_server, "gdp-monthly-estimate-uk-november-2026"
    announced = get(server, slug)
    published = {**announced.json, "status": "published"}  # at its confirmed date
    scheduled = call(server, "PUT", f"/api/releases/{slug}", published)
    assert scheduled.status == 202, scheduled.body
    withdrawn = call(server, "DELETE", f"/api/releases/{slug}/scheduled")
    assert withdrawn.status == 204
    assert call(server, "GET", f"/api/releases/{slug}/scheduled").status == 404
    assert_unchanged(server, slug, announced)


def _due_together(slug: str, at: datetime) -> dict[str, Any]:
    return {
        "id": slug,
        "title": f"Due at one minute {slug}",
        "status": "published",
        "release_date": _utc(at),
        "summary": f"{MINUTE_MARK}: one of twenty releases whose published versions "
        "are due at the same moment.",
    }


MINUTE_MARK = "Due-together-3M8X"


def test_releases_due_at_one_minute_go_out_in_one_write(
    embargo_server: PublisherProcess,
) -> None:
    server = embargo_server
    slugs = [f"api-due-together-{n:02d}" for n in range(20)]
    at = _whole_second(8)
    # two schedules, sent by two tokens
    for token, part in ((BOT_TOKEN, slugs[:10]), (ADMIN_TOKEN, slugs[10:])):
        sent = call(
            server,
            "POST",
            "/api/batches",
            [_due_together(s, at) for s in part],
            token=token,
        )
        assert sent.status == 200, sent.body
        assert sorted(sent.json["scheduled"]) == part
    assert datetime.now(UTC) < at, "too slow to test"
    for slug in slugs:
        assert page(server, f"/releases/{slug}").status == 404
    assert _sparql(server, MINUTE_MARK) == []

    while (wait := (at - datetime.now(UTC)).total_seconds()) > 0:
        time.sleep(wait)
    waiting = set(slugs)
    deadline = time.monotonic() + 10  # a stall, not a timing: 2 s is the aim
    while waiting and time.monotonic() < deadline:
        for slug in sorted(waiting):
            answer = page(server, f"/releases/{slug}")
            if answer.status == 200 and MINUTE_MARK in answer.body.decode():
                waiting.discard(slug)
        time.sleep(0.05)
    assert not waiting, f"not published 10 s after their time: {sorted(waiting)}"

    # one change in the history: one data version, an entry per release, each by
    # the token that scheduled it
    query = (
        "PREFIX pub: <https://w3id.org/release-publisher/ns#> "
        "PREFIX prov: <http://www.w3.org/ns/prov#> "
        "PREFIX foaf: <http://xmlns.com/foaf/0.1/> "
        "SELECT ?c ?r ?who WHERE { GRAPH ?h { ?c pub:affects ?r ; "
        "prov:wasAssociatedWith ?a . ?a foaf:name ?who } "
        'FILTER(CONTAINS(STR(?r), "/releases/api-due-together-")) }'
    )
    answer = call(
        server,
        "GET",
        "/sparql?" + urllib.parse.urlencode({"query": query, "format": "json"}),
        token=None,
    )
    assert answer.status == 200, answer.body
    rows = answer.json["results"]["bindings"]
    assert len(rows) == len(slugs), rows
    versions = {r["c"]["value"].split("/history/", 1)[1].split("/")[0] for r in rows}
    assert len(versions) == 1, versions
    by = {
        re.sub(r".*/releases/([^/#]+).*", r"\1", r["r"]["value"]): r["who"]["value"]
        for r in rows
    }
    assert {by[s] for s in slugs[:10]} == {BOT}
    assert BOT not in {by[s] for s in slugs[10:]}
    for slug in slugs:
        assert get(server, slug).json["status"] == "published"
        assert call(server, "GET", f"/api/releases/{slug}/scheduled").status == 404
