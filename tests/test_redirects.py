"""Every redirect is built from the base URL: a Host or X-Forwarded-Host header a
client sends is never reflected in a Location (issue 10, defect 11)."""

from __future__ import annotations

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from .apps import PUBLISH_TOKEN, AppFactory

#: a base URL with a path prefix (the site behind a proxy at /calendar)
BASE = "https://stats.example.org/calendar"
HOSTILE = {"Host": "evil.example.org", "X-Forwarded-Host": "evil2.example.org"}
TOKEN = PUBLISH_TOKEN
OLD = "labour-market-overview-uk-september-2026"
NEW = "labour-market-overview-september-2026"


@pytest.fixture(scope="module")
def app(make_module_app: AppFactory) -> Flask:
    """The sample under a base URL with a path, one release renamed."""
    app = make_module_app(base_url=BASE, write_tokens="")
    client = app.test_client()
    # a renamed release: its old URLs redirect (308) to the new ones
    record = client.get(f"/api/releases/{OLD}").json
    assert record is not None
    renamed = client.put(
        f"/api/releases/{OLD}",
        json={**record, "id": NEW},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert renamed.status_code == 201, renamed.json
    return app


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # Werkzeug's routing: slashes merged
        (f"/releases//{NEW}", f"/releases/{NEW}"),
        ("/topics//labour-market", "/topics/labour-market"),
        ("/api//releases", "/api/releases"),
        ("/static//site.css", "/static/site.css"),
        (f"/api//releases//{NEW}", f"/api/releases/{NEW}"),
        # a renamed release: its page, its data and its API record
        (f"/releases/{OLD}", f"/releases/{NEW}"),
        (f"/releases/{OLD}.ttl", f"/releases/{NEW}.ttl"),
        (f"/api/releases/{OLD}", f"/api/releases/{NEW}"),
        (f"/api/releases/{OLD}/jsonld", f"/api/releases/{NEW}/jsonld"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_redirects_are_built_from_the_base_url(
    client: FlaskClient, path: str, expected: str, method: str
) -> None:
    answer = client.open(path, method=method, headers=HOSTILE)
    assert answer.status_code in (301, 302, 307, 308), (path, answer.status_code)
    location = answer.headers["Location"]
    assert location == BASE + expected
    assert "evil" not in location


def test_a_post_to_a_merged_path_is_redirected_to_the_base_url(
    client: FlaskClient,
) -> None:
    answer = client.post("/api//batches", json={}, headers=HOSTILE)
    assert answer.status_code == 308
    assert answer.headers["Location"] == BASE + "/api/batches"


def test_no_answer_reflects_the_host(client: FlaskClient) -> None:
    """Not a redirect, and not a link in a page either."""
    for path in ("/", "/releases", f"/releases/{NEW}", "/api/releases", "/sitemap.xml"):
        answer = client.get(path, headers=HOSTILE)
        assert answer.status_code == 200, path
        assert b"evil" not in answer.get_data(), path
        assert "evil" not in str(answer.headers), path


def test_external_urls_use_the_base_url(app: Flask) -> None:
    with app.test_request_context("/releases", headers=HOSTILE):
        assert url_for("pages.release", slug=NEW, _external=True) == (
            f"{BASE}/releases/{NEW}"
        )
        assert url_for("api.releases") == "/calendar/api/releases"
    with app.app_context():
        assert url_for("ops.healthz", _external=True) == BASE + "/healthz"
