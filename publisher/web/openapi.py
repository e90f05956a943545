"""The OpenAPI 3.1 description of /api, served at /api/openapi.json.

The description is a file of the package, publisher/data/openapi.json, loaded
once. What the code defines is filled in when it is loaded, so nothing drifts:
the package version, the slug pattern (publisher.model.SLUG_RE), the last page
(MAX_PAGE) and the release and report schemas, which are the package's own JSON
Schemas (publisher/data/release.schema.json and report.schema.json, JSON Schema
2020-12, which OpenAPI 3.1 uses as is), so the description, ``publisher validate
--report json`` and the API cannot drift apart. tests/test_api_schemathesis.py
checks the running API against it; tests/test_openapi.py checks that it describes
every /api route.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from publisher import __version__
from publisher.model import SLUG_RE
from publisher.resources import data_file

#: the last page GET /api/releases takes (20 releases a page: beyond any calendar)
MAX_PAGE = 1_000_000_000


def _schema(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(data_file(name).read_text(encoding="utf-8"))
    found.pop("$schema", None)
    found.pop("$id", None)
    return found


@cache
def openapi() -> dict[str, Any]:
    """The description, loaded once."""
    spec: dict[str, Any] = json.loads(
        data_file("openapi.json").read_text(encoding="utf-8")
    )
    spec["info"]["version"] = __version__
    schemas = spec["components"]["schemas"]
    schemas["Release"] = _schema("release.schema.json")
    schemas["Report"] = _schema("report.schema.json")
    for item in spec["paths"].values():
        for parameter in item.get("parameters", []):
            if parameter["name"] == "slug":
                parameter["schema"]["pattern"] = SLUG_RE.pattern
    for parameter in spec["paths"]["/api/releases"]["get"]["parameters"]:
        if parameter["name"] == "page":
            parameter["schema"]["maximum"] = MAX_PAGE
    return spec
