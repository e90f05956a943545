"""``publisher push``: publishing through a running server's API, with the same
reports and exit codes as ``import``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import FIXTURES
from .publisher_server import ADMIN_TOKEN, PublisherProcess, free_port

SUMMARY = "A release sent by publisher push, with a summary long enough for the shapes."


@pytest.fixture(scope="module")
def server() -> Iterator[PublisherProcess]:
    with PublisherProcess() as running:
        yield running


def push(*args: str, token: str = ADMIN_TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    return subprocess.run(
        [sys.executable, "-m", "publisher", "push", *args, "--token", token],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _write(path: Path, records: list[dict[str, object]]) -> str:
    path.write_text(json.dumps(records))
    return str(path)


def test_push_publishes_and_reports_like_import(
    server: PublisherProcess, tmp_path: Path
) -> None:
    records = [
        {
            "id": f"pushed-release-{n}",
            "title": f"Pushed release {n}",
            "status": "provisional",
            "provisional_date": "May 2027",
            "summary": SUMMARY,
        }
        for n in range(3)
    ]
    path = _write(tmp_path / "releases.json", records)
    first = push(path, "--server", server.base)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("3 published at " + server.base)
    status, _, body = server.request("GET", "/api/releases/pushed-release-2")
    assert status == 200 and json.loads(body)["summary"] == SUMMARY
    again = push(path, "--server", server.base)
    assert again.returncode == 0
    assert again.stdout.startswith("3 unchanged")


def test_a_refused_batch_names_the_users_file_record_and_field(
    server: PublisherProcess, tmp_path: Path
) -> None:
    good = {
        "id": "pushed-good",
        "title": "Pushed good",
        "status": "provisional",
        "provisional_date": "June 2027",
        "summary": SUMMARY,
    }
    bad = {
        "id": "pushed-bad",
        "title": "Pushed bad",
        "status": "confirmed",
        "summary": SUMMARY,
    }
    path = _write(tmp_path / "mixed.json", [good, bad])
    result = push(path, "--server", server.base)
    assert result.returncode == 1
    assert (
        f"Violation: {path}, record 2, id pushed-bad, field 'release_date'"
        in result.stderr
    )
    assert "Nothing published" in result.stderr
    assert server.request("GET", "/api/releases/pushed-good")[0] == 404


def test_an_ons_file_is_pushed_and_reported_in_its_own_field_names(
    server: PublisherProcess,
) -> None:
    source = str(FIXTURES / "ons-api" / "search-releases.json")
    result = push(source, "--server", server.base)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("6 published")
    # the server's warning, in the ONS file's own terms
    assert (
        f"Warning: {source}, record 5, id /releases/businessinsightsandconditions"
        "surveywave160, field 'description.cancellation_notice'"
    ) in result.stderr


def test_a_lifecycle_refusal_exits_1(server: PublisherProcess, tmp_path: Path) -> None:
    record = {
        "id": "pushed-to-cancel",
        "title": "Pushed, then cancelled",
        "status": "provisional",
        "summary": SUMMARY,
        "provisional_date": "July 2027",
    }
    path = _write(tmp_path / "c.json", [record])
    assert push(path, "--server", server.base).returncode == 0
    _write(tmp_path / "c.json", [{**record, "status": "cancelled"}])
    result = push(path, "--server", server.base)
    assert result.returncode == 1
    assert "cancellation_notice" in result.stderr
    assert "Nothing published" in result.stderr


def test_authentication_and_connection_failures_exit_2(
    server: PublisherProcess, tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "one.json",
        [{"id": "never-pushed", "title": "Never", "status": "provisional"}],
    )
    wrong = push(path, "--server", server.base, token="not-a-token")  # noqa: S106
    assert wrong.returncode == 2
    assert "refused the token" in wrong.stderr
    closed = push(path, "--server", f"http://127.0.0.1:{free_port()}")
    assert closed.returncode == 2
    assert "cannot reach" in closed.stderr
    unreadable = push(str(tmp_path / "missing.json"), "--server", server.base)
    assert unreadable.returncode == 2
    assert "Traceback" not in wrong.stderr + closed.stderr + unreadable.stderr
