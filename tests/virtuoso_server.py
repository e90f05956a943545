"""Run a private Virtuoso (Debian's ``virtuoso-opensource``) on 127.0.0.1 for tests.

>>> with VirtuosoProcess() as server:
...     store = RemoteStore.from_settings(settings_for(server))

Everything lives in one folder: its own ``virtuoso.ini`` (database, log and
transaction files there, SQL and HTTP ports free ones on 127.0.0.1), so the system
service, if any, is never touched. On first start the database is set up through
``isql-vt`` as ``dba`` (password ``dba``: the server only listens on 127.0.0.1):

- the anonymous SPARQL user may update (``GRANT SPARQL_UPDATE TO "SPARQL"``);
- the graphs a new database holds (``virtrdf#``, the quad-map schema Virtuoso
  needs; ``ldp#``; the service description) become private graphs that the
  anonymous user can neither read nor write, and every other graph is readable
  and writable by it. Counts, dumps and "is it empty?" then see only what was
  written over SPARQL, as with any other store.

Its endpoint is ``/sparql`` for queries and updates alike (no Graph Store
Protocol: ``/sparql-graph-crud`` answers GET but cannot take a whole dump).

The binaries ``virtuoso-t`` and ``isql-vt`` come from the Debian package
``virtuoso-opensource-7-bin`` (``apt-get install --no-install-recommends
virtuoso-opensource-7-bin`` as root; ``virtuoso-opensource`` pulls it in too).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO, Any

import pytest

from publisher.config import Settings

from .server_process import ServerProcess, free_port

READY_SECONDS = 60.0
PACKAGE = "virtuoso-opensource-7-bin"
INSTALL = f"apt-get install -y --no-install-recommends {PACKAGE}"
PRIVATE_GRAPHS = "http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs"
#: Debian's default: SELECT results stop after this many rows (X-SPARQL-MaxRows)
DEFAULT_MAX_ROWS = 10000
_SETUP_DONE = ".publisher-setup-done"

INI = """\
; written by tests/virtuoso_server.py
[Database]
DatabaseFile       = {dir}/virtuoso.db
ErrorLogFile       = {dir}/virtuoso.log
LockFile           = {dir}/virtuoso.lck
TransactionFile    = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {dir}/virtuoso-temp.db
TransactionFile    = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort           = 127.0.0.1:{sql_port}
DisableUnixSocket    = 1
DisableTcpSocket     = 0
MaxClientConnections = 10
CheckpointInterval   = 60
CaseMode             = 2
DirsAllowed          = ., {dir}
NumberOfBuffers      = 10000
MaxDirtyBuffers      = 6000

[HTTPServer]
ServerPort           = 127.0.0.1:{http_port}
ServerRoot           = {dir}
MaxClientConnections = 10
ServerThreads        = 10
Charset              = UTF-8
EnabledDavVSP        = 0

