"""The JSON API, one module per resource, each with the table of its ENDPOINTS. Every route
authenticates, validates and calls the same domain action as the matching socket event."""

from __future__ import annotations

from starlette.routing import Route

from web.api import (
    admin,
    alerts,
    anchors,
    cap,
    contacts,
    convoys,
    deliveries,
    evaluation,
    exports,
    feed,
    health,
    incidents,
    ingest,
    layers,
    plans,
    public_registrations,
    registrations,
    session,
    timeline,
    weather,
)
from web.api.endpoint import Endpoint, route

ENDPOINTS: list[Endpoint] = [
    *ingest.ENDPOINTS,
    *session.ENDPOINTS,
    *incidents.ENDPOINTS,
    *feed.ENDPOINTS,
    *anchors.ENDPOINTS,
    *admin.ENDPOINTS,
    *convoys.ENDPOINTS,
    *registrations.ENDPOINTS,
    *cap.ENDPOINTS,
    *public_registrations.ENDPOINTS,
    *alerts.ENDPOINTS,
    *deliveries.ENDPOINTS,
    *timeline.ENDPOINTS,
    *evaluation.ENDPOINTS,
    *exports.ENDPOINTS,
    *contacts.ENDPOINTS,
    *plans.ENDPOINTS,
    *weather.ENDPOINTS,
    *layers.ENDPOINTS,
]


def routes(endpoints: list[Endpoint]) -> list[Route]:
    """One route per path (web/api/endpoint.py), health checks and the OpenAPI document."""
    from web.openapi import openapi_route

    by_path: dict[str, list[Endpoint]] = {}
    for endpoint in endpoints:
        by_path.setdefault(endpoint.path, []).append(endpoint)
    return [
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        openapi_route(endpoints),
        *(route(path, group) for path, group in by_path.items()),
    ]
