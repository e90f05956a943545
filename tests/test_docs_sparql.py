"""docs/sparql.md stays true: its queries, curl commands and SPARQLWrapper code run
against a real ``publisher serve`` (with an admin token), and the query page's
examples are the ones it shows."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterator

import pytest

from publisher.sparql import EXAMPLES

from .conftest import ROOT
from .publisher_server import ADMIN_TOKEN, PublisherProcess

DOC = (ROOT / "docs" / "sparql.md").read_text()
DOC_BASE = "http://127.0.0.1:8000"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", DOC, re.M | re.S)


@pytest.fixture(scope="module")
def server() -> Iterator[PublisherProcess]:
    with PublisherProcess() as running:
        yield running


def test_the_page_examples_are_the_documented_ones() -> None:
    documented = [block.strip() for block in _blocks("sparql")]
    for example in EXAMPLES:
        if "CONSTRUCT" not in example.query:  # the page's one extra is a CONSTRUCT
            assert example.query.strip() in documented, example.name


@pytest.mark.parametrize("number", range(len(_blocks("sparql"))))
def test_documented_queries_run(server: PublisherProcess, number: int) -> None:
    query = _blocks("sparql")[number]
    status, _headers, body = server.request(
        "GET",
        "/sparql?" + urllib.parse.urlencode({"query": query, "format": "json"}),
    )
    assert status == 200, body
    data = json.loads(body)
    assert data["head"]["vars"]


def _commands(block: str) -> list[str]:
    """The commands of a shell block: comment lines dropped, continuations joined."""
    commands, current = [], ""
    for line in block.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line + "\n"
        if not line.endswith("\\") and current.count("'") % 2 == 0:
            commands.append(current)
            current = ""
    return commands


CURL = [c for block in _blocks("sh") for c in _commands(block) if c.startswith("curl")]


def test_every_curl_command_is_found() -> None:
    assert len(CURL) == 5


@pytest.mark.parametrize("number", range(len(CURL)))
def test_documented_curl_commands_work(server: PublisherProcess, number: int) -> None:
    assert shutil.which("curl"), "curl is installed by make (DEB_PACKAGES)"
    command = CURL[number].replace(DOC_BASE, server.base).rstrip()
    done = subprocess.run(
        ["bash", "-c", command + " -w '\\nHTTP %{http_code}'"],
        capture_output=True,
        text=True,
        env={**server.env, "PUBLISHER_TOKEN": ADMIN_TOKEN},
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    body, _, status = done.stdout.rpartition("\nHTTP ")
    assert status == "200", done.stdout
    assert body.strip()


def test_documented_sparqlwrapper_code_runs(server: PublisherProcess) -> None:
    (code,) = _blocks("python")
    scope: dict[str, object] = {}
    exec(code.replace(DOC_BASE, server.base), scope)  # noqa: S102 - our own docs
    assert scope["cancelled"]
    assert str(scope["table"]).startswith("slug,title")
    assert len(scope["graph"]) > 20  # type: ignore[arg-type]
