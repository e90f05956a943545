"""The ``publisher`` command line. Each command parses options and calls ``pipeline``.

Exit codes (DESIGN.md, "CLI"): 0 done, 1 the data violates the shapes, 2 bad usage
or unreadable input. Errors are one line naming file, record and field; never a
traceback for a person's mistake.
"""

from __future__ import annotations

import errno
import io
import json
import os
import secrets
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from publisher import __version__, pipeline
from publisher.config import Settings, load_settings
from publisher.errors import PublisherError
from publisher.importers import FORMAT_NAMES
from publisher.importers.native import release_to_record
from publisher.model import Release
from publisher.queries import check_query
from publisher.resources import sample_calendar
from publisher.store import Store, catalog, open_store
from publisher.store.client import PublisherServer
from publisher.store.index import ListingIndex
from publisher.validation import (
    ValidationReport,
    report_to_json_text,
    validate_releases,
)

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class Failure(click.ClickException):
    """A person's mistake: one line on stderr and exit 2."""

    exit_code = EXIT_USAGE


def _settings(ctx: click.Context, **flags: Any) -> Settings:
    try:
        return load_settings(
            flags, config_file=ctx.obj.get("config") if ctx.obj else None
        )
    except PublisherError as exc:
        raise Failure(str(exc)) from None


def format_option(func: F) -> F:
    return click.option(
        "--from",
        "source_format",
        type=click.Choice(FORMAT_NAMES),
        default="auto",
        show_default=True,
        help="Input format; auto looks at each file.",
    )(func)


