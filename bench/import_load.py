"""``publisher import`` against ``oxigraph load`` of the same quads, alternating.

Run from the repository root::

    .venv/bin/python bench/import_load.py [--releases 20000] [--rounds 2]
        [--keep DIR] [--base SRC]

N synthetic releases (bench/convert.py's generator, bench/serve.py's seed) are
generated once into ``--keep DIR`` (reused when there), imported once and dumped
(``publisher dump --to nquads``): the quads ``oxigraph load`` is given. Then each
round runs, one after the other, ``publisher import`` of the releases into an empty
store on disk and ``oxigraph load`` of the quads into an empty directory; with
``--base SRC`` (a source tree of another version of the package, for instance
``git archive main publisher | tar -x -C SRC``) each round also imports with that
code (``PYTHONPATH=SRC``, the same interpreter), so before and after alternate in
the same run. Each run's wall time and CPU time (user + sys of the process and
every child it waited for: the workers, the loader's threads) are printed with
the load average before it, then the ratio of each import to the load of the same
round. The target (issue 12): the import within 1.6x the load. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from convert import generate

SEED = 42  # bench/serve.py's
BIN = Path(sys.executable).parent


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its waited-for children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def env_for(store: Path, source: str | None) -> dict[str, str]:
    env = dict(os.environ, PUBLISHER_STORE=str(store))
    env.pop("PYTHONPATH", None)
    if source:
        env["PYTHONPATH"] = source
    return env


def fresh(path: Path) -> Path:
    """``path`` gone, with its listing index (``<store>.index.sqlite*``)."""
    for old in [path, *path.parent.glob(path.name + ".index.sqlite*")]:
        if old.is_dir():
            shutil.rmtree(old)
        elif old.exists():
            old.unlink()
    return path


def prepare(folder: Path, n: int) -> tuple[Path, Path]:
    """The releases and their quads, made once in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    source, quads = folder / f"releases-{n}.jsonl", folder / f"quads-{n}.nq"
    if not source.exists():
        generate(source, n, seed=SEED)
    if not quads.exists():
        store = fresh(folder / "store-dump")
        env = env_for(store, None)
        timed([str(BIN / "publisher"), "import", str(source)], env)
        timed([str(BIN / "publisher"), "dump", "--to", "nquads", "-o", str(quads)], env)
        fresh(store)
    return source, quads


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--releases", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="folder to keep the data in")
    parser.add_argument("--base", help="source tree of the version to compare with")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    source, quads = prepare(folder, args.releases)
    with quads.open("rb") as fh:
        count = sum(1 for _ in fh)
    print(f"{args.releases:,} releases, {count:,} quads, in {folder}", flush=True)
    variants = [("after", None)] + ([("before", args.base)] if args.base else [])
    ratios: dict[str, list[float]] = {name: [] for name, _ in variants}
    for round_ in range(1, args.rounds + 1):
        order = variants if round_ % 2 else variants[::-1]
        walls: dict[str, float] = {}
        for name, src in order:
            store = fresh(folder / "store")
            load = load_average()
            cmd = [str(BIN / "publisher"), "import", str(source)]
            wall, cpu = timed(cmd, env_for(store, src))
            walls[name] = wall
            print(
                f"round {round_} import {name}: {wall:.1f} s wall, {cpu:.1f} CPU-s "
                f"(load {load})",
                flush=True,
            )
        fresh(folder / "store")
        target = fresh(folder / "oxigraph")
        load = load_average()
        wall, cpu = timed(
            [
                str(BIN / "oxigraph"),
                "load",
                "--location",
                str(target),
                "--file",
                str(quads),
            ]
        )
        fresh(target)
        print(
            f"round {round_} oxigraph load: {wall:.1f} s wall, {cpu:.1f} CPU-s "
            f"(load {load})",
            flush=True,
        )
        for name in walls:
            ratios[name].append(walls[name] / wall)
            print(f"round {round_} ratio {name}: {walls[name] / wall:.2f}x", flush=True)
    for name, got in ratios.items():
        print(
            f"{name}: import / load {', '.join(f'{r:.2f}x' for r in got)} (target 1.6x)"
        )
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
