"""Shared fixtures, as in Flask's flaskr tutorial: ``app``, ``client`` and
``runner``, factories for apps and servers with other settings, a real
``publisher serve`` over HTTP, and settings, the bundled sample, fixture paths.

Scopes: what only reads is built once (``app`` and ``served`` for the whole
session); a test that writes, or needs other settings, asks a factory
(``make_app``/``make_server`` for itself, ``make_module_app``/
``make_module_server`` for a module's read-only fixture). Everything a fixture
makes it closes: SPARQL services, stores, servers, temporary folders (pytest's).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from publisher.config import Settings
from publisher.importers import read_file
from publisher.model import Release
from publisher.resources import sample_calendar
from publisher.store.oxigraph import EmbeddedStore
from tests.apps import AppFactory, ServerFactory
from tests.publisher_server import PublisherProcess

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
#: Real outside material (../shared/reference); tests that use it are extra checks.
REFERENCE = ROOT.parent / "shared" / "reference"


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def sample_releases() -> list[Release]:
    return read_file(str(sample_calendar()), Settings(), "native")


@pytest.fixture
def runner() -> CliRunner:
    """Runs the click CLI (``runner.invoke(cli, [...])``); the CLI is not Flask's,
    so click's runner rather than ``app.test_cli_runner()``."""
    return CliRunner()


@pytest.fixture
def store() -> Iterator[EmbeddedStore]:
    """A fresh, empty in-memory embedded store."""
    fresh = EmbeddedStore.in_memory()
    yield fresh
    fresh.close()


# Apps through Flask's test client ------------------------------------------------


def _app_factory(
    tmp_path_factory: pytest.TempPathFactory, sample: list[Release]
) -> Iterator[AppFactory]:
    factory = AppFactory(tmp_path_factory.mktemp("app"), sample)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def make_app(
    tmp_path_factory: pytest.TempPathFactory, sample_releases: list[Release]
) -> Iterator[AppFactory]:
    """``make_app(releases=None, *, store=None, index=None, schedule=None,
    **settings)``: a fresh app (tests/apps.py), closed after the test."""
    yield from _app_factory(tmp_path_factory, sample_releases)


@pytest.fixture(scope="module")
def make_module_app(
    tmp_path_factory: pytest.TempPathFactory, sample_releases: list[Release]
) -> Iterator[AppFactory]:
    """``make_app`` for a module-scoped fixture: its apps close after the module."""
    yield from _app_factory(tmp_path_factory, sample_releases)


@pytest.fixture(scope="session")
def session_apps(
    tmp_path_factory: pytest.TempPathFactory, sample_releases: list[Release]
) -> Iterator[AppFactory]:
    yield from _app_factory(tmp_path_factory, sample_releases)


@pytest.fixture(scope="session")
def app(session_apps: AppFactory) -> Flask:
    """The sample in an in-memory embedded store, the test tokens (ADMIN_TOKEN,
    PUBLISH_TOKEN), TESTING: shared by the session, so read-only (a test that
    writes asks ``make_app``). A module may override it with its own."""
    return session_apps()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# Real servers over HTTP ----------------------------------------------------------


@pytest.fixture
def make_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    """``make_server(env=None, *, import_sample=True)``: a started ``publisher
    serve`` of the test's own, stopped and removed after it."""
    factory = ServerFactory(tmp_path_factory, "serve")
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture(scope="module")
def make_module_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerFactory]:
    """``make_server`` for a module-scoped fixture: its servers stop after it."""
    factory = ServerFactory(tmp_path_factory, "serve")
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublisherProcess]:
    """``publisher serve`` over the sample with the default settings (and the
    admin token): shared by the session, so read-only."""
    factory = ServerFactory(tmp_path_factory, "served")
    try:
        yield factory()
    finally:
        factory.close()


def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"extra check: {REFERENCE} (real outside material) is not present")
    return REFERENCE
