"""A weather anchor's wind from the configured observation feed (hub/actions/weather.py)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hub.actions.weather import observe_weather
from hub.auth import Principal
from models.responses import AnchorOut
from models.weather import AnchorObserveIn
from web.api.endpoint import INCIDENT, Endpoint
from web.http import hub_of, read_json


async def observe(request: Request, principal: Principal) -> Any:
    params = request.path_params
    payload = await read_json(
        request, AnchorObserveIn, incident_id=params["incident_id"], anchor_id=params["anchor_id"]
    )
    return {"anchor": await observe_weather(hub_of(request), principal, payload)}


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "POST",
        INCIDENT + "/anchors/{anchor_id}/observe",
        "Fill a weather anchor from the observation feed, WEATHER_URL (manager; body: version)",
        observe,
        AnchorObserveIn,
        AnchorOut,
    ),
]
