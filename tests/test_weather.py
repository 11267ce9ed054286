"""Weather anchors (issue 16) against a live hub: their wind properties are checked on create
and on update, by socket and REST alike, and a manager's "take the current observation" fills
one from an observation feed: a real HTTP server this module starts on 127.0.0.1, answering
Open-Meteo's `current` shape or the hub's own, then failing in each way a feed can fail."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import Clients
from tests.live import HubProcess, free_port
from tests.seed import Seeder, TestUser

BRUSSELS = {"type": "Point", "coordinates": [4.3517, 50.8466]}
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[4.35, 50.84], [4.36, 50.84], [4.36, 50.85], [4.35, 50.84]]],
}
OPEN_METEO: dict[str, Any] = {
    "latitude": 50.84,
    "longitude": 4.36,
    "utc_offset_seconds": 3600,
    "timezone": "Europe/Brussels",
    "current_units": {
        "time": "iso8601",
        "interval": "seconds",
        "wind_speed_10m": "km/h",
        "wind_direction_10m": "°",
        "wind_gusts_10m": "km/h",
    },
    "current": {
        "time": "2026-12-03T09:00",
        "interval": 900,
        "wind_speed_10m": 18.0,
        "wind_direction_10m": 232,
        "wind_gusts_10m": 36.0,
    },
}


class Feed:
    """An observation feed on 127.0.0.1: answers `status` and `body`, records what it was
    asked; `stop()` closes its port (unreachable), `start()` opens it again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.status = 200
        self.body: bytes = json.dumps(OPEN_METEO).encode()
        self.asked: list[str] = []
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server calls it by this name
                feed.asked.append(self.path)
                self.send_response(feed.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(feed.body)))
                self.end_headers()
                self.wfile.write(feed.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def answer(self, data: Any, status: int = 200) -> None:
        self.status = status
        self.body = data if isinstance(data, bytes) else json.dumps(data).encode()


@pytest.fixture(scope="module")
def feed() -> Iterator[Feed]:
    made = Feed()
    made.start()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def weather_hub(database_url: str, logs: Path, feed: Feed) -> Iterator[HubProcess]:
    url = f"http://127.0.0.1:{feed.port}/v1/forecast?latitude={{lat}}&longitude={{lon}}"
    url += "&current=wind_speed_10m,wind_direction_10m,wind_gusts_10m"
    server = HubProcess(database_url, log_dir=logs, weather_url=url).start(timeout=60)
    yield server
    server.stop()


def api(server: HubProcess, user: TestUser) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {user.token}"}, timeout=15
    )


def weather(incident: str, geometry: dict[str, Any] = BRUSSELS, **properties: Any) -> Any:
    return {
        "incident_id": incident,
        "client_id": str(uuid.uuid4()),
        "kind": "weather",
        "label": "Vent Grand-Place",
        "geometry": geometry,
        "properties": properties,
    }


async def seq_of(http: httpx.AsyncClient, incident: str) -> int:
    answer = await http.get(f"/api/incidents/{incident}")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["incident"]["last_seq"])


BAD_PROPERTIES: list[tuple[dict[str, Any], str]] = [
    ({"wind_from_deg": 361}, "wind_from_deg: 361 is outside 0 to 360 degrees"),
    ({"wind_from_deg": -5}, "wind_from_deg: -5 is outside 0 to 360 degrees"),
    ({"wind_from_deg": "230"}, "wind_from_deg: a number in degrees"),
    ({"wind_speed_ms": True}, "wind_speed_ms: a number in m/s"),
    ({"wind_speed_ms": 150}, "wind_speed_ms: 150 is outside 0 to 115 m/s"),
    ({"wind_speed_ms": 8, "wind_gust_ms": 5}, "gusts (5 m/s) below the mean speed (8 m/s)"),
    ({"wind_speed_kmh": 20}, "wind_speed_kmh is not a weather property"),
    ({"plume_length_m": 50}, "plume_length_m: 50 is outside 100 to 50000 metres"),
    ({"plume_angle_deg": 180}, "plume_angle_deg: 180 is outside 10 to 120 degrees"),
    ({"observed_at": "2026-12-03T08:00"}, "observed_at: an ISO 8601 time with a time zone"),
    ({"observed_at": 1764748800}, "observed_at: an ISO 8601 time with a time zone"),
    ({"source": ""}, "source: a text of 1 to 200 characters"),
]


@pytest.mark.parametrize(("properties", "message"), BAD_PROPERTIES)
async def test_bad_wind_properties_are_refused_on_both_paths_and_write_nothing(
    hub_server: HubProcess,
    seed: Seeder,
    clients: Clients,
    properties: dict[str, Any],
    message: str,
) -> None:
    officer = await seed.user("liaison", discipline="D1")
    incident = await seed.incident({officer: "contributor"})
    client = await clients(hub_server, officer)
    await client.join(incident)
    async with api(hub_server, officer) as http:
        before = await seq_of(http, incident)
        ack = await client.call("anchor.create", weather(incident, **properties))
        answer = await http.post(
            f"/api/incidents/{incident}/anchors", json=weather(incident, **properties)
        )
        assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack
        assert message in ack["error"]["message"], ack
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == ack["error"]
        assert await seq_of(http, incident) == before
        listed = await http.get(f"/api/incidents/{incident}/anchors")
        assert listed.json()["features"] == []


