"""The anchors of an incident, as GeoJSON."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request

from hub.actions import anchors
from hub.auth import Principal
from hub.public import feature_collection
from models.responses import (
    AnchorCollection,
    AnchorOut,
)
from models.shapes import (
    AnchorCreateIn,
    AnchorDeleteIn,
    AnchorUpdateIn,
)
from web.api.endpoint import INCIDENT, Endpoint
from web.http import hub_of, read_json

log = logging.getLogger(__name__)


async def list_anchors(request: Request, principal: Principal) -> Any:
    rows = await anchors.list_anchors(
        hub_of(request), principal, request.path_params["incident_id"]
    )
    return feature_collection(rows)


async def create_anchor(request: Request, principal: Principal) -> Any:
    payload = await read_json(
        request, AnchorCreateIn, incident_id=request.path_params["incident_id"]
    )
    return {"anchor": await anchors.create_anchor(hub_of(request), principal, payload)}


async def update_anchor(request: Request, principal: Principal) -> Any:
    params = request.path_params
    payload = await read_json(
        request, AnchorUpdateIn, incident_id=params["incident_id"], anchor_id=params["anchor_id"]
    )
    return {"anchor": await anchors.update_anchor(hub_of(request), principal, payload)}


async def delete_anchor(request: Request, principal: Principal) -> Any:
    params = request.path_params
    payload = await read_json(
        request, AnchorDeleteIn, incident_id=params["incident_id"], anchor_id=params["anchor_id"]
    )
    return {"anchor": await anchors.delete_anchor(hub_of(request), principal, payload)}


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        INCIDENT + "/anchors",
        "Anchors as a GeoJSON FeatureCollection",
        list_anchors,
        response=AnchorCollection,
    ),
    Endpoint(
        "POST",
        INCIDENT + "/anchors",
        "Create an anchor",
        create_anchor,
        AnchorCreateIn,
        AnchorOut,
        status=201,
    ),
    Endpoint(
        "PATCH",
        INCIDENT + "/anchors/{anchor_id}",
        "Move, reshape or relabel an anchor",
        update_anchor,
        AnchorUpdateIn,
        AnchorOut,
    ),
    Endpoint(
        "DELETE",
        INCIDENT + "/anchors/{anchor_id}",
        "Delete an anchor (body: version); answers its last state, deleted: true",
        delete_anchor,
        AnchorDeleteIn,
        AnchorOut,
    ),
]
