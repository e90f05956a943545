"""End to end over real HTTP: ``publisher serve`` (waitress) on a free port, read as
crawlers read it: extruct for the markup, rdflib for the data, Pillow for the card."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from email.message import Message

import extruct
import pytest
from lxml import html as lxml_html
from PIL import Image
from rdflib import Graph
from rdflib.compare import isomorphic

from .publisher_server import PublisherProcess

SLUG = "labour-market-overview-uk-september-2026"


@pytest.fixture
def server(served: PublisherProcess) -> str:
    """The base URL of the session's ``publisher serve`` (conftest.py)."""
    return served.base


def get(url: str, **headers: str) -> tuple[int, Message, bytes]:
    """Status, headers (case-insensitive, as HTTP has them) and body."""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def test_healthz_reports_the_store(server: str) -> None:
    status, _headers, body = get(f"{server}/healthz")
    data = json.loads(body)
    assert status == 200
    assert data["status"] == "ok"
    assert data["releases"] == 52
    assert data["store"].startswith("embedded store at")


def test_crawlers_find_json_ld_and_share_tags(server: str) -> None:
    status, headers, body = get(f"{server}/releases/{SLUG}")
    assert status == 200
    html = body.decode()
    data = extruct.extract(
        html,
        base_url=f"{server}/releases/{SLUG}",
        syntaxes=["json-ld", "opengraph"],
        uniform=False,
    )
    (block,) = data["json-ld"]
    raw = html.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert json.loads(raw) == block
    assert block["@graph"][4]["@id"] == f"{server}/releases/{SLUG}#release"
    og = {k: v for entry in data["opengraph"] for k, v in entry["properties"]}
    for key in (
        "og:type",
        "og:title",
        "og:description",
        "og:url",
        "og:site_name",
        "og:locale",
        "og:image",
        "og:image:width",
        "og:image:height",
        "og:image:type",
        "og:image:alt",
        "article:published_time",
        "article:modified_time",
        "article:section",
        "article:tag",
    ):
        assert og.get(key), key
    tree = lxml_html.fromstring(html)
    twitter = {
        m.get("name"): m.get("content")
        for m in tree.xpath('//meta[starts-with(@name, "twitter:")]')
    }
    for key in (
        "twitter:card",
        "twitter:title",
        "twitter:description",
        "twitter:image",
        "twitter:image:alt",
        "twitter:label1",
        "twitter:data1",
        "twitter:label2",
        "twitter:data2",
    ):
        assert twitter.get(key), key
    # the image the tags name is a real 1200x630 PNG under 1 MB
    status, headers, png = get(og["og:image"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert len(png) < 1_000_000
    assert Image.open(io.BytesIO(png)).size == (1200, 630)


@pytest.mark.parametrize(
    ("accept", "parser"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-triples", "nt"),
    ],
)
def test_negotiated_formats_parse_to_the_same_triples(
    server: str, accept: str, parser: str
) -> None:
    _, _, nt = get(f"{server}/releases/{SLUG}.nt")
    reference = Graph().parse(data=nt.decode(), format="nt")
    status, headers, body = get(f"{server}/releases/{SLUG}", Accept=accept)
    assert status == 200
    assert headers["Content-Type"].startswith(accept)
    assert "Accept" in headers["Vary"]
    assert isomorphic(Graph().parse(data=body.decode(), format=parser), reference)
    assert len(reference) > 80


def test_conditional_requests_get_304(server: str) -> None:
    _, headers, _ = get(f"{server}/releases/{SLUG}", Accept="text/turtle")
    status, _, body = get(
        f"{server}/releases/{SLUG}",
        Accept="text/turtle",
        **{"If-None-Match": headers["ETag"]},
    )
    assert (status, body) == (304, b"")
    status, _, _ = get(
        f"{server}/releases/{SLUG}.ttl",
        **{"If-Modified-Since": headers["Last-Modified"]},
    )
    assert status == 304