def input_options(func: F) -> F:
    func = format_option(func)
    func = click.option(
        "--base-url",
        default=None,
        help="Base URL that IRIs are minted from [env PUBLISHER_BASE_URL].",
    )(func)
    func = click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="publisher")
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML settings file [env PUBLISHER_CONFIG].",
)
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """Release Publisher: statistical release calendars as validated linked data."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int], None] | None]:
    """A running count on a terminal ("Converting: 12,000 releases"); silent when
    stderr is piped. Inputs are streamed, so the total is not known up front."""
    if not sys.stderr.isatty():
        yield None
        return
    done = 0

    def update(n: int) -> None:
        nonlocal done
        done += n
        sys.stderr.write(f"\r{label}: {done:,} releases")
        sys.stderr.flush()

    try:
        yield update
    finally:
        if done:
            sys.stderr.write("\n")


def _load(inputs: Sequence[str], settings: Settings, fmt: str) -> list[Release]:
    try:
        return pipeline.load(inputs, settings, fmt)
    except PublisherError as exc:
        raise Failure(str(exc)) from None


def _stream(inputs: Sequence[str], settings: Settings, fmt: str) -> Iterator[Release]:
    """Releases as they are read; errors surface while the batch runs (exit 2)."""
    return pipeline.iter_inputs(inputs, settings, fmt)


def _run(
    releases: Iterable[Release],
    settings: Settings,
    to: str,
    out: IO[str],
    *,
    skip_invalid: bool,
    jobs: int | None,
) -> pipeline.BatchOutcome:
    with _progress("Converting") as progress:
        try:
            return pipeline.run_batch(
                releases,
                settings,
                to,
                out,
                skip_invalid=skip_invalid,
                jobs=jobs,
                progress=progress,
            )
        except PublisherError as exc:
            raise Failure(str(exc)) from None


def _create_temporary(target: Path | None) -> tuple[int, str]:
    """A new file beside ``target`` (or in the temporary directory), opened for
    writing. Unlike ``tempfile.mkstemp`` (always 0600) its mode is 0666 less the
    umask, as for any file a command writes: renamed into place, it is the output.
    A copy for standard output stays 0600 (the temporary directory is shared)."""
    folder = target.parent if target is not None else Path(tempfile.gettempdir())
    prefix = f".{target.name}." if target is not None else "publisher-"
    mode = 0o666 if target is not None else 0o600
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        path = folder / f"{prefix}{secrets.token_hex(6)}"
        try:
            return os.open(path, flags, mode), str(path)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


@contextmanager
def _pending_output(output: str) -> Iterator[tuple[IO[str], Callable[[], None]]]:
    """A temporary file and a ``commit`` that moves it into place (or to stdout).

    Without ``commit`` nothing is written: a batch is all or nothing, and an
    interrupted run leaves no half-written file.
    """
    target = None if output == "-" else Path(output)
    try:
        fd, tmp = _create_temporary(target)
    except OSError as exc:
        raise Failure(f"{output}: cannot write: {exc.strerror}") from None
    done = False
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:

            def commit() -> None:
                nonlocal done
                fh.flush()
                if target is None:
                    with open(tmp, encoding="utf-8", newline="") as src:
                        shutil.copyfileobj(src, sys.stdout)
                    sys.stdout.flush()
                else:
                    try:
                        os.replace(tmp, target)
                    except OSError as exc:
                        raise Failure(
                            f"{output}: cannot write: {exc.strerror}"
                        ) from None
                done = True

            yield fh, commit
    finally:
        if os.path.exists(tmp) and (target is None or not done):
            os.unlink(tmp)


jobs_option = click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for large batches (default: one per core).",
)


@cli.command()
@input_options
@click.option(
    "--to",
    "to",
    type=click.Choice(pipeline.OUTPUT_FORMATS),
    default="turtle",
    show_default=True,
    help="Output: an RDF syntax, or jsonld-embed (one schema.org block per release, "
    "JSON Lines).",
)
@click.option("-o", "--output", default="-", help="Output file (default: stdout).")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Write the valid releases and report the invalid ones as skipped.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as failures (exit 1).")
@jobs_option
@click.pass_context
def convert(
    ctx: click.Context,
    inputs: tuple[str, ...],
    source_format: str,
    base_url: str | None,
    to: str,
    output: str,
    skip_invalid: bool,
    strict: bool,
    jobs: int | None,
) -> None:
    """Convert release metadata to RDF or embeddable JSON-LD ('-' reads stdin).

    Nothing is written when a record violates the shapes, unless --skip-invalid.
    """
    settings = _settings(ctx, base_url=base_url)
    releases = _stream(inputs, settings, source_format)
    with _pending_output(output) as (out, commit):
        outcome = _run(
            releases, settings, to, out, skip_invalid=skip_invalid, jobs=jobs
        )
        report = outcome.report
        if report.results:
            click.echo(report.to_text(), err=True, nl=False)
        if outcome.skipped:
            ids = ", ".join(outcome.skipped)
            if skip_invalid:
                click.echo(
                    f"Skipped {len(outcome.skipped)} invalid release(s): {ids}",
                    err=True,
                )
            else:
                click.echo(
                    "Nothing written: the batch has invalid releases "
                    "(fix them, or use --skip-invalid to write the valid ones).",
                    err=True,
                )
        if not outcome.written:
            ctx.exit(EXIT_INVALID)
        if strict and report.warnings:
            click.echo(
                "Nothing written: --strict and the batch has warnings.", err=True
            )
            ctx.exit(EXIT_INVALID)
        commit()
    ctx.exit(EXIT_OK)


@cli.command()
@input_options
@click.option(
    "--report",
    "report_format",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="Report format; json follows docs/validation.md, turtle is the SHACL report.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as failures (exit 1).")
@jobs_option
@click.pass_context
def validate(
    ctx: click.Context,
    inputs: tuple[str, ...],
    source_format: str,
    base_url: str | None,
    report_format: str,
    strict: bool,
    jobs: int | None,
) -> None:
    """Check release metadata against the publishing shapes (the contract)."""
    settings = _settings(ctx, base_url=base_url)
    if report_format == "turtle":
        # The SHACL report graph itself: the batch is validated in this process.
        report: ValidationReport = validate_releases(
            _load(inputs, settings, source_format), settings, keep_graphs=True
        )
    else:
        releases = _stream(inputs, settings, source_format)
        report = _run(
            releases, settings, "ntriples", io.StringIO(), skip_invalid=True, jobs=jobs
        ).report
    if report_format == "json":
        click.echo(report_to_json_text(report), nl=False)
    elif report_format == "turtle":
        click.echo(report.to_turtle(), nl=False)
    else:
        click.echo(report.to_text(), nl=False)
    if not report.conforms or (strict and report.warnings):
        ctx.exit(EXIT_INVALID)
    ctx.exit(EXIT_OK)


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="data/demo",
    show_default=True,
    help="Folder for the converted sample.",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Then import it into a fresh store in OUT/store and serve it on --port.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.pass_context
def demo(ctx: click.Context, out: str, serve: bool, port: int) -> None:
    """Convert the bundled sample calendar; with --serve, publish and serve it."""
    settings = _settings(ctx)
    sample = str(sample_calendar())
    releases = _load([sample], settings, "native")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for to, name in (
        ("turtle", "sample.ttl"),
        ("nquads", "sample.nq"),
        ("jsonld-embed", "sample-embed.jsonl"),
    ):
        with _pending_output(str(folder / name)) as (fh, commit):
            outcome = _run(releases, settings, to, fh, skip_invalid=False, jobs=1)
            if not outcome.written:
                click.echo(outcome.report.to_text(), err=True, nl=False)
                ctx.exit(EXIT_INVALID)
            commit()
        written.append(folder / name)
    report = outcome.report
    click.echo(
        f"Converted {len(releases)} sample releases from {sample}: "
        f"{len(report.violations)} violation(s), {len(report.warnings)} warning(s)."
    )
    for path in written:
        click.echo(f"  wrote {path}")
    if serve:
        store_path = folder / "store"
        for leftover in (store_path, Path(f"{store_path}.index.sqlite")):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink(missing_ok=True)
        settings = replace(
            settings,
            base_url=f"http://127.0.0.1:{port}",
            store=str(store_path),
            endpoint="",
            index="",
        )
        with _open(settings) as store:
            imported = pipeline.import_batch(
                pipeline.load([sample], settings, "native"), settings, store, jobs=1
            )
            _refresh_index(store, settings)
        if imported.published is None:
            ctx.exit(EXIT_INVALID)
        click.echo(f"Published the sample into {store_path}.")
        _serve(settings, "127.0.0.1", port, 8)
    ctx.exit(EXIT_OK)


# Store commands (issue 3) -------------------------------------------------


def store_options(func: F) -> F:
    """--store PATH | --endpoint URL (+ update and GSP endpoints)."""
    func = click.option(
        "--gsp-endpoint",
        default=None,
        help="Graph Store HTTP Protocol endpoint [env PUBLISHER_GSP_ENDPOINT].",
    )(func)
    func = click.option(
        "--update-endpoint",
        default=None,
        help="SPARQL Update endpoint [env PUBLISHER_UPDATE_ENDPOINT].",
    )(func)
    func = click.option(
        "--endpoint",
        default=None,
        help="SPARQL Query endpoint of a remote store [env PUBLISHER_ENDPOINT].",
    )(func)
    func = click.option(
        "--store",
        "store_path",
        default=None,
        help="Embedded store folder (default ./data/store) [env PUBLISHER_STORE].",
    )(func)
    return func


def _store_settings(ctx: click.Context, **flags: Any) -> Settings:
    return _settings(
        ctx,
        store=flags.pop("store_path", None),
        endpoint=flags.pop("endpoint", None),
        update_endpoint=flags.pop("update_endpoint", None),
        gsp_endpoint=flags.pop("gsp_endpoint", None),
        **flags,
    )


@contextmanager
def _open(settings: Settings) -> Iterator[Store]:
    try:
        store = open_store(settings)
    except PublisherError as exc:
        raise Failure(str(exc)) from None
    try:
        yield store
    except PublisherError as exc:
        raise Failure(str(exc)) from None
    finally:
        store.close()


def _refresh_index(store: Store, settings: Settings) -> None:
    """Bring the listing index up to date; a failure is reported, not fatal."""
    try:
        index = ListingIndex.for_settings(settings)
        try:
            index.ensure_current(store, settings)
        finally:
            index.close()
    except (PublisherError, OSError, sqlite3.Error) as exc:
        click.echo(
            f"Warning: the listing index {settings.index_path} was not updated "
            f"({exc}); run publisher reindex",
            err=True,
        )


def _say_published(result: catalog.PublishResult, store: Store) -> None:
    click.echo(
        f"{catalog.describe_publish(result)} in {store.location} "
        f"(data version {result.data_version})."
    )


@cli.command("import")
@input_options
@store_options
@jobs_option
@click.pass_context
def import_(
    ctx: click.Context,
    /,
    inputs: tuple[str, ...],
    source_format: str,
    base_url: str | None,
    jobs: int | None,
    **store_flags: Any,
) -> None:
    """Validate and publish releases into the store, atomically.

    Every release of the batch replaces its named graph and the catalogue is
    updated in the same transaction; a batch that violates the shapes changes
    nothing (exit 1). Unchanged releases are not rewritten.
    """
    settings = _store_settings(ctx, base_url=base_url, **store_flags)
    releases = _stream(inputs, settings, source_format)
    with _open(settings) as store:
        catalog.check_base_url(store, settings)  # before the work, not after
        with _progress("Validating") as progress:
            outcome = pipeline.import_batch(
                releases,
                settings,
                store,
                jobs=jobs,
                progress=progress,
                exclusive=True,  # this process holds the store alone
            )
        report = outcome.batch.report
        if report.results:
            click.echo(report.to_text(), err=True, nl=False)
        if outcome.published is None:
            click.echo(f"Nothing published: {store.location} is unchanged.", err=True)
            ctx.exit(EXIT_INVALID)
        result = outcome.published
        _refresh_index(store, settings)
        _say_published(result, store)
    ctx.exit(EXIT_OK)


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@format_option
@click.option(
    "--server",
    required=True,
    help="Base URL of a running Release Publisher (https://example.org/stats).",
)
@click.option(
    "--token",
    required=True,
    envvar="PUBLISHER_TOKEN",
    help="A write token of that server [env PUBLISHER_TOKEN].",
)
@click.pass_context
def push(
    ctx: click.Context,
    /,
    inputs: tuple[str, ...],
    source_format: str,
    server: str,
    token: str,
) -> None:
    """Publish releases through a running server's API, atomically.

    For pipelines that cannot open the server's store themselves. The server
    checks the batch against the same shapes and rules as import and publishes
    all of it or none. Exit 1 when the server refuses the data (422, 409, 412);
    2 for usage, authentication (401, 403) or connection failures.
    """
    settings = _settings(ctx)
    releases = _load(inputs, settings, source_format)
    if not releases:
        raise Failure("no releases in the input")
    records = [release_to_record(r) for r in releases]
    try:
        answer = PublisherServer(server, token).publish_batch(records)
    except PublisherError as exc:
        raise Failure(str(exc)) from None
    body = answer.body
    report = body.get("report")
    if isinstance(report, dict):
        text = _local_report(ValidationReport.from_json(report), releases).to_text()
        click.echo(text, err=True, nl=False)
    if answer.status in (401, 403):
        raise Failure(f"{server} refused the token: {answer.message}")
    if answer.status in (409, 412, 422):
        if answer.status != 422:
            click.echo(f"Refused: {answer.message}", err=True)
        click.echo(f"Nothing published: {server} is unchanged.", err=True)
        ctx.exit(EXIT_INVALID)
    if answer.status != 200:
        raise Failure(f"{server} answered HTTP {answer.status}: {answer.message}")
    parts = []
    for key, label in (
        ("published", "published"),
        ("unchanged", "unchanged"),
        ("scheduled", "scheduled"),
    ):
        if body.get(key):
            parts.append(f"{len(body[key])} {label}")
    for slug, when in sorted((body.get("scheduled") or {}).items()):
        click.echo(f"Scheduled: {slug} at {when} (under embargo until then)")
    click.echo(
        f"{', '.join(parts) or 'nothing to do'} at {server} "
        f"(data version {body.get('data_version')})."
    )
    ctx.exit(EXIT_OK)


def _local_report(
    report: ValidationReport, releases: Sequence[Release]
) -> ValidationReport:
    """The server's report with the input's own file, record and field names."""
    results = []
    for r in report.results:
        release = (
            releases[r.record - 1] if r.record and r.record <= len(releases) else None
        )
        source = release.source if release else None
        if source is None:
            results.append(r)
            continue
        head, sep, rest = r.field.partition("[")
        head, dot, tail = head.partition(".") if not sep else (head, "", "")
        model = {"id": "slug", "next_release_id": "next_release_slug"}.get(head, head)
        model = {"former_ids": "former_slugs"}.get(model, model)
        path = model + (sep + rest if sep else (dot + tail if dot else ""))
        results.append(
            replace(
                r,
                file=source.file,
                record=source.index,
                record_id=source.record_id,
                field=source.field_name(path) if r.field else r.field,
            )
        )
    return ValidationReport(results=results, checked=report.checked)


@cli.command()
@click.argument("slugs", nargs=-1, required=True, metavar="SLUG...")
@click.option("--reason", required=True, help="Why: shown on the release's 410 page.")
@click.option("--base-url", default=None, help="Base URL [env PUBLISHER_BASE_URL].")
@store_options
@click.pass_context
def delete(
    ctx: click.Context,
    /,
    slugs: tuple[str, ...],
    reason: str,
    base_url: str | None,
    **store_flags: Any,
) -> None:
    """Delete releases, leaving a tombstone (slug, title, when, why)."""
    settings = _store_settings(ctx, base_url=base_url, **store_flags)
    with _open(settings) as store:
        result = catalog.delete(store, slugs, reason, settings)
        _refresh_index(store, settings)
        _say_published(result, store)
    ctx.exit(EXIT_OK)


@cli.command()
@click.option(
    "--to",
    "fmt",
    type=click.Choice(["nquads", "trig"]),
    default="nquads",
    show_default=True,
    help="Dump format.",
)
@click.option("-o", "--output", default="-", help="Output file (default: stdout).")
@store_options
@click.pass_context
def dump(ctx: click.Context, /, fmt: str, output: str, **store_flags: Any) -> None:
    """Write every quad of the store (a whole-store backup)."""
    settings = _store_settings(ctx, **store_flags)
    with _open(settings) as store:
        if output == "-":
            store.dump(sys.stdout.buffer, fmt)
            sys.stdout.buffer.flush()
        else:
            target = Path(output)
            tmp = target.with_name(f".{target.name}.partial")
            try:
                with open(tmp, "wb") as fh:
                    store.dump(fh, fmt)
                os.replace(tmp, target)
            except OSError as exc:
                raise Failure(f"{output}: cannot write: {exc.strerror}") from None
            finally:
                tmp.unlink(missing_ok=True)
    ctx.exit(EXIT_OK)


@cli.command()
@click.argument("dump_file", metavar="FILE", type=click.Path(dir_okay=False))
@click.option(
    "--from",
    "fmt",
    type=click.Choice(["auto", "nquads", "trig"]),
    default="auto",
    show_default=True,
    help="Dump format; auto goes by the file name (.nq, .trig).",
)
@store_options
@click.pass_context
def restore(
    ctx: click.Context, /, dump_file: str, fmt: str, **store_flags: Any
) -> None:
    """Load a dump into an empty store; restore(dump) gives back the same quads."""
    if fmt == "auto":
        fmt = "trig" if dump_file.endswith(".trig") else "nquads"
    if not Path(dump_file).is_file():
        raise Failure(f"{dump_file}: no such file")
    settings = _store_settings(ctx, **store_flags)
    with _open(settings) as store:
        if not catalog.is_empty(store):
            raise Failure(
                f"{store.location} is not empty: restore needs an empty store "
                "(use a new --store path, or clear this one)"
            )
        store.load_dump(dump_file, fmt)
        base = catalog.recorded_base_url(store)
        if base is not None and base != settings.base_url:
            settings = replace(settings, base_url=base)
        _refresh_index(store, settings)
        click.echo(f"Restored {store.count_quads()} quads into {store.location}.")
    ctx.exit(EXIT_OK)


@cli.command()
@click.argument("sparql")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "tsv", "xml", "turtle", "ntriples"]),
    default="table",
    show_default=True,
    help="json is SPARQL 1.1 Query Results JSON; turtle/ntriples for CONSTRUCT.",
)
@store_options
@click.pass_context
def query(ctx: click.Context, /, sparql: str, fmt: str, **store_flags: Any) -> None:
    """Run a SPARQL query against the store (default graph: all graphs).

    SERVICE is refused: the store would fetch from another server.
    """
    settings = _store_settings(ctx, **store_flags)
    if sparql == "-":
        sparql = sys.stdin.read()
    try:
        check_query(sparql)  # parses; refuses SERVICE, which would fetch
    except PublisherError as exc:
        raise Failure(str(exc)) from None
    with _open(settings) as store:
        wanted = "json" if fmt == "table" else fmt
        try:
            kind, payload = store.query_results(sparql, wanted)
        except PublisherError:
            if fmt != "table":
                raise
            kind, payload = store.query_results(sparql, "turtle")
        if fmt == "table" and kind in ("select", "ask"):
            click.echo(_results_table(payload), nl=False)
        else:
            sys.stdout.buffer.write(payload)
            sys.stdout.buffer.flush()
    ctx.exit(EXIT_OK)


def _results_table(payload: bytes) -> str:
    data = json.loads(payload)
    if "boolean" in data:
        return ("true" if data["boolean"] else "false") + "\n"
    names = data["head"]["vars"]
    rows = [
        [b.get(n, {}).get("value", "") for n in names]
        for b in data["results"]["bindings"]
    ]
    widths = [
        min(60, max([len(n)] + [len(r[i]) for r in rows])) for i, n in enumerate(names)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            (c if len(c) <= w else c[: w - 1] + "…").ljust(w)
            for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    out = [line(names), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@store_options
@click.pass_context
def stats(ctx: click.Context, /, fmt: str, **store_flags: Any) -> None:
    """Releases by status, graphs, triples, tombstones, data version."""
    settings = _store_settings(ctx, **store_flags)
    with _open(settings) as store:
        figures = catalog.stats(store, settings)
    if fmt == "json":
        click.echo(json.dumps(asdict(figures), indent=2))
    else:
        click.echo(f"Store:        {store.location}")
        click.echo(f"Base URL:     {figures.base_url or '(nothing published yet)'}")
        click.echo(f"Data version: {figures.data_version or '-'}")
        click.echo(f"Releases:     {figures.releases}")
        for status, n in figures.releases_by_status.items():
            click.echo(f"  {status:<12}{n}")
        click.echo(f"Tombstones:   {figures.tombstones}")
        click.echo(f"Graphs:       {figures.graphs}")
        click.echo(f"Triples:      {figures.triples}")
    ctx.exit(EXIT_OK)


@cli.command()
@store_options
@click.pass_context
def reindex(ctx: click.Context, /, **store_flags: Any) -> None:
    """Rebuild the listing index from the store (it is derived, never the source)."""
    settings = _store_settings(ctx, **store_flags)
    with _open(settings) as store:
        base = catalog.recorded_base_url(store)
        if base is not None:
            settings = replace(settings, base_url=base)
        index = ListingIndex.for_settings(settings)
        try:
            result = index.rebuild(store, settings)
        finally:
            index.close()
    click.echo(
        f"Indexed {result.updated} release(s) from {store.location} into "
        f"{settings.index_path} (data version {result.data_version})."
    )
    ctx.exit(EXIT_OK)


@cli.command()
@store_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--base-url", default=None, help="Base URL [env PUBLISHER_BASE_URL].")
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=8,
    show_default=True,
    help="Threads serving requests (one process owns an embedded store).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    /,
    host: str,
    port: int,
    base_url: str | None,
    workers: int,
    **store_flags: Any,
) -> None:
    """Serve the site with a production WSGI server (waitress)."""
    settings = _store_settings(ctx, base_url=base_url, **store_flags)
    _serve(settings, host, port, workers)


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    from publisher.server import serve as run_server

    try:
        run_server(settings, host, port, workers, announce=click.echo)
    except PublisherError as exc:
        raise Failure(str(exc)) from None


def main() -> None:  # pragma: no cover - console entry point
    cli()
