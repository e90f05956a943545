"""Hostile input, every format (issue 10): mutated records from a valid fixture
given to the command line in-process (click's runner).

Whatever the input, ``validate`` and ``import`` exit 0, 1 or 2, print no
traceback and raise nothing but SystemExit; every finding and error line names
the file, and a finding (exit 1) or an error inside a record names the record
and the field; an ``import`` that does not exit 0 leaves the store as it was.

Mutations start from a fixture (tests/fixtures/) and, at a place drawn from the
document: drop a field, replace a value with random JSON, a wrong type, a huge or
negative number, text with control characters and separators, a date on a clock
change, or deep nesting; add an unknown field. Files are also cut, padded with
invalid UTF-8 and replaced with random bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.cli import cli
from tests.conftest import FIXTURES

pytestmark = pytest.mark.reliability

CHECKS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=20,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values --------------------------------------------------------------------

SPECIALS = [
    "\u2028",
    "\u2029",
    "\x85",
    "\x00",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x1c",
    "\r\n",
    "\r",
    "\t",
    ",",
    ";",
    '"',
    "'",
    "\\",
    "<script>alert(1)</script>",
    "]]>",
    "&amp;",
    "\ufeff",
    "\ufffe",
    "\U0001f600",
    "\u202e",
    "\ud800",  # half a surrogate pair: only JSON can carry it, as \ud800
    "{",
    "[",
    ".",
    "1",
    "²",
]
DATES = [
    "2026-03-29T01:30",
    "2026-10-25T01:30",
    "2026-10-25T01:30:00+00:00",
    "2027-02-30T09:30:00Z",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+14:00",
    "2027-01-20",
    "2027-01-20T25:00",
    "+002027-01-20T09:30Z",
    "January 2027",
    "",
]
odd_text = st.one_of(
    st.text(max_size=12),
    st.lists(st.sampled_from(SPECIALS), min_size=1, max_size=4).map("".join),
    st.tuples(st.text(max_size=6), st.sampled_from(SPECIALS)).map("".join),
    st.sampled_from(DATES),
    st.integers(min_value=1, max_value=3).map(lambda n: "x" * (10**n * 7)),
)
numbers = st.one_of(
    st.integers(),
    st.sampled_from([-1, 0, 2**63, -(2**63), 10**30, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, odd_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(odd_text, inner, max_size=3),
    ),
    max_leaves=6,
)


#: stands for a value nested this deep until the document is written (no
#: serialiser writes 5,000 levels: each recurses)
DEEP = re.compile(r"[\"']?zzdeep(\d+)zz[\"']?")
deep_values = st.sampled_from([30, 99, 100, 101, 150, 1200]).map(
    lambda n: f"zzdeep{n}zz"
)


#: what a serialiser would never write, spliced in raw where zzraw<n>zz stands
RAW_JSON = ["NaN", "-Infinity", "1e999", "-0", "1" * 5000, '"\\ud800"', '"\\u0000"']
RAW_YAML = [
    "2027-02-30",
    "2027-01-20 25:00:00",
    "2027-02-30T09:30:00Z",
    '!!int "x"',
    '!!bool "x"',
    '!!float "x"',
    "!!binary AAAA",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "&loop [*loop]",
    "*nowhere",
    "!!python/object:os.system x",
    ".nan",
    "0x1F",
    "0o17",
    "~",
    "{[1]: 2}",
]
RAW = re.compile(r"[\"']?zzraw(\d+)zz[\"']?")
raw_values = st.integers(min_value=0, max_value=len(RAW_YAML) - 1).map(
    lambda n: f"zzraw{n}zz"
)


def _deepen(text: str, raw: list[str] = RAW_JSON, most: int = 10**9) -> str:
    def nest(match: re.Match[str]) -> str:
        depth = min(int(match[1]), most)
        return "[" * depth + "1" + "]" * depth

    text = DEEP.sub(nest, text)
    return RAW.sub(lambda m: raw[int(m[1]) % len(raw)], text)


#: CSV column names: dotted paths with positions in and out of range
csv_columns = st.builds(
    "{}.{}.{}".format,
    st.sampled_from(["datasets", "contacts", "date_changes", "topics", "id"]),
    st.sampled_from(["0", "1", "01", "1000", "1001", "99999999", "9" * 5000, "²", ""]),
    st.sampled_from(["title", "url", "downloads.3.url", "name", "1", ""]),
)

# Mutations of a parsed document ---------------------------------------------

Path_ = tuple[Any, ...]


def _places(node: Any, path: Path_ = ()) -> Iterator[Path_]:
    yield path
    if len(path) > 12:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _places(value, (*path, i))


def _parent(doc: Any, path: Path_) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


@st.composite
def mutated(draw: st.DrawFn, doc: Any, *, texts_only: bool = False) -> Any:
    """``doc`` (a fresh copy) with one to three mutations."""
    doc = json.loads(json.dumps(doc, default=str))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        places = [p for p in _places(doc) if p]
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent = _parent(doc, path)
        key = path[-1]
        kind = draw(
            st.sampled_from(
                ["drop", "replace", "text", "number", "deep", "unknown", "type", "raw"]
            )
        )
        if texts_only:
            kind = "text" if kind not in ("drop", "unknown") else kind
        if kind == "drop":
            del parent[key]
        elif kind == "unknown" and isinstance(parent, dict):
            name = draw(st.one_of(odd_text, csv_columns) if texts_only else odd_text)
            parent[name] = draw(odd_text if texts_only else json_values)
        elif kind == "text":
            parent[key] = draw(odd_text)
        elif kind == "number":
            parent[key] = draw(numbers)
        elif kind == "deep":
            parent[key] = draw(deep_values)
        elif kind == "raw":
            parent[key] = draw(raw_values)
        elif kind == "type":
            value = parent[key]
            parent[key] = [value] if not isinstance(value, list) else {"value": value}
        else:
            parent[key] = draw(json_values)
    return doc


# Formats ----------------------------------------------------------------------


def _json(doc: Any) -> bytes:
    # ASCII: \ud800 survives as an escape
    return _deepen(json.dumps(doc)).encode("utf-8")


def _jsonl(doc: Any) -> bytes:
    records = doc if isinstance(doc, list) else [doc]
    return _deepen("".join(json.dumps(r) + "\n" for r in records)).encode("utf-8")


def _yaml(doc: Any) -> bytes:
    docs = doc if isinstance(doc, list) else [doc]
    text = yaml.safe_dump_all(docs, allow_unicode=False)
    # PyYAML takes seconds over a thousand levels; 400 is well past the limit
    # (tests/test_cli.py tries 10,000 once)
    return _deepen(text, RAW_YAML, most=400).encode("utf-8", "surrogatepass")


def _csv(doc: Any) -> bytes:
    rows = doc if isinstance(doc, list) else [doc]
    header: list[str] = []
    for row in rows:
        for column in row if isinstance(row, dict) else []:
            if column not in header:
                header.append(str(column))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        row = row if isinstance(row, dict) else {}
        writer.writerow([str(row.get(h, "")) for h in header])
    return out.getvalue().encode("utf-8", "surrogatepass")


def _load_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


@dataclass(frozen=True)
class Format:
    name: str
    fixture: str
    source: str  # --from
    suffix: str
    write: Callable[[Any], bytes]
    texts_only: bool = False  # CSV cells are text

    def document(self) -> Any:
        path = FIXTURES / self.fixture
        if self.suffix == ".csv":
            return _load_csv(path)
        if self.suffix == ".yaml":
            return list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        if self.suffix == ".jsonl":
            return [json.loads(line) for line in path.read_text().splitlines()]
        return json.loads(path.read_text(encoding="utf-8"))


FORMATS = [
    Format("native-json", "native/calendar.json", "native", ".json", _json),
    Format("native-jsonl", "native/calendar.jsonl", "native", ".jsonl", _jsonl),
    Format("native-yaml", "native/calendar.yaml", "native", ".yaml", _yaml),
    Format("native-csv", "native/calendar.csv", "native", ".csv", _csv, True),
    Format("ons-api", "ons-api/search-releases.json", "ons-api", ".json", _json),
    Format(
        "ons-legacy",
        "ons-legacy/releasecalendar-list.json",
        "ons-legacy",
        ".json",
        _json,
    ),
    Format("govuk", "govuk/search-results.json", "govuk", ".json", _json),
]
IDS = [f.name for f in FORMATS]

# Checks -------------------------------------------------------------------------

#: errors about a whole record, which name no field
WHOLE_RECORD = (
    "is not valid JSON",
    ": nested more than 100 levels deep",
    "already used by",
    ": expected an object",
)
#: the other lines validate and import write
OTHER_LINES = (
    r"^\d+ release\(s\) checked: ",
    r"^Nothing published: ",
    r"^Scheduled: ",
    r"^.* in embedded store at .* \(data version [0-9a-f]+\)\.$",
)
FINDING = re.compile(r"^(Violation|Warning|Info): (?P<rest>.*)$")


def check_result(result: Result, path: Path) -> None:
    """Exit 0, 1 or 2, no traceback, and lines that say where."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception),
        result.output[-2000:],
    )
    assert result.exit_code in (0, 1, 2), result.output[-2000:]
    assert "Traceback" not in result.output, result.output[-2000:]
    for line in result.output.split("\n"):
        assert "\r" not in line and line.isprintable(), repr(line)
        finding = FINDING.match(line)
        if finding:
            rest = finding["rest"]
            assert rest.startswith(f"{path}, record "), line
            assert ", field '" in rest, line
        elif line.startswith("Error: "):
            assert line.startswith(f"Error: {path}"), line
            if ", record " in line:
                # an error inside a record names its field, unless it is about
                # the whole record (past the parser's own depth limit, say)
                assert ", field '" in line or any(
                    whole in line for whole in WHOLE_RECORD
                ), line
        else:
            assert not line or any(re.match(p, line) for p in OTHER_LINES), line
    if result.exit_code == 2:
        assert result.stderr.count("\n") == 1, result.stderr[-2000:]
        assert result.stderr.startswith("Error: "), result.stderr[-2000:]


