"""JSON-LD for pages and embedding (DESIGN.md, "JSON-LD for pages and embedding").

The embeddable schema.org block and the full JSON-LD are built from every release of
the bundled sample calendar. Every test in this module runs with sockets blocked: a
remote context fetch is a bug. The one test marked ``reference`` is an extra check
against the real schema.org context in ../shared/reference; the regular tests use
only the package's stand-in (publisher/data/schemaorg-context.jsonld).
"""

from __future__ import annotations

import json
import os
import re
import socket
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from pyld import jsonld as pyld
from pyld.jsonld import JsonLdError
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.term import Node

from publisher.cli import cli
from publisher.config import Settings
from publisher.errors import RemoteContextError
from publisher.importers import read_file
from publisher.jsonld import (
    SCHEMA_ORG_URLS,
    document_loader,
    dumps_for_html,
    expand_offline,
    graph_to_embed,
    graph_to_jsonld,
)
from publisher.rdf import release_to_graph
from publisher.resources import sample_calendar, schemaorg_context_text

#: The real schema.org context (outside material): only the extra check reads it.
OFFICIAL_CONTEXT = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "reference"
    / "schemaorg"
    / "schemaorgcontext.jsonld"
)

SCHEMA = "http://schema.org/"
SCHEMA_DATE = SCHEMA + "Date"
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_DATES = frozenset({XSD + "dateTime", XSD + "date"})
N_QUADS = "application/n-quads"

#: The main pieces at the head of every block, in this order (Yoast SEO's order).
TOP_TYPES = (
    "Organization",
    "WebSite",
    "WebPage",
    "BreadcrumbList",
    "Dataset",
    "PublicationEvent",
)
#: schema.org terms whose values are dates or date-times.
DATE_TERMS = frozenset(
    {
        "startDate",
        "endDate",
        "previousStartDate",
        "datePublished",
        "dateModified",
        "dateCreated",
        "expires",
    }
)
DATE_TIME_WITH_OFFSET = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})"
)
EVENT_STATUS = re.compile(
    r"http://schema\.org/Event(Scheduled|Rescheduled|Postponed|Cancelled|MovedOnline)"
)

SETTINGS = Settings()

#: A triple with its object written as ("iri", text) or
#: ("literal", lexical form, datatype, language), so that an IRI never equals a
#: literal and literals compare by lexical form, datatype and language.
Key = tuple[str, str, tuple[str, ...]]


@dataclass(frozen=True)
class Sample:
    slug: str
    title: str
    graph: Graph
    block: dict[str, Any]


# Fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def network_attempts() -> Iterator[list[str]]:
    """Block sockets for the whole module; the list records every attempt."""
    attempts: list[str] = []

    def refuse(name: str) -> Any:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{name}{args!r}")
            raise OSError(f"network access in a test: {name}{args!r}")

        return blocked

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse("socket.connect"))
        mp.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
        mp.setattr(socket, "create_connection", refuse("socket.create_connection"))
        mp.setattr(socket, "getaddrinfo", refuse("socket.getaddrinfo"))
        yield attempts


@pytest.fixture(scope="module")
def samples(network_attempts: list[str]) -> list[Sample]:
    releases = read_file(str(sample_calendar()), SETTINGS)
    out = []
    for release in releases:
        graph = release_to_graph(release, SETTINGS)
        out.append(Sample(release.slug, release.title, graph, graph_to_embed(graph)))
    assert out, "the sample calendar has no releases"
    return out


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads PUBLISHER_* variables: run it with the defaults."""
    for name in list(os.environ):
        if name.startswith("PUBLISHER_"):
            monkeypatch.delenv(name)


# Helpers ----------------------------------------------------------------------------


def dicts(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a JSON tree, outermost first."""
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from dicts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from dicts(inner)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def types(node: dict[str, Any]) -> list[str]:
    return as_list(node.get("@type"))


def refs(value: Any) -> list[str]:
    """The IRIs a compacted value points at: node references or @id-typed strings."""
    return [v["@id"] if isinstance(v, dict) else v for v in as_list(value)]


def is_absolute_iri(text: Any) -> bool:
    if not isinstance(text, str) or text.startswith("_:") or " " in text:
        return False
    parts = urlsplit(text)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def schema_triples(graph: Graph) -> set[tuple[Node, Node, Node]]:
    """The triples a schema.org block carries: schema: predicates and schema: types."""
    return {
        (s, p, o)
        for s, p, o in graph
        if str(p).startswith(SCHEMA)
        or (p == RDF_TYPE and isinstance(o, URIRef) and str(o).startswith(SCHEMA))
    }


