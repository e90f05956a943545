"""Release day: Release Publisher against ``oxigraph serve-read-only``, over HTTP.

Run from the repository root (``make bench`` installs wrk)::

    .venv/bin/python bench/serve.py [--releases 100000] [--duration 10]
        [--only page,random,304,fresh,repeat,listings,release-day,batch]
        [--keep DIR] [--workers N] [--json FILE]

One run:

1. **Build** (reused from ``--keep DIR`` when it was built there before): N synthetic
   releases (bench/convert.py's generator), ``publisher import`` into an embedded
   store, ``publisher dump --to nquads``, ``oxigraph load`` of that dump into an
   Oxigraph directory, then ``oxigraph optimize``. The import and the load of the
   same quads are timed (target: the import within 1.6x the load).
2. **Serve**: ``publisher serve`` and ``oxigraph serve-read-only`` (with
   ``--union-default-graph``, the default graph ours answers with), each on a free
   port of 127.0.0.1, both real processes; the bench waits until both answer.
3. **Measure** with ``wrk -t2 -c8`` (``-c4`` for SPARQL), a Lua script per run
   (random URLs, headers, a ``done`` hook that prints wrk's own summary as JSON),
   alternating ours/Oxigraph/ours/Oxigraph and keeping the better round of each
   (higher successful requests/s): a release's HTML page against that release's
   named graph as Turtle from Oxigraph's Graph Store endpoint; the same over 1,000
   random releases (after one warm-up pass); the page's 304 (``If-None-Match``);
   SPARQL point queries, fresh (a random slug and a run number in every query)
   and repeated (cache hits on ours); every listing, feed and sitemap page (ours
   alone, against 10 ms p50 / 30 ms p99); the release-day run (50 releases
   scheduled through the API for one minute, read load (those pages and 1,000
   other pages, read once before) from 10 s before it to
   15 s after, each page polled until it shows the published version); ``POST
   /api/batches`` of 100 new releases. The server's memory (PSS summed over
   ``publisher serve`` and all its descendants: workers, SPARQL readers) is
   sampled every 0.5 s from its start to the end.
4. Prints one table, each figure with its target and "met" / "not met".

Requests/s count only answers below 400 (wrk's own rule; a 503 is a failure);
wrk's latency figures cover every answer. Each SPARQL request carries a random
``X-Forwarded-For`` (ours trusts 127.0.0.1 as a proxy here), so 4 connections are 4
clients and the endpoint's per-client share does not turn the 4th into a 503.
Everything listens on 127.0.0.1 and is stopped on exit, Ctrl-C or error.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
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
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from multiprocessing.pool import ThreadPool
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from convert import generate, pss_kb, tree_pids  # noqa: E402

BASE_URL = "http://127.0.0.1:8000"  # names the site's IRIs, not where it listens
TOKEN = "bench-serve-admin-token-0123456789"  # noqa: S105 - the bench's own token
SECTIONS = (
    *("page", "random", "304", "fresh", "repeat"),
    *("listings", "release-day", "batch"),
)
PUB = "https://w3id.org/release-publisher/ns#"
HTML = "text/html"
TURTLE = "text/turtle"
NT = "application/n-triples"
SRJ = "application/sparql-results+json"
SEED = 42


def graph_iri(slug: str) -> str:
    return f"{BASE_URL}/graphs/releases/{slug}"


# Processes ---------------------------------------------------------------------


class Processes:
    """Every long-running process the bench starts; all stopped by stop_all()."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, cmd: list[str], env: dict[str, str], log: Path) -> Any:
        with log.open("ab") as out:
            proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # as Ctrl-C: ours closes its readers
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # its own group only
                proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # stray children of that group
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in list(reversed(self.running)):
            self.stop(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def exe(name: str) -> str:
    found = Path(sys.executable).parent / name
    return str(found) if found.exists() else shutil.which(name) or name


def env_for(store: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update(PUBLISHER_BASE_URL=BASE_URL, PUBLISHER_STORE=str(store))
    env.update(PUBLISHER_WRITE_TOKENS=TOKEN, PUBLISHER_TRUSTED_PROXIES="127.0.0.1")
    env.update(extra)
    return env


def run(cmd: list[str], env: dict[str, str] | None = None) -> float:
    """Run ``cmd`` to the end; its wall seconds (exits on failure)."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
        )
    return time.perf_counter() - started


def request(
    base: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 120,
) -> tuple[int, Message, bytes]:
    """Status, headers and body; never raises for an HTTP error status."""
    req = urllib.request.Request(  # noqa: S310 - 127.0.0.1 only
        base + path, data=body, headers=headers or {}, method=method
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def wait_until(base: str, path: str, proc: Any, log: Path, limit: float = 600) -> float:
    started = time.perf_counter()
    while True:
        with contextlib.suppress(OSError):
            if request(base, "GET", path, timeout=5)[0] == 200:
                return time.perf_counter() - started
        if proc.poll() is not None or time.perf_counter() - started > limit:
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"{base} did not start:\n{tail}")
        time.sleep(0.05)


# Build -------------------------------------------------------------------------


def build(folder: Path, n: int) -> dict[str, Any]:
    """Generate, import, dump, load and optimize in ``folder`` (or reuse them)."""
    stamp = folder / "build.json"
    if stamp.exists():
        built = json.loads(stamp.read_text())
        if built.get("releases") == n:
            print(f"build: reused from {folder}", flush=True)
            return {**built, "reused": True}
        raise SystemExit(f"{folder} holds {built.get('releases')} releases, not {n}")
    folder.mkdir(parents=True, exist_ok=True)
    for old in ("store", "oxigraph", "quads.nq"):
        target = folder / old
        if target.is_dir():
            shutil.rmtree(target)
        target.unlink(missing_ok=True) if target.is_file() else None
    source, store = folder / "releases.jsonl", folder / "store"
    started = time.perf_counter()
    generate(source, n, seed=SEED)
    print(f"generate: {n:,} releases in {time.perf_counter() - started:.1f} s")
    env = env_for(store)
    imported = run(
        [exe("publisher"), "import", str(source), "--store", str(store)], env
    )
    print(f"publisher import: {imported:.1f} s", flush=True)
    quads = folder / "quads.nq"
    dump = [exe("publisher"), "dump", "--to", "nquads", "-o", str(quads)]
    dumped = run([*dump, "--store", str(store)], env)
    ox = str(folder / "oxigraph")
    loaded = run([exe("oxigraph"), "load", "--location", ox, "--file", str(quads)])
    optimized = run([exe("oxigraph"), "optimize", "--location", ox])
    with quads.open("rb") as fh:
        count = sum(1 for _ in fh)
    print(
        f"publisher dump: {dumped:.1f} s ({count:,} quads); oxigraph load: "
        f"{loaded:.1f} s; oxigraph optimize: {optimized:.1f} s",
        flush=True,
    )
    built = {"releases": n, "quads": count, "import_s": imported, "dump_s": dumped}
    built.update(load_s=loaded, optimize_s=optimized)
    stamp.write_text(json.dumps(built))
    return {**built, "reused": False}


# wrk -----------------------------------------------------------------------------


@dataclass
class Req:
    """One kind of request: ``{slug}`` in path or body takes a random slug of the
    run's list, ``{n}`` a number no other request of the run gets."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: str = ""


def lua_str(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + out.replace("\r", "\\r") + '"'


def lua_script(reqs: list[Req], slugs: list[str], forwarded: bool) -> str:
    """wrk's Lua: each request one of ``reqs`` in turn, with its placeholders
    filled; ``done`` prints wrk's summary as one JSON line."""
    kinds = ",\n".join(
        "{" + f"method={lua_str(r.method)}, path={lua_str(r.path)}, "
        f"body={lua_str(r.body)}, headers={{"
        + ", ".join(f"[{lua_str(k)}]={lua_str(v)}" for k, v in r.headers.items())
        + "}}"
        for r in reqs
    )
    names = ",\n".join(lua_str(s) for s in slugs) or lua_str("")
    return f"""
local kinds = {{ {kinds} }}
local slugs = {{ {names} }}
local forwarded = {"true" if forwarded else "false"}
local counter, id = 0, 0
local threads = {{}}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
init = function(args)
  id = tonumber(wrk.thread:get("id")) or 0
  math.randomseed(os.time() * 100 + id)
end
local function fill(text, slug, n)
  text = string.gsub(text, "{{slug}}", slug)
  return (string.gsub(text, "{{n}}", n))
end
request = function()
  counter = counter + 1
  local k = kinds[(counter % #kinds) + 1]
  local slug = slugs[math.random(#slugs)]
  local n = id .. "-" .. counter
  local headers = {{}}
  for name, value in pairs(k.headers) do headers[name] = value end
  if forwarded then
    headers["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "."
      .. math.random(0, 255) .. "." .. math.random(1, 254)
  end
  local body = nil
  if k.body ~= "" then body = fill(k.body, slug, n) end
  return wrk.format(k.method, fill(k.path, slug, n), headers, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,'
    .. '"read":%d,"write":%d,"status":%d,"timeout":%d,'
    .. '"p50_us":%d,"p99_us":%d,"max_us":%d}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99),
    latency.max))
end
"""


@dataclass
class Run:
    """One wrk run: successful answers/s, latency of all answers, failures."""

    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    failed: int  # status >= 400 (wrk's non-2xx/3xx)
    errors: int  # connect, read, write, timeout

    def text(self) -> str:
        bad = f", {self.failed} >=400" if self.failed else ""
        bad += f", {self.errors} socket errors/timeouts" if self.errors else ""
        return (
            f"{self.rps:,.1f} req/s, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} "
            f"ms ({self.requests:,} requests{bad})"
        )


def wrk(
    label: str,
    base: str,
    reqs: list[Req],
    slugs: list[str],
    duration: float,
    conns: int = 8,
    forwarded: bool = False,
) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua_script(reqs, slugs, forwarded))
        script = fh.name
    try:
        seconds = max(1, round(duration))  # wrk takes whole seconds
        cmd = ["wrk", f"-t{min(2, conns)}", f"-c{conns}", f"-d{seconds}s"]
        cmd += ["--latency", "--timeout", "30s", "-s", script, base]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    finally:
        os.unlink(script)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WRK-JSON ")), "")
    if not line:
        raise SystemExit(f"wrk failed ({label}):\n{proc.stdout}\n{proc.stderr}")
    got = json.loads(line.split(" ", 1)[1])
    seconds = max(got["duration_us"], 1) / 1e6
    ok = got["requests"] - got["status"]
    errors = got["connect"] + got["read"] + got["write"] + got["timeout"]
    return Run(
        label,
        ok / seconds,
        got["p50_us"] / 1000,
        got["p99_us"] / 1000,
        got["requests"],
        got["status"],
        errors,
    )


def better(a: Run, b: Run) -> Run:
    return a if a.rps >= b.rps else b


# Figures ---------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: str
    target: str
    met: bool | None  # None: no target, or not measured


class Bench:
    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.folder = folder
        self.procs = Processes()
        self.figures: list[Figure] = []
        self.runs: list[dict[str, Any]] = []
        self.ours = self.ox = ""
        self.ours_proc: Any = None
        self.peak_kb = 0
        self.section_peak_kb = 0  # since the section began
        self.sampling = threading.Event()
        self.rng = random.Random(SEED)
        self.records: list[dict[str, Any]] = []
        self.slugs: list[str] = []
        self.one = ""
        self.pairs: list[float] = []

    def add(
        self, name: str, value: str, target: str = "", met: bool | None = None
    ) -> None:
        self.figures.append(Figure(name, value, target, met))
        mark = "" if met is None else (" [met]" if met else " [not met]")
        print(f"  {name}: {value}" + (f" (target {target}){mark}" if target else ""))

    def record(self, run: Run) -> Run:
        print(f"    {run.label}: {run.text()}", flush=True)
        self.runs.append(asdict(run))
        return run

    # servers ---------------------------------------------------------------

    def start_servers(self) -> None:
        store, ox = self.folder / "store", self.folder / "oxigraph"
        port, ox_port = free_port(), free_port()
        cmd = [exe("publisher"), "serve", "--port", str(port)]
        if self.args.workers:
            cmd += ["--workers", str(self.args.workers)]
        log = self.folder / "serve.log"
        self.ours_proc = self.procs.start(cmd, env_for(store), log)
        ox_cmd = [exe("oxigraph"), "serve-read-only", "--location", str(ox)]
        ox_cmd += ["--bind", f"127.0.0.1:{ox_port}", "--union-default-graph"]
        ox_log = self.folder / "oxigraph.log"
        ox_proc = self.procs.start(ox_cmd, dict(os.environ), ox_log)
        threading.Thread(target=self.sample_memory, daemon=True).start()
        self.ours, self.ox = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ox_port}"
        up = wait_until(self.ours, "/healthz", self.ours_proc, log)
        ox_up = wait_until(self.ox, "/query?query=ASK%7B%7D", ox_proc, ox_log)
        print(f"publisher serve up after {up:.1f} s, oxigraph after {ox_up:.1f} s")

    def sample_memory(self) -> None:
        while not self.sampling.is_set() and self.ours_proc.poll() is None:
            total = sum(pss_kb(pid) for pid in tree_pids(self.ours_proc.pid))
            self.peak_kb = max(self.peak_kb, total)
            self.section_peak_kb = max(self.section_peak_kb, total)
            self.sampling.wait(0.5)

    def profile_start(self, name: str) -> Any:
        if not self.args.profile:
            return None
        self.args.profile.mkdir(parents=True, exist_ok=True)
        cmd = [exe("py-spy"), "record", "--pid", str(self.ours_proc.pid)]
        cmd += ["--subprocesses", "--nonblocking", "--format", "raw"]
        cmd += ["-o", str(self.args.profile / f"{name}.txt")]
        return self.procs.start(cmd, dict(os.environ), self.args.profile / "py-spy.log")

    def profile_stop(self, name: str, spy: Any) -> None:
        if spy is None:
            return
        self.procs.stop(spy)  # SIGINT: py-spy writes what it sampled
        raw = self.args.profile / f"{name}.txt"
        if raw.exists():
            inclusive, leaves = profile_summary(raw)
            print(f"  py-spy, {name}: share of samples, inclusive (raw: {raw})")
            for share, frame in inclusive:
                print(f"    {share:5.1f} %  {frame}")
            print("  self (leaf frames):")
            for share, frame in leaves:
                print(f"    {share:5.1f} %  {frame}")

    # A/B ---------------------------------------------------------------------

    def ab(
        self,
        name: str,
        ours: list[Req],
        ox: list[Req],
        slugs: list[str],
        conns: int = 8,
        forwarded: bool = False,
    ) -> tuple[Run, Run]:
        d = self.args.duration
        rounds: list[tuple[Run, Run]] = []
        for i in (1, 2):
            a = self.record(
                wrk(f"ours {i}", self.ours, ours, slugs, d, conns, forwarded)
            )
            b = self.record(wrk(f"oxigraph {i}", self.ox, ox, slugs, d, conns))
            rounds.append((a, b))
        self.pairs = [a.rps / b.rps if b.rps else float("nan") for a, b in rounds]
        best_a = better(rounds[0][0], rounds[1][0])
        best_b = better(rounds[0][1], rounds[1][1])
        print(f"  {name} (better of two rounds each):", flush=True)
        return best_a, best_b

    def ratio_figure(
        self, name: str, a: Run, b: Run, least: float, p99: float | None = None
    ) -> None:
        ratio = a.rps / b.rps if b.rps else float("nan")
        self.add(f"{name}: ours", a.text())
        self.add(f"{name}: oxigraph", b.text())
        pairs = ", ".join(f"{r:.3f}x" for r in self.pairs)
        value = f"{ratio:.3f}x (round by round: {pairs})"
        self.add(f"{name}: ratio", value, f">= {least}x", ratio >= least)
        if p99 is not None:
            self.add(
                f"{name}: ours p99",
                f"{a.p99_ms:.1f} ms",
                f"<= {p99:g} ms",
                a.p99_ms <= p99,
            )
        fails = a.failed + a.errors
        if fails:
            self.add(f"{name}: ours failures", f"{fails:,}", "0", False)

    # sections ------------------------------------------------------------------

    def probe(self, base: str, req: Req, expect: tuple[int, ...] = (200,)) -> bytes:
        """One request of the kind (slug placeholders filled in): its body."""

        def fill(text: str) -> str:
            return text.replace("{slug}", self.one).replace("{n}", "probe")

        body = fill(req.body).encode() if req.body else None
        status, _, got = request(base, req.method, fill(req.path), body, req.headers)
        if status not in expect:
            raise SystemExit(f"{base}{fill(req.path)}: HTTP {status} {got[:800]!r}")
        return got

    def page_reqs(self) -> tuple[Req, Req]:
        graphs = urllib.parse.quote(f"{BASE_URL}/graphs/releases/", safe="")
        return (
            Req("/releases/{slug}", {"Accept": HTML}),
            Req("/store?graph=" + graphs + "{slug}", {"Accept": TURTLE}),
        )

    def section_page(self) -> None:
        ours, ox = self.page_reqs()
        self.probe(self.ours, ours)
        if not self.probe(self.ox, ox).strip():
            raise SystemExit("oxigraph answered an empty graph: wrong graph IRI?")
        a, b = self.ab("one release", [ours], [ox], [self.one])
        self.ratio_figure("one release, HTML vs Turtle", a, b, 1.0, p99=20)

    def section_random(self) -> None:
        ours, ox = self.page_reqs()
        chosen = self.rng.sample(self.slugs, min(1000, len(self.slugs)))
        started = time.perf_counter()
        warm = [(self.ours, ours), (self.ox, ox)]
        jobs = [(base, r, s) for base, r in warm for s in chosen]
        with contextlib.closing(ThreadPool(4)) as pool:
            pool.map(
                lambda j: request(
                    j[0], "GET", j[1].path.replace("{slug}", j[2]), headers=j[1].headers
                ),
                jobs,
            )
        took = time.perf_counter() - started
        print(f"  warm-up over {len(chosen):,} releases: {took:.1f} s")
        a, b = self.ab(f"{len(chosen):,} random releases", [ours], [ox], chosen)
        self.ratio_figure(f"{len(chosen):,} random releases", a, b, 0.8, p99=20)

    def section_304(self) -> None:
        ours, ox = self.page_reqs()
        _, headers, _ = request(
            self.ours, "GET", f"/releases/{self.one}", headers=ours.headers
        )
        etag = headers.get("ETag", "")
        if not etag:
            raise SystemExit("the release page has no ETag")
        cond = Req(ours.path, {"Accept": HTML, "If-None-Match": etag})
        self.probe(self.ours, cond, expect=(304,))
        a, b = self.ab("304 against the Turtle", [cond], [ox], [self.one])
        self.ratio_figure("one release, 304 vs Turtle", a, b, 1.2)

    def sparql_reqs(self, path: str, fresh: bool) -> list[Req]:
        run = "\n# run {n}" if fresh else ""
        graph = f"<{BASE_URL}/graphs/releases/{{slug}}>"
        queries = [
            (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}", NT),
            (f'ASK {{ ?r <{PUB}slug> "{{slug}}" }}', SRJ),
            (f"SELECT ?p ?o WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }} LIMIT 10", SRJ),
        ]
        kind = "application/sparql-query"
        return [
            Req(path, {"Content-Type": kind, "Accept": accept}, "POST", q + run)
            for q, accept in queries
        ]

    def section_fresh(self) -> None:
        ours, ox = self.sparql_reqs("/sparql", True), self.sparql_reqs("/query", True)
        for r in ours:
            self.probe(self.ours, r)
        for r in ox:
            self.probe(self.ox, r)
        slugs = self.rng.sample(self.slugs, min(10_000, len(self.slugs)))
        a, b = self.ab("SPARQL fresh point queries", ours, ox, slugs, 4, True)
        self.ratio_figure("SPARQL fresh point queries, 4 clients", a, b, 0.15)

    def section_repeat(self) -> None:
        ours, ox = self.sparql_reqs("/sparql", False), self.sparql_reqs("/query", False)
        for r in ours:
            self.probe(self.ours, r)  # the first answer fills the cache
        a, b = self.ab("SPARQL repeated queries", ours, ox, [self.one], 4, True)
        self.ratio_figure("SPARQL repeated (our cache hits), 4 clients", a, b, 1.0)

    def listing_paths(self) -> list[str]:
        topic = next(
            (
                t["id"]
                for r in self.records
                for t in r.get("topics") or []
                if isinstance(t, dict) and t.get("id")
            ),
            "labour-market",
        )
        return [
            "/",
            "/releases?view=upcoming&page=3",
            "/releases?view=upcoming&page=2000",
            "/releases?view=published",
            f"/topics/{topic}",
            "/api/releases?page=5",
            "/feeds/releases.atom",
            "/feeds/upcoming.ics",
            "/sitemap.xml",
            "/sitemaps/1.xml",
            "/releases?view=all&q=labour",
            "/catalog?page=50",
            # a page of its own for nearly every request: first views, not kept ones
            "/releases?view=all&page={slug}",
            # the catalogue's pages at random (250 releases a page)
            "/catalog?page={slug}&at=random",
        ]

    def section_listings(self) -> None:
        pages = [str(n) for n in range(1, max(2, len(self.slugs) // 20))]
        self.rng.shuffle(pages)
        catalog = [str(n) for n in range(1, max(2, -(-len(self.slugs) // 250) + 1))]
        for path in self.listing_paths():
            each = pages if "{slug}" in path else [self.one]
            if path.startswith("/catalog?page={slug}"):
                each = catalog
            probe = path.replace("{slug}", "1")
            accept = TURTLE if path.startswith("/catalog") else HTML
            status = request(self.ours, "GET", probe, headers={"Accept": accept})[0]
            label = path if status == 200 else f"{path} (HTTP {status} at this size)"
            reqs = [Req(path, {"Accept": accept})]
            got = self.record(wrk(label, self.ours, reqs, each, self.args.duration))
            met = got.p50_ms <= 10 and got.p99_ms <= 30 and not got.failed
            met = met and got.requests > 0
            value = f"p50 {got.p50_ms:.1f} ms, p99 {got.p99_ms:.1f} ms, "
            value += f"{got.rps:,.1f} req/s ({got.requests:,} answers)"
            if not got.requests:
                value = f"no answer within the {self.args.duration:g} s run"
            self.add(
                label,
                value,
                "p50 <= 10 ms, p99 <= 30 ms",
                met if status == 200 else None,
            )

    # writes ----------------------------------------------------------------------

    def new_record(
        self, template: dict[str, Any], slug: str, **fields: Any
    ) -> dict[str, Any]:
        record = {k: v for k, v in template.items() if k not in DROPPED}
        record.update(id=slug, title=f"{template['title']} ({slug})", **fields)
        return record

    def api(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        headers = {
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/json",
        }
        data = json.dumps(body).encode("utf-8")
        status, _, got = request(self.ours, method, path, data, headers, timeout=600)
        try:
            return status, json.loads(got)
        except ValueError:
            return status, got[:2000]

    def past_records(self) -> list[dict[str, Any]]:
        """Records a write publishes now (a published one dated ahead is scheduled)."""
        now = datetime.now(UTC)

        def due(r: dict[str, Any]) -> datetime:
            return datetime.fromisoformat(
                str(r.get("published_date") or r["release_date"])
            )

        return [r for r in self.records if r["status"] != "published" or due(r) <= now]

    def section_batch(self) -> None:
        pool, tag = self.past_records(), f"{int(time.time())}"
        rates = []
        for i in range(self.args.batch_runs):
            batch = [
                self.new_record(r, f"bench-batch-{tag}-{i}-{j}")
                for j, r in enumerate(self.rng.sample(pool, 100))
            ]
            started = time.perf_counter()
            status, body = self.api("POST", "/api/batches", {"releases": batch})
            took = time.perf_counter() - started
            if status != 200:
                raise SystemExit(f"POST /api/batches: HTTP {status} {body!r:.2000}")
            done = len(body["published"]) + len(body["scheduled"])
            print(f"    batch {i + 1}: {done} releases in {took:.2f} s", flush=True)
            rates.append(100 / took)
        rate = statistics.median(rates)
        self.add(
            "POST /api/batches of 100 new releases",
            f"{rate:,.0f} releases/s (median of {len(rates)})",
            ">= 200 releases/s",
            rate >= 200,
        )

    def schedule_day(self, count: int) -> tuple[datetime, list[str], str]:
        """``count`` new confirmed releases due at one minute about 40 s ahead, their
        published versions sent under embargo: (the minute, their slugs, marker)."""
        template = next(
            r
            for r in self.past_records()
            if r.get("status") == "published" and r.get("datasets")
        )
        soon = datetime.now(UTC) + timedelta(seconds=40)
        at = soon.replace(second=0, microsecond=0)
        if at < soon:
            at += timedelta(minutes=1)  # the next whole minute 40 s or more ahead
        tag, when = f"{int(time.time())}", at.isoformat()
        slugs = [f"bench-day-{tag}-{i:02d}" for i in range(count)]
        marker = f"Published at the minute, run {tag}."
        confirmed = [
            {
                k: v
                for k, v in self.new_record(template, s).items()
                if k not in ("published_date", "datasets")
            }
            | {"status": "confirmed", "release_date": when}
            for s in slugs
        ]
        status, body = self.api("POST", "/api/batches", {"releases": confirmed})
        if status != 200:
            raise SystemExit(f"confirmed batch: HTTP {status} {body!r:.2000}")
        published = [
            r
            | {
                "status": "published",
                "published_date": when,
                "summary": marker,
                "datasets": template["datasets"],
            }
            for r in confirmed
        ]
        status, body = self.api("POST", "/api/batches", {"releases": published})
        if status != 200 or len(body.get("scheduled", {})) != count:
            raise SystemExit(f"scheduled batch: HTTP {status} {body!r:.2000}")
        return at, slugs, marker

    def poll_pages(
        self, slugs: list[str], marker: str, at: float, until: float
    ) -> dict[str, float]:
        """Seconds after ``at`` when each page first showed ``marker``."""
        seen: dict[str, float] = {}
        etags: dict[str, str] = {}
        for slug in slugs:
            _, headers, _ = request(
                self.ours, "GET", f"/releases/{slug}", headers={"Accept": HTML}
            )
            etags[slug] = headers.get("ETag", "")

        def poll(mine: list[str]) -> None:
            while mine and time.time() < until:
                for slug in list(mine):
                    headers = {"Accept": HTML, "If-None-Match": etags[slug]}
                    with contextlib.suppress(OSError):
                        status, _, body = request(
                            self.ours,
                            "GET",
                            f"/releases/{slug}",
                            headers=headers,
                            timeout=30,
                        )
                        if status == 200 and marker.encode() in body:
                            seen[slug] = time.time() - at
                            mine.remove(slug)
                time.sleep(0.05)

        while time.time() < at - 2:
            time.sleep(0.05)
        threads = [threading.Thread(target=poll, args=(slugs[i::5],)) for i in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return seen

    def section_release_day(self) -> None:
        count = 50
        # the other pages read meanwhile are read once first, as in the random
        # section: a site's pages are warm from the day's readers, and the figure
        # is the minute's, not first views of pages nobody had read
        others = self.rng.sample(self.slugs, min(1000, len(self.slugs)))
        page = Req("/releases/{slug}", {"Accept": HTML})
        started = time.perf_counter()
        with contextlib.closing(ThreadPool(4)) as pool:
            pool.map(
                lambda s: request(
                    self.ours,
                    "GET",
                    page.path.replace("{slug}", s),
                    headers=page.headers,
                ),
                others,
            )
        took = time.perf_counter() - started
        print(f"  warm-up over the {len(others):,} other releases read: {took:.1f} s")
        at_dt, slugs, marker = self.schedule_day(count)
        at = at_dt.timestamp()
        ahead = at - time.time()
        print(f"  {count} releases due at {at_dt:%H:%M:%S} UTC, {ahead:.0f} s ahead")
        if ahead < 12:
            print("  (less than 12 s ahead: the read load starts late)")
        loaded: list[Run | BaseException] = []

        def load() -> None:
            time.sleep(max(0.0, at - 10 - time.time()))
            span = at + 15 - time.time()
            reads = [Req("/releases/{slug}", {"Accept": HTML})]
            try:
                got = wrk(
                    "release-day reads", self.ours, reads, slugs * 20 + others, span
                )
            except BaseException as exc:  # raised again below
                loaded.append(exc)
            else:
                loaded.append(got)

        reader = threading.Thread(target=load)
        reader.start()
        seen = self.poll_pages(slugs, marker, at, at + 180)
        reader.join()
        if not isinstance(loaded[0], Run):
            raise loaded[0]
        run = self.record(loaded[0])
        late = max(seen.values()) if len(seen) == count else float("inf")
        shown = sorted(seen.values())
        spread = (
            f"first {shown[0]:.2f} s, median {statistics.median(shown):.2f} s"
            if shown
            else ""
        )
        self.add(
            f"release day: all {count} pages show the published version",
            f"{len(seen)} of {count}; last {late:.2f} s after the minute ({spread})",
            "<= 2 s",
            late <= 2,
        )
        if any(s < 0 for s in shown):
            self.add(
                "release day: shown before the minute",
                f"{sum(s < 0 for s in shown)}",
                "0",
                False,
            )
        self.add(
            "release day: reads under load", run.text(), "p99 < 50 ms", run.p99_ms < 50
        )


DROPPED = ("identifier", "same_as", "previous_edition", "next_release")


# Profiles ------------------------------------------------------------------------


#: frames every request passes through: left out of the inclusive ranking
PLUMBING = (
    "threading.py",
    "waitress/",
    "flask/app.py",
    "werkzeug/",
    "<frozen",
    "process ",
)


def profile_summary(raw: Path, top: int = 12) -> tuple[list[Any], list[Any]]:
    """From py-spy's collapsed stacks: the frames in most samples (inclusive share,
    the server's plumbing left out) and the leaf frames (self share)."""
    total, inclusive, leaves = 0, dict[str, int](), dict[str, int]()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = [
            f.rsplit(":", 1)[0] + ")" if ":" in f else f for f in stack.split(";")
        ]
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        leaves[frames[-1]] = leaves.get(frames[-1], 0) + count

    def ranked(counts: dict[str, int]) -> list[tuple[float, str]]:
        order = sorted(counts.items(), key=lambda kv: -kv[1])
        return [(c / max(total, 1) * 100, f) for f, c in order]

    own = [x for x in ranked(inclusive) if not any(p in x[1] for p in PLUMBING)]
    return own[:top], ranked(leaves)[: top // 2]


# The run ---------------------------------------------------------------------------


def build_figures(bench: Bench, built: dict[str, Any]) -> None:
    ratio = built["import_s"] / built["load_s"]
    kept = " (from the kept build)" if built["reused"] else ""
    bench.add(
        f"publisher import vs oxigraph load, {built['quads']:,} quads{kept}",
        f"{built['import_s']:.1f} s vs {built['load_s']:.1f} s: {ratio:.2f}x",
        "<= 1.6x",
        ratio <= 1.6,
    )


def print_table(bench: Bench, args: argparse.Namespace) -> None:
    print(
        f"\n== {args.releases:,} releases, wrk -d{args.duration:g}s, better of two "
        "rounds per server =="
    )
    width = max(len(f.name) for f in bench.figures)
    for f in bench.figures:
        met = "" if f.met is None else ("met" if f.met else "not met")
        print(f"{f.name:<{width}}  {f.value}  |  {f.target or '-'}  |  {met or '-'}")


def run_sections(bench: Bench, only: list[str]) -> None:
    steps: dict[str, Callable[[], None]] = {
        "page": bench.section_page,
        "random": bench.section_random,
        "304": bench.section_304,
        "fresh": bench.section_fresh,
        "repeat": bench.section_repeat,
        "listings": bench.section_listings,
        "release-day": bench.section_release_day,
        "batch": bench.section_batch,
    }
    for name in only:
        print(f"\n-- {name} --", flush=True)
        spy = bench.profile_start(name)
        before = bench.peak_kb
        bench.section_peak_kb = 0
        try:
            steps[name]()
        finally:
            bench.profile_stop(name, spy)
        print(
            f"  memory during {name}: peak PSS {bench.section_peak_kb / 1024:,.0f} MB"
            f" (the run's peak so far {max(before, bench.peak_kb) / 1024:,.0f} MB)",
            flush=True,
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--releases", type=int, default=100_000)
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy each section (the server and its processes) into this folder",
    )
    parser.add_argument(
        "--duration", type=float, default=10, help="seconds per wrk run"
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help="sections, comma-separated (or 'build': build the data, measure nothing)",
    )
    parser.add_argument(
        "--keep", type=Path, help="build here, or reuse what was built here"
    )
    parser.add_argument(
        "--workers", type=int, help="passed to publisher serve --workers"
    )
    parser.add_argument("--batch-runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - {*SECTIONS, "build"}
    if unknown:
        parser.error(
            f"unknown sections {sorted(unknown)}; known: {', '.join(SECTIONS)}"
        )
    if not shutil.which("wrk"):
        parser.error(
            "wrk is not installed: make bench installs it (apt-get install wrk)"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-serve-"))
    bench = Bench(args, folder)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds to finally
    try:
        built = build(folder, args.releases)
        with (folder / "releases.jsonl").open(encoding="utf-8") as fh:
            bench.records = [json.loads(line) for line in fh]
        bench.slugs = [r["id"] for r in bench.records]
        bench.one = next(
            r["id"] for r in bench.past_records() if r["status"] == "published"
        )
        print(
            f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
            f"release page /releases/{bench.one}"
        )
        if args.only == ["build"]:
            print(json.dumps(built))
            return 0
        bench.start_servers()
        build_figures(bench, built)
        run_sections(bench, args.only)
        bench.sampling.set()
        mb = bench.peak_kb / 1024
        bench.add(
            "server memory, peak PSS (serve, workers, readers)",
            f"{mb:,.0f} MB",
            "<= 600 MB",
            mb <= 600,
        )
        print_table(bench, args)
        if args.json:
            out = {
                "releases": args.releases,
                "duration_s": args.duration,
                "build": built,
            }
            out |= {"figures": [asdict(f) for f in bench.figures], "runs": bench.runs}
            args.json.write_text(json.dumps(out, indent=2) + "\n")
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        bench.sampling.set()
        bench.procs.stop_all()
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
