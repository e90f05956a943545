"""Store load time and listing-query latency, embedded and Oxigraph server side by side.

Run from the repository root::

    .venv/bin/python bench/store.py [--sizes 10000,100000] [--queries 200]
        [--remote-batch 2000] [--skip-remote] [--keep DIR]

For each size N it generates N synthetic releases (bench/convert.py's generator,
JSON Lines) and then, for each backend:

- **embedded**: ``publisher import FILE --store DIR`` as a user runs it (an empty
  store takes the bulk-load path); prints wall time, quads and quads/s; then a
  re-import of the same N releases, every one changed (a new title), with the
  time and peak RSS of each import (the main process) and their ratio;
- **oxigraph serve**: a real ``oxigraph serve`` process on 127.0.0.1; the file is
  published in batches of ``--remote-batch`` releases (one SPARQL Update request
  each: the server refuses bodies over 128 MiB, so one request cannot hold 10,000
  rich releases).

Then it measures, in this process, p50 and p99 over ``--queries`` runs of what the
calendar asks for, through the code the web app uses: the listing index
(``publisher.store.index``) after its ``ensure_current`` check of the store's data
version (one small query to the store, included in every timing), and one release's
graph read from the store itself:

- one release's graph (random slug),
- latest 20 published,
- upcoming in a 30-day window (random start),
- count by topic,
- text search (a random word from the titles) and a search with no match.

For comparison it also times the same listing queries as plain SPARQL on the store
(fewer runs: they scan every release). Figures are printed, never asserted; the
targets (p50 under 20 ms at 100,000 releases, embedded) are in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from convert import generate  # noqa: E402

from publisher import pipeline  # noqa: E402
from publisher.config import Settings  # noqa: E402
from publisher.importers import iter_file  # noqa: E402
from publisher.store import Store, catalog  # noqa: E402
from publisher.store.index import ListingIndex  # noqa: E402

SPARQL_LISTINGS = {
    "latest 20 published": """PREFIX pub: <https://w3id.org/release-publisher/ns#>
PREFIX schema: <http://schema.org/>
SELECT ?slug ?d WHERE { GRAPH ?g { ?r pub:status pub:Published ; pub:slug ?slug ;
  schema:datePublished ?d } } ORDER BY DESC(?d) LIMIT 20""",
    "count by topic": """PREFIX pub: <https://w3id.org/release-publisher/ns#>
PREFIX schema: <http://schema.org/>
SELECT ?t (COUNT(?r) AS ?n) WHERE { GRAPH ?g { ?r a pub:Release ; schema:about ?t } }
GROUP BY ?t""",
    "text search (no match)": """PREFIX pub: <https://w3id.org/release-publisher/ns#>
