"""RDF namespaces and the IRIs Release Publisher mints.

schema.org is used as ``http://schema.org/``: that is what the official JSON-LD
context (``"@vocab": "http://schema.org/"``) expands to. rdflib's built-in ``SDO``
namespace is ``https://schema.org/`` and must not be used for data (a test checks).
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD


class CachedNamespace(Namespace):
    """A Namespace that makes each term once.

    rdflib builds and validates a new URIRef on every ``SCHEMA.name``; that was a
    third of the conversion time before this cache.
    """

    def term(self, name: str) -> URIRef:
        key = (str(self), name)
        found = _TERMS.get(key)
        if found is None:
            found = _TERMS[key] = super().term(name)
        return found

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("__"):  # copy, pickle and friends
            raise AttributeError(name)
        found = self.term(name)
        # kept on the instance: the next ``SCHEMA.name`` is a plain attribute
        # read (only names that are not str's reach __getattr__)
        self.__dict__[name] = found
        return found

    def __getitem__(self, key: str) -> URIRef:  # type: ignore[override]
        return self.term(key)


_TERMS: dict[tuple[str, str], URIRef] = {}

SCHEMA = CachedNamespace("http://schema.org/")
#: DCAT 3 (rdflib's closed DCAT namespace is DCAT 2: no inSeries, prev, DatasetSeries)
DCAT = CachedNamespace("http://www.w3.org/ns/dcat#")
DCT = DCTERMS
VCARD = CachedNamespace("http://www.w3.org/2006/vcard/ns#")
IANA_MEDIA = Namespace("https://www.iana.org/assignments/media-types/")
#: The project vocabulary: one fixed IRI, the same for every site (docs/vocabulary.md).
PUB = CachedNamespace("https://w3id.org/release-publisher/ns#")
PUB_ONTOLOGY = "https://w3id.org/release-publisher/ns"

OGL_V3 = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"

#: SPARQL 1.1 Service Description, VoID, W3C format names, Hydra (the served
#: descriptions of the endpoint, the dataset and the catalogue's pages)
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
FORMATS_NS = Namespace("http://www.w3.org/ns/formats/")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ENTAILMENT_SIMPLE = URIRef("http://www.w3.org/ns/entailment/Simple")
#: ISO 639-1 language codes (dcterms:language)
ISO639_1 = Namespace("http://id.loc.gov/vocabulary/iso639-1/")
#: the context IRI of schema.org's JSON-LD, as pages embed it
SCHEMA_CONTEXT = "https://schema.org"
#: what JSON-LD input may name as its context to mean schema.org
SCHEMA_CONTEXTS = frozenset(
    {
        SCHEMA_CONTEXT,
        SCHEMA_CONTEXT + "/",
        str(SCHEMA).rstrip("/"),
        str(SCHEMA),
        SCHEMA_CONTEXT + "/docs/jsonldcontext.jsonld",
        SCHEMA_CONTEXT + "/docs/jsonldcontext.json",
    }
)

PREFIXES: dict[str, Namespace] = {
    "schema": SCHEMA,
    "dcat": DCAT,
    "dcterms": Namespace(str(DCTERMS)),
    "skos": Namespace(str(SKOS)),
    "prov": Namespace(str(PROV)),
    "foaf": Namespace(str(FOAF)),
    "vcard": VCARD,
    "owl": Namespace(str(OWL)),
    "rdfs": Namespace(str(RDFS)),
    "xsd": Namespace(str(XSD)),
    "pub": PUB,
}
#: PREFIXES and rdf:, for text that names terms (SPARQL, Turtle written by the store)
_ALL_PREFIXES: dict[str, str] = {
    **{name: str(ns) for name, ns in PREFIXES.items()},
    "rdf": str(RDF),
}


def prefix_map(*names: str) -> dict[str, str]:
    """prefix -> namespace IRI of ``names``, in that order (all of them: none)."""
    return {name: _ALL_PREFIXES[name] for name in names or _ALL_PREFIXES}


def sparql_prefixes(*names: str) -> str:
    """The ``PREFIX`` lines of ``names`` for SPARQL text, in that order."""
    return "".join(
        f"PREFIX {name}: <{iri}>\n" for name, iri in prefix_map(*names).items()
    )


__all__ = [
    "DCAT",
    "DCT",
    "ENTAILMENT_SIMPLE",
    "FOAF",
    "FORMATS_NS",
    "HYDRA",
    "IANA_MEDIA",
    "ISO639_1",
    "OGL_V3",
    "OWL",
    "PREFIXES",
    "PROV",
    "PUB",
    "PUB_ONTOLOGY",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SCHEMA_CONTEXT",
    "SCHEMA_CONTEXTS",
    "SD",
    "SKOS",
    "VCARD",
    "VOID",
    "XSD",
    "Iris",
    "prefix_map",
    "sparql_prefixes",
]


@dataclass(frozen=True)
class Iris:
    """Deterministic IRIs minted from the site's base URL (DESIGN.md, "Vocabulary").

    The base may carry a path prefix (``https://example.org/stats``); it never ends
    with a slash here.
    """

    base: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", self.base.rstrip("/"))

    # Site-wide nodes
    @property
    def organization(self) -> str:
        return f"{self.base}/#organization"

    @property
    def website(self) -> str:
        return f"{self.base}/#website"

    @property
    def home(self) -> str:
        return f"{self.base}/"

    @property
    def catalog(self) -> str:
        return f"{self.base}/catalog#catalog"

    def record(self, slug: str) -> str:
        """The catalogue record of a release (DCAT CatalogRecord; a tombstone later)."""
        return f"{self.base}/catalog/records/{slug}"

    @property
    def topic_scheme(self) -> str:
        return f"{self.base}/topics#scheme"

    @property
    def releases_page(self) -> str:
        return f"{self.base}/releases"

    # Graphs
    def release_graph(self, slug: str) -> str:
        return f"{self.base}/graphs/releases/{slug}"

    @property
    def catalog_graph(self) -> str:
        return f"{self.base}/graphs/catalog"

    @property
    def history_graph(self) -> str:
        return f"{self.base}/graphs/history"

    def history_entry(self, version: str) -> str:
        """A change in the history graph, named after the data version it made."""
        return f"{self.base}/history/{version}"

    def agent(self, name: str) -> str:
        """Who made changes: a write token's name."""
        return f"{self.base}/agents/{name}"

    # One release
    def page(self, slug: str) -> str:
        return f"{self.base}/releases/{slug}"

    def release(self, slug: str) -> str:
        return f"{self.page(slug)}#release"

    def publication(self, slug: str) -> str:
        return f"{self.page(slug)}#publication"

    def breadcrumb(self, slug: str) -> str:
        return f"{self.page(slug)}#breadcrumb"

    def breadcrumb_item(self, slug: str, n: int) -> str:
        return f"{self.page(slug)}#breadcrumb-{n}"

    def change(self, slug: str, n: int) -> str:
        return f"{self.page(slug)}#change-{n}"

    def contact(self, slug: str, n: int) -> str:
        return f"{self.page(slug)}#contact-{n}"

    def dataset(self, slug: str, n: int) -> str:
        return f"{self.page(slug)}#dataset-{n}"

    def download(self, slug: str, dataset: int, n: int) -> str:
        return f"{self.page(slug)}#dataset-{dataset}-download-{n}"

    def document(self, slug: str, n: int) -> str:
        return f"{self.page(slug)}#document-{n}"

    def topic(self, slug: str) -> str:
        return f"{self.base}/topics/{slug}#topic"

    def series(self, slug: str) -> str:
        return f"{self.base}/series/{slug}#series"

    def organization_other(self, slug: str) -> str:
        return f"{self.base}/organisations/{slug}#organization"

    # Inverses: the slug in an IRI minted above, or None for any other IRI
    def slug_of(self, iri: object) -> str | None:
        """The release slug in its page, release (any fragment) or graph IRI."""
        return self._slug_after(iri, self.page("")) or self._slug_after(
            iri, self.release_graph("")
        )

    def graph_slug(self, iri: object) -> str | None:
        """The release slug in its named graph's IRI (no other IRI)."""
        return self._slug_after(iri, self.release_graph(""))

    def record_slug(self, iri: object) -> str | None:
        """The release slug in its catalogue record's IRI."""
        return self._slug_after(iri, self.record(""))

    def topic_slug(self, iri: object) -> str | None:
        return self._slug_after(iri, f"{self.base}/topics/")

    def series_slug(self, iri: object) -> str | None:
        return self._slug_after(iri, f"{self.base}/series/")

    @staticmethod
    def _slug_after(iri: object, prefix: str) -> str | None:
        """The path segment after ``prefix`` (fragment dropped); None when ``iri``
        does not start with it or more path follows."""
        text = "" if iri is None else str(iri)
        if not text.startswith(prefix):
            return None
        slug = text[len(prefix) :].split("#", 1)[0]
        return slug if slug and "/" not in slug else None
