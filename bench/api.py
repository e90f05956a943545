"""The publishing API (/api) over real HTTP: reads, writes, batches, schedules.

Run from the repository root::

    .venv/bin/python bench/api.py [--sizes 10000,100000] [--reads 200]
        [--writes 20] [--batch-runs 5,3] [--schedules 3] [--keep DIR]

For each size N it imports N synthetic releases into an embedded store and starts
``publisher serve`` on it, as bench/sparql.py does (the same helpers; ``--keep DIR``
reuses a store imported there before, by either script), with an admin token in
``PUBLISHER_WRITE_TOKENS``, and measures with urllib from this process:

- ``GET /api/releases/{slug}``, random releases: p50/p99;
- ``GET /api/releases?page=N``, random pages of the whole calendar: p50/p99,
  then the same pages again (their records kept by then);
- ``PUT /api/releases/{slug}``: one release with a small change to its summary,
  with ``If-Match`` (the ETag of a GET just before, not timed): p50/p99;
- ``POST /api/batches`` of 100 and of 1,000 releases (records of the generated
  file, each with a changed summary): p50/p99 and releases/s (for 100, then
  again with releases the first runs sent, whose records the server keeps:
  publisher.store.record_cache); and the first
  ``GET /api/releases?page=1`` after each batch, which waits for the listing index
  to catch up with the batch (the index syncs on the first read after a write);
- a scheduled publication: a new release sent as published with a publication
  time 3 s ahead (202), then ``GET /releases/{slug}`` every 20 ms until it answers
  200: the delay between the publication time and the first 200 (the listing
  index is brought up to date just before sending it).

Writes change the store (their summaries), so a kept store drifts from the file;
that does not change what is measured. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sparql import (  # noqa: E402
    Server,
    auth,
    fmt_p,
    machine,
    percentiles,
    prepare_store,
    serve,
)

JSON = {"Content-Type": "application/json"}


def read_records(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def timed_request(
    server: Server,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    expected: tuple[int, ...] = (200,),
) -> tuple[float, Any]:
    """Milliseconds of one request, and its JSON body (or raw bytes)."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    started = time.perf_counter()
    status, got, raw = server.request(method, path, data, headers)
    ms = (time.perf_counter() - started) * 1000
    if status not in expected:
        raise SystemExit(f"{method} {path}: HTTP {status} {raw[:1500]!r}")
    kind = got.get("Content-Type", "")
    return ms, (json.loads(raw) if kind.startswith("application/json") else raw)


