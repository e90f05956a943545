"""The ``publisher`` command line. Each command parses options and calls ``pipeline``
(or ``demo``, ``reports``, ``outputs``, ``store.upkeep``) and prints the result.

Exit codes (DESIGN.md, "CLI"): 0 done, 1 the data violates the shapes, 2 bad usage
or unreadable input. Errors are one line naming file, record and field; never a
traceback for a person's mistake.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click

from publisher import __version__, formats, outputs, pipeline, reports
from publisher.cli_options import (
    format_option,
    input_options,
    jobs_option,
    serve_options,
    store_options,
)
from publisher.config import Settings, load_settings
from publisher.demo import convert_sample, publish_sample
from publisher.errors import PublisherError, UsageError
from publisher.importers.native import release_to_record
from publisher.model import Release
from publisher.queries import check_query
from publisher.store import Store, catalog, open_store, upkeep
from publisher.store.client import PublisherServer
from publisher.store.index_fields import Known
from publisher.validation import ValidationReport, validate_releases

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
#: ``query --format`` choices besides ``table``, in the order docs/cli.md gives
QUERY_FORMATS = ("json", "csv", "tsv", "xml", "turtle", "ntriples")
assert set(QUERY_FORMATS) <= set(formats.BY_NAME)  # noqa: S101


def _fail(error: PublisherError | str) -> click.ClickException:
    """An error as click shows it: one line on stderr, and the error's exit code
    (publisher.errors; a plain message is a person's mistake, exit 2)."""
    if isinstance(error, str):
        error = UsageError(error)
    failure = click.ClickException(str(error))
    failure.exit_code = error.exit_code  # type: ignore[misc]  # click's ClassVar
    return failure


def _settings(ctx: click.Context, **flags: Any) -> Settings:
    try:
        return load_settings(
            flags, config_file=ctx.obj.get("config") if ctx.obj else None
        )
    except PublisherError as exc:
        raise _fail(exc) from None


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


def _load(inputs: Sequence[str], settings: Settings, fmt: str) -> list[Release]:
    try:
        return pipeline.load(inputs, settings, fmt)
    except PublisherError as exc:
        raise _fail(exc) from None


def _run(
    releases: Iterable[Release],
    settings: Settings,
    to: str,
    out: IO[str],
    *,
    skip_invalid: bool,
    jobs: int | None,
) -> pipeline.BatchOutcome:
    with outputs.progress("Converting") as progress:
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
            raise _fail(exc) from None


@contextmanager
def _pending_output(output: str) -> Iterator[tuple[IO[str], Callable[[], None]]]:
    """outputs.pending_output: nothing is written without ``commit``."""
    try:
        with outputs.pending_output(output) as pending:
            yield pending
    except PublisherError as exc:
        raise _fail(exc) from None


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
    releases = pipeline.iter_inputs(inputs, settings, source_format)
    with _pending_output(output) as (out, commit):
        outcome = _run(
            releases, settings, to, out, skip_invalid=skip_invalid, jobs=jobs
        )
        report = outcome.report
        if report.results:
            click.echo(report.to_text(), err=True, nl=False)
        if outcome.skipped:
            text = reports.skipped_text(outcome.skipped, skip_invalid=skip_invalid)
            click.echo(text, err=True)
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
    type=click.Choice(reports.REPORT_FORMATS),
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
        releases = pipeline.iter_inputs(inputs, settings, source_format)
        report = _run(
            releases, settings, "ntriples", io.StringIO(), skip_invalid=True, jobs=jobs
        ).report
    click.echo(reports.report_text(report, report_format), nl=False)
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
    try:
        converted = convert_sample(settings, Path(out))
    except PublisherError as exc:
        raise _fail(exc) from None
    report = converted.report
    if not converted.ok:
        click.echo(report.to_text(), err=True, nl=False)
        ctx.exit(EXIT_INVALID)
    click.echo(
        f"Converted {converted.releases} sample releases from {converted.sample}: "
        f"{len(report.violations)} violation(s), {len(report.warnings)} warning(s)."
    )
    for path in converted.written:
        click.echo(f"  wrote {path}")
    if serve:
        try:
            site = publish_sample(settings, Path(out), port)
        except PublisherError as exc:
            raise _fail(exc) from None
        if site.warning:
            click.echo(site.warning, err=True)
        if not site.published:
            ctx.exit(EXIT_INVALID)
        click.echo(f"Published the sample into {site.store_path}.")
        ctx.exit(_serve(site.settings, "127.0.0.1", port, 8, workers=1))
    ctx.exit(EXIT_OK)


# Store commands (issue 3) -------------------------------------------------


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
        raise _fail(exc) from None
    try:
        yield store
    except PublisherError as exc:
        raise _fail(exc) from None
    finally:
        store.close()


def _refresh_index(
    store: Store, settings: Settings, known: Mapping[str, Known] | None = None
) -> None:
    """Bring the listing index up to date; a failure is reported, not fatal."""
    warning = upkeep.refresh_index(store, settings, known)
    if warning:
        click.echo(warning, err=True)


def _say_published(result: catalog.PublishResult, store: Store) -> None:
    click.echo(reports.published_text(result, store.location))


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
    releases = pipeline.iter_inputs(inputs, settings, source_format)
    with _open(settings) as store:
        catalog.check_base_url(store, settings)  # before the work, not after
        with outputs.progress("Validating") as progress:
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
        _refresh_index(store, settings, outcome.batch.known)  # rows as written
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
        raise _fail("no releases in the input")
    records = [release_to_record(r) for r in releases]
    try:
        answer = PublisherServer(server, token).publish_batch(records)
    except PublisherError as exc:
        raise _fail(exc) from None
    body = answer.body
    report = body.get("report")
    if isinstance(report, dict):
        local = reports.local_report(ValidationReport.from_json(report), releases)
        text = local.to_text()
        click.echo(text, err=True, nl=False)
    if answer.status in (401, 403):
        raise _fail(f"{server} refused the token: {answer.message}")
    if answer.status in (409, 412, 422):
        if answer.status != 422:
            click.echo(f"Refused: {answer.message}", err=True)
        click.echo(f"Nothing published: {server} is unchanged.", err=True)
        ctx.exit(EXIT_INVALID)
    if answer.status != 200:
        raise _fail(f"{server} answered HTTP {answer.status}: {answer.message}")
    for line in reports.push_lines(body, server):
        click.echo(line)
    ctx.exit(EXIT_OK)


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
    type=click.Choice(formats.names(formats.DUMP)),
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
        outputs.write_binary(output, lambda out: store.dump(out, fmt))
    ctx.exit(EXIT_OK)


@cli.command()
@click.argument("dump_file", metavar="FILE", type=click.Path(dir_okay=False))
@click.option(
    "--from",
    "fmt",
    type=click.Choice(["auto", *formats.names(formats.DUMP)]),
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
        fmt = formats.for_file(dump_file, formats.DUMP, "nquads")
    if not Path(dump_file).is_file():
        raise _fail(f"{dump_file}: no such file")
    settings = _store_settings(ctx, **store_flags)
    with _open(settings) as store:
        settings = upkeep.restore_dump(store, settings, dump_file, fmt)
        _refresh_index(store, settings)
        click.echo(f"Restored {store.count_quads()} quads into {store.location}.")
    ctx.exit(EXIT_OK)


@cli.command()
@click.argument("sparql")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", *QUERY_FORMATS]),
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
        raise _fail(exc) from None
    with _open(settings) as store:
        wanted = "json" if fmt == "table" else fmt
        try:
            kind, payload = store.query_results(sparql, wanted)
        except PublisherError:
            if fmt != "table":
                raise
            kind, payload = store.query_results(sparql, "turtle")
        if fmt == "table" and kind in ("select", "ask"):
            click.echo(reports.results_table(payload), nl=False)
        else:
            sys.stdout.buffer.write(payload)
            sys.stdout.buffer.flush()
    ctx.exit(EXIT_OK)


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
        figures = catalog.counts(store, settings)
    click.echo(reports.stats_text(figures, store.location, fmt))
    ctx.exit(EXIT_OK)


@cli.command()
@store_options
@click.pass_context
def reindex(ctx: click.Context, /, **store_flags: Any) -> None:
    """Rebuild the listing index from the store (it is derived, never the source)."""
    settings = _store_settings(ctx, **store_flags)
    with _open(settings) as store:
        result = upkeep.rebuild_index(store, settings)
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
@serve_options
@click.pass_context
def serve(
    ctx: click.Context,
    /,
    host: str,
    port: int,
    base_url: str | None,
    workers: int | None,
    threads: int,
    **store_flags: Any,
) -> None:
    """Serve the site with a production WSGI server (waitress).

    Several worker processes use the cores: over an embedded store one of them
    writes and the others read its checkpoints (docs/serving.md).
    """
    settings = _store_settings(ctx, base_url=base_url, workers=workers, **store_flags)
    ctx.exit(_serve(settings, host, port, threads))


def _serve(
    settings: Settings, host: str, port: int, threads: int, workers: int | None = None
) -> int:
    from publisher.server import serve as run_server

    try:
        return run_server(
            settings, host, port, threads, announce=click.echo, workers=workers
        )
    except PublisherError as exc:
        raise _fail(exc) from None
    except OSError as exc:  # the port: in use, or not ours to bind
        raise _fail(f"cannot listen on {host}:{port}: {exc}") from None


def main() -> None:  # pragma: no cover - console entry point
    cli()
