"""Write tokens: from PUBLISHER_WRITE_TOKENS and PUBLISHER_WRITE_TOKENS_FILE."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from publisher.config import Settings, load_settings
from publisher.errors import ConfigError
from publisher.tokens import load_tokens, token_digest


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_environment_tokens_are_admins_named_in_order() -> None:
    settings = load_settings(environ={"PUBLISHER_WRITE_TOKENS": "alpha, beta,,"})
    table = load_tokens(settings)
    found = table.check("beta")
    assert found is not None
    assert (found.name, found.role, found.admin) == ("env-2", "admin", True)
    first = table.check("alpha")
    assert first is not None and first.name == "env-1"
    assert table.check("gamma") is None
    assert table.check("alph") is None
    assert table.check("") is None


def test_file_tokens_have_names_and_roles(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text(
        "# name role sha256\n\n"
        f"pipeline publish {_digest('p-secret')}\n"
        f"ops admin {_digest('a-secret').upper()}\n"
    )
    table = load_tokens(Settings(write_tokens="e", write_tokens_file=str(path)))
    publisher = table.check("p-secret")
    assert publisher is not None
    assert (publisher.name, publisher.admin) == ("pipeline", False)
    ops = table.check("a-secret")
    assert ops is not None and ops.admin and ops.name == "ops"
    env = table.check("e")
    assert env is not None and env.name == "env-1"
    assert table.check(_digest("p-secret")) is None  # the digest is not the token


def test_only_digests_are_kept() -> None:
    table = load_tokens(Settings(write_tokens="plain-secret"))
    assert [t.digest for t in table.tokens] == [token_digest("plain-secret")]
    assert "plain-secret" not in repr(table.tokens)


def test_no_tokens_configured() -> None:
    table = load_tokens(Settings())
    assert not table
    assert table.check("anything") is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ops admin", "expected 'name role sha256-hex', found 2 fields"),
        (f"ops root {_digest('x')}", "role must be publish or admin, not 'root'"),
        ("ops admin my-plain-token", "the token's SHA-256 as 64 hex digits"),
        (f"o/ps admin {_digest('x')}", "'o/ps' is not a usable token name"),
    ],
)
def test_bad_lines_name_the_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"# tokens\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_tokens(Settings(write_tokens_file=str(path)))
    assert f"write tokens file {path}, line 2" in str(caught.value)
    assert message in str(caught.value)


def test_missing_file_and_repeated_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read write tokens file"):
        load_tokens(Settings(write_tokens_file=str(tmp_path / "absent")))
    path = tmp_path / "tokens"
    path.write_text(f"env-1 admin {_digest('x')}\n")
    with pytest.raises(ConfigError, match="env-1 repeat"):
        load_tokens(Settings(write_tokens="y", write_tokens_file=str(path)))
