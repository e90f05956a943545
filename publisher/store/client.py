"""A running Release Publisher server as a place to publish into (``publisher push``).

A pipeline that cannot open a server's embedded store (the server holds it) sends
its releases to the server's API instead: one ``POST /api/batches``, published all
or nothing by the server, through the same shapes and rules as ``import``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from publisher.errors import PublisherError, ServerUnreachableError


@dataclass(frozen=True)
class ServerAnswer:
    status: int
    body: dict[str, Any]

    @property
    def message(self) -> str:
        error = self.body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        return f"HTTP {self.status}"


class PublisherServer:
    """The API of the server at ``url`` (its base URL), with a write token."""

    def __init__(self, url: str, token: str, timeout: float = 300.0) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise PublisherError(f"--server must be an http(s) URL, not {url!r}")
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def publish_batch(self, records: list[dict[str, Any]]) -> ServerAnswer:
        return self._send("POST", "/api/batches", {"releases": records})

    def _send(self, method: str, path: str, body: Any) -> ServerAnswer:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - http(s) checked above
            self.url + path,
            data=data,
            method=method,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
                "User-Agent": "release-publisher push",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerUnreachableError(f"cannot reach {self.url}: {reason}") from None
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError):
            raise ServerUnreachableError(
                f"{self.url} answered HTTP {status} with something that is not the "
                "Release Publisher API (is --server the site's base URL?)"
            ) from None
        if not isinstance(parsed, dict):
            raise ServerUnreachableError(
                f"{self.url} answered HTTP {status}: {parsed!r}"
            )
        return ServerAnswer(status, parsed)
