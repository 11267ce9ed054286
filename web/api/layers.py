"""Reference layers over HTTP (hub/actions/layers.py does the work): list, upload
(multipart), read as a FeatureCollection (ETag, 304), replace, delete; and what lies inside
an incident's anchor."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from hub.actions import layers
from hub.auth import Principal
from hub.errors import HubError, from_validation
from models.layer import (
    MAX_INSIDE_FEATURES,
    MAX_LAYER_FEATURES,
    MAX_LAYER_UPLOAD_BYTES,
    LayerCategory,
    LayerFieldsIn,
    LayerSymbol,
)
from models.limits import MAX_NAME_CHARS
from models.responses import InsideOut, LayerCollection, LayerOut, LayersOut
from web.api.endpoint import INCIDENT, Endpoint
from web.http import hub_of
from web.openapi import MULTIPART

LAYER = "/api/layers/{layer_id}"
FIELDS = ("name", "category", "symbol", "colour")
# The form's text fields are a name and three words: a part larger than this is no field.
MAX_FIELD_BYTES = 1_000
# The revalidated cache: the browser keeps the layer and asks each time with If-None-Match,
# answered 304 without a feature read while its version stands.
CACHE_CONTROL = "private, no-cache"


async def _form(request: Request) -> tuple[LayerFieldsIn, str | None, bytes | None]:
    """The upload's form, bounded before a byte is parsed: Content-Length within the limit
    (h11 reads no more than it says, so a 100 MB upload is refused unread), then
    python-multipart with one file and small text fields."""
    if not request.headers.get("content-type", "").startswith(MULTIPART):
        raise HubError("invalid", "a layer is uploaded as multipart/form-data")
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise HubError("invalid", "an upload needs its Content-Length")
    if int(length) > MAX_LAYER_UPLOAD_BYTES + 64 * 1024:
        raise HubError(
            "too_large", f"a layer's file is at most {MAX_LAYER_UPLOAD_BYTES // 2**20} MB"
        )
    try:
        form = await request.form(
            max_files=1, max_fields=len(FIELDS), max_part_size=MAX_FIELD_BYTES
        )
    except HTTPException as error:  # Starlette's wrapping of a MultiPartException
        raise HubError("invalid", f"the form: {error.detail}") from None
    try:
        fields: dict[str, str] = {}
        file_name: str | None = None
        content: bytes | None = None
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name != "file":
                    raise HubError(
                        "invalid", f"the layer's file goes in the `file` part, not `{name}`"
                    )
                content = await value.read(MAX_LAYER_UPLOAD_BYTES + 1)
                file_name = value.filename
            elif name not in FIELDS:
                raise HubError("invalid", f"unknown part `{name}`: give file, {', '.join(FIELDS)}")
            elif name in fields:
                raise HubError("invalid", f"`{name}` is given twice")
            elif value.strip():
                fields[name] = value
    finally:
        await form.close()
    try:
        return LayerFieldsIn.model_validate(fields), file_name, content
    except ValidationError as error:
        raise from_validation(error) from None


async def list_layers(request: Request, principal: Principal) -> Any:
    return {"layers": await layers.list_layers(hub_of(request), principal)}


async def create_layer(request: Request, principal: Principal) -> Any:
    fields, file_name, content = await _form(request)
    if content is None:
        raise HubError("invalid", "a layer needs its `file`: GeoJSON, KML or a zipped Shapefile")
    return await layers.create_layer(hub_of(request), principal, fields, file_name, content)


async def replace_layer(request: Request, principal: Principal) -> Any:
    fields, file_name, content = await _form(request)
    layer_id = request.path_params["layer_id"]
    return await layers.replace_layer(
        hub_of(request), principal, layer_id, fields, file_name, content
    )


async def delete_layer(request: Request, principal: Principal) -> Any:
    return await layers.delete_layer(hub_of(request), principal, request.path_params["layer_id"])


async def read_layer(request: Request, principal: Principal) -> Response:
    document = await layers.read_document(
        hub_of(request),
        principal,
        request.path_params["layer_id"],
        request.headers.get("if-none-match"),
    )
    headers = {"etag": document.etag, "cache-control": CACHE_CONTROL}
    if document.body is None:
        return Response(status_code=304, headers=headers)
    return Response(document.body, media_type="application/json", headers=headers)


async def inside(request: Request, principal: Principal) -> Any:
    params = request.path_params
    return await layers.inside(
        hub_of(request), principal, params["incident_id"], params["anchor_id"]
    )


_TEXT = {"type": "string"}
_PARTS: dict[str, tuple[str, dict[str, Any]]] = {
    "file": (
        f"GeoJSON (a FeatureCollection), KML or KMZ, or a zipped Shapefile (.shp, .shx, .dbf,"
        f" .prj): at most {MAX_LAYER_UPLOAD_BYTES // 2**20} MB and {MAX_LAYER_FEATURES}"
        " features, judged by its content",
        {"type": "string", "format": "binary"},
    ),
    "name": (f"1 to {MAX_NAME_CHARS} characters, unique", _TEXT),
    "category": (
        "what the features are (default other)",
        {"type": "string", "enum": [c.value for c in LayerCategory]},
    ),
    "symbol": (
        "how the map draws its points (default circle)",
        {"type": "string", "enum": [s.value for s in LayerSymbol]},
    ),
    "colour": ("#rrggbb (default #1f6feb)", {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}),
}

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        "/api/layers",
        "Every reference layer, without features",
        list_layers,
        response=LayersOut,
    ),
    Endpoint(
        "POST",
        "/api/layers",
        "Upload a reference layer (admins; multipart/form-data: name, file, category, symbol,"
        " colour)",
        create_layer,
        response=LayerOut,
        raw_body=(MULTIPART,),
        parts=_PARTS,
        status=201,
    ),
    Endpoint(
        "GET",
        LAYER,
        "A layer's features as a GeoJSON FeatureCollection, with an ETag (If-None-Match: 304)",
        read_layer,
        response=LayerCollection,
    ),
    Endpoint(
        "PUT",
        LAYER,
        "Replace a layer's file and/or change its fields, in one transaction (admins;"
        " multipart/form-data, the parts given change)",
        replace_layer,
        response=LayerOut,
        raw_body=(MULTIPART,),
        parts=_PARTS,
    ),
    Endpoint(
        "DELETE",
        LAYER,
        "Delete a layer and its features (admins)",
        delete_layer,
        response=LayerOut,
    ),
    Endpoint(
        "GET",
        INCIDENT + "/anchors/{anchor_id}/inside",
        f"What lies inside an anchor's area: each layer's features (the first"
        f" {MAX_INSIDE_FEATURES} listed, all counted) and the registered addresses (a count)",
        inside,
        response=InsideOut,
    ),
]
