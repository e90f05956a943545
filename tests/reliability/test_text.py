"""Hostile text in every field, read back through every output.

One release per hostile value (each Unicode line or paragraph separator, and XSS
payloads) with every text field of the native format holding it, published through
the API into one app, then read back as HTML (parsed: no element injected), the
JSON-LD block, the API record and list, RDF/XML, Turtle, N-Triples, SPARQL XML and
JSON results, Atom, iCalendar, the sitemap and the card: 200 everywhere, well-formed,
and the value round-trips exactly where the format can carry it. Then control
characters that an admin's SPARQL Update puts in the store (bypassing the input
checks) leave every XML output well-formed. Defects 1, 2 and 10 of issue 10.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef

from publisher.cli import cli
from publisher.config import Settings
from publisher.store.index import ListingIndex
from publisher.store.oxigraph import EmbeddedStore
from publisher.store.schedule import ScheduleStore
from publisher.web import create_app
from tests.conftest import FIXTURES

pytestmark = pytest.mark.reliability

ADMIN = "text-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
BASE = "http://127.0.0.1:8000"
SCHEMA_NAME = URIRef("http://schema.org/name")

#: line and paragraph separators that XML carries: accepted, and round-trip
SEPARATORS = {
    "u2028": "\u2028",
    "u2029": "\u2029",
    "u0085": "\u0085",
    "lf": "\n",
    "tab": "\t",
}
XSS = {
    "xss-attr": '"><script>alert(1)</script>',
    "xss-close": "</script><script>alert(2)</script>",
    "xss-cdata": "]]><!--&amp;'\"<img src=x onerror=alert(3)>",
}
HOSTILE = {**SEPARATORS, **XSS}


def _record(key: str, s: str) -> dict[str, Any]:
    """A release with every text field of the native format holding ``s``."""
    dl = "https://www.example.org/files/t.csv"
    return {
        "id": f"text-{key}",
        "title": f"Title {s} end",
        "summary": f"A summary long enough for the shapes, holding {s} in the middle.",
        "status": "cancelled",
        "release_date": "2027-05-18T07:00:00+01:00",
        "cancellation_notice": f"Notice {s} end",
        "date_changes": [
            {
                "previous_date": "2027-05-11T07:00:00+01:00",
                "reason": f"Reason {s} end",
                "changed_at": "2027-04-20T10:00:00+01:00",
            }
        ],
        "keywords": [f"keyword {s} end"],
        "topics": [{"id": f"topic-{key}", "label": f"Topic {s} end"}],
        "contacts": [
            {"name": f"Name {s} end", "email": "a@example.org", "telephone": "+44 1"}
        ],
        "publisher": {"name": f"Office {s} end", "url": "https://www.example.org/"},
        "datasets": [
            {
                "title": f"Dataset {s} end",
                "url": "https://www.example.org/d",
                "description": f"Description {s} end",
                "downloads": [
                    {"title": f"File {s} end", "url": dl, "format": "text/csv"}
                ],
            }
        ],
        "related_documents": [
            {"title": f"Bulletin {s} end", "url": "https://www.example.org/b"}
        ],
        "next_release": f"Next {s} end",
        "series": {"id": f"series-{key}", "title": f"Series {s} end"},
        "identifier": f"ident {s} end",
    }


#: text fields of _record, as paths into the API's record
TEXT_PATHS = [
    ("title",),
    ("summary",),
    ("cancellation_notice",),
    ("date_changes", 0, "reason"),
    ("keywords", 0),
    ("contacts", 0, "name"),
    ("publisher", "name"),
    ("datasets", 0, "title"),
    ("datasets", 0, "description"),
    ("datasets", 0, "downloads", 0, "title"),
    ("related_documents", 0, "title"),
    ("next_release",),
    ("series", "title"),
    ("identifier",),
]


def _strings(data: Any) -> set[str]:
    """Every string in a JSON value."""
    if isinstance(data, str):
        return {data}
    values = data.values() if isinstance(data, dict) else data
    if isinstance(values, list | type({}.values())):
        return set().union(*(_strings(v) for v in values))
    return set()


def _at(record: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        record = record[step]
    return record


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    store = EmbeddedStore.in_memory()
    app = create_app(
        Settings(write_tokens=ADMIN),
        store=store,
        index=ListingIndex(":memory:"),
        schedule=ScheduleStore(":memory:"),
    )
    app.config["TESTING"] = True
    client = app.test_client()
    records = [_record(key, s) for key, s in HOSTILE.items()]
    reply = client.post("/api/batches", json=records, headers=AUTH)
    assert reply.status_code in (200, 201), reply.get_data(as_text=True)[:2000]
    yield app
    app.extensions["publisher.sparql"].close()
    store.close()


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _ok(client: FlaskClient, url: str, **kw: Any) -> bytes:
    reply = client.get(url, **kw)
    assert reply.status_code == 200, (url, reply.status_code, reply.data[:500])
    data: bytes = reply.data
    return data


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


def _rdf_title(data: bytes, fmt: str, slug: str) -> str:
    graph = Graph()
    graph.parse(data=data, format=fmt)
    titles = [
        str(o)
        for o in graph.objects(URIRef(f"{BASE}/releases/{slug}#release"), SCHEMA_NAME)
        if isinstance(o, Literal)
    ]
    assert len(titles) == 1, titles
    return titles[0]


@pytest.mark.parametrize("key", list(HOSTILE))
def test_hostile_text_reads_back_through_every_output(
    client: FlaskClient, key: str
) -> None:
    s = HOSTILE[key]
    sent = _record(key, s)
    slug = sent["id"]
    # the API record and the list: every text field exactly as sent
    record = json.loads(_ok(client, f"/api/releases/{slug}"))
    for path in TEXT_PATHS:
        assert _at(record, path) == _at(sent, path), path
    assert record["topics"][0]["label"] == f"Topic {s} end"
    listed = json.loads(_ok(client, "/api/releases?view=cancelled"))
    assert slug in {r["id"] for r in listed["releases"]}

    # the HTML page: nothing injected; the JSON-LD block parses and holds the title
    page = _Elements()
    page.feed(_ok(client, f"/releases/{slug}").decode("utf-8"))
    plain = _Elements()
    plain.feed(_ok(client, "/releases/text-tab").decode("utf-8"))
    assert not any(t == "img" and "onerror" in a for t, a in page.tags)
    assert [t for t, _ in page.tags if t == "script"] == [
        t for t, _ in plain.tags if t == "script"
    ]
    scripts = list(
        zip([a for tg, a in page.tags if tg == "script"], page.scripts, strict=True)
    )
    blocks = [
        json.loads(c) for a, c in scripts if a.get("type") == "application/ld+json"
    ]
    assert blocks and all(
        "alert(" not in c for a, c in scripts if a.get("type") != "application/ld+json"
    )
    assert any(f"Title {s} end" in _strings(block) for block in blocks)
    assert f"Title {s} end" in "".join(page.text)

    # RDF: Turtle and N-Triples carry every character, RDF/XML too (XML 1.0 allows
    # these separators and escapes the markup)
    for suffix, fmt in (("ttl", "turtle"), ("nt", "nt"), ("rdf", "xml")):
        data = _ok(client, f"/releases/{slug}.{suffix}")
        if fmt == "xml":
            ET.fromstring(data)
        assert _rdf_title(data, fmt, slug) == f"Title {s} end", suffix
    jsonld = json.loads(_ok(client, f"/releases/{slug}.jsonld"))
    assert f"Title {s} end" in _strings(jsonld)

    # SPARQL results, XML and JSON
    query = (
        "SELECT ?t WHERE { <" + BASE + f"/releases/{slug}#release> "
        "<http://schema.org/name> ?t }"
    )
    xml = _ok(
        client,
        "/sparql",
        query_string={"query": query},
        headers={"Accept": "application/sparql-results+xml"},
    )
    ns = "{http://www.w3.org/2005/sparql-results#}"
    literals = [e.text for e in ET.fromstring(xml).iter(f"{ns}literal")]
    assert literals == [f"Title {s} end"]
    js = json.loads(
        _ok(
            client,
            "/sparql",
            query_string={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        )
    )
    assert [b["t"]["value"] for b in js["results"]["bindings"]] == [f"Title {s} end"]

    # the card
    card = client.get(f"/releases/{slug}/card.png")
    assert card.status_code == 200 and card.mimetype == "image/png"


def test_feeds_and_sitemap_are_well_formed_and_carry_the_titles(
    client: FlaskClient,
) -> None:
    atom = ET.fromstring(_ok(client, "/feeds/releases.atom"))
    ns = "{http://www.w3.org/2005/Atom}"
    titles = " ".join(e.text or "" for e in atom.iter(f"{ns}title"))
    for s in HOSTILE.values():
        assert f"Title {s} end" in titles
    ET.fromstring(_ok(client, "/feeds/changes.atom"))
    sitemap = ET.fromstring(_ok(client, "/sitemap.xml"))
    locs = {
        e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")
    }
    assert {f"{BASE}/releases/text-{key}" for key in HOSTILE} <= locs
    ics = _ok(client, "/feeds/upcoming.ics").decode("utf-8")
    assert all(
        line.startswith(("BEGIN", "END", " ")) or ":" in line or ";" in line
        for line in ics.split("\r\n")
        if line
    )


def test_a_line_separator_round_trips_through_json_lines(
    tmp_path: Path,
) -> None:
    """Defect 1: JSON Lines was split with str.splitlines(), cutting a record at a
    raw U+2028 inside a string."""
    record = _record("u2028", "\u2028")
    text = json.dumps(record, ensure_ascii=False) + "\n"
    text += json.dumps(_record("u2029", "\u2029"), ensure_ascii=False) + "\n"
    out = tmp_path / "out.ttl"
    # standard input is read whole and split into lines (a file, a line at a time)
    result = CliRunner().invoke(cli, ["convert", "-", "-o", str(out)], input=text)
    assert result.exit_code == 0, result.output
    graph = Graph()
    graph.parse(out, format="turtle")
    assert "Title \u2028 end" in {str(o) for o in graph.objects(None, SCHEMA_NAME)}


#: what XML 1.0 cannot carry; \v, \f and \x1c-\x1e are also line separators to
#: str.splitlines(), so they reach the store only by an admin's update
CONTROLS = [
    *("\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b"),
    *("\x1c", "\x1d", "\x1e", "\x1f", "\ufffe", "\uffff"),
]


@pytest.mark.parametrize("char", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_characters_xml_cannot_carry_are_refused_at_input(
    client: FlaskClient, tmp_path: Path, char: str
) -> None:
    """Defect 2 (a): the CLI exits 2 naming file, record and field; the API 422."""
    record = _record("ctl", "x")
    record["contacts"][0]["name"] = f"Name {char} end"
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps([record]), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("Error")]
    assert str(path) in line and "record 1" in line
    assert "field 'contacts[0].name'" in line and f"U+{ord(char):04X}" in line
    reply = client.put("/api/releases/text-ctl", json=record, headers=AUTH)
    assert reply.status_code == 422
    assert "contacts[0].name" in reply.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fixture", "suffix"),
    [
        ("govuk/confirmed.json", ".json"),
        ("ons-api/captured-cancelled.json", ".json"),
        ("ons-legacy/release-data.json", ".json"),
        ("native/yaml", ".yaml"),
        ("native/csv", ".csv"),
    ],
)
def test_every_importer_refuses_a_control_character(
    tmp_path: Path, fixture: str, suffix: str
) -> None:
    """Defect 2 (a) in the ONS, GOV.UK, YAML and CSV readers: exit 2, naming
    the file, the record and the field."""
    if fixture == "native/yaml":
        text = 'id: gdp-uk\ntitle: "GDP \\e estimate"\nstatus: confirmed\n'
    elif fixture == "native/csv":
        text = "id,title,status\ngdp-uk,GDP \x1b estimate,confirmed\n"
    else:
        text = (FIXTURES / fixture).read_text(encoding="utf-8")
        at = text.index('"title": "') + len('"title": "') + 1
        text = text[:at] + "\\u001b" + text[at:]
    path = tmp_path / f"input{suffix}"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("Error")]
    assert str(path) in line and "record 1" in line and "U+001B" in line, line
    assert "field '" in line, line  # the first "title" of the document's fields


def test_control_characters_from_an_admin_update_leave_xml_well_formed(
    app: Flask,
) -> None:
    """Defect 2 (b): an admin's SPARQL Update bypasses the input checks."""
    client = app.test_client()
    slug = "text-u2029"
    bad = "".join(CONTROLS)
    node = f"<{BASE}/releases/{slug}#release>"
    escaped = "".join(f"\\u{ord(c):04X}" for c in bad)
    update = (
        f"DELETE {{ GRAPH ?g {{ {node} <http://schema.org/name> ?t }} }} "
        f"INSERT {{ GRAPH ?g {{ {node} <http://schema.org/name> "
        f'"Bad {escaped} end" }} }} '
        f"WHERE {{ GRAPH ?g {{ {node} <http://schema.org/name> ?t }} }}"
    )
    reply = client.post(
        "/sparql",
        data=update.encode("utf-8"),
        headers={**AUTH, "Content-Type": "application/sparql-update"},
    )
    assert reply.status_code in (200, 204), reply.get_data(as_text=True)
    for url in (
        "/feeds/releases.atom",
        "/feeds/changes.atom",
        "/sitemap.xml",
        f"/releases/{slug}.rdf",
    ):
        ET.fromstring(_ok(client, url))
    query = f"SELECT ?t WHERE {{ {node} <http://schema.org/name> ?t }}"
    for accept in ("application/sparql-results+xml", "application/rdf+xml"):
        q = (
            query
            if "sparql" in accept
            else query.replace(
                "SELECT ?t WHERE",
                "CONSTRUCT { " + node + " <http://schema.org/name> ?t } WHERE",
            )
        )
        data = _ok(
            client, "/sparql", query_string={"query": q}, headers={"Accept": accept}
        )
        root = ET.fromstring(data)
        assert "Bad \ufffd" in "".join(root.itertext())
    for url in (
        f"/releases/{slug}",
        f"/api/releases/{slug}",
        "/api/releases",
        f"/releases/{slug}.ttl",
        f"/releases/{slug}.nt",
        f"/releases/{slug}/card.png",
        "/feeds/upcoming.ics",
    ):
        _ok(client, url)
    # the values the store holds are kept as they are where the format allows
    nt = _ok(client, f"/releases/{slug}.nt")
    assert _rdf_title(nt, "nt", slug) == f"Bad {bad} end"
    record = json.loads(_ok(client, f"/api/releases/{slug}"))
    assert record["title"] == f"Bad {bad} end"
    # and a PUT repairs it
    record["title"] = "Repaired"
    reply = client.put(f"/api/releases/{slug}", json=record, headers=AUTH)
    assert reply.status_code == 200, reply.get_data(as_text=True)[:1000]
    assert _rdf_title(_ok(client, f"/releases/{slug}.rdf"), "xml", slug) == "Repaired"


def test_a_huge_title_is_refused_naming_the_field(client: FlaskClient) -> None:
    """Defect 10: a 1 MB title took 17 s to POST and as long per page view."""
    record = _record("huge", "x")
    record["title"] = "Ab " * 350_000
    reply = client.put("/api/releases/text-huge", json=record, headers=AUTH)
    assert reply.status_code == 422
    assert "'title'" in reply.json["error"]["message"]  # type: ignore[index]
    record["title"] = "T" * 501  # over the shapes' limit, under the input cap
    reply = client.put("/api/releases/text-huge", json=record, headers=AUTH)
    assert reply.status_code == 422
    text = reply.get_data(as_text=True)
    assert "at most 500 characters" in text and '"title"' in text
