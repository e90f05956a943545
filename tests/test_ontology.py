"""The project vocabulary (ontology/release-publisher.ttl) and its documentation.

No network: the ontology and the Turtle examples of docs/vocabulary.md are parsed
from the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, Namespace
from rdflib.plugins.sparql import prepareQuery

from publisher.model import Designation, Status

ROOT = Path(__file__).parent.parent
ONTOLOGY = ROOT / "ontology" / "release-publisher.ttl"
DOCS = ROOT / "docs" / "vocabulary.md"

PUB = Namespace("https://w3id.org/release-publisher/ns#")
ONTOLOGY_IRI = URIRef("https://w3id.org/release-publisher/ns")
SCHEMA = Namespace("http://schema.org/")
VANN = Namespace("http://purl.org/vocab/vann/")
# Plain namespaces: pytest inspecting rdflib's closed DCAT and XSD at collection
# makes them warn.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

CLASSES = {
    "Release",
    "DateChange",
    "ReleaseStatus",
    "Designation",
    "Tombstone",
    "Change",
    "Redirect",
}
OBJECT_PROPERTIES = {"status", "designation", "dateChange", "nextRelease", "affects"}
DATATYPE_PROPERTIES = {
    "provisionalDate",
    "previousDate",
    "newDate",
    "changeReason",
    "changedAt",
    "cancellationNotice",
    "nextReleaseText",
    "census",
    "slug",
    "formerSlug",
    "contentHash",
    "dataVersion",
    "baseUrl",
    "deletedAt",
    "deletionReason",
    "changeKind",
    "updateText",
}
SCHEMES = {"ReleaseStatusScheme", "DesignationScheme"}
STATUSES = {"Provisional", "Confirmed", "Postponed", "Cancelled", "Published"}
DESIGNATIONS = {
    "AccreditedOfficialStatistics",
    "OfficialStatistics",
    "OfficialStatisticsInDevelopment",
}
ALL_TERMS = (
    CLASSES
    | OBJECT_PROPERTIES
    | DATATYPE_PROPERTIES
    | SCHEMES
    | STATUSES
    | DESIGNATIONS
)


@pytest.fixture(scope="module")
def graph() -> Graph:
    g = Graph()
    g.parse(ONTOLOGY, format="turtle")
    return g


def _pub_subjects(g: Graph) -> set[URIRef]:
    return {s for s in g.subjects() if isinstance(s, URIRef) and str(s).startswith(PUB)}


def _english(values: list) -> list[Literal]:
    return [v for v in values if isinstance(v, Literal) and v.language == "en"]


def _concepts(g: Graph) -> set[URIRef]:
    found: set[URIRef] = set()
    for cls in (SKOS.Concept, PUB.ReleaseStatus, PUB.Designation):
        found |= {s for s in g.subjects(RDF.type, cls) if isinstance(s, URIRef)}
    return found


def _turtle_blocks(text: str) -> list[str]:
    return re.findall(r"^```turtle[ \t]*\n(.*?)^```[ \t]*$", text, re.M | re.S)


def test_ontology_parses(graph: Graph) -> None:
    assert len(graph) > 100


def test_ontology_header(graph: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in graph
    assert graph.value(ONTOLOGY_IRI, OWL.versionInfo) == Literal("0.1.0")
    assert graph.value(ONTOLOGY_IRI, DCTERMS.license) == URIRef(
        "https://opensource.org/licenses/MIT"
    )
    assert graph.value(ONTOLOGY_IRI, VANN.preferredNamespacePrefix) == Literal("pub")
    assert str(graph.value(ONTOLOGY_IRI, VANN.preferredNamespaceUri)) == str(PUB)
    assert _english(list(graph.objects(ONTOLOGY_IRI, DCTERMS.title)))
    descriptions = _english(list(graph.objects(ONTOLOGY_IRI, DCTERMS.description)))
    assert len(descriptions) == 1
    # The description states the mapping conventions the data follows.
    for term in ("schema:PublicationEvent", "schema:creativeWorkStatus", "dcat:prev"):
        assert term in descriptions[0]


def test_terms_are_exactly_those_the_code_uses(graph: Graph) -> None:
    declared = {str(s)[len(str(PUB)) :] for s in _pub_subjects(graph)}
    assert declared == ALL_TERMS


@pytest.mark.parametrize(
    ("names", "kind"),
    [
        (CLASSES, OWL.Class),
        (OBJECT_PROPERTIES, OWL.ObjectProperty),
        (DATATYPE_PROPERTIES, OWL.DatatypeProperty),
        (SCHEMES, SKOS.ConceptScheme),
        (STATUSES, PUB.ReleaseStatus),
        (DESIGNATIONS, PUB.Designation),
    ],
)
def test_terms_have_their_kind(graph: Graph, names: set[str], kind: URIRef) -> None:
    missing = sorted(n for n in names if (PUB[n], RDF.type, kind) not in graph)
    assert not missing, f"not typed {kind}: {missing}"


def test_every_term_has_one_english_label_a_comment_and_is_defined_by(
    graph: Graph,
) -> None:
    problems = []
    for term in sorted(_pub_subjects(graph)):
        labels = list(graph.objects(term, RDFS.label))
        if len(labels) != 1 or len(_english(labels)) != 1:
            problems.append(f"{term}: rdfs:label {labels!r}")
        if not _english(list(graph.objects(term, RDFS.comment))):
            problems.append(f"{term}: no English rdfs:comment")
        if list(graph.objects(term, RDFS.isDefinedBy)) != [ONTOLOGY_IRI]:
            problems.append(f"{term}: rdfs:isDefinedBy is not the ontology")
    assert not problems, "\n".join(problems)


def test_every_concept_is_in_exactly_one_scheme_with_a_notation(
    graph: Graph,
) -> None:
    concepts = _concepts(graph)
    assert len(concepts) == len(STATUSES) + len(DESIGNATIONS)
    problems = []
    for concept in sorted(concepts):
        schemes = list(graph.objects(concept, SKOS.inScheme))
        if len(schemes) != 1:
            problems.append(f"{concept}: in schemes {schemes}")
        elif (schemes[0], RDF.type, SKOS.ConceptScheme) not in graph:
            problems.append(f"{concept}: {schemes[0]} is not a skos:ConceptScheme")
        if len(list(graph.objects(concept, SKOS.notation))) != 1:
            problems.append(f"{concept}: not exactly one skos:notation")
        if len(_english(list(graph.objects(concept, SKOS.prefLabel)))) != 1:
            problems.append(f"{concept}: not exactly one English skos:prefLabel")
        if not _english(list(graph.objects(concept, SKOS.definition))):
            problems.append(f"{concept}: no English skos:definition")
    assert not problems, "\n".join(problems)


def _notations(graph: Graph, scheme: URIRef, cls: URIRef) -> set[str]:
    members = set(graph.subjects(SKOS.inScheme, scheme))
    assert members == set(graph.subjects(RDF.type, cls))
    return {str(n) for m in members for n in graph.objects(m, SKOS.notation)}


def test_status_notations_are_the_native_values(graph: Graph) -> None:
    notations = _notations(graph, PUB.ReleaseStatusScheme, PUB.ReleaseStatus)
    assert notations == {
        "provisional",
        "confirmed",
        "postponed",
        "cancelled",
        "published",
    }
    assert notations == {s.value for s in Status}


def test_designation_notations_are_the_model_values(graph: Graph) -> None:
    notations = _notations(graph, PUB.DesignationScheme, PUB.Designation)
    assert notations == {d.value for d in Designation}


def test_former_designation_names_are_alt_labels(graph: Graph) -> None:
    assert Literal("National Statistics", lang="en") in set(
        graph.objects(PUB.AccreditedOfficialStatistics, SKOS.altLabel)
    )
    assert Literal("Experimental statistics", lang="en") in set(
        graph.objects(PUB.OfficialStatisticsInDevelopment, SKOS.altLabel)
    )


def test_status_mappings_to_schema_org_event_statuses(graph: Graph) -> None:
    assert (PUB.Cancelled, SKOS.closeMatch, SCHEMA.EventCancelled) in graph
    assert (PUB.Postponed, SKOS.closeMatch, SCHEMA.EventRescheduled) in graph
    for status in (PUB.Provisional, PUB.Confirmed):
        assert (status, SKOS.relatedMatch, SCHEMA.EventScheduled) in graph
        assert (status, SKOS.exactMatch, None) not in graph


def test_release_class_alignment(graph: Graph) -> None:
    supers = set(graph.objects(PUB.Release, RDFS.subClassOf))
    assert supers == {SCHEMA.Dataset, DCAT.Dataset}
    assert (PUB.ReleaseStatus, RDFS.subClassOf, SKOS.Concept) in graph
    assert (PUB.Designation, RDFS.subClassOf, SKOS.Concept) in graph


def test_property_ranges(graph: Graph) -> None:
    assert graph.value(PUB.status, RDFS.range) == PUB.ReleaseStatus
    assert graph.value(PUB.designation, RDFS.range) == PUB.Designation
    assert graph.value(PUB.dateChange, RDFS.range) == PUB.DateChange
    assert graph.value(PUB.nextRelease, RDFS.range) == PUB.Release
    assert graph.value(PUB.census, RDFS.range) == XSD.boolean
    assert graph.value(PUB.changedAt, RDFS.range) == XSD.dateTime
    # previousDate is an xsd:dateTime or an xsd:date: no single range is claimed.
    assert graph.value(PUB.previousDate, RDFS.range) is None
    # schema:creativeWorkStatus takes text: pub:status must not claim to refine it.
    assert (PUB.status, RDFS.subPropertyOf, None) not in graph


def test_ontology_uses_no_https_schema_org_iris() -> None:
    assert "https://schema.org" not in ONTOLOGY.read_text(encoding="utf-8")


def test_ontology_graph_uses_no_https_schema_org_iris(graph: Graph) -> None:
    bad = [t for t in graph for n in t if str(n).startswith("https://schema.org/")]
    assert not bad


def test_no_dcat_next_and_no_adms_status(graph: Graph) -> None:
    iris = {str(n) for t in graph for n in t if isinstance(n, URIRef)}
    assert str(DCAT) + "next" not in iris
    assert "http://www.w3.org/ns/adms#status" not in iris


# docs/vocabulary.md


@pytest.fixture(scope="module")
def docs_text() -> str:
    return DOCS.read_text(encoding="utf-8")


def test_docs_state_the_namespace(docs_text: str) -> None:
    assert "`https://w3id.org/release-publisher/ns#`" in docs_text
    assert "/ns" in docs_text


def test_docs_document_every_term(graph: Graph, docs_text: str) -> None:
    missing = sorted(n for n in ALL_TERMS if f"`pub:{n}`" not in docs_text)
    assert not missing, f"not documented in docs/vocabulary.md: {missing}"


def test_docs_turtle_blocks_parse(docs_text: str) -> None:
    blocks = _turtle_blocks(docs_text)
    assert len(blocks) >= 2
    for n, block in enumerate(blocks, 1):
        try:
            Graph().parse(data=block, format="turtle")
        except Exception as error:  # report which block broke
            pytest.fail(f"turtle block {n} of docs/vocabulary.md: {error}")


def test_docs_examples_use_only_defined_terms(graph: Graph, docs_text: str) -> None:
    defined = _pub_subjects(graph)
    for block in _turtle_blocks(docs_text):
        example = Graph().parse(data=block, format="turtle")
        used = {n for t in example for n in t if isinstance(n, URIRef) and n in PUB}
        assert used <= defined, f"undefined: {sorted(used - defined)}"
        text = example.serialize(format="nt")
        assert "https://schema.org/" not in text
        assert str(DCAT) + "next>" not in text


def test_docs_examples_cover_postponed_and_cancelled(docs_text: str) -> None:
    examples = Graph()
    for block in _turtle_blocks(docs_text):
        examples.parse(data=block, format="turtle")
    postponed = [
        r
        for r in examples.subjects(PUB.status, PUB.Postponed)
        if len(list(examples.objects(r, PUB.dateChange))) >= 2
    ]
    assert postponed, "no postponed release with two date changes"
    for change in examples.objects(postponed[0], PUB.dateChange):
        assert (change, RDF.type, PUB.DateChange) in examples
        assert examples.value(change, PUB.previousDate) is not None
        assert str(change).startswith(str(postponed[0]).split("#")[0] + "#change-")
    cancelled = list(examples.subjects(PUB.status, PUB.Cancelled))
    assert cancelled, "no cancelled release"
    assert examples.value(cancelled[0], PUB.cancellationNotice) is not None


def test_docs_sparql_blocks_parse(docs_text: str) -> None:
    blocks = re.findall(r"^```sparql[ \t]*\n(.*?)^```[ \t]*$", docs_text, re.M | re.S)
    for block in blocks:
        prepareQuery(block)
