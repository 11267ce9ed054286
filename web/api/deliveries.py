"""An alert's deliveries (members of its incident): the list and the CSV report."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

from hub.actions import deliveries
from hub.auth import Principal
from models.outbox import OutboxChannel, OutboxState
from models.responses import DeliveriesOut, FailuresOut
from web.api.endpoint import Endpoint
from web.http import hub_of, query_int
from web.openapi import enum_of, integer

DELIVERIES = "/api/alerts/{alert_id}/deliveries"
REPORT = "/api/alerts/{alert_id}/report.csv"


async def list_deliveries(request: Request, principal: Principal) -> Any:
    params = request.query_params
    page, next_after = await deliveries.list_deliveries(
        hub_of(request),
        principal,
        request.path_params["alert_id"],
        state=params.get("state") or None,
        channel=params.get("channel") or None,
        limit=query_int(request, "limit", 100, 1, deliveries.MAX_PAGE) or 100,
        after=query_int(request, "after", 0, 0, 2**62) or 0,
    )
    return {"deliveries": page, "next_after": next_after}


async def delivery_failures(request: Request, principal: Principal) -> Any:
    alert_id = request.path_params["alert_id"]
    return {"failures": await deliveries.failures(hub_of(request), principal, alert_id)}


async def delivery_report(request: Request, principal: Principal) -> Any:
    alert_id = request.path_params["alert_id"]
    lines = await deliveries.report(hub_of(request), principal, alert_id)
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="alert-{alert_id}-deliveries.csv"'},
    )


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        DELIVERIES,
        "The alert's deliveries, one per recipient and channel, in queue order (members)",
        list_deliveries,
        response=DeliveriesOut,
        query={
            "state": ("only deliveries in this state", enum_of(OutboxState)),
            "channel": ("only deliveries on this channel", enum_of(OutboxChannel)),
            "limit": ("at most this many", integer(1, deliveries.MAX_PAGE, 100)),
            "after": ("the next_after of the previous page", integer(0, 2**62, 0)),
        },
    ),
    Endpoint(
        "GET",
        "/api/alerts/{alert_id}/failures",
        "The alert's failed deliveries by channel and reason, most frequent first (members)",
        delivery_failures,
        response=FailuresOut,
    ),
    Endpoint(
        "GET",
        REPORT,
        "The alert's deliveries as CSV, addresses masked but their last 3 characters (members)",
        delivery_report,
        media="text/csv",
    ),
]
