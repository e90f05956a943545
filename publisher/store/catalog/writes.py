"""Write transactions: publish a batch, delete releases, follow an administrator's
SPARQL Update. Each write is one SPARQL Update request (or one bulk load) of what
the mapping (publisher.records) built, with a new data version and a change in
the history."""

from __future__ import annotations

import ast
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

from publisher import records
from publisher.config import Settings
from publisher.errors import StoreRefusedError
from publisher.lines import split_lines
from publisher.namespaces import SCHEMA, Iris
from publisher.store import Store
from publisher.store.catalog.history import release_history
from publisher.store.catalog.nquads import (
    append_catalog,
    catalog_quads,
    changed_nquads,
    graphs_from_nquads,
)
from publisher.store.catalog.operations import (
    clear_header,
    insert_data,
    publish_deletes,
    rewritten,
    tombstone,
)
from publisher.store.catalog.reads import (
    PREFIXES,
    check_base_url,
    data_version,
    is_empty,
    release_states,
)
from publisher.store.catalog.redirects import redirect
from publisher.store.catalog.values import (
    ChangeNote,
    PublishResult,
    ReleaseEntry,
    ReleaseState,
    content_hash,
)
from publisher.store.oxigraph import EmbeddedStore

#: an embedded store on disk takes a batch with at least this many changed
#: releases through pyoxigraph's bulk loader, staged and swapped in whole: into an
#: empty store, 5x faster than one transaction; into a full one (a re-import), one
#: RocksDB transaction holds every write in memory and slows as it grows (5,000
#: changed releases: 212 s and 3.2 GB in one request)
BULK_MIN = 1000


def now() -> datetime:
    return datetime.now(UTC)


def new_data_version() -> str:
    return uuid.uuid4().hex


def catalog_lines(
    settings: Settings,
    iris: Iris,
    version: str,
    moment: datetime,
    releases: Sequence[ReleaseEntry],
    previous: dict[str, ReleaseState],
) -> list[str]:
    """The catalogue graph's new lines for a write of ``releases``."""
    issued = {slug: state.issued for slug, state in previous.items()}
    return records.lines(
        records.catalog_triples(settings, iris, version, moment, releases, issued)
    )


def build_publish_update(
    releases: Sequence[ReleaseEntry],
    graphs: dict[str, str],
    previous: dict[str, ReleaseState],
    settings: Settings,
    *,
    version: str,
    moment: datetime,
    before: Mapping[str, str] | None = None,
) -> str:
    """The one SPARQL Update that publishes ``releases`` (all changed).

    ``graphs`` maps each slug to its graph's N-Triples; ``before``, to the
    N-Triples the store holds now, where known for certain: those graphs get
    only the lines that differ deleted and inserted, the others are replaced.
    """
    iris = Iris(settings.base_url)
    cat = f"<{iris.catalog_graph}>"
    removed, added = _differences(graphs, before or {})
    ops = publish_deletes(iris, releases, removed)
    inserted = {r.slug: added.get(r.slug, graphs[r.slug]) for r in releases}
    parts = [
        f"GRAPH <{iris.release_graph(slug)}> {{\n{text}}}"
        for slug, text in inserted.items()
        if text
    ]
    lines = catalog_lines(settings, iris, version, moment, releases, previous)
    parts.append(f"GRAPH {cat} {{\n" + "".join(lines) + "}")
    ops.append("INSERT DATA {\n" + "\n".join(parts) + "\n}")
    return PREFIXES + " ;\n".join(ops)


