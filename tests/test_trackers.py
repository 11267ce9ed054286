"""Live hub, real HTTP: tracks that survive a wild fix, Traccar Client 9's JSON body on
/ingest/osmand, and OwnTracks' HTTP mode on /ingest/owntracks (issue 17)."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub.client import HubClient
from hub.context import Hub
from hub.convoys.geo import move
from hub.convoys.pipeline import Fix, PositionPipeline
from hub.db import Database
from hub.realtime.notify import Notifier
from hub.settings import Settings
from models.base import iso
from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder
from tests.test_convoys import ROUTE, ZONE, along, aosmand, bearer, make_vehicle, setup

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def hub_server(database_url: str, logs: Path) -> Iterator[HubProcess]:
    # No tracker should fall silent mid-test: silence is tested in test_convoys.
    server = HubProcess(database_url, log_dir=logs, silent_after_s=3600).start()
    yield server
    server.stop()


def east(lon: float, lat: float, metres: float) -> tuple[float, float]:
    """(lon, lat) so many metres east of (lon, lat)."""
    return move(lon, lat, 90, metres)


async def trail(server: HubProcess, manager: Any, vehicle_id: str) -> list[str]:
    """The vehicle's trail (its accepted fixes) as the API gives it: their times."""
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(manager)) as http:
        response = await http.get(f"/api/vehicles/{vehicle_id}/track")
    assert response.status_code == 200, response.text
    times: list[str] = response.json()["properties"]["times"]
    return times


async def stored(seed: Seeder, vehicle_id: str) -> list[tuple[str, bool, str | None]]:
    """Every stored fix of the vehicle: (time, flagged, reason), in device-time order."""
    async with seed.hub.db.read() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT ts, flagged, flag_reason FROM position WHERE vehicle_id = :v"
                    " ORDER BY ts"
                ),
                {"v": vehicle_id},
            )
        ).all()
    return [(_iso(ts), bool(flagged), reason) for ts, flagged, reason in rows]


