"""The JSON-LD block built directly (publisher.embed) against pyld (issue 12, point 3).

pyld's block (``jsonld.graph_to_embed`` of the release's graph) is the oracle: for
every fixture and the sample calendar, read back from the stored graph as the site
reads it, the direct block must expand to exactly the same triples (canonical
N-Quads, under the package's context and the official schema.org context), and be
the same JSON, key for key and in the same order.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pyld import jsonld as pyld

from publisher.config import Settings
from publisher.embed import embeds_directly, release_embed
from publisher.errors import PublisherError, RemoteContextError
from publisher.importers import read_file
from publisher.jsonld import SCHEMA_ORG_URLS, document_loader, graph_to_embed
from publisher.model import (
    Contact,
    Dataset,
    DateChange,
    Designation,
    Document,
    Download,
    Organization,
    Release,
    Series,
    Status,
    Topic,
)
from publisher.namespaces import SCHEMA
from publisher.rdf import graph_to_ntriples, release_to_graph, release_to_triples
from publisher.readback import graph_to_release, read_ntriples
from publisher.resources import sample_calendar

from .conftest import FIXTURES, REFERENCE

OFFICIAL_CONTEXT = REFERENCE / "schemaorg" / "schemaorgcontext.jsonld"
INPUTS = [
    sample_calendar(),
    *sorted((FIXTURES / "native").glob("*.*")),
    *sorted((FIXTURES / "ons-api").glob("*.json")),
    *sorted((FIXTURES / "ons-legacy").glob("*.json")),
    *sorted((FIXTURES / "govuk").glob("*.json")),
]
SETTINGS = Settings()
#: Settings that change what the site's nodes say, and a base with a path.
OTHER_SETTINGS = Settings(
    base_url="https://stats.example.org/calendar",
    site_name="Statistics <calendar> & more",
    organization_name="Office for \u00c9tudes",
    organization_url="https://www.example.org/office",
    organization_logo="https://www.example.org/logo.png",
    default_license="",
    language="cy",
)


# Helpers ----------------------------------------------------------------------------


def official_loader(url: str, options: Any = None) -> dict[str, Any]:
    """The real schema.org context (../shared/reference); nothing from the network."""
    if url not in SCHEMA_ORG_URLS:
        raise RemoteContextError(f"not the schema.org context: {url}")
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(OFFICIAL_CONTEXT.read_text(encoding="utf-8")),
    }


def canonical(block: dict[str, Any], loader: Any) -> str:
    """The block as a consumer reads it: expanded, to RDF, canonical N-Quads
    (URDNA2015, so blank nodes would compare too)."""
    options = {"algorithm": "URDNA2015", "format": "application/n-quads"}
    text: str = pyld.normalize(block, {**options, "documentLoader": loader})
    return text


def stored(release: Release, settings: Settings) -> tuple[Any, Release]:
    """The release's graph as the store holds it, and the Release the site reads."""
    graph = read_ntriples(graph_to_ntriples(release_to_graph(release, settings)))
    return graph, graph_to_release(graph, release.slug, settings)


def text(block: dict[str, Any]) -> str:
    return json.dumps(block, ensure_ascii=False, indent=2)


def assert_same_block(release: Release, settings: Settings) -> dict[str, Any]:
    """Direct and pyld blocks of a release (from the model, no read back) are equal."""
    graph = release_to_graph(release, settings)
    expected = graph_to_embed(graph)
    actual = release_embed(release, settings)
    assert text(actual) == text(expected), release.slug
    return actual