def _differences(
    graphs: Mapping[str, str], before: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """For each graph whose stored text is known: the lines to delete and the
    lines to insert (a graph with a blank node is replaced whole: DELETE DATA
    cannot name one)."""
    removed: dict[str, str] = {}
    added: dict[str, str] = {}
    for slug, old_text in before.items():
        new_text = graphs.get(slug)
        if new_text is None or "_:" in old_text or "_:" in new_text:
            continue
        old_lines, new_lines = split_lines(old_text), split_lines(new_text)
        old_set, new_set = set(old_lines), set(new_lines)
        removed[slug] = "".join(f"{x}\n" for x in old_lines if x not in new_set)
        added[slug] = "".join(f"{x}\n" for x in new_lines if x not in old_set)
    return removed, added


class _Batch:
    """A publish under way: what changed, its version, time and history."""

    def __init__(
        self,
        settings: Settings,
        changed: list[ReleaseEntry],
        previous: dict[str, ReleaseState],
        history: list[str],
        version: str,
        moment: datetime,
    ) -> None:
        self.settings = settings
        self.iris = Iris(settings.base_url)
        self.changed = changed
        self.previous = previous
        self.history = history
        self.version = version
        self.moment = moment

    def catalog_lines(self, previous: dict[str, ReleaseState]) -> list[str]:
        return catalog_lines(
            self.settings, self.iris, self.version, self.moment, self.changed, previous
        )


def publish(
    store: Store,
    releases: Sequence[ReleaseEntry],
    nquads_path: str,
    settings: Settings,
    *,
    agent: str = "cli",
    notes: dict[str, ChangeNote] | None = None,
    renames: dict[str, str] | None = None,
    exclusive: bool = False,
    graphs_before: Mapping[str, str] | None = None,
) -> PublishResult:
    """Publish a batch atomically; unchanged releases are left alone.

    ``nquads_path`` holds every release's graph as N-Quads (graph
    ``{base}/graphs/releases/{slug}``), as pipeline.run_batch writes it. Each
    changed release gets a change in the history, by ``agent``, described by
    ``notes`` (default: created or updated). ``renames`` maps old slugs to the new
    slugs of this batch: the old ones become redirects, in the same request.
    ``exclusive``: nobody else reads the store meanwhile (``publisher import``),
    so a big batch into an embedded store on disk may be staged in a copy and
    swapped in whole instead of written in one transaction. ``graphs_before``:
    slug -> the N-Triples its graph holds now, where the caller knows them for
    certain (read under the write lock, checked against the version); in an
    embedded store, which only this process writes, those graphs change by
    their differing lines only. (A remote store may have other writers between
    the read and the write, so its graphs are always replaced whole.)
    """
    check_base_url(store, settings)
    renames = renames or {}
    previous = release_states(store, settings, [r.slug for r in releases])
    changed = [
        r
        for r in releases
        if r.slug not in previous
        or previous[r.slug].content_hash != r.content_hash
        or r.slug in renames.values()
    ]
    changed_slugs = {r.slug for r in changed}
    unchanged = [r.slug for r in releases if r.slug not in changed_slugs]
    if not changed:
        return PublishResult(data_version(store, settings), [], unchanged)
    version, moment = new_data_version(), now()
    given = notes or {}
    history = release_history(
        Iris(settings.base_url),
        agent,
        moment,
        version,
        {
            r.slug: given.get(r.slug)
            or ChangeNote("updated" if r.slug in previous else "created")
            for r in changed
        },
    )
    batch = _Batch(settings, changed, previous, history, version, moment)
    big = len(changed) >= BULK_MIN and not renames
    bulk = getattr(store, "bulk_replace_empty", None)
    staged = getattr(store, "bulk_replace_staged", None)
    if bulk is not None and big and is_empty(store):
        append_catalog(nquads_path, batch.iris, batch.catalog_lines({}), history)
        bulk(nquads_path)
    elif staged is not None and big and getattr(store, "path", None) and exclusive:
        _publish_staged(staged, batch, nquads_path)
    else:
        before = graphs_before if isinstance(store, EmbeddedStore) else None
        graphs = _publish_in_one_request(store, batch, nquads_path, renames, before)
        return PublishResult(version, [r.slug for r in changed], unchanged, [], graphs)
    return PublishResult(version, [r.slug for r in changed], unchanged)


def publish_streamed(
    releases: Sequence[ReleaseEntry],
    settings: Settings,
    write: Callable[[str], object],
    *,
    agent: str = "cli",
    notes: dict[str, ChangeNote] | None = None,
) -> PublishResult:
    """The end of a first publish into an empty store whose release graphs went
    to a bulk load as they were made (EmbeddedStore.streamed_load): the
    catalogue's and the history's quads, given to ``write``; the caller then
    commits the load. Every release is new, as ``publish`` finds them in an
    empty store."""
    version, moment = new_data_version(), now()
    given = notes or {}
    iris = Iris(settings.base_url)
    history = release_history(
        iris,
        agent,
        moment,
        version,
        {r.slug: given.get(r.slug) or ChangeNote("created") for r in releases},
    )
    batch = _Batch(settings, list(releases), {}, history, version, moment)
    write(catalog_quads(iris, batch.catalog_lines({}), history))
    return PublishResult(version, [r.slug for r in releases], [])


def _publish_staged(
    staged: Callable[..., object], batch: _Batch, nquads_path: str
) -> None:
    """A big batch into an embedded store on disk: staged in a copy, swapped in."""
    iris = batch.iris
    inserts = nquads_path + ".changed"
    changed_nquads(nquads_path, inserts, iris, {r.slug for r in batch.changed})
    append_catalog(inserts, iris, batch.catalog_lines(batch.previous), batch.history)
    dropped, subjects = rewritten(iris, batch.changed)
    staged(
        [PREFIXES + " ;\n".join(clear_header(iris))],
        inserts,
        dropped,
        [(s, iris.catalog_graph) for s in subjects],
    )


def _publish_in_one_request(
    store: Store,
    batch: _Batch,
    nquads_path: str,
    renames: dict[str, str],
    before: Mapping[str, str] | None,
) -> dict[str, str]:
    """The batch, its renames' redirects and its history: one SPARQL Update.
    Returns the graphs written (slug -> N-Triples)."""
    iris = batch.iris
    graphs = graphs_from_nquads(nquads_path, iris, {r.slug for r in batch.changed})
    update = build_publish_update(
        batch.changed,
        graphs,
        batch.previous,
        batch.settings,
        version=batch.version,
        moment=batch.moment,
        before={s: t for s, t in (before or {}).items() if s not in renames.values()},
    )
    extra_ops: list[str] = []
    extra_lines: list[str] = []
    for old, new in renames.items():
        ops, lines = redirect(iris, old, new, batch.moment)
        extra_ops += ops
        extra_lines += lines
    ops_text = "".join(f" ;\n{op}" for op in extra_ops)
    store.update(
        update + ops_text + " ;\n" + insert_data(iris, extra_lines, batch.history)
    )
    return graphs


def delete(
    store: Store,
    slugs: Iterable[str],
    reason: str,
    settings: Settings,
    *,
    agent: str = "cli",
) -> PublishResult:
    """Delete releases, leaving a tombstone each (slug, title, when, why), and a
    change in the history by ``agent``."""
    check_base_url(store, settings)
    wanted = list(dict.fromkeys(slugs))
    if not reason.strip():
        raise StoreRefusedError(
            "deleting a release needs a reason (it is shown on its 410 page)"
        )
    states = release_states(store, settings, wanted)
    missing = [s for s in wanted if s not in states]
    if missing:
        raise StoreRefusedError(
            f"no release {', '.join(repr(s) for s in missing)} in {store.location}"
        )
    iris = Iris(settings.base_url)
    moment = now()
    version = new_data_version()
    ops = clear_header(iris)
    lines = catalog_lines(settings, iris, version, moment, [], {})
    for slug in wanted:
        ops.append(f"DROP SILENT GRAPH <{iris.release_graph(slug)}>")
        more_ops, more_lines = tombstone(iris, slug, states[slug].title, moment, reason)
        ops += more_ops
        lines += more_lines
    history = release_history(
        iris,
        agent,
        moment,
        version,
        {slug: ChangeNote("deleted", reason.strip()) for slug in wanted},
    )
    ops.append(insert_data(iris, lines, history))
    store.update(PREFIXES + " ;\n".join(ops))
    return PublishResult(version, deleted=wanted)


def _graph_title(iris: Iris, slug: str, ntriples: str) -> str:
    """The release's schema:name from its N-Triples (the slug if it has none)."""
    head = f"<{iris.release(slug)}> <{SCHEMA.name}> "
    for line in split_lines(ntriples):
        if line.startswith(head):
            literal = line[len(head) :].rstrip(" .")
            end = literal.rfind('"')
            try:
                value = ast.literal_eval(literal[: end + 1]) if end > 0 else ""
            except (ValueError, SyntaxError):
                value = ""
            if isinstance(value, str) and value:
                return value
    return slug


def _admin_changes(
    store: Store,
    iris: Iris,
    states: dict[str, ReleaseState],
    graphs: set[str] | None,
) -> tuple[list[ReleaseEntry], list[str]]:
    """The release graphs an update may have written (``graphs``; None: any)
    whose content hash changed, and those it emptied."""
    if graphs is None:
        rows = store.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        candidates = {s for r in rows if (s := iris.graph_slug(r["g"]))}
        candidates |= set(states)
    else:
        candidates = {s for g in graphs if (s := iris.graph_slug(g))}
    changed: list[ReleaseEntry] = []
    removed: list[str] = []
    for slug in sorted(candidates):
        text = store.graph_ntriples(iris.release_graph(slug))
        state = states.get(slug)
        if not text:
            if state is not None:
                removed.append(slug)
            continue
        digest = content_hash(text)
        if state is None or state.content_hash != digest:
            changed.append(ReleaseEntry(slug, _graph_title(iris, slug, text), digest))
    return changed, removed


def apply_admin_update(
    store: Store,
    settings: Settings,
    update: str,
    graphs: set[str] | None,
    agent: str,
) -> PublishResult:
    """Run an administrator's SPARQL Update, then bring the catalogue up to date.

    Raw updates bypass the shapes (DESIGN.md, "Tokens"). After one, each release
    graph it may have written (``graphs``; None: any) gets its record's content
    hash recomputed; a release graph it emptied gets a tombstone; a new one gets a
    record. A new data version and a history entry follow, so the listing index
    and every cache catch up. The update is one request (atomic); the catalogue
    follow-up is a second one.
    """
    check_base_url(store, settings)
    store.update(update)
    iris = Iris(settings.base_url)
    states = release_states(store, settings)
    changed, removed = _admin_changes(store, iris, states, graphs)
    version, moment = new_data_version(), now()
    cat = f"<{iris.catalog_graph}>"
    ops = clear_header(iris)
    lines = catalog_lines(settings, iris, version, moment, changed, states)
    for entry in changed:
        ops.append(
            f"DELETE WHERE {{ GRAPH {cat} {{ <{iris.record(entry.slug)}> ?p ?o }} }}"
        )
    for slug in removed:
        why = f"Removed by a SPARQL Update ({agent})"
        more_ops, more_lines = tombstone(iris, slug, states[slug].title, moment, why)
        ops += more_ops
        lines += more_lines
    history = records.lines(
        records.change(
            iris,
            kind="sparql-update",
            agent=agent,
            moment=moment,
            data_version=version,
            releases=[e.slug for e in changed] + removed,
            text=update,
        )
    )
    ops.append(insert_data(iris, lines, history))
    store.update(PREFIXES + " ;\n".join(ops))
    return PublishResult(version, changed=[e.slug for e in changed], deleted=removed)


def describe_publish(result: PublishResult) -> str:
    parts = []
    if result.changed:
        parts.append(f"{len(result.changed)} published")
    if result.unchanged:
        parts.append(f"{len(result.unchanged)} unchanged")
    if result.deleted:
        parts.append(f"{len(result.deleted)} deleted")
    return ", ".join(parts) or "nothing to do"
