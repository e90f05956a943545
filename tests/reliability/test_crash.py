"""kill -9 of ``publisher import`` (issue 10, defect 3): the store opens again
within 5 s and no worker process outlives the import.

Workers forked from the import shared its lock on ``<store>.lock``; killed, the
import left them alive as orphans holding it, and ``stats`` and ``serve`` refused
the store, naming the dead process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
OPEN_WITHIN = 5.0
STATS = [sys.executable, "-m", "publisher", "stats", "--format", "json"]


def _generate(path: Path, n: int, seed: int) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_convert", ROOT / "bench" / "convert.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    module.generate(path, n, seed)


def _marked(marker: str) -> list[int]:
    """Live (not zombie) processes whose environment carries ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            continue
        if marker.encode() in environ:
            found.append(int(entry))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_import_while_workers_run_leaves_store_openable(tmp_path: Path) -> None:
    data = tmp_path / "releases.jsonl"
    _generate(data, 2000, 10)
    store = tmp_path / "store"
    marker = f"CRASH_TRIAL={uuid.uuid4().hex}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env["CRASH_TRIAL"] = marker.split("=", 1)[1]
    env["PUBLISHER_BASE_URL"] = "https://example.org/stats"
    cmd = [sys.executable, "-m", "publisher"]
    process = subprocess.Popen(
        [*cmd, "import", "--store", str(store), "--jobs", "2", str(data)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # wait until the workers run (more than the import itself is marked)
        deadline = time.monotonic() + 60
        while len([p for p in _marked(marker) if p != process.pid]) < 2:
            assert process.poll() is None, "the import ended before its workers ran"
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.1)
        time.sleep(random.Random(3).uniform(0.2, 1.5))  # noqa: S311
    finally:
        process.kill()
        process.wait()
    started = time.monotonic()
    clean = {k: v for k, v in env.items() if k != "CRASH_TRIAL"}
    while True:
        stats = subprocess.run(
            [*cmd, "stats", "--store", str(store)],
            env=clean,
            capture_output=True,
            text=True,
        )
        if stats.returncode == 0 or time.monotonic() - started > OPEN_WITHIN:
            break
        time.sleep(0.2)
    assert stats.returncode == 0, stats.stderr
    assert time.monotonic() - started <= OPEN_WITHIN + 3  # one last stats run
    deadline = time.monotonic() + OPEN_WITHIN
    while (left := _marked(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes outlived the killed import: {left}"


def _stats(store: Path, env: dict[str, str]) -> dict[str, object]:
    """Open the store with ``publisher stats`` (retrying up to 5 s): its figures."""
    started = time.monotonic()
    while True:
        run = subprocess.run(
            [*STATS, "--store", str(store)],
            env=env,
            capture_output=True,
            text=True,
        )
        if run.returncode == 0 or time.monotonic() - started > OPEN_WITHIN:
            break
        time.sleep(0.2)
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started <= OPEN_WITHIN + 3
    figures: dict[str, object] = json.loads(run.stdout)
    return figures


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_import_at_random_moments_leaves_before_or_after(tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    _generate(first, 40, 1)
    _generate(second, 120, 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env["PUBLISHER_BASE_URL"] = "https://example.org/stats"
    cmd = [sys.executable, "-m", "publisher", "import", "--jobs", "2"]
    base = tmp_path / "base"
    subprocess.run([*cmd, "--store", str(base), str(first)], env=env, check=True)
    before = _stats(base, env)
    done = tmp_path / "done"
    shutil.copytree(base, done)
    started = time.monotonic()
    subprocess.run([*cmd, "--store", str(done), str(second)], env=env, check=True)
    took = time.monotonic() - started
    after = _stats(done, env)
    assert before != after
    rng = random.Random(10)  # noqa: S311 - seeded trials
    for trial in range(3):
        store = tmp_path / f"trial{trial}"
        shutil.copytree(base, store)
        marker = uuid.uuid4().hex
        process = subprocess.Popen(
            [*cmd, "--store", str(store), str(second)],
            env={**env, "CRASH_TRIAL": marker},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, took))
        process.kill()
        process.wait()
        figures = _stats(store, env)
        assert figures in (before, after), f"trial {trial}: {figures}"
        deadline = time.monotonic() + OPEN_WITHIN
        while (left := _marked(marker)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not left, f"trial {trial}: processes outlived the import: {left}"
