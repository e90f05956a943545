"""Run a real ``oxigraph serve`` process on 127.0.0.1 for tests.

>>> with OxigraphProcess() as server:
...     store = RemoteStore.from_settings(settings_for(server))

The binary comes from the PyPI package ``oxigraph`` (next to the interpreter in the
virtualenv, else on PATH). Its endpoints: ``/query``, ``/update`` and ``/store``
(Graph Store Protocol; without ``graph=`` it is the whole dataset).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from publisher.config import Settings

from .server_process import ServerProcess, free_port

READY_SECONDS = 20.0


def oxigraph_binary() -> str:
    """The ``oxigraph`` executable of this virtualenv (or on PATH)."""
    local = Path(sys.executable).parent / "oxigraph"
    if local.is_file():
        return str(local)
    found = shutil.which("oxigraph")
    if found is None:
        raise RuntimeError(
            "the oxigraph server binary is missing: pip install oxigraph "
            "(the test extra of release-publisher)"
        )
    return found


class OxigraphProcess(ServerProcess):
    """One ``oxigraph serve --location DIR --bind 127.0.0.1:PORT`` process."""

    stop_timeout = 10.0

    def __init__(
        self, location: str | Path | None = None, *, extra_args: tuple[str, ...] = ()
    ) -> None:
        # without a location: data and log in a temporary folder that cleanup()
        # (or leaving the with block) removes; with one: the log beside it
        self._tmp: Path | None = None
        if location is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="oxigraph-test-"))
            self.location = self._tmp / "data"
        else:
            self.location = Path(location)
        self.extra_args = extra_args
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # URLs --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the Oxigraph server has not been started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def query_url(self) -> str:
        return self.base_url + "/query"

    @property
    def update_url(self) -> str:
        return self.base_url + "/update"

    @property
    def store_url(self) -> str:
        return self.base_url + "/store"

    @property
    def log_path(self) -> Path:
        return self.location.with_name(self.location.name + ".oxigraph.log")

    # Life cycle --------------------------------------------------------------

    def start(self) -> OxigraphProcess:
        """Start (on the same port as before, if it was started before)."""
        if self.process is not None and self.process.poll() is None:
            return self
        if self.port is None:
            self.port = free_port()
        self.location.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            oxigraph_binary(),
            "serve",
            "--location",
            str(self.location),
            "--bind",
            f"127.0.0.1:{self.port}",
            *self.extra_args,
        ]
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            process = self.process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise RuntimeError(
                    f"oxigraph serve exited ({code}) before it was ready: "
                    + self.log_path.read_text("utf-8", "replace")[-2000:]
                )
            try:
                with urllib.request.urlopen(  # noqa: S310 - our own 127.0.0.1 server
                    self.base_url + "/", timeout=1
                ) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"oxigraph serve did not answer on {self.base_url} within "
                    f"{READY_SECONDS:g} s: "
                    + self.log_path.read_text("utf-8", "replace")[-2000:]
                )
            time.sleep(0.05)


def settings_for(
    server: OxigraphProcess,
    base_url: str = "http://127.0.0.1:8000",
    *,
    gsp: bool = True,
    **overrides: Any,
) -> Settings:
    """Settings for ``server`` as the remote store (and its GSP, unless gsp=False)."""
    values: dict[str, Any] = {
        "base_url": base_url,
        "endpoint": server.query_url,
        "update_endpoint": server.update_url,
        "gsp_endpoint": server.store_url if gsp else "",
        "store_timeout": "10",
        "store_retries": "2",
    }
    values.update(overrides)
    return Settings(**values)
