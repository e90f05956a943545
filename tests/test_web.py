"""The web app through Flask's test client: pages, share metadata, negotiation,
caching, feeds, cards, errors and safe output."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import extruct
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from publisher.model import Release, Status
from publisher.store import catalog
from publisher.web import create_app

from .apps import PUBLISH_TOKEN, AppFactory

SLUG = "labour-market-overview-uk-september-2026"
EVIL = '</script><script>alert(1)</script> "A & B"'


@pytest.fixture(scope="module")
def app(make_module_app: AppFactory, sample_releases: list[Release]) -> Flask:
    """The sample, an evil release and a deleted one, and a Twitter handle."""
    evil = replace(
        sample_releases[5],
        slug="evil-release",
        title=EVIL,
        summary=EVIL + " and a summary long enough for the shapes to be happy.",
        source=None,
    )
    return make_module_app(
        [*sample_releases, evil],
        prepare=lambda store, settings: catalog.delete(
            store,
            ["graduates-in-the-uk-labour-market-2026"],
            "Duplicate of another release.",
            settings,
        ),
        twitter_handle="@examplestats",
        write_tokens="",
        write_tokens_file="",
    )


ROUTES = [
    ("/", 200, "text/html"),
    ("/releases", 200, "text/html"),
    ("/releases?view=published", 200, "text/html"),
    ("/releases?view=cancelled&topic=economy", 200, "text/html"),
    (f"/releases/{SLUG}", 200, "text/html"),
    (f"/releases/{SLUG}.ttl", 200, "text/turtle"),
    (f"/releases/{SLUG}.jsonld", 200, "application/ld+json"),
    (f"/releases/{SLUG}.rdf", 200, "application/rdf+xml"),
    (f"/releases/{SLUG}.nt", 200, "application/n-triples"),
    (f"/releases/{SLUG}/card.png", 200, "image/png"),
    ("/card.png", 200, "image/png"),
    ("/topics/economy", 200, "text/html"),
    ("/topics/no-such-topic", 404, "text/html"),
    ("/releases/no-such-release", 404, "text/html"),
    ("/releases/graduates-in-the-uk-labour-market-2026", 410, "text/html"),
    ("/ns", 200, "text/html"),
    ("/ns?format=ttl", 200, "text/turtle"),
    ("/catalog", 200, "text/turtle"),
    ("/.well-known/void", 200, "text/turtle"),
    ("/dump.nq.gz", 200, "application/gzip"),
    ("/feeds/releases.atom", 200, "application/atom+xml"),
    ("/feeds/upcoming.ics", 200, "text/calendar"),
    ("/sitemap.xml", 200, "application/xml"),
    ("/robots.txt", 200, "text/plain"),
    ("/healthz", 200, "application/json"),
    ("/releases?from=not-a-date", 400, "text/html"),
]


@pytest.mark.parametrize(("path", "status", "mimetype"), ROUTES)
def test_routes(client: FlaskClient, path: str, status: int, mimetype: str) -> None:
    response = client.get(path)
    assert response.status_code == status, path
    assert response.mimetype == mimetype
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"]
    response.close()  # a streamed body (the dump's file), as a WSGI server closes it


def _meta(html: str) -> dict[str, list[str]]:
    data = extruct.extract(html, syntaxes=["opengraph", "json-ld"], uniform=False)
    props: dict[str, list[str]] = {}
    for block in data["opengraph"]:
        for key, value in block["properties"]:
            props.setdefault(key, []).append(value)
    return props


def test_release_page_share_metadata(client: FlaskClient) -> None:
    html = client.get(f"/releases/{SLUG}?utm_source=x&utm_campaign=y").get_data(
        as_text=True
    )
    og = _meta(html)
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
        "article:modified_time",
        "article:published_time",
        "article:section",
        "article:tag",
    ):
        assert key in og, key
    base = "http://127.0.0.1:8000"
    assert og["og:url"] == [f"{base}/releases/{SLUG}"]
    assert og["og:image"] == [f"{base}/releases/{SLUG}/card.png"]
    assert (og["og:image:width"], og["og:image:height"]) == (["1200"], ["630"])
    assert f'<link rel="canonical" href="{base}/releases/{SLUG}">' in html
    assert "utm_" not in html.split('rel="canonical"')[1].split(">")[0]
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(html)

    def named(name: str) -> str:
        found = tree.xpath(f'//meta[@name="{name}"]/@content')
        assert found, name
        return str(found[0])

    assert named("twitter:card") == "summary_large_image"
    assert named("twitter:site") == "@examplestats"
    assert len(named("twitter:title")) <= 70
    assert len(named("twitter:description")) <= 200
    assert named("twitter:label1") == "Release date"
    assert named("twitter:data1").startswith("Tuesday 15 September 2026, 7:00am")
    assert (named("twitter:label2"), named("twitter:data2")) == ("Status", "Published")
    alternates = tree.xpath('//link[@rel="alternate"]/@type')
    for mimetype in (
        "text/turtle",
        "application/ld+json",
        "application/rdf+xml",
        "application/n-triples",
        "application/atom+xml",
        "text/calendar",
    ):
        assert mimetype in alternates
    assert tree.xpath('//link[@rel="license"]/@href')
    # share links carry campaign parameters
    share = tree.xpath('//ul[@class="share"]//a/@href')
    assert len(share) == 5
    assert all("utm_source" in href and "utm_campaign" in href for href in share)


def test_jsonld_block_is_the_store_graph(client: FlaskClient, app: Flask) -> None:
    html = client.get(f"/releases/{SLUG}").get_data(as_text=True)
    data = extruct.extract(html, syntaxes=["json-ld"], uniform=False)["json-ld"]
    assert len(data) == 1
    block = data[0]
    assert block["@context"] == "https://schema.org"
    types = [n["@type"] for n in block["@graph"][:6]]
    assert types == [
        "Organization",
        "WebSite",
        "WebPage",
        "BreadcrumbList",
        "Dataset",
        "PublicationEvent",
    ]
    raw = html.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert json.loads(raw) == block  # strict JSON


def test_title_cut_for_twitter_at_a_word() -> None:
    from publisher.web.meta import cut

    text = (
        "Annual survey of hours and earnings, pension tables, UK: "
        "provisional and revised results"
    )
    short = cut(text, 70)
    assert len(short) <= 70
    assert short.endswith("…")
    assert text.startswith(short[:-1])
    assert short[-2] != " "


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        ("text/turtle", "text/turtle"),
        ("application/ld+json", "application/ld+json"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("application/n-triples", "application/n-triples"),
        ("text/html,application/xhtml+xml;q=0.9", "text/html"),
        ("text/turtle;q=0.5, application/ld+json;q=0.9", "application/ld+json"),
        ("*/*", "text/html"),
    ],
)
def test_content_negotiation(client: FlaskClient, accept: str, mimetype: str) -> None:
    response = client.get(f"/releases/{SLUG}", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert "Accept" in response.headers["Vary"]
    assert 'rel="alternate"; type="text/turtle"' in response.headers["Link"]


def test_406_lists_the_formats(client: FlaskClient) -> None:
    response = client.get(f"/releases/{SLUG}", headers={"Accept": "image/png"})
    assert response.status_code == 406
    text = response.get_data(as_text=True)
    for mimetype in ("text/html", "text/turtle", "application/ld+json"):
        assert mimetype in text


@pytest.mark.parametrize(
    ("suffix", "parser"),
    [("ttl", "turtle"), ("jsonld", "json-ld"), ("rdf", "xml"), ("nt", "nt")],
)
def test_every_format_parses_to_the_store_triples(
    client: FlaskClient, app: Flask, suffix: str, parser: str
) -> None:
    site = app.extensions["publisher"]
    stored = Graph().parse(
        data=catalog.release_graph_ntriples(site.store, site.settings, SLUG),
        format="nt",
    )
    body = client.get(f"/releases/{SLUG}.{suffix}").get_data(as_text=True)
    if suffix == "jsonld":
        assert isinstance(json.loads(body)["@context"], dict)  # inline context
    assert isomorphic(Graph().parse(data=body, format=parser), stored)


def test_etag_and_last_modified_give_304(client: FlaskClient) -> None:
    first = client.get(f"/releases/{SLUG}.ttl")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"].startswith("public")
    assert (
        client.get(f"/releases/{SLUG}.ttl", headers={"If-None-Match": etag}).status_code
        == 304
    )
    assert (
        client.get(
            f"/releases/{SLUG}.ttl", headers={"If-Modified-Since": modified}
        ).status_code
        == 304
    )
    html = client.get(f"/releases/{SLUG}")
    assert html.headers["ETag"] != etag  # one per representation
    assert (
        client.get(
            f"/releases/{SLUG}", headers={"If-None-Match": html.headers["ETag"]}
        ).status_code
        == 304
    )


def test_card_is_a_1200_by_630_png_under_1mb(client: FlaskClient) -> None:
    for path in (
        f"/releases/{SLUG}/card.png",
        "/releases/evil-release/card.png",
        "/card.png",
    ):
        data = client.get(path).get_data()
        assert len(data) < 1_000_000
        image = Image.open(io.BytesIO(data))
        assert (image.format, image.size) == ("PNG", (1200, 630))


def test_410_shows_the_tombstone(client: FlaskClient) -> None:
    text = client.get("/releases/graduates-in-the-uk-labour-market-2026").get_data(
        as_text=True
    )
    assert "Duplicate of another release." in text
    assert "Graduates in the UK labour market" in text


def test_calendar_filters_counts_and_pages(
    client: FlaskClient, sample_releases: list[Release]
) -> None:
    text = client.get("/releases?view=published&q=labour").get_data(as_text=True)
    assert "labour-market-overview-uk-september-2026" in text
    assert "consumer-price-inflation" not in text
    # the deleted release was provisional: every published one is listed
    published = sum(1 for r in sample_releases if r.status is Status.PUBLISHED)
    assert f'Published <span class="count">({published})</span>' in client.get(
        "/releases"
    ).get_data(as_text=True)
    economy = client.get("/releases?view=all&topic=economy").get_data(as_text=True)
    assert "release(s)" not in economy


def test_evil_title_is_harmless_everywhere(client: FlaskClient) -> None:
    html = client.get("/releases/evil-release").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert html.count("<script") == 1  # only the JSON-LD block
    block = html.split('<script type="application/ld+json">')[1].split("</script>")[0]
    names = {node.get("name") for node in json.loads(block)["@graph"]}
    assert EVIL in names  # the text survives, as data
    assert "&lt;/script&gt;" in html  # escaped in text and attributes
    og = _meta(html)
    assert og["og:title"] == [EVIL]
    for path in ("/feeds/releases.atom", "/sitemap.xml"):
        ET.fromstring(client.get(path).get_data())  # still well-formed XML
    listing = client.get("/releases?view=all").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in listing


def test_feeds(client: FlaskClient) -> None:
    atom = ET.fromstring(client.get("/feeds/releases.atom").get_data())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = atom.findall("a:entry", ns)
    assert entries
    assert all(e.find("a:link", ns) is not None for e in entries)
    ics = client.get("/feeds/upcoming.ics").get_data(as_text=True)
    assert ics.startswith("BEGIN:VCALENDAR\r\n")
    assert "STATUS:CANCELLED" in ics
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))
    economy = client.get("/feeds/upcoming.ics?topic=economy").get_data(as_text=True)
    assert economy.count("BEGIN:VEVENT") < ics.count("BEGIN:VEVENT")
    sitemap = ET.fromstring(client.get("/sitemap.xml").get_data())
    locs = [
        e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")
    ]
    assert (
        "http://127.0.0.1:8000/releases/graduates-in-the-uk-labour-market-2026"
        not in locs
    )
    assert f"http://127.0.0.1:8000/releases/{SLUG}" in locs
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert (
        "Disallow: /sparql" in robots
        and "Sitemap: http://127.0.0.1:8000/sitemap.xml" in robots
    )


def test_vocabulary_is_negotiated(client: FlaskClient) -> None:
    graph = Graph().parse(
        data=client.get("/ns", headers={"Accept": "application/ld+json"}).get_data(
            as_text=True
        ),
        format="json-ld",
    )
    assert (URIRef("https://w3id.org/release-publisher/ns"), None, None) in graph


def test_healthz(client: FlaskClient) -> None:
    data = client.get("/healthz").get_json()
    assert data["status"] == "ok"
    assert data["releases"] == 52  # 52 + evil - deleted


def test_a_store_for_another_base_url_is_refused(app: Flask) -> None:
    from publisher.errors import StoreConflictError

    site = app.extensions["publisher"]
    with pytest.raises(StoreConflictError):
        create_app(
            replace(site.settings, base_url="https://other.example"), store=site.store
        )


def test_icalendar_carries_its_time_zone(client: FlaskClient) -> None:
    ics = client.get("/feeds/upcoming.ics").get_data(as_text=True)
    assert "BEGIN:VTIMEZONE\r\nTZID:Europe/London" in ics
    assert "TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nTZNAME:BST" in ics
    assert "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\nTZNAME:GMT" in ics
    # 07:00 on a June day is 07:00 London time (BST), written as local time + TZID
    assert "DTSTART;TZID=Europe/London:" in ics
    events = ics.split("BEGIN:VEVENT")[1:]
    assert events
    assert all(
        "\r\nDTSTART;TZID=Europe/London:" in e for e in events
    )  # no UTC or floating
    icalendar_lines = [
        line for line in ics.split("\r\n") if line.startswith("DTSTART;")
    ]
    assert all(line[-6:] in ("070000", "093000") for line in icalendar_lines)


def test_icalendar_stamps_each_event_with_its_release_s_last_change(
    client: FlaskClient,
) -> None:
    """DTSTAMP is the release's last change (RFC 5545 3.8.7.2: without METHOD, it
    is LAST-MODIFIED), so the feed is the same text until something changes."""
    from publisher.web.feeds import _fold

    ics = client.get("/feeds/upcoming.ics").get_data(as_text=True)
    events = ics.replace("\r\n ", "").split("BEGIN:VEVENT")[1:]
    assert events
    index = client.application.extensions["publisher"].index
    for event in events:
        slug = event.split("\r\nUID:", 1)[1].split("@", 1)[0]
        row = index.get(slug)
        assert row is not None and row.modified, slug
        stamp = row.modified.replace("-", "").replace(":", "")[:15] + "Z"
        assert f"\r\nDTSTAMP:{stamp}\r\n" in event, (slug, row.modified)
    # lines folded the same whether written fast (ASCII) or a character at a time
    for line in ["x" * 74, "x" * 75, "x" * 76, "y" * 300, "é" * 40 + "x" * 80]:
        folded = _fold(line)
        assert folded.replace("\r\n ", "") == line
        assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
        assert _fold(line + "é")[: len(folded) - 1] == folded[:-1]


def test_atom_lists_changes_too(client: FlaskClient) -> None:
    feed = client.get("/feeds/releases.atom").get_data(as_text=True)
    assert "<title>Date changed: " in feed or "<title>Cancelled: " in feed
    assert "<title>Published: " in feed


def test_sitemap_index_past_the_limit(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publisher.web import feeds

    monkeypatch.setattr(feeds, "SITEMAP_MAX", 20)
    client = make_app().test_client()  # sitemaps are kept: made afresh here
    index = ET.fromstring(client.get("/sitemap.xml").get_data())
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    assert index.tag == f"{ns}sitemapindex"
    parts = [e.text for e in index.iter(f"{ns}loc")]
    assert parts == [f"http://127.0.0.1:8000/sitemaps/{n}.xml" for n in (1, 2, 3)]
    seen = []
    for n in (1, 2, 3):
        urlset = ET.fromstring(client.get(f"/sitemaps/{n}.xml").get_data())
        seen += [e.text for e in urlset.iter(f"{ns}loc")]
    assert len(seen) == len(set(seen)) == 54  # home, calendar, 52 releases
    assert client.get("/sitemaps/4.xml").status_code == 404


def test_catalog_is_paged_dcat(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rdflib import Namespace
    from rdflib.namespace import RDF

    from publisher.web import linked

    dcat = Namespace("http://www.w3.org/ns/dcat#")
    hydra = Namespace("http://www.w3.org/ns/hydra/core#")
    monkeypatch.setattr(linked, "CATALOG_PAGE", 25)
    datasets = set()
    for page in (1, 2, 3):
        body = client.get(f"/catalog?page={page}", headers={"Accept": "text/turtle"})
        graph = Graph().parse(data=body.get_data(as_text=True), format="turtle")
        catalog_node = URIRef("http://127.0.0.1:8000/catalog#catalog")
        assert (catalog_node, RDF.type, dcat.Catalog) in graph
        datasets |= set(graph.objects(catalog_node, dcat.dataset))
        view = URIRef(f"http://127.0.0.1:8000/catalog?page={page}")
        assert (view, hydra.next, None) in graph or page == 3
    assert len(datasets) == 52
    assert client.get("/catalog?page=4").status_code == 404


@pytest.mark.parametrize(
    "path", ["/", "/releases", "/topics/economy", "/releases/no-such"]
)
def test_every_page_has_share_tags_and_one_json_ld_block(
    client: FlaskClient, path: str
) -> None:
    html = client.get(path).get_data(as_text=True)
    data = extruct.extract(html, syntaxes=["json-ld", "opengraph"], uniform=False)
    (block,) = data["json-ld"]
    assert block["@context"] == "https://schema.org"
    assert [n["@type"] for n in block["@graph"]] == [
        "Organization",
        "WebSite",
        "WebPage",
        "BreadcrumbList",
    ]
    og = _meta(html)
    for key in ("og:title", "og:url", "og:image", "og:image:width", "og:site_name"):
        assert key in og
    assert 'name="twitter:card" content="summary_large_image"' in html


def test_vocabulary_page_for_people(client: FlaskClient) -> None:
    html = client.get("/ns", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<code>pub:Release</code>" in html
    assert 'id="Postponed"' in html
    turtle = client.get("/ns", headers={"Accept": "text/turtle"})
    assert turtle.mimetype == "text/turtle"


def test_the_to_date_includes_its_day(client: FlaskClient, app: Flask) -> None:
    site = app.extensions["publisher"]
    row = next(
        r for r in site.index.all_rows() if r.status == "confirmed" and r.release_date
    )
    day = row.release_date[:10]
    html = client.get(f"/releases?view=upcoming&from={day}&to={day}").get_data(
        as_text=True
    )
    assert f"/releases/{row.slug}" in html


def test_a_welsh_release_page_says_so(client: FlaskClient) -> None:
    html = client.get("/releases/marchnad-lafur-cymru-tachwedd-2026").get_data(
        as_text=True
    )
    assert html.startswith('<!doctype html>\n<html lang="cy">')


def test_dump_is_every_quad_gzipped(client: FlaskClient, app: Flask) -> None:
    import gzip

    site = app.extensions["publisher"]
    with client.get("/dump.nq.gz") as response:  # a streamed file: closed after
        body = gzip.decompress(response.get_data()).decode()
    assert len(body.splitlines()) == site.store.count_quads()


def test_the_calendar_feed_holds_every_upcoming_and_cancelled_release(
    make_app: AppFactory,
) -> None:
    """Not the first page of each list: a subscriber's calendar has them all."""
    client = make_app().test_client()
    records = [
        {
            "id": f"many-upcoming-{n:02d}",
            "title": f"Upcoming figures {n}",
            "status": "confirmed",
            "release_date": f"2031-03-{n + 1:02d}T09:30:00+00:00",
        }
        for n in range(25)
    ]
    reply = client.post(
        "/api/batches",
        json=records,
        headers={"Authorization": f"Bearer {PUBLISH_TOKEN}"},
    )
    assert reply.status_code == 200, reply.json
    ics = client.get("/feeds/upcoming.ics").get_data(as_text=True)
    dated = 0  # releases with a date (a month alone is no calendar event)
    for view in ("upcoming", "cancelled"):
        url: str | None = f"/api/releases?view={view}"
        while url:
            page = client.get(url).json
            assert page is not None
            dated += sum(1 for r in page["releases"] if r.get("release_date"))
            url = page.get("next")
    assert dated > 25
    assert ics.count("BEGIN:VEVENT") == dated
    assert all(f"many-upcoming-{n:02d}" in ics for n in range(25))
