"""Repeated SPARQL queries answered in front of Flask (publisher.web.replay): the
same request at the same data version gets exactly the answer the view gave it,
and nothing else is replayed."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from publisher.model import Release
from publisher.web.replay import ReplayedAnswers

from .apps import AppFactory
from .publisher_server import ADMIN_TOKEN

QUERY = (
    "PREFIX pub: <https://w3id.org/release-publisher/ns#>\n"
    "SELECT ?slug WHERE { ?r a pub:Release ; pub:slug ?slug } ORDER BY ?slug"
)
POST = {"Content-Type": "application/sparql-query", "Accept": "text/csv"}


def _replay(app: Flask) -> ReplayedAnswers:
    front = app.wsgi_app
    assert isinstance(front, ReplayedAnswers)
    return front


def _ask(client: FlaskClient, query: str = QUERY, **headers: str) -> TestResponse:
    return client.post("/sparql", data=query, headers={**POST, **headers})


def test_the_third_asking_is_the_views_second_answer_again(
    client: FlaskClient, app: Flask
) -> None:
    front = _replay(app)
    query = QUERY + " LIMIT 5"
    first = _ask(client, query)
    second = _ask(client, query)
    before = front.replayed
    third = _ask(client, query)
    assert first.headers["X-Cache"] == "miss"
    assert second.headers["X-Cache"] == "hit"
    assert front.replayed == before + 1
    assert third.status_code == 200
    assert third.data == second.data == first.data
    assert sorted(third.headers.items()) == sorted(second.headers.items())


def test_another_origin_format_or_a_conditional_request_goes_to_the_view(
    make_app: AppFactory, sample_releases: list[Release]
) -> None:
    app = make_app(sample_releases, cors_origins="https://a.example https://b.example")
    client = app.test_client()
    front = _replay(app)
    query = QUERY + " LIMIT 6"
    for _ in range(3):
        kept = _ask(client, query, Origin="https://a.example")
    before = front.replayed
    other = _ask(client, query, Origin="https://b.example")
    tsv = _ask(client, query, Accept="text/tab-separated-values")
    assert front.replayed == before
    args = {"query": query, "format": "csv"}
    for _ in range(3):
        got = client.get("/sparql", query_string=args)
    replayed = front.replayed
    again = client.get(
        "/sparql", query_string=args, headers={"If-None-Match": got.headers["ETag"]}
    )
    assert front.replayed == replayed
    assert kept.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert other.headers["Access-Control-Allow-Origin"] == "https://b.example"
    assert tsv.headers["Content-Type"].startswith("text/tab-separated-values")
    assert again.status_code == 304


def test_a_write_forgets_what_was_replayed(
    make_app: AppFactory, sample_releases: list[Release]
) -> None:
    app = make_app(sample_releases)
    client = app.test_client()
    front = _replay(app)
    query = QUERY + " LIMIT 500"
    for _ in range(3):
        before = _ask(client, query)
    assert b"replayed-new-release" not in before.data
    update = (
        "PREFIX pub: <https://w3id.org/release-publisher/ns#>\n"
        "INSERT DATA { GRAPH <http://127.0.0.1:8000/graphs/extra> {"
        " <http://127.0.0.1:8000/releases/replayed-new-release> a pub:Release ;"
        ' pub:slug "replayed-new-release" } }'
    )
    wrote = client.post(
        "/sparql",
        data={"update": update},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert wrote.status_code in (200, 204), wrote.data
    replayed = front.replayed
    after = _ask(client, query)
    assert front.replayed == replayed
    assert after.headers["X-Cache"] == "miss"
    assert b"replayed-new-release" in after.data


def test_a_body_over_the_limit_is_the_views_to_refuse(
    client: FlaskClient, app: Flask
) -> None:
    front = _replay(app)
    limit = app.config["PUBLISHER_SETTINGS"].query_max_bytes
    huge = QUERY + " #" + "x" * limit
    answers = [_ask(client, huge).status_code for _ in range(3)]
    assert answers == [413] * 3
    assert not any(key[2] == huge.encode() for key in front._kept)
