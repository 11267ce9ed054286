"""Population alerts (BE-Alert) on a real hub, over HTTP and the socket: drafting from
perimeter anchors (polygons and circles) or a drawn area, the live estimate, sending,
updates and cancels with their CAP messages, the exercise and test rules, who may do what,
and bad input that writes nothing. Each test works in an area of its own (a band of
longitude), so that the session's shared registrations do not mix between tests."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hub.actions.registrations import import_registrations
from hub.alerts.registrations import parse
from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_convoys import bearer

OPEN_RING = {"type": "Polygon", "coordinates": [[[4, 50], [5, 50], [5, 51], [4, 51]]]}
HEADER = "external_id,language,sms,voice,email,label,lat,lon,test_audience\n"
TEXTS = {
    "fr": {
        "headline": "Incendie chimique à Ruisbroek",
        "description": "Un nuage de fumée se déplace vers le nord-est.",
        "instruction": "Restez à l'intérieur, fermez portes et fenêtres.",
    },
    "nl": {
        "headline": "Chemische brand in Ruisbroek",
        "description": "Een rookwolk drijft naar het noordoosten.",
        "instruction": "Blijf binnen, sluit deuren en ramen.",
    },
}


def square(west: float, south: float, size: float = 0.1) -> dict[str, Any]:
    east, north = west + size, south + size
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def later(hours: float = 6) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def draft_body(area: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "area": area,
        "info": TEXTS,
        "event": "Chemical fire",
        "category": "Fire",
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Observed",
        "expires": later(),
        "channels": ["sms", "voice", "email", "public"],
        **extra,
    }


async def registrations(seed: Seeder, lon: float, lat: float) -> None:
    """Around (lon, lat): inside a 0.1° square at (lon, lat), on its edge, outside, in a
    circle of 500 m centred 0.2° east, and in the test audience; one unconfirmed."""
    k = uuid.uuid4().hex[:8]
    rows = [
        f"in-{k},fr,+32470000001,,in@example.be,home,{lat + 0.05},{lon + 0.05},false",
        f"edge-{k},nl,,+3225550001,,home,{lat + 0.05},{lon + 0.1},false",
        f"test-{k},de,+32470000002,,,home,{lat + 0.02},{lon + 0.02},true",
        f"out-{k},en,+32470000003,,,home,{lat + 0.05},{lon + 0.15},true",
        f"circle-{k},nl,,,circle@example.be,work,{lat + 0.05},{lon + 0.2},false",
    ]
    parsed = parse(io.StringIO(HEADER + "\n".join(rows) + "\n"))
    await import_registrations(seed.hub, parsed, replace=False)


class Case:
    """An incident with a manager, a contributor, a viewer and an outsider, two perimeter
    anchors (a square and a circle) and registrations around them."""

    # South of everything the other tests register (tests/test_registrations.py works at
    # 50 to 52° N, the public's registrations at 45° N): their counts must not see these.
    def __init__(self, server: HubProcess, seed: Seeder, lon: float, lat: float = -30.0) -> None:
        self.server, self.seed, self.lon, self.lat = server, seed, lon, lat

    async def build(self, kind: str = "emergency") -> Case:
        seed = self.seed
        self.manager = await seed.user("manager")
        self.contributor = await seed.user("contributor")
        self.viewer = await seed.user("viewer")
        self.outsider = await seed.user("outsider")
        self.incident = await seed.incident(
            {self.manager: "manager", self.contributor: "contributor", self.viewer: "viewer"},
            kind=kind,
        )
        self.square = await self.anchor("exclusion_zone", "Zone rouge", square(self.lon, self.lat))
        self.circle = await self.anchor(
            "isolation_zone",
            "Cercle",
            {"type": "Point", "coordinates": [self.lon + 0.2, self.lat + 0.05]},
            {"radius_m": 500},
        )
        self.post = await self.anchor(
            "command_post", "PC-Ops", {"type": "Point", "coordinates": [self.lon, self.lat]}
        )
        await registrations(seed, self.lon, self.lat)
        return self

    def http(self, user: TestUser) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.server.url, headers=bearer(user), timeout=20)

    async def anchor(
        self, kind: str, label: str, geometry: dict[str, Any], properties: Any = None
    ) -> str:
        async with self.http(self.manager) as http:
            body: dict[str, Any] = {"client_id": str(uuid.uuid4()), "kind": kind, "label": label}
            body |= {"geometry": geometry, "properties": properties or {}}
            response = await http.post(f"/api/incidents/{self.incident}/anchors", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["anchor"]["id"])

    async def call(
        self, user: TestUser, method: str, path: str, body: Any = None, status: int = 200
    ) -> dict[str, Any]:
        async with self.http(user) as http:
            response = await http.request(method, path, json=body)
        assert response.status_code == status, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def call_text(self, user: TestUser, path: str) -> str:
        async with self.http(user) as http:
            response = await http.get(path)
        assert response.status_code == 200, response.text
        return response.text

    async def draft(self, user: TestUser | None = None, **extra: Any) -> dict[str, Any]:
        area = extra.pop("area", {"anchor_ids": [self.square, self.circle]})
        body = draft_body(area, **extra)
        path = f"/api/incidents/{self.incident}/alerts"
        alert: dict[str, Any] = (
            await self.call(user or self.contributor, "POST", path, body, 201)
        )["alert"]
        return alert

    async def act(
        self, alert: dict[str, Any], verb: str, user: TestUser | None = None, **extra: Any
    ) -> dict[str, Any]:
        body = {"version": alert["version"], **extra}
        path = f"/api/alerts/{alert['id']}/{verb}"
        changed: dict[str, Any] = (await self.call(user or self.manager, "POST", path, body))[
            "alert"
        ]
        return changed

    async def last_seq(self) -> int:
        path = f"/api/incidents/{self.incident}"
        return int((await self.call(self.viewer, "GET", path))["incident"]["last_seq"])


@pytest.fixture
async def case(hub_server: HubProcess, seed: Seeder, area_longitudes: Iterator[float]) -> Case:
    return await Case(hub_server, seed, lon=next(area_longitudes)).build()


async def test_a_draft_from_perimeters_is_sent_updated_and_cancelled_as_events(
    case: Case, clients: Clients
) -> None:
    watcher = await clients(case.server, case.viewer)
    await watcher.join(case.incident)

    draft = await case.draft()
    assert draft["state"] == "draft" and draft["cap_status"] == "Actual"
    assert draft["area"]["anchor_ids"] == [case.square, case.circle]
    assert draft["area"]["labels"] == ["Zone rouge", "Cercle"]
    assert draft["area"]["geometry"]["type"] == "MultiPolygon"  # the square and the circle
    assert draft["area"]["polygons"]["type"] == "Polygon"  # the square alone, for CAP
    [circle] = draft["area"]["circles"]
    assert circle == {"lat": case.lat + 0.05, "lon": case.lon + 0.2, "radius_m": 500.0}
    # in, edge (the boundary counts), test and circle; out is outside both
    assert draft["estimate"] == {
        "registrations": 4,
        "by_channel": {"sms": 2, "voice": 1, "email": 2},
        "by_language": {"fr": 1, "nl": 2, "de": 1, "en": 0},
    }
    assert draft["messages"] == [] and draft["sent_at"] is None

    # the contributor edits the draft; a stale version is a conflict that changes nothing
    path = f"/api/alerts/{draft['id']}"
    edited = (
        await case.call(
            case.contributor,
            "PATCH",
            path,
            {"version": 1, "severity": "Extreme", "area": {"anchor_ids": [case.square]}},
        )
    )["alert"]
    assert edited["version"] == 2 and edited["severity"] == "Extreme"
    assert edited["estimate"]["registrations"] == 3
    stale = await case.call(case.contributor, "PATCH", path, {"version": 1, "event": "x"}, 409)
    assert stale["error"]["code"] == "conflict"

    sent = await case.act(edited, "send")
    assert sent["state"] == "sent" and sent["sent_by"] == case.manager.id
    [first] = sent["messages"]
    assert first["msg_type"] == "Alert"
    updated = await case.act(
        sent, "update", info={"fr": {**TEXTS["fr"], "instruction": "Évacuez vers le sud."}}
    )
    assert updated["state"] == "updated"
    assert updated["info"]["fr"]["instruction"] == "Évacuez vers le sud."
    assert "nl" not in updated["info"]  # the text is replaced as a whole
    cancelled = await case.act(updated, "cancel")
    assert cancelled["state"] == "cancelled"
    types = [m["msg_type"] for m in cancelled["messages"]]
    assert types == ["Alert", "Update", "Cancel"]
    identifiers = [m["identifier"] for m in cancelled["messages"]]
    assert len(set(identifiers)) == 3
    # once cancelled, nothing more
    again = await case.call(
        case.manager, "POST", f"{path}/cancel", {"version": cancelled["version"]}, 409
    )
    assert "cancelled" in again["error"]["message"]

    # every step reached the incident's members as a sequenced event, in order
    for _ in range(100):
        kinds = [e["type"] for e in watcher.incidents[case.incident].events]
        if "alert.cancelled" in kinds:
            break
        await asyncio.sleep(0.05)
    alert_events = [
        e for e in watcher.incidents[case.incident].events if e["type"].startswith("alert.")
    ]
    assert [e["type"] for e in alert_events] == [
        "alert.drafted",
        "alert.drafted",
        "alert.sent",
        "alert.updated",
        "alert.cancelled",
    ]
    assert alert_events[-1]["data"] == cancelled
    listed = await case.call(case.viewer, "GET", f"/api/incidents/{case.incident}/alerts")
    assert listed["alerts"] == [cancelled]


async def test_a_drawn_area_and_the_estimate_while_drafting(case: Case) -> None:
    drawn = square(case.lon + 0.12, case.lat, 0.05)  # around `out` only
    path = f"/api/incidents/{case.incident}/alerts/estimate"
    estimate = await case.call(case.contributor, "POST", path, {"area": {"geometry": drawn}})
    assert estimate["area"]["geometry"] == drawn and estimate["area"]["circles"] == []
    assert estimate["estimate"]["registrations"] == 1
    assert estimate["cap_status"] == "Actual" and estimate["test_only"] is False
    # a Test alert reaches only the test audience: out is in it, in the drawn square
    test = await case.call(
        case.contributor, "POST", path, {"area": {"geometry": drawn}, "cap_status": "Test"}
    )
    assert test["test_only"] is True and test["estimate"]["registrations"] == 1
    both = {"anchor_ids": [case.square, case.circle]}
    test = await case.call(case.contributor, "POST", path, {"area": both, "cap_status": "Test"})
    assert test["estimate"]["registrations"] == 1  # `test`, not in, edge or circle
    assert test["estimate"]["by_language"]["de"] == 1

    draft = await case.draft(area={"geometry": drawn}, cap_status="Test")
    assert draft["cap_status"] == "Test" and draft["estimate"]["registrations"] == 1


async def test_exercise_incidents_send_exercise_to_the_test_audience_marked(
    hub_server: HubProcess, seed: Seeder
) -> None:
    case = await Case(hub_server, seed, lon=150.0).build(kind="exercise")
    draft = await case.draft(cap_status="Actual")  # asked for Actual: it is an exercise
    assert draft["cap_status"] == "Exercise"
    assert draft["estimate"]["registrations"] == 1  # only the test audience
    texts = {language: TEXTS["fr"] for language in ("fr", "nl", "de", "en")}
    path = f"/api/incidents/{case.incident}/alerts/preview"
    preview = await case.call(case.contributor, "POST", path, {"info": texts})
    assert preview["cap_status"] == "Exercise"
    words = {"fr": "EXERCICE", "nl": "OEFENING", "de": "ÜBUNG", "en": "EXERCISE"}
    for language, word in words.items():
        rendered = preview["languages"][language]
        assert rendered["sms"]["text"].startswith(word)
        assert rendered["voice"]["text"].startswith(word)
        assert rendered["email"]["subject"].startswith(word)
        assert rendered["email"]["body"].startswith(word)
    sent = await case.act(draft, "send")
    assert sent["cap_status"] == "Exercise" and sent["state"] == "sent"
    # a Test alert elsewhere is marked TEST in every language
    other = await Case(hub_server, seed, lon=152.0).build()
    path = f"/api/incidents/{other.incident}/alerts/preview"
    preview = await other.call(
        other.contributor, "POST", path, {"info": texts, "cap_status": "Test"}
    )
    assert all(r["sms"]["text"].startswith("TEST") for r in preview["languages"].values())


async def test_sms_segments_follow_the_alphabet_the_text_needs(case: Case) -> None:
    path = f"/api/incidents/{case.incident}/alerts/preview"
    short = {"headline": "Feu", "description": "Fumée.", "instruction": "Restez dedans."}
    preview = await case.call(case.contributor, "POST", path, {"info": {"fr": short}})
    sms = preview["languages"]["fr"]["sms"]
    assert sms["encoding"] == "GSM-7" and sms["units"] == len(sms["text"])
    assert sms["segments"] == (1 if sms["units"] <= 160 else -(-sms["units"] // 153))
    polish = {**short, "instruction": "Zostań w domu, zamknij okna."}  # ń, ę: not GSM 03.38
    preview = await case.call(case.contributor, "POST", path, {"info": {"en": polish}})
    sms = preview["languages"]["en"]["sms"]
    assert sms["encoding"] == "UCS-2"
    assert sms["segments"] == (1 if sms["units"] <= 70 else -(-sms["units"] // 67))
    long = {**short, "instruction": "Restez à l'intérieur. " * 20}
    preview = await case.call(case.contributor, "POST", path, {"info": {"fr": long}})
    assert preview["languages"]["fr"]["sms"]["segments"] >= 3


async def test_who_may_draft_send_and_see(case: Case) -> None:
    body = draft_body({"anchor_ids": [case.square]})
    path = f"/api/incidents/{case.incident}/alerts"
    refused = await case.call(case.viewer, "POST", path, body, 403)
    assert refused["error"]["code"] == "forbidden"
    await case.call(case.outsider, "POST", path, body, 403)
    await case.call(case.outsider, "GET", path, None, 403)
    await case.call(case.outsider, "POST", path + "/estimate", {"area": body["area"]}, 403)
    await case.call(case.viewer, "POST", path + "/estimate", {"area": body["area"]}, 403)

    draft = await case.draft(case.contributor)
    assert (await case.call(case.viewer, "GET", f"/api/alerts/{draft['id']}"))["alert"] == draft
    await case.call(case.outsider, "GET", f"/api/alerts/{draft['id']}", None, 403)
    send = f"/api/alerts/{draft['id']}/send"
    refused = await case.call(case.contributor, "POST", send, {"version": 1}, 403)
    assert "manager" in refused["error"]["message"]
    await case.call(case.viewer, "PATCH", f"/api/alerts/{draft['id']}", {"version": 1}, 403)
    await case.call(case.outsider, "POST", send, {"version": 1}, 403)
    assert (await case.call(case.viewer, "GET", f"/api/alerts/{draft['id']}"))["alert"] == draft
    missing = await case.call(case.manager, "GET", "/api/alerts/nope", None, 404)
    assert missing["error"]["code"] == "not_found"


async def test_steps_out_of_order_are_conflicts(case: Case) -> None:
    draft = await case.draft()
    for verb in ("update", "cancel"):
        refused = await case.call(
            case.manager, "POST", f"/api/alerts/{draft['id']}/{verb}", {"version": 1}, 409
        )
        assert "sent first" in refused["error"]["message"]
    stale = await case.call(
        case.manager, "POST", f"/api/alerts/{draft['id']}/send", {"version": 7}, 409
    )
    assert stale["alert"] == draft  # the current state, to review
    sent = await case.act(draft, "send")
    again = await case.call(
        case.manager, "POST", f"/api/alerts/{draft['id']}/send", {"version": sent["version"]}, 409
    )
    assert "no longer a draft" in again["error"]["message"]
    edit = await case.call(
        case.contributor, "PATCH", f"/api/alerts/{draft['id']}", {"version": 2}, 409
    )
    assert edit["error"]["code"] == "conflict"
    # an update that changes nothing would warn everyone again: refused, nothing written
    before = await case.last_seq()
    empty = await case.call(
        case.manager, "POST", f"/api/alerts/{draft['id']}/update", {"version": 2}, 400
    )
    assert "nothing to change" in empty["error"]["message"]
    assert await case.last_seq() == before


async def test_a_sent_alert_can_be_cancelled_after_its_incident_closed(case: Case) -> None:
    sent = await case.act(await case.draft(), "send")
    closed = await case.call(
        case.manager, "PATCH", f"/api/incidents/{case.incident}", {"status": "closed"}
    )
    assert closed["incident"]["status"] == "closed"
    refused = await case.call(
        case.manager, "POST", f"/api/alerts/{sent['id']}/update", {"version": 2, "event": "x"}, 403
    )
    assert "closed" in refused["error"]["message"]
    cancelled = await case.act(sent, "cancel")
    assert cancelled["state"] == "cancelled"
    path = f"/api/incidents/{case.incident}/alerts"
    body = draft_body({"anchor_ids": [case.square]})
    assert (await case.call(case.manager, "POST", path, body, 403))["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"area": {"geometry": OPEN_RING}}, "area"),
        ({"area": {"anchor_ids": ["no-such-anchor"]}}, "not a live anchor"),
        ({"area": {}}, "either anchor_ids"),
        ({"info": {}}, "info"),
        ({"info": {"xx": TEXTS["fr"]}}, "info"),
        ({"info": {"fr": {**TEXTS["fr"], "headline": ""}}}, "headline"),
        ({"info": {"fr": {**TEXTS["fr"], "headline": "h" * 161}}}, "headline"),
        ({"channels": []}, "channels"),
        ({"channels": ["sms", "pigeon"]}, "channels"),
        ({"expires": "2020-01-01T00:00:00Z"}, "past"),
        ({"expires": "2026-12-01T10:00:00"}, "time zone"),
        ({"cap_status": "Exercise"}, "cap_status"),
        ({"category": "Weather"}, "category"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_bad_drafts_are_refused_and_write_nothing(
    case: Case, change: dict[str, Any], where: str
) -> None:
    before = await case.last_seq()
    body = {**draft_body({"anchor_ids": [case.square]}), **change}
    path = f"/api/incidents/{case.incident}/alerts"
    too_long = "h" * 161 in str(change)  # a length limit is too_large, as everywhere
    refused = await case.call(case.contributor, "POST", path, body, 413 if too_long else 400)
    assert refused["error"]["code"] == ("too_large" if too_long else "invalid")
    assert where in refused["error"]["message"], refused
    assert await case.last_seq() == before
    assert (await case.call(case.viewer, "GET", path))["alerts"] == []


async def test_an_area_must_be_drawn_from_perimeters(case: Case) -> None:
    path = f"/api/incidents/{case.incident}/alerts"
    body = draft_body({"anchor_ids": [case.square, case.post]})
    refused = await case.call(case.contributor, "POST", path, body, 400)
    assert "PC-Ops" in refused["error"]["message"] and "perimeter" in refused["error"]["message"]
    body = draft_body({"anchor_ids": [case.square, case.square]})
    assert (
        "twice" in (await case.call(case.contributor, "POST", path, body, 400))["error"]["message"]
    )


async def test_the_area_keeps_its_names_and_the_texts_their_order(case: Case) -> None:
    """The author's first language is the one other readers get: PostgreSQL's JSONB would
    reorder the languages, so the order read back is checked on both backends. Renaming a
    perimeter later leaves the alert's area (and its CAP areaDesc) as drawn."""
    texts = {"nl": TEXTS["nl"], "fr": TEXTS["fr"]}
    draft = await case.draft(info=texts, area={"anchor_ids": [case.square]})
    read = (await case.call(case.viewer, "GET", f"/api/alerts/{draft['id']}"))["alert"]
    assert list(read["info"]) == ["nl", "fr"]
    async with case.http(case.manager) as http:
        path = f"/api/incidents/{case.incident}/anchors/{case.square}"
        response = await http.patch(path, json={"version": 1, "label": "Zone verte"})
        assert response.status_code == 200, response.text
    sent = await case.act(read, "send")
    assert sent["area"]["labels"] == ["Zone rouge"]
    cap = await case.call_text(case.viewer, f"/api/alerts/{draft['id']}/cap")
    assert "<areaDesc>Zone rouge</areaDesc>" in cap
