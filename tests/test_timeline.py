"""The timeline against a live hub (issue 15): GET …/state?at=T rebuilds the incident as it
stood at T from the event log, and GET …/events takes `from` and `to`.

Every T is read off the log itself (each event's `at`), or is a fix's own device time, so no
test depends on how fast the hub answers: the state just before an event's time is the state
before it, the state at its time includes it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from models import events
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_alerts import draft_body, square

BEFORE = timedelta(microseconds=1)
SITE = {"type": "Point", "coordinates": [4.3517, 50.8466]}
MOVED = {"type": "Point", "coordinates": [4.3617, 50.8466]}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def at_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class Room:
    """One incident with its manager, and HTTP as each user."""

    def __init__(self, server: HubProcess, manager: TestUser, incident: str) -> None:
        self.server, self.manager, self.incident = server, manager, incident

    async def call(
        self,
        user: TestUser | None,
        method: str,
        path: str,
        body: Any = None,
        status: int = 200,
        params: dict[str, str] | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {user.token}"} if user else {}
        async with httpx.AsyncClient(base_url=self.server.url, headers=headers, timeout=10) as http:
            response = await http.request(method, path, json=body, params=params)
        assert response.status_code == status, response.text
        return response.json()

    async def write(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.call(self.manager, method, path, body, status=status_of(method))
        return response

    async def state(
        self, moment: datetime | str, user: TestUser | None = None, status: int = 200
    ) -> Any:
        at = moment if isinstance(moment, str) else at_text(moment)
        answer = await self.call(
            user or self.manager,
            "GET",
            f"/api/incidents/{self.incident}/state",
            params={"at": at},
            status=status,
        )
        if status == 200:
            events.check(events.StateAt, answer)  # the one model, strictly, as clients read it
        return answer

    async def log(self, **params: str) -> list[dict[str, Any]]:
        answer = await self.call(
            self.manager, "GET", f"/api/incidents/{self.incident}/events", params=params
        )
        return list(answer["events"])

    async def last_event(self, kind: str) -> dict[str, Any]:
        return [e for e in await self.log() if e["type"] == kind][-1]


def status_of(method: str) -> int:
    return 201 if method == "POST" else 200


def anchors_of(state: Any) -> dict[str, Any]:
    return {f["id"]: f for f in state["snapshot"]["anchors"]["features"]}


def texts_of(state: Any) -> list[str]:
    return [entry["text"] for entry in state["snapshot"]["feed"]]


def vehicle_of(state: Any, vehicle_id: str) -> Any:
    for convoy in state["snapshot"]["convoys"]:
        for vehicle in convoy["vehicles"]:
            if vehicle["id"] == vehicle_id:
                return vehicle
    return None


async def room(server: HubProcess, seed: Seeder, **members: TestUser) -> Room:
    manager = await seed.user("manager")
    incident = await seed.incident(
        {manager: "manager", **{user: role for role, user in members.items()}},
        title="Timeline " + uuid.uuid4().hex[:6],
    )
    return Room(server, manager, incident)


# anchors and the feed ---------------------------------------------------------------------------


async def test_anchors_as_they_stood_before_and_after_a_move_and_a_deletion(
    hub_server: HubProcess, seed: Seeder
) -> None:
    r = await room(hub_server, seed)
    base = f"/api/incidents/{r.incident}/anchors"
    created = (
        await r.write(
            "POST",
            base,
            {
                "client_id": str(uuid.uuid4()),
                "kind": "command_post",
                "label": "CP",
                "geometry": SITE,
            },
        )
    )["anchor"]
    made = when((await r.last_event("anchor.created"))["at"])
    await r.write("PATCH", f"{base}/{created['id']}", {"version": 1, "geometry": MOVED})
    moved = when((await r.last_event("anchor.updated"))["at"])
    await r.write("DELETE", f"{base}/{created['id']}", {"version": 2})
    deleted = when((await r.last_event("anchor.deleted"))["at"])

    assert anchors_of(await r.state(made - BEFORE)) == {}
    at_creation = anchors_of(await r.state(made))[created["id"]]
    assert at_creation["geometry"] == SITE
    assert at_creation["properties"]["version"] == 1
    before_move = anchors_of(await r.state(moved - BEFORE))[created["id"]]
    assert before_move["geometry"] == SITE
    # Deleted since, it is still there as it was between the move and the deletion.
    after_move = anchors_of(await r.state(moved))[created["id"]]
    assert after_move["geometry"] == MOVED
    assert after_move["properties"]["version"] == 2
    assert created["id"] in anchors_of(await r.state(deleted - BEFORE))
    assert anchors_of(await r.state(deleted)) == {}
    now = await r.state(datetime.now(UTC))
    assert anchors_of(now) == {}
    # the last event: the deletion's feed entry, right after it
    assert now["seq"] == (await r.last_event("anchor.deleted"))["seq"] + 1


async def test_the_feed_up_to_t_with_a_correction_only_once_it_was_made(
    hub_server: HubProcess, seed: Seeder
) -> None:
    r = await room(hub_server, seed)
    feed = f"/api/incidents/{r.incident}/feed"
    first = (
        await r.write("POST", feed, {"client_id": str(uuid.uuid4()), "text": "Fire 3rd floor"})
    )["entry"]
    posted = when((await r.last_event("feed.posted"))["at"])
    await r.write("POST", feed, {"client_id": str(uuid.uuid4()), "text": "Two engines on site"})
    second = when((await r.last_event("feed.posted"))["at"])
    await r.write(
        "POST",
        f"{feed}/{first['id']}/corrections",
        {"client_id": str(uuid.uuid4()), "text": "Fire 4th floor", "reason": "misread"},
    )
    corrected = when((await r.last_event("feed.corrected"))["at"])

    assert texts_of(await r.state(posted - BEFORE)) == []
    assert texts_of(await r.state(posted)) == ["Fire 3rd floor"]
    assert texts_of(await r.state(second)) == ["Fire 3rd floor", "Two engines on site"]
    # Before the correction was made, the original stands uncorrected.
    before = await r.state(corrected - BEFORE)
    assert all(entry["corrects"] is None for entry in before["snapshot"]["feed"])
    after = await r.state(corrected)
    assert texts_of(after) == ["Fire 3rd floor", "Two engines on site", "Fire 4th floor"]
    correction = after["snapshot"]["feed"][-1]
    assert correction["corrects"] == first["id"]
    assert correction["reason"] == "misread"
    assert after["seq"] == before["seq"] + 1


async def test_the_alerts_sent_by_t(hub_server: HubProcess, seed: Seeder) -> None:
    r = await room(hub_server, seed)
    # East of 150°, where no other test registers anyone: a send with nobody to warn.
    body = draft_body({"geometry": square(170.1, -40.0)}, channels=["public"])
    draft = (await r.write("POST", f"/api/incidents/{r.incident}/alerts", body))["alert"]
    drafted = when((await r.last_event("alert.drafted"))["at"])
    await r.call(
        r.manager, "POST", f"/api/alerts/{draft['id']}/send", {"version": draft["version"]}
    )
    sent = when((await r.last_event("alert.sent"))["at"])

    # A draft is nobody's business yet; once sent, the alert is in the state as it stood.
    assert (await r.state(drafted))["snapshot"]["alerts"] == []
    assert (await r.state(sent - BEFORE))["snapshot"]["alerts"] == []
    alerts = (await r.state(sent))["snapshot"]["alerts"]
    assert [(a["id"], a["state"]) for a in alerts] == [(draft["id"], "sent")]


# a convoy passing ------------------------------------------------------------------------------


async def test_each_vehicle_at_its_last_accepted_fix_at_or_before_t(
    hub_server: HubProcess, seed: Seeder
) -> None:
    r = await room(hub_server, seed)
    convoy = (await r.write("POST", f"/api/incidents/{r.incident}/convoys", {"name": "Motorcade"}))[
        "convoy"
    ]
    added = await r.write(
        "POST",
        f"/api/incidents/{r.incident}/convoys/{convoy['id']}/vehicles",
        {"label": "Lead car"},
    )
    vehicle, key = added["vehicle"]["id"], added["device_key"]
    registered = when((await r.last_event("convoy.updated"))["at"])
    # The fixes' device times lie between the registration and now, so that every T below
    # is a moment that has passed: wait until a second has.
    await asyncio.sleep(1.2)
    start = registered + timedelta(milliseconds=100)

    def moment(ms: int) -> datetime:
        return start + timedelta(milliseconds=ms)

    # Eastward at ~36 km/h, 200 ms apart; at 600 ms a wild fix 50 km north (flagged); at
    # 800 ms the track again; then a fix from the future (refused, never stored).
    track = [(0, 4.35000), (200, 4.35003), (400, 4.35006), (800, 4.35012)]
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as tracker:

        async def report(ms: int, lat: float, lon: float) -> httpx.Response:
            millis = int(moment(ms).timestamp() * 1000)
            fix = {"id": key, "lat": lat, "lon": lon, "timestamp": millis, "speed": 10}
            return await tracker.get("/ingest/osmand", params={k: str(v) for k, v in fix.items()})

        for ms, lon in track[:3]:
            assert (await report(ms, 50.85, lon)).status_code == 200
        wild = await report(600, 51.30, 4.35)
        assert wild.status_code == 200
        assert (await report(800, 50.85, track[3][1])).status_code == 200
        future = await report(3_600_000, 50.85, 4.40)
        assert future.status_code == 400
    assert moment(800) < datetime.now(UTC)

    # Not registered yet: no vehicle. Registered, before its first fix: no position.
    assert vehicle_of(await r.state(registered - BEFORE), vehicle) is None
    assert vehicle_of(await r.state(moment(-50)), vehicle)["last_position"] is None

    async def position(ms: int) -> tuple[float, float, str]:
        fix = vehicle_of(await r.state(moment(ms)), vehicle)["last_position"]
        assert fix["vehicle_id"] == vehicle and fix["convoy_id"] == convoy["id"]
        return fix["lat"], fix["lon"], fix["ts"]

    assert (await position(0))[:2] == (50.85, 4.35000)
    assert (await position(100))[:2] == (50.85, 4.35000)
    assert (await position(250))[:2] == (50.85, 4.35003)
    # The wild fix at 600 ms is flagged: at 700 ms the vehicle is still at its 400 ms fix.
    assert (await position(700))[:2] == (50.85, 4.35006)
    lat, lon, ts = await position(900)
    assert (lat, lon) == (50.85, 4.35012)
    assert abs(when(ts) - moment(800)) < timedelta(milliseconds=2)  # sent in milliseconds
    # Now: still the 800 ms fix, not the refused one from the future.
    now = vehicle_of(await r.state(datetime.now(UTC)), vehicle)["last_position"]
    assert (now["lat"], now["lon"]) == (50.85, 4.35012)


# who may, and what is refused --------------------------------------------------------------------


async def test_members_read_the_timeline_and_nobody_else(
    hub_server: HubProcess, seed: Seeder
) -> None:
    viewer, outsider = await seed.user("viewer"), await seed.user("outsider")
    r = await room(hub_server, seed, viewer=viewer)
    now = datetime.now(UTC)
    assert (await r.state(now, viewer))["snapshot"]["feed"] == []
    refused = await r.state(now, outsider, status=403)
    assert refused["error"]["code"] == "forbidden"
    assert "snapshot" not in refused
    events_path = f"/api/incidents/{r.incident}/events"
    params = {"from": at_text(now - timedelta(hours=1))}
    log = await r.call(outsider, "GET", events_path, params=params, status=403)
    assert log["error"]["code"] == "forbidden"
    nobody = await r.call(
        None, "GET", f"/api/incidents/{r.incident}/state", params={"at": at_text(now)}, status=401
    )
    assert nobody["error"]["code"] == "unauthorized"
    missing = await r.call(
        viewer, "GET", "/api/incidents/nope/state", params={"at": at_text(now)}, status=404
    )
    assert missing["error"]["code"] == "not_found"


async def test_times_that_are_refused_and_those_taken_as_now(
    hub_server: HubProcess, seed: Seeder
) -> None:
    r = await room(hub_server, seed)
    incident = await r.call(r.manager, "GET", f"/api/incidents/{r.incident}")
    opened = when(incident["incident"]["created_at"])

    before = await r.state(opened - timedelta(seconds=1), status=400)
    assert before["error"]["code"] == "invalid"
    assert "before the incident was opened" in before["error"]["message"]
    for malformed in ("yesterday", "2026-13-01T00:00:00Z", "1733100000", "x" * 500):
        refused = await r.state(malformed, status=400)
        assert refused["error"]["code"] == "invalid", malformed
    naive = await r.state(datetime.now(UTC).replace(tzinfo=None).isoformat(), status=400)
    assert "offset" in naive["error"]["message"]
    missing = await r.call(r.manager, "GET", f"/api/incidents/{r.incident}/state", status=400)
    assert missing["error"]["code"] == "invalid"

    # A time after now is now: the answer says which moment it shows.
    future = await r.state(datetime.now(UTC) + timedelta(days=1))
    assert when(future["at"]) <= datetime.now(UTC)
    assert future["seq"] == incident["incident"]["last_seq"]
    # Another offset names the same moment; an unencoded `+` (read as a space) too.
    moment = opened  # (a second later could still be in the future)
    local = moment.astimezone(timezone(timedelta(hours=1))).isoformat()
    assert when((await r.state(local))["at"]) == moment
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        raw = f"/api/incidents/{r.incident}/state?at={local}"  # "+01:00" left as it is
        answer = await http.get(raw, headers={"Authorization": f"Bearer {r.manager.token}"})
    assert answer.status_code == 200, answer.text
    assert when(answer.json()["at"]) == moment


async def test_the_log_between_two_times(hub_server: HubProcess, seed: Seeder) -> None:
    r = await room(hub_server, seed)
    feed = f"/api/incidents/{r.incident}/feed"
    for text in ("one", "two", "three", "four"):
        await r.write("POST", feed, {"client_id": str(uuid.uuid4()), "text": text})
    logged = [e for e in await r.log() if e["type"] == "feed.posted"]
    two, three = logged[1], logged[2]

    between = await r.log(**{"from": two["at"], "to": three["at"]})
    assert [e["data"]["text"] for e in between] == ["two", "three"]
    for event in between:
        events.check_event(event)
    # `since` still applies, and so does `limit`.
    after_two = await r.log(**{"from": two["at"], "since": str(two["seq"])})
    assert [e["data"]["text"] for e in after_two] == ["three", "four"]
    assert len(await r.log(**{"from": two["at"], "limit": "1"})) == 1
    assert [e["data"]["text"] for e in await r.log(to=two["at"]) if e["type"] == "feed.posted"] == [
        "one",
        "two",
    ]

    path = f"/api/incidents/{r.incident}/events"
    reversed_range = {"from": three["at"], "to": two["at"]}
    refused = await r.call(r.manager, "GET", path, params=reversed_range, status=400)
    assert refused["error"] == {"code": "invalid", "message": "from is after to"}
    for bad_time in ("soon", ""):
        bad = await r.call(r.manager, "GET", path, params={"from": bad_time}, status=400)
        assert bad["error"]["code"] == "invalid"
