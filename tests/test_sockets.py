"""Live hub, real sockets: what a command post and a field team do together."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
import socketio

from hub.actions import feed
from hub.auth import principal_for_token
from hub.client import AckError, HubClient
from hub.eventlog import events_since
from hub.realtime.replay import RecentEvents
from models.events import PresenceChanged, PresencePage, check
from models.shapes import FeedPostIn
from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder

POINT = {"type": "Point", "coordinates": [4.3517, 50.8466]}
SQUARE_RING = [[4.35, 50.84], [4.36, 50.84], [4.36, 50.85], [4.35, 50.85], [4.35, 50.84]]
SQUARE = {"type": "Polygon", "coordinates": [SQUARE_RING]}


def post(
    incident_id: str, text: str = "Smoke seen at Grand-Place", **extra: object
) -> dict[str, object]:
    return {"incident_id": incident_id, "client_id": str(uuid.uuid4()), "text": text, **extra}


async def test_two_users_see_each_others_feed_and_anchor_moves(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    post_cp, field = await seed.user("cp"), await seed.user("field", discipline="D1")
    incident = await seed.incident({post_cp: "manager", field: "contributor"})
    a, b = await clients(hub_server, post_cp), await clients(hub_server, field)
    await a.join(incident)
    await b.join(incident)

    ack = await b.request(
        "feed.post",
        post(incident, "Fire on 3rd floor", priority="urgent", kind="info", location=POINT),
    )
    await a.wait_for_seq(incident, 1)
    event = a.incidents[incident].events[0]
    assert event["type"] == "feed.posted"
    assert event["data"] == ack["entry"]
    assert event["actor"] == {
        "id": field.id,
        "name": field.username,
        "organisation": "Police Brussels",
    }
    assert ack["entry"]["author"]["discipline"] == "D1"
    assert ack["entry"]["priority"] == "urgent"

    created = await a.request(
        "anchor.create",
        {
            "incident_id": incident,
            "client_id": str(uuid.uuid4()),
            "kind": "exclusion_zone",
            "label": "Exclusion",
            "geometry": SQUARE,
            "properties": {"radius_m": 100},
        },
    )
    anchor = created["anchor"]
    moved = await b.request(
        "anchor.update",
        {
            "incident_id": incident,
            "anchor_id": anchor["id"],
            "version": 1,
            "geometry": {
                **SQUARE,
                "coordinates": [[[x + 0.001, y] for x, y in SQUARE_RING]],
            },
        },
    )
    assert moved["anchor"]["version"] == 2
    # Each change of the map is also a feed entry by whoever made it, sequenced right after it.
    await a.wait_for_seq(incident, 5)
    events = a.incidents[incident].events
    assert [e["type"] for e in events] == [
        "feed.posted",
        "anchor.created",
        "feed.posted",
        "anchor.updated",
        "feed.posted",
    ]
    assert events[3]["data"]["geometry"] == moved["anchor"]["geometry"]
    assert events[2]["data"]["text"] == "Anchor created: Exclusion (exclusion_zone)"
    assert events[2]["data"]["author"]["id"] == post_cp.id
    assert events[2]["data"]["kind"] == "info"
    assert events[4]["data"]["text"] == "Anchor moved: Exclusion (exclusion_zone)"
    assert events[4]["data"]["author"]["id"] == field.id
    lon, lat = events[4]["data"]["location"]["coordinates"]
    assert (lon, lat) != tuple(events[2]["data"]["location"]["coordinates"])
    await b.wait_for_seq(incident, 5)
    assert [e["seq"] for e in b.incidents[incident].events] == [1, 2, 3, 4, 5]

    # A new label alone moves nothing: no entry.
    renamed = await b.request(
        "anchor.update",
        {"incident_id": incident, "anchor_id": anchor["id"], "version": 2, "label": "Zone rouge"},
    )
    deleted = await a.request(
        "anchor.delete",
        {
            "incident_id": incident,
            "anchor_id": anchor["id"],
            "version": renamed["anchor"]["version"],
        },
    )
    assert deleted["anchor"]["deleted"] is True
    await b.wait_for_seq(incident, 8)
    assert [e["type"] for e in b.incidents[incident].events[5:]] == [
        "anchor.updated",
        "anchor.deleted",
        "feed.posted",
    ]
    rejoined = await b.call("incident.join", {"incident_id": incident})
    assert rejoined["snapshot"]["anchors"]["features"] == []
    assert [e["text"] for e in rejoined["snapshot"]["feed"]] == [
        "Fire on 3rd floor",
        "Anchor created: Exclusion (exclusion_zone)",
        "Anchor moved: Exclusion (exclusion_zone)",
        "Anchor deleted: Zone rouge (exclusion_zone)",
    ]


async def test_snapshot_shapes_and_presence(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    alice, bob = await seed.user("alice"), await seed.user("bob", organisation="Fire Zone Brussels")
    incident = await seed.incident({alice: "contributor", bob: "viewer"}, kind="exercise")
    a = await clients(hub_server, alice)
    await a.request("incident.join", {"incident_id": incident})
    await a.request(
        "anchor.create",
        {
            "incident_id": incident,
            "client_id": str(uuid.uuid4()),
            "kind": "command_post",
            "label": "CP-Ops",
            "geometry": POINT,
        },
    )
    # a v1 client: the whole list in the snapshot and in each `presence`
    b = await clients(hub_server, bob, presence="list")
    ack = await b.join(incident)
    assert ack["incident"]["kind"] == "exercise" and ack["incident"]["role"] == "viewer"
    snapshot = ack["snapshot"]
    feature = snapshot["anchors"]["features"][0]
    assert snapshot["anchors"]["type"] == "FeatureCollection"
    assert feature["type"] == "Feature" and feature["properties"]["kind"] == "command_post"
    assert feature["properties"]["label"] == "CP-Ops" and feature["properties"]["version"] == 1
    assert snapshot["convoys"] == []
    assert {u["user_id"] for u in snapshot["online"]} == {alice.id, bob.id}
    for _ in range(50):
        if {u["user_id"] for u in a.presence.get(incident, [])} == {alice.id, bob.id}:
            break
        await asyncio.sleep(0.05)
    assert {u["user_id"] for u in a.presence[incident]} == {alice.id, bob.id}
    await b.leave(incident)
    for _ in range(50):
        if {u["user_id"] for u in a.presence[incident]} == {alice.id}:
            break
        await asyncio.sleep(0.05)
    assert {u["user_id"] for u in a.presence[incident]} == {alice.id}


async def online_becomes(client: HubClient, incident: str, expected: set[str]) -> None:
    for _ in range(100):
        if {u["user_id"] for u in client.presence.get(incident, [])} == expected:
            return
        await asyncio.sleep(0.05)
    assert {u["user_id"] for u in client.presence.get(incident, [])} == expected


async def test_presence_as_versioned_changes(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    """Issue 18: a client joining with presence "changes" gets the list once, in the join's
    `presence` page with its version, then `presence.changed` with who came and went, each
    version following the last; v1 clients in the same incident keep receiving lists."""
    alice, bob, carol = [await seed.user(name) for name in ("alice", "bob", "carol")]
    incident = await seed.incident({alice: "contributor", bob: "viewer", carol: "viewer"})
    a = await clients(hub_server, alice)
    changes = a.presence_changes
    ack = await a.join(incident)
    assert "online" not in ack["snapshot"]
    page = ack["presence"]
    check(PresencePage, page)
    assert page["incident_id"] == incident and page["offset"] == 0
    assert page["total"] == len(page["online"])
    await online_becomes(a, incident, {alice.id})
    start = a.presence_versions[incident]

    b = await clients(hub_server, bob)
    await b.join(incident)
    await online_becomes(a, incident, {alice.id, bob.id})
    v1 = await clients(hub_server, carol, presence="list")
    first = await v1.join(incident)
    assert {u["user_id"] for u in first["snapshot"]["online"]} >= {alice.id, carol.id}
    await online_becomes(a, incident, {alice.id, bob.id, carol.id})
    await online_becomes(v1, incident, {alice.id, bob.id, carol.id})
    await b.leave(incident)
    await online_becomes(a, incident, {alice.id, carol.id})
    await online_becomes(v1, incident, {alice.id, carol.id})

    # every change names only who changed, with versions that follow each other
    for message in changes:
        check(PresenceChanged, message)
    versions = [m["version"] for m in changes if m["version"] > start]
    assert versions == list(range(start + 1, start + 1 + len(versions)))
    assert {u["user_id"] for m in changes for u in m["joined"]} >= {bob.id, carol.id}
    assert bob.id in {user for m in changes for user in m["left"]}
    assert all(alice.id not in {u["user_id"] for u in m["joined"]} for m in changes[1:])
    assert a.presence_resyncs == 0

    # a missed change is noticed by its version, and the list read again
    a.presence_versions[incident] -= 1
    a.presence[incident] = []
    await b.join(incident)
    await online_becomes(a, incident, {alice.id, bob.id, carol.id})
    assert a.presence_resyncs == 1
    again = await a.request("presence.get", {"incident_id": incident})
    assert {u["user_id"] for u in again["presence"]["online"]} == {alice.id, bob.id, carol.id}
    assert again["presence"]["version"] == a.presence_versions[incident]
    paged = await a.request("presence.get", {"incident_id": incident, "offset": 1, "limit": 1})
    assert paged["presence"]["total"] == 3 and len(paged["presence"]["online"]) == 1
    assert paged["presence"]["online"] == again["presence"]["online"][1:2]

    # only for a socket in the incident; bad pages are refused
    other = await seed.incident({alice: "viewer"})
    refused = await a.call("presence.get", {"incident_id": other})
    assert refused["error"]["code"] == "forbidden"
    bad = await a.call("presence.get", {"incident_id": incident, "limit": 5000})
    assert bad["error"]["code"] == "invalid"
    bad = await a.call("incident.join", {"incident_id": incident, "presence": "diff"})
    assert bad["error"]["code"] == "invalid"


async def test_retry_with_same_client_id_returns_first_result_and_writes_nothing(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    alice = await seed.user("alice")
    incident = await seed.incident({alice: "contributor"})
    a = await clients(hub_server, alice)
    await a.join(incident)
    payload = post(incident, "Evacuation of block B ordered", kind="decision")
    first = await a.request("feed.post", payload)
    second = await a.request("feed.post", payload)
    assert first == second
    anchor_payload = {
        "incident_id": incident,
        "client_id": str(uuid.uuid4()),
        "kind": "helipad",
        "label": "H1",
        "geometry": POINT,
    }
    assert await a.request("anchor.create", anchor_payload) == await a.request(
        "anchor.create", anchor_payload
    )
    joined = await a.call("incident.join", {"incident_id": incident, "since": 0})
    # the anchor once, and its feed entry once
    assert [e["type"] for e in joined["events"]] == ["feed.posted", "anchor.created", "feed.posted"]
    assert joined["seq"] == 3


async def test_concurrent_posts_share_commits_and_a_retry_among_them_writes_nothing(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    """Posts in flight together are group-committed: a duplicate client_id or a refused post
    among them fails only itself, and every stored post has one event with its own seq."""
    alice, bob, carol = await seed.user("alice"), await seed.user("bob"), await seed.user("carol")
    incident = await seed.incident({alice: "contributor", bob: "contributor", carol: "viewer"})
    a, b, c = [await clients(hub_server, u) for u in (alice, bob, carol)]
    for client in (a, b, c):
        await client.join(incident)
    retried = post(incident, "Road N4 closed at Halle")
    payloads = [post(incident, f"report {n}") for n in range(10)] + [retried, retried]
    acks = await asyncio.gather(
        *(
            (a if n % 2 else b).call("feed.post", payload)
            for n, payload in enumerate([*payloads, retried])
        ),
        c.call("feed.post", post(incident, "a viewer may not post")),
    )
    *posted, refused = acks
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    assert all(ack["ok"] for ack in posted)
    entries = [ack["entry"] for ack in posted]
    assert entries[10] == entries[11] == entries[12]
    assert sorted({e["seq"] for e in entries}) == list(range(1, 12))
    for client in (a, b, c):
        await client.wait_for_seq(incident, 11)
        held = client.incidents[incident].events
        assert [e["seq"] for e in held] == list(range(1, 12))
        assert {e["data"]["client_id"]: e["data"] for e in held} == {
            e["client_id"]: e for e in entries
        }


async def test_stale_version_gets_conflict_with_current_anchor(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    alice, bob = await seed.user("alice"), await seed.user("bob")
    incident = await seed.incident({alice: "contributor", bob: "contributor"})
    a, b = await clients(hub_server, alice), await clients(hub_server, bob)
    await a.join(incident)
    created = await a.request(
        "anchor.create",
        {
            "incident_id": incident,
            "client_id": str(uuid.uuid4()),
            "kind": "staging_area",
            "label": "Staging",
            "geometry": POINT,
        },
    )
    anchor_id = created["anchor"]["id"]
    await a.request(
        "anchor.update",
        {"incident_id": incident, "anchor_id": anchor_id, "version": 1, "label": "Staging North"},
    )
    stale = await b.call(
        "anchor.update",
        {"incident_id": incident, "anchor_id": anchor_id, "version": 1, "label": "Staging South"},
    )
    assert stale["ok"] is False and stale["error"]["code"] == "conflict"
    assert stale["anchor"]["label"] == "Staging North" and stale["anchor"]["version"] == 2
    stale_delete = await b.call(
        "anchor.delete", {"incident_id": incident, "anchor_id": anchor_id, "version": 1}
    )
    assert stale_delete["error"]["code"] == "conflict"
    # Two concurrent edits at the same version: exactly one wins.
    results = await asyncio.gather(
        a.call(
            "anchor.update",
            {"incident_id": incident, "anchor_id": anchor_id, "version": 2, "label": "A"},
        ),
        b.call(
            "anchor.update",
            {"incident_id": incident, "anchor_id": anchor_id, "version": 2, "label": "B"},
        ),
    )
    assert sorted(r["ok"] for r in results) == [False, True]
    loser = next(r for r in results if not r["ok"])
    winner = next(r for r in results if r["ok"])
    assert loser["error"]["code"] == "conflict" and loser["anchor"] == winner["anchor"]
    await a.wait_for_seq(incident, 4)
    assert (
        a.seq(incident) == 4
    )  # created (and its feed entry) and two renames: conflicts wrote nothing


async def test_correction_is_a_new_entry_pointing_at_the_original(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    alice = await seed.user("alice")
    incident = await seed.incident({alice: "contributor"})
    a = await clients(hub_server, alice)
    await a.join(incident)
    original = (
        await a.request(
            "feed.post", post(incident, "12 victims", kind="info", priority="flash", location=POINT)
        )
    )["entry"]
    corrected = await a.request(
        "feed.correct",
        {
            "incident_id": incident,
            "entry_id": original["id"],
            "client_id": str(uuid.uuid4()),
            "text": "14 victims",
            "reason": "recount by D2",
        },
    )
    entry = corrected["entry"]
    assert entry["corrects"] == original["id"] and entry["id"] != original["id"]
    assert entry["priority"] == "flash" and entry["location"] == POINT
    await a.wait_for_seq(incident, 2)
    assert a.incidents[incident].events[-1]["type"] == "feed.corrected"
    feed = (await a.call("incident.join", {"incident_id": incident}))["snapshot"]["feed"]
    assert [e["text"] for e in feed] == ["12 victims", "14 victims"]
    missing = await a.call(
        "feed.correct",
        {
            "incident_id": incident,
            "entry_id": "nope",
            "client_id": str(uuid.uuid4()),
            "text": "x",
            "reason": "y",
        },
    )
    assert missing["error"]["code"] == "not_found"


async def test_unauthenticated_connections_are_refused(hub_server: HubProcess) -> None:
    for auth in ({"token": "chk_wrong"}, None, {"token": 42}):
        client = socketio.AsyncClient(reconnection=False)
        reasons: list[object] = []
        client.on("connect_error", reasons.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(hub_server.url, auth=auth, transports=["websocket"])
        assert reasons == [{"message": "unauthorized"}]


async def test_gap_is_recovered_by_since(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    alice, bob = await seed.user("alice"), await seed.user("bob")
    incident = await seed.incident({alice: "contributor", bob: "viewer"})
    a, b = await clients(hub_server, alice), await clients(hub_server, bob)
    await a.join(incident)
    await b.join(incident)
    await b.leave(incident)
    for n in range(5):
        await a.request("feed.post", post(incident, f"update {n}"))
    b.incidents.clear()
    await b.join(incident)  # a fresh snapshot holds seq 5
    assert b.seq(incident) == 5
    ack = await b.call("incident.join", {"incident_id": incident, "since": 2})
    assert [e["seq"] for e in ack["events"]] == [3, 4, 5]
    ahead = await b.call("incident.join", {"incident_id": incident, "since": 99})
    assert ahead["reset"] is True and "snapshot" in ahead


async def test_ack_error_is_raised_by_client_library(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    viewer = await seed.user("viewer")
    incident = await seed.incident({viewer: "viewer"})
    v = await clients(hub_server, viewer)
    with pytest.raises(AckError) as error:
        await v.request("feed.post", post(incident))
    assert error.value.code == "forbidden"


def test_replay_ring_answers_only_a_run_without_holes() -> None:
    ring = RecentEvents(per_incident=4)

    def ev(seq: int, incident: str = "i1") -> dict[str, Any]:
        return {"incident_id": incident, "seq": seq, "type": "t", "data": {}}

    assert ring.since("i1", 0, 0) is None  # nothing delivered here yet
    for seq in (1, 2, 3):
        ring.add(ev(seq))
    assert [e["seq"] for e in ring.since("i1", 0, 3) or []] == [1, 2, 3]
    assert ring.since("i1", 3, 3) == []
    assert ring.since("i1", 1, 4) is None  # seq 4 was read under the role check, not delivered
    ring.add(ev(2))  # a duplicate (a recovery nudge) changes nothing
    ring.add(ev(5))  # seq 4 is missing (lost on Redis, or out of order): the run restarts at 5
    assert ring.since("i1", 3, 5) is None  # 4 must come from the database
    assert [e["seq"] for e in ring.since("i1", 4, 5) or []] == [5]
    ring.add(ev(4))  # the late one stays out: it is below the run
    assert ring.since("i1", 3, 5) is None
    for seq in (6, 7, 8, 9):
        ring.add(ev(seq))
    assert ring.since("i1", 4, 9) is None  # 5 fell off the bounded ring
    assert [e["seq"] for e in ring.since("i1", 5, 9) or []] == [6, 7, 8, 9]
    ring.add({"incident_id": "i1", "seq": "10"})  # not an event: ignored
    assert [e["seq"] for e in ring.since("i1", 8, 9) or []] == [9]


def test_replay_ring_forgets_a_rewritten_history_and_stays_within_its_bytes() -> None:
    def ev(seq: int, text: str = "t") -> dict[str, Any]:
        return {"incident_id": "i1", "seq": seq, "type": "feed.post", "data": {"text": text}}

    ring = RecentEvents(per_incident=100, bytes_per_incident=1_000)
    for seq in (1, 2, 3):
        ring.add(ev(seq), 100)
    assert ring.since("i1", 1, 2) is None  # the database says 2: the ring must end there
    ring.add(ev(2), 100)  # the same event again (a recovery nudge): kept
    assert [e["seq"] for e in ring.since("i1", 0, 3) or []] == [1, 2, 3]
    # A fail-over lost seqs 2-3 and new commits reuse them: the ring no longer matches.
    ring.add(ev(2, "another"), 100)
    assert ring.since("i1", 0, 3) is None
    ring.add(ev(3, "after"), 100)  # starts again from the next event it sees
    assert [e["data"]["text"] for e in ring.since("i1", 2, 3) or []] == ["after"]
    for seq in range(4, 14):  # 11 events of 100 bytes against 1,000: the oldest goes
        ring.add(ev(seq), 100)
    assert ring.since("i1", 2, 13) is None
    assert [e["seq"] for e in ring.since("i1", 3, 13) or []] == list(range(4, 14))
    ring.add(ev(14), 5_000)  # larger than the budget alone: a hole, the database answers
    assert ring.since("i1", 13, 14) is None
    ring.add(ev(15), 100)
    assert ring.since("i1", 13, 15) is None
    assert [e["seq"] for e in ring.since("i1", 14, 15) or []] == [15]


async def test_replay_falls_back_to_the_database_past_a_hole(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    """An event the hub never delivered (committed without a notifier, as an operator
    command without Redis does) is a hole in the hub's ring: replays across it come from the
    database, complete and in order; replays after it may come from the ring."""
    alice, bob = await seed.user("alice"), await seed.user("bob")
    incident = await seed.incident({alice: "contributor", bob: "viewer"})
    a, b = await clients(hub_server, alice), await clients(hub_server, bob)
    await a.join(incident)
    await b.join(incident)
    base = b.seq(incident)
    await b.leave(incident)
    await a.request("feed.post", post(incident, "delivered 1"))
    await a.request("feed.post", post(incident, "delivered 2"))
    async with seed.hub.db.read() as session:
        principal = await principal_for_token(session, alice.token)
    assert principal is not None
    await feed.post_entry(seed.hub, principal, FeedPostIn.model_validate(post(incident, "quiet")))
    # the hole is the incident's last seq: the ring cannot reach the seq read under the check
    ack = await b.call("incident.join", {"incident_id": incident, "since": base})
    assert [e["seq"] for e in ack["events"]] == [base + 1, base + 2, base + 3]
    assert ack["events"][2]["data"]["text"] == "quiet"
    await b.leave(incident)
    await a.request("feed.post", post(incident, "delivered 4"))
    for since in range(base, base + 4):
        ack = await b.call("incident.join", {"incident_id": incident, "since": since})
        assert [e["seq"] for e in ack["events"]] == list(range(since + 1, base + 5)), since
        assert ack["seq"] == base + 4
        await b.leave(incident)
    # what the ring answers is what the database holds
    async with seed.hub.db.read() as session:
        stored = await events_since(session, incident, base + 3, 10)
    ack = await b.call("incident.join", {"incident_id": incident, "since": base + 3})
    assert ack["events"] == stored


async def test_websocket_compression_is_off_unless_configured(
    hub_server: HubProcess, database_url: str, logs: Path
) -> None:
    """Browsers offer permessage-deflate on every websocket; the hub declines it by default
    (a message to N sockets would be compressed N times) and accepts it when configured."""
    from websockets.asyncio.client import connect

    async def extensions(server: HubProcess) -> str | None:
        url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        async with connect(url, compression="deflate") as ws:  # offers it, as a browser does
            opened = await asyncio.wait_for(ws.recv(), 5)
            assert isinstance(opened, str) and opened.startswith("0{")  # Engine.IO open
            assert ws.response is not None
            return ws.response.headers.get("Sec-WebSocket-Extensions")

    assert await extensions(hub_server) is None
    compressing = HubProcess(database_url, log_dir=logs, websocket_compression=True).start()
    try:
        assert "permessage-deflate" in (await extensions(compressing) or "")
    finally:
        compressing.stop()


async def test_batched_reads_of_joins_answer_as_a_read_of_their_own_would(seed: Seeder) -> None:
    """The joins in flight share their reads (hub/actions/join.py's JoinReads): the events
    missed since a seq, the role check, the incident. Each ask gets what its own read gets."""
    from hub.access import incidents_by_id, require_role, roles_of
    from hub.actions.join import JoinReads
    from hub.errors import HubError
    from hub.eventlog import events_since_many
    from models import Role

    alice, outsider = await seed.user("alice"), await seed.user("outsider")
    first = await seed.incident({alice: "contributor"})
    second = await seed.incident({alice: "manager"})
    async with seed.hub.db.read() as session:
        principal = await principal_for_token(session, alice.token)
        stranger = await principal_for_token(session, outsider.token)
    assert principal is not None and stranger is not None
    for n in range(6):
        await feed.post_entry(seed.hub, principal, FeedPostIn.model_validate(post(first, f"{n}")))
    await feed.post_entry(seed.hub, principal, FeedPostIn.model_validate(post(second, "x")))
    asks = [(first, 0, 3), (first, 2, 10), (first, 4, 1), (first, 6, 5), (second, 0, 5)]
    # Far apart (more than its limit from the lowest): a branch of its own, each as alone.
    asks += [(first, 0, 2), (first, 5, 1), (first, 3, 1), (first, 3, 1)]
    asks += [("no-such-incident", 0, 5)]
    async with seed.hub.db.read() as session:
        together = await events_since_many(session, asks)
        for incident_id, since, limit in asks:
            alone = await events_since(session, incident_id, since, limit)
            assert together[(incident_id, since, limit)] == alone, (incident_id, since, limit)
        pairs = [(alice.id, first), (alice.id, second), (outsider.id, first), (alice.id, "nope")]
        roles = await roles_of(session, pairs)
        assert {key: role for key, (_, role) in roles.items()} == {
            (alice.id, first): "contributor",
            (alice.id, second): "manager",
            (outsider.id, first): None,
        }
        incident, _ = await require_role(session, principal, first, Role.VIEWER)
        assert roles[(alice.id, first)][0].last_seq == incident.last_seq == 6
        assert set(await incidents_by_id(session, [first, "nope"])) == {first}
    reads = JoinReads(seed.hub.db)
    answers = await asyncio.gather(
        reads.role(principal, first),
        reads.role(principal, second),
        reads.role(stranger, first),
        reads.role(principal, "nope"),
        *(reads.events_since(first, since, 10) for since in range(7)),
        return_exceptions=True,
    )
    assert [(i.id, r) for i, r in answers[:2]] == [
        (first, Role.CONTRIBUTOR),
        (second, Role.MANAGER),
    ]
    assert isinstance(answers[2], HubError) and answers[2].code == "forbidden"
    assert isinstance(answers[3], HubError) and answers[3].code == "not_found"
    assert [[e["seq"] for e in a] for a in answers[4:]] == [
        list(range(since + 1, 7)) for since in range(7)
    ]
    assert reads.replays.reads < 7  # shared
