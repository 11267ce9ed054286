"""Emergency plans over HTTP (hub/actions/plans.py does the work): find, read, create, edit,
upload a version (multipart), approve, download a file, and the plans of an incident with
their activation."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from hub.actions import plans
from hub.auth import Principal
from hub.directory.search import Near
from hub.errors import HubError, from_validation
from hub.plans.files import ALLOWED_NAMES, CheckedFile, check_file
from models.limits import MAX_MESSAGE_BYTES
from models.plan import (
    MAX_PLAN_FILE_BYTES,
    MAX_PLAN_FILES,
    MAX_PLAN_SEARCH_LIMIT,
    MAX_PLAN_UPLOAD_BYTES,
    IncidentPlanIn,
    PlanCreateIn,
    PlanUpdateIn,
    PlanVersionFieldsIn,
)
from models.responses import IncidentPlansOut, PlanActivationOut, PlanOut, PlansOut
from web.api.endpoint import INCIDENT, Endpoint
from web.http import hub_of, point_query, query_int, read_json
from web.openapi import MULTIPART

PLAN = "/api/plans/{plan_id}"
FIELDS = ("anchors", "contact_ids", "note")


async def search_plans(request: Request, principal: Principal) -> Any:
    params = request.query_params
    text = params.get("q", "")
    if len(text) > 200:
        raise HubError("too_large", "q exceeds 200 characters")
    point = point_query(request, "at")
    at = None if point is None else Near(*point)
    limit = query_int(request, "limit", 50, 1, MAX_PLAN_SEARCH_LIMIT) or 50
    return {"plans": await plans.search_plans(hub_of(request), principal, text, at, limit)}


async def read_plan(request: Request, principal: Principal) -> Any:
    return {
        "plan": await plans.read_plan(hub_of(request), principal, request.path_params["plan_id"])
    }


async def create_plan(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, PlanCreateIn)
    return {"plan": await plans.create_plan(hub_of(request), principal, payload)}


async def update_plan(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, PlanUpdateIn)
    plan_id = request.path_params["plan_id"]
    return {"plan": await plans.update_plan(hub_of(request), principal, plan_id, payload)}


async def _upload(request: Request) -> tuple[PlanVersionFieldsIn, list[CheckedFile]]:
    """The version's form, bounded before a byte is parsed: Content-Length within the limit
    (h11 reads no more than it says), then python-multipart with at most MAX_PLAN_FILES files
    and small text fields; each file's bytes are then checked by hub/plans/files.py."""
    if not request.headers.get("content-type", "").startswith(MULTIPART):
        raise HubError("invalid", "a version is uploaded as multipart/form-data")
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise HubError("invalid", "an upload needs its Content-Length")
    if int(length) > MAX_PLAN_UPLOAD_BYTES:
        raise HubError("too_large", f"an upload is at most {MAX_PLAN_UPLOAD_BYTES} bytes")
    try:
        form = await request.form(
            max_files=MAX_PLAN_FILES, max_fields=len(FIELDS), max_part_size=MAX_MESSAGE_BYTES
        )
    except HTTPException as error:  # Starlette's wrapping of a MultiPartException
        raise HubError("invalid", f"the form: {error.detail}") from None
    try:
        files: list[CheckedFile] = []
        fields: dict[str, Any] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name != "files":
                    raise HubError("invalid", f"a file goes in the `files` part, not `{name}`")
                content = await value.read(MAX_PLAN_FILE_BYTES + 1)
                files.append(check_file(value.filename, content))
            elif name not in FIELDS:
                raise HubError("invalid", f"unknown part `{name}`: give files, {', '.join(FIELDS)}")
            elif name in fields:
                raise HubError("invalid", f"`{name}` is given twice")
            elif name == "note":
                fields[name] = value
            else:
                try:
                    fields[name] = orjson.loads(value)
                except orjson.JSONDecodeError:
                    raise HubError("invalid", f"`{name}` is not valid JSON") from None
    finally:
        await form.close()
    try:
        return PlanVersionFieldsIn.model_validate(fields), files
    except ValidationError as error:
        raise from_validation(error) from None


async def add_version(request: Request, principal: Principal) -> Any:
    fields, files = await _upload(request)
    plan_id = request.path_params["plan_id"]
    return {"plan": await plans.add_version(hub_of(request), principal, plan_id, fields, files)}


