"""``publisher serve`` as a real process over a store holding the bundled sample,
for end-to-end tests through real HTTP (waitress), with the settings a test needs.

    with PublisherProcess(env={"PUBLISHER_QUERY_TIMEOUT": "2"}) as server:
        status, headers, body = server.request("GET", "/sparql?query=ASK{}")

(The fixtures ``served`` and ``make_server`` in conftest.py start them for tests.)
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Self

from publisher.resources import sample_calendar
from tests.server_process import ServerProcess, free_port

#: the admin token every PublisherProcess (and every test app) accepts
#: (PUBLISHER_WRITE_TOKENS)
ADMIN_TOKEN = "test-admin-token-0123456789"  # noqa: S105 - a test's own token

__all__ = ["ADMIN_TOKEN", "PublisherProcess", "free_port", "scrubbed_environment"]


def scrubbed_environment() -> dict[str, str]:
    """This process's environment without any ``PUBLISHER_*`` setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}


class PublisherProcess(ServerProcess):
    """The sample calendar imported into a fresh embedded store, then served.

    ``folder``: where the store and the log go (default: a temporary folder that
    ``cleanup()`` removes; a folder given is left in place). ``store``: serve
    that store instead (nothing is imported into it unless ``import_sample``).
    ``workers``: ``publisher serve --workers`` (default 1: one process, as most
    tests want; tests/test_workers.py runs several).
    """

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        import_sample: bool = True,
        folder: Path | None = None,
        store: Path | None = None,
        workers: int = 1,
    ) -> None:
        self.process = None
        self.workers = workers
        self._log = None
        self._tmp = None
        if folder is None:
            folder = self._tmp = Path(tempfile.mkdtemp(prefix="publisher-serve-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.store = str(folder / "store" if store is None else store)
        self.log_path = folder / "serve.log"
        self.env = scrubbed_environment()
        self.env.update(
            {
                "PUBLISHER_BASE_URL": self.base,
                "PUBLISHER_STORE": self.store,
                "PUBLISHER_WRITE_TOKENS": ADMIN_TOKEN,
            }
        )
        self.env.update(env or {})
        self._import_sample = import_sample and store is None

    def start(self) -> Self:
        if self._import_sample:
            self._import_sample = False
            subprocess.run(
                [sys.executable, "-m", "publisher", "import", str(sample_calendar())],
                check=True,
                capture_output=True,
                env=self.env,
            )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "publisher",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as r:  # noqa: S310
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(self.log_path.read_text())
            time.sleep(0.1)

    def url(self, path: str) -> str:
        return self.base + path

    def worker_pids(self) -> list[int]:
        """The worker processes of ``--workers N`` (children of the supervisor,
        from /proc), once all N run; ``[]`` for one process."""
        if self.workers == 1 or self.process is None:
            return []
        deadline = time.monotonic() + 30
        while True:
            found = []
            for entry in Path("/proc").iterdir():
                try:
                    stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
                except OSError:
                    continue
                # pid (comm) state ppid ...: comm may hold spaces and parentheses
                if stat and int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    found.append(int(entry.name))
            if len(found) == self.workers or time.monotonic() > deadline:
                return sorted(found)
            time.sleep(0.1)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> tuple[int, Message, bytes]:
        """Status, headers (case-insensitive) and body; never raises for 4xx/5xx."""
        request = urllib.request.Request(  # noqa: S310
            self.base + path, data=body, headers=headers or {}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def post_query(
        self, query: str, source: str = "127.0.0.1"
    ) -> tuple[int, bytes, float]:
        """Status, body and seconds taken of one SPARQL query sent by POST
        (``application/sparql-query``, JSON results asked for) from ``source``."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(source, 0)
        )
        started = time.monotonic()
        try:
            connection.request(
                "POST",
                "/sparql",
                body=query.encode("utf-8"),
                headers={
                    "Content-Type": "application/sparql-query",
                    "Accept": "application/sparql-results+json",
                },
            )
            response = connection.getresponse()
            return response.status, response.read(), time.monotonic() - started
        finally:
            connection.close()