def term_key(term: Node) -> tuple[str, ...]:
    if isinstance(term, BNode):
        return ("bnode", str(term))
    if isinstance(term, Literal):
        if term.language:
            return ("literal", str(term), RDF_LANGSTRING, term.language.lower())
        return ("literal", str(term), str(term.datatype or XSD + "string"), "")
    return ("iri", str(term))


def keys(triples: set[tuple[Node, Node, Node]]) -> set[Key]:
    return {(str(s), str(p), term_key(o)) for s, p, o in triples}


def parse_nquads(text: str) -> set[tuple[Node, Node, Node]]:
    """N-Quads from pyld, read with rdflib; everything must be in the default graph."""
    dataset = Dataset()
    with warnings.catch_warnings():
        # rdflib's own N-Quads parser calls its deprecated Dataset.default_context.
        warnings.filterwarnings(
            "ignore",
            message=r"Dataset\.default_context is deprecated",
            category=DeprecationWarning,
        )
        dataset.parse(data=text, format="nquads")
    triples = set()
    for s, p, o, g in dataset.quads((None, None, None, None)):
        name = g.identifier if isinstance(g, Graph) else g
        assert name == DATASET_DEFAULT_GRAPH_ID, f"unexpected named graph {name}"
        triples.add((s, p, o))
    return triples


def parse_jsonld(text: str) -> Graph:
    graph = Graph()
    with warnings.catch_warnings():
        # rdflib's own JSON-LD parser builds a (deprecated) ConjunctiveGraph.
        warnings.filterwarnings(
            "ignore",
            message=r"ConjunctiveGraph is deprecated",
            category=DeprecationWarning,
        )
        graph.parse(data=text, format="json-ld")
    return graph


def block_triples(block: dict[str, Any], loader: Any) -> set[tuple[Node, Node, Node]]:
    """A block as a consumer reads it: expand, to RDF (N-Quads), parse with rdflib."""
    if loader is document_loader:
        expanded = expand_offline(block)
    else:
        expanded = pyld.expand(block, {"documentLoader": loader})
    nquads = pyld.to_rdf(expanded, {"format": N_QUADS, "documentLoader": loader})
    return parse_nquads(nquads)


def match_dates(actual: set[Key], expected: set[Key]) -> set[Key]:
    """A schema:Date literal stands for the xsd:dateTime/xsd:date with the same text.

    The official context types dates as schema:Date; the RDF has xsd:dateTime or
    xsd:date. Only that pair is compared by lexical form; everything else exactly.
    """
    out = set()
    for s, p, o in actual:
        if o[0] == "literal" and o[2] == SCHEMA_DATE:
            for datatype in sorted(XSD_DATES):
                candidate = (s, p, ("literal", o[1], datatype, ""))
                if candidate in expected:
                    out.add(candidate)
                    break
            else:
                out.add((s, p, o))
        else:
            out.add((s, p, o))
    return out


def diff(expected: set[Key], actual: set[Key]) -> str:
    missing = "\n  ".join(map(repr, sorted(expected - actual)))
    extra = "\n  ".join(map(repr, sorted(actual - expected)))
    return f"missing:\n  {missing}\nunexpected:\n  {extra}"


def exception_chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def standin_context() -> dict[str, Any]:
    ctx: dict[str, Any] = json.loads(schemaorg_context_text())["@context"]
    return ctx


# 1. The embed block's shape ---------------------------------------------------------


def test_embed_block_is_a_linked_yoast_style_graph(samples: list[Sample]) -> None:
    dates_seen = 0
    for sample in samples:
        block, where = sample.block, sample.slug
        assert block["@context"] == "https://schema.org", where
        assert set(block) == {"@context", "@graph"}, where
        nodes = block["@graph"]
        assert len(nodes) >= len(TOP_TYPES), where
        head = nodes[: len(TOP_TYPES)]
        head_types = [types(n) for n in head]
        for expected, found in zip(TOP_TYPES, head_types, strict=True):
            assert expected in found, f"{where}: head of @graph is {head_types}"
        org, site, page, crumbs, dataset, event = head

        assert refs(page.get("mainEntity")) == [dataset["@id"]], where
        assert refs(site.get("publisher")) == [org["@id"]], where
        assert refs(dataset.get("publication")) == [event["@id"]], where
        assert refs(page.get("breadcrumb")) == [crumbs["@id"]], where
        assert refs(page.get("isPartOf")) == [site["@id"]], where

        described: list[str] = []
        for obj in dicts(nodes):
            assert not {"id", "type"} & set(obj), f"{where}: alias key in {obj}"
            # Short terms only: no full IRIs or prefixed names as keys.
            assert all(k.startswith("@") or ":" not in k for k in obj), where
            if "@value" in obj:
                continue
            # A node object (or node reference): never a blank node.
            assert is_absolute_iri(obj.get("@id")), f"{where}: {obj}"
            if set(obj) != {"@id"}:
                described.append(obj["@id"])
            for status in as_list(obj.get("eventStatus")):
                assert isinstance(status, dict), f"{where}: eventStatus {status!r}"
                assert EVENT_STATUS.fullmatch(status["@id"]), f"{where}: {status}"
            for term in DATE_TERMS & set(obj):
                for value in as_list(obj[term]):
                    assert isinstance(value, str), f"{where}: {term} {value!r}"
                    assert DATE_TIME_WITH_OFFSET.fullmatch(value), f"{where}: {value}"
                    dates_seen += 1
        assert len(described) == len(set(described)), f"{where}: a node twice"
        assert event.get("eventStatus"), f"{where}: no eventStatus"
    assert dates_seen, "no dates in any block: the date check checked nothing"