def terms(value: Any) -> set[str]:
    """Every key of every JSON object in a block."""
    if isinstance(value, dict):
        return set(value).union(*(terms(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(terms(v) for v in value))
    return set()


def fixture_releases(path: Path) -> list[Release]:
    try:
        return read_file(str(path), SETTINGS, "auto")
    except PublisherError:  # fixtures of bad input
        return []


# 1. Every fixture and the sample calendar, read back as the site reads them ------


Pairs = list[tuple[str, dict[str, Any], dict[str, Any]]]


@pytest.fixture(scope="module")
def pairs() -> Pairs:
    """(slug, pyld block of the stored graph, direct block of the read-back release)."""
    out = []
    for path in INPUTS:
        for release in fixture_releases(path):
            graph, back = stored(release, SETTINGS)
            # What is stored passed the shapes: the direct builder makes every block.
            assert embeds_directly(back, SETTINGS), release.slug
            out.append(
                (release.slug, graph_to_embed(graph), release_embed(back, SETTINGS))
            )
    return out


def test_every_input_yields_releases(
    pairs: Pairs,
) -> None:
    slugs = [slug for slug, _, _ in pairs]
    assert len(slugs) >= 52 + 20, len(slugs)  # the sample's 52 and the fixtures'
    assert len(read_file(str(sample_calendar()), SETTINGS)) == 52


def test_direct_block_is_the_pyld_block_key_for_key(
    pairs: Pairs,
) -> None:
    for slug, expected, actual in pairs:
        assert text(actual) == text(expected), slug


def test_direct_block_has_the_triples_of_the_pyld_block(
    pairs: Pairs,
) -> None:
    for slug, expected, actual in pairs:
        oracle = canonical(expected, document_loader)
        assert oracle.count("\n") > 30, slug
        assert canonical(actual, document_loader) == oracle, slug


@pytest.mark.reference
def test_direct_block_has_the_triples_under_the_official_context(
    pairs: Pairs,
) -> None:
    if not OFFICIAL_CONTEXT.is_file():
        pytest.skip(f"extra check: {OFFICIAL_CONTEXT} (outside material) is absent")
    for slug, expected, actual in pairs:
        oracle = canonical(expected, official_loader)
        assert oracle.count("\n") > 30, slug
        assert canonical(actual, official_loader) == oracle, slug


# 2. A release with every field set, and each field taken away ---------------------

LONDON = ZoneInfo("Europe/London")
FULL = Release(
    slug="full-release",
    title='Everything: "quoted" <b>bold</b> & more',
    status=Status.PUBLISHED,
    summary="A summary\nover two lines, with \u00e9 and \u2603.",
    release_date=datetime(2026, 3, 29, 1, 30, tzinfo=LONDON),
    provisional_date="March 2026",
    date_changes=(
        DateChange(date(2026, 2, 1), "Moved", datetime(2026, 1, 5, 9, tzinfo=UTC)),
        DateChange(
            datetime(2026, 3, 1, 9, 30, tzinfo=LONDON),
            None,
            None,
            datetime(2026, 3, 29, 1, 30, tzinfo=LONDON),
        ),
        DateChange(date(2026, 2, 1), "Moved back"),
    ),
    cancellation_notice="Not cancelled after all",
    published_date=datetime(2026, 3, 29, 2, 0, tzinfo=timezone(timedelta(hours=5))),
    designation=Designation.IN_DEVELOPMENT,
    census=True,
    topics=(
        Topic("zeta", "Zeta"),
        Topic("alpha", "Alpha & omega"),
        Topic("economy", "Economy"),
    ),
    keywords=("zebra", "\u00e9nergie", 'a"b', "a#b", "Apple", "zebra"),
    language="en-GB",
    contacts=(
        Contact("Team one", "one@example.org", "+44 1632 960000"),
        Contact(None, "two@example.org"),
        Contact(telephone="0300 123"),
        *(Contact(f"Team {n}") for n in range(4, 12)),
    ),
    publisher=Organization("Other Office", "https://other.example.org/"),
    license="https://creativecommons.org/licenses/by/4.0/",
    datasets=(
        Dataset(
            "Main tables",
            "https://www.example.org/datasets/main",
            "Every table",
            tuple(
                Download(
                    f"https://www.example.org/d/{n}.csv",
                    f"Part {n}" if n % 2 else None,
                    "text/csv" if n % 3 else "not a media type",
                    n * 12345 if n % 4 else None,
                )
                for n in range(1, 12)
            ),
        ),
        Dataset("No downloads"),
        Dataset("One download", downloads=(Download("https://www.example.org/x.ods"),)),
    ),
    related_documents=(
        Document("https://www.example.org/bulletin", "Bulletin"),
        Document("https://www.example.org/untitled"),
    ),
    next_release="April 2026",
    next_release_slug="full-release-next",
    series=Series("full-series", "The full series"),
    previous_edition="full-release-previous",
    same_as=(
        "https://source.example.org/b",
        "https://source.example.org/\u00e9",
        "https://source.example.org/a\u2003",
    ),
    identifier="id-123",
    former_slugs=("old-full-release",),
)
OPTIONAL = [
    f.name for f in dataclasses.fields(Release) if f.name not in ("slug", "source")
]


@pytest.mark.parametrize(
    "settings", [SETTINGS, OTHER_SETTINGS], ids=["default", "other"]
)
def test_full_release_uses_every_term_and_matches_pyld(settings: Settings) -> None:
    assert embeds_directly(FULL, settings)
    block = assert_same_block(FULL, settings)
    schema = str(SCHEMA)
    mapped = {
        str(p)[len(schema) :]
        for _, p, _ in release_to_triples(FULL, settings)
        if str(p).startswith(schema)
    }
    # The fixture leaves no branch of the mapping out: the block carries every
    # schema.org term the release's graph has.
    assert terms(block["@graph"]) - {"@id", "@type"} == mapped
    if settings is OTHER_SETTINGS:
        assert "logo" in mapped and "license" not in terms(block["@graph"]) - mapped


def test_full_release_read_back_matches_pyld() -> None:
    graph, back = stored(FULL, OTHER_SETTINGS)
    expected = graph_to_embed(graph)
    actual = release_embed(back, OTHER_SETTINGS)
    assert text(actual) == text(expected)
    assert canonical(actual, document_loader) == canonical(expected, document_loader)


@pytest.mark.parametrize("name", OPTIONAL)
def test_each_field_taken_away_still_matches_pyld(name: str) -> None:
    field = next(f for f in dataclasses.fields(Release) if f.name == name)
    default = None if field.default is dataclasses.MISSING else field.default
    release = dataclasses.replace(FULL, **{name: default})
    assert_same_block(release, SETTINGS)
    if name in ("title", "release_date", "date_changes"):
        assert_same_block(release, OTHER_SETTINGS)


@pytest.mark.parametrize("status", [None, *Status])
@pytest.mark.parametrize("dated", [True, False])
@pytest.mark.parametrize("changed", [True, False])
def test_every_status_matches_pyld(
    status: Status | None, dated: bool, changed: bool
) -> None:
    release = dataclasses.replace(
        FULL,
        status=status,
        release_date=FULL.release_date if dated else None,
        published_date=None,
        date_changes=FULL.date_changes if changed else (),
    )
    assert_same_block(release, SETTINGS)


def test_one_of_each_list_is_written_as_itself() -> None:
    release = dataclasses.replace(
        FULL,
        topics=FULL.topics[:1],
        keywords=FULL.keywords[:1],
        contacts=FULL.contacts[:1],
        datasets=FULL.datasets[2:],
        related_documents=FULL.related_documents[:1],
        same_as=FULL.same_as[:1],
        date_changes=FULL.date_changes[:1],
    )
    block = assert_same_block(release, SETTINGS)
    dataset = block["@graph"][4]
    assert isinstance(dataset["keywords"], str)
    assert isinstance(dataset["hasPart"], dict)


@pytest.mark.parametrize(
    "change",
    [
        {"same_as": ("https://example.org/has space",)},
        {"license": "not a licence <iri>"},
        {"publisher": Organization("Other Office", "https://other.example.org/ x")},
        {"related_documents": (Document("https://example.org/{x}"),)},
        {"datasets": (Dataset("D", "https://example.org/\u00e9 x"),)},
        {"datasets": (Dataset("D", downloads=(Download("file name.csv"),)),)},
        {"topics": (Topic("same", "One"), Topic("same", "Two"))},
    ],
    ids=lambda c: next(iter(c)),
)
def test_releases_the_shapes_reject_still_match_pyld(change: dict[str, Any]) -> None:
    release = dataclasses.replace(FULL, **change)
    assert not embeds_directly(release, SETTINGS)  # pyld builds these
    assert_same_block(release, SETTINGS)


# 3. Any release ---------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_OPT_TEXT = st.none() | _TEXT
_SLUG = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_LINK = st.sampled_from(
    ["https://a.example/", "https://a.example/\u00e9", "http://b.example/x?y=1", " x y"]
) | _TEXT.map(lambda t: "https://c.example/" + t)
_ZONES = st.sampled_from([UTC, LONDON, timezone(timedelta(hours=-3, minutes=-30))])
_MOMENT = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=_ZONES
)
_WHEN = _MOMENT | st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 1, 1))
_DOWNLOAD = st.builds(
    Download,
    url=_LINK,
    title=_OPT_TEXT,
    format=st.none() | st.sampled_from(["text/csv", "odd format"]) | _TEXT,
    size=st.none() | st.integers(0, 10**13),
)
_RELEASE = st.builds(
    Release,
    slug=_SLUG,
    title=_OPT_TEXT,
    status=st.none() | st.sampled_from(Status),
    summary=_OPT_TEXT,
    release_date=st.none() | _MOMENT,
    date_changes=st.lists(
        st.builds(DateChange, previous_date=_WHEN, reason=_OPT_TEXT), max_size=3
    ).map(tuple),
    published_date=st.none() | _MOMENT,
    topics=st.lists(st.builds(Topic, slug=_SLUG, label=_TEXT), max_size=3).map(tuple),
    keywords=st.lists(_TEXT, max_size=4).map(tuple),
    language=st.sampled_from(["en", "cy", "en-GB"]),
    contacts=st.lists(
        st.builds(Contact, name=_OPT_TEXT, email=_OPT_TEXT, telephone=_OPT_TEXT),
        max_size=3,
    ).map(tuple),
    publisher=st.none() | st.builds(Organization, name=_TEXT, url=st.none() | _LINK),
    license=st.none() | _LINK,
    datasets=st.lists(
        st.builds(
            Dataset,
            title=_TEXT,
            url=st.none() | _LINK,
            description=_OPT_TEXT,
            downloads=st.lists(_DOWNLOAD, max_size=3).map(tuple),
        ),
        max_size=3,
    ).map(tuple),
    related_documents=st.lists(
        st.builds(Document, url=_LINK, title=_OPT_TEXT), max_size=2
    ).map(tuple),
    series=st.none() | st.builds(Series, slug=_SLUG, title=_OPT_TEXT),
    same_as=st.lists(_LINK, max_size=3).map(tuple),
    identifier=_OPT_TEXT,
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(release=_RELEASE, other=st.booleans())
def test_any_release_matches_pyld(release: Release, other: bool) -> None:
    assert_same_block(release, OTHER_SETTINGS if other else SETTINGS)
