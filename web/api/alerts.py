"""Population alerts of an incident (BE-Alert): drafting, sending, updating, cancelling."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hub.actions import alerts
from hub.auth import Principal
from models.responses import AlertEstimate, AlertOut, AlertPreview, AlertsOut
from models.shapes import (
    AlertDraftIn,
    AlertEditIn,
    AlertEstimateIn,
    AlertPreviewIn,
    AlertVersionIn,
)
from web.api.endpoint import INCIDENT, Endpoint
from web.http import hub_of, read_json

ALERT = "/api/alerts/{alert_id}"


async def list_alerts(request: Request, principal: Principal) -> Any:
    incident_id = request.path_params["incident_id"]
    return {"alerts": await alerts.list_alerts(hub_of(request), principal, incident_id)}


async def draft_alert(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, AlertDraftIn, incident_id=request.path_params["incident_id"])
    return {"alert": await alerts.draft_alert(hub_of(request), principal, payload)}


async def get_alert(request: Request, principal: Principal) -> Any:
    alert_id = request.path_params["alert_id"]
    return {"alert": await alerts.get_alert(hub_of(request), principal, alert_id)}


async def edit_alert(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, AlertEditIn, alert_id=request.path_params["alert_id"])
    return {"alert": await alerts.edit_alert(hub_of(request), principal, payload)}


async def send_alert(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, AlertVersionIn, alert_id=request.path_params["alert_id"])
    return {"alert": await alerts.send_alert(hub_of(request), principal, payload)}


async def update_alert(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, AlertEditIn, alert_id=request.path_params["alert_id"])
    return {"alert": await alerts.update_alert(hub_of(request), principal, payload)}


async def cancel_alert(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, AlertVersionIn, alert_id=request.path_params["alert_id"])
    return {"alert": await alerts.cancel_alert(hub_of(request), principal, payload)}


async def estimate_alert(request: Request, principal: Principal) -> Any:
    payload = await read_json(
        request, AlertEstimateIn, incident_id=request.path_params["incident_id"]
    )
    prepared, cap_status = await alerts.estimate_alert(hub_of(request), principal, payload)
    return {
        "area": prepared.area,
        "estimate": prepared.estimate,
        "cap_status": cap_status,
        "test_only": alerts.test_only(cap_status),
    }


async def preview_alert(request: Request, principal: Principal) -> Any:
    payload = await read_json(
        request, AlertPreviewIn, incident_id=request.path_params["incident_id"]
    )
    return await alerts.preview_alert(hub_of(request), principal, payload, str(request.base_url))


ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", INCIDENT + "/alerts", "The incident's alerts", list_alerts, response=AlertsOut),
    Endpoint(
        "POST",
        INCIDENT + "/alerts",
        "Draft an alert (contributor and up)",
        draft_alert,
        AlertDraftIn,
        AlertOut,
        status=201,
    ),
    Endpoint(
        "POST",
        INCIDENT + "/alerts/estimate",
        "The area and audience of a draft in the making (counts only)",
        estimate_alert,
        AlertEstimateIn,
        AlertEstimate,
    ),
    Endpoint(
        "POST",
        INCIDENT + "/alerts/preview",
        "Each language's text on each channel as it would be sent, with SMS segments",
        preview_alert,
        AlertPreviewIn,
        AlertPreview,
    ),
    Endpoint("GET", ALERT, "One alert", get_alert, response=AlertOut),
    Endpoint("PATCH", ALERT, "Edit a draft (with its version)", edit_alert, AlertEditIn, AlertOut),
    Endpoint(
        "POST",
        ALERT + "/send",
        "Send a draft (manager): CAP Alert",
        send_alert,
        AlertVersionIn,
        AlertOut,
    ),
    Endpoint(
        "POST",
        ALERT + "/update",
        "New text or area for a sent alert (manager): CAP Update",
        update_alert,
        AlertEditIn,
        AlertOut,
    ),
    Endpoint(
        "POST",
        ALERT + "/cancel",
        "Cancel a sent alert (manager): CAP Cancel",
        cancel_alert,
        AlertVersionIn,
        AlertOut,
    ),
]
