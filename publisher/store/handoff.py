"""Writes reach an embedded store through the one process that may open it.

Under ``publisher serve --workers N`` over an embedded store, the writer worker
owns the store and the followers read checkpoints (publisher.store.checkpoints).
Every worker accepts connections on the same public socket, so a write may arrive
anywhere; a follower hands it, as it came, to the writer's own waitress over a
private Unix socket (a folder only this user can open, never a URL) and passes the
answer back. Which requests are writes is decided from the method alone (and,
for ``POST /sparql``, the body: a query stays, an update goes): the app's
authentication, validation and history all happen once, in the writer.

While the writer is restarting, a write waits for it up to ``WAIT_SECONDS``; after
that the client gets 503 with ``Retry-After``.
"""

from __future__ import annotations

import http.client
import io
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

#: how long a write waits for a writer that is (re)starting
WAIT_SECONDS = 15.0
#: how long the writer may take over one write (a large batch: minutes)
WRITE_SECONDS = 900.0
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
#: not passed on: the connection's own (RFC 9110, 7.6.1)
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

StartResponse = Callable[..., Any]
Wsgi = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.unix_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def is_write(environ: dict[str, Any], body: bytes) -> bool:
    """Whether the request changes the store (and must go to the writer)."""
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    if method in _READS:
        return False
    if method != "POST" or environ.get("PATH_INFO") != "/sparql":
        return True
    kind = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
    if kind == "application/sparql-query":
        return False
    if kind == "application/x-www-form-urlencoded":
        fields = parse_qs(body.decode("latin-1"), keep_blank_values=True)
        return "update" in fields
    return True  # an update, or something the writer will refuse the same way


class Handoff:
    """WSGI middleware of a follower: writes go to the writer, reads stay here."""

    def __init__(self, app: Wsgi, writer_socket: str) -> None:
        self.app = app
        self.writer_socket = writer_socket

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        if method in _READS:
            return self.app(environ, start_response)
        body = _body(environ)
        if not is_write(environ, body):
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            return self.app(environ, start_response)
        return self._forward(environ, body, start_response)

    def _forward(
        self, environ: dict[str, Any], body: bytes, start_response: StartResponse
    ) -> Iterable[bytes]:
        target = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
        if environ.get("QUERY_STRING"):
            target += "?" + str(environ["QUERY_STRING"])
        headers = _headers(environ)
        headers["Content-Length"] = str(len(body))
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            connection = _UnixConnection(self.writer_socket, WRITE_SECONDS)
            try:
                connection.connect()
                break
            except OSError:
                connection.close()
                if time.monotonic() > deadline:
                    return _unavailable(start_response)
                time.sleep(0.2)
        try:
            connection.request(str(environ["REQUEST_METHOD"]), target, body, headers)
            answer = connection.getresponse()
            payload = answer.read()
        except (OSError, http.client.HTTPException):
            # the write may or may not have been made: say so, do not repeat it
            return _unavailable(start_response, "the writer process did not answer")
        finally:
            connection.close()
        passed = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP]
        start_response(f"{answer.status} {answer.reason}", passed)
        return [payload]


def _body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None or length <= 0:
        return b""
    data: bytes = stream.read(length)
    return data


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
            if name.lower() not in _HOP and name.lower() != "host":
                headers[name] = str(value)
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = str(environ["CONTENT_TYPE"])
    headers["Host"] = str(environ.get("HTTP_HOST", "localhost"))
    return headers


def _unavailable(
    start_response: StartResponse,
    message: str = "the writer process is restarting; try again in a moment",
) -> Iterable[bytes]:
    start_response(
        "503 Service Unavailable",
        [("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "2")],
    )
    return [message.encode("utf-8") + b"\n"]
