"""An incident's evaluation points: listed by its members, recorded by contributors and up,
changed by their author or a manager (hub/actions/evaluation.py)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hub.actions import evaluation
from hub.auth import Principal
from models.responses import EvaluationPointOut, EvaluationPointsOut
from models.shapes import EvaluationCreateIn, EvaluationUpdateIn
from web.api.endpoint import INCIDENT, Endpoint
from web.http import hub_of, read_json


async def list_points(request: Request, principal: Principal) -> Any:
    incident_id = request.path_params["incident_id"]
    return {"points": await evaluation.list_points(hub_of(request), principal, incident_id)}


async def create_point(request: Request, principal: Principal) -> Any:
    payload = await read_json(
        request, EvaluationCreateIn, incident_id=request.path_params["incident_id"]
    )
    return {"point": await evaluation.create_point(hub_of(request), principal, payload)}


async def update_point(request: Request, principal: Principal) -> Any:
    params = request.path_params
    payload = await read_json(
        request, EvaluationUpdateIn, incident_id=params["incident_id"], point_id=params["point_id"]
    )
    return {"point": await evaluation.update_point(hub_of(request), principal, payload)}


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        INCIDENT + "/evaluation",
        "The incident's evaluation points, oldest first",
        list_points,
        response=EvaluationPointsOut,
    ),
    Endpoint(
        "POST",
        INCIDENT + "/evaluation",
        "Record an evaluation point (contributor and up; also on a closed incident)",
        create_point,
        EvaluationCreateIn,
        EvaluationPointOut,
        status=201,
    ),
    Endpoint(
        "PATCH",
        INCIDENT + "/evaluation/{point_id}",
        "Edit, close or reopen an evaluation point (its author or a manager; body: version)",
        update_point,
        EvaluationUpdateIn,
        EvaluationPointOut,
    ),
]
