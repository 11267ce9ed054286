"""Every event type, driven once on a live hub and checked against its model (models/events.py):
live, replayed by `incident.join` and read from the REST log, which all give the same events.
(Every other socket test checks what its clients received too: tests/conftest.py, Clients.)"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from models import events
from tests.conftest import Clients
from tests.live import ROOT, HubProcess
from tests.seed import Seeder
from tests.test_convoys import ROUTE, T0, ZONE, along, aosmand, bearer, make_convoy, make_vehicle


async def test_every_event_type_has_its_model_live_replayed_and_over_rest(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    manager = await seed.user("manager", discipline="coord")
    member = await seed.user("member")
    incident = await seed.incident({manager: "manager"}, kind="event")
    watcher = await clients(hub_server, manager)
    await watcher.join(incident)

    # feed.posted, feed.corrected
    entry = (
        await watcher.request(
            "feed.post",
            {
                "incident_id": incident,
                "client_id": str(uuid.uuid4()),
                "text": "Perimeter set around the summit venue",
                "kind": "decision",
                "priority": "urgent",
                "location": {"type": "Point", "coordinates": [4.38, 50.842]},
            },
        )
    )["entry"]
    await watcher.request(
        "feed.correct",
        {
            "incident_id": incident,
            "entry_id": entry["id"],
            "client_id": str(uuid.uuid4()),
            "text": "Perimeter set around the summit venue (north side)",
            "reason": "side",
        },
    )
    # anchor.created, anchor.updated, anchor.deleted; the zone raises the alert below
    zone = (
        await watcher.request(
            "anchor.create",
            {
                "incident_id": incident,
                "client_id": str(uuid.uuid4()),
                "kind": "exclusion_zone",
                "label": "Red zone",
                "geometry": ZONE,
                "properties": {"note": "no entry"},
            },
        )
    )["anchor"]
    await watcher.request(
        "anchor.update",
        {"incident_id": incident, "anchor_id": zone["id"], "version": 1, "label": "Red zone A"},
    )
    post = (
        await watcher.request(
            "anchor.create",
            {
                "incident_id": incident,
                "client_id": str(uuid.uuid4()),
                "kind": "command_post",
                "label": "CP-Ops",
                "geometry": {"type": "Point", "coordinates": [4.37, 50.84]},
            },
        )
    )["anchor"]
    await watcher.request(
        "anchor.delete", {"incident_id": incident, "anchor_id": post["id"], "version": 1}
    )
    async with httpx.AsyncClient(
        base_url=hub_server.url, headers=bearer(manager), timeout=10
    ) as http:
        # incident.updated, member.added, member.removed
        response = await http.patch(f"/api/incidents/{incident}", json={"phase": "municipal"})
        assert response.status_code == 200, response.text
        response = await http.post(
            f"/api/incidents/{incident}/members",
            json={"username": member.username, "role": "viewer"},
        )
        assert response.status_code == 200, response.text
        response = await http.delete(f"/api/incidents/{incident}/members/{member.username}")
        assert response.status_code == 200, response.text
    # convoy.updated (created, a vehicle, a new status), then convoy.alert (entering the zone)
    convoy = await make_convoy(hub_server, manager, incident, route=ROUTE)
    _, key = await make_vehicle(hub_server, manager, incident, convoy["id"])
    async with httpx.AsyncClient(
        base_url=hub_server.url, headers=bearer(manager), timeout=10
    ) as http:
        response = await http.patch(
            f"/api/incidents/{incident}/convoys/{convoy['id']}", json={"status": "en_route"}
        )
        assert response.status_code == 200, response.text
        lon, lat = along(ROUTE, 0.65)  # inside ZONE
        assert (await aosmand(http, key, lat, lon, T0)).status_code == 200
        # alert.drafted, alert.sent, alert.updated, alert.cancelled (from the zone)
        response = await http.post(
            f"/api/incidents/{incident}/alerts",
            json={
                "area": {"anchor_ids": [zone["id"]]},
                "info": {
                    "fr": {"headline": "Feu", "description": "Fumée", "instruction": "Restez"}
                },
                "event": "Fire",
                "category": "Fire",
                "urgency": "Immediate",
                "severity": "Severe",
                "certainty": "Observed",
                "expires": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
                "channels": ["sms", "public"],
            },
        )
        assert response.status_code == 201, response.text
        alert_id = response.json()["alert"]["id"]
        for version, verb, extra in [
            (1, "send", {}),
            (2, "update", {"severity": "Extreme"}),
            (3, "cancel", {}),
        ]:
            response = await http.post(
                f"/api/alerts/{alert_id}/{verb}", json={"version": version, **extra}
            )
            assert response.status_code == 200, response.text
        # evaluation.created, evaluation.updated
        response = await http.post(
            f"/api/incidents/{incident}/evaluation",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "to_improve",
                "text": "The red zone was drawn late",
                "owner": "D3 planning",
                "due": "2030-01-31",
            },
        )
        assert response.status_code == 201, response.text
        point = response.json()["point"]
        response = await http.patch(
            f"/api/incidents/{incident}/evaluation/{point['id']}",
            json={"version": 1, "state": "closed", "due": None},
        )
        assert response.status_code == 200, response.text
        # contact.listed
        response = await http.post(
            "/api/contacts",
            json={"name": "Duty officer", "methods": [{"type": "phone", "value": "+3225011111"}]},
        )
        assert response.status_code == 201, response.text
        response = await http.post(
            f"/api/incidents/{incident}/contacts",
            json={"contact_id": response.json()["contact"]["id"]},
        )
        assert response.status_code == 201, response.text
        # plan.activated (an approved version with one anchor)
        response = await http.post(
            "/api/plans", json={"title": "PPUI", "kind": "special", "level": "municipal"}
        )
        assert response.status_code == 201, response.text
        plan_id = response.json()["plan"]["id"]
        command_post = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [4.35, 50.85]},
            "properties": {"kind": "command_post", "label": "PC-Ops"},
        }
        response = await http.post(
            f"/api/plans/{plan_id}/versions",
            files=[("files", ("plan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"))],
            data={"anchors": json.dumps({"type": "FeatureCollection", "features": [command_post]})},
        )
        assert response.status_code == 201, response.text
        response = await http.post(f"/api/plans/{plan_id}/versions/1/approve")
        assert response.status_code == 200, response.text
        response = await http.post(f"/api/incidents/{incident}/plans", json={"plan_id": plan_id})
        assert response.status_code == 200, response.text

    for _ in range(200):
        held = watcher.incidents[incident].events
        if {event["type"] for event in held} >= set(events.EVENT_DATA):
            break
        await asyncio.sleep(0.05)
    live = watcher.incidents[incident].events
    assert {event["type"] for event in live} == set(events.EVENT_DATA)
    for event in live:
        events.check_event(event)
    [alert] = [event["data"] for event in live if event["type"] == "convoy.alert"]
    assert alert["alert"] == "enter" and alert["anchor_id"] == zone["id"]

    # The same events replayed, and read from the REST log (each checked against its model).
    replay = await watcher.request("incident.join", {"incident_id": incident, "since": 0})
    async with httpx.AsyncClient(
        base_url=hub_server.url, headers=bearer(manager), timeout=10
    ) as http:
        page = (await http.get(f"/api/incidents/{incident}/events", params={"since": 0})).json()
        anchors = (await http.get(f"/api/incidents/{incident}/anchors")).json()
        feed = (await http.get(f"/api/incidents/{incident}/feed")).json()
        convoys = (await http.get(f"/api/incidents/{incident}/convoys")).json()
    assert page["seq"] == live[-1]["seq"]
    for event in page["events"]:
        events.check_event(event)
    assert page["events"] == replay["events"] == live
    events.check(events.AnchorCollection, anchors)
    [activated] = [event["data"] for event in live if event["type"] == "plan.activated"]
    assert [feature["id"] for feature in anchors["features"]] == [
        zone["id"],
        *activated["anchor_ids"],
    ]
    events.check(list[events.FeedEntryPublic], feed["entries"])
    events.check(list[events.ConvoyPublic], convoys["convoys"])

    # A late joiner's snapshot has every part: anchors, feed, convoys with a position, online.
    late = await clients(hub_server, manager)
    joined = await late.join(incident)
    snapshot = joined["snapshot"]
    events.check(events.Snapshot, snapshot)
    # the post and its correction, the anchors created and deleted by hand (three entries, the
    # plan's anchors none: its one decision says what it laid down), and the activation's decision
    assert snapshot["anchors"]["features"] and len(snapshot["feed"]) == 6
    assert [e["text"] for e in snapshot["feed"] if e["text"].startswith("Anchor ")] == [
        "Anchor created: Red zone (exclusion_zone)",
        "Anchor created: CP-Ops (command_post)",
        "Anchor deleted: CP-Ops (command_post)",
    ]
    assert snapshot["plans"] == [activated]
    assert snapshot["convoys"][0]["vehicles"][0]["last_position"] is not None
    # a client following presence changes finds who is online in the join's presence page
    events.check(events.PresencePage, joined["presence"])
    assert {user["user_id"] for user in joined["presence"]["online"]} == {manager.id}


def _event(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    actor = {"id": "geotool", "name": "GeoTool", "organisation": "system"}
    return {
        "incident_id": "i",
        "seq": 1,
        "type": kind,
        "at": "2026-05-01T08:00:00Z",
        "actor": actor,
        "data": data,
    }


ALERT = {
    "alert": "stopped",
    "vehicle_id": "v",
    "vehicle_label": "VIP 1",
    "convoy_id": "c",
    "lat": 50.84,
    "lon": 4,  # an integer is a number in JSON
    "ts": "2026-05-01T08:00:00Z",
    "eta_s": None,
    "stopped_s": 130.0,
}


def test_the_checks_refuse_what_the_contract_does_not_say() -> None:
    events.check_event(_event("convoy.alert", ALERT))
    with pytest.raises(ValueError, match="unknown event type"):
        events.check_event(_event("feed.deleted", ALERT))
    refused: list[tuple[str, dict[str, Any]]] = [
        ("convoy.alert", {**ALERT, "speed": 3.0}),  # an unknown field
        ("convoy.alert", {**ALERT, "lat": "50.84"}),  # no coercion
        ("convoy.alert", {**ALERT, "alert": "late"}),
        ("convoy.alert", {**ALERT, "ts": "2026-05-01T10:00:00+02:00"}),  # UTC, with a Z
        ("convoy.alert", {k: v for k, v in ALERT.items() if k != "vehicle_label"}),
        ("member.removed", {"user_id": "u", "username": "bob"}),
    ]
    for kind, data in refused:
        with pytest.raises(ValidationError):
            events.check_event(_event(kind, data))
    unstopped = {k: v for k, v in ALERT.items() if k != "stopped_s"}
    for data in (unstopped, {**unstopped, "silent_s": 3.0}):  # not a stop alert's own fields
        with pytest.raises(ValueError, match="carries"):
            events.check_event(_event("convoy.alert", data))
    with pytest.raises(ValidationError):  # the envelope too
        events.check_event({**_event("convoy.alert", ALERT), "seq": "1"})


def test_only_the_actions_write_sequenced_events() -> None:
    """Design principle 3: hub/actions/ are the only writers of the log (and of seqs)."""
    writers = re.compile(r"\b(log_event|take_seq)\(|insert\(Event\)|Incident\.last_seq \+")
    found = [
        str(path.relative_to(ROOT))
        for folder in ("hub", "web")
        for path in sorted(Path(ROOT, folder).rglob("*.py"))
        if writers.search(path.read_text())
    ]
    assert all(p.startswith("hub/actions/") or p == "hub/eventlog.py" for p in found), found
