"""Every role rule of the contract, over live sockets and HTTP."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
import socketio

from hub.client import HubClient
from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder

POINT = {"type": "Point", "coordinates": [4.40, 50.90]}


def feed_post(incident: str) -> dict[str, Any]:
    return {"incident_id": incident, "client_id": str(uuid.uuid4()), "text": "status report"}


def anchor_create(incident: str) -> dict[str, Any]:
    return {
        "incident_id": incident,
        "client_id": str(uuid.uuid4()),
        "kind": "press_point",
        "label": "Press",
        "geometry": POINT,
    }


async def test_non_member_is_refused_and_receives_nothing(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    member, outsider = await seed.user("member"), await seed.user("outsider")
    incident = await seed.incident({member: "contributor"})
    m, o = await clients(hub_server, member), await clients(hub_server, outsider)
    await m.join(incident)
    received: list[tuple[str, object]] = []
    o.sio.on("*", lambda event, data: received.append((event, data)))
    joined = await o.call("incident.join", {"incident_id": incident})
    assert joined["ok"] is False and joined["error"]["code"] == "forbidden"
    for event, payload in [
        ("feed.post", feed_post(incident)),
        ("anchor.create", anchor_create(incident)),
        ("incident.join", {"incident_id": incident, "since": 0}),
    ]:
        ack = await o.call(event, payload)
        assert ack["error"]["code"] == "forbidden", event
    # Activity in the incident must not reach the outsider.
    await m.request("feed.post", feed_post(incident))
    await m.request("anchor.create", anchor_create(incident))
    await m.wait_for_seq(incident, 2)
    await asyncio.sleep(0.3)
    assert received == []
    headers = {"Authorization": f"Bearer {outsider.token}"}
    async with httpx.AsyncClient(base_url=hub_server.url, headers=headers) as http:
        for path in ("", "/feed", "/anchors", "/events", "/members"):
            response = await http.get(f"/api/incidents/{incident}{path}")
            assert response.status_code == 403, path
            assert response.json()["error"]["code"] == "forbidden"
        listed = await http.get("/api/incidents")
        assert incident not in [i["id"] for i in listed.json()["incidents"]]


async def test_viewer_reads_contributor_writes_manager_manages(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    viewer, contributor, manager = (
        await seed.user("viewer"),
        await seed.user("contrib"),
        await seed.user("manager"),
    )
    incident = await seed.incident(
        {viewer: "viewer", contributor: "contributor", manager: "manager"}
    )
    v, c = await clients(hub_server, viewer), await clients(hub_server, contributor)
    await v.join(incident)
    for event, payload in [
        ("feed.post", feed_post(incident)),
        ("anchor.create", anchor_create(incident)),
    ]:
        assert (await v.call(event, payload))["error"]["code"] == "forbidden"
    anchor = (await c.request("anchor.create", anchor_create(incident)))["anchor"]
    # Any contributor may move or delete any anchor of the incident.
    moved = await v.call(
        "anchor.update",
        {"incident_id": incident, "anchor_id": anchor["id"], "version": 1, "label": "x"},
    )
    assert moved["error"]["code"] == "forbidden"
    async with httpx.AsyncClient(base_url=hub_server.url) as http:
        as_contributor = {"Authorization": f"Bearer {contributor.token}"}
        as_manager = {"Authorization": f"Bearer {manager.token}"}
        refused = await http.patch(
            f"/api/incidents/{incident}", json={"phase": "provincial"}, headers=as_contributor
        )
        assert refused.status_code == 403
        refused = await http.post(
            f"/api/incidents/{incident}/members",
            json={"username": viewer.username, "role": "manager"},
            headers=as_contributor,
        )
        assert refused.status_code == 403
        changed = await http.patch(
            f"/api/incidents/{incident}", json={"phase": "provincial"}, headers=as_manager
        )
        assert changed.status_code == 200 and changed.json()["incident"]["phase"] == "provincial"
        promoted = await http.post(
            f"/api/incidents/{incident}/members",
            json={"username": viewer.username, "role": "contributor"},
            headers=as_manager,
        )
        assert promoted.status_code == 200
        # Users and organisations are for admins only.
        refused = await http.post(
            "/api/organisations", json={"name": "Red Cross"}, headers=as_manager
        )
        assert refused.status_code == 403
    assert (await v.request("feed.post", feed_post(incident)))["ok"]
    await v.wait_for_seq(incident, 5)
    assert [e["type"] for e in v.incidents[incident].events] == [
        "anchor.created",
        "feed.posted",  # the contributor's anchor, in the feed
        "incident.updated",
        "member.added",
        "feed.posted",
    ]


async def test_closed_incident_refuses_writes_until_reopened(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    manager = await seed.user("manager")
    incident = await seed.incident({manager: "manager"})
    m = await clients(hub_server, manager)
    await m.join(incident)
    headers = {"Authorization": f"Bearer {manager.token}"}
    async with httpx.AsyncClient(base_url=hub_server.url, headers=headers) as http:
        closed = await http.patch(f"/api/incidents/{incident}", json={"status": "closed"})
        assert closed.json()["incident"]["closed_at"] is not None
        ack = await m.call("feed.post", feed_post(incident))
        assert ack["error"]["code"] == "forbidden" and "closed" in ack["error"]["message"]
        assert (await m.call("anchor.create", anchor_create(incident)))["error"]["code"] == (
            "forbidden"
        )
        phase = await http.patch(f"/api/incidents/{incident}", json={"phase": "federal"})
        assert phase.status_code == 403
        # Reading a closed incident still works: evaluation afterwards.
        assert (await http.get(f"/api/incidents/{incident}/events")).status_code == 200
        reopened = await http.patch(f"/api/incidents/{incident}", json={"status": "open"})
        assert reopened.json()["incident"]["status"] == "open"
    assert (await m.call("feed.post", feed_post(incident)))["ok"]


async def test_removed_member_leaves_the_room_at_once(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    manager, field = await seed.user("manager"), await seed.user("field")
    incident = await seed.incident({manager: "manager", field: "contributor"})
    m, f = await clients(hub_server, manager), await clients(hub_server, field)
    await m.join(incident)
    await f.join(incident)
    left: list[dict[str, Any]] = []
    f.sio.on("incident.left", left.append)
    headers = {"Authorization": f"Bearer {manager.token}"}
    async with httpx.AsyncClient(base_url=hub_server.url, headers=headers) as http:
        removed = await http.delete(f"/api/incidents/{incident}/members/{field.username}")
        assert removed.status_code == 200
    for _ in range(100):
        if left:
            break
        await asyncio.sleep(0.05)
    assert left == [{"incident_id": incident, "reason": "removed"}]
    before = f.seq(incident)
    await m.request("feed.post", feed_post(incident))
    await m.wait_for_seq(incident, 2)
    await asyncio.sleep(0.3)
    assert f.seq(incident) == before  # nothing more reaches them
    assert (await f.call("feed.post", feed_post(incident)))["error"]["code"] == "forbidden"


async def test_revoked_token_is_disconnected_and_refused(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    user = await seed.user("field")
    incident = await seed.incident({user: "contributor"})
    client = await clients(hub_server, user)
    await client.join(incident)
    headers = {"Authorization": f"Bearer {user.token}"}
    async with httpx.AsyncClient(base_url=hub_server.url, headers=headers) as http:
        me = await http.get("/api/me")
        assert me.json()["user"]["username"] == user.username
        second = (await http.post("/api/tokens", json={})).json()
        other = {"Authorization": f"Bearer {second['token']}"}
        revoked = await http.delete(f"/api/tokens/{second['id']}")
        assert revoked.status_code == 200
        assert (await http.get("/api/me", headers=other)).status_code == 401
    # Logging out revokes the token in use, which drops the socket holding it.
    client.sio.reconnection = False
    async with httpx.AsyncClient(base_url=hub_server.url, headers=headers) as http:
        assert (await http.delete("/api/session")).status_code == 200
    for _ in range(100):
        if not client.sio.connected:
            break
        await asyncio.sleep(0.05)
    assert not client.sio.connected
    # The hub keeps a token's principal a short while for reconnects; a revocation clears it.
    again = HubClient(hub_server.url, user.token)
    try:
        with pytest.raises(Exception, match=r"unauthorized|failed to connect"):
            await again.connect(timeout=3)
    finally:
        await again.close()


async def test_connects_in_flight_read_their_tokens_together_and_each_is_its_own_user(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    """Connects that arrive together share one read of their tokens
    (hub/batched.py): each socket is still its own user, and a revoked or unknown
    token among them is refused."""
    users = [await seed.user(f"crowd{i}") for i in range(20)]
    gone = [await seed.user(f"gone{i}") for i in range(2)]
    incident = await seed.incident({user: "contributor" for user in users})
    for user in gone:
        headers = {"Authorization": f"Bearer {user.token}"}
        async with httpx.AsyncClient(base_url=hub_server.url, headers=headers) as http:
            assert (await http.delete("/api/session")).status_code == 200
    refused: list[object] = []

    async def refused_connect(token: str) -> None:
        client = socketio.AsyncClient(reconnection=False)
        client.on("connect_error", refused.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(hub_server.url, auth={"token": token}, transports=["websocket"])

    made = await asyncio.gather(
        *(clients(hub_server, user) for user in users),
        *(refused_connect(user.token) for user in gone),
        refused_connect("chk_" + "x" * 43),
        refused_connect("chk_" + "y" * 43),
    )
    assert refused == [{"message": "unauthorized"}] * 4
    for user, client in zip(users, made, strict=False):
        assert isinstance(client, HubClient)
        await client.join(incident)
        ack = await client.request("feed.post", feed_post(incident))
        assert ack["entry"]["author"]["id"] == user.id


async def test_a_write_whose_incident_closed_after_its_role_check_still_refuses(
    seed: Seeder,
) -> None:
    """The role check reads the status before the seq UPDATE locks the incident row; an
    incident closed in between must still refuse: take_seq checks the status under the lock.
    The interleaving cannot be provoked from outside, so it is set up inside one transaction."""
    from sqlalchemy import update
    from sqlmodel import col

    from hub.errors import HubError
    from hub.eventlog import take_seq
    from models import Incident

    manager = await seed.user("closer")
    incident = await seed.incident({manager: "manager"})
    async with seed.hub.db.write() as session:
        before = await take_seq(session, incident, open_only=True)  # open: a seq
        await session.execute(
            update(Incident).where(col(Incident.id) == incident).values(status="closed")
        )
        with pytest.raises(HubError) as refused:
            await take_seq(session, incident, open_only=True)
        assert refused.value.code == "forbidden" and "closed" in refused.value.message
        assert await take_seq(session, incident) == before + 1  # reopening, members: allowed
        await session.rollback()
