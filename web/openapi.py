"""/api/openapi.json, generated from the endpoint tables and the pydantic shapes: the request
bodies from models/shapes.py and models/convoy_shapes.py, the answers from models/responses.py."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.errors import HTTP_STATUS
from web.http import JSON

if TYPE_CHECKING:
    from web.api.endpoint import Endpoint

REF = "#/components/schemas/{model}"
FORM = "application/x-www-form-urlencoded"
JSON_MEDIA = "application/json"
MULTIPART = "multipart/form-data"

ERROR = {
    "type": "object",
    "description": "Some refusals add fields beside `error` (a `conflict` carries the current "
    "`anchor`; `rate_limited` carries `retry_after` in seconds, as the Retry-After header).",
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
    "required": ["error"],
}


# One example per file type, so that readers (and schemathesis's examples phase) see a
# body the hub takes: a route for PUT …/route, a timed track for POST …/track.
XML_EXAMPLES = {
    "application/gpx+xml": (
        '<gpx xmlns="http://www.topografix.com/GPX/1/1" version="1.1" creator="example">'
        "<trk><trkseg>"
        '<trkpt lat="50.8466" lon="4.3528"><time>2024-05-01T10:00:00Z</time></trkpt>'
        '<trkpt lat="50.8470" lon="4.3560"><time>2024-05-01T10:00:30Z</time></trkpt>'
        '<trkpt lat="50.8478" lon="4.3601"><time>2024-05-01T10:01:00Z</time></trkpt>'
        "</trkseg></trk></gpx>"
    ),
    "application/vnd.google-earth.kml+xml": (
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><LineString>'
        "<coordinates>4.3528,50.8466 4.3560,50.8470 4.3601,50.8478</coordinates>"
        "</LineString></Placemark></kml>"
    ),
}


def integer(low: int, high: int, default: int | None = None) -> dict[str, Any]:
    """A query parameter read by web.http.query_int with these bounds."""
    schema: dict[str, Any] = {"type": "integer", "minimum": low, "maximum": high}
    if default is not None:
        schema["default"] = default
    return schema


def enum_of(values: type[StrEnum]) -> dict[str, Any]:
    return {"type": "string", "enum": [value.value for value in values]}


def _model(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """Adds `model` and the models it uses to `schemas`; returns the reference to it."""
    schema = model.model_json_schema(ref_template=REF)
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _body(endpoint: Endpoint, path_names: list[str], schemas: dict[str, Any]) -> dict[str, Any]:
    if endpoint.body is None or endpoint.raw_body:
        # Not a hub shape: XML files, a tracker's form (the query's fields, in the body) or a
        # tracker's own JSON (`body` describes it).
        content: dict[str, Any] = {}
        for media in endpoint.raw_body:
            if media == JSON_MEDIA and endpoint.body is not None:
                content[media] = {"schema": _model(endpoint.body, schemas)}
            elif media == MULTIPART:
                properties = {
                    name: {**schema, "description": text}
                    for name, (text, schema) in endpoint.parts.items()
                }
                content[media] = {"schema": {"type": "object", "properties": properties}}
            elif media == FORM:
                fields = {name: schema for name, (_, schema) in endpoint.query.items()}
                content[media] = {"schema": {"type": "object", "properties": fields}}
            else:
                content[media] = {"schema": {"type": "string"}, "example": XML_EXAMPLES[media]}
        # A tracker may send its fields in the query instead: the form is optional.
        needed = endpoint.body_required and FORM not in endpoint.raw_body
        return {"required": needed, "content": content}
    name = endpoint.body.__name__
    schema = endpoint.body.model_json_schema(ref_template=REF)
    schemas.update(schema.pop("$defs", {}))
    # The handlers take these fields from the path (read_json's `extra`, over the body's):
    # they are not the body's to give.
    for field in path_names:
        schema.get("properties", {}).pop(field, None)
    required = [field for field in schema.get("required", []) if field not in path_names]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    schemas[name] = schema
    return {
        # A shape whose every field is optional also takes no body at all (read_json: `{}`).
        "required": bool(required),
        "content": {"application/json": {"schema": {"$ref": REF.format(model=name)}}},
    }


def _success(endpoint: Endpoint, schemas: dict[str, Any]) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "success"}
    if endpoint.media != "application/json":
        # The GPX and KML exports, the incident's exports and the CAP documents and feed:
        # files, named by Content-Disposition; a JSON file (GeoJSON) by its model.
        schema = (
            {"type": "string"} if endpoint.response is None else _model(endpoint.response, schemas)
        )
        success["content"] = {endpoint.media: {"schema": schema}}
        success["headers"] = {
            "Content-Disposition": {
                "required": True,
                "description": 'attachment; filename="….gpx" (or .kml, .pdf, .csv, '
                '.geojson, .zip); CAP: inline; filename="….xml" (or alerts.atom)',
                "schema": {"type": "string"},
            }
        }
    elif endpoint.response is not None:
        success["content"] = {"application/json": {"schema": _model(endpoint.response, schemas)}}
    else:
        raise ValueError(f"{endpoint.method} {endpoint.path} documents no response")
    return success


def document(endpoints: list[Endpoint]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR}
    for endpoint in endpoints:
        path_names = re.findall(r"{(\w+)}", endpoint.path)
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "operationId": endpoint.handler.__name__,
            "parameters": [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                }
                for name in path_names
            ]
            + [
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "description": text,
                    "schema": schema,
                }
                for name, (text, schema) in endpoint.query.items()
            ],
            "responses": {
                str(endpoint.status): _success(endpoint, schemas),
                "default": {
                    "description": "error",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
        if endpoint.body is not None or endpoint.raw_body:
            operation["requestBody"] = _body(endpoint, path_names, schemas)
        if endpoint.basic_auth:
            operation["security"] = [{"basic": []}]
        elif not endpoint.public:
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
                # trackers that authenticate so (OwnTracks: the password is the device key)
                "basic": {"type": "http", "scheme": "basic"},
                "session": {"type": "apiKey", "in": "cookie", "name": "crisishub_session"},
            },
        },
    }


def openapi_route(endpoints: list[Endpoint]) -> Route:
    spec = document(endpoints)

    async def serve(request: Request) -> Response:
        return JSON(spec)

    return Route("/api/openapi.json", serve, methods=["GET"])
