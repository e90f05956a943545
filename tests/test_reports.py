"""What the commands print (publisher.reports) and how they write (publisher.outputs),
without a command around them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from publisher.errors import PublisherError
from publisher.outputs import pending_output, write_binary
from publisher.reports import push_lines, results_table, skipped_text, stats_text
from publisher.store.catalog import StoreCounts


def _select(names: list[str], rows: list[dict[str, str]]) -> bytes:
    bindings = [
        {n: {"type": "literal", "value": v} for n, v in r.items()} for r in rows
    ]
    return json.dumps(
        {"head": {"vars": names}, "results": {"bindings": bindings}}
    ).encode()


def test_results_table_aligns_cuts_long_cells_and_counts_rows() -> None:
    payload = _select(["s", "label"], [{"s": "a", "label": "x" * 70}, {"s": "bb"}])
    lines = results_table(payload).splitlines()
    assert lines[0] == "s   label"
    assert lines[1] == "--  " + "-" * 60
    assert lines[2] == "a   " + "x" * 59 + "…"
    assert lines[3] == "bb"  # an unbound cell is empty, trailing space trimmed
    assert lines[4] == "(2 rows)"
    assert results_table(_select(["s"], [{"s": "a"}])).endswith("(1 row)\n")


def test_results_table_of_an_ask() -> None:
    assert results_table(b'{"head": {}, "boolean": true}') == "true\n"
    assert results_table(b'{"head": {}, "boolean": false}') == "false\n"


def test_skipped_text() -> None:
    assert skipped_text(["a", "b"], skip_invalid=True) == (
        "Skipped 2 invalid release(s): a, b"
    )
    assert skipped_text(["a"], skip_invalid=False).startswith("Nothing written:")


def test_push_lines() -> None:
    body = {
        "published": ["a", "b"],
        "unchanged": [],
        "scheduled": {"c": "2026-01-01T09:30:00Z"},
        "data_version": "v1",
    }
    assert push_lines(body, "https://x.example") == [
        "Scheduled: c at 2026-01-01T09:30:00Z (under embargo until then)",
        "2 published, 1 scheduled at https://x.example (data version v1).",
    ]
    assert push_lines({}, "s") == ["nothing to do at s (data version None)."]


def test_stats_text() -> None:
    figures = StoreCounts(
        releases_by_status={"published": 2},
        releases=2,
        tombstones=0,
        graphs=3,
        triples=40,
        data_version=None,
        base_url=None,
    )
    text = stats_text(figures, "data/store", "text").splitlines()
    assert text[0] == "Store:        data/store"
    assert "  published   2" in text
    assert text[-1] == "Triples:      40"
    assert json.loads(stats_text(figures, "data/store", "json"))["graphs"] == 3


def test_pending_output_writes_only_on_commit(tmp_path: Path) -> None:
    target = tmp_path / "out.ttl"
    with pending_output(str(target)) as (fh, _commit):
        fh.write("half")
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing left over
    with pending_output(str(target)) as (fh, commit):
        fh.write("whole")
        commit()
    assert target.read_text() == "whole"
    assert list(tmp_path.iterdir()) == [target]


def test_an_unwritable_output_is_a_publisher_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "out.nq"
    with (
        pytest.raises(PublisherError, match=r"out\.nq: cannot write: "),
        pending_output(str(missing)),
    ):
        pass
    with pytest.raises(PublisherError, match=r"out\.nq: cannot write: "):
        write_binary(str(missing), lambda out: out.write(b"x"))


def test_write_binary_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "dump.nq"
    write_binary(str(target), lambda out: out.write(b"<a> <b> <c> .\n"))
    assert target.read_bytes() == b"<a> <b> <c> .\n"

    def broken(out: object) -> None:
        raise PublisherError("the store stopped")

    with pytest.raises(PublisherError, match="stopped"):
        write_binary(str(tmp_path / "other.nq"), broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump.nq"]