PREFIX schema: <http://schema.org/>
SELECT ?slug WHERE { GRAPH ?g { ?r a pub:Release ; pub:slug ?slug ; schema:name ?t
  FILTER(CONTAINS(LCASE(?t), "zzzqqq")) } } LIMIT 20""",
}


def _exe() -> str:
    found = Path(sys.executable).parent / "publisher"
    return str(found) if found.exists() else shutil.which("publisher") or "publisher"


def _oxigraph() -> str:
    found = Path(sys.executable).parent / "oxigraph"
    return str(found) if found.exists() else shutil.which("oxigraph") or "oxigraph"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def oxigraph_server(folder: Path) -> Iterator[str]:
    port = _free_port()
    log = (folder / "oxigraph.log").open("wb")
    proc = subprocess.Popen(
        [
            _oxigraph(),
            "serve",
            "--location",
            str(folder / "data"),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/", timeout=1).close()  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _time(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    return statistics.median(samples), p99


def measure_queries(
    store: Store, settings: Settings, runs: int, rng: random.Random
) -> dict[str, tuple[float, float]]:
    index = ListingIndex(":memory:")
    started = time.perf_counter()
    index.ensure_current(store, settings)
    built = time.perf_counter() - started
    slugs = list(catalog.release_versions(store, settings))
    words = sorted(
        {
            w
            for r in index.latest_published(200)
            for w in (r.title or "").lower().split()
            if len(w) > 4 and w.isalpha()
        }
    ) or ["labour"]
    lo, hi = datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC)

    def current() -> None:
        index.ensure_current(store, settings)

    def upcoming() -> None:
        current()
        start = lo + (hi - lo) * rng.random()
        index.upcoming(start, start + timedelta(days=30), 20)

    results = {
        "index build (first sync)": (built * 1000, built * 1000),
        "one release's graph": _time(
            lambda: catalog.release_graph_ntriples(store, settings, rng.choice(slugs)),
            runs,
        ),
        "latest 20 published": _time(
            lambda: (current(), index.latest_published(20)), runs
        ),
        "upcoming in a date range": _time(upcoming, runs),
        "count by topic": _time(lambda: (current(), index.count_by_topic()), runs),
        "text search": _time(
            lambda: (current(), index.search(rng.choice(words))), runs
        ),
        "text search (no match)": _time(
            lambda: (current(), index.search("zzzqqq")), runs
        ),
    }
    for name, query in SPARQL_LISTINGS.items():
        results[f"SPARQL only: {name}"] = _time(
            lambda q=query: store.select(q), max(3, runs // 20)
        )
    index.close()
    return results


def _import(path: Path, store_dir: Path) -> tuple[float, float]:
    """``publisher import`` as a user runs it: (wall seconds, peak RSS in MB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [_exe(), "import", str(path), "--store", str(store_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"embedded import failed: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024  # (the workers run in their own processes)


def changed_copy(path: Path, out: Path) -> None:
    """Every release of ``path`` with a changed title: a re-import changes all."""
    with path.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for line in src:
            rec = json.loads(line)
            rec["title"] = "Revised: " + rec["title"]
            dst.write(json.dumps(rec, ensure_ascii=False) + "\n")


def bench_embedded(path: Path, folder: Path, runs: int) -> dict[str, Any]:
    store_dir = folder / "embedded"
    load, load_mb = _import(path, store_dir)
    changed = folder / "changed.jsonl"
    changed_copy(path, changed)
    again, again_mb = _import(changed, store_dir)
    print(
        f"embedded first import {load:.1f} s, peak RSS {load_mb:.0f} MB; re-import "
        f"of every release changed {again:.1f} s, {again_mb:.0f} MB; ratio "
        f"{again / load:.2f}x time, {again_mb / load_mb:.2f}x memory"
    )
    from publisher.store.oxigraph import EmbeddedStore

    settings = replace(Settings(), store=str(store_dir), index=str(folder / "x.sqlite"))
    store = EmbeddedStore.open(store_dir)
    try:
        quads = store.count_quads()
        queries = measure_queries(store, settings, runs, random.Random(1))
    finally:
        store.close()
    return {"load_s": load, "quads": quads, "queries": queries}


def bench_remote(path: Path, folder: Path, runs: int, batch: int) -> dict[str, Any]:
    from publisher.store.sparql import RemoteStore

    with oxigraph_server(folder) as base:
        settings = replace(
            Settings(),
            endpoint=f"{base}/query",
            update_endpoint=f"{base}/update",
            gsp_endpoint=f"{base}/store",
            store_timeout="600",
        )
        store = RemoteStore.from_settings(settings)
        releases = iter_file(str(path), settings, "native")
        started = time.perf_counter()
        while True:
            chunk = [r for _, r in zip(range(batch), releases, strict=False)]
            if not chunk:
                break
            outcome = pipeline.import_batch(chunk, settings, store)
            if outcome.published is None:
                raise SystemExit(outcome.batch.report.to_text())
        load = time.perf_counter() - started
        quads = store.count_quads()
        queries = measure_queries(store, settings, runs, random.Random(1))
        store.close()
    return {"load_s": load, "quads": quads, "queries": queries}


def print_results(n: int, rows: dict[str, dict[str, Any]]) -> None:
    print(f"\n== {n:,} releases ==")
    for name, r in rows.items():
        rate = r["quads"] / r["load_s"] if r["load_s"] else 0
        print(
            f"{name:<16} load {r['load_s']:8.1f} s  {r['quads']:>12,} quads  "
            f"{rate:>10,.0f} quads/s"
        )
    names = list(next(iter(rows.values()))["queries"])
    header = f"{'query (ms)':<38}" + "".join(
        f"{k + ' p50':>18}{k + ' p99':>18}" for k in rows
    )
    print(header)
    for q in names:
        line = f"{q:<38}"
        for r in rows.values():
            p50, p99 = r["queries"].get(q, (float("nan"), float("nan")))
            line += f"{p50:>18.3f}{p99:>18.3f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--remote-batch", type=int, default=2000)
    parser.add_argument("--skip-remote", action="store_true")
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    import platform

    import pyoxigraph

    print(
        f"machine: {os.cpu_count()} CPUs; Python {platform.python_version()}; "
        f"pyoxigraph {pyoxigraph.__version__}; SQLite "
        f"{__import__('sqlite3').sqlite_version}"
    )
    root = Path(tempfile.mkdtemp(prefix="bench-store-", dir=args.keep))
    try:
        for n in (int(s) for s in args.sizes.split(",") if s.strip()):
            folder = root / str(n)
            folder.mkdir()
            path = folder / "releases.jsonl"
            generate(path, n, seed=42)
            rows = {"embedded": bench_embedded(path, folder, args.queries)}
            if not args.skip_remote:
                rows["oxigraph serve"] = bench_remote(
                    path, folder, args.queries, args.remote_batch
                )
            print_results(n, rows)
            sys.stdout.flush()
            if args.keep is None:
                shutil.rmtree(folder, ignore_errors=True)
        print("\n" + json.dumps({"note": "figures above; nothing asserted"}))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
