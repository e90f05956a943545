"""The apps and servers the tests build: the bundled sample imported into a fresh
store, the tokens they accept, and factories that close everything they made.

The fixtures in conftest.py use these; a test asks for the fixtures (``app``,
``make_app``, ``served``, ``make_server``, ...), not for this module, except for
its tokens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from publisher import pipeline
from publisher.config import Settings
from publisher.model import Release
from publisher.store import Store
from publisher.store.index import ListingIndex
from publisher.store.oxigraph import EmbeddedStore
from publisher.store.schedule import ScheduleStore
from publisher.web import create_app
from tests.publisher_server import ADMIN_TOKEN, PublisherProcess

#: the publish-role token of every test app, named ``pipeline`` in its tokens file
PUBLISH_TOKEN = "test-publish-token-9876543210"  # noqa: S105 - a test's own token


def write_tokens_file(
    folder: Path, name: str = "pipeline", token: str = PUBLISH_TOKEN
) -> str:
    """A tokens file granting ``token`` the publish role under ``name``."""
    path = folder / "tokens"
    digest = hashlib.sha256(token.encode()).hexdigest()
    path.write_text(f"{name} publish {digest}\n")
    return str(path)


class AppFactory:
    """``make_app(releases=None, *, store=None, index=None, schedule=None,
    prepare=None, settings=None, **values)``: an app over the releases (default:
    the bundled sample) imported into ``store`` (default: a fresh in-memory
    embedded store), then ``prepare(store, settings)`` if given; its settings are
    ``settings`` as they are, else the test tokens and ``values``
    (``self.settings(**values)``). Ready for ``app.test_client()``.

    ``close()`` closes every app's SPARQL service and what the factory made for it
    (a store, index or schedule a test passes in is that test's to close).
    """

    def __init__(self, folder: Path, sample: Sequence[Release]) -> None:
        self.folder = folder
        self.sample = list(sample)
        self._tokens: str | None = None
        self._made: list[Flask] = []
        self._owned: list[EmbeddedStore | ListingIndex | ScheduleStore] = []

    def settings(self, **values: Any) -> Settings:
        """The test settings: the admin token (ADMIN_TOKEN, named ``env-1`` in the
        history), the publish token's file, then ``values``."""
        if self._tokens is None:
            self._tokens = write_tokens_file(self.folder)
        return Settings(
            **{
                "write_tokens": ADMIN_TOKEN,
                "write_tokens_file": self._tokens,
                **values,
            }
        )

    def __call__(
        self,
        releases: Sequence[Release] | None = None,
        *,
        store: Store | None = None,
        index: ListingIndex | None = None,
        schedule: ScheduleStore | None = None,
        prepare: Callable[[Store, Settings], object] | None = None,
        settings: Settings | None = None,
        **values: Any,
    ) -> Flask:
        if settings is None:
            settings = self.settings(**values)
        if store is None:
            store = EmbeddedStore.in_memory()
            self._owned.append(store)
        if index is None:
            index = ListingIndex(":memory:")
            self._owned.append(index)
        if schedule is None:
            schedule = ScheduleStore(":memory:")
            self._owned.append(schedule)
        chosen = self.sample if releases is None else list(releases)
        assert pipeline.import_batch(chosen, settings, store, jobs=1).published
        if prepare is not None:
            prepare(store, settings)
        app = create_app(settings, store=store, index=index, schedule=schedule)
        app.config["TESTING"] = True
        self._made.append(app)
        return app

    def close(self) -> None:
        made, self._made = self._made, []
        for app in made:
            app.extensions["publisher.sparql"].close()
        owned, self._owned = self._owned, []
        for thing in reversed(owned):
            thing.close()


class ServerFactory:
    """``make_server(env=None, *, import_sample=True)``: a started ``publisher
    serve`` (tests/publisher_server.py) over the sample, in a folder of its own
    from pytest's temporary folders; ``close()`` stops every one and removes it."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.name = name
        self._started: list[PublisherProcess] = []

    def __call__(
        self,
        env: dict[str, str] | None = None,
        *,
        import_sample: bool = True,
        workers: int = 1,
    ) -> PublisherProcess:
        folder = self.tmp_path_factory.mktemp(self.name)
        server = PublisherProcess(
            env=env, folder=folder, import_sample=import_sample, workers=workers
        )
        self._started.append(server)
        return server.start()

    def close(self) -> None:
        started, self._started = self._started, []
        for server in started:
            server.cleanup()


def put_summary(app: Flask, slug: str, words: str) -> None:
    """A release's summary with ``words`` added, written through the API."""
    client = app.test_client()
    record = client.get(f"/api/releases/{slug}").json
    assert record is not None
    record["summary"] += " " + words
    reply = client.put(
        f"/api/releases/{slug}",
        json=record,
        headers={"Authorization": f"Bearer {PUBLISH_TOKEN}"},
    )
    assert reply.status_code == 200, reply.json


def second_app(make_app: AppFactory, first: Flask) -> Flask:
    """Another app over ``first``'s store (as another worker of one server),
    with ``first`` brought up to what the second one's start wrote."""
    second = make_app(
        store=first.extensions["publisher"].store, index=ListingIndex(":memory:")
    )
    first.extensions["publisher"].refresh()
    return second
