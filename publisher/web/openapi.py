"""The OpenAPI 3.1 description of /api, served at /api/openapi.json.

The release and report schemas are the package's own JSON Schemas
(publisher/data/release.schema.json and report.schema.json, JSON Schema 2020-12,
which OpenAPI 3.1 uses as is), so the description, ``publisher validate --report
json`` and the API cannot drift apart. tests/test_api_schemathesis.py checks the
running API against it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from publisher import __version__
from publisher.model import SLUG_RE
from publisher.resources import data_file


def _schema(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(data_file(name).read_text(encoding="utf-8"))
    found.pop("$schema", None)
    found.pop("$id", None)
    return found


def _json(ref: str, description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": ref}}},
        **extra,
    }


#: the last page GET /api/releases takes (20 releases a page: beyond any calendar)
MAX_PAGE = 1_000_000_000

_ERROR = "#/components/schemas/Error"
_ETAG = {"ETag": {"$ref": "#/components/headers/ETag"}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "The request cannot be read: malformed JSON or a bad parameter.",
        401: "No token: send `Authorization: Bearer <token>`.",
        403: "The token is not known here.",
        404: "No release has this id.",
        409: "The release calendar's rules refuse this change; the message says "
        "what to do.",
        410: "The release was deleted: the reason and when.",
        412: "If-Match names a version that is no longer current.",
        413: "The body is larger than the server takes.",
        415: "The body is not application/json.",
        422: "The release violates the shapes: the report, per record and field.",
        503: "The store cannot take the change now (unreachable, or refused it); "
        "nothing changed.",
    }
    out: dict[str, Any] = {}
    for code in codes:
        if code == 422:
            out["422"] = _json("#/components/schemas/Rejected", words[422])
        elif code == 401:
            out["401"] = _json(
                _ERROR,
                words[401],
                headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
            )
        else:
            out[str(code)] = _json(_ERROR, words[code])
    return out


_SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "description": "The release's id (its URL slug); any other text is a 404.",
    "schema": {"type": "string", "pattern": SLUG_RE.pattern},
}
_WRITE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Release"}}
    },
}


@cache
def openapi() -> dict[str, Any]:
    """The description, built once."""
    release = _schema("release.schema.json")
    report = _schema("report.schema.json")
    answer = "#/components/schemas/WriteAnswer"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Release Publisher API",
            "version": __version__,
            "description": (
                "Publish a statistical release calendar: create, replace, rename "
                "and delete releases, publish batches atomically, schedule a "
                "published version under embargo. Reads are public; writes need a "
                "write token (`Authorization: Bearer ...`). Every write goes "
                "through the same shapes and rules as `publisher import`. Guide: "
                "docs/api.md."
            ),
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A write token (PUBLISHER_WRITE_TOKENS or "
                    "PUBLISHER_WRITE_TOKENS_FILE), role publish or admin.",
                }
            },
            "headers": {
                "ETag": {
                    "description": "The release's version; send it back in If-Match.",
                    "schema": {"type": "string"},
                }
            },
            "schemas": {
                "Release": release,
                "Report": report,
                "Problem": {
                    "type": "object",
                    "required": ["status", "message"],
                    "properties": {
                        "status": {"type": "integer"},
                        "message": {"type": "string"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"$ref": "#/components/schemas/Problem"},
                        "deleted_at": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                },
                "Rejected": {
                    "type": "object",
                    "required": ["error", "report"],
                    "properties": {
                        "error": {"$ref": "#/components/schemas/Problem"},
                        "report": {"$ref": "#/components/schemas/Report"},
                    },
                },
                "ReleaseList": {
                    "type": "object",
                    "required": ["releases", "total", "page", "pages"],
                    "properties": {
                        "releases": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Release"},
                        },
                        "total": {"type": "integer", "minimum": 0},
                        "page": {"type": "integer", "minimum": 1},
                        "pages": {"type": "integer", "minimum": 1},
                        "next": {"type": ["string", "null"]},
                    },
                },
                "WriteAnswer": {
                    "type": "object",
                    "required": [
                        "published",
                        "unchanged",
                        "scheduled",
                        "created",
                        "versions",
                        "data_version",
                    ],
                    "properties": {
                        "published": {"type": "array", "items": {"type": "string"}},
                        "unchanged": {"type": "array", "items": {"type": "string"}},
                        "created": {"type": "array", "items": {"type": "string"}},
                        "scheduled": {
                            "type": "object",
                            "description": "id -> publication time (UTC) of each "
                            "release held under embargo until then.",
                            "additionalProperties": {"type": "string"},
                        },
                        "versions": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        },
                        "data_version": {"type": ["string", "null"]},
                        "report": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/Report"},
                                {"type": "null"},
                            ]
                        },
                        "release": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/Release"},
                                {"type": "null"},
                            ]
                        },
                    },
                },
                "Batch": {
                    "type": "object",
                    "required": ["releases"],
                    "additionalProperties": False,
                    "properties": {
                        "releases": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"$ref": "#/components/schemas/Release"},
                        }
                    },
                },
                "Deleted": {
                    "type": "object",
                    "required": ["deleted", "reason", "data_version"],
                    "properties": {
                        "deleted": {"type": "string"},
                        "reason": {"type": "string"},
                        "data_version": {"type": ["string", "null"]},
                    },
                },
                "Scheduled": {
                    "type": "object",
                    "required": ["id", "publish_at", "scheduled_by", "release"],
                    "properties": {
                        "id": {"type": "string"},
                        "publish_at": {"type": "string"},
                        "scheduled_by": {"type": "string"},
                        "release": {"$ref": "#/components/schemas/Release"},
                    },
                },
            },
        },
        "paths": {
            "/api/releases": {
                "get": {
                    "summary": "List releases, with the calendar's filters",
                    "operationId": "listReleases",
                    "parameters": [
                        {
                            "name": "view",
                            "in": "query",
                            "schema": {
                                "enum": ["all", "upcoming", "published", "cancelled"],
                                "default": "all",
                            },
                        },
                        {"name": "topic", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "designation",
                            "in": "query",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "from",
                            "in": "query",
                            "schema": {"type": "string", "format": "date"},
                        },
                        {
                            "name": "to",
                            "in": "query",
                            "schema": {"type": "string", "format": "date"},
                        },
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "page",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_PAGE,
                                "default": 1,
                            },
                        },
                    ],
                    "responses": {
                        "200": _json(
                            "#/components/schemas/ReleaseList",
                            "20 releases a page, in the native format.",
                        ),
                        **_errors(400),
                    },
                },
                "post": {
                    "summary": "Create a release (or schedule its published version)",
                    "operationId": "createRelease",
                    "security": [{"token": []}],
                    "requestBody": _WRITE_BODY,
                    "responses": {
                        "201": _json(answer, "Published.", headers=_ETAG),
                        "202": _json(
                            answer, "Held under embargo until its publication time."
                        ),
                        **_errors(400, 401, 403, 409, 413, 415, 422, 503),
                    },
                },
            },
            "/api/releases/{slug}": {
                "parameters": [_SLUG],
                "get": {
                    "summary": "One release, in the native format",
                    "operationId": "getRelease",
                    "responses": {
                        "200": _json(
                            "#/components/schemas/Release",
                            "The release as published now.",
                            headers=_ETAG,
                        ),
                        "304": {
                            "description": "Not modified: If-None-Match names the "
                            "current version."
                        },
                        "308": {
                            "description": "The release was renamed: Location "
                            "gives its new URL."
                        },
                        **_errors(404, 410),
                    },
                },
                "put": {
                    "summary": "Replace (or create) a release; a new id renames it",
                    "operationId": "replaceRelease",
                    "security": [{"token": []}],
                    "parameters": [
                        {
                            "name": "If-Match",
                            "in": "header",
                            "description": "The ETag last read: 412 if the release "
                            "changed since.",
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": _WRITE_BODY,
                    "responses": {
                        "200": _json(answer, "Published.", headers=_ETAG),
                        "201": _json(answer, "Created.", headers=_ETAG),
                        "202": _json(
                            answer, "Held under embargo until its publication time."
                        ),
                        **_errors(400, 401, 403, 404, 409, 412, 413, 415, 422, 503),
                    },
                },
                "delete": {
                    "summary": "Delete a release, leaving a tombstone",
                    "operationId": "deleteRelease",
                    "security": [{"token": []}],
                    "parameters": [
                        {
                            "name": "reason",
                            "in": "query",
                            "required": True,
                            "description": "Why: shown on the release's 410 page.",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "If-Match",
                            "in": "header",
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": _json("#/components/schemas/Deleted", "Deleted."),
                        **_errors(400, 401, 403, 404, 409, 412, 503),
                    },
                },
            },
            "/api/releases/{slug}/jsonld": {
                "parameters": [_SLUG],
                "get": {
                    "summary": "The release's embeddable schema.org JSON-LD block",
                    "operationId": "getReleaseJsonld",
                    "responses": {
                        "200": {
                            "description": 'The block ({"@context": '
                            '"https://schema.org", "@graph": [...]}) to put in a '
                            '<script type="application/ld+json">.',
                            "content": {
                                "application/ld+json": {"schema": {"type": "object"}}
                            },
                        },
                        "304": {"description": "Not modified."},
                        "308": {"description": "Renamed: Location is the new URL."},
                        **_errors(404, 410),
                    },
                },
            },
            "/api/releases/{slug}/scheduled": {
                "parameters": [_SLUG],
                "get": {
                    "summary": "The version scheduled for publication, if any",
                    "operationId": "getScheduled",
                    "security": [{"token": []}],
                    "responses": {
                        "200": _json("#/components/schemas/Scheduled", "Scheduled."),
                        **_errors(401, 403, 404),
                    },
                },
                "delete": {
                    "summary": "Withdraw the scheduled publication",
                    "operationId": "withdrawScheduled",
                    "security": [{"token": []}],
                    "responses": {
                        "204": {"description": "Withdrawn."},
                        **_errors(401, 403, 404),
                    },
                },
            },
            "/api/batches": {
                "post": {
                    "summary": "Publish many releases at once: all of them, or none",
                    "operationId": "publishBatch",
                    "security": [{"token": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Batch"}
                            }
                        },
                    },
                    "responses": {
                        "200": _json(answer, "Published (and scheduled)."),
                        **_errors(400, 401, 403, 409, 413, 415, 422, 503),
                    },
                },
            },
        },
    }
