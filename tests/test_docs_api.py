"""docs/api.md stays true: its worked example (a release's life through the API)
runs as written, command by command and in order, against a real ``publisher serve``
with an admin token as ``$TOKEN``, and every request answers the status the doc
gives it (the ``# -> 201`` after it). Every operation of the OpenAPI description is
documented."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from publisher.web.openapi import openapi

from .conftest import ROOT
from .publisher_server import ADMIN_TOKEN, PublisherProcess

DOC = (ROOT / "docs" / "api.md").read_text()
DOC_BASE = "http://127.0.0.1:8000"
EXAMPLE_HEADING = "## A release's life through the API"
MARKER = re.compile(r"\s# -> (\d{3})\s*$")
STATUS = re.compile(r"^@@STATUS (\d{3}) (\d+)$", re.M)


def _example_blocks() -> list[str]:
    """The shell blocks of the worked example, after the one that starts a server."""
    section = DOC[DOC.index(EXAMPLE_HEADING) :]
    following = section.find("\n## ", len(EXAMPLE_HEADING))
    if following != -1:
        section = section[:following]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, re.M | re.S)
    assert "publisher demo --serve" in blocks[0]  # the server, started by the test
    return blocks[1:]


def _script() -> tuple[str, dict[int, int]]:
    """The example as one script, each request marked to report its status (on
    stderr, so that ``$(curl ...)`` still captures only the body), and the status
    the doc expects of each."""
    expected: dict[int, int] = {}
    out: list[str] = []
    heredoc: str | None = None
    start: int | None = None  # where the current command began, in out
    for block in _example_blocks():
        for line in block.splitlines():
            out.append(line)
            if heredoc is not None:
                if line == heredoc:
                    heredoc = None
                continue
            if start is None:
                start = len(out) - 1
            opened = re.search(r"<<'?(\w+)'?", line)
            if opened:
                heredoc = opened.group(1)
            if line.endswith("\\"):
                continue
            first = out[start]
            marked = MARKER.search(line)
            if first.startswith("curl "):
                assert marked, f"say which status this request answers: {first}"
                number = len(expected) + 1
                expected[number] = int(marked.group(1))
                out[start] = (
                    f"curl -w '%{{stderr}}@@STATUS %{{http_code}} {number}\\n' "
                    + first[len("curl ") :]
                )
            else:
                assert not marked, f"only a request has a status: {line}"
            start = None
    assert heredoc is None, "a here-document is not closed"
    return "set -e -o pipefail\n" + "\n".join(out) + "\n", expected


@pytest.fixture(scope="module")
def server() -> Iterator[PublisherProcess]:
    with PublisherProcess() as running:
        yield running


def test_the_example_is_a_whole_life() -> None:
    _script_text, expected = _script()
    statuses = list(expected.values())
    assert statuses[0] == 201  # created, provisional
    assert 202 in statuses  # scheduled under embargo
    assert {409, 412} <= set(statuses)  # the rules and If-Match, shown refusing
    assert "sleep " in _script_text  # waits for the publication, as the doc says


def test_the_worked_example_runs_as_written(
    server: PublisherProcess, tmp_path: Path
) -> None:
    assert shutil.which("curl"), "curl is installed by make (DEB_PACKAGES)"
    script, expected = _script()
    assert f"BASE={DOC_BASE}\n" in script
    done = subprocess.run(
        ["bash", "-c", script.replace(f"BASE={DOC_BASE}\n", f"BASE={server.base}\n")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**server.env, "TOKEN": ADMIN_TOKEN},
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    answered = {int(n): int(code) for code, n in STATUS.findall(done.stderr)}
    assert answered == expected, done.stdout

    # and the release is what the doc says it became
    slug = re.search(r"^ID=(\S+)$", script, re.M).group(1)  # type: ignore[union-attr]
    status, _headers, body = server.request("GET", f"/api/releases/{slug}")
    assert status == 200
    release = json.loads(body)
    assert release["status"] == "published"
    (change,) = release["date_changes"]
    assert change["reason"] and change["new_date"] and change["changed_at"]
    published = json.loads((tmp_path / "published.json").read_text())
    assert release["summary"] == published["summary"]
    status, _headers, body = server.request("GET", f"/releases/{slug}")
    page = body.decode()
    history = page[page.index("Changes to this release") :]
    for kind in ("Created", "Confirmed", "Postponed", "Published"):
        assert kind in history, kind
    assert "env-1" in history  # the admin token's name


def test_every_operation_is_documented() -> None:
    for path, item in openapi()["paths"].items():
        documented = path.replace("{slug}", "{id}")
        for method in item:
            if method == "parameters":
                continue
            assert f"`{method.upper()} {documented}" in DOC, (method, path)


def test_every_status_is_documented() -> None:
    codes = {
        code
        for item in openapi()["paths"].values()
        for method, operation in item.items()
        if method != "parameters"
        for code in operation["responses"]
    }
    for code in codes:
        assert re.search(rf"\b{code}\b", DOC), code
