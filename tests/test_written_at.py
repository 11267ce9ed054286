"""A feed entry's `written_at` (issue 19, item 13): when its author wrote it, sent by a client
whose post waited offline, stored beside the hub's `created_at`, refused outside a clock's
drift and a queue's life (models/limits.py), over the socket and over HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models.limits import MAX_WRITTEN_AGE_DAYS, MAX_WRITTEN_AHEAD_S
from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder
from tests.test_convoys import bearer


def stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_written_at_is_stored_served_and_checked(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    author = await seed.user("writer")
    incident = await seed.incident({author: "contributor"})
    client = await clients(hub_server, author)
    await client.join(incident)

    def post(text: str, **extra: Any) -> dict[str, Any]:
        return {"incident_id": incident, "client_id": str(uuid.uuid4()), "text": text, **extra}

    # Written 13 minutes ago, sent now: both times are kept, the hub's orders the feed.
    written = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=13)
    before = datetime.now(UTC)
    queued = (await client.request("feed.post", post("Queued", written_at=stamp(written))))["entry"]
    assert parse(queued["written_at"]) == written
    assert parse(queued["created_at"]) >= before - timedelta(seconds=1)
    # An offset other than Z is the same instant, served in UTC.
    offset = written.astimezone(UTC).replace(tzinfo=None).isoformat() + "+00:00"
    other = (await client.request("feed.post", post("Offset", written_at=offset)))["entry"]
    assert other["written_at"] == stamp(written)
    # Posted live: no written_at, null on the wire.
    live = (await client.request("feed.post", post("Live")))["entry"]
    assert live["written_at"] is None
    # A correction queued offline carries its own.
    fixed_at = written + timedelta(minutes=1)
    correction = (
        await client.request(
            "feed.correct",
            {
                "incident_id": incident,
                "entry_id": queued["id"],
                "client_id": str(uuid.uuid4()),
                "text": "Queued (fixed)",
                "reason": "typo",
                "written_at": stamp(fixed_at),
            },
        )
    )["entry"]
    assert correction["written_at"] == stamp(fixed_at)
    assert correction["corrects"] == queued["id"]

    # Refused, writing nothing: ahead of the hub's clock beyond the drift allowed, older than a
    # queue keeps a post, a number, no time zone.
    ahead = datetime.now(UTC) + timedelta(seconds=MAX_WRITTEN_AHEAD_S + 120)
    old = datetime.now(UTC) - timedelta(days=MAX_WRITTEN_AGE_DAYS, hours=1)
    refusals = {
        stamp(ahead): f"ahead of the hub's clock by more than {MAX_WRITTEN_AHEAD_S} s",
        stamp(old): f"older than {MAX_WRITTEN_AGE_DAYS} days",
        1764750000: "ISO 8601",
        "2026-12-03T10:02:00": "needs a time zone",
    }
    for value, words in refusals.items():
        ack = await client.call("feed.post", post("Refused", written_at=value))
        assert ack["ok"] is False, value
        assert ack["error"]["code"] == "invalid", ack
        assert words in ack["error"]["message"], ack
        assert "written_at" in ack["error"]["message"], ack
    # A little ahead (a device clock slightly fast) is taken as it is.
    slightly = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=30)
    fast = await client.request("feed.post", post("Fast clock", written_at=stamp(slightly)))
    assert fast["entry"]["written_at"] == stamp(slightly)

    # Over HTTP: the same field and rules; the list and a new join serve what was stored.
    async with httpx.AsyncClient(base_url=hub_server.url, headers=bearer(author)) as http:
        path = f"/api/incidents/{incident}/feed"
        created = await http.post(
            path,
            json={
                "client_id": str(uuid.uuid4()),
                "text": "Over HTTP",
                "written_at": stamp(written),
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["entry"]["written_at"] == stamp(written)
        refused = await http.post(
            path, json={"client_id": str(uuid.uuid4()), "text": "Refused", "written_at": stamp(old)}
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "invalid"
        listed = (await http.get(path)).json()["entries"]
    texts = [e["text"] for e in listed]
    assert "Refused" not in texts
    assert texts == ["Queued", "Offset", "Live", "Queued (fixed)", "Fast clock", "Over HTTP"]
    by_text = {e["text"]: e["written_at"] for e in listed}
    assert by_text["Queued"] == stamp(written) and by_text["Live"] is None

    fresh = await clients(hub_server, author)
    snapshot = (await fresh.join(incident))["snapshot"]
    assert [e["written_at"] for e in snapshot["feed"]] == [e["written_at"] for e in listed]
    assert clients.misshapen() == []