# 2. Same triples as the release graph under the stand-in context --------------------


def test_embed_block_expands_to_the_schema_triples_of_the_release(
    samples: list[Sample],
) -> None:
    for sample in samples:
        expected = keys(schema_triples(sample.graph))
        assert expected, sample.slug
        actual = match_dates(
            keys(block_triples(sample.block, document_loader)), expected
        )
        assert actual == expected, f"{sample.slug}\n{diff(expected, actual)}"


# 3. The stand-in defines every term the blocks use ----------------------------------


def test_standin_context_defines_every_term_the_blocks_use(
    samples: list[Sample],
) -> None:
    context = standin_context()
    used = {
        key
        for sample in samples
        for obj in dicts(sample.block["@graph"])
        for key in obj
        if not key.startswith("@")
    }
    assert used
    assert sorted(used - set(context)) == []
    # Each term stands for the schema.org property of the same name.
    for term, definition in context.items():
        if term.startswith("@") or isinstance(definition, str):
            continue
        assert definition["@id"] == f"schema:{term}", term


# 4. Extra check: the real schema.org context ----------------------------------------


@pytest.fixture(scope="module")
def official_context() -> dict[str, Any]:
    if not OFFICIAL_CONTEXT.is_file():
        pytest.skip(
            f"extra check: the real schema.org context {OFFICIAL_CONTEXT} "
            "(outside material) is not present"
        )
    doc: dict[str, Any] = json.loads(OFFICIAL_CONTEXT.read_text(encoding="utf-8"))
    return doc


def resolve(value: str, context: dict[str, Any]) -> str:
    """An @id/@type value as an IRI: keywords kept, prefixes and vocab applied."""
    if value.startswith("@"):
        return value
    prefix, colon, rest = value.partition(":")
    if colon and not rest.startswith("//") and isinstance(context.get(prefix), str):
        return str(context[prefix]) + rest
    if not colon:
        return str(context["@vocab"]) + value
    return value


def resolved_definition(term: str, context: dict[str, Any]) -> dict[str, str]:
    definition = context[term]
    if isinstance(definition, str):
        definition = {"@id": definition}
    return {
        k: resolve(definition[k], context) for k in ("@id", "@type") if k in definition
    }


@pytest.mark.reference
def test_blocks_mean_the_same_under_the_official_context(
    samples: list[Sample], official_context: dict[str, Any]
) -> None:
    """Extra check against the real schema.org context (../shared/reference).

    Consumers expand the blocks with the official context: the result must carry
    the release's schema.org triples and equal what the stand-in gives, and the
    stand-in's terms must be defined as the official context defines them.
    """

    def official_loader(url: str, options: Any = None) -> dict[str, Any]:
        if url not in SCHEMA_ORG_URLS:
            raise RemoteContextError(f"not the schema.org context: {url}")
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": official_context,
        }

    for sample in samples:
        where = sample.slug
        rdf = schema_triples(sample.graph)
        official = block_triples(sample.block, official_loader)
        standin = block_triples(sample.block, document_loader)
        official_keys = keys(official)
        pairs = {(s, p) for s, p, _ in official}
        for s, p, o in rdf:
            if isinstance(o, URIRef):  # (a) IRIs stay IRIs
                assert (s, p, o) in official, f"{where}: IRI lost {s} {p} {o}"
            else:  # (b) literals keep their text
                texts = {
                    str(x)
                    for s2, p2, x in official
                    if (s2, p2) == (s, p) and isinstance(x, Literal)
                }
                assert str(o) in texts, f"{where}: literal lost {s} {p} {o!r}"
            assert (s, p) in pairs, f"{where}: {s} {p}"  # (c)
        assert {s for s, _, _ in rdf} <= {s for s, _, _ in official}, where
        # (d) the stand-in is faithful: exactly the same triples
        assert official_keys == keys(standin), (
            f"{where}\n{diff(official_keys, keys(standin))}"
        )

    official_ctx = official_context["@context"]
    ours = standin_context()
    assert ours["@vocab"] == official_ctx["@vocab"]
    for term in ours:
        if term.startswith("@"):
            continue
        assert term in official_ctx, f"{term} is not in the official context"
        assert resolved_definition(term, ours) == resolved_definition(
            term, official_ctx
        ), term