def _iso(value: Any) -> str:
    if isinstance(value, str):  # SQLite's text
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert isinstance(value, datetime)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def z(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


async def broadcast_of(watcher: HubClient, vehicle_id: str, ts: datetime) -> dict[str, Any]:
    """The vehicle's position in convoy.positions once one with time `ts` has arrived."""
    for _ in range(200):
        for message in reversed(watcher.positions):
            for position in message["positions"]:
                if position["vehicle_id"] == vehicle_id and position["ts"] == iso(ts):
                    return dict(position)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no convoy.positions at {iso(ts)}: {watcher.positions}")


def broadcast_times(watcher: HubClient, vehicle_id: str) -> list[str]:
    return [
        p["ts"] for m in watcher.positions for p in m["positions"] if p["vehicle_id"] == vehicle_id
    ]


async def last_position(watcher: HubClient, incident: str, vehicle_id: str) -> dict[str, Any]:
    snapshot = (await watcher.call("incident.join", {"incident_id": incident}))["snapshot"]
    for convoy in snapshot["convoys"]:
        for vehicle in convoy["vehicles"]:
            if vehicle["id"] == vehicle_id:
                return dict(vehicle["last_position"])
    raise AssertionError("no such vehicle in the snapshot")


# a wild fix must not hide a vehicle -------------------------------------------------------------


async def test_a_cold_start_fix_far_away_gives_way_to_the_good_fixes_that_follow(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    """A GPS cold start: the first fix is a cell-tower position 30 km off. The next fix is
    flagged (it disagrees with that one), the one after agrees with it: the track follows them
    at once, the first fix is flagged instead, and the perimeter the car is in raises its alert.
    (No planned route: the far fix would raise off_route before the hub knows better.)"""
    manager, incident, _, vehicle_id, key = await setup(hub_server, seed, route=None)
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
    lon, lat = along(ROUTE, 0.65)  # inside the zone
    far_lon, far_lat = east(lon, lat, 30_000)
    t1, t2, t3 = T0, T0 + timedelta(seconds=5), T0 + timedelta(seconds=10)
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        assert (await aosmand(http, key, far_lat, far_lon, t1)).json() == {}
        flagged = (await aosmand(http, key, lat, lon, t2)).json()
        assert "km/h" in flagged["flagged"]
        lon3, lat3 = east(lon, lat, 20)
        assert (await aosmand(http, key, lat3, lon3, t3)).json() == {}

    position = await broadcast_of(watcher, vehicle_id, t3)
    assert (position["lon"], position["lat"]) == pytest.approx((lon3, lat3))
    assert (await last_position(watcher, incident, vehicle_id))["ts"] == z(t3)
    assert await trail(hub_server, manager, vehicle_id) == [z(t2), z(t3)]
    rows = await stored(seed, vehicle_id)
    assert [(ts, flag) for ts, flag, _ in rows] == [(z(t1), True), (z(t2), False), (z(t3), False)]
    assert rows[0][2] == "disagrees with the 2 fixes that followed it"
    # The alert rules saw the car where it is: it entered the zone at the first good fix.
    for _ in range(200):
        alerts = [
            e["data"] for e in watcher.incidents[incident].events if e["type"] == "convoy.alert"
        ]
        if alerts:
            break
        await asyncio.sleep(0.05)
    assert [(a["alert"], a["ts"]) for a in alerts] == [("enter", z(t2))]


async def test_a_tracker_switched_on_100_km_away_is_followed_at_once(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    """A tracker switched off, driven 100 km on a trailer, switched on again a minute of device
    time later: its new fixes agree with one another, so the track jumps to them on the second;
    the old track, confirmed by its own fixes, stays as it was."""
    manager, incident, _, vehicle_id, key = await setup(hub_server, seed)
    watcher = await clients(hub_server, manager)
    await watcher.join(incident)
    times = [T0 + timedelta(seconds=10 * n) for n in range(5)]
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        for n in range(3):
            lon, lat = along(ROUTE, 0.1 * n)
            assert (await aosmand(http, key, lat, lon, times[n], speed=20)).json() == {}
        far_lon, far_lat = east(*along(ROUTE, 0.2), 100_000)
        jump = await aosmand(http, key, far_lat, far_lon, times[3] + timedelta(minutes=1))
        assert "km/h" in jump.json()["flagged"]
        lon, lat = east(far_lon, far_lat, 150)
        moved = await aosmand(http, key, lat, lon, times[4] + timedelta(minutes=1), speed=15)
        assert moved.json() == {}
    after = times[4] + timedelta(minutes=1)
    position = await broadcast_of(watcher, vehicle_id, after)
    assert (position["lon"], position["lat"]) == pytest.approx((lon, lat))
    last = await last_position(watcher, incident, vehicle_id)
    assert last["ts"] == z(after) and last["lon"] == pytest.approx(lon)
    expected = [z(t) for t in times[:3]] + [z(times[3] + timedelta(minutes=1)), z(after)]
    assert await trail(hub_server, manager, vehicle_id) == expected
    assert not any(flag for _, flag, _ in await stored(seed, vehicle_id))


async def test_a_single_outlier_stays_flagged_and_never_reaches_the_map(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    manager, incident, _, vehicle_id, key = await setup(hub_server, seed)
    watcher = await clients(hub_server, manager)
    await watcher.join(incident)
    t = [T0 + timedelta(seconds=10 * n) for n in range(4)]
    g1, g2, g3 = along(ROUTE, 0.1), along(ROUTE, 0.2), along(ROUTE, 0.3)
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        assert (await aosmand(http, key, g1[1], g1[0], t[0])).json() == {}
        wild = east(*g1, 100_000)
        outlier = (await aosmand(http, key, wild[1], wild[0], t[1])).json()
        assert "km/h" in outlier["flagged"]
        assert (await aosmand(http, key, g2[1], g2[0], t[2])).json() == {}
        # Another wild fix at the same place later: a new outlier, not a confirmation.
        assert "km/h" in (await aosmand(http, key, wild[1], wild[0], t[3])).json()["flagged"]
        t4 = t[3] + timedelta(seconds=10)
        assert (await aosmand(http, key, g3[1], g3[0], t4)).json() == {}
    await broadcast_of(watcher, vehicle_id, t4)
    assert z(t[1]) not in broadcast_times(watcher, vehicle_id)
    assert z(t[3]) not in broadcast_times(watcher, vehicle_id)
    assert await trail(hub_server, manager, vehicle_id) == [z(t[0]), z(t[2]), z(t4)]
    flags = {ts: flag for ts, flag, _ in await stored(seed, vehicle_id)}
    assert flags == {z(t[0]): False, z(t[1]): True, z(t[2]): False, z(t[3]): True, z(t4): False}


async def test_fixes_after_a_jump_that_arrive_out_of_order_move_the_track_to_the_newest(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    manager, incident, _, vehicle_id, key = await setup(hub_server, seed)
    watcher = await clients(hub_server, manager)
    await watcher.join(incident)
    t = [T0 + timedelta(seconds=10 * n) for n in range(4)]
    g0, g1 = along(ROUTE, 0.0), along(ROUTE, 0.1)
    far = east(*g1, 50_000)
    farther = east(*far, 150)
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        assert (await aosmand(http, key, g0[1], g0[0], t[0])).json() == {}
        assert (await aosmand(http, key, g1[1], g1[0], t[1])).json() == {}
        # The newer of the two far fixes arrives first, then the older one.
        assert "flagged" in (await aosmand(http, key, farther[1], farther[0], t[3])).json()
        assert (await aosmand(http, key, far[1], far[0], t[2])).json() == {}
        # And a fix older than the whole jump is stored, not judged.
        assert (await aosmand(http, key, g0[1], g0[0], t[0] - timedelta(seconds=5))).json() == {}
    position = await broadcast_of(watcher, vehicle_id, t[3])
    assert (position["lon"], position["lat"]) == pytest.approx(farther)
    assert (await last_position(watcher, incident, vehicle_id))["ts"] == z(t[3])
    assert await trail(hub_server, manager, vehicle_id) == [
        z(t[0] - timedelta(seconds=5)),
        *(z(ts) for ts in t),
    ]


async def test_in_one_batch_each_vehicle_follows_its_own_fixes(
    hub_server: HubProcess, seed: Seeder, database_url: str
) -> None:
    """The pipeline in-process, on the hub's database: one batch holds a cold start (far
    first fix, then two good ones) for one vehicle and a lone outlier for another, interleaved.
    Each fix is acknowledged as it ends up stored, and each vehicle ends where its good fixes
    are."""
    manager, incident, convoy, cold, _ = await setup(hub_server, seed)
    steady, _ = await make_vehicle(hub_server, manager, incident, convoy["id"], "Escort")
    hub = Hub(
        settings=Settings(environment="test", database_url=database_url),
        db=Database(database_url),
        notifier=Notifier(None),
    )
    pipeline = PositionPipeline(hub)
    await pipeline.start()
    now = datetime.now(UTC)

    def fix(vehicle_id: str, seconds: int, where: tuple[float, float]) -> Fix:
        return Fix(vehicle_id, incident, where[1], where[0], T0 + timedelta(seconds=seconds), now)

    good = along(ROUTE, 0.4)
    try:
        outcomes = await pipeline.ingest_many(
            [
                fix(cold, 0, east(*good, -40_000)),
                fix(steady, 0, along(ROUTE, 0.1)),
                fix(cold, 5, good),
                fix(steady, 5, east(*along(ROUTE, 0.1), 80_000)),
                fix(cold, 10, east(*good, 30)),
                fix(steady, 10, along(ROUTE, 0.12)),
            ]
        )
        assert pipeline.batches == 1  # one batch, as the test means
        async with hub.db.read() as session:
            rows = await session.execute(
                text("SELECT id, last_lon FROM vehicle WHERE id IN (:a, :b)"),
                {"a": cold, "b": steady},
            )
            last: dict[str, float] = {row[0]: row[1] for row in rows}
    finally:
        await pipeline.close()
        await hub.db.dispose()
    acks = [outcome.ack() for outcome in outcomes]
    assert acks[0] == {"flagged": "disagrees with the 2 fixes that followed it"}
    assert acks[2] == acks[4] == acks[1] == acks[5] == {}
    assert "km/h" in acks[3]["flagged"]
    assert last[cold] == pytest.approx(east(*good, 30)[0])
    assert last[steady] == pytest.approx(along(ROUTE, 0.12)[0])
    assert [flag for _, flag, _ in await stored(seed, cold)] == [True, False, False]
    assert [flag for _, flag, _ in await stored(seed, steady)] == [False, True, False]
    assert await trail(hub_server, manager, cold) == [z(T0 + timedelta(seconds=s)) for s in (5, 10)]


# Traccar Client 9 and later: the JSON body on /ingest/osmand -------------------------------------

# Bodies exactly as the app sends them: traccar/traccar-client v9.7.20, lib/preferences.dart
# `_locationTemplate()` (rendered by flutter_background_geolocation, the "_" field included),
# POSTed with Content-Type application/json, one location per request, `device_id` added by
# the plugin from `http.params`. The three locations are the Traccar server's own test bodies
# (traccar/traccar src/test/java/org/traccar/protocol/OsmAndProtocolDecoderTest.java,
# testDecodeJson): Android's template, iOS (`mock`, `floor: null`, -1 for unknown speed,
# heading and battery) and an older plugin's field order with speed in m/s.
TRACCAR_ANDROID = (
    '{"location":{"timestamp":"2025-06-15T13:45:12.862Z","coords":{"latitude":37.4219983,'
    '"longitude":-122.084,"accuracy":5,"speed":0,"heading":-1,"altitude":5},"is_moving":false,'
    '"odometer":0,"event":"motionchange","battery":{"level":1,"is_charging":false},'
    '"activity":{"type":"still"},"extras":{},"_":"&id=48241179&lat=37.4219983&lon=-122.084'
    '&timestamp=2025-06-15T13:45:12.862Z&"},"device_id":"48241179"}'
)
TRACCAR_IOS = (
    '{"location":{"extras":{},"mock":true,"coords":{"speed_accuracy":-1,"speed":-1,'
    '"longitude":-122.406417,"ellipsoidal_altitude":0,"floor":null,"heading_accuracy":-1,'
    '"latitude":37.785834000000001,"accuracy":5,"altitude_accuracy":-1,"altitude":0,'
    '"heading":-1},"is_moving":false,"age":188,"odometer":0,'
    '"uuid":"2FB04C65-99CF-42AB-8DD3-EBCB4B108BF8","event":"motionchange",'
    '"battery":{"level":-1,"is_charging":false},"activity":{"type":"unknown","confidence":100},'
    '"timestamp":"2025-05-09T04:11:30.579Z"},"device_id":"658765"}'
)
TRACCAR_MOVING = (
    '{"location":{"event":"motionchange","is_moving":false,'
    '"uuid":"0e9a2473-a9a7-4c00-997b-fb97d2154e75","timestamp":"2021-07-21T08:06:34.444Z",'
    '"odometer":0,"coords":{"latitude":-6.1148096,"longitude":106.6837015,"accuracy":3.8,'
    '"speed":18.67,"speed_accuracy":0.26,"heading":63,"heading_accuracy":0.28,"altitude":35.7,'
    '"altitude_accuracy":3.8},"activity":{"type":"still","confidence":100},'
    '"battery":{"is_charging":false,"level":0.79},"extras":{}},"device_id":"8737767034"}'
)
JSON_HEADERS = {"content-type": "application/json"}


def with_key(body: str, key: str) -> bytes:
    """The app's body for the hub's device key (the app's "device identifier" setting)."""
    data = json.loads(body)
    data["device_id"] = key
    data["location"]["_"] = str(data["location"].get("_", "")).replace("48241179", key)
    return json.dumps(data).encode()


async def test_traccar_client_json_bodies_are_fixes_in_m_per_s(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    manager, incident, convoy, vehicle_id, key = await setup(hub_server, seed)
    watcher = await clients(hub_server, manager)
    await watcher.join(incident)
    # One vehicle per body: they are far apart, in three countries.
    keys = [key]
    for label in ("Android", "iOS"):
        keys.append((await make_vehicle(hub_server, manager, incident, convoy["id"], label))[1])
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        for body, device in zip((TRACCAR_MOVING, TRACCAR_ANDROID, TRACCAR_IOS), keys, strict=True):
            response = await http.post(
                "/ingest/osmand", content=with_key(body, device), headers=JSON_HEADERS
            )
            assert response.status_code == 200, response.text
            assert response.json() == {}
            # The same fix again (the app resends when it saw no answer): a duplicate.
            again = await http.post(
                "/ingest/osmand",
                content=with_key(body, device),
                headers={"content-type": "application/json; charset=utf-8"},
            )
            assert again.json() == {"duplicate": True}
    fixed_at = datetime(2021, 7, 21, 8, 6, 34, 444_000, tzinfo=UTC)
    moving = await broadcast_of(watcher, vehicle_id, fixed_at)
    # m/s as sent (no knots conversion), heading and accuracy kept.
    assert moving["speed"] == pytest.approx(18.67)
    assert moving["heading"] == 63 and moving["accuracy"] == pytest.approx(3.8)
    assert (moving["lat"], moving["lon"]) == pytest.approx((-6.1148096, 106.6837015))
    snapshot = (await watcher.call("incident.join", {"incident_id": incident}))["snapshot"]
    by_label = {v["label"]: v["last_position"] for v in snapshot["convoys"][0]["vehicles"]}
    # -1 is the platform's "unknown": no speed, no heading rather than a refusal.
    assert by_label["iOS"]["speed"] is None and by_label["iOS"]["heading"] is None
    assert by_label["iOS"]["ts"] == "2025-05-09T04:11:30.579000Z"
    assert by_label["Android"]["speed"] == 0 and by_label["Android"]["heading"] is None
    assert await trail(hub_server, manager, vehicle_id) == ["2021-07-21T08:06:34.444000Z"]


async def test_malformed_traccar_json_is_refused_and_writes_nothing(
    hub_server: HubProcess, seed: Seeder
) -> None:
    manager, incident, convoy, vehicle_id, key = await setup(hub_server, seed)
    other_id, other_key = await make_vehicle(hub_server, manager, incident, convoy["id"], "B")
    good = json.loads(with_key(TRACCAR_MOVING, key))

    def changed(**location: Any) -> bytes:
        body = json.loads(json.dumps(good))
        body["location"].update(location)
        return json.dumps(body).encode()

    def coords(**values: Any) -> bytes:
        body = json.loads(json.dumps(good))
        body["location"]["coords"].update(values)
        return json.dumps(body).encode()

    deep: Any = {}
    for _ in range(40):
        deep = {"x": deep}
    no_coords = json.loads(json.dumps(good))
    del no_coords["location"]["coords"]
    no_key = json.loads(json.dumps(good))
    del no_key["device_id"]
    cases: list[tuple[bytes, int, str]] = [
        (b"not json", 400, "invalid"),
        (b'{"location": ', 400, "invalid"),
        (b"", 400, "invalid"),
        (json.dumps([good]).encode(), 400, "invalid"),  # the app never batches
        (json.dumps(no_coords).encode(), 400, "invalid"),
        (json.dumps(no_key).encode(), 400, "invalid"),
        (coords(latitude=91), 400, "invalid"),
        (coords(longitude=-181), 400, "invalid"),
        (coords(latitude="-6.11"), 400, "invalid"),  # strict: a string is no latitude
        (coords(speed=-3), 400, "invalid"),
        (coords(heading=400), 400, "invalid"),
        (coords(speed=True), 400, "invalid"),
        (changed(timestamp="yesterday"), 400, "invalid"),
        (changed(timestamp=1626854794), 400, "invalid"),  # the app sends ISO 8601 text
        (changed(is_moving="no"), 400, "invalid"),
        (changed(battery={"level": "full"}), 400, "invalid"),
        (changed(extras=deep), 400, "invalid"),
        (changed(event="motion\x00change"), 400, "invalid"),
        (with_key(TRACCAR_MOVING, key).replace(b"18.67", b"NaN"), 400, "invalid"),
        (with_key(TRACCAR_MOVING, key).replace(b"18.67", b"1e400"), 400, "invalid"),
        (changed(extras={"pad": "x" * 20_000}), 413, "too_large"),
        (with_key(TRACCAR_MOVING, "x" * 30), 404, "not_found"),
        (with_key(TRACCAR_MOVING, "x" * 300), 404, "not_found"),
    ]
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        for body, status, code in cases:
            response = await http.post("/ingest/osmand", content=body, headers=JSON_HEADERS)
            assert response.status_code == status, (body[:120], response.text)
            assert response.json()["error"]["code"] == code, body[:120]
        # Nothing was written; the other device and this one still work.
        assert await stored(seed, vehicle_id) == []
        response = await http.post(
            "/ingest/osmand", content=with_key(TRACCAR_ANDROID, other_key), headers=JSON_HEADERS
        )
        assert response.json() == {}
        ok = await http.post(
            "/ingest/osmand", content=with_key(TRACCAR_MOVING, key), headers=JSON_HEADERS
        )
        assert ok.json() == {}
    assert len(await stored(seed, vehicle_id)) == 1
    assert len(await stored(seed, other_id)) == 1


# OwnTracks in HTTP mode ------------------------------------------------------------------------


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorization": f"Basic {token}", "content-type": "application/json"}


# A location as the OwnTracks iOS app POSTs it (owntracks/booklet docs/features/traccar.md,
# "an HTTP payload that an OwnTracks app produces"), moved to Brussels and to now.
def owntracks_location(lon: float, lat: float, tst: int) -> dict[str, Any]:
    return {
        "cog": 271,
        "batt": 41,
        "lon": lon,
        "acc": 5,
        "vel": 61,
        "vac": 21,
        "lat": lat,
        "t": "u",
        "tst": tst,
        "alt": 167,
        "_type": "location",
        "topic": "owntracks/jane/iphone",
        "p": 71,
        "tid": "JJ",
    }


async def test_owntracks_locations_are_stored_and_answered_with_an_array(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    manager, incident, _, vehicle_id, key = await setup(hub_server, seed)
    watcher = await clients(hub_server, manager)
    await watcher.join(incident)
    lon, lat = along(ROUTE, 0.3)
    tst = int(T0.timestamp())
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        response = await http.post(
            "/ingest/owntracks",
            content=json.dumps(owntracks_location(lon, lat, tst)),
            headers=basic("jane", key),
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == []
        first = await broadcast_of(watcher, vehicle_id, T0)
        assert first["speed"] == pytest.approx(61 / 3.6)  # km/h to m/s
        assert first["heading"] == 271 and first["accuracy"] == 5
        # What OwnTracks also POSTs: acknowledged with [], not stored.
        others = [
            {"_type": "transition", "wtst": tst, "lat": lat, "lon": lon, "tst": tst,
             "acc": 10, "event": "enter", "desc": "CP", "tid": "JJ", "t": "c"},
            {"_type": "waypoint", "desc": "CP", "lat": lat, "lon": lon, "rad": 50, "tst": tst},
            {"_type": "lwt", "tst": tst},
            {"_type": "card", "name": "Jane", "tid": "JJ"},
            {"_type": "status", "iOS": {"version": "18.0"}},
        ]  # fmt: skip
        for message in others:
            answered = await http.post(
                "/ingest/owntracks", content=json.dumps(message), headers=basic("jane", key)
            )
            assert (answered.status_code, answered.json()) == (200, []), message
        # The empty body OwnTracks sends when a friend is removed.
        empty = await http.post("/ingest/owntracks", content=b"", headers=basic("jane", key))
        assert (empty.status_code, empty.json()) == (200, [])
        # Zero fields are left out by OwnTracks: no vel, no cog, no acc.
        minimal = {"_type": "location", "lat": lat, "lon": lon, "tst": tst + 10}
        later = await http.post(
            "/ingest/owntracks", content=json.dumps(minimal), headers=basic("", key)
        )
        assert later.json() == []
    position = await broadcast_of(watcher, vehicle_id, T0 + timedelta(seconds=10))
    assert position["speed"] is None and position["heading"] is None
    assert await trail(hub_server, manager, vehicle_id) == [
        z(T0),
        z(T0 + timedelta(seconds=10)),
    ]


async def test_owntracks_refusals(hub_server: HubProcess, seed: Seeder) -> None:
    manager, incident, convoy, vehicle_id, key = await setup(hub_server, seed)
    other_id, other_key = await make_vehicle(hub_server, manager, incident, convoy["id"], "B")
    lon, lat = along(ROUTE, 0.3)
    tst = int(T0.timestamp())
    good = owntracks_location(lon, lat, tst)
    body = json.dumps(good).encode()
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:

        async def post(content: bytes, headers: dict[str, str]) -> httpx.Response:
            return await http.post("/ingest/owntracks", content=content, headers=headers)

        json_only = {"content-type": "application/json"}
        for headers in (
            json_only,
            {**json_only, "authorization": "Bearer " + key},
            {**json_only, "authorization": "Basic !!!not-base64"},
            {**json_only, "authorization": "Basic " + base64.b64encode(b"jane").decode()},
            basic("jane", ""),
        ):
            refused = await post(body, headers)
            assert refused.status_code == 401, headers
            assert refused.json()["error"]["code"] == "unauthorized"
        # A password that is no device key: wrong credentials, for any message.
        for content in (body, b'{"_type": "lwt", "tst": 1714550400}', b""):
            unknown = await post(content, basic("jane", "not-a-key-of-this-hub"))
            assert unknown.status_code == 401, content
            assert unknown.json()["error"] == {
                "code": "unauthorized",
                "message": "unknown device key",
            }
        for bad, status, code in (
            ({**good, "lat": 91}, 400, "invalid"),
            ({**good, "lon": "4.35"}, 400, "invalid"),
            ({**good, "tst": "1714550400"}, 400, "invalid"),
            ({**good, "tst": 12}, 400, "invalid"),  # 1970: the phone's clock is not set
            ({**good, "vel": -5}, 400, "invalid"),
            ({**good, "cog": 720}, 400, "invalid"),
            ({k: v for k, v in good.items() if k != "lat"}, 400, "invalid"),
            ({k: v for k, v in good.items() if k != "_type"}, 400, "invalid"),
            ({**good, "_type": 7}, 400, "invalid"),
            ({**good, "tid": "J\x00"}, 400, "invalid"),
            ({**good, "inregions": ["x" * 20_000]}, 413, "too_large"),
        ):
            response = await post(json.dumps(bad).encode(), basic("jane", key))
            assert response.status_code == status, (bad, response.text)
            assert response.json()["error"]["code"] == code
        for raw in (b"not json", b"[1, 2]", b'{"_type": "location", "lat": NaN}'):
            response = await post(raw, basic("jane", key))
            assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
        assert await stored(seed, vehicle_id) == []
        # The other device, and this one, are unaffected.
        assert (await post(body, basic("jane", other_key))).json() == []
        assert (await post(body, basic("jane", key))).json() == []
        spec = (await http.get("/api/openapi.json")).json()
    assert len(await stored(seed, vehicle_id)) == len(await stored(seed, other_id)) == 1
    operation = spec["paths"]["/ingest/owntracks"]["post"]
    assert operation["security"] == [{"basic": []}]
    assert spec["components"]["securitySchemes"]["basic"] == {"type": "http", "scheme": "basic"}
    osmand = spec["paths"]["/ingest/osmand"]["post"]["requestBody"]["content"]
    assert set(osmand) == {"application/x-www-form-urlencoded", "application/json"}
