"""The OpenAPI description (publisher/data/openapi.json) matches the app: every /api
route and method is described, every described operation is a route, and what the
code defines (version, schemas, slug pattern, last page) is filled in."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from publisher import __version__
from publisher.config import Settings
from publisher.model import SLUG_RE
from publisher.resources import data_file
from publisher.store.index import ListingIndex
from publisher.store.oxigraph import EmbeddedStore
from publisher.store.schedule import ScheduleStore
from publisher.web import create_app
from publisher.web.openapi import MAX_PAGE, openapi

#: /api routes that are not operations of the API: the guide and the description
NOT_OPERATIONS = {"/api", "/api/", "/api/openapi.json"}
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def app() -> Iterator[Flask]:
    store = EmbeddedStore.in_memory()
    app = create_app(
        Settings(),
        store=store,
        index=ListingIndex(":memory:"),
        schedule=ScheduleStore(":memory:"),
    )
    app.config["TESTING"] = True
    yield app
    app.extensions["publisher.sparql"].close()
    store.close()


def _routes(app: Flask) -> set[tuple[str, str]]:
    """(path as OpenAPI writes it, method) of every /api route of the app."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api") or rule.rule in NOT_OPERATIONS:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method.lower() in METHODS:
                found.add((path, method.lower()))
    return found


def _described() -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in openapi()["paths"].items()
        for method in item
        if method != "parameters"
    }


def test_every_api_route_is_described(app: Flask) -> None:
    routes = _routes(app)
    assert routes  # the API's routes were found
    assert routes - _described() == set(), "routes missing from the description"


def test_every_described_operation_is_a_route(app: Flask) -> None:
    assert _described() - _routes(app) == set(), "described but not routed"


def test_path_parameters_are_declared() -> None:
    for path, item in openapi()["paths"].items():
        named = set(re.findall(r"\{(\w+)\}", path))
        for method, operation in item.items():
            if method == "parameters":
                continue
            declared = {
                p["name"]
                for p in [*item.get("parameters", []), *operation.get("parameters", [])]
                if p["in"] == "path"
            }
            assert declared == named, (method, path)


def test_what_the_code_defines_is_filled_in() -> None:
    spec = openapi()
    assert spec["info"]["version"] == __version__
    schemas = spec["components"]["schemas"]
    release = json.loads(data_file("release.schema.json").read_text())
    assert schemas["Release"]["properties"] == release["properties"]
    assert "$schema" not in schemas["Release"]
    assert "properties" in schemas["Report"]
    slug = spec["paths"]["/api/releases/{slug}"]["parameters"][0]
    assert slug["schema"]["pattern"] == SLUG_RE.pattern
    (page,) = (
        p
        for p in spec["paths"]["/api/releases"]["get"]["parameters"]
        if p["name"] == "page"
    )
    assert page["schema"]["maximum"] == MAX_PAGE
    assert "filled in when loaded" not in json.dumps(spec)


def test_the_served_description_is_the_file_filled_in(client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json == openapi()
    # in the file's order, which the guide page (GET /api) follows
    assert list(response.json["paths"]) == list(
        json.loads(data_file("openapi.json").read_text())["paths"]
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
