"""/api/openapi.json, generated from the endpoint table and the pydantic shapes."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.errors import HTTP_STATUS
from web.http import JSON


def document(endpoints: list[Any]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "enum": list(HTTP_STATUS)},
                        "message": {"type": "string"},
                    },
                    "required": ["code", "message"],
                }
            },
        }
    }
    for endpoint in endpoints:
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "operationId": endpoint.handler.__name__,
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in re.findall(r"{(\w+)}", endpoint.path)
            ]
            + [
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "description": text,
                    "schema": {"type": "string"},
                }
                for name, text in endpoint.query.items()
            ],
            "responses": {
                str(endpoint.status): {
                    "description": "success",
                    "content": {"application/json": {}},
                },
                "default": {
                    "description": "error",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
        if endpoint.body is not None:
            name = endpoint.body.__name__
            schema = endpoint.body.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[name] = schema
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                },
            }
        if not endpoint.public:
            operation["security"] = [{"bearer": []}, {"session": []}]
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "CrisisHub API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "crisishub_session"},
            },
        },
    }


def openapi_route(endpoints: list[Any]) -> Route:
    spec = document(endpoints)

    async def serve(request: Request) -> Response:
        return JSON(spec)

    return Route("/api/openapi.json", serve, methods=["GET"])