async def approve_version(request: Request, principal: Principal) -> Any:
    try:
        number = int(request.path_params["number"])
    except ValueError:
        raise HubError("not_found", "a version is a number") from None
    plan_id = request.path_params["plan_id"]
    return {"plan": await plans.approve_version(hub_of(request), principal, plan_id, number)}


async def read_file(request: Request, principal: Principal) -> Response:
    stored = await plans.read_file(
        hub_of(request), principal, request.path_params["plan_id"], request.path_params["file_id"]
    )
    return Response(
        stored.content,
        media_type=stored.content_type,
        headers={
            # RFC 6266: the name as given, UTF-8 encoded; never rendered inline as a page.
            "content-disposition": f"attachment; filename*=UTF-8''{quote(stored.name)}",
            "x-content-type-options": "nosniff",
            "cache-control": "private, max-age=3600",
        },
    )


async def incident_plans(request: Request, principal: Principal) -> Any:
    incident_id = request.path_params["incident_id"]
    activated, proposed = await plans.plans_for_incident(hub_of(request), principal, incident_id)
    return {"activated": activated, "proposed": proposed}


async def activate(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, IncidentPlanIn)
    incident_id = request.path_params["incident_id"]
    activation, created = await plans.activate_plan(
        hub_of(request), principal, incident_id, payload.plan_id
    )
    return {"activation": activation, "created": created}


_FILES = {"type": "array", "items": {"type": "string", "format": "binary"}}
_VERSION_PARTS: dict[str, tuple[str, dict[str, Any]]] = {
    "files": (
        f"1 to {MAX_PLAN_FILES} files of at most {MAX_PLAN_FILE_BYTES // (1024 * 1024)} MB: "
        f"{ALLOWED_NAMES}, judged by their content",
        _FILES,
    ),
    "anchors": (
        "a GeoJSON FeatureCollection; each feature's properties give kind and label",
        {"type": "string"},
    ),
    "contact_ids": ("a JSON array of contact ids", {"type": "string"}),
    "note": ("what changed in this version", {"type": "string"}),
}

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        "/api/plans",
        "Find plans: by words of the title, and with `at` those whose area holds the point",
        search_plans,
        response=PlansOut,
        query={
            "q": ("words of the title; the last one as a prefix", {"type": "string"}),
            "at": ("lat,lon: plans whose area contains that point", {"type": "string"}),
            "limit": (
                f"1 to {MAX_PLAN_SEARCH_LIMIT}, default 50",
                {"type": "integer", "minimum": 1, "maximum": MAX_PLAN_SEARCH_LIMIT},
            ),
        },
    ),
    Endpoint(
        "POST",
        "/api/plans",
        "Add a plan (of one's own organisation; admins: any)",
        create_plan,
        PlanCreateIn,
        PlanOut,
        status=201,
    ),
    Endpoint("GET", PLAN, "One plan with its versions and files", read_plan, response=PlanOut),
    Endpoint(
        "PATCH",
        PLAN,
        "Edit a plan's title, kind, level or area (its organisation's members and admins)",
        update_plan,
        PlanUpdateIn,
        PlanOut,
    ),
    Endpoint(
        "POST",
        PLAN + "/versions",
        "Add a draft version: its files, anchors and contacts (multipart/form-data)",
        add_version,
        response=PlanOut,
        raw_body=(MULTIPART,),
        parts=_VERSION_PARTS,
        status=201,
    ),
    Endpoint(
        "POST",
        PLAN + "/versions/{number}/approve",
        "Approve a version: the one an activation uses from now on",
        approve_version,
        response=PlanOut,
    ),
    Endpoint(
        "GET",
        PLAN + "/files/{file_id}",
        "Download one of the plan's files",
        read_file,
        media="application/octet-stream",
    ),
    Endpoint(
        "GET",
        INCIDENT + "/plans",
        "The plans activated in the incident and those proposed for its incident site",
        incident_plans,
        response=IncidentPlansOut,
    ),
    Endpoint(
        "POST",
        INCIDENT + "/plans",
        "Activate a plan (manager): anchors, contacts, a decision and plan.activated",
        activate,
        IncidentPlanIn,
        PlanActivationOut,
    ),
]
