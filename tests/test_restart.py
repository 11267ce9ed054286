"""A restarted hub keeps everything; clients catch up by seq, or reset when far behind."""

from __future__ import annotations

import uuid
from pathlib import Path

from hub.actions.feed import post_entry
from hub.auth import Principal
from models.shapes import FeedPostIn
from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder, TestUser


def post(incident: str, text: str) -> dict[str, str]:
    return {"incident_id": incident, "client_id": str(uuid.uuid4()), "text": text}


async def test_client_catches_up_after_hub_crash_and_restart(
    database_url: str, logs: Path, seed: Seeder, clients: Clients
) -> None:
    server = HubProcess(database_url, log_dir=logs).start()
    try:
        cp, field = await seed.user("cp"), await seed.user("field")
        incident = await seed.incident({cp: "contributor", field: "contributor"})
        watcher = await clients(server, cp)
        writer = await clients(server, field)
        await watcher.join(incident)
        await writer.join(incident)
        acked = [
            (await writer.request("feed.post", post(incident, f"before {n}")))["entry"]
            for n in range(5)
        ]
        await watcher.wait_for_seq(incident, 5)
        server.kill()  # SIGKILL: a crash, not a shutdown
        server.start()  # same port and database
        await writer.connected.wait()
        acked += [
            (await writer.until_acked("feed.post", post(incident, f"after {n}")))["entry"]
            for n in range(3)
        ]
        # The watcher reconnects by itself and asks for what it missed with `since`.
        await watcher.wait_for_seq(incident, 8, timeout=20)
        events = watcher.incidents[incident].events
        assert [e["seq"] for e in events] == list(range(1, 9))
        assert [e["data"]["id"] for e in events] == [entry["id"] for entry in acked]
        assert watcher.incidents[incident].resets == 0
    finally:
        server.stop()


async def test_a_client_too_far_behind_gets_a_snapshot_and_reset(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    user = await seed.user("cp")
    incident = await seed.incident({user: "contributor"})
    c = await clients(hub_server, user)
    first = await c.request("feed.post", post(incident, "first"))
    principal = await _principal(seed, user)
    for n in range(1_001):  # written straight through the domain function, as ingestion does
        await post_entry(
            seed.hub, principal, FeedPostIn.model_validate(post(incident, f"bulk {n}"))
        )
    assert first["entry"]["seq"] == 1
    near = await c.call("incident.join", {"incident_id": incident, "since": 2})
    assert len(near["events"]) == 1_000 and near["events"][-1]["seq"] == 1_002
    far = await c.call("incident.join", {"incident_id": incident, "since": 1})
    assert far["reset"] is True and far["seq"] == 1_002
    assert len(far["snapshot"]["feed"]) == 100
    assert far["snapshot"]["feed"][-1]["text"] == "bulk 1000"


async def _principal(seed: Seeder, user: TestUser) -> Principal:
    from hub.auth import principal_for_token

    async with seed.hub.db.read() as session:
        principal = await principal_for_token(session, user.token)
    assert principal is not None
    return principal
