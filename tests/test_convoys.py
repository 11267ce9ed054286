"""Live hub, real sockets and HTTP: trackers in, coalesced positions out, alerts as events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.client import HubClient
from hub.geo import line_length_m, point_along
from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder, TestUser

# A short stretch of Rue de la Loi towards the summit venue (west-bound), lon/lat.
ROUTE = {
    "type": "LineString",
    "coordinates": [[4.3900, 50.8440], [4.3850, 50.8430], [4.3800, 50.8420], [4.3750, 50.8410]],
}
# A perimeter astride the route's middle.
ZONE = {
    "type": "Polygon",
    "coordinates": [
        [
            [4.3810, 50.8410],
            [4.3790, 50.8410],
            [4.3790, 50.8430],
            [4.3810, 50.8430],
            [4.3810, 50.8410],
        ]
    ],
}
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def hub_server(database_url: str, logs: Path) -> Iterator[HubProcess]:
    # Silence is tested on a hub of its own; here no tracker should fall silent mid-test.
    server = HubProcess(database_url, log_dir=logs, silent_after_s=3600).start()
    yield server
    server.stop()


def bearer(user: TestUser) -> dict[str, str]:
    return {"authorization": f"Bearer {user.token}"}


async def make_convoy(
    server: HubProcess, manager: TestUser, incident: str, *, route: dict | None = ROUTE
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(manager)) as http:
        body: dict[str, Any] = {"name": f"Motorcade {uuid.uuid4().hex[:6]}"}
        if route is not None:
            body["route"] = route
        response = await http.post(f"/api/incidents/{incident}/convoys", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json()["convoy"])


async def make_vehicle(
    server: HubProcess, manager: TestUser, incident: str, convoy_id: str, label: str = "VIP 1"
) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(manager)) as http:
        response = await http.post(
            f"/api/incidents/{incident}/convoys/{convoy_id}/vehicles",
            json={"label": label, "role": "vip"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return body["vehicle"]["id"], body["device_key"]


async def setup(
    server: HubProcess,
    seed: Seeder,
    *,
    route: dict | None = ROUTE,
    members: dict[TestUser, str] | None = None,
) -> tuple[TestUser, str, dict[str, Any], str, str]:
    manager = await seed.user("manager")
    incident = await seed.incident({manager: "manager", **(members or {})}, kind="event")
    convoy = await make_convoy(server, manager, incident, route=route)
    vehicle_id, key = await make_vehicle(server, manager, incident, convoy["id"])
    return manager, incident, convoy, vehicle_id, key


def osmand(server: HubProcess, key: str, lat: float, lon: float, ts: Any, **extra: Any) -> int:
    params = {"id": key, "lat": lat, "lon": lon, "timestamp": ts, **extra}
    return httpx.get(server.url + "/ingest/osmand", params=params, timeout=10).status_code


async def aosmand(
    http: httpx.AsyncClient, key: str, lat: float, lon: float, ts: datetime, **extra: Any
) -> httpx.Response:
    params = {"id": key, "lat": lat, "lon": lon, "timestamp": int(ts.timestamp()), **extra}
    return await http.get("/ingest/osmand", params=params)


def along(route: dict, fraction: float) -> tuple[float, float]:
    """(lon, lat) at a fraction of the route's length."""
    coordinates = route["coordinates"]
    lon, lat, _ = point_along(coordinates, fraction * line_length_m(coordinates))
    return lon, lat


async def wait_for_alerts(
    client: HubClient, incident: str, count: int, attempts: int = 200
) -> list[dict[str, Any]]:
    """The convoy.alert events this client holds, once it holds `count` of them."""
    alerts: list[dict[str, Any]] = []
    for _ in range(attempts):
        alerts = [
            e["data"] for e in client.incidents[incident].events if e["type"] == "convoy.alert"
        ]
        if len(alerts) >= count:
            return alerts
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} alerts, got {alerts}")


