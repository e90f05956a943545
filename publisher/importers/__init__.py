"""Read release metadata in every supported format into :class:`Release` objects.

Formats (``--from``): ``native`` (JSON, JSON Lines, YAML, CSV: docs/native-format.md),
``ons-api`` (ONS release-calendar API ``/v1/search/releases``), ``ons-legacy``
(zebedee/babbage ``data.json`` of type ``release`` and the ``/releasecalendar/data``
list), ``govuk`` (GOV.UK ``statistics_announcement`` content items). ``auto`` looks at
each document's shape. docs/formats.md maps every source field to its RDF term.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import yaml

from publisher import nesting
from publisher.config import Settings
from publisher.errors import InputError, TooDeep, Unreadable
from publisher.importers import govuk, native, ons_api, ons_legacy
from publisher.importers._common import Where, check_release_terms
from publisher.model import Release

Importer = Callable[..., list[Release]]

#: name -> (recogniser, importer); ``auto`` tries them in this order.
FORMATS: dict[str, tuple[Callable[[Any], bool], Importer]] = {
    "ons-api": (ons_api.looks_like, ons_api.releases_from_document),
    "ons-legacy": (ons_legacy.looks_like, ons_legacy.releases_from_document),
    "govuk": (govuk.looks_like, govuk.releases_from_document),
    "native": (native.looks_like, native.releases_from_document),
}
FORMAT_NAMES = ("auto", "native", "ons-api", "ons-legacy", "govuk")


def read_text(path: str) -> str:
    """The text of ``path`` (``-`` is standard input), or an InputError."""
    if path == "-":
        text = sys.stdin.read()
    else:
        p = Path(path)
        if p.is_dir():
            raise InputError("is a directory, not a file", file=path)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError("no such file", file=path) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"is not UTF-8 text (byte {exc.start})", file=path
            ) from None
        except OSError as exc:
            raise InputError(f"cannot be read: {exc.strerror}", file=path) from None
    if not text.strip():
        raise InputError("is empty: no releases to read", file=path)
    return text


def parse_document(text: str, path: str) -> tuple[Any, str]:
    """Parse text as JSON, JSON Lines, YAML or CSV; return (data, syntax)."""
    suffix = Path(path).suffix.lower() if path != "-" else ""
    stripped = text.lstrip()
    if suffix == ".csv" or (suffix == "" and _looks_like_csv(stripped)):
        return _parse_csv(text, path), "csv"
    if suffix in {".yaml", ".yml"}:
        return _parse_yaml(text, path), "yaml"
    if suffix in {".jsonl", ".ndjson"}:
        return _parse_jsonl(text, path), "jsonl"
    if suffix in {".json", ".jsonld"} or stripped[:1] in "[{":
        try:
            return nesting.loads(text), "json"
        except TooDeep as exc:
            raise too_deep_error(exc, path) from None
        except Unreadable as exc:
            raise InputError(f"is not valid JSON: {exc}", file=path) from None
        except json.JSONDecodeError as exc:
            if stripped[:1] == "{" and suffix != ".json":
                # Several objects, one per line: JSON Lines without the suffix.
                try:
                    return _parse_jsonl(text, path), "jsonl"
                except InputError:
                    pass
            raise InputError(
                f"is not valid JSON: {exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}",
                file=path,
            ) from None
    return _parse_yaml(text, path), "yaml"


def too_deep_error(exc: TooDeep, path: str, record: int | None = None) -> InputError:
    """The InputError for a document nested too deep: the record is ``record``
    or the position in the document's list of records, the field the keys below."""
    steps = list(exc.path)
    if record is None and steps[:1] in (["releases"], ["results"]):
        steps = steps[1:]  # the list of records in a native or ONS document
    if record is None and steps and isinstance(steps[0], int):
        record, steps = steps[0] + 1, steps[1:]
    field = ""
    for step in steps[:3]:
        field += f"[{step}]" if isinstance(step, int) else f".{step}"
    if len(steps) > 3:
        field += "…"
    return InputError(
        str(exc), file=path, record=record, field=field.lstrip(".") or None
    )


