"""Schemathesis against a live hub: every operation of /api/openapi.json is called with data
drawn from its own description, valid and invalid, and every answer is checked against that
description. No 5xx; the documented status, media type, headers and schema; invalid input
refused with a 4xx; undocumented methods answered 405 with Allow, OPTIONS with the path's
methods; no route that works without credentials. On every backend of `database_url`.

The fuzzing user manages a seeded incident that holds one of everything (entry, anchor,
convoy, vehicle with fixes), and the path parameters name those, so the calls reach real
data instead of stopping at not_found."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import schemathesis
from schemathesis.schemas import BaseSchema

from tests.live import HubProcess
from tests.seed import Seeder

if TYPE_CHECKING:  # schemathesis defines the alias for type checkers only
    from schemathesis.specs.openapi.schemas import OpenApiCase

# GPX and KML bodies are documents in a string.
XML_MEDIA = {"application/gpx+xml", "application/vnd.google-earth.kml+xml"}

POINT = {"type": "Point", "coordinates": [4.3528, 50.8466]}
ROUTE = {"type": "LineString", "coordinates": [[4.3528, 50.8466], [4.3601, 50.8478]]}
INCIDENT = "/api/incidents/{incident_id}"


@dataclass(frozen=True)
class World:
    url: str
    token: str  # the fuzzing user's: no admin, manager of `incident`
    incident: str
    entry: str
    anchor: str
    convoy: str
    vehicle: str
    device_key: str
    point: str  # an evaluation point of `incident`, for PATCH …/evaluation/{point_id}
    member: str  # a viewer of `incident`, for DELETE …/members/{username}
    spare_token: str  # the id of a token of the fuzzing user, for DELETE /api/tokens/{token_id}

    def fresh_token(self) -> str:
        """A new token of the fuzzing user: DELETE /api/session revokes the one it is called
        with, which must not be the one every other call uses."""
        response = httpx.post(
            self.url + "/api/tokens", json={}, headers={"Authorization": f"Bearer {self.token}"}
        )
        response.raise_for_status()
        token: str = response.json()["token"]
        return token


@pytest.fixture(scope="module")
async def world(hub_server: HubProcess, seed: Seeder) -> World:
    fuzzer = await seed.user("fuzz")
    member = await seed.user("fuzz-viewer")
    incident = await seed.incident({fuzzer: "manager", member: "viewer"}, title="Fuzzed")
    headers = {"Authorization": f"Bearer {fuzzer.token}"}
    async with httpx.AsyncClient(base_url=hub_server.url, headers=headers) as http:

        async def made(path: str, body: dict[str, object]) -> dict[str, Any]:
            response = await http.post(path, json=body)
            assert response.status_code == 201, response.text
            made: dict[str, Any] = response.json()
            return made

        base = f"/api/incidents/{incident}"
        entry = await made(
            base + "/feed", {"client_id": str(uuid.uuid4()), "text": "Road N2 closed"}
        )
        anchor = await made(
            base + "/anchors",
            {
                "client_id": str(uuid.uuid4()),
                "kind": "command_post",
                "label": "CP-Ops",
                "geometry": POINT,
            },
        )
        convoy = await made(base + "/convoys", {"name": "Escort", "route": ROUTE})
        convoy_id = convoy["convoy"]["id"]
        vehicle = await made(base + f"/convoys/{convoy_id}/vehicles", {"label": "Lead car"})
        device_key = str(vehicle["device_key"])
        fix = await http.get(
            "/ingest/osmand", params={"id": device_key, "lat": 50.8466, "lon": 4.3528}
        )
        assert fix.status_code == 200, fix.text
        point = await made(
            base + "/evaluation",
            {"client_id": str(uuid.uuid4()), "kind": "to_improve", "text": "Late perimeter"},
        )
        spare = await made("/api/tokens", {})
    return World(
        url=hub_server.url,
        token=fuzzer.token,
        incident=incident,
        entry=str(entry["entry"]["id"]),
        anchor=str(anchor["anchor"]["id"]),
        convoy=str(convoy_id),
        vehicle=str(vehicle["vehicle"]["id"]),
        device_key=device_key,
        point=str(point["point"]["id"]),
        member=member.username,
        spare_token=str(spare["id"]),
    )


@pytest.fixture(scope="module")
def api_schema(world: World) -> BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            # Bounded and reproducible: the same draws on every run, no shrinking, no
            # example database.
            "seed": 20240501,
            "generation": {"max-examples": 15, "no-shrink": True, "database": "none"},
            # The stateful phase needs links between operations, which the document has none of.
            "phases": {"stateful": {"enabled": False}},
            "auth": {
                "openapi": {
                    "bearer": {"bearer": world.token},
                    # OwnTracks (/ingest/owntracks): the password is a real device key
                    "basic": {"username": "fuzz", "password": world.device_key},
                }
            },
            "parameters": {
                "path.incident_id": world.incident,
                "path.entry_id": world.entry,
                "path.anchor_id": world.anchor,
                "path.convoy_id": world.convoy,
                "path.vehicle_id": world.vehicle,
                "path.point_id": world.point,
                "path.username": world.member,
                "path.token_id": world.spare_token,
                # a real tracker's key: the fixes drawn with valid coordinates are stored
                "query.id": world.device_key,
            },
            "checks": {
                # Schema-valid data may still be refused on meaning (a ring that does not close,
                # a GPX without times, a stale version): not a promise the document makes.
                "positive_data_acceptance": {"enabled": False},
                # The hub's refusals (hub/errors.py): over a limit is `too_large`, 413.
                "negative_data_rejection": {
                    "expected-statuses": [400, 401, 403, 404, 405, 409, 413, 429]
                },
                # Need links between operations (stateful), which the document has none of.
                "use_after_free": {"enabled": False},
                "ensure_resource_availability": {"enabled": False},
            },
            "request-timeout": 10,
        }
    )
    return schemathesis.openapi.from_url(world.url + "/api/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's from_fixture reads `Node._nodeid`, which pytest 9.2 no longer has
    (it computes `nodeid`); given back as a plain attribute, which it only uses for names."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


# ~50 s per backend here; the suite's 120 s default leaves too little room on a slow runner.
@pytest.mark.timeout(400)
@schema.parametrize()
def test_every_operation_conforms_to_the_document(case: OpenApiCase, world: World) -> None:
    if case.method == "DELETE" and case.path == "/api/session" and case.headers:
        if "Authorization" in case.headers:  # not when the case leaves credentials out
            case.headers["Authorization"] = f"Bearer {world.fresh_token()}"
    sent: dict[str, Any] = {}
    if case.media_type in XML_MEDIA and isinstance(case.body, str):
        # As it is: schemathesis's XML serializer, which takes any +xml type, would wrap the
        # string in an element of its own.
        sent["data"] = case.body.encode()
    try:
        case.call_and_validate(**sent)
    finally:
        if case.method == "PATCH" and case.path == INCIDENT:
            _reopen(world)


def _reopen(world: World) -> None:
    """A fuzzed PATCH may close the incident, after which every write is `forbidden`: reopened,
    so that the later calls still reach the writes."""
    headers = {"Authorization": f"Bearer {world.token}"}
    url = f"{world.url}/api/incidents/{world.incident}"
    if httpx.get(url, headers=headers).json()["incident"]["status"] == "closed":
        httpx.patch(url, json={"status": "open"}, headers=headers).raise_for_status()
