"""The demo: the bundled sample calendar converted, and published into a fresh store.

``publisher demo`` writes the sample as Turtle, N-Quads and embeddable JSON-LD;
with ``--serve`` it imports the sample into a new embedded store beside them,
ready to be served on 127.0.0.1.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from publisher import pipeline
from publisher.config import Settings
from publisher.outputs import pending_output, progress
from publisher.resources import sample_calendar
from publisher.store import open_store
from publisher.store.upkeep import refresh_index
from publisher.validation import ValidationReport

#: the files the demo writes: output format, file name
SAMPLE_FILES = (
    ("turtle", "sample.ttl"),
    ("nquads", "sample.nq"),
    ("jsonld-embed", "sample-embed.jsonl"),
)


@dataclass(frozen=True)
class ConvertedSample:
    """The sample's conversion: ``ok`` when every file was written."""

    sample: str
    releases: int
    report: ValidationReport
    written: tuple[Path, ...]
    ok: bool


@dataclass(frozen=True)
class PublishedSample:
    """The sample's store: ``settings`` serve it; ``warning`` if the listing index
    was not updated."""

    settings: Settings
    store_path: Path
    published: bool
    warning: str | None


def convert_sample(settings: Settings, folder: Path) -> ConvertedSample:
    """Write the sample in each of SAMPLE_FILES into ``folder``; stop at the first
    conversion that writes nothing (the report says why)."""
    sample = str(sample_calendar())
    releases = pipeline.load([sample], settings, "native")
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    report = ValidationReport()
    for to, name in SAMPLE_FILES:
        with pending_output(str(folder / name)) as (fh, commit):
            with progress("Converting") as update:
                outcome = pipeline.run_batch(
                    releases,
                    settings,
                    to,
                    fh,
                    skip_invalid=False,
                    jobs=1,
                    progress=update,
                )
            report = outcome.report
            if not outcome.written:
                return ConvertedSample(
                    sample, len(releases), report, tuple(written), ok=False
                )
            commit()
        written.append(folder / name)
    return ConvertedSample(sample, len(releases), report, tuple(written), ok=True)


def publish_sample(settings: Settings, folder: Path, port: int) -> PublishedSample:
    """Import the sample into a new store ``folder/store`` (anything there
    before, and its index, removed), for a site at http://127.0.0.1:PORT."""
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
    sample = str(sample_calendar())
    store = open_store(settings)
    try:
        imported = pipeline.import_batch(
            pipeline.load([sample], settings, "native"), settings, store, jobs=1
        )
        warning = refresh_index(store, settings)
    finally:
        store.close()
    return PublishedSample(
        settings, store_path, imported.published is not None, warning
    )