[SPARQL]
ResultSetMaxRows           = {max_rows}
MaxQueryExecutionTime      = 60
MaxQueryCostEstimationTime = 400
"""


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(
            f"Virtuoso is not installed ({name} is missing): as root, run "
            f"`{INSTALL}` (Debian's virtuoso-opensource; `make test` does it)"
        )
    return found


def virtuoso_binary() -> str:
    return _binary("virtuoso-t")


def isql_binary() -> str:
    return _binary("isql-vt")


class VirtuosoProcess(ServerProcess):
    """One ``virtuoso-t +foreground +configfile DIR/virtuoso.ini`` process."""

    stop_timeout = 30.0

    def __init__(
        self, location: str | Path | None = None, *, max_rows: int = DEFAULT_MAX_ROWS
    ) -> None:
        self._tmp: Path | None = None
        if location is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="virtuoso-test-"))
            self.location = self._tmp
        else:
            self.location = Path(location)
        self.max_rows = max_rows
        self.http_port: int | None = None
        self.sql_port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        #: seconds from starting the process to a set-up, answering server
        self.ready_seconds: float | None = None

    # URLs and files ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self.http_port is None:
            raise RuntimeError("the Virtuoso server has not been started")
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql_url(self) -> str:
        return self.base_url + "/sparql"

    @property
    def ini_path(self) -> Path:
        return self.location / "virtuoso.ini"

    @property
    def log_path(self) -> Path:
        return self.location / "virtuoso.log"

    @property
    def output_path(self) -> Path:
        return self.location / "virtuoso.out"

    def _tail(self) -> str:
        text = ""
        for path in (self.output_path, self.log_path):
            if path.is_file():
                text += path.read_text("utf-8", "replace")[-1500:]
        return text

    # Life cycle ----------------------------------------------------------------

    def start(self) -> VirtuosoProcess:
        """Start (on the same ports as before, if it was started before)."""
        if self.process is not None and self.process.poll() is None:
            return self
        binary = virtuoso_binary()
        isql_binary()  # fail early, with the same message, if it is missing
        started = time.monotonic()
        if self.http_port is None or self.sql_port is None:
            self.http_port, self.sql_port = free_port(), free_port()
            while self.sql_port == self.http_port:
                self.sql_port = free_port()
        self.location.mkdir(parents=True, exist_ok=True)
        self.ini_path.write_text(
            INI.format(
                dir=self.location,
                sql_port=self.sql_port,
                http_port=self.http_port,
                max_rows=self.max_rows,
            ),
            encoding="utf-8",
        )
        self._log = self.output_path.open("ab")
        self.process = subprocess.Popen(
            [binary, "+foreground", "+configfile", str(self.ini_path)],
            cwd=self.location,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(started)
        if not (self.location / _SETUP_DONE).exists():
            try:
                self._set_up()
            except (OSError, RuntimeError, subprocess.SubprocessError, ValueError):
                self.stop()  # no server left behind when set-up fails
                raise
            (self.location / _SETUP_DONE).write_text("done\n", encoding="utf-8")
        self.ready_seconds = time.monotonic() - started
        return self

    def _answers(self) -> bool:
        """Whether both the HTTP endpoint and the SQL port answer."""
        try:
            with urllib.request.urlopen(  # noqa: S310 - our own 127.0.0.1 server
                self.sparql_url + "?query=ASK%7B%7D", timeout=2
            ) as response:
                if response.status != 200:
                    return False
            with socket.create_connection(("127.0.0.1", self.sql_port or 0), 1):
                return True
        except (OSError, urllib.error.URLError):
            return False

    def _wait_ready(self, started: float) -> None:
        deadline = started + READY_SECONDS
        while True:
            process = self.process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                self._closed()
                raise RuntimeError(
                    f"virtuoso-t exited ({code}) before it was ready: " + self._tail()
                )
            if self._answers():
                return
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"Virtuoso did not answer on {self.base_url} within "
                    f"{READY_SECONDS:g} s: " + self._tail()
                )
            time.sleep(0.05)

    def isql(self, sql: str) -> str:
        """Run SQL statements as dba; RuntimeError on any ``*** Error``."""
        done = subprocess.run(
            [isql_binary(), f"127.0.0.1:{self.sql_port}", "dba", "dba"],
            input=sql.encode("utf-8"),
            capture_output=True,
            timeout=60,
            check=False,
        )
        out = done.stdout.decode("utf-8", "replace")
        err = done.stderr.decode("utf-8", "replace")
        if done.returncode != 0 or "*** Error" in err or "*** Error" in out:
            raise RuntimeError(f"isql-vt failed: {err.strip() or out.strip()}")
        return out

    def graphs(self) -> list[str]:
        """The graphs the anonymous SPARQL user sees (one SELECT over HTTP)."""
        # ORDER BY: Virtuoso answers this exact query without it from a graph list
        # that ignores graph-level security (private graphs show up)
        query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
        data = urllib.parse.urlencode({"query": query}).encode("ascii")
        request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 server
            self.sparql_url,
            data=data,
            headers={"Accept": "application/sparql-results+json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            rows = json.loads(response.read())["results"]["bindings"]
        return sorted(row["g"]["value"] for row in rows)

    def _set_up(self) -> None:
        """Let SPARQL update; hide Virtuoso's own graphs from it (fresh database)."""
        own = self.graphs()
        statements = [
            'GRANT SPARQL_UPDATE TO "SPARQL";',
            f"DB.DBA.RDF_GRAPH_GROUP_CREATE ('{PRIVATE_GRAPHS}', 1);",
            *(f"DB.DBA.RDF_GRAPH_GROUP_INS ('{PRIVATE_GRAPHS}', '{g}');" for g in own),
            "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 0, 1);",
            "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 3);",
            "checkpoint;",
        ]
        self.isql("\n".join(statements) + "\n")
        left = self.graphs()
        if left:
            raise RuntimeError(f"Virtuoso's own graphs are still visible: {left}")

    def clear(self) -> None:
        """Drop every graph SPARQL sees (``DROP ALL`` does nothing on Virtuoso)."""
        graphs = self.graphs()
        if not graphs:
            return
        update = " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs)
        request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 server
            self.sparql_url,
            data=update.encode("utf-8"),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()


def settings_for(
    server: VirtuosoProcess,
    base_url: str = "http://127.0.0.1:8000",
    **overrides: Any,
) -> Settings:
    """Settings for ``server`` as the remote store: ``/sparql`` for everything."""
    values: dict[str, Any] = {
        "base_url": base_url,
        "endpoint": server.sparql_url,
        "update_endpoint": server.sparql_url,
        "gsp_endpoint": "",
        "store_timeout": "30",
        "store_retries": "2",
    }
    values.update(overrides)
    return Settings(**values)


def start_virtuoso(folder: str | Path) -> VirtuosoProcess:
    """A started server for a test fixture: fails the test (never skips it) with
    what to install when Virtuoso is missing or does not start."""
    server = VirtuosoProcess(folder)
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        pytest.fail(str(exc), pytrace=False)
    return server
