"""Live hub, real sockets and HTTP: trackers in, coalesced positions out, alerts as events."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from hub.client import HubClient
from hub.context import Hub
from hub.convoys.geo import line_length_m, point_along
from hub.convoys.pipeline import Fix, PositionPipeline, _sqlite_time
from hub.db import Database
from hub.realtime.notify import Notifier
from hub.settings import Settings
from models.base import UTCDateTime
from tests.conftest import Clients
from tests.live import ROOT, HubProcess, free_port
from tests.seed import Seeder, TestUser

# A short stretch of Rue de la Loi towards the summit venue (west-bound), lon/lat.
ROUTE: dict[str, Any] = {
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
    server: HubProcess, manager: TestUser, incident: str, *, route: dict[str, Any] | None = ROUTE
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
    route: dict[str, Any] | None = ROUTE,
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


def along(route: dict[str, Any], fraction: float) -> tuple[float, float]:
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


async def test_joins_share_a_snapshot_but_never_an_older_position(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    """Issue 18: joiners at one seq share one read of the snapshot, but a fix moves no seq,
    so a join right after a fix (within the shared snapshot's second) still has that fix."""
    manager, incident, _, _, key = await setup(hub_server, seed)
    watchers = [await clients(hub_server, manager) for _ in range(3)]
    lon, lat = along(ROUTE, 0.4)
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        assert (await aosmand(http, key, lat, lon, T0)).status_code == 200
        first = await watchers[0].join(incident)
        second = await watchers[1].join(incident)
        assert first["seq"] == second["seq"]
        assert first["snapshot"]["convoys"] == second["snapshot"]["convoys"]
        lon2, lat2 = along(ROUTE, 0.45)
        moved_at = T0 + timedelta(seconds=5)
        assert (await aosmand(http, key, lat2, lon2, moved_at)).status_code == 200
        # the fix's convoy.positions reaches the joined watchers...
        for _ in range(100):
            if watchers[0].positions:
                break
            await asyncio.sleep(0.05)
        assert watchers[0].positions
        third = await watchers[2].join(incident)
    # ...and a join after it, at the same seq, reads the moved vehicle, not the shared copy
    assert third["seq"] == first["seq"]
    [vehicle] = third["snapshot"]["convoys"][0]["vehicles"]
    assert vehicle["last_position"]["ts"] == "2026-05-01T08:00:05Z"
    assert (vehicle["last_position"]["lon"], vehicle["last_position"]["lat"]) == pytest.approx(
        (lon2, lat2)
    )


async def test_many_fixes_become_few_messages_and_the_latest_wins(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    contributor = await seed.user("driver")
    manager, incident, convoy, first_vehicle, _ = await setup(
        hub_server, seed, members={contributor: "contributor"}
    )
    vehicles = [first_vehicle]
    for label in ("Escort 1", "Escort 2"):
        vehicles.append((await make_vehicle(hub_server, manager, incident, convoy["id"], label))[0])
    watcher = await clients(hub_server, manager)
    await watcher.join(incident)
    app = await clients(hub_server, contributor)
    steps = 40

    async def drive(vehicle_id: str, offset_m: float) -> None:
        for step in range(steps):
            lon, lat, heading = point_along(ROUTE["coordinates"], offset_m + 20 * step)
            await app.request(
                "position.report",
                {
                    "incident_id": incident,
                    "vehicle_id": vehicle_id,
                    "lat": lat,
                    "lon": lon,
                    "ts": (T0 + timedelta(seconds=2 * step)).isoformat(),
                    "speed": 10,
                    "heading": heading,
                },
            )

    await asyncio.gather(*(drive(v, 40 * n) for n, v in enumerate(vehicles)))
    final_ts = "2026-05-01T08:01:18Z"
    latest: dict[str, dict[str, Any]] = {}
    for _ in range(200):
        latest = {}
        for message in watcher.positions:
            for position in message["positions"]:
                latest[position["vehicle_id"]] = position
        if len(latest) == 3 and all(p["ts"] == final_ts for p in latest.values()):
            break
        await asyncio.sleep(0.05)
    assert {v: p["ts"] for v, p in latest.items()} == {v: final_ts for v in vehicles}
    messages = watcher.positions
    # 120 fixes, far fewer messages: each carries one latest position per vehicle that moved.
    assert len(messages) < 3 * steps / 3
    for message in messages:
        assert message["incident_id"] == incident
        ids = [p["vehicle_id"] for p in message["positions"]]
        assert len(ids) == len(set(ids)) and set(ids) <= set(vehicles)
        for position in message["positions"]:
            assert position["convoy_id"] == convoy["id"] and position["speed"] == 10
    for vehicle_id in vehicles:  # never a step back in time for a vehicle
        times = [p["ts"] for m in messages for p in m["positions"] if p["vehicle_id"] == vehicle_id]
        assert times == sorted(times)
    lon, lat, _ = point_along(ROUTE["coordinates"], 20 * (steps - 1))
    assert (latest[first_vehicle]["lon"], latest[first_vehicle]["lat"]) == pytest.approx((lon, lat))


# alerts -----------------------------------------------------------------------------------------


async def test_scripted_drive_raises_enter_exit_off_route_and_stopped(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    manager, incident, convoy, vehicle_id, key = await setup(hub_server, seed)
    watcher = await clients(hub_server, manager)
    await watcher.join(incident)
    anchor = (
        await watcher.request(
            "anchor.create",
            {
                "incident_id": incident,
                "client_id": str(uuid.uuid4()),
                "kind": "exclusion_zone",
                "label": "Red zone Justus Lipsius",
                "geometry": ZONE,
            },
        )
    )["anchor"]
    # A point anchor with a radius is a circular perimeter; this one is away from the route.
    await watcher.request(
        "anchor.create",
        {
            "incident_id": incident,
            "client_id": str(uuid.uuid4()),
            "kind": "dissuasion_zone",
            "label": "Far away",
            "geometry": {"type": "Point", "coordinates": [4.40, 50.86]},
            "properties": {"radius_m": 200},
        },
    )
    script: list[tuple[float, float, int]] = []  # lon, lat, seconds after T0
    for n, fraction in enumerate((0.0, 0.25, 0.5, 0.65, 0.8)):
        script.append((*along(ROUTE, fraction), 10 * n))
    lon, lat = along(ROUTE, 0.9)
    script.append((lon, lat + 0.0027, 60))  # 300 m north of the route
    end_lon, end_lat = along(ROUTE, 1.0)
    script += [(end_lon, end_lat, 70), (end_lon, end_lat + 0.00005, 130), (end_lon, end_lat, 200)]
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        for lon, lat, seconds in script:
            response = await aosmand(http, key, lat, lon, T0 + timedelta(seconds=seconds), speed=20)
            assert response.status_code == 200, response.text

    alerts = await wait_for_alerts(watcher, incident, 4)
    assert [a["alert"] for a in alerts] == ["enter", "exit", "off_route", "stopped"]
    enter, exit_, off_route, stopped = alerts
    assert enter["anchor_id"] == exit_["anchor_id"] == anchor["id"]
    assert enter["anchor_kind"] == "exclusion_zone"
    assert enter["ts"] == "2026-05-01T08:00:30Z" and exit_["ts"] == "2026-05-01T08:00:40Z"
    for alert in alerts:
        assert alert["vehicle_id"] == vehicle_id and alert["convoy_id"] == convoy["id"]
        assert alert["eta_s"] is not None
    assert enter["eta_s"] > exit_["eta_s"] > stopped["eta_s"] >= 0
    assert 200 < off_route["distance_m"] < 400
    assert stopped["ts"] == "2026-05-01T08:03:20Z"
    events = [e for e in watcher.incidents[incident].events if e["type"] == "convoy.alert"]
    assert events[0]["actor"]["id"] == "geotool"
    # Sequenced: a late joiner replays them from the log.
    replay = await watcher.call("incident.join", {"incident_id": incident, "since": 0})
    assert [e["data"]["alert"] for e in replay["events"] if e["type"] == "convoy.alert"] == [
        "enter",
        "exit",
        "off_route",
        "stopped",
    ]


async def test_a_page_opened_late_reads_the_latest_vehicle_alerts_from_the_log(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    viewer, outsider = await seed.user("viewer"), await seed.user("outsider")
    manager, incident, convoy, vehicle_id, key = await setup(
        hub_server, seed, members={viewer: "viewer"}
    )
    watcher = await clients(hub_server, manager)
    await watcher.join(incident)
    await watcher.request(
        "anchor.create",
        {
            "incident_id": incident,
            "client_id": str(uuid.uuid4()),
            "kind": "exclusion_zone",
            "label": "Red zone",
            "geometry": ZONE,
        },
    )
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        for n, fraction in enumerate((0.0, 0.65, 0.8)):  # into the zone and out of it
            lon, lat = along(ROUTE, fraction)
            response = await aosmand(http, key, lat, lon, T0 + timedelta(seconds=10 * n))
            assert response.status_code == 200, response.text
        # Feed entries between them are not vehicle alerts.
        posted = await http.post(
            f"/api/incidents/{incident}/feed",
            headers=bearer(manager),
            json={"client_id": str(uuid.uuid4()), "text": "Motorcade through the red zone"},
        )
        assert posted.status_code == 201, posted.text
        lon, lat = along(ROUTE, 0.9)
        response = await aosmand(http, key, lat + 0.0027, lon, T0 + timedelta(seconds=40))
        assert response.status_code == 200, response.text
    await wait_for_alerts(watcher, incident, 3)
    live = [e for e in watcher.incidents[incident].events if e["type"] == "convoy.alert"]

    url = f"{hub_server.url}/api/incidents/{incident}/convoy-alerts"
    async with httpx.AsyncClient(headers=bearer(viewer), timeout=10) as http:
        answer = (await http.get(url)).json()
        assert [e["data"]["alert"] for e in answer["events"]] == ["enter", "exit", "off_route"]
        assert answer["events"] == live  # the envelopes as they were broadcast, in seq order
        assert answer["seq"] >= live[-1]["seq"]
        assert answer["events"][0]["data"]["vehicle_id"] == vehicle_id
        assert answer["events"][0]["data"]["convoy_id"] == convoy["id"]
        latest = (await http.get(url, params={"limit": 2})).json()["events"]
        assert [e["data"]["alert"] for e in latest] == ["exit", "off_route"]
        refused = await http.get(url, params={"limit": 201})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid"
    async with httpx.AsyncClient(headers=bearer(outsider), timeout=10) as http:
        stranger = await http.get(url)
        assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "forbidden"


async def test_silent_tracker_raises_one_alert(
    database_url: str, logs: Path, seed: Seeder, clients: Clients
) -> None:
    server = HubProcess(
        database_url, log_dir=logs, silent_after_s=1, silent_check_interval_s=0.2
    ).start()
    try:
        manager, incident, _, vehicle_id, key = await setup(server, seed)
        watcher = await clients(server, manager)
        await watcher.join(incident)
        lon, lat = along(ROUTE, 0.5)
        assert osmand(server, key, lat, lon, int(T0.timestamp())) == 200
        [silent] = await wait_for_alerts(watcher, incident, 1)
        assert silent["alert"] == "silent" and silent["vehicle_id"] == vehicle_id
        assert silent["ts"] == "2026-05-01T08:00:00Z" and silent["silent_s"] >= 1
        # It speaks again: the next silence is news again, not before.
        assert osmand(server, key, lat, lon, int(T0.timestamp()) + 5) == 200
        alerts = await wait_for_alerts(watcher, incident, 2)
        assert [a["alert"] for a in alerts] == ["silent", "silent"]
    finally:
        server.stop()


# hostile and malformed ------------------------------------------------------------------------


async def test_malformed_and_hostile_fixes_are_refused_and_nothing_breaks(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    viewer = await seed.user("viewer")
    manager, incident, convoy, vehicle_id, key = await setup(
        hub_server, seed, members={viewer: "viewer"}
    )
    now = int(datetime.now(UTC).timestamp())
    lon, lat = along(ROUTE, 0.1)
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        bad: list[dict[str, str | int | float]] = [
            {"id": key, "lat": 91, "lon": lon, "timestamp": now},
            {"id": key, "lat": lat, "lon": -181, "timestamp": now},
            {"id": key, "lat": "nan", "lon": lon, "timestamp": now},
            {"id": key, "lat": "north", "lon": lon, "timestamp": now},
            {"id": key, "lon": lon, "timestamp": now},
            {"id": key, "lat": lat, "lon": lon, "timestamp": "yesterday"},
            {"id": key, "lat": lat, "lon": lon, "timestamp": "0"},
            {"id": key, "lat": lat, "lon": lon, "timestamp": now + 86_400},
            {"id": key, "lat": lat, "lon": lon, "timestamp": "1e400"},
            {"id": key, "lat": lat, "lon": lon, "timestamp": now, "speed": "-3"},
            {"id": key, "lat": lat, "lon": lon, "timestamp": now, "bearing": "400"},
            {"id": key, "lat": lat, "lon": lon, "timestamp": now, "speed": "fast"},
            {"lat": lat, "lon": lon, "timestamp": now},
        ]
        for params in bad:
            response = await http.get("/ingest/osmand", params=params)
            assert response.status_code == 400, (params, response.text)
            assert response.json()["error"]["code"] == "invalid"
        unknown = await http.get(
            "/ingest/osmand", params={"id": "x" * 30, "lat": lat, "lon": lon, "timestamp": now}
        )
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
        huge = await http.post("/ingest/osmand", content=b"id=" + b"A" * 200_000)
        assert huge.status_code == 413
        not_form = await http.post("/ingest/osmand", content=b"\xff\xfe\x00garbage")
        assert not_form.status_code in (400, 404)

        # A good fix, then the same again (a retry), an older one and a teleport.
        assert (await aosmand(http, key, lat, lon, T0)).json() == {}
        assert (await aosmand(http, key, lat, lon, T0)).json() == {"duplicate": True}
        older_lon, older_lat = along(ROUTE, 0.05)
        earlier = T0 - timedelta(seconds=30)
        assert (await aosmand(http, key, older_lat, older_lon, earlier)).json() == {}
        jump = await aosmand(http, key, 50.0, 5.0, T0 + timedelta(seconds=10))
        assert jump.status_code == 200 and "km/h" in jump.json()["flagged"]

        track = (
            await http.get(f"/api/vehicles/{vehicle_id}/track", headers=bearer(manager))
        ).json()
        assert track["properties"]["times"] == ["2026-05-01T07:59:30Z", "2026-05-01T08:00:00Z"]

    ack_client = await clients(hub_server, manager)
    snapshot = (await ack_client.join(incident))["snapshot"]
    last = snapshot["convoys"][0]["vehicles"][0]["last_position"]
    assert last["ts"] == "2026-05-01T08:00:00Z" and last["lat"] == pytest.approx(lat)

    report = {"incident_id": incident, "vehicle_id": vehicle_id, "lat": lat, "lon": lon}
    for payload, code in (
        ({**report, "lat": 500}, "invalid"),
        ({**report, "ts": "garbage"}, "invalid"),
        ({**report, "speed": 1e9}, "invalid"),
        ({**report, "extra": 1}, "invalid"),
        ({**report, "vehicle_id": "nope"}, "not_found"),
        ({**report, "incident_id": "nope"}, "not_found"),
    ):
        ack = await ack_client.call("position.report", payload)
        assert ack["ok"] is False and ack["error"]["code"] == code, (payload, ack)
    assert (await ack_client.call("position.report", "not an object"))["error"]["code"] == "invalid"
    viewer_client = await clients(hub_server, viewer)
    ack = await viewer_client.call("position.report", report)
    assert ack["error"]["code"] == "forbidden"
    # The pipeline still works after all that.
    ok = await ack_client.call(
        "position.report", {**report, "ts": (T0 + timedelta(seconds=20)).isoformat()}
    )
    assert ok == {"ok": True}

    # Hostile XML: entities, junk, and oversized uploads never reach the pipeline.
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&lol2;</name></trk></gpx>'
    )
    async with httpx.AsyncClient(
        base_url=hub_server.url, headers=bearer(manager), timeout=30
    ) as http:
        upload = f"/api/vehicles/{vehicle_id}/track"
        for body, status in (
            (bomb, 400),
            (b"<gpx><trk>", 400),
            (b"not xml at all", 400),
            (b"<kml/>", 400),
            (b"<gpx>" + b" " * 6_000_000 + b"</gpx>", 413),
        ):
            response = await http.post(upload, content=body)
            assert response.status_code == status, (body[:40], response.text)
        route = f"/api/incidents/{incident}/convoys/{convoy['id']}/route"
        assert (await http.put(route, content=bomb)).status_code == 400
        one_point = b'<gpx><rte><rtept lat="50.8" lon="4.3"/></rte></gpx>'
        assert (await http.put(route, content=one_point)).status_code == 400
        outside = b'<gpx><rte><rtept lat="95" lon="4.3"/><rtept lat="50" lon="4"/></rte></gpx>'
        assert (await http.put(route, content=outside)).status_code == 400


async def test_duplicates_in_and_across_batches_are_reported_and_change_nothing(
    hub_server: HubProcess, seed: Seeder, database_url: str
) -> None:
    """The pipeline in-process on the same database: a fix sent twice in one batch, again in a
    later batch (when the batch skips the look-up, and when it makes it), or again with other
    coordinates, is stored once, acknowledged as a duplicate and moves nothing."""
    _, incident, _, vehicle_id, _ = await setup(hub_server, seed)
    hub = Hub(
        settings=Settings(environment="test", database_url=database_url),
        db=Database(database_url),
        notifier=Notifier(None),
    )
    pipeline = PositionPipeline(hub)
    await pipeline.start()

    def fix(seconds: int, fraction: float) -> Fix:
        lon, lat = along(ROUTE, fraction)
        ts = T0 + timedelta(hours=1, seconds=seconds, microseconds=250 * seconds)
        return Fix(vehicle_id, incident, lat, lon, ts, datetime.now(UTC), 10.0)

    first, second, third, fourth = fix(0, 0.1), fix(5, 0.12), fix(10, 0.14), fix(15, 0.16)
    new: dict[str, bool] = {}
    duplicate = {"duplicate": True}

    async def ingest(*fixes: Fix) -> list[dict[str, Any]]:
        return [outcome.ack() for outcome in await pipeline.ingest_many(list(fixes))]

    try:
        assert await ingest(first, second, first) == [new, new, duplicate]
        assert await ingest(second, third) == [duplicate, new]
        assert await ingest(fourth, first) == [new, duplicate]
        assert await ingest(fix(20, 0.18)) == [new]
        # The same time again from elsewhere: a duplicate, so the last position stays.
        moved = replace(fix(20, 0.18), lat=50.9, lon=4.5)
        assert await ingest(moved) == [duplicate]
        async with hub.db.read() as session:
            rows = (
                await session.execute(
                    text("SELECT ts FROM position WHERE vehicle_id = :v ORDER BY ts"),
                    {"v": vehicle_id},
                )
            ).all()
            last_lat = (
                await session.execute(
                    text("SELECT last_lat FROM vehicle WHERE id = :v"), {"v": vehicle_id}
                )
            ).scalar_one()
    finally:
        await pipeline.close()
        await hub.db.dispose()
    assert len(rows) == 5
    assert last_lat == pytest.approx(along(ROUTE, 0.18)[1])
    if hub.db.is_sqlite:
        # Stored as the ORM stores times, or the unique (vehicle, ts) index would miss
        # duplicates between the two.
        assert rows[0][0] == "2026-05-01 09:00:00.000000"
        assert rows[1][0] == "2026-05-01 09:00:05.001250"


def test_times_are_stored_as_sqlalchemy_stores_them_on_sqlite() -> None:
    dialect = sqlite.dialect()
    bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert bind is not None
    brussels = timezone(timedelta(hours=2))
    for value in (
        datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 24, 10, 0, 1, 7, tzinfo=UTC),
        datetime(2000, 1, 1, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 5, 1, 10, 0, 0, 500_000, tzinfo=brussels),
    ):
        assert _sqlite_time(value) == bind(value)


# files ------------------------------------------------------------------------------------------


async def test_gpx_round_trip_and_kml_route_import(hub_server: HubProcess, seed: Seeder) -> None:
    manager, incident, convoy, vehicle_id, _ = await setup(hub_server, seed)
    second_id, _ = await make_vehicle(hub_server, manager, incident, convoy["id"], "Escort")
    points = [(*along(ROUTE, n / 10), T0 + timedelta(seconds=15 * n)) for n in range(11)]
    gpx = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<gpx version="1.1" creator="OsmAnd" xmlns="http://www.topografix.com/GPX/1/1">'
        "<trk><name>rehearsal</name><trkseg>"
        + "".join(
            f'<trkpt lat="{lat}" lon="{lon}"><ele>60</ele><time>{ts.isoformat()}</time></trkpt>'
            for lon, lat, ts in points
        )
        + "</trkseg></trk></gpx>"
    )
    base = f"/api/incidents/{incident}/convoys/{convoy['id']}"
    async with httpx.AsyncClient(
        base_url=hub_server.url, headers=bearer(manager), timeout=10
    ) as http:
        stored = (await http.post(f"/api/vehicles/{vehicle_id}/track", content=gpx)).json()
        assert stored == {"received": 11, "stored": 11, "duplicates": 0, "flagged": 0}
        again = (await http.post(f"/api/vehicles/{vehicle_id}/track", content=gpx)).json()
        assert again["duplicates"] == 11

        exported = await http.get(base + "/tracks.gpx")
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("application/gpx+xml")
        # The export, uploaded for another vehicle, gives the same trail.
        replay = await http.post(f"/api/vehicles/{second_id}/track", content=exported.content)
        assert replay.json()["stored"] == 11
        first = (await http.get(f"/api/vehicles/{vehicle_id}/track")).json()
        second = (await http.get(f"/api/vehicles/{second_id}/track")).json()
        assert second["geometry"] == first["geometry"]
        assert second["properties"]["times"] == first["properties"]["times"]
        assert first["geometry"]["coordinates"] == [
            pytest.approx([lon, lat]) for lon, lat, _ in points
        ]
        window = await http.get(
            f"/api/vehicles/{vehicle_id}/track",
            params={"from": "2026-05-01T08:00:30Z", "to": str(int(T0.timestamp()) + 60)},
        )
        assert window.json()["properties"]["times"] == [
            "2026-05-01T08:00:30Z",
            "2026-05-01T08:00:45Z",
            "2026-05-01T08:01:00Z",
        ]
        assert (
            await http.get(f"/api/vehicles/{vehicle_id}/track", params={"from": "soon"})
        ).status_code == 400

        kml = await http.get(base + "/tracks.kml")
        assert kml.status_code == 200 and b"<gx:Track>" in kml.content
        # The planned route survives a KML round trip (its LineString comes first).
        new_route = {"type": "LineString", "coordinates": [[4.37, 50.84], [4.38, 50.845]]}
        patched = await http.patch(base, json={"route": new_route})
        assert patched.status_code == 200, patched.text
        kml_doc = (await http.get(base + "/tracks.kml")).content
        await http.patch(base, json={"route": ROUTE})
        imported = await http.put(base + "/route", content=kml_doc)
        assert imported.status_code == 200, imported.text
        assert imported.json()["convoy"]["route"] == new_route
        rte = (
            b'<gpx xmlns="http://www.topografix.com/GPX/1/0"><rte>'
            b'<rtept lat="50.8986" lon="4.4846"/><rtept lat="50.8420" lon="4.3808"/></rte></gpx>'
        )
        imported = (await http.put(base + "/route", content=rte)).json()["convoy"]
        assert imported["route"]["coordinates"] == [[4.4846, 50.8986], [4.3808, 50.842]]
        assert imported["destination"] == {"type": "Point", "coordinates": [4.3808, 50.842]}
        convoys = (await http.get(f"/api/incidents/{incident}/convoys")).json()["convoys"]
        assert [c["route"] for c in convoys] == [imported["route"]]

        spec = (await http.get("/api/openapi.json")).json()
        assert "/api/vehicles/{vehicle_id}/track" in spec["paths"]
        assert "put" in spec["paths"]["/api/incidents/{incident_id}/convoys/{convoy_id}/route"]


async def test_only_managers_register_devices_and_members_read_tracks(
    hub_server: HubProcess, seed: Seeder
) -> None:
    contributor, outsider = await seed.user("contrib"), await seed.user("outsider")
    manager, incident, convoy, vehicle_id, _ = await setup(
        hub_server, seed, members={contributor: "contributor"}
    )
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        base = f"/api/incidents/{incident}/convoys"
        added = await http.post(
            f"{base}/{convoy['id']}/vehicles", json={"label": "X"}, headers=bearer(contributor)
        )
        assert added.status_code == 403
        made = await http.post(base, json={"name": "Y"}, headers=bearer(contributor))
        assert made.status_code == 403
        twice = await http.post(base, json={"name": convoy["name"]}, headers=bearer(manager))
        assert twice.status_code == 409
        hidden = await http.get(f"/api/vehicles/{vehicle_id}/track", headers=bearer(outsider))
        assert hidden.status_code == 404
        listed = await http.get(base, headers=bearer(outsider))
        assert listed.status_code == 403
        seen = await http.get(f"/api/vehicles/{vehicle_id}/track", headers=bearer(contributor))
        assert seen.status_code == 200


# the command line -----------------------------------------------------------------------------


def test_device_add_prints_a_key_that_the_ingest_endpoint_accepts(
    hub_server: HubProcess, database_url: str
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "hub", *args], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    incident = cli("incident", "create", "Device test", "--kind", "exercise")
    key = cli("device", "add", incident, "Escort 2", "--convoy", "Motorcade B")
    assert len(key) >= 16
    second = cli("device", "add", incident, "Escort 3", "--convoy", "Motorcade B")
    assert second != key
    lon, lat = along(ROUTE, 0.5)
    assert osmand(hub_server, key, lat, lon, int(T0.timestamp())) == 200
    failed = subprocess.run(
        [sys.executable, "-m", "hub", "device", "add", "nope", "X"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert failed.returncode != 0 and "not_found" in failed.stderr


async def test_demo_starts_and_its_motorcade_moves_and_alerts(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "demo.db"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    demo = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "demo",
        "--port",
        str(port),
        "--db",
        str(db),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert demo.stdout is not None
        printed: list[str] = []
        for _ in range(50):
            line = (await asyncio.wait_for(demo.stdout.readline(), 60)).decode()
            printed.append(line)
            if line.startswith("Open http") or not line:
                break
        assert printed[-1].strip() == f"Open http://127.0.0.1:{port}", printed
        assert any("monitor" in line and "manager" in line for line in printed)
        made = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hub",
            "token",
            "create",
            "monitor",
            env={**env, "DATABASE_URL": f"sqlite:///{db}"},
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        token = (await made.communicate())[0].decode().strip().splitlines()[-1]
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"authorization": f"Bearer {token}"},
            timeout=10,
        ) as http:
            for _ in range(100):
                try:
                    listed = await http.get("/api/incidents")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            [summit] = [i for i in listed.json()["incidents"] if i["title"] == "Summit Brussels"]
            # BE-Alert: registrations to count and a drafted alert on the red and orange zones
            [draft] = (await http.get(f"/api/incidents/{summit['id']}/alerts")).json()["alerts"]
            assert draft["state"] == "draft" and len(draft["area"]["anchor_ids"]) == 2
            assert draft["estimate"]["registrations"] > 0
            assert set(draft["info"]) == {"fr", "nl", "de", "en"}
            # The demo's base map, written beside its database: the summit's streets.
            streets = await http.get("/basemap.pmtiles", headers={"Range": "bytes=0-6"})
            assert streets.status_code == 206 and streets.content == b"PMTiles"
        client = HubClient(f"http://127.0.0.1:{port}", token)
        await client.connect()
        try:
            snapshot = (await client.join(summit["id"]))["snapshot"]
            kinds = {f["properties"]["kind"] for f in snapshot["anchors"]["features"]}
            assert {"exclusion_zone", "isolation_zone", "dissuasion_zone"} <= kinds
            [motorcade] = snapshot["convoys"]
            assert len(motorcade["vehicles"]) == 4
            for _ in range(400):
                if client.positions:
                    break
                await asyncio.sleep(0.05)
            assert client.positions and client.positions[0]["incident_id"] == summit["id"]
            # The follow car strays off the route early in the drive.
            alerts = await wait_for_alerts(client, summit["id"], 1, attempts=1800)
            assert alerts[0]["alert"] == "off_route" and alerts[0]["convoy_id"] == motorcade["id"]
        finally:
            await client.close()
    finally:
        demo.terminate()
        try:
            await asyncio.wait_for(demo.wait(), 15)
        except TimeoutError:
            demo.kill()
            await demo.wait()
