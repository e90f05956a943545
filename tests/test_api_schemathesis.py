"""Property-based checks of the publishing API against its own OpenAPI description.

Schemathesis reads /api/openapi.json from a real ``publisher serve`` (the 52-release
sample imported into a scratch store) and, for every operation, sends a bounded,
reproducible set of generated requests, valid and invalid, each with a token of
role ``publish``. No answer may be a 5xx, and every answer must be one the
description declares: its status, its content type, its body's schema, its headers.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.publisher_server import PublisherProcess

#: a write token of role ``publish`` (not admin), made up for this module's server
TOKEN = "schemathesis-" + secrets.token_hex(16)
AUTH = {"Authorization": f"Bearer {TOKEN}"}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublisherProcess]:
    tokens = tmp_path_factory.mktemp("api-schemathesis") / "tokens"
    digest = hashlib.sha256(TOKEN.encode("utf-8")).hexdigest()
    tokens.write_text(f"schemathesis publish {digest}\n", encoding="utf-8")
    env = {
        "PUBLISHER_WRITE_TOKENS": "",  # no admin token: only the publish one
        "PUBLISHER_WRITE_TOKENS_FILE": str(tokens),
    }
    with PublisherProcess(env=env) as running:
        # the token must work, or every write would be a (declared) 403 and the
        # writes would go untested
        status, _, body = running.request(
            "GET", "/api/releases/nothing-here/scheduled", headers=AUTH
        )
        assert status == 404, body
        yield running


@pytest.fixture(scope="module")
def loaded_schema(server: PublisherProcess) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(server.url("/api/openapi.json"), timeout=30)


@pytest.fixture
def api_schema(
    request: pytest.FixtureRequest, loaded_schema: schemathesis.BaseSchema
) -> schemathesis.BaseSchema:
    # schemathesis 4.32's lazy schema renames the test through Node._nodeid, which
    # pytest 9.2 no longer has; give it one to write to (reports name each
    # operation through its subtest label anyway)
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    return loaded_schema


# The schema comes from the running server, so it is loaded when the test runs,
# not when the module is collected: each operation is a subtest.
schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_description(case: Case) -> None:
    case.call_and_validate(headers=AUTH, checks=CHECKS, timeout=30)
