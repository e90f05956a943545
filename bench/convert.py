"""Throughput and peak memory of conversion and validation, phase by phase.

Run from the repository root::

    .venv/bin/python bench/convert.py [--sizes 1000,10000,100000] [--jobs N]
        [--phases generate,rdf,embed,shacl,end-to-end,embed-pyld] [--keep DIR]
        [--seed S]

For each size N the benchmark

1. **generate**: writes N synthetic native releases as JSON Lines (deterministic:
   a fixed random seed). The records vary as real calendars do
   (publisher/data/release.schema.json): all five statuses (45% published, 25%
   confirmed, 10% provisional, 10% postponed with one or two date changes, 10% cancelled
   with a notice), summaries of 80-400 characters, 1-3 of 20 topics, keywords,
   contacts, designations, census on ~3%, release times of 07:00 or 09:30 in
   London with the offset of the day (+00:00 or +01:00), datasets and downloads on
   published releases, related documents, series and previous editions. Dates are
   monthly editions of each series and are not tied to the status. Generation runs
   in this process; its time and the file size are printed.
2. runs each measured phase on that file in a **fresh subprocess** of this script
   (``--_run-phase``), so each phase's peak memory is its own:

   - ``rdf``: ``publisher.importers.read_file``, then in workers
     ``release_to_triples`` per release and rdflib's ``_nt_row`` per triple,
     written as N-Triples (no validation; site-wide triples repeat per release);
   - ``embed``: workers build each release's schema.org block with
     ``publisher.embed.release_embed`` (straight from the model), written as JSON
     Lines; ``embed-pyld`` (not run unless named) builds the same block as it was
     built before, each release's rdflib graph compacted by pyld
     (``publisher.jsonld.graph_to_embed``);
   - ``shacl``: workers build ``validation_graph`` per chunk, run
     ``validate_graph`` and count results by severity (no output file);
   - ``end-to-end``: the real CLI as a user runs it,
     ``publisher convert FILE --to nquads -o OUT`` (import, validate, N-Quads).

   All but ``end-to-end`` read the whole file, then hand chunks of 500 releases to
   a ``ProcessPoolExecutor`` with at most 2 x jobs chunks in flight (as
   ``publisher.pipeline._outcomes`` does); ``--jobs 1`` runs in one process.
   Without ``--jobs`` they use one worker per core (one process for a single
   chunk), as the CLI does.

**Wall time** is measured in this (parent) process around the subprocess, so it
includes interpreter start-up and imports. **Peak memory** is the maximum, over
polls every 20 ms, of the sum of VmRSS of the phase process and all its
descendants (found through ``/proc/<pid>/task/<tid>/children``, recursively). RSS
counts copy-on-write pages shared by forked workers once per process, so the sum
is an upper bound of the memory the tree really uses; a peak shorter than 20 ms
can be missed. For comparison the table also gives the peak summed PSS (``Pss`` of
``/proc/<pid>/smaps_rollup``: shared pages divided among their sharers), read
every 100 ms because it costs more to read. The target is judged on RSS.

The target (issue): convert and validate 100,000 releases end to end in under
120 s with a peak under 1.5 GB on a 2-core machine. The table says whether the
end-to-end run meets it; nothing is asserted (this is a benchmark, not a test).
Temporary files are removed at the end unless ``--keep DIR`` is given.
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

PHASES = ("generate", "rdf", "embed", "embed-pyld", "shacl", "end-to-end")
#: the phases run when ``--phases`` is not given
DEFAULT_PHASES = tuple(p for p in PHASES if p != "embed-pyld")
MEASURED = PHASES[1:]
DEFAULT_SIZES = (1_000, 10_000, 100_000)
CHUNK = 500
POLL_S = 0.02
PSS_EVERY = 5  # smaps_rollup costs ~1 ms per GB: read PSS every 100 ms
SEED = 20270101
TARGET_RELEASES = 100_000
TARGET_SECONDS = 120.0
TARGET_MB = 1536.0
LONDON = ZoneInfo("Europe/London")

# Synthetic data ----------------------------------------------------------------

TOPICS = (
    "Economy",
    "GDP",
    "Labour market",
    "Inflation and price indices",
    "Population and migration",
    "Health and social care",
    "Crime and justice",
    "Education and childcare",
    "Housing",
    "International trade",
    "Business, industry and trade",
    "Public sector finance",
    "Environment",
    "Transport",
    "Energy",
    "Personal well-being",
    "Agriculture",
    "Travel and tourism",
    "Household finances",
    "Census",
)
SUBJECTS = (
    ("Labour market overview", "Labour market"),
    ("Employment in the public sector", "Labour market"),
    ("Average weekly earnings", "Labour market"),
    ("Vacancies and jobs", "Labour market"),
    ("GDP monthly estimate", "GDP"),
    ("GDP quarterly national accounts", "GDP"),
    ("Index of production", "Business, industry and trade"),
    ("Index of services", "Business, industry and trade"),
    ("Retail sales", "Business, industry and trade"),
    ("Business investment", "Economy"),
    ("Consumer price inflation", "Inflation and price indices"),
    ("Producer price inflation", "Inflation and price indices"),
    ("House price index", "Housing"),
    ("Private rental prices", "Housing"),
    ("Population estimates", "Population and migration"),
    ("Long-term international migration", "Population and migration"),
    ("Births and deaths", "Population and migration"),
    ("Deaths registered weekly", "Health and social care"),
    ("Hospital admissions", "Health and social care"),
    ("Crime in the community", "Crime and justice"),
    ("Pupils and school places", "Education and childcare"),
    ("UK trade", "International trade"),
    ("Public sector finances", "Public sector finance"),
    ("Greenhouse gas emissions", "Environment"),
    ("Road traffic estimates", "Transport"),
    ("Energy trends", "Energy"),
    ("Personal well-being", "Personal well-being"),
    ("Farm incomes", "Agriculture"),
    ("Overseas travel and tourism", "Travel and tourism"),
    ("Household income inequality", "Household finances"),
    ("Wealth in Great Britain", "Household finances"),
    ("Census population and household estimates", "Census"),
)
GEOGRAPHIES = (
    "UK",
    "Great Britain",
    "England and Wales",
    "England",
    "Wales",
    "Scotland",
    "Northern Ireland",
)
QUALIFIERS = ("", "provisional estimates", "final estimates", "by local authority")
KEYWORDS = (
    "statistics",
    "estimates",
    "survey",
    "time series",
    "seasonally adjusted",
    "quarterly",
    "monthly",
    "annual",
    "regional",
    "local authority",
    "revisions",
    "index",
    "rate",
    "households",
    "businesses",
    "prices",
    "earnings",
    "employment",
    "unemployment",
    "population",
    "migration",
    "health",
    "deaths",
    "births",
    "trade",
    "exports",
    "imports",
    "output",
    "productivity",
    "investment",
    "inflation",
    "housing",
    "rents",
    "emissions",
    "energy",
    "transport",
    "tourism",
    "crime",
    "education",
    "wellbeing",
)
SENTENCES = (
    "Estimates of {s} for the {g}, with revisions to earlier periods.",
    "The latest figures on {s} in the {g}, including headline measures and "
    "breakdowns by region, industry and age group.",
    "This release brings together survey and administrative data on {s}.",
    "Figures are seasonally adjusted unless stated otherwise.",
    "Data for the most recent period are provisional and may be revised.",
    "Comparisons with the same period a year earlier are shown in the tables.",
    "Methods changed this year: see the quality and methodology information.",
    "Accompanying tables give the full time series back to 1997.",
)
REASONS = (
    "Quality assurance of revised survey weights.",
    "To align with the publication of related national accounts.",
    "A data supplier delivered late.",
    "To include late returns from local authorities.",
    "Pre-election period: publication moved after polling day.",
    "Processing error found during final checks.",
)
NOTICES = (
    "This release has been cancelled: the survey was suspended.",
    "Cancelled; the figures are now published within the quarterly bulletin.",
    "Cancelled because the data source has been discontinued.",
    "Cancelled: too few responses to produce reliable estimates.",
)
FORMATS = (
    ("text/csv", "csv"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    ("application/json", "json"),
    ("application/zip", "zip"),
)
DESIGNATIONS = (
    ("accredited-official-statistics", 55),
    ("official-statistics", 30),
    ("official-statistics-in-development", 10),
    (None, 5),
)
STATUSES = (
    ("published", 45),
    ("confirmed", 25),
    ("provisional", 10),
    ("postponed", 10),
    ("cancelled", 10),
)
OTHER_PUBLISHERS = (
    ("Department for Transport", "https://www.gov.uk/government/organisations/dft"),
    ("Scottish Government", "https://www.gov.scot/"),
    ("Welsh Government", "https://www.gov.wales/"),
)


def _slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(part for part in out.split("-") if part)


def _series_names() -> list[tuple[str, str]]:
    """(title, topic) of every series: subject x geography x qualifier."""
    out = []
    for qualifier in QUALIFIERS:
        for subject, topic in SUBJECTS:
            for geo in GEOGRAPHIES:
                title = f"{subject}, {geo}"
                if qualifier:
                    title += f": {qualifier}"
                out.append((title, topic))
    return out


def _weighted(rng: random.Random, table: Sequence[tuple[Any, int]]) -> Any:
    values = [v for v, _ in table]
    weights = [w for _, w in table]
    return rng.choices(values, weights)[0]


def _release_time(year: int, month: int, rng: random.Random) -> datetime:
    """07:00 or 09:30 London on a Tuesday to Thursday of the month."""
    days = [
        d
        for d in range(1, calendar.monthrange(year, month)[1] + 1)
        if calendar.weekday(year, month, d) in (1, 2, 3)
    ]
    hour, minute = (7, 0) if rng.random() < 0.4 else (9, 30)
    return datetime(year, month, rng.choice(days), hour, minute, tzinfo=LONDON)


def _iso(when: datetime) -> str:
    """ISO 8601 with the offset London has on that day (+00:00 or +01:00)."""
    return when.isoformat()


def _summary(rng: random.Random, subject: str, geo: str) -> str:
    target = rng.randint(80, 400)
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < target:
        parts.append(rng.choice(SENTENCES).format(s=subject.lower(), g=geo))
    text = " ".join(parts)
    if len(text) > 400:
        text = text[:399].rsplit(" ", 1)[0].rstrip(",;:") + "."
    return text


def synthetic_release(
    rng: random.Random, index: int, n_series: int, editions: int
) -> dict[str, Any]:
    """One native record; release ``index`` is edition ``index // n_series``."""
    names = _series_names()
    series_no, edition = index % n_series, index // n_series
    series_title, main_topic = names[series_no]
    series_slug = _slug(series_title)
    subject, _, rest = series_title.partition(", ")
    geo = rest.split(":")[0]
    month_no = 2019 * 12 + edition  # monthly editions from January 2019
    year, month = divmod(month_no, 12)
    month += 1
    period = f"{calendar.month_name[month]} {year}"

    def slug_of(ed: int) -> str:
        y, m = divmod(2019 * 12 + ed, 12)
        return f"{series_slug}-{calendar.month_name[m + 1].lower()}-{y}"

    slug = slug_of(edition)
    status = _weighted(rng, STATUSES)
    rec: dict[str, Any] = {
        "id": slug,
        "title": f"{series_title}: {period}",
        "summary": _summary(rng, subject, geo),
        "status": status,
    }
    when = _release_time(year, month, rng)
    if status == "provisional":
        if rng.random() < 0.7:
            rec["provisional_date"] = period
        else:
            y2, m2 = divmod(month_no + 1, 12)
            rec["provisional_date"] = (
                f"{calendar.month_name[month]} to {calendar.month_name[m2 + 1]} {y2}"
            )
    elif status == "postponed":
        changes = []
        previous = when
        for _ in range(rng.choice((1, 1, 2))):
            new = previous + timedelta(weeks=rng.randint(1, 3))
            changes.append(
                {
                    "previous_date": _iso(previous),
                    "reason": rng.choice(REASONS),
                    "changed_at": _iso(
                        (previous - timedelta(days=rng.randint(3, 20))).replace(
                            hour=10, minute=0
                        )
                    ),
                }
            )
            previous = new
        rec["date_changes"] = changes
        if rng.random() < 0.85:  # otherwise the new date is not known yet
            rec["release_date"] = _iso(previous)
    else:
        rec["release_date"] = _iso(when)
        if status == "confirmed" and rng.random() < 0.05:
            earlier = when - timedelta(weeks=1)
            rec["date_changes"] = [
                {"previous_date": earlier.date().isoformat(), "reason": REASONS[1]}
            ]
        if status == "cancelled":
            rec["cancellation_notice"] = rng.choice(NOTICES)
        if status == "published":
            rec["published_date"] = rec["release_date"]
    designation = _weighted(rng, DESIGNATIONS)
    if designation:
        rec["designation"] = designation
    census = rng.random() < 0.03
    if census:
        rec["census"] = True
    topics = {main_topic, *rng.sample(TOPICS, rng.randint(0, 2))}
    if census:
        topics.add("Census")
    rec["topics"] = [
        {"id": _slug(t), "label": t} if rng.random() < 0.3 else t
        for t in sorted(topics)[:3]
    ]
    rec["keywords"] = rng.sample(KEYWORDS, rng.randint(2, 6))
    if rng.random() < 0.2:
        rec["language"] = "en"
    team = f"{subject} team"
    contacts = [
        {
            "name": team,
            "email": f"{_slug(subject).replace('-', '.')}@example.org",
            "telephone": f"+44 1632 {rng.randint(960000, 960999)}",
        }
    ]
    if rng.random() < 0.25:
        contacts.append({"name": "Media relations", "email": "media@example.org"})
    rec["contacts"] = contacts
    if rng.random() < 0.05:
        name, url = rng.choice(OTHER_PUBLISHERS)
        rec["publisher"] = {"name": name, "url": url}
    if status == "published":
        rec["datasets"] = [
            _dataset(rng, slug, series_slug, n, subject)
            for n in range(1, rng.randint(1, 2) + 1)
        ]
    docs = rng.randint(1, 2) if status == "published" else rng.randint(0, 1)
    if docs:
        rec["related_documents"] = [
            {
                "title": ("Statistical bulletin", "Methodology", "Article")[n % 3],
                "url": f"https://www.example.org/releases/{slug}/document-{n + 1}",
            }
            for n in range(docs)
        ]
    if rng.random() < 0.6:
        rec["series"] = {"id": series_slug, "title": series_title}
        if edition > 0:
            rec["previous_edition"] = slug_of(edition - 1)
        if edition + 1 < editions and rng.random() < 0.5:
            rec["next_release_id"] = slug_of(edition + 1)
    if status == "published":
        y, m = divmod(month_no + 1, 12)
        rec["next_release"] = (
            "To be announced"
            if rng.random() < 0.2
            else f"{rng.randint(10, 24)} {calendar.month_name[m + 1]} {y}"
        )
    if rng.random() < 0.1:
        uid = f"{rng.getrandbits(128):032x}"
        rec["identifier"] = (
            f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:]}"
        )
        rec["same_as"] = [f"https://www.gov.uk/government/statistics/{slug}"]
    if rng.random() < 0.01:
        rec["former_ids"] = [f"{slug}-old"]
    return rec


