"""Our own N-Quads file of a batch: the bulk paths of a publish read and extend it."""

from __future__ import annotations

from publisher.namespaces import Iris


def catalog_quads(iris: Iris, catalog_lines: list[str], history: list[str]) -> str:
    """The catalogue's and the history's new lines (N-Triples) as N-Quads, each
    in its graph."""
    suffix = f" <{iris.catalog_graph}> .\n"
    history_suffix = f" <{iris.history_graph}> .\n"
    return "".join(line[:-3] + suffix for line in catalog_lines) + "".join(
        line[:-3] + history_suffix for line in history
    )


def append_catalog(
    path: str, iris: Iris, catalog_lines: list[str], history: list[str]
) -> None:
    """Add the catalogue's and the history's new lines to an N-Quads file."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(catalog_quads(iris, catalog_lines, history))


def changed_nquads(path: str, out: str, iris: Iris, slugs: set[str]) -> None:
    """Copy the quads of ``slugs``' graphs from our own N-Quads file to ``out``."""
    wanted = {f"<{iris.release_graph(slug)}>" for slug in slugs}
    with open(path, encoding="utf-8") as fh, open(out, "w", encoding="utf-8") as dst:
        for line in fh:
            if line.rstrip("\n")[:-2].rpartition(" ")[2] in wanted:
                dst.write(line)


def graphs_from_nquads(path: str, iris: Iris, slugs: set[str]) -> dict[str, str]:
    """slug -> N-Triples of its graph, read back from our own N-Quads file."""
    wanted = {f"<{iris.release_graph(slug)}>": slug for slug in slugs}
    out: dict[str, list[str]] = {slug: [] for slug in slugs}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            head, _, graph = line.rstrip("\n")[:-2].rpartition(" ")
            slug = wanted.get(graph)
            if slug is not None:
                out[slug].append(head + " .\n")
    return {slug: "".join(lines) for slug, lines in out.items()}
