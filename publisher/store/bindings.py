"""SPARQL 1.1 JSON results bindings as RDF terms and plain values, for a remote
store's answers (publisher.store.sparql)."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from publisher.namespaces import XSD

_XSD_BOOLEAN = str(XSD.boolean)


def canonical_booleans(rows: list[Any]) -> None:
    """``"1"``/``"0"`` xsd:boolean values as ``true``/``false``, in place.

    Virtuoso keeps booleans as numbers: its JSON results say ``"1"`` where its
    N-Triples and XML results say ``true``.
    """
    for row in rows:
        if not isinstance(row, dict):
            continue
        for binding in row.values():
            if (
                isinstance(binding, dict)
                and binding.get("datatype") == _XSD_BOOLEAN
                and binding.get("value") in ("0", "1")
            ):
                binding["value"] = "true" if binding["value"] == "1" else "false"


def binding_value(binding: dict[str, Any]) -> str:
    value = binding.get("value")
    if binding.get("type") == "bnode":
        return f"_:{value}"
    if binding.get("type") == "triple" and isinstance(value, dict):
        return str(term(binding, {}))
    return str(value)


def term(binding: dict[str, Any], bnodes: dict[str, ox.BlankNode]) -> Any:
    """An RDF term from a SPARQL JSON binding (blank nodes renamed consistently)."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return bnodes.setdefault(value, ox.BlankNode())
    if kind in ("literal", "typed-literal"):
        if binding.get("xml:lang"):
            return ox.Literal(value, language=binding["xml:lang"])
        if binding.get("datatype"):
            return ox.Literal(value, datatype=ox.NamedNode(binding["datatype"]))
        return ox.Literal(value)
    if kind == "triple":
        return ox.Triple(
            subject(value["subject"], bnodes),
            ox.NamedNode(value["predicate"]["value"]),
            term(value["object"], bnodes),
        )
    raise ValueError(f"unknown term type {kind!r}")


def subject(binding: dict[str, Any], bnodes: dict[str, ox.BlankNode]) -> Any:
    found = term(binding, bnodes)
    if isinstance(found, ox.Literal):
        raise ValueError("a literal cannot be a subject")
    return found


def graph(binding: dict[str, Any] | None, bnodes: dict[str, ox.BlankNode]) -> Any:
    if binding is None:
        return ox.DefaultGraph()
    if binding["type"] == "bnode":
        return bnodes.setdefault(binding["value"], ox.BlankNode())
    return ox.NamedNode(binding["value"])