def _dataset(
    rng: random.Random, slug: str, series_slug: str, n: int, subject: str
) -> dict[str, Any]:
    downloads = []
    for m in range(1, rng.randint(1, 3) + 1):
        mime, ext = rng.choice(FORMATS)
        downloads.append(
            {
                "title": f"Table {n}.{m}",
                "url": f"https://www.example.org/files/{slug}/table-{n}-{m}.{ext}",
                "format": mime,
                "size": rng.randint(2_000, 50_000_000),
            }
        )
    dataset: dict[str, Any] = {
        "title": f"{subject}: dataset {n}",
        "url": f"https://www.example.org/datasets/{series_slug}-{n}",
        "downloads": downloads,
    }
    if rng.random() < 0.5:
        dataset["description"] = f"Time series and tables of {subject.lower()}."
    return dataset


def generate(path: Path, n: int, seed: int) -> None:
    """Write ``n`` synthetic releases to ``path`` as JSON Lines."""
    rng = random.Random(seed)
    n_series = min(len(_series_names()), max(1, n // 20))
    editions = -(-n // n_series)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            rec = synthetic_release(rng, i, n_series, editions)
            fh.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")


# Phases (run in a subprocess: --_run-phase) ------------------------------------


def _rdf_chunk(args: tuple[list[Any], Any]) -> str:
    from rdflib.plugins.serializers.nt import _nt_row

    from publisher.rdf import release_to_triples

    releases, settings = args
    return "".join(
        _nt_row(t) for r in releases for t in release_to_triples(r, settings)
    )


def _embed_chunk(args: tuple[list[Any], Any]) -> str:
    from publisher.embed import release_embed

    releases, settings = args
    lines = []
    for release in releases:
        record = {"id": release.slug, "jsonld": release_embed(release, settings)}
        lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        lines.append("\n")
    return "".join(lines)


def _embed_pyld_chunk(args: tuple[list[Any], Any]) -> str:
    from rdflib import Graph

    from publisher.jsonld import graph_to_embed
    from publisher.rdf import release_to_triples

    releases, settings = args
    lines = []
    for release in releases:
        g = Graph()
        g.addN((s, p, o, g) for s, p, o in release_to_triples(release, settings))
        record = {"id": release.slug, "jsonld": graph_to_embed(g)}
        lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        lines.append("\n")
    return "".join(lines)


def _shacl_chunk(args: tuple[list[Any], Any]) -> dict[str, int]:
    from publisher.rdf import release_to_triples
    from publisher.validation import (
        results_from_graph,
        validate_graph,
        validation_graph,
    )

    releases, settings = args
    data = validation_graph(
        t for r in releases for t in release_to_triples(r, settings)
    )
    _, results = validate_graph(data)
    counts: dict[str, int] = {}
    for result in results_from_graph(results, data, releases, settings):
        counts[result.severity] = counts.get(result.severity, 0) + 1
    return counts


WORKERS: dict[str, Callable[[tuple[list[Any], Any]], Any]] = {
    "rdf": _rdf_chunk,
    "embed": _embed_chunk,
    "embed-pyld": _embed_pyld_chunk,
    "shacl": _shacl_chunk,
}


def _chunked(items: Sequence[Any], settings: Any) -> Iterator[tuple[list[Any], Any]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK]), settings


def _map_bounded(
    func: Callable[[Any], Any], tasks: Iterator[Any], jobs: int
) -> Iterator[Any]:
    """Results in input order; at most 2 * jobs tasks in flight."""
    if jobs <= 1:
        yield from map(func, tasks)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        window: deque[Future[Any]] = deque()
        for task in tasks:
            window.append(pool.submit(func, task))
            if len(window) >= 2 * jobs:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def run_phase(phase: str, input_path: str, jobs: int, out_dir: str) -> dict[str, Any]:
    from publisher.config import load_settings
    from publisher.importers import read_file

    settings = load_settings()
    started = time.perf_counter()
    releases = read_file(input_path, settings, "native")
    read_s = time.perf_counter() - started
    jobs = jobs or (1 if len(releases) <= 500 else min(os.cpu_count() or 1, 8))
    func = WORKERS[phase]
    info: dict[str, Any] = {"releases": len(releases), "jobs": jobs, "read_s": read_s}
    tasks = _chunked(releases, settings)
    if phase == "shacl":
        counts: dict[str, int] = {}
        for chunk_counts in _map_bounded(func, tasks, jobs):
            for key, value in chunk_counts.items():
                counts[key] = counts.get(key, 0) + value
        info["counts"] = counts
    else:
        out = Path(out_dir) / f"{phase}.{'nt' if phase == 'rdf' else 'jsonl'}"
        with out.open("w", encoding="utf-8", newline="") as fh:
            for text in _map_bounded(func, tasks, jobs):
                fh.write(text)
        info["output"] = str(out)
        info["output_bytes"] = out.stat().st_size
    return info


# Measuring a process tree ------------------------------------------------------


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                kids.extend(int(k) for k in fh.read().split())
        except (OSError, ValueError):
            continue
    return kids


def _children_by_ppid(pid: int) -> list[int]:
    """Fallback when the kernel has no ``children`` files: scan /proc/*/stat."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            kids.append(int(entry))
    return kids


_HAS_CHILDREN_FILE = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def tree_pids(root: int) -> list[int]:
    find = _children if _HAS_CHILDREN_FILE else _children_by_ppid
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(find(pid))
    return pids


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0  # gone, or a zombie


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages divided among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class Measured:
    returncode: int
    wall_s: float
    peak_mb: float
    peak_pss_mb: float


def run_measured(cmd: list[str], stdout: Any, stderr: IO[str] | None) -> Measured:
    """Run ``cmd``; wall time, and the peak summed VmRSS (and PSS) of its tree."""
    peak_kb = peak_pss_kb = 0
    polls = 0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, start_new_session=True)
    try:
        while proc.poll() is None:
            pids = tree_pids(proc.pid)
            peak_kb = max(peak_kb, sum(rss_kb(p) for p in pids))
            if polls % PSS_EVERY == 0:
                peak_pss_kb = max(peak_pss_kb, sum(pss_kb(p) for p in pids))
            polls += 1
            time.sleep(POLL_S)
        wall = time.perf_counter() - started
    finally:
        if proc.poll() is None:  # interrupted: stop the tree we started
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
    return Measured(proc.returncode, wall, peak_kb / 1024, peak_pss_kb / 1024)


# Driver ------------------------------------------------------------------------


@dataclass
class Row:
    phase: str
    releases: int
    jobs: str
    wall_s: float
    peak_mb: float | None
    peak_pss_mb: float | None
    detail: str
    ok: bool = True


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _publisher_exe() -> str | None:
    beside = Path(sys.executable).parent / "publisher"
    if beside.exists():
        return str(beside)
    return shutil.which("publisher")


def measure_phase(
    phase: str, n: int, input_path: Path, work: Path, jobs: int | None, keep: bool
) -> Row:
    out_dir = work / f"out-{n}"
    out_dir.mkdir(exist_ok=True)
    log = out_dir / f"{phase}.log"
    if phase == "end-to-end":
        exe = _publisher_exe()
        if exe is None:
            return Row(
                phase, n, "-", 0.0, None, None, "publisher command not found", False
            )
        used = str(jobs or "default")
        out = out_dir / "end-to-end.nq"
        cmd = [exe, "convert", str(input_path), "--to", "nquads", "-o", str(out)]
        if jobs:
            cmd += ["--jobs", str(jobs)]
        with log.open("w") as err:
            m = run_measured(cmd, subprocess.DEVNULL, err)
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        if m.returncode != 0 or not out.exists():
            detail = f"FAILED: exit {m.returncode}; " + (tail[-1] if tail else "")
            return Row(
                phase, n, used, m.wall_s, m.peak_mb, m.peak_pss_mb, detail, False
            )
        detail = f"exit 0; {_mb(out.stat().st_size)} N-Quads"
        if tail:
            detail += f"; {tail[-1]}"
        if not keep:
            out.unlink()
        return Row(phase, n, used, m.wall_s, m.peak_mb, m.peak_pss_mb, detail)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--_run-phase",
        phase,
        "--input",
        str(input_path),
        "--jobs",
        str(jobs or 0),
        "--out-dir",
        str(out_dir),
    ]
    with log.open("w") as fh:
        m = run_measured(cmd, fh, None)
    lines = log.read_text(encoding="utf-8").strip().splitlines()
    if m.returncode != 0 or not lines:
        detail = f"FAILED: exit {m.returncode}"
        return Row(phase, n, "-", m.wall_s, m.peak_mb, m.peak_pss_mb, detail, False)
    info = json.loads(lines[-1])
    parts = [f"read {info['read_s']:.1f} s"]
    if "counts" in info:
        counts = info["counts"]
        parts.append(
            f"{counts.get('Violation', 0)} violations, "
            f"{counts.get('Warning', 0)} warnings"
        )
    else:
        parts.append(_mb(info["output_bytes"]))
        if not keep:
            Path(info["output"]).unlink()
    detail = "; ".join(parts)
    return Row(phase, n, str(info["jobs"]), m.wall_s, m.peak_mb, m.peak_pss_mb, detail)


def print_header() -> None:
    print("Release Publisher conversion benchmark")
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/meminfo") as fh:
            total_kb = int(fh.readline().split()[1])
        mem = f", {total_kb / 1024 / 1024:.1f} GiB RAM"
    print(
        f"machine: {os.cpu_count()} CPUs{mem}; Python {platform.python_version()} "
        f"({platform.python_implementation()}); {platform.platform()}"
    )
    versions = []
    for dist in ("release-publisher", "rdflib", "pyshacl", "PyLD"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} (not installed)")
    print("versions: " + ", ".join(versions))
    print()


def print_table(n: int, rows: list[Row]) -> None:
    head = (
        "phase",
        "releases",
        "jobs",
        "wall s",
        "releases/s",
        "peak RSS MB",
        "peak PSS MB",
        "detail",
    )
    body = [
        (
            r.phase,
            f"{r.releases:,}",
            r.jobs,
            f"{r.wall_s:.2f}",
            f"{r.releases / r.wall_s:,.0f}" if r.wall_s > 0 else "-",
            f"{r.peak_mb:,.0f}" if r.peak_mb is not None else "-",
            f"{r.peak_pss_mb:,.0f}" if r.peak_pss_mb is not None else "-",
            r.detail,
        )
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    print(f"== {n:,} releases ==")
    for line in (head, tuple("-" * w for w in widths), *body):
        cells = [
            c.ljust(w) if i in (0, 2, 7) else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    for r in rows:
        if r.phase != "end-to-end" or r.peak_mb is None:
            continue
        if n == TARGET_RELEASES:
            fast = r.wall_s < TARGET_SECONDS
            small = r.peak_mb < TARGET_MB
            verdict = "MEETS" if fast and small and r.ok else "MISSES"
            print(
                f"target ({TARGET_RELEASES:,} releases < {TARGET_SECONDS:.0f} s and "
                f"< {TARGET_MB:.0f} MB peak RSS of the tree): {verdict} the target "
                f"(time {'ok' if fast else 'too slow'}, "
                f"memory {'ok' if small else 'too high'}; "
                f"peak PSS {r.peak_pss_mb or 0:,.0f} MB)"
            )
        else:
            print(
                f"target applies at {TARGET_RELEASES:,} releases "
                f"(< {TARGET_SECONDS:.0f} s, < {TARGET_MB:.0f} MB); not judged here"
            )
    print()


def bench(
    sizes: list[int],
    phases: list[str],
    jobs: int | None,
    work: Path,
    keep: bool,
    seed: int,
) -> None:
    print_header()
    print(f"work directory: {work}{'' if keep else ' (removed at the end)'}")
    print(f"jobs: {jobs if jobs else 'default (one worker per core)'}; chunk {CHUNK}")
    print()
    for n in sizes:
        path = work / f"releases-{n}.jsonl"
        started = time.perf_counter()
        generate(path, n, seed)
        gen_s = time.perf_counter() - started
        print(
            f"generate: {n:,} releases in {gen_s:.2f} s "
            f"({n / gen_s:,.0f} releases/s), {_mb(path.stat().st_size)}: {path.name}"
        )
        rows = []
        for phase in phases:
            if phase == "generate":
                continue
            row = measure_phase(phase, n, path, work, jobs, keep)
            print(
                f"  {phase}: {row.wall_s:.2f} s, peak "
                f"{row.peak_mb or 0:,.0f} MB RSS / {row.peak_pss_mb or 0:,.0f} MB PSS; "
                f"{row.detail}",
                flush=True,
            )
            rows.append(row)
        print()
        if rows:
            print_table(n, rows)
        if not keep:
            path.unlink()


def _csv(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Throughput and peak memory of import to RDF, the JSON-LD "
        "embed block, SHACL validation and the end-to-end CLI (see the module "
        "docstring)."
    )
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="comma-separated numbers of releases (default: %(default)s)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes (default: one per core; 1 runs in one process)",
    )
    parser.add_argument(
        "--phases",
        default=",".join(DEFAULT_PHASES),
        help="comma-separated phases (default: %(default)s; embed-pyld as well on "
        "request); generate always runs, the others read its file",
    )
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="write the input and output files to DIR and keep them",
    )
    parser.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    parser.add_argument("--_run-phase", dest="run_phase", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.run_phase:  # inside the measured subprocess
        info = run_phase(args.run_phase, args.input, args.jobs or 0, args.out_dir)
        print(json.dumps(info), flush=True)
        return 0

    try:
        sizes = [int(s.replace("_", "")) for s in _csv(args.sizes)]
    except ValueError:
        parser.error("--sizes takes comma-separated whole numbers")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes takes numbers of at least 1")
    phases = _csv(args.phases)
    unknown = [p for p in phases if p not in PHASES]
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(unknown)}; use {', '.join(PHASES)}")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    phases = [p for p in PHASES if p in phases]

    # SIGTERM unwinds like Ctrl-C: the phase's process tree is stopped and the
    # temporary directory removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if args.keep:
        work = Path(args.keep).resolve()
        work.mkdir(parents=True, exist_ok=True)
        bench(sizes, phases, args.jobs, work, True, args.seed)
    else:
        with tempfile.TemporaryDirectory(prefix="publisher-bench-") as tmp:
            bench(sizes, phases, args.jobs, Path(tmp), False, args.seed)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
