"""Store commands end to end, in real processes: import, delete, dump, restore,
query, stats, reindex; one writer per embedded store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from publisher.resources import sample_calendar

from .conftest import FIXTURES

SAMPLE = str(sample_calendar())


def publisher(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    return subprocess.run(
        [sys.executable, "-m", "publisher", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )


def test_import_stats_query_delete_dump_restore(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    first = publisher("import", SAMPLE, "--store", store)
    assert first.returncode == 0, first.stderr
    assert "52 published" in first.stdout
    again = publisher("import", SAMPLE, "--store", store)
    assert again.returncode == 0
    assert "52 unchanged" in again.stdout

    stats = publisher("stats", "--store", store, "--format", "json")
    figures = json.loads(stats.stdout)
    assert figures["releases"] == 52
    assert figures["releases_by_status"]["published"] == 18
    assert figures["graphs"] == 54  # 52 releases, the catalogue, the history

    query = (
        "PREFIX pub: <https://w3id.org/release-publisher/ns#> SELECT ?slug WHERE "
        "{ ?r a pub:Release ; pub:slug ?slug ; pub:status pub:Cancelled } "
        "ORDER BY ?slug"
    )
    table = publisher("query", query, "--store", store)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[-1] == "(5 rows)"
    as_json = publisher("query", query, "--store", store, "--format", "json")
    assert len(json.loads(as_json.stdout)["results"]["bindings"]) == 5
    as_csv = publisher("query", query, "--store", store, "--format", "csv")
    assert as_csv.stdout.splitlines()[0].strip() == "slug"

    slug = "labour-market-overview-uk-september-2026"
    deleted = publisher("delete", slug, "--reason", "Published twice", "--store", store)
    assert deleted.returncode == 0, deleted.stderr
    unknown = publisher("delete", "no-such-release", "--reason", "x", "--store", store)
    assert unknown.returncode == 2
    assert "no release 'no-such-release'" in unknown.stderr

    dump = tmp_path / "dump.nq"
    assert publisher("dump", "--store", store, "-o", str(dump)).returncode == 0
    restored = str(tmp_path / "restored")
    result = publisher("restore", str(dump), "--store", restored)
    assert result.returncode == 0, result.stderr
    redump = publisher("dump", "--store", restored)
    assert sorted(redump.stdout.splitlines()) == sorted(dump.read_text().splitlines())
    # restore refuses a store that is not empty
    refused = publisher("restore", str(dump), "--store", restored)
    assert refused.returncode == 2
    assert "not empty" in refused.stderr

    reindex = publisher("reindex", "--store", restored)
    assert reindex.returncode == 0, reindex.stderr
    assert "Indexed 51 release(s)" in reindex.stdout


def test_invalid_batch_exits_1_and_changes_nothing(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    assert publisher("import", SAMPLE, "--store", store).returncode == 0
    before = publisher("dump", "--store", store).stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "x-release", "status": "confirmed"}]))
    result = publisher("import", str(bad), "--store", store)
    assert result.returncode == 1
    assert "A release needs a title." in result.stderr
    assert publisher("dump", "--store", store).stdout == before


def test_base_url_mismatch_exits_2(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    assert publisher("import", SAMPLE, "--store", store).returncode == 0
    result = publisher(
        "import", SAMPLE, "--store", store, "--base-url", "https://other.example"
    )
    assert result.returncode == 2
    assert "was built for base URL http://127.0.0.1:8000" in result.stderr


def test_a_second_process_gets_a_clear_message(tmp_path: Path) -> None:
    """One writer: two real processes, never corruption."""
    store = tmp_path / "store"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from publisher.store.oxigraph import EmbeddedStore\n"
            f"s = EmbeddedStore.open({str(store)!r})\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        result = publisher("import", SAMPLE, "--store", str(store))
        assert result.returncode == 2
        message = result.stderr.strip()
        assert len(message.splitlines()) == 1
        assert str(store) in message
        assert f"process {holder.pid}" in message
        assert "if that is a server, publish through the server" in message
        assert "Traceback" not in result.stderr
    finally:
        holder.send_signal(signal.SIGTERM)
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
    # the holder is gone: the store opens and works
    ok = publisher("import", SAMPLE, "--store", str(store))
    assert ok.returncode == 0, ok.stderr
    assert "52 published" in ok.stdout


def test_a_big_first_batch_takes_the_bulk_path(tmp_path: Path) -> None:
    records = []
    base = json.loads((FIXTURES / "shapes" / "base.json").read_text())
    for n in range(1100):
        record = {**base, "id": f"bulk-release-{n}", "title": f"Bulk release {n}"}
        records.append(record)
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    store = tmp_path / "store"
    started = time.monotonic()
    result = publisher("import", str(path), "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert "1100 published" in result.stdout
    assert time.monotonic() - started < 300
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith("store.")]
    assert sorted(leftovers) == ["store.index.sqlite", "store.lock"]
    stats = json.loads(
        publisher("stats", "--store", str(store), "--format", "json").stdout
    )
    assert stats["releases"] == 1100
    assert stats["graphs"] == 1102  # + the catalogue and the history
    again = publisher("import", str(path), "--store", str(store))
    assert "1100 unchanged" in again.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "SELECT nonsense"], "SPARQL syntax error"),
        (["restore", "missing.nq"], "missing.nq: no such file"),
    ],
)
def test_store_usage_errors_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = publisher(*args, "--store", str(tmp_path / "store"), cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_query_never_fetches_from_elsewhere(tmp_path: Path) -> None:
    """SERVICE would make the store call out: refused, and nothing connects."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    connections: list[object] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                connections.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        store = str(tmp_path / "store")
        for query in (
            f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> "
            "{ ?s ?p ?o } }",
            f"select * {{ {{ ?a ?b ?c }} UNION {{ service silent "
            f"<http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }} }}",
            f"PREFIX x: <http://127.0.0.1:{port}/> "
            "SELECT * { SeRvIcE x:q { ?s ?p ?o } }",
        ):
            result = publisher("query", query, "--store", store)
            assert result.returncode == 2, result.stdout
            assert "SERVICE is not allowed" in result.stderr
        ok = publisher(
            "query", "SELECT ?service WHERE { ?service ?p ?o }", "--store", store
        )
        assert ok.returncode == 0, ok.stderr
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert connections == []
