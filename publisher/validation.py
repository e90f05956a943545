"""pySHACL against shapes/*.ttl: a report people can act on (DESIGN.md, "Reports").

Each SHACL result is traced back to its record (file, position, id) and to the
field as the input named it: the focus node's IRI gives the release and the part
(``#dataset-1-download-2``), the shape's ``sh:name`` gives the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pyshacl import validate as shacl_validate
from rdflib import Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.store import Store
from rdflib.term import Node

from publisher.config import Settings
from publisher.model import Release
from publisher.namespaces import SCHEMA
from publisher.rdf import release_to_triples
from publisher.resources import shapes_files

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}

#: focus-node fragment -> model path of that part of the release
_PARTS = (
    (re.compile(r"^dataset-(\d+)-download-(\d+)$"), "datasets[{0}].downloads[{1}]"),
    (re.compile(r"^dataset-(\d+)$"), "datasets[{0}]"),
    (re.compile(r"^contact-(\d+)$"), "contacts[{0}]"),
    (re.compile(r"^change-(\d+)$"), "date_changes[{0}]"),
    (re.compile(r"^document-(\d+)$"), "related_documents[{0}]"),
)
#: a node outside the release's page, reached from the release by this property
_LINKED = {SCHEMA.publisher: "publisher"}


@dataclass(frozen=True)
class Result:
    """One finding, named as the person who wrote the input would name it."""

    severity: str
    message: str
    field: str
    record_id: str | None
    record: int | None  # 1-based position in its file
    file: str | None
    focus: str
    path: str | None = None
    value: str | None = None
    shape: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "severity": self.severity,
            "message": self.message,
            "value": self.value,
            "focus_node": self.focus,
            "result_path": self.path,
            "source_shape": self.shape,
        }


@dataclass
class ValidationReport:
    """Results of validating a batch; ``conforms`` means no violation."""

    results: list[Result] = field(default_factory=list)
    checked: int = 0
    graphs: list[Graph] = field(default_factory=list, repr=False)

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Warning"]

    @property
    def conforms(self) -> bool:
        return not self.violations

    def sorted_results(self) -> list[Result]:
        return sorted(
            self.results,
            key=lambda r: (
                r.file or "",
                r.record or 0,
                r.severity != "Violation",
                r.field,
                r.message,
            ),
        )

    def to_json(self, skipped: Sequence[str] = ()) -> dict[str, Any]:
        """The schema shared with the API's 422 body (docs/validation.md)."""
        records: dict[tuple[str | None, int | None, str | None], list[Result]] = {}
        for r in self.sorted_results():
            records.setdefault((r.file, r.record, r.record_id), []).append(r)
        return {
            "conforms": self.conforms,
            "checked": self.checked,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "skipped": list(skipped),
            "records": [
                {
                    "file": file,
                    "record": index,
                    "id": rid,
                    "results": [r.to_json() for r in results],
                }
                for (file, index, rid), results in records.items()
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ValidationReport:
        """A report written by :meth:`to_json` (the API's 422 body), read back."""
        results = []
        for record in data.get("records") or []:
            for r in record.get("results") or []:
                results.append(
                    Result(
                        severity=str(r.get("severity", "Violation")),
                        message=str(r.get("message", "")),
                        field=str(r.get("field", "")),
                        record_id=record.get("id"),
                        record=record.get("record"),
                        file=record.get("file"),
                        focus=str(r.get("focus_node") or ""),
                        path=r.get("result_path"),
                        value=r.get("value"),
                        shape=r.get("source_shape"),
                    )
                )
        return cls(results=results, checked=int(data.get("checked") or 0))

    def to_text(self) -> str:
        lines = []
        for r in self.sorted_results():
            where = ", ".join(
                p
                for p in (
                    r.file,
                    f"record {r.record}" if r.record is not None else None,
                    f"id {r.record_id}" if r.record_id else None,
                    f"field '{r.field}'" if r.field else None,
                )
                if p
            )
            lines.append(f"{r.severity}: {where}: {r.message}")
        lines.append(
            f"{self.checked} release(s) checked: {len(self.violations)} violation(s), "
            f"{len(self.warnings)} warning(s)"
        )
        return "\n".join(lines) + "\n"

    def to_turtle(self) -> str:
        merged = Graph()
        merged.bind("sh", SH)
        for g in self.graphs:
            for triple in g:
                merged.add(triple)
        return merged.serialize(format="turtle")


@cache
def shapes_graph() -> Graph:
    graph = Graph()
    for path in shapes_files():
        graph.parse(path, format="turtle")
    return graph


@cache
def _shape_names() -> dict[Node, str]:
    g = shapes_graph()
    return {s: str(o) for s, o in g.subject_objects(SH.name)}


@cache
def shape_predicates() -> frozenset[Node]:
    """Every predicate a shape can look at: paths, target predicates, rdf:type.

    The shapes use SHACL Core without ``sh:closed``, so their results depend only
    on triples with these predicates; validating that subgraph gives the same
    report as the whole graph, with half the triples for pySHACL to walk.
    """
    g = shapes_graph()
    found: set[Node] = {RDF.type}

    def walk(path: Node) -> None:
        if isinstance(path, URIRef):
            found.add(path)
            return
        if (path, RDF.first, None) in g:
            for item in Collection(g, path):
                walk(item)
            return
        for key in (
            SH.alternativePath,
            SH.inversePath,
            SH.zeroOrMorePath,
            SH.oneOrMorePath,
            SH.zeroOrOnePath,
        ):
            inner = g.value(path, key)
            if inner is not None:
                walk(inner)

    for path in g.objects(None, SH.path):
        walk(path)
    for key in (SH.targetObjectsOf, SH.targetSubjectsOf):
        found.update(g.objects(None, key))
    return frozenset(found)


@cache
def shape_classes() -> frozenset[Node]:
    """Every class a shape targets or requires (``sh:targetClass``, ``sh:class``)."""
    g = shapes_graph()
    return frozenset(
        o for key in (SH.targetClass, SH["class"]) for o in g.objects(None, key)
    )


def validation_graph(triples: Iterable[tuple[Node, Node, Node]]) -> Graph:
    """A graph of just the triples the shapes can see, each once (the site's and
    topics' nodes repeat in every release).

    Predicates the shapes never follow (shape_predicates) and ``rdf:type`` triples
    of classes no shape targets or requires (shape_classes) are left out.
    """
    keep = shape_predicates() - {RDF.type}
    classes = shape_classes()
    rdf_type = RDF.type
    wanted = (
        (s, p, o)
        for s, p, o in triples
        if p in keep or (p == rdf_type and o in classes)
    )
    return Graph(store=_Triples(wanted), bind_namespaces="none")


_Index = dict[Node, dict[Node, dict[Node, None]]]
_Found = Iterator[tuple[tuple[Node, Node, Node], Iterator[Graph]]]


def _put(index: _Index, a: Node, b: Node, c: Node) -> None:
    inner = index.get(a)
    if inner is None:
        index[a] = {b: {c: None}}
    elif b in inner:
        inner[b][c] = None
    else:
        inner[b] = {c: None}


class _Triples(Store):
    """A validation graph's store: its triples, indexed three ways once, then only
    read (so a match need not copy what it walks). rdflib's Memory store also
    records every triple's contexts and reads them back on every match (about
    half of building the graph and a third of pySHACL's lookups); one graph of
    distinct triples needs none of that."""

    context_aware = True  # pySHACL wraps the data graph in a Dataset
    graph_aware = True

    def __init__(self, triples: Iterable[tuple[Node, Node, Node]]) -> None:
        super().__init__()
        self._spo: _Index = {}
        self._pos: _Index = {}
        self._osp: _Index = {}
        for s, p, o in triples:  # a repeated triple is kept once
            _put(self._spo, s, p, o)
            _put(self._pos, p, o, s)
            _put(self._osp, o, s, p)
        self._count = sum(len(os) for ps in self._spo.values() for os in ps.values())

    def add_graph(self, graph: Graph) -> None:
        pass  # one graph, made whole in __init__

    def add(self, triple: Any, context: Any, quoted: bool = False) -> None:
        raise TypeError("a validation graph is read-only")

    def __len__(self, context: Any = None) -> int:
        return self._count

    def contexts(self, triple: Any = None) -> Generator[Graph, None, None]:
        yield from ()

    def triples(self, triple_pattern: Any, context: Any = None) -> _Found:
        s, p, o = triple_pattern
        if s is not None:
            by_p = self._spo.get(s, {})
            for p2 in (p,) if p is not None else by_p:
                objects = by_p.get(p2, {})
                if o is not None:
                    if o in objects:
                        yield (s, p2, o), iter(())
                    continue
                for o2 in objects:
                    yield (s, p2, o2), iter(())
        elif p is not None:
            by_o = self._pos.get(p, {})
            for o2 in (o,) if o is not None else by_o:
                for s2 in by_o.get(o2, {}):
                    yield (s2, p, o2), iter(())
        elif o is not None:
            for s2, preds in self._osp.get(o, {}).items():
                for p2 in preds:
                    yield (s2, p2, o), iter(())
        else:
            for s2, by_p in self._spo.items():
                for p2, objects in by_p.items():
                    for o2 in objects:
                        yield (s2, p2, o2), iter(())


def validate_graph(graph: Graph) -> tuple[bool, Graph]:
    """Run pySHACL (no inference) on one data graph; returns (no violation, results)."""
    _, results, _ = shacl_validate(
        graph,
        shacl_graph=shapes_graph(),
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
        advanced=False,
        meta_shacl=False,
        iterate_rules=False,
    )
    assert isinstance(results, Graph)  # noqa: S101 - pySHACL's documented return
    violations = any(
        (None, SH.detail, node) not in results
        for node in results.subjects(SH.resultSeverity, SH.Violation)
    )
    return not violations, results


def validate_releases(
    releases: Sequence[Release],
    settings: Settings,
    *,
    batch_size: int = 250,
    keep_graphs: bool = False,
) -> ValidationReport:
    """Validate releases in batches (pySHACL has a fixed cost per call)."""
    report = ValidationReport()
    for start in range(0, len(releases), batch_size):
        chunk = releases[start : start + batch_size]
        data = validation_graph(
            t for release in chunk for t in release_to_triples(release, settings)
        )
        _, results = validate_graph(data)
        report.results.extend(results_from_graph(results, data, chunk, settings))
        report.checked += len(chunk)
        if keep_graphs:
            report.graphs.append(results)
    return report


def results_from_graph(
    results: Graph, data: Graph, releases: Iterable[Release], settings: Settings
) -> Iterable[Result]:
    by_slug = {r.slug: r for r in releases}
    prefix = settings.base_url + "/releases/"
    names = _shape_names()
    seen: set[tuple[Node | None, ...]] = set()
    for node in results.subjects(SH.resultSeverity, None):
        if (None, SH.detail, node) in results:
            continue  # the inner finding of a conditional shape, already reported
        focus = results.value(node, SH.focusNode)
        shape = results.value(node, SH.sourceShape)
        value = results.value(node, SH.value)
        # A shape with several constraints (sh:nodeKind and sh:pattern, say) gives
        # one SHACL result per constraint a value breaks, all with the shape's one
        # message: a person is told once per shape, focus and value.
        key = (focus, shape, results.value(node, SH.resultPath), value)
        if key in seen:
            continue
        seen.add(key)
        level = results.value(node, SH.resultSeverity)
        severity = (
            SEVERITIES.get(level, "Info") if isinstance(level, URIRef) else "Info"
        )
        path = results.value(node, SH.resultPath)
        message = results.value(node, SH.resultMessage)
        slug, part = _locate(focus, data, prefix)
        if slug is None and value is not None:
            # Conditional shapes focus on a status concept; the value is the release.
            slug, part = _locate(value, data, prefix)
        release = by_slug.get(slug) if slug else None
        leaf = names.get(shape, "") if shape is not None else ""
        model_path = ".".join(p for p in (part, leaf) if p)
        src = release.source if release else None
        yield Result(
            severity=severity,
            message=str(message) if message else "does not conform",
            field=src.field_name(model_path) if src else model_path,
            record_id=(src.record_id if src and src.record_id else slug),
            record=src.index if src else None,
            file=src.file if src else None,
            focus=str(focus),
            path=str(path) if isinstance(path, URIRef) else None,
            value=str(value) if value is not None else None,
            shape=str(shape) if isinstance(shape, URIRef) else None,
        )


def _locate(focus: Node | None, data: Graph, prefix: str) -> tuple[str | None, str]:
    """(slug, model path of the part) for a focus node."""
    text = str(focus) if focus is not None else ""
    if text.startswith(prefix):
        slug, _, fragment = text[len(prefix) :].partition("#")
        for pattern, template in _PARTS:
            m = pattern.match(fragment)
            if m:
                return slug, template.format(*(int(g) - 1 for g in m.groups()))
        return slug, ""
    if focus is not None:
        for subject, predicate in data.subject_predicates(focus):
            name = _LINKED.get(predicate)  # type: ignore[call-overload]
            if name and str(subject).startswith(prefix):
                slug, _, _ = str(subject)[len(prefix) :].partition("#")
                return slug, name
    return None, ""


def report_to_json_text(report: ValidationReport, skipped: Sequence[str] = ()) -> str:
    return json.dumps(report.to_json(skipped), indent=2, ensure_ascii=False) + "\n"