# ingestion ------------------------------------------------------------------------------------


async def test_each_path_stores_and_the_snapshot_has_the_latest(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    contributor = await seed.user("driver")
    manager, incident, convoy, vehicle_id, key = await setup(
        hub_server, seed, members={contributor: "contributor"}
    )
    assert len(key) >= 16 and key.replace("-", "").replace("_", "").isalnum()
    lon, lat = along(ROUTE, 0.05)
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        # 1. OsmAnd: query string, timestamp in seconds, speed in knots.
        response = await aosmand(http, key, lat, lon, T0, speed="20", bearing="250")
        assert response.status_code == 200, response.text
        # ... a form body, `deviceid`, milliseconds.
        lon2, lat2 = along(ROUTE, 0.10)
        response = await http.post(
            "/ingest/osmand",
            data={
                "deviceid": key,
                "lat": str(lat2),
                "lon": str(lon2),
                "timestamp": str(int((T0 + timedelta(seconds=10)).timestamp() * 1000)),
                "heading": "251.5",
            },
        )
        assert response.status_code == 200, response.text
        # ... ISO 8601 with an offset (kept as the same instant, in UTC).
        lon3, lat3 = along(ROUTE, 0.15)
        iso_local = (T0 + timedelta(seconds=20)).astimezone(timezone(timedelta(hours=2)))
        response = await http.get(
            "/ingest/osmand",
            params={"id": key, "lat": lat3, "lon": lon3, "timestamp": iso_local.isoformat()},
        )
        assert response.status_code == 200, response.text

    # 2. position.report over the socket (a contributor's app).
    app = await clients(hub_server, contributor)
    lon4, lat4 = along(ROUTE, 0.20)
    ack = await app.request(
        "position.report",
        {
            "incident_id": incident,
            "vehicle_id": vehicle_id,
            "lat": lat4,
            "lon": lon4,
            "ts": (T0 + timedelta(seconds=30)).isoformat(),
            "speed": 12.5,
            "heading": 250,
            "accuracy": 5,
        },
    )
    assert ack == {"ok": True}

    # 3. A recorded GPX track, uploaded by the manager.
    points = "".join(
        f'<trkpt lat="{along(ROUTE, f)[1]}" lon="{along(ROUTE, f)[0]}">'
        f"<time>{(T0 + timedelta(seconds=40 + 10 * n)).isoformat().replace('+00:00', 'Z')}</time>"
        "</trkpt>"
        for n, f in enumerate((0.25, 0.30, 0.35))
    )
    gpx = (
        '<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{points}</trkseg></trk></gpx>"
    )
    async with httpx.AsyncClient(base_url=hub_server.url, headers=bearer(manager)) as http:
        response = await http.post(f"/api/vehicles/{vehicle_id}/track", content=gpx)
        assert response.status_code == 200, response.text
        assert response.json() == {"received": 3, "stored": 3, "duplicates": 0, "flagged": 0}

        track = (await http.get(f"/api/vehicles/{vehicle_id}/track")).json()
    assert track["type"] == "Feature" and track["geometry"]["type"] == "LineString"
    assert len(track["geometry"]["coordinates"]) == 7
    times = track["properties"]["times"]
    assert times[0] == "2026-05-01T08:00:00Z" and times[2] == "2026-05-01T08:00:20Z"
    assert times == sorted(times)

    watcher = await clients(hub_server, manager)
    snapshot = (await watcher.join(incident))["snapshot"]
    [snap_convoy] = snapshot["convoys"]
    assert snap_convoy["id"] == convoy["id"] and snap_convoy["route"] == ROUTE
    [vehicle] = snap_convoy["vehicles"]
    assert vehicle["id"] == vehicle_id and vehicle["label"] == "VIP 1"
    last = vehicle["last_position"]
    assert last["ts"] == "2026-05-01T08:01:00Z"
    assert (last["lon"], last["lat"]) == pytest.approx(along(ROUTE, 0.35))
