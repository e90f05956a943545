"""kill -9 of ``publisher import`` (issue 10, defect 3): the store opens again
within 5 s and no worker process outlives the import.

Workers forked from the import shared its lock on ``<store>.lock``; killed, the
import left them alive as orphans holding it, and ``stats`` and ``serve`` refused
the store, naming the dead process.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.publisher_server import ADMIN_TOKEN, PublisherProcess, scrubbed_environment

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
OPEN_WITHIN = 5.0
STATS = [sys.executable, "-m", "publisher", "stats", "--format", "json"]


def _generate(path: Path, n: int, seed: int) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_convert", ROOT / "bench" / "convert.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    module.generate(path, n, seed)


def _marked(marker: str) -> list[int]:
    """Live (not zombie) processes whose environment carries ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            continue
        if marker.encode() in environ:
            found.append(int(entry))
    return found


def _none_outlive(marker: str, what: str) -> None:
    """No process carrying ``marker`` is left within OPEN_WITHIN seconds."""
    deadline = time.monotonic() + OPEN_WITHIN
    while (left := _marked(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes outlived {what}: {left}"


def _copy_store(base: Path, to: Path) -> Path:
    """A copy of the store at ``base`` and its listing index, at ``to``."""
    shutil.copytree(base, to)
    shutil.copy(f"{base}.index.sqlite", f"{to}.index.sqlite")
    return to


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_import_while_workers_run_leaves_store_openable(tmp_path: Path) -> None:
    data = tmp_path / "releases.jsonl"
    _generate(data, 2000, 10)
    store = tmp_path / "store"
    marker = f"CRASH_TRIAL={uuid.uuid4().hex}"
    env = {**_env(), "CRASH_TRIAL": marker.split("=", 1)[1]}
    cmd = [sys.executable, "-m", "publisher"]
    process = subprocess.Popen(
        [*cmd, "import", "--store", str(store), "--jobs", "2", str(data)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # wait until the workers run (more than the import itself is marked)
        deadline = time.monotonic() + 60
        while len([p for p in _marked(marker) if p != process.pid]) < 2:
            assert process.poll() is None, "the import ended before its workers ran"
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.1)
        time.sleep(random.Random(3).uniform(0.2, 1.5))  # noqa: S311
    finally:
        process.kill()
        process.wait()
    _stats(store, _env())
    _none_outlive(marker, "the killed import")


def _stats(store: Path, env: dict[str, str]) -> dict[str, object]:
    """Open the store with ``publisher stats`` (retrying up to 5 s): its figures."""
    started = time.monotonic()
    while True:
        run = subprocess.run(
            [*STATS, "--store", str(store)],
            env=env,
            capture_output=True,
            text=True,
        )
        if run.returncode == 0 or time.monotonic() - started > OPEN_WITHIN:
            break
        time.sleep(0.2)
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started <= OPEN_WITHIN + 3
    figures: dict[str, object] = json.loads(run.stdout)
    return figures


_STATE = """
import json, sys, time
from publisher.config import load_settings
from publisher.errors import PublisherError
from publisher.store import catalog, open_store
from publisher.store.index import ListingIndex

settings = load_settings()
started = time.monotonic()
while True:  # the store may still be locked for a moment: retry for 5 s
    try:
        store = open_store(settings)
        break
    except PublisherError:
        if time.monotonic() - started > 5:
            raise
        time.sleep(0.1)
opened = time.monotonic() - started
try:
    data_version = catalog.data_version(store, settings)
    releases = {s: v[0] for s, v in catalog.release_versions(store, settings).items()}
    index = ListingIndex.for_settings(settings)
    try:
        index_version = index.data_version()
        on_disk = {r.slug: r.content_hash for r in index.all_rows()}
        index.ensure_current(store, settings)  # what serve does before answering
        synced = {r.slug: r.content_hash for r in index.all_rows()}
    finally:
        index.close()
finally:
    store.close()
json.dump({"opened": opened, "data_version": data_version, "releases": releases,
           "index_version": index_version, "index": on_disk, "synced": synced},
          sys.stdout)
"""


def _state(store: Path, env: dict[str, str]) -> dict[str, str]:
    """Open the store (within 5 s, as every command does); each release's content
    version, checked against the listing index: the index as the crash left it
    must agree wherever it claims the store's data version, and once brought up to
    date (as ``serve`` does before answering) it must list exactly the store's
    releases at their versions."""
    run = subprocess.run(
        [sys.executable, "-c", _STATE],
        env={**env, "PUBLISHER_STORE": str(store)},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    state = json.loads(run.stdout)
    assert state["opened"] <= OPEN_WITHIN
    releases: dict[str, str] = state["releases"]
    if state["index_version"] == state["data_version"]:
        assert state["index"] == releases, "the index claims the store's version"
    assert state["synced"] == releases, "the synced index disagrees with the store"
    return releases


@dataclass(frozen=True)
class Published:
    """A store holding a first batch (and its listing index), before a second."""

    first: Path
    store: Path
    releases: dict[str, str]


def _env() -> dict[str, str]:
    return {**scrubbed_environment(), "PUBLISHER_BASE_URL": "https://example.org/stats"}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    folder = tmp_path_factory.mktemp("published")
    first = folder / "first.jsonl"
    _generate(first, 40, 1)
    store = folder / "base"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "publisher",
            "import",
            "--store",
            str(store),
            str(first),
        ],
        env=_env(),
        check=True,
        capture_output=True,
    )
    return Published(first, store, _state(store, _env()))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_import_at_random_moments_leaves_before_or_after(
    tmp_path: Path, published: Published
) -> None:
    second = tmp_path / "second.jsonl"
    _generate(second, 120, 2)
    env = _env()
    cmd = [sys.executable, "-m", "publisher", "import", "--jobs", "2"]
    base, before = published.store, published.releases
    done = _copy_store(base, tmp_path / "done")
    started = time.monotonic()
    subprocess.run([*cmd, "--store", str(done), str(second)], env=env, check=True)
    took = time.monotonic() - started
    after = _state(done, env)
    assert before != after
    rng = random.Random(36)  # noqa: S311 - seeded trials
    outcomes = []
    for trial in range(2):
        store = _copy_store(base, tmp_path / f"trial{trial}")
        marker = uuid.uuid4().hex
        process = subprocess.Popen(
            [*cmd, "--store", str(store), str(second)],
            env={**env, "CRASH_TRIAL": marker},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, took))
        process.kill()
        process.wait()
        releases = _state(store, env)
        assert releases in (before, after), f"trial {trial}: neither before nor after"
        outcomes.append("after" if releases == after else "before")
        _none_outlive(marker, f"trial {trial}: the import")
    print("import kill trials:", outcomes)


def _serve(
    store: Path, env: dict[str, str], folder: Path, workers: int = 1
) -> PublisherProcess:
    """``publisher serve --workers N`` over ``store`` on a free loopback port (not
    started: ``with`` it, or ``start()`` it)."""
    return PublisherProcess(env, store=store, folder=folder, workers=workers)


def _ask(server: PublisherProcess) -> None:
    """A SPARQL query, so that a reader process runs beside the server."""
    query = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
    assert server.request("GET", f"/sparql?{query}")[0] == 200


def _post(server: PublisherProcess, path: str, body: bytes) -> tuple[int, bytes]:
    headers = {
        "Authorization": f"Bearer {ADMIN_TOKEN}",
        "Content-Type": "application/json",
    }
    status, _, answer = server.request("POST", path, body, headers, timeout=60)
    return status, answer


@dataclass(frozen=True)
class Batch:
    """An API batch over the published store, and what it leaves once served."""

    body: bytes
    env: dict[str, str]
    after: dict[str, str]
    took: float  # seconds the server took to answer it


@pytest.fixture(scope="module")
def batch(published: Published, tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """Sent once to one server process, whose outcome every worker count's
    trials must match exactly (or leave the store as before)."""
    folder = tmp_path_factory.mktemp("batch")
    first, second = published.first, folder / "second.jsonl"
    _generate(second, 120, 2)
    # new releases, and changes to some already published (the calendar's rules
    # refuse other changes to them, such as a moved confirmed date)
    known = [json.loads(line) for line in first.read_text().splitlines()]
    slugs = {r["id"] for r in known}
    records = [{**r, "title": r["title"] + " (revised)"} for r in known[:20]] + [
        r
        for r in map(json.loads, second.read_text().splitlines())
        if r["id"] not in slugs
    ]
    body = json.dumps({"releases": records}).encode()
    env = {**_env(), "PUBLISHER_WRITE_TOKENS": ADMIN_TOKEN}
    done = _copy_store(published.store, folder / "done")
    with _serve(done, env, folder / "serve-done") as server:
        _ask(server)  # as in the trials: the batch's time is then comparable
        started = time.monotonic()
        status, answer = _post(server, "/api/batches", body)
        assert status == 200, answer[:500]
        took = time.monotonic() - started
    after = _state(done, env)
    assert published.releases != after
    return Batch(body, env, after, took)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("workers", [1, 2], ids=["1-worker", "2-workers"])
def test_kill_serve_during_a_batch_leaves_before_or_after(
    tmp_path: Path, published: Published, batch: Batch, workers: int
) -> None:
    """kill -9 of ``publisher serve`` during ``POST /api/batches``: the store as
    before the batch or after it. With ``--workers 2`` the supervisor is killed;
    its workers (the writer, a follower that may have taken the batch and handed
    it over) and their readers end with it (docs/serving.md)."""
    base, before, after = published.store, published.releases, batch.after
    env, took = batch.env, batch.took
    rng = random.Random(54)  # noqa: S311 - seeded trials
    outcomes = []
    for trial in range(3):
        store = _copy_store(base, tmp_path / f"trial{trial}")
        marker = uuid.uuid4().hex
        server = _serve(
            store, {**env, "CRASH_TRIAL": marker}, tmp_path / f"serve-{trial}", workers
        ).start()
        try:
            _ask(server)
            assert server.process is not None
            pid = server.process.pid
            others = [p for p in _marked(marker) if p != pid]
            # a reader (and, with workers, the workers and their readers)
            assert len(others) >= 1 + 2 * (workers > 1), "no reader ran beside it"
            sender = threading.Thread(
                target=lambda s=server: _ignore_errors(
                    _post, s, "/api/batches", batch.body
                )
            )
            sender.start()
            time.sleep(rng.uniform(0.05, took))
        finally:
            server.kill()
        sender.join(60)
        releases = _state(store, env)
        assert releases in (before, after), f"trial {trial}: neither before nor after"
        outcomes.append("after" if releases == after else "before")
        _none_outlive(marker, f"trial {trial}: the server")
    print(f"serve --workers {workers} kill trials (batch {took:.1f} s):", outcomes)


def _ignore_errors(call: Callable[..., object], *args: object) -> None:
    """The server's death breaks the connection: that is the point of the test."""
    with contextlib.suppress(OSError):
        call(*args)