async def test_a_weather_anchor_is_a_point_its_wind_checked_again_on_update(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    officer = await seed.user("liaison", discipline="D1")
    incident = await seed.incident({officer: "contributor"})
    client = await clients(hub_server, officer)
    await client.join(incident)
    refused = await client.call("anchor.create", weather(incident, SQUARE))
    assert refused["error"]["code"] == "invalid"
    assert "a weather anchor is a GeoJSON Point" in refused["error"]["message"]

    observed = (datetime.now(UTC) - timedelta(minutes=10)).isoformat(timespec="seconds")
    created = await client.request(
        "anchor.create",
        weather(
            incident,
            wind_from_deg=230,
            wind_speed_ms=4.5,
            wind_gust_ms=9,
            observed_at=observed,
            source="Liaison officer",
            plume_length_m=5000,
            note="Wind veering west",  # not a weather property: the anchor's own
        ),
    )
    anchor = created["anchor"]
    assert anchor["properties"]["wind_from_deg"] == 230
    assert anchor["properties"]["note"] == "Wind veering west"
    seq = client.seq(incident)

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    for change, message in (
        ({"properties": {"wind_from_deg": 400}}, "wind_from_deg: 400 is outside"),
        ({"properties": {"observed_at": future}}, "is in the future"),
        ({"geometry": SQUARE}, "a weather anchor is a GeoJSON Point"),
    ):
        ack = await client.call(
            "anchor.update",
            {"incident_id": incident, "anchor_id": anchor["id"], "version": 1, **change},
        )
        assert ack["ok"] is False and ack["error"]["code"] == "invalid", ack
        assert message in ack["error"]["message"], ack
    async with api(hub_server, officer) as http:
        answer = await http.patch(
            f"/api/incidents/{incident}/anchors/{anchor['id']}",
            json={"version": 1, "properties": {"wind_speed_ms": -1}},
        )
        assert answer.status_code == 400, answer.text
        assert "wind_speed_ms: -1 is outside 0 to 115 m/s" in answer.json()["error"]["message"]
        assert await seq_of(http, incident) == seq

    # The wind turns: the new direction is stored and sent to the incident.
    turned = await client.request(
        "anchor.update",
        {
            "incident_id": incident,
            "anchor_id": anchor["id"],
            "version": 1,
            "properties": {**anchor["properties"], "wind_from_deg": 270},
        },
    )
    assert turned["anchor"]["version"] == 2
    await client.wait_for_seq(incident, seq + 1)
    event = client.incidents[incident].events[-1]
    assert event["type"] == "anchor.updated"
    assert event["data"]["properties"]["wind_from_deg"] == 270


async def test_a_manager_takes_the_current_observation_by_socket_and_rest(
    weather_hub: HubProcess, feed: Feed, seed: Seeder, clients: Clients
) -> None:
    manager = await seed.user("dir-pc-ops", discipline="coord")
    fire = await seed.user("fire", discipline="D1")
    incident = await seed.incident({manager: "manager", fire: "contributor"})
    boss, officer = await clients(weather_hub, manager), await clients(weather_hub, fire)
    await boss.join(incident)
    await officer.join(incident)
    created = await officer.request("anchor.create", weather(incident, plume_length_m=4000))
    anchor = created["anchor"]

    # Open-Meteo's shape in km/h, the time in Brussels' winter time (UTC+1).
    feed.answer(OPEN_METEO)
    feed.asked.clear()
    payload = {"incident_id": incident, "anchor_id": anchor["id"], "version": 1}
    filled = (await boss.request("anchor.observe", payload))["anchor"]
    [asked] = feed.asked
    query = parse_qs(urlsplit(asked).query)
    assert query["latitude"] == ["50.846600"] and query["longitude"] == ["4.351700"]
    assert filled["version"] == 2
    assert filled["properties"] == {
        "plume_length_m": 4000,  # the anchor's own properties are kept
        "wind_from_deg": 232.0,
        "wind_speed_ms": 5.0,  # 18 km/h
        "wind_gust_ms": 10.0,  # 36 km/h
        "observed_at": "2026-12-03T08:00:00Z",
        "source": f"Open-Meteo (http://127.0.0.1:{feed.port})",
    }
    await officer.wait_for_seq(incident, boss.seq(incident))
    event = officer.incidents[incident].events[-1]
    assert event["type"] == "anchor.updated" and event["data"] == filled

    # The hub's own shape, by REST.
    feed.answer(
        {
            "wind_from_deg": 45,
            "wind_speed_ms": 2.5,
            "observed_at": "2026-12-03T08:10:00Z",
            "source": "Station Uccle",
        }
    )
    async with api(weather_hub, manager) as http:
        answer = await http.post(
            f"/api/incidents/{incident}/anchors/{anchor['id']}/observe", json={"version": 2}
        )
        assert answer.status_code == 200, answer.text
        again = answer.json()["anchor"]
    assert again["version"] == 3
    assert again["properties"]["wind_from_deg"] == 45
    assert again["properties"]["source"] == "Station Uccle"
    assert again["properties"]["plume_length_m"] == 4000


async def test_the_observation_is_a_managers_of_a_weather_anchor_at_its_version(
    weather_hub: HubProcess, feed: Feed, seed: Seeder, clients: Clients
) -> None:
    manager = await seed.user("dir-pc-ops", discipline="coord")
    fire = await seed.user("fire", discipline="D1")
    incident = await seed.incident({manager: "manager", fire: "contributor"})
    boss, officer = await clients(weather_hub, manager), await clients(weather_hub, fire)
    await boss.join(incident)
    await officer.join(incident)
    wind = (await officer.request("anchor.create", weather(incident)))["anchor"]
    cp = (
        await officer.request(
            "anchor.create",
            {**weather(incident), "kind": "command_post", "label": "CP-Ops"},
        )
    )["anchor"]
    feed.answer(OPEN_METEO)
    feed.asked.clear()
    seq = boss.seq(incident)

    def observe(anchor: dict[str, Any], version: int = 1) -> dict[str, Any]:
        return {"incident_id": incident, "anchor_id": anchor["id"], "version": version}

    forbidden = await officer.call("anchor.observe", observe(wind))
    assert forbidden["error"]["code"] == "forbidden", forbidden
    not_weather = await boss.call("anchor.observe", observe(cp))
    assert not_weather["error"] == {
        "code": "invalid",
        "message": "only a weather anchor takes an observation, not command_post",
    }
    stale = await boss.call("anchor.observe", observe(wind, 7))
    assert stale["error"]["code"] == "conflict" and stale["anchor"]["version"] == 1, stale
    missing = await boss.call("anchor.observe", {**observe(wind), "anchor_id": "nope"})
    assert missing["error"]["code"] == "not_found"
    assert feed.asked == []  # refused before the feed was asked
    async with api(weather_hub, manager) as http:
        assert await seq_of(http, incident) == seq


async def test_a_feed_that_fails_is_said_so_and_nothing_is_written(
    weather_hub: HubProcess, hub_server: HubProcess, feed: Feed, seed: Seeder, clients: Clients
) -> None:
    manager = await seed.user("dir-pc-ops", discipline="coord")
    incident = await seed.incident({manager: "manager"})
    boss = await clients(weather_hub, manager)
    await boss.join(incident)
    wind = (await boss.request("anchor.create", weather(incident, wind_from_deg=90)))["anchor"]
    observe = {"incident_id": incident, "anchor_id": wind["id"], "version": 1}
    host = f"http://127.0.0.1:{feed.port}"
    cases: list[tuple[Any, int, str]] = [
        ({"error": "down"}, 503, f"the weather feed at {host} answered HTTP 503"),
        (b"<html>not json</html>", 200, f"the weather feed at {host} answered no wind"),
        ({"hourly": {}}, 200, "no wind_from_deg and wind_speed_ms (nor Open-Meteo's current)"),
        (
            {**OPEN_METEO, "current": {**OPEN_METEO["current"], "wind_direction_10m": 400}},
            200,
            "wind_from_deg: 400.0 is outside 0 to 360 degrees",
        ),
        (
            {**OPEN_METEO, "current_units": {"wind_speed_10m": "furlongs"}},
            200,
            "unknown wind speed unit 'furlongs'",
        ),
    ]
    async with api(weather_hub, manager) as http:
        seq = await seq_of(http, incident)
        for body, status, message in cases:
            feed.answer(body, status)
            ack = await boss.call("anchor.observe", observe)
            assert ack["ok"] is False and ack["error"]["code"] == "unavailable", ack
            assert message in ack["error"]["message"], (message, ack)
        feed.stop()
        try:
            ack = await boss.call("anchor.observe", observe)
            assert ack["error"]["code"] == "unavailable", ack
            assert ack["error"]["message"].startswith(
                f"the weather feed at {host} is unreachable (ConnectError)"
            ), ack
            answer = await http.post(
                f"/api/incidents/{incident}/anchors/{wind['id']}/observe", json={"version": 1}
            )
            assert answer.status_code == 503, answer.text
            assert "is unreachable" in answer.json()["error"]["message"]
        finally:
            feed.answer(OPEN_METEO)
            feed.start()
        assert await seq_of(http, incident) == seq
        listed = await http.get(f"/api/incidents/{incident}/anchors")
        [stored] = listed.json()["features"]
        assert stored["properties"]["version"] == 1 and stored["properties"]["wind_from_deg"] == 90

    # A hub with no feed configured says so.
    unfed = await clients(hub_server, manager)
    await unfed.join(incident)
    ack = await unfed.call("anchor.observe", observe)
    assert ack["error"] == {
        "code": "unavailable",
        "message": "no observation feed is configured (WEATHER_URL): enter the wind by hand",
    }
