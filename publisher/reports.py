"""The texts the commands print: reports, summaries and the query results table.

Pure functions from results to text; printing them (and the exit code) is the
command line's part.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

from publisher.model import Release
from publisher.store.catalog import PublishResult, StoreCounts, describe_publish
from publisher.validation import ValidationReport, report_to_json_text

#: the --report formats of ``publisher validate``
REPORT_FORMATS = ("text", "json", "turtle")


def report_text(report: ValidationReport, fmt: str) -> str:
    """The validation report as ``text``, ``json`` (docs/validation.md) or
    ``turtle`` (the SHACL report graph)."""
    if fmt == "json":
        return report_to_json_text(report)
    if fmt == "turtle":
        return report.to_turtle()
    return report.to_text()


def skipped_text(skipped: Sequence[str], *, skip_invalid: bool) -> str:
    """What became of the invalid releases of a conversion."""
    if skip_invalid:
        return f"Skipped {len(skipped)} invalid release(s): {', '.join(skipped)}"
    return (
        "Nothing written: the batch has invalid releases "
        "(fix them, or use --skip-invalid to write the valid ones)."
    )


def published_text(result: PublishResult, location: str) -> str:
    """One line: what a publication changed, where, and the new data version."""
    return (
        f"{describe_publish(result)} in {location} "
        f"(data version {result.data_version})."
    )


def local_report(
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


def push_lines(body: Mapping[str, Any], server: str) -> list[str]:
    """What a server's answer to a pushed batch says: the scheduled releases,
    then one line of counts and the data version."""
    parts = []
    for key, label in (
        ("published", "published"),
        ("unchanged", "unchanged"),
        ("scheduled", "scheduled"),
    ):
        if body.get(key):
            parts.append(f"{len(body[key])} {label}")
    lines = [
        f"Scheduled: {slug} at {when} (under embargo until then)"
        for slug, when in sorted((body.get("scheduled") or {}).items())
    ]
    lines.append(
        f"{', '.join(parts) or 'nothing to do'} at {server} "
        f"(data version {body.get('data_version')})."
    )
    return lines


def stats_text(figures: StoreCounts, location: str, fmt: str) -> str:
    """The store's figures as ``json`` or as aligned ``text`` lines."""
    if fmt == "json":
        return json.dumps(asdict(figures), indent=2)
    lines = [
        f"Store:        {location}",
        f"Base URL:     {figures.base_url or '(nothing published yet)'}",
        f"Data version: {figures.data_version or '-'}",
        f"Releases:     {figures.releases}",
    ]
    lines += [f"  {status:<12}{n}" for status, n in figures.releases_by_status.items()]
    lines += [
        f"Tombstones:   {figures.tombstones}",
        f"Graphs:       {figures.graphs}",
        f"Triples:      {figures.triples}",
    ]
    return "\n".join(lines)


def results_table(payload: bytes) -> str:
    """SPARQL JSON results (SELECT or ASK) as a plain text table, cells cut at
    60 characters, with a row count."""
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