def _looks_like_csv(text: str) -> bool:
    first = text.split("\n", 1)[0].rstrip("\r")
    return "," in first and first.split(",")[0].strip().strip('"') == "id"


def _parse_jsonl(text: str, path: str) -> list[Any]:
    records: list[Any] = []
    # only LF (or CR LF) ends a JSON Lines record: a string may hold U+2028 raw
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(nesting.loads(line))
        except TooDeep as exc:
            raise too_deep_error(exc, path, len(records) + 1) from None
        except Unreadable as exc:
            raise InputError(
                f"line {n} is not valid JSON: {exc}", file=path, record=len(records) + 1
            ) from None
        except json.JSONDecodeError as exc:
            raise InputError(
                f"line {n} is not valid JSON: {exc.msg} at column {exc.colno}",
                file=path,
                record=len(records) + 1,
            ) from None
    return records


class _YamlLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a timestamp stays text: the importers read
    dates and times themselves, naming the field of one that is not a real date
    (PyYAML's own constructor ends 2027-02-30 in a ValueError, and gives a time
    without an offset no zone)."""


def _timestamp_as_text(loader: _YamlLoader, node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):  # !!timestamp [1]
        raise yaml.constructor.ConstructorError(None, None, "not a timestamp")
    return str(loader.construct_scalar(node))


_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _parse_yaml(text: str, path: str) -> Any:
    try:
        docs = [d for d in yaml.load_all(text, Loader=_YamlLoader) if d is not None]
        # one document is checked as itself, several as a list of records
        nesting.check_depth(docs[0] if len(docs) == 1 else docs)
    except RecursionError:  # the composer recurses once a level
        raise InputError(str(TooDeep()), file=path) from None
    except TooDeep as exc:
        raise too_deep_error(exc, path) from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # PyYAML's constructors fail so on a tagged value they cannot make
        # (!!int "x", !!bool "x", !!float "x")
        raise InputError(
            f"is not valid YAML: a tagged value cannot be read ({exc})", file=path
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise InputError(f"is not valid YAML: {problem}{where}", file=path) from None
    if not docs:
        raise InputError("is empty: no releases to read", file=path)
    if len(docs) == 1:
        return docs[0]
    return docs


def _parse_csv(text: str, path: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(
            f"is not valid CSV: {exc} (line {reader.line_num})", file=path
        ) from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError("is empty: no releases to read", file=path)
    header = [h.strip() for h in rows[0]]
    dupes = sorted({h for h in header if header.count(h) > 1 and h})
    if dupes:
        raise InputError(f"CSV header repeats column(s) {', '.join(dupes)}", file=path)
    out: list[dict[str, str]] = []
    for n, row in enumerate(rows[1:], start=1):
        if len(row) > len(header):
            raise InputError(
                f"has {len(row)} cells but the header has {len(header)} columns",
                file=path,
                record=n,
            )
        out.append({h: v for h, v in zip(header, row, strict=False) if h})
    if not out:
        raise InputError("has a header but no releases", file=path)
    return out


def detect_format(data: Any, path: str) -> str:
    for name, (looks_like, _) in FORMATS.items():
        if looks_like(data):
            return name
    raise InputError(
        "unknown format: not native release records, an ONS release-calendar API "
        "response, ONS legacy release JSON or a GOV.UK statistics announcement "
        "(give --from to say which)",
        file=path,
    )


def read_releases(
    paths: Sequence[str], settings: Settings, fmt: str = "auto"
) -> list[Release]:
    """Every release of every input, in input order; InputError on the first problem."""
    return list(iter_releases(paths, settings, fmt))


def read_file(path: str, settings: Settings, fmt: str = "auto") -> list[Release]:
    return list(iter_file(path, settings, fmt))


def iter_releases(
    paths: Sequence[str], settings: Settings, fmt: str = "auto"
) -> Iterator[Release]:
    """Every release of every input, streamed: big inputs never sit in memory whole."""
    for path in paths:
        yield from iter_file(path, settings, fmt)


def iter_file(path: str, settings: Settings, fmt: str = "auto") -> Iterator[Release]:
    """The releases of one input, one at a time.

    JSON Lines and CSV in the native format are read a line at a time; other
    documents are parsed whole, then handed out record by record. Every release
    is checked to hold only values that can become RDF terms.
    """
    for release in _iter_file(path, settings, fmt):
        yield check_release_terms(release)


def _iter_file(path: str, settings: Settings, fmt: str) -> Iterator[Release]:
    if fmt not in FORMAT_NAMES:
        raise InputError(
            f"unknown format {fmt!r}; use one of {', '.join(FORMAT_NAMES)}"
        )
    suffix = Path(path).suffix.lower() if path != "-" else ""
    if fmt in ("auto", "native") and suffix in (".jsonl", ".ndjson", ".csv"):
        streamed = _iter_lines(path, settings, fmt, csv_input=suffix == ".csv")
        first = next(streamed, None)
        if first is not None:
            yield first
            yield from streamed
            return
    text = read_text(path)
    data, syntax = parse_document(text, path)
    del text
    name = detect_format(data, path) if fmt == "auto" else fmt
    if syntax == "csv" and name != "native":
        raise InputError(
            f"CSV input is only read as the native format, not {name}", file=path
        )
    looks_like, importer = FORMATS[name]
    if fmt != "auto" and not looks_like(data):
        raise InputError(f"does not look like {name} input", file=path)
    if name == "native":
        yield from native.iter_releases(
            data, file=path, settings=settings, csv=syntax == "csv"
        )
        return
    yield from importer(data, file=path, settings=settings, csv=syntax == "csv")


def _iter_lines(
    path: str, settings: Settings, fmt: str, *, csv_input: bool
) -> Iterator[Release]:
    """Native JSON Lines or CSV, a line at a time. Yields nothing (so the caller
    reads the document whole) when the first record is not native."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except FileNotFoundError:
        raise InputError("no such file", file=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", file=path) from None
    with handle:
        try:
            if csv_input:
                yield from _csv_rows(handle, path, settings)
                return
            n = 0
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                n += 1
                try:
                    record = nesting.loads(line)
                except TooDeep as exc:
                    raise too_deep_error(exc, path, n) from None
                except Unreadable as exc:
                    raise InputError(
                        f"line {line_no} is not valid JSON: {exc}", file=path, record=n
                    ) from None
                except json.JSONDecodeError as exc:
                    raise InputError(
                        f"line {line_no} is not valid JSON: {exc.msg} at column "
                        f"{exc.colno}",
                        file=path,
                        record=n,
                    ) from None
                if n == 1 and fmt == "auto" and not native.looks_like(record):
                    return
                yield native.release_from_line(record, Where(path, n), settings)
            if n == 0:
                raise InputError("is empty: no releases to read", file=path)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"is not UTF-8 text (byte {exc.start})", file=path
            ) from None


def _csv_rows(handle: IO[str], path: str, settings: Settings) -> Iterator[Release]:
    reader = csv.reader(handle, strict=True)
    header: list[str] | None = None
    n = 0
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [h.strip() for h in row]
                dupes = sorted({h for h in header if header.count(h) > 1 and h})
                if dupes:
                    raise InputError(
                        f"CSV header repeats column(s) {', '.join(dupes)}", file=path
                    )
                continue
            n += 1
            if len(row) > len(header):
                raise InputError(
                    f"has {len(row)} cells but the header has {len(header)} columns",
                    file=path,
                    record=n,
                )
            record = {h: v for h, v in zip(header, row, strict=False) if h}
            yield native.release_from_line(record, Where(path, n), settings, csv=True)
    except csv.Error as exc:
        raise InputError(
            f"is not valid CSV: {exc} (line {reader.line_num})", file=path
        ) from None
    if header is None:
        raise InputError("is empty: no releases to read", file=path)
    if n == 0:
        raise InputError("has a header but no releases", file=path)
