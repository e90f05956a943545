"""The command line: outputs, exit codes (0, 1, 2) and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from rdflib import Graph
from rdflib.namespace import SH

from publisher.cli import cli
from publisher.resources import sample_calendar

from .conftest import FIXTURES, ROOT

NATIVE = FIXTURES / "native"
SAMPLE = str(sample_calendar())
GOOD = {
    "id": "good-release",
    "title": "A good release",
    "status": "confirmed",
    "release_date": "2027-03-04T09:30:00Z",
    "summary": "A summary long enough for Google's advice of fifty to five thousand.",
}
BAD = {
    "id": "bad-release",
    "status": "confirmed",
    "release_date": "2027-03-04T09:30:00Z",
}
SHORT = {**GOOD, "id": "short-release", "summary": "Too short."}


def _write(
    tmp_path: Path, records: list[dict[str, object]], name: str = "in.json"
) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(records))
    return str(path)


def test_convert_to_turtle_on_stdout(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["convert", str(NATIVE / "calendar.json")])
    assert result.exit_code == 0, result.output
    graph = Graph().parse(data=result.stdout, format="turtle")
    assert len(graph) > 50


def test_convert_reads_stdin(runner: CliRunner) -> None:
    text = (NATIVE / "calendar.jsonl").read_text()
    result = runner.invoke(cli, ["convert", "-", "--to", "ntriples"], input=text)
    assert result.exit_code == 0, result.output
    assert "retail-sales-gb-april-2027" in result.stdout


def test_convert_to_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out.nq"
    result = runner.invoke(
        cli, ["convert", str(NATIVE / "calendar.csv"), "--to", "nquads", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "/graphs/releases/trade-uk-march-2027>" in out.read_text()


def test_base_url_flag(runner: CliRunner) -> None:
    result = runner.invoke(
        cli,
        [
            "convert",
            str(NATIVE / "calendar.jsonl"),
            "--to",
            "ntriples",
            "--base-url",
            "https://stats.example.org/cal",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "<https://stats.example.org/cal/releases/retail-sales-gb-april-2027#release>"
        in result.stdout
    )
    assert "127.0.0.1" not in result.stdout


def test_invalid_batch_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    path = _write(tmp_path, [GOOD, BAD])
    out = tmp_path / "out.ttl"
    result = runner.invoke(cli, ["convert", path, "-o", str(out)])
    assert result.exit_code == 1
    assert not out.exists()
    assert result.stdout == ""
    assert (
        "record 2, id bad-release, field 'title': A release needs a title."
        in result.stderr
    )
    assert "Nothing written" in result.stderr


def test_skip_invalid_writes_the_valid_ones(runner: CliRunner, tmp_path: Path) -> None:
    path = _write(tmp_path, [GOOD, BAD])
    result = runner.invoke(cli, ["convert", path, "--to", "ntriples", "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert "good-release" in result.stdout
    assert "bad-release" not in result.stdout
    assert "Skipped 1 invalid release(s): bad-release" in result.stderr


def test_skip_invalid_with_nothing_valid_exits_1(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = _write(tmp_path, [BAD])
    result = runner.invoke(cli, ["convert", path, "--skip-invalid"])
    assert result.exit_code == 1
    assert result.stdout == ""


def test_warnings_are_listed_not_fatal_unless_strict(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = _write(tmp_path, [SHORT])
    result = runner.invoke(cli, ["convert", path])
    assert result.exit_code == 0
    assert "Warning:" in result.stderr
    assert "field 'summary'" in result.stderr
    strict = runner.invoke(cli, ["convert", path, "--strict"])
    assert strict.exit_code == 1
    assert strict.stdout == ""
    assert runner.invoke(cli, ["validate", path]).exit_code == 0
    assert runner.invoke(cli, ["validate", path, "--strict"]).exit_code == 1


def test_validate_text_report(runner: CliRunner, tmp_path: Path) -> None:
    path = _write(tmp_path, [GOOD, BAD, SHORT])
    result = runner.invoke(cli, ["validate", path])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert (
        f"Violation: {path}, record 2, id bad-release, field 'title': "
        "A release needs a title." in lines
    )
    assert any(
        line.startswith(f"Warning: {path}, record 3, id short-release, field 'summary'")
        for line in lines
    )
    assert lines[-1] == "3 release(s) checked: 1 violation(s), 2 warning(s)"


def test_validate_json_report_follows_the_schema(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = _write(tmp_path, [GOOD, BAD, SHORT])
    result = runner.invoke(cli, ["validate", path, "--report", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    schema_file = ROOT / "publisher" / "data" / "report.schema.json"
    schema = json.loads(schema_file.read_text())
    Draft202012Validator(schema).validate(report)
    assert report["conforms"] is False
    assert report["violations"] == 1
    assert report["warnings"] == 2  # bad-release also lacks a summary
    by_id = {r["id"]: r for r in report["records"]}
    assert set(by_id) == {"bad-release", "short-release"}
    bad = by_id["bad-release"]
    assert bad["record"] == 2
    assert bad["file"] == path
    assert bad["results"][0]["field"] == "title"
    assert bad["results"][0]["severity"] == "Violation"


def test_validate_turtle_report(runner: CliRunner, tmp_path: Path) -> None:
    path = _write(tmp_path, [BAD])
    result = runner.invoke(cli, ["validate", path, "--report", "turtle"])
    assert result.exit_code == 1
    graph = Graph().parse(data=result.stdout, format="turtle")
    assert (None, SH.resultSeverity, SH.Violation) in graph


def test_validate_the_sample_passes(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", SAMPLE])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.json", '{"releases": [', "broken.json: is not valid JSON"),
        ("broken.csv", 'id,title\n"unterminated,x\n', "broken.csv"),
        ("empty.json", "", "empty.json: is empty"),
        ("what.json", '{"hello": "world"}', "what.json: unknown format"),
        (
            "date.json",
            json.dumps([{**GOOD, "release_date": "2027-02-30T09:30:00Z"}]),
            "date.json, record 1 (good-release), field 'release_date'",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    runner: CliRunner, tmp_path: Path, name: str, content: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    for command in ("convert", "validate"):
        result = runner.invoke(cli, [command, str(path)])
        assert result.exit_code == 2, result.output
        assert expected in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output
        assert result.stdout == ""


def test_missing_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["convert", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "nope.json: no such file" in result.stderr


def test_usage_errors_exit_2(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["convert"]).exit_code == 2
    assert runner.invoke(cli, ["convert", SAMPLE, "--to", "xml"]).exit_code == 2
    assert runner.invoke(cli, ["convert", SAMPLE, "--from", "odd"]).exit_code == 2


def test_duplicate_ids_in_a_batch_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    a = _write(tmp_path, [GOOD], "a.json")
    b = _write(tmp_path, [GOOD], "b.json")
    result = runner.invoke(cli, ["convert", a, b])
    assert result.exit_code == 2
    assert "already used by" in result.stderr


def test_bad_base_url_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["convert", SAMPLE, "--base-url", "example.org"])
    assert result.exit_code == 2
    assert "base_url must be an absolute http(s) URL" in result.stderr


def test_demo_writes_the_sample(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(cli, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {
        "sample.ttl",
        "sample.nq",
        "sample-embed.jsonl",
    }
    assert "0 violation(s)" in result.stdout


def test_console_script_runs_as_a_process(tmp_path: Path) -> None:
    """The real entry point, piped: no progress bar, exit code kept."""
    proc = subprocess.run(
        [sys.executable, "-m", "publisher", "validate", SAMPLE, "--report", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["conforms"] is True
    assert proc.stderr == ""


def test_progress_shows_on_a_terminal_and_not_when_piped(tmp_path: Path) -> None:
    """Long work shows a progress bar on a terminal (a real pty) and none piped."""
    import os
    import pty

    records = [
        {**GOOD, "id": f"release-{n}", "title": f"Release {n}"} for n in range(600)
    ]
    path = _write(tmp_path, records)
    out = tmp_path / "out.nt"
    args = [sys.executable, "-m", "publisher", "convert", path, "--to", "ntriples"]
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [*args, "-o", str(out), "--jobs", "1"],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        close_fds=True,
    )
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait() == 0
    os.close(primary)
    assert b"Converting" in seen
    piped = subprocess.run(
        [*args, "-o", str(out)], capture_output=True, text=True, check=True
    )
    assert piped.stderr == ""
    assert out.read_text().count("#release>") >= 600


# Hostile input (issue 10, defects 5, 6 and 12) --------------------------------


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _deep_inputs(depth: int) -> dict[str, tuple[str, str]]:
    """name -> (text, the words the error must hold besides the file name)."""
    record = json.dumps({**GOOD, "title": "@"}).replace('"@"', _nested(depth))
    ons = json.loads((FIXTURES / "ons-api" / "search-releases.json").read_text())
    ons["releases"][1]["description"]["title"] = "@"
    govuk = json.loads((FIXTURES / "govuk" / "confirmed.json").read_text())
    govuk["details"]["display_date"] = "@"
    deep = _nested(depth)
    return {
        "deep.json": ("[" + record + "]", "record 1"),
        "deep.jsonl": (json.dumps(GOOD) + "\n" + record + "\n", "record 2"),
        "deep.yaml": (f"id: deep\ntitle: {deep}\n", ""),
        "block.yaml": (
            "id: deep\ntitle:\n"
            + "".join(" " * i + "-\n" for i in range(1, depth + 1)),
            "",
        ),
        "ons.json": (json.dumps(ons).replace('"@"', deep), ""),
        "govuk.json": (json.dumps(govuk).replace('"@"', deep), ""),
    }


@pytest.mark.parametrize("depth", [101, 500, 10_000])
def test_deep_nesting_exits_2_naming_the_file(
    runner: CliRunner, tmp_path: Path, depth: int
) -> None:
    # 10,000 levels used to end in a RecursionError traceback and exit 1.
    push = ["push", "--server", "http://127.0.0.1:9", "--token", "t"]
    commands = [["validate"], ["convert"], push]
    for n, (name, (text, words)) in enumerate(_deep_inputs(depth).items()):
        path = tmp_path / name
        path.write_text(text)
        # every command over the JSON; one each (in turn) over the slow YAML
        for command in commands if name.endswith("json") else [commands[n % 3]]:
            result = runner.invoke(cli, [*command, str(path)])
            assert result.exit_code == 2, (name, command, result.output)
            assert result.exception is None or isinstance(
                result.exception, SystemExit
            ), (name, command)
            (line,) = result.stderr.strip().splitlines()
            assert f"{path}" in line and "nested more than 100 levels deep" in line
            if depth < 900:  # below the parser's own limit the place is known
                assert words in line, line
            elif name.endswith("json"):  # past it, the line and column
                assert "levels deep (at " in line and "column " in line, line
            assert "Traceback" not in result.output


def test_deep_nesting_names_record_and_field_when_it_parses(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "deep.json"
    path.write_text(
        json.dumps({"releases": [GOOD, {**GOOD, "title": "@"}]}).replace(
            '"@"', _nested(150)
        )
    )
    result = runner.invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}, record 2, field 'title[0][0]…': nested more than 100" in (
        result.stderr
    )


def test_a_huge_csv_position_is_refused_in_little_memory(tmp_path: Path) -> None:
    # The column name alone made a list of that many items: 10.6 GB for a
    # 125-byte file at 99,999,999. 5,000,000 took about 0.4 GB.
    path = tmp_path / "wide.csv"
    path.write_text("id,title,datasets.5000000.title\ngood-release,A,D\n")
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(done.returncode, peak, done.stderr.strip(), sep='\\n')\n"
    )
    command = [sys.executable, "-m", "publisher", "validate", str(path)]
    out = subprocess.run(
        [sys.executable, "-c", probe, *command],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.splitlines()
    code, peak_kb, error = int(out[0]), int(out[1]), out[2]
    assert code == 2, out
    assert peak_kb < 300 * 1024, f"peak RSS {peak_kb} KB"
    assert error == (
        f"Error: {path}, record 1 (good-release), field 'datasets.5000000.title': "
        "position 5000000 is too high: a CSV column counts items from 1 to 1000"
    )


def test_one_violation_per_field_not_one_per_constraint(
    runner: CliRunner, tmp_path: Path
) -> None:
    # DatasetUrlIri has sh:nodeKind and sh:pattern: a literal breaks both, and
    # the report said the same thing twice.
    bad = {**GOOD, "datasets": [{"title": "D", "url": "not a url"}]}
    for command in (["validate"], ["validate", "--jobs", "2"]):
        result = runner.invoke(cli, [*command, _write(tmp_path, [bad])])
        assert result.exit_code == 1
        lines = [ln for ln in result.stdout.splitlines() if "datasets[0].url" in ln]
        assert len(lines) == 1, result.stdout
        assert "1 violation(s)" in result.stdout
    result = runner.invoke(
        cli, ["validate", "--report", "json", _write(tmp_path, [bad])]
    )
    (record,) = json.loads(result.stdout)["records"]
    fields = [r["field"] for r in record["results"]]
    assert fields.count("datasets[0].url") == 1


def test_convert_output_honours_the_umask(runner: CliRunner, tmp_path: Path) -> None:
    # The output was written with tempfile.mkstemp (always 0600), then renamed.
    (tmp_path / "in").mkdir()
    source = _write(tmp_path / "in", [GOOD])
    for umask, mode in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600)):
        out = tmp_path / f"out-{umask:o}.ttl"
        previous = os.umask(umask)
        try:
            result = runner.invoke(cli, ["convert", source, "-o", str(out)])
        finally:
            os.umask(previous)
        assert result.exit_code == 0, result.output
        assert out.stat().st_mode & 0o777 == mode, oct(out.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "in",
        "out-2.ttl",
        "out-22.ttl",
        "out-77.ttl",
    ]
