"""The ``publisher`` command line. Each command parses options and calls ``pipeline``.

Exit codes (DESIGN.md, "CLI"): 0 done, 1 the data violates the shapes, 2 bad usage
or unreadable input. Errors are one line naming file, record and field; never a
traceback for a person's mistake.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from publisher import __version__, pipeline
from publisher.config import Settings, load_settings
from publisher.errors import PublisherError
from publisher.importers import FORMAT_NAMES
from publisher.resources import sample_calendar
from publisher.validation import ValidationReport, report_to_json_text

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


def input_options(func: F) -> F:
    func = click.option(
        "--from",
        "source_format",
        type=click.Choice(FORMAT_NAMES),
        default="auto",
        show_default=True,
        help="Input format; auto looks at each file.",
    )(func)
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
def _progress(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal; silent when stderr is piped."""
    if total < 500 or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def _load(inputs: Sequence[str], settings: Settings, fmt: str) -> list[Any]:
    try:
        return pipeline.load(inputs, settings, fmt)
    except PublisherError as exc:
        raise Failure(str(exc)) from None


def _run(
    releases: list[Any],
    settings: Settings,
    to: str,
    out: IO[str],
    *,
    skip_invalid: bool,
    jobs: int | None,
) -> pipeline.BatchOutcome:
    with _progress(len(releases), "Converting") as progress:
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


@contextmanager
def _pending_output(output: str) -> Iterator[tuple[IO[str], Callable[[], None]]]:
    """A temporary file and a ``commit`` that moves it into place (or to stdout).

    Without ``commit`` nothing is written: a batch is all or nothing, and an
    interrupted run leaves no half-written file.
    """
    target = None if output == "-" else Path(output)
    try:
        fd, tmp = tempfile.mkstemp(
            dir=target.parent if target is not None else None,
            prefix=f".{target.name}." if target is not None else "publisher-",
        )
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
    releases = _load(inputs, settings, source_format)
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
    releases = _load(inputs, settings, source_format)
    if report_format == "turtle":
        from publisher.validation import validate_releases

        report: ValidationReport = validate_releases(
            releases, settings, keep_graphs=True
        )
    else:
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
@click.pass_context
def demo(ctx: click.Context, out: str) -> None:
    """Convert the bundled sample calendar (Turtle, N-Quads, JSON-LD blocks)."""
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
    ctx.exit(EXIT_OK)


def main() -> None:  # pragma: no cover - console entry point
    cli()
