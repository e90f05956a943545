"""The life cycle every real server the tests run shares: stop, kill, restart,
clean up, use as a context manager. Subclasses start their own process.

Naming: a test helper that runs a program as a server is ``<Program>Process``
(OxigraphProcess, VirtuosoProcess, PublisherProcess), in
``tests/<program>_server.py``; ``PublisherServer`` is the publishing API's client
(publisher/store/client.py), not a test helper."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from pathlib import Path
from types import TracebackType
from typing import IO, Self


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """A server subprocess with a log file and, perhaps, a temporary folder."""

    #: seconds to wait for a graceful stop before killing
    stop_timeout = 10.0

    process: subprocess.Popen[bytes] | None
    _log: IO[bytes] | None
    _tmp: Path | None

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self, timeout: float | None = None) -> None:
        """Terminate (SIGTERM), wait, and kill if it does not stop."""
        wait = self.stop_timeout if timeout is None else timeout
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(wait)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(wait)
        self._closed()

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to flush or clean up."""
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        self._closed()

    def _closed(self) -> None:
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> Self:
        """Stop and start again on the same data."""
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        """Stop; remove the temporary folder, if this server made one."""
        self.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()
