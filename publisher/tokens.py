"""Write tokens: who may publish through the API and who may send SPARQL Update.

DESIGN.md, "Conventions": ``PUBLISHER_WRITE_TOKENS`` holds comma-separated admin
tokens, named ``env-1``, ``env-2``, ...; ``PUBLISHER_WRITE_TOKENS_FILE`` holds lines
``name role sha256-hex`` with role ``publish`` (API writes) or ``admin`` (API writes
and SPARQL Update). Blank lines and lines starting with ``#`` are ignored.

Only SHA-256 digests are kept in memory. A presented token is hashed and compared
with every known digest by :func:`hmac.compare_digest`, always all of them, so the
time taken says nothing about which token (or how much of one) matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

from publisher.config import Settings
from publisher.errors import ConfigError

ROLES = ("publish", "admin")
_HEX = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


@dataclass(frozen=True)
class Token:
    """A known token: its name (recorded in the history) and its role."""

    name: str
    role: str
    digest: str  # sha256 hex of the token

    @property
    def admin(self) -> bool:
        return self.role == "admin"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenTable:
    """The tokens the settings give; :meth:`check` finds the one presented."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens

    def __bool__(self) -> bool:
        return bool(self.tokens)

    def check(self, presented: str) -> Token | None:
        """The token ``presented`` is, or None; constant time in the token."""
        digest = token_digest(presented).encode("ascii")
        found = None
        for token in self.tokens:
            if hmac.compare_digest(digest, token.digest.encode("ascii")):
                found = token
        return found


def load_tokens(settings: Settings) -> TokenTable:
    """The tokens of ``write_tokens`` and ``write_tokens_file``; clear errors."""
    tokens = []
    raw = [t.strip() for t in settings.write_tokens.split(",")]
    for number, value in enumerate((t for t in raw if t), start=1):
        tokens.append(Token(f"env-{number}", "admin", token_digest(value)))
    if settings.write_tokens_file:
        tokens += _read_file(settings.write_tokens_file)
    names = [t.name for t in tokens]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"write tokens: the name(s) {', '.join(repeated)} repeat")
    return TokenTable(tokens)


def _read_file(path: str) -> list[Token]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(
            f"cannot read write tokens file {path}: {exc.strerror}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"write tokens file {path} is not UTF-8 text") from None
    tokens = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split()
        where = f"write tokens file {path}, line {number}"
        if len(parts) != 3:
            raise ConfigError(
                f"{where}: expected 'name role sha256-hex', found {len(parts)} fields"
            )
        name, role, digest = parts
        if not _NAME.match(name):
            raise ConfigError(f"{where}: {name!r} is not a usable token name")
        if role not in ROLES:
            raise ConfigError(f"{where}: role must be publish or admin, not {role!r}")
        if not _HEX.match(digest.lower()):
            raise ConfigError(
                f"{where}: the third field must be the token's SHA-256 as 64 hex "
                "digits (sha256sum), not the token itself"
            )
        tokens.append(Token(name, role, digest.lower()))
    return tokens
