"""The structure stays easy to see: imports point one way (STYLE.md, section 1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "publisher"
#: layer of each module; a module may import only from its own or lower layers
LAYERS = {
    "publisher": 0,
    "publisher.__main__": 12,
    "publisher.errors": 0,
    "publisher.renderings": 0,
    "publisher.changes": 0,
    "publisher.shared_renderings": 0,
    "publisher.outputs": 1,
    "publisher.config": 1,
    "publisher.tokens": 2,
    "publisher.namespaces": 1,
    "publisher.formats": 1,
    "publisher.resources": 1,
    "publisher.model": 2,
    "publisher.importers": 3,
    "publisher.rdf": 4,
    "publisher.records": 4,
    "publisher.describe": 4,
    "publisher.readback": 4,
    "publisher.lifecycle": 3,
    "publisher.jsonld": 5,
    "publisher.embed": 5,
    "publisher.validation": 5,
    "publisher.queries": 5,
    "publisher.cards": 5,
    "publisher.store": 6,
    "publisher.pipeline": 7,
    "publisher.site": 7,
    "publisher.sparql": 7,
    "publisher.reports": 7,
    "publisher.publishing": 8,
    "publisher.write_values": 8,
    "publisher.demo": 8,
    "publisher.scheduler": 8,
    "publisher.server": 10,
    "publisher.supervisor": 10,
    "publisher.cli": 11,
    "publisher.cli_options": 11,
    "publisher.web": 9,
}
#: third-party modules that reach stores or the network: only publisher.store
STORE_ONLY = ("pyoxigraph", "SPARQLWrapper", "urllib.request", "http.client", "socket")
#: ... and the one module that binds the server's listening sockets (socket only)
LISTENERS = {"publisher.supervisor": ("socket",)}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer(name: str) -> int:
    while name not in LAYERS:
        name = name.rsplit(".", 1)[0]
    return LAYERS[name]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_one_way(path: Path) -> None:
    name = _module_name(path)
    mine = _layer(name)
    for imported in _imports(path):
        if not imported.startswith("publisher"):
            continue
        if imported.startswith(name + ".") or name.startswith(imported + "."):
            continue  # a package and its own modules
        assert _layer(imported) <= mine, f"{name} (layer {mine}) imports {imported}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_store_talks_to_stores_and_only_web_imports_flask(path: Path) -> None:
    name = _module_name(path)
    imported = _imports(path)
    if not name.startswith("publisher.store"):
        allowed = LISTENERS.get(name, ())
        bad = sorted(
            i for i in imported if i.startswith(STORE_ONLY) and i not in allowed
        )
        assert not bad, f"{name} imports {bad}"
    if not name.startswith("publisher.web"):
        assert not any(i == "flask" or i.startswith("flask.") for i in imported), name


def test_cli_and_web_never_import_each_other() -> None:
    for path in MODULES:
        name = _module_name(path)
        imported = _imports(path)
        if name.startswith("publisher.cli"):
            assert not any(i.startswith("publisher.web") for i in imported)
        if name.startswith("publisher.web"):
            assert not any(i.startswith("publisher.cli") for i in imported)


#: the most lines a module of publisher/ may have, and a function (STYLE.md)
MODULE_MAX_LINES = 600
FUNCTION_MAX_LINES = 80
#: the modules where exceptions are defined
ERROR_MODULES = ("publisher.errors", "publisher.web.errors")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_stay_small(path: Path) -> None:
    lines = path.read_text().count("\n")
    assert lines <= MODULE_MAX_LINES, f"{path.name}: {lines} lines"
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= FUNCTION_MAX_LINES, (
                f"{path.name}:{node.lineno} {node.name}() is {length} lines"
            )


def _namespace_iris() -> set[str]:
    """Every namespace IRI publisher.namespaces provides: its own and the ones it
    takes from rdflib (each value of the module that is an http(s) IRI ending in
    # or /)."""
    import publisher.namespaces as ns

    # rdflib's DefinedNamespace classes (DCTERMS, ...) hold their IRI in _NS
    values = [
        getattr(v, "_NS", None) if isinstance(v, type) else v for v in vars(ns).values()
    ]
    return {
        str(value)
        for value in values
        if isinstance(value, str)
        and value.startswith(("http://", "https://"))
        and value.endswith(("#", "/"))
    }


def test_namespaces_spells_the_vocabularies() -> None:
    iris = _namespace_iris()
    for expected in (
        "http://schema.org/",
        "http://www.w3.org/ns/dcat#",
        "http://purl.org/dc/terms/",
    ):
        assert expected in iris


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_namespace_iris_only_in_namespaces(path: Path) -> None:
    if _module_name(path) == "publisher.namespaces":
        return
    iris = _namespace_iris()
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            spelled = sorted(iri for iri in iris if iri in node.value)
            assert not spelled, f"{path.name}:{node.lineno} spells {spelled}"


def _is_exception(node: ast.ClassDef) -> bool:
    for base in node.bases:
        name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
        if name.endswith(("Error", "Exception")) or name in {"Warning"}:
            return True
    return False


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_exceptions_only_in_errors_modules(path: Path) -> None:
    name = _module_name(path)
    if name in ERROR_MODULES:
        return
    tree = ast.parse(path.read_text(), filename=str(path))
    found = [
        n.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ClassDef) and _is_exception(n)
    ]
    assert not found, f"{name} defines exceptions {found}: they belong in errors.py"
