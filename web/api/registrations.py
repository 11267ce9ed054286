"""Registrations (BE-Alert): professionals only ever get counts of an area's audience."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hub.actions import registrations
from hub.auth import Principal
from models.responses import RegistrationCount
from models.shapes import RegistrationCountIn
from web.api.endpoint import Endpoint
from web.http import hub_of, read_json


async def count_registrations(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, RegistrationCountIn)
    result = await registrations.count_registrations(hub_of(request), principal, payload)
    return {
        "registrations": result.registrations,
        "by_channel": result.by_channel,
        "by_language": result.by_language,
    }


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "POST",
        "/api/registrations/count",
        "Count the registrations with a place in a GeoJSON area (never lists them)",
        count_registrations,
        RegistrationCountIn,
        RegistrationCount,
    ),
]
