"""The command line: outputs, exit codes (0, 1, 2) and one-line errors."""

from __future__ import annotations

import json
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
