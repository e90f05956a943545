"""The public SPARQL endpoint over real HTTP: start-up, checkpoints, latency, limits.

Run from the repository root::

    .venv/bin/python bench/sparql.py [--sizes 10000,100000] [--runs 20]
        [--seconds 10] [--threads 2,4,8] [--keep DIR]

For each size N it generates N synthetic releases (bench/convert.py's generator),
imports them into an embedded store (``publisher import FILE --store DIR``, with
``PUBLISHER_BASE_URL`` set to :data:`BASE_URL`), then starts ``publisher serve`` on
that store as a real process (waitress, a free port on 127.0.0.1, the same
``PUBLISHER_BASE_URL``: the server refuses a store built for another base URL; the
base URL names the site's IRIs, not the port it listens on) and measures, with
urllib from this process:

- **start-up**: from starting the process to the first 200 from /healthz, and to
  the first answer of /sparql (its first query also takes the first checkpoint and
  opens it in a reader);
- **checkpoint**: ``pyoxigraph.Store.backup`` timed in this process on the
  imported store before the server starts (what the server does once per data
  version), and over HTTP the first query after a write (``PUT /api/releases/..``,
  a new data version: a new checkpoint, opened by the reader) against a query on an
  unchanged version (both cache misses);
- **examples**: p50/p99 of the query page's examples (``publisher.sparql.EXAMPLES``)
  uncached (each run gets a ``# run n`` comment, so the cache misses) and cached
  (identical repeats: ``X-Cache: hit``), and a 304 revalidation (``If-None-Match``);
- **row cap**: ``SELECT * { ?s ?p ?o }`` cut at the row cap (10,000 rows), as
  SPARQL JSON: latency and bytes;
- **timeout**: a second server with ``PUBLISHER_QUERY_TIMEOUT=2``; a query that
  runs forever (a triple cross product): wall time until its 504, and the latency
  of quick queries (ASK, uncached) sent while it runs;
- **throughput**: 2, 4 and 8 client threads sending uncached examples for
  ``--seconds`` each: answers/s and the share of 503 (readers busy); a client that
  gets a 503 waits the Retry-After it is given, as a polite client does, then sends
  the next query. Run with all the examples, and (when some time out) with those
  that answer; and once cached (identical queries) at the most threads.

``--keep DIR`` keeps the generated file and store in DIR/N and reuses a store
imported there before (bench/api.py takes the same option), which saves the
import (about 5 minutes at 100,000). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from convert import generate  # noqa: E402

from publisher.sparql import EXAMPLES  # noqa: E402

#: the base URL the bench stores are built for, and served with
BASE_URL = "http://127.0.0.1:8000"
#: the admin token the bench servers accept (PUBLISHER_WRITE_TOKENS)
ADMIN_TOKEN = "bench-admin-token-0123456789"  # noqa: S105 - a bench's own token
SPARQL_JSON = "application/sparql-results+json"

# Helpers shared with bench/api.py ----------------------------------------------


def _exe() -> str:
    found = Path(sys.executable).parent / "publisher"
    return str(found) if found.exists() else shutil.which("publisher") or "publisher"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 (nearest rank) of ``samples``."""
    if not samples:
        return float("nan"), float("nan")
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Milliseconds ``fn`` took, and what it returned."""
    started = time.perf_counter()
    value = fn()
    return (time.perf_counter() - started) * 1000, value


def prepare_store(root: Path, n: int) -> tuple[Path, float | None]:
    """An imported store of ``n`` synthetic releases in root/n; the import's wall
    time, or None if a store imported before is reused."""
    folder = root / str(n)
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "store"
    ready = folder / "store.ready"
    if ready.exists() and store.exists():
        return store, None
    for old in folder.glob("store*"):
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()
    path = folder / "releases.jsonl"
    generate(path, n, seed=42)
    started = time.perf_counter()
    proc = subprocess.run(
        [_exe(), "import", str(path), "--store", str(store)],
        capture_output=True,
        text=True,
        check=False,
        env=server_env(store),
    )
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"import failed: {proc.stderr[-2000:]}")
    ready.touch()
    return store, took


def server_env(store: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update(
        {
            "PUBLISHER_BASE_URL": BASE_URL,
            "PUBLISHER_STORE": str(store),
            "PUBLISHER_WRITE_TOKENS": ADMIN_TOKEN,
        }
    )
    env.update(extra)
    return env


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    started: float  # time.perf_counter() just before the process started
    log: Path

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> tuple[int, Message, bytes]:
        """Status, headers and body; never raises for 4xx/5xx."""
        request = urllib.request.Request(  # noqa: S310 - 127.0.0.1 only
            self.base + path, data=body, headers=headers or {}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def wait_up(self, deadline_s: float = 300) -> float:
        """Seconds from the process start to the first 200 from /healthz."""
        deadline = time.monotonic() + deadline_s
        while True:
            try:
                status, _, _ = self.request("GET", "/healthz", timeout=2)
                if status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"publisher serve did not start:\n{self.tail()}")
            time.sleep(0.02)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextmanager
def serve(store: Path, **env: str) -> Iterator[Server]:
    """``publisher serve`` on ``store``; stopped with SIGINT (as Ctrl-C), so it
    closes its reader processes."""
    port = free_port()
    log_path = store.parent / f"serve-{port}.log"
    log = log_path.open("wb")
    started = time.perf_counter()
    process = subprocess.Popen(
        [_exe(), "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=server_env(store, **env),
    )
    server = Server(f"http://127.0.0.1:{port}", process, started, log_path)
    try:
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def auth(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}", **(extra or {})}


def change_summary(server: Server, slug: str, note: str) -> tuple[int, str]:
    """PUT one release back with a changed summary (If-Match): status, new ETag."""
    status, headers, body = server.request("GET", f"/api/releases/{slug}")
    if status != 200:
        raise SystemExit(f"GET /api/releases/{slug}: {status} {body[:500]!r}")
    record = json.loads(body)
    record["summary"] = f"{(record.get('summary') or '').split(' [')[0]} [{note}]"
    status, headers, body = server.request(
        "PUT",
        f"/api/releases/{slug}",
        json.dumps(record).encode("utf-8"),
        auth({"Content-Type": "application/json", "If-Match": headers["ETag"]}),
    )
    if status != 200:
        raise SystemExit(f"PUT /api/releases/{slug}: {status} {body[:1000]!r}")
    return status, headers.get("ETag", "")


def first_slug(path: Path) -> str:
    with path.open(encoding="utf-8") as fh:
        return str(json.loads(fh.readline())["id"])


def machine() -> str:
    import pyoxigraph

    return (
        f"{os.cpu_count()} CPUs; Python {platform.python_version()}; "
        f"pyoxigraph {pyoxigraph.__version__}"
    )


# SPARQL requests -------------------------------------------------------------


def sparql(
    server: Server,
    query: str,
    accept: str = SPARQL_JSON,
    headers: dict[str, str] | None = None,
    timeout: float = 120,
) -> tuple[int, Message, bytes]:
    path = "/sparql?" + urllib.parse.urlencode({"query": query})
    return server.request(
        "GET", path, headers={"Accept": accept, **(headers or {})}, timeout=timeout
    )


def timed_sparql(
    server: Server,
    query: str,
    accept: str = SPARQL_JSON,
    headers: dict[str, str] | None = None,
) -> tuple[float, int, Message, bytes]:
    """Milliseconds, status, headers and body of one query."""
    started = time.perf_counter()
    status, got, body = sparql(server, query, accept, headers)
    return (time.perf_counter() - started) * 1000, status, got, body


def accept_for(query: str) -> str:
    return "application/n-triples" if "CONSTRUCT" in query else SPARQL_JSON


class Counter:
    """Run numbers shared by threads, so every uncached query is new."""

    def __init__(self) -> None:
        self._n = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._n += 1
            return self._n


def varied(query: str, counter: Counter) -> str:
    return f"{query}\n# run {counter.next()}"


def count_rows(body: bytes, accept: str) -> int:
    """Rows of a SPARQL JSON answer, or triples of an N-Triples one."""
    if accept == SPARQL_JSON:
        return len(json.loads(body)["results"]["bindings"])
    return body.count(b"\n")


def must(status: int, body: bytes, what: str, expected: int = 200) -> None:
    if status != expected:
        raise SystemExit(f"{what}: HTTP {status} {body[:500]!r}")


def bench_start(server: Server) -> dict[str, float]:
    up = server.wait_up()
    status, _, body = sparql(server, "ASK { ?s ?p ?o }")
    must(status, body, "first query")
    first = time.perf_counter() - server.started
    ms, status, _, body = timed_sparql(server, "ASK { ?s ?p ?o } # 2")
    must(status, body, "second query")
    return {"healthz_s": up, "first_answer_s": first, "second_ask_ms": ms}


def bench_backup(store: Path, runs: int = 3) -> list[float]:
    """``Store.backup`` of the imported store in this process, ms each (before the
    server starts: it holds the store's lock)."""
    import pyoxigraph as ox

    samples = []
    opened = ox.Store(str(store))
    for i in range(runs):
        target = store.parent / f"backup-{i}"
        shutil.rmtree(target, ignore_errors=True)
        started = time.perf_counter()
        opened.backup(str(target))
        samples.append((time.perf_counter() - started) * 1000)
        shutil.rmtree(target, ignore_errors=True)
    del opened  # closes the store: the server opens it next
    return samples


def bench_checkpoint(
    server: Server, slug: str, counter: Counter, runs: int
) -> dict[str, Any]:
    """First query after a write (new checkpoint) against one on the same version."""
    after_write, same_version, put, catch_up = [], [], [], []
    query = "ASK { ?s ?p ?o }"
    for i in range(runs):
        ms, _ = timed(lambda i=i: change_summary(server, slug, f"checkpoint {i}"))
        put.append(ms)
        # the listing index catches up with the write (the data version check of
        # every /sparql request goes through it): kept out of the query's time
        ms, _ = timed(lambda: server.request("GET", "/healthz"))
        catch_up.append(ms)
        ms, status, _, body = timed_sparql(server, varied(query, counter))
        must(status, body, "query after a write")
        after_write.append(ms)
        ms, status, _, body = timed_sparql(server, varied(query, counter))
        must(status, body, "query on the same version")
        same_version.append(ms)
    return {
        "after_write": percentiles(after_write),
        "same_version": percentiles(same_version),
        "put": percentiles(put),
        "catch_up": percentiles(catch_up),
    }


def bench_examples(
    server: Server, counter: Counter, runs: int, budget_s: float
) -> dict[str, dict[str, Any]]:
    """Each example uncached (until ``runs`` or ``budget_s``; an example that
    times out is tried twice), then cached and revalidated if it answers."""
    results: dict[str, dict[str, Any]] = {}
    for example in EXAMPLES:
        accept = accept_for(example.query)
        uncached: list[float] = []
        statuses: dict[int, int] = {}
        rows = 0
        started = time.monotonic()
        while len(uncached) < runs and (
            len(uncached) < 3 or time.monotonic() - started < budget_s
        ):
            text = varied(example.query, counter)
            ms, status, headers, body = timed_sparql(server, text, accept)
            statuses[status] = statuses.get(status, 0) + 1
            uncached.append(ms)
            if status != 200:
                if len(uncached) >= 2:
                    break
                continue
            if headers.get("X-Cache") != "miss":
                raise SystemExit(f"example {example.name}: expected a cache miss")
            rows = count_rows(body, accept)
        result: dict[str, Any] = {
            "rows": rows,
            "runs": len(uncached),
            "statuses": statuses,
            "uncached": percentiles(uncached),
            "cached": (float("nan"), float("nan")),
            "304": (float("nan"), float("nan")),
        }
        results[example.name] = result
        if 200 not in statuses:
            continue
        status, headers, body = sparql(server, example.query, accept)
        must(status, body, f"example {example.name}")
        tag = headers["ETag"]
        cached, revalidated = [], []
        for _ in range(max(runs, 50)):
            ms, status, headers, body = timed_sparql(server, example.query, accept)
            must(status, body, "cached example")
            if headers.get("X-Cache") != "hit":
                raise SystemExit(f"example {example.name}: expected a cache hit")
            cached.append(ms)
            ms, status, _, body = timed_sparql(
                server, example.query, accept, {"If-None-Match": tag}
            )
            must(status, body, "revalidation", 304)
            revalidated.append(ms)
        result["cached"] = percentiles(cached)
        result["304"] = percentiles(revalidated)
    return results


def bench_row_cap(server: Server, counter: Counter, runs: int) -> dict[str, Any]:
    samples, size, capped, rows = [], 0, "", 0
    for _ in range(runs):
        text = varied("SELECT * WHERE { ?s ?p ?o }", counter)
        ms, status, headers, body = timed_sparql(server, text)
        must(status, body, "row cap")
        samples.append(ms)
        size = len(body)
        capped = headers.get("X-SPARQL-MaxRows", "")
        rows = len(json.loads(body)["results"]["bindings"])
    return {"ms": percentiles(samples), "bytes": size, "rows": rows, "cap": capped}


FOREVER = """SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"""
QUICK = "PREFIX pub: <https://w3id.org/release-publisher/ns#> ASK { ?r a pub:Release }"


def bench_timeout(server: Server, counter: Counter) -> dict[str, Any]:
    server.wait_up()
    status, _, body = sparql(server, "ASK {}")
    must(status, body, "first query")
    outcome: dict[str, Any] = {}

    def forever() -> None:
        ms, status, _, _ = timed_sparql(server, varied(FOREVER, counter))
        outcome["status"], outcome["ms"] = status, ms

    thread = threading.Thread(target=forever)
    thread.start()
    time.sleep(0.2)
    quick = []
    while thread.is_alive():
        ms, status, _, body = timed_sparql(server, varied(QUICK, counter))
        if not thread.is_alive():
            break
        must(status, body, "quick query")
        quick.append(ms)
        time.sleep(0.05)
    thread.join()
    # and the first query after the kill (its reader is new)
    after, status, _, body = timed_sparql(server, varied(QUICK, counter))
    must(status, body, "quick query after the timeout")
    return {
        "status": outcome["status"],
        "wall_s": outcome["ms"] / 1000,
        "quick": percentiles(quick),
        "quick_runs": len(quick),
        "after_ms": after,
    }


def bench_throughput(
    server: Server,
    counter: Counter,
    threads: int,
    seconds: float,
    queries: list[str],
    vary: bool = True,
) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        i = k
        while time.monotonic() < stop:
            text = queries[i % len(queries)]
            text = varied(text, counter) if vary else text
            i += 1
            status, headers, _ = sparql(server, text, accept_for(text))
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
            if status == 503:
                wait = float(headers.get("Retry-After") or 1)
                time.sleep(max(0.0, min(wait, stop - time.monotonic())))

    started = time.monotonic()
    workers = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    took = time.monotonic() - started
    total = sum(statuses.values())
    return {
        "answers_per_s": statuses.get(200, 0) / took,
        "requests": total,
        "busy_share": statuses.get(503, 0) / total if total else 0.0,
        "statuses": dict(sorted(statuses.items())),
        "seconds": took,
    }


def fmt_p(pair: tuple[float, float]) -> str:
    return f"p50 {pair[0]:9.1f} ms  p99 {pair[1]:9.1f} ms"


def run_size(n: int, root: Path, args: argparse.Namespace) -> None:
    print(f"\n== {n:,} releases ==", flush=True)
    store, took = prepare_store(root, n)
    print(f"import: {took:.1f} s" if took is not None else "import: reused", flush=True)
    slug = first_slug(store.parent / "releases.jsonl")
    backups = bench_backup(store)
    print(
        "checkpoint in-process (Store.backup of the store): "
        + ", ".join(f"{b:.1f}" for b in backups)
        + " ms",
        flush=True,
    )
    counter = Counter()
    with serve(store) as server:
        start = bench_start(server)
        print(
            f"start: /healthz 200 after {start['healthz_s']:.2f} s; first /sparql "
            f"answer after {start['first_answer_s']:.2f} s; next ASK "
            f"{start['second_ask_ms']:.1f} ms",
            flush=True,
        )
        examples = bench_examples(server, counter, args.runs, args.budget)
        print(f"{'example':<12}{'rows':>7}{'runs':>6}  uncached / cached / 304")
        for name, r in examples.items():
            print(
                f"{name:<12}{r['rows']:>7}{r['runs']:>6}  {r['statuses']} "
                f"uncached {fmt_p(r['uncached'])} | cached {fmt_p(r['cached'])}"
                f" | 304 {fmt_p(r['304'])}",
                flush=True,
            )
        cap = bench_row_cap(server, counter, max(3, args.runs // 4))
        print(
            f"row cap: {cap['rows']:,} rows (X-SPARQL-MaxRows {cap['cap']}), "
            f"{cap['bytes']:,} bytes JSON, {fmt_p(cap['ms'])}",
            flush=True,
        )
        point = bench_checkpoint(server, slug, counter, args.checkpoints)
        print(
            f"checkpoint over HTTP: ASK after a write {fmt_p(point['after_write'])}; "
            f"on the same version {fmt_p(point['same_version'])}; "
            f"(the PUT itself {fmt_p(point['put'])}; /healthz after it, the index "
            f"catching up {fmt_p(point['catch_up'])})",
            flush=True,
        )
        answering = [
            e.query for e in EXAMPLES if set(examples[e.name]["statuses"]) == {200}
        ]
        mixes = {"all examples": [e.query for e in EXAMPLES]}
        if len(answering) < len(EXAMPLES):
            mixes["examples that answer"] = answering
        for (mix, queries), count in itertools.product(mixes.items(), args.threads):
            t = bench_throughput(server, counter, count, args.seconds, queries)
            print(
                f"throughput, {mix}, {count} threads: "
                f"{t['answers_per_s']:.2f} answers/s, "
                f"{t['requests']} requests in {t['seconds']:.1f} s, 503 share "
                f"{t['busy_share']:.1%} {t['statuses']}",
                flush=True,
            )
        # cached answers, for comparison: every request is still parsed
        count = max(args.threads)
        t = bench_throughput(server, counter, count, args.seconds, answering, False)
        print(
            f"throughput, examples that answer, cached, {count} threads: "
            f"{t['answers_per_s']:.2f} answers/s {t['statuses']}",
            flush=True,
        )
    with serve(store, PUBLISHER_QUERY_TIMEOUT="2") as server:
        out = bench_timeout(server, counter)
        print(
            f"timeout (PUBLISHER_QUERY_TIMEOUT=2): HTTP {out['status']} after "
            f"{out['wall_s']:.2f} s; {out['quick_runs']} quick ASK meanwhile "
            f"{fmt_p(out['quick'])}; first ASK after it {out['after_ms']:.1f} ms",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=20, help="uncached runs per query")
    parser.add_argument(
        "--budget", type=float, default=30.0, help="seconds per example, uncached"
    )
    parser.add_argument("--checkpoints", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", default="2,4,8")
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    args.threads = [int(t) for t in args.threads.split(",") if t.strip()]
    print(f"machine: {machine()}")
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-sparql-"))
    try:
        for n in (int(s) for s in args.sizes.split(",") if s.strip()):
            run_size(n, root, args)
        print("\n" + json.dumps({"note": "figures above; nothing asserted"}))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