def _run(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args, catch_exceptions=True)


# validate: every format, mutated records -------------------------------------


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_validate_survives_mutated_records(fmt: Format, tmp_path: Path) -> None:
    base = fmt.document()
    path = tmp_path / f"input{fmt.suffix}"

    codes: set[int] = set()

    @CHECKS
    @given(doc=mutated(base, texts_only=fmt.texts_only))
    def check(doc: Any) -> None:
        path.write_bytes(fmt.write(doc))
        for source in (fmt.source, "auto"):
            result = _run(["validate", "--from", source, str(path)])
            check_result(result, path)
            codes.add(result.exit_code)

    check()
    # the mutations reach the shapes too, not only the importer's checks
    assert codes & {0, 1} and 2 in codes, codes


# Bytes: cut, invalid UTF-8, random ------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_validate_survives_broken_bytes(fmt: Format, tmp_path: Path) -> None:
    original = fmt.write(fmt.document())
    path = tmp_path / f"input{fmt.suffix}"
    spoilers = st.sampled_from(
        [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xef\xbb"]
    )

    @CHECKS
    @given(
        how=st.sampled_from(["cut", "insert", "random"]),
        at=st.integers(min_value=0, max_value=len(original)),
        spoiler=spoilers,
        noise=st.binary(max_size=64),
    )
    def check(how: str, at: int, spoiler: bytes, noise: bytes) -> None:
        if how == "cut":
            data = original[:at]
        elif how == "insert":
            data = original[:at] + spoiler + original[at:]
        else:
            data = noise
        path.write_bytes(data)
        check_result(_run(["validate", "--from", fmt.source, str(path)]), path)

    check()


# import: a batch with a bad record changes nothing ----------------------------


@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("inputs") / "store"
    sample = FIXTURES / "native" / "calendar.json"
    result = _run(["import", str(sample), "--store", str(store)])
    assert result.exit_code == 0, result.output
    return store


def _dump(store: Path) -> str:
    result = _run(["dump", "--store", str(store)])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("fmt", FORMATS, ids=IDS)
def test_a_batch_with_a_bad_record_leaves_the_store_unchanged(
    fmt: Format, seeded_store: Path, tmp_path: Path
) -> None:
    base = fmt.document()
    path = tmp_path / f"batch{fmt.suffix}"

    state = [_dump(seeded_store)]
    codes: set[int] = set()

    @settings(CHECKS, max_examples=6)
    @given(doc=mutated(base, texts_only=fmt.texts_only))
    def check(doc: Any) -> None:
        path.write_bytes(fmt.write(doc))
        result = _run(
            ["import", "--from", fmt.source, str(path), "--store", str(seeded_store)]
        )
        check_result(result, path)
        codes.add(result.exit_code)
        after = _dump(seeded_store)
        if result.exit_code != 0:
            assert after == state[0], result.output[-2000:]
        state[0] = after

    check()
    assert codes - {0}, codes  # some batch was refused (and changed nothing)
