"""The options the commands share: input format, inputs, jobs, the store, serving."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from publisher.importers import FORMAT_NAMES

F = TypeVar("F", bound=Callable[..., Any])


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


jobs_option = click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for large batches (default: one per core).",
)


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


def serve_options(func: F) -> F:
    """--workers N (processes) and --threads N (in each)."""
    func = click.option(
        "--threads",
        type=click.IntRange(1, 256),
        default=8,
        show_default=True,
        help="Threads serving requests in each worker process.",
    )(func)
    func = click.option(
        "--workers",
        type=click.IntRange(0, 64),
        default=None,
        help="Worker processes (default: one per core; 0 too) [env PUBLISHER_WORKERS].",
    )(func)
    return func
