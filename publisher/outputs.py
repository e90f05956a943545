"""What the commands write: output files written all at once, and a progress count.

A command writes into a temporary file beside its target and moves it into
place when the whole output is ready (``os.replace``); for standard output the
temporary file is copied out at the end. An interrupted run leaves no partial
file behind.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from publisher.errors import PublisherError


@contextmanager
def progress(label: str) -> Iterator[Callable[[int], None] | None]:
    """A running count on a terminal ("Converting: 12,000 releases"); silent when
    stderr is piped. Inputs are streamed, so the total is not known up front."""
    if not sys.stderr.isatty():
        yield None
        return
    done = 0

    def update(n: int) -> None:
        nonlocal done
        done += n
        sys.stderr.write(f"\r{label}: {done:,} releases")
        sys.stderr.flush()

    try:
        yield update
    finally:
        if done:
            sys.stderr.write("\n")


def _cannot_write(output: str, exc: OSError) -> PublisherError:
    return PublisherError(f"{output}: cannot write: {exc.strerror}")


def create_temporary(target: Path | None) -> tuple[int, str]:
    """A new file beside ``target`` (or in the temporary directory), opened for
    writing. Unlike ``tempfile.mkstemp`` (always 0600) its mode is 0666 less the
    umask, as for any file a command writes: renamed into place, it is the output.
    A copy for standard output stays 0600 (the temporary directory is shared)."""
    folder = target.parent if target is not None else Path(tempfile.gettempdir())
    prefix = f".{target.name}." if target is not None else "publisher-"
    mode = 0o666 if target is not None else 0o600
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        path = folder / f"{prefix}{secrets.token_hex(6)}"
        try:
            return os.open(path, flags, mode), str(path)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


@contextmanager
def pending_output(output: str) -> Iterator[tuple[IO[str], Callable[[], None]]]:
    """A temporary file and a ``commit`` that moves it into place (or to stdout,
    for ``-``).

    Without ``commit`` nothing is written: a batch is all or nothing, and an
    interrupted run leaves no half-written file. A file that cannot be written
    is a :class:`PublisherError` ("OUTPUT: cannot write: ...").
    """
    target = None if output == "-" else Path(output)
    try:
        fd, tmp = create_temporary(target)
    except OSError as exc:
        raise _cannot_write(output, exc) from None
    done = False
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:

            def commit() -> None:
                nonlocal done
                fh.flush()
                if target is None:
                    with open(tmp, encoding="utf-8", newline="") as src:
                        shutil.copyfileobj(src, sys.stdout)
                    sys.stdout.flush()
                else:
                    try:
                        os.replace(tmp, target)
                    except OSError as exc:
                        raise _cannot_write(output, exc) from None
                done = True

            yield fh, commit
    finally:
        if os.path.exists(tmp) and (target is None or not done):
            os.unlink(tmp)


def write_binary(output: str, write: Callable[[BinaryIO], None]) -> None:
    """``write`` into ``output`` (``-``: standard output) through a
    ``.NAME.partial`` file beside it, renamed into place when complete."""
    if output == "-":
        write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    target = Path(output)
    tmp = target.with_name(f".{target.name}.partial")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
        os.replace(tmp, target)
    except OSError as exc:
        raise _cannot_write(output, exc) from None
    finally:
        tmp.unlink(missing_ok=True)