# 5. No network ----------------------------------------------------------------------


def test_nothing_touches_the_network(
    network_attempts: list[str], clean_env: None
) -> None:
    # The blocker is in place ...
    before = len(network_attempts)
    with pytest.raises(OSError):
        socket.create_connection(("example.org", 80))
    assert len(network_attempts) == before + 1
    del network_attempts[before:]

    # ... and the whole JSON-LD path runs without a socket.
    releases = read_file(str(sample_calendar()), SETTINGS)
    for release in releases:
        graph = release_to_graph(release, SETTINGS)
        assert graph_to_embed(graph)["@graph"]
        assert graph_to_jsonld(graph)["@graph"]
    result = CliRunner().invoke(
        cli, ["convert", str(sample_calendar()), "--to", "jsonld-embed", "--jobs", "1"]
    )
    assert result.exit_code == 0, result.output

    with pytest.raises(RemoteContextError):
        document_loader("https://example.org/context.jsonld")
    with pytest.raises((JsonLdError, RemoteContextError)) as info:
        expand_offline({"@context": "https://example.org/x", "name": "a"})
    # Refused by our loader, not by a failed connection.
    assert any(isinstance(e, RemoteContextError) for e in exception_chain(info.value))
    assert network_attempts == []


# 6. Safe inside <script> ------------------------------------------------------------


def test_block_is_safe_inside_a_script_element(samples: list[Sample]) -> None:
    [sample] = [s for s in samples if "R&D" in s.title and "<provisional>" in s.title]
    raw = json.dumps(sample.block, ensure_ascii=False)
    assert "R&D" in raw
    assert "<provisional>" in raw
    text = dumps_for_html(sample.block)
    for char in "<>&":
        assert char not in text
    assert json.loads(text) == sample.block
    assert "</script" not in text.lower()
    html = f'<script type="application/ld+json">\n{text}\n</script>'
    assert html.lower().count("</script") == 1
    assert html.lower().index("</script") == len(html) - len("</script>")


# 7. Full JSON-LD --------------------------------------------------------------------


def test_full_jsonld_is_self_contained_and_round_trips(
    samples: list[Sample], network_attempts: list[str]
) -> None:
    for sample in samples:
        doc = graph_to_jsonld(sample.graph)
        assert isinstance(doc["@context"], dict), sample.slug
        for obj in dicts(doc):
            for ctx in as_list(obj.get("@context")):
                assert isinstance(ctx, dict), f"{sample.slug}: context {ctx!r}"
        parsed = parse_jsonld(json.dumps(doc))
        assert isomorphic(parsed, sample.graph), sample.slug
    assert network_attempts == []


# 8. CLI: JSON Lines -----------------------------------------------------------------


def test_cli_writes_one_json_line_per_release(
    samples: list[Sample], clean_env: None
) -> None:
    result = CliRunner().invoke(
        cli, ["convert", str(sample_calendar()), "--to", "jsonld-embed", "--jobs", "1"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(samples)
    rows = [json.loads(line) for line in lines]
    for row in rows:
        assert set(row) == {"id", "url", "jsonld"}
        assert row["jsonld"]["@context"] == "https://schema.org"
        assert is_absolute_iri(row["url"])
    assert [row["id"] for row in rows] == [s.slug for s in samples]


def test_python_api_for_pipelines() -> None:
    """release_to_embed / release_to_script_tag, as docs/jsonld.md shows them."""
    from publisher.jsonld import release_to_embed, release_to_script_tag

    settings = Settings(base_url="https://www.example.org/stats")
    releases = read_file(str(sample_calendar()), settings)
    tricky = next(r for r in releases if r.title and "&" in r.title)
    block = release_to_embed(tricky, settings)
    assert block == graph_to_embed(release_to_graph(tricky, settings))
    tag = release_to_script_tag(tricky, settings)
    assert tag.startswith('<script type="application/ld+json">')
    inner = tag.split(">", 1)[1].rsplit("</script>", 1)[0]
    assert "<" not in inner
    assert "&" not in inner
    assert json.loads(inner) == block
    assert block["@graph"][4]["@id"] == (
        f"https://www.example.org/stats/releases/{tricky.slug}#release"
    )
