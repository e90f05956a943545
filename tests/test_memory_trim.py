"""A server process's allocator: few arenas, and freed memory handed back after a
write (publisher.workers: limit_arenas, trim_memory, MemoryTrimmer)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from publisher.workers import MemoryTrimmer, limit_arenas

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's allocator, /proc"
)

#: a heap left with 200 MB free between kept blocks (as after a batch: its
#: objects freed, the long-lived ones allocated meanwhile still there)
_FRAGMENTED = """
import os, sys
from publisher.workers import trim_memory

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

kept, freed = [], []
for _ in range(2000):
    freed.append(bytearray(100_000))
    kept.append(bytearray(1_000))
freed.clear()
before = rss()
trimmed = trim_memory() if sys.argv[1] == "trim" else False
print(trimmed, before, rss())
"""


def _fragmented(how: str) -> tuple[bool, int, int]:
    out = subprocess.run(
        [sys.executable, "-c", _FRAGMENTED, how],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0] == "True", int(out[1]), int(out[2])


def test_freed_memory_is_handed_back_only_when_trimmed() -> None:
    trimmed, before, after = _fragmented("trim")
    assert trimmed
    assert after < before - (100 << 20)  # most of the 200 MB went back
    _, before, after = _fragmented("keep")
    assert after > before - (20 << 20)  # without it, the allocator keeps it


def test_the_arenas_can_be_limited() -> None:
    assert limit_arenas()


def test_a_write_is_followed_by_one_trim() -> None:
    trimmer = MemoryTrimmer(delay=0.1)
    for _ in range(3):  # writes close together: one trim after them
        trimmer.wrote(None, "v1", [])
    deadline = time.monotonic() + 10
    while trimmer.trims < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert trimmer.trims == 1