def bench_reads(
    server: Server, slugs: list[str], runs: int, rng: random.Random
) -> dict[str, Any]:
    one = []
    for _ in range(runs):
        ms, _ = timed_request(server, "GET", f"/api/releases/{rng.choice(slugs)}")
        one.append(ms)
    _, first = timed_request(server, "GET", "/api/releases?page=1")
    pages, per_page = int(first["pages"]), len(first["releases"])
    listing, again = [], []
    chosen = [rng.randint(1, pages) for _ in range(max(10, runs // 4))]
    for page in chosen:
        ms, _ = timed_request(server, "GET", f"/api/releases?page={page}")
        listing.append(ms)
    for page in chosen:  # the same pages again: their records are kept now
        ms, _ = timed_request(server, "GET", f"/api/releases?page={page}")
        again.append(ms)
    return {
        "one": percentiles(one),
        "page": percentiles(listing),
        "page_again": percentiles(again),
        "pages": pages,
        "per_page": per_page,
    }


def bench_put(
    server: Server, slugs: list[str], runs: int, rng: random.Random
) -> tuple[float, float]:
    samples = []
    for i in range(runs):
        slug = rng.choice(slugs)
        status, headers, raw = server.request("GET", f"/api/releases/{slug}")
        if status != 200:
            raise SystemExit(f"GET /api/releases/{slug}: {status}")
        record = json.loads(raw)
        record["summary"] = f"{record.get('summary') or ''} (put {i})"
        ms, _ = timed_request(
            server,
            "PUT",
            f"/api/releases/{slug}",
            record,
            auth({**JSON, "If-Match": headers["ETag"]}),
        )
        samples.append(ms)
    return percentiles(samples)


def bench_batch(
    server: Server,
    records: list[dict[str, Any]],
    size: int,
    runs: int,
    rng: random.Random,
) -> dict[str, Any]:
    samples, catch_up = [], []
    sent: list[dict[str, Any]] = []
    run_id = f"{time.time():.0f}"  # a kept store has seen earlier runs' summaries
    for i in range(runs):
        chosen = rng.sample(records, size)
        sent += chosen
        batch = [
            {**r, "summary": f"{r.get('summary') or ''} (batch {run_id}/{size}/{i})"}
            for r in chosen
        ]
        ms, body = timed_request(
            server, "POST", "/api/batches", {"releases": batch}, auth(JSON)
        )
        if len(body["published"]) != size:
            # published records whose publication time is ahead are scheduled
            print(
                f"  batch of {size}, run {i}: {len(body['published'])} published, "
                f"{len(body['scheduled'])} scheduled, {len(body['unchanged'])} "
                "unchanged",
                flush=True,
            )
        samples.append(ms)
        # the listing index catches up on the first read after a write
        ms, _ = timed_request(server, "GET", "/api/releases?page=1")
        catch_up.append(ms)
    p50, p99 = percentiles(samples)
    return {
        "ms": (p50, p99),
        "per_s": size / (p50 / 1000),
        "catch_up": percentiles(catch_up),
        "sent": list({r["id"]: r for r in sent}.values()),  # each release once
    }


def bench_schedule(
    server: Server, records: list[dict[str, Any]], runs: int, ahead: float
) -> list[dict[str, float]]:
    template = next(r for r in records if r.get("status") == "published")
    out = []
    for i in range(runs):
        slug = f"bench-scheduled-{int(time.time())}-{i}"
        at = datetime.now(UTC).replace(microsecond=0) + timedelta(
            seconds=int(ahead) + 1
        )
        record = {
            **template,
            "id": slug,
            "title": f"Scheduled release {i}",
            "release_date": at.isoformat(),
            "published_date": at.isoformat(),
        }
        record.pop("identifier", None)
        # the listing index is current before: what is measured is the scheduler
        server.request("GET", "/api/releases?page=1")
        sent = time.time()
        ms, _ = timed_request(
            server, "POST", "/api/releases", record, auth(JSON), expected=(202,)
        )
        polls, slowest = 0, 0.0
        while True:
            started = time.perf_counter()
            status, _, _ = server.request(
                "GET", f"/releases/{slug}", headers={"Accept": "text/html"}
            )
            slowest = max(slowest, time.perf_counter() - started)
            polls += 1
            if status == 200:
                seen = time.time()
                break
            if status != 404:
                raise SystemExit(f"GET /releases/{slug}: HTTP {status}")
            if time.time() - at.timestamp() > 120:
                raise SystemExit(f"{slug} not shown 120 s after {at}")
            time.sleep(0.02)
        out.append(
            {
                "post_ms": ms,
                "ahead_s": at.timestamp() - sent,
                "delay_s": seen - at.timestamp(),
                "polls": polls,
                "slowest_poll_ms": slowest * 1000,
            }
        )
    return out


def run_size(n: int, root: Path, args: argparse.Namespace) -> None:
    print(f"\n== {n:,} releases ==", flush=True)
    store, took = prepare_store(root, n)
    print(f"import: {took:.1f} s" if took is not None else "import: reused", flush=True)
    records = read_records(store.parent / "releases.jsonl")
    slugs = [r["id"] for r in records]
    rng = random.Random(7)
    with serve(store) as server:
        server.wait_up()
        reads = bench_reads(server, slugs, args.reads, rng)
        print(f"GET /api/releases/{{slug}}: {fmt_p(reads['one'])}", flush=True)
        print(
            f"GET /api/releases?page=N ({reads['per_page']} per page, "
            f"{reads['pages']:,} pages): {fmt_p(reads['page'])}; the same pages "
            f"again {fmt_p(reads['page_again'])}",
            flush=True,
        )
        # a published record dated ahead would be scheduled (202), not replaced
        now = datetime.now(UTC)
        replaceable = [
            r["id"]
            for r in records
            if r.get("status") != "published"
            or datetime.fromisoformat(
                str(r.get("published_date") or r.get("release_date"))
            )
            <= now
        ]
        put = bench_put(server, replaceable, args.writes, rng)
        print(f"PUT /api/releases/{{slug}}: {fmt_p(put)}", flush=True)
        for size, runs in ((100, args.batch_runs[0]), (1000, args.batch_runs[1])):
            if runs < 1:
                continue
            batch = bench_batch(server, records, size, runs, rng)
            _print_batch(f"POST /api/batches of {size:,}", batch, runs)
            if size == 100:
                # releases this server wrote (or read) before: their records kept
                again = bench_batch(server, batch["sent"], size, runs, rng)
                # (each run samples 100 of those releases anew)
                _print_batch("  the same releases again", again, runs)
        for s in bench_schedule(server, records, args.schedules, 3.0):
            print(
                f"scheduled publication ({s['ahead_s']:.1f} s ahead, POST "
                f"{s['post_ms']:.0f} ms): shown {s['delay_s'] * 1000:.0f} ms after "
                f"its publication time ({s['polls']} polls, slowest "
                f"{s['slowest_poll_ms']:.0f} ms)",
                flush=True,
            )


def _print_batch(label: str, batch: dict[str, Any], runs: int) -> None:
    print(
        f"{label}: {fmt_p(batch['ms'])} ({batch['per_s']:.0f} releases/s at p50, "
        f"{runs} runs); first listing read after it (index catch-up) "
        f"{fmt_p(batch['catch_up'])}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--schedules", type=int, default=3)
    parser.add_argument(
        "--batch-runs", default="5,3", help="runs of the batches of 100 and 1,000"
    )
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    args.batch_runs = [int(r) for r in args.batch_runs.split(",")]
    print(f"machine: {machine()}")
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-api-"))
    try:
        for n in (int(s) for s in args.sizes.split(",") if s.strip()):
            run_size(n, root, args)
        print("\n" + json.dumps({"note": "figures above; nothing asserted"}))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
