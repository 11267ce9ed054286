"""Several hub processes, one Redis, one database: kill things and check nothing acked is lost.

Each test starts its own `redis-server` (Debian's) on a free port and two or more real
`crisishub serve` processes. Waits are bounded by deadlines; nothing asserts on speed.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from hub.actions import directory
from hub.client import HubClient
from models import Event, FeedEntry, Incident
from tests.live import HubProcess, free_port
from tests.seed import Seeder, TestUser

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[4.35, 50.84], [4.36, 50.84], [4.36, 50.85], [4.35, 50.85], [4.35, 50.84]]],
}


class RedisProcess:
    """A throw-away redis-server that a test can stop and start again on the same port."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10) -> RedisProcess:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.log_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with __import__("socket").create_connection(("127.0.0.1", self.port), 0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def redis(logs: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(logs).start()
    yield server
    server.stop()


class Cluster:
    """Hub instances on one database and one Redis; all stopped at the end of the test."""

    def __init__(self, database_url: str, redis: RedisProcess, logs: Path) -> None:
        self.database_url, self.redis, self.logs = database_url, redis, logs
        self.redis_url = redis.url  # where the hubs started from now on reach Redis
        self.hubs: list[HubProcess] = []
        self.clients: list[HubClient] = []

    def start(self, count: int) -> list[HubProcess]:
        started = [
            HubProcess(
                self.database_url,
                log_dir=self.logs,
                redis_url=self.redis_url,
                presence_ttl_seconds=3,
            ).start()
            for _ in range(count)
        ]
        self.hubs.extend(started)
        return started

    async def client(self, urls: str | list[str], user: TestUser) -> HubClient:
        client = HubClient(urls, user.token)
        await client.connect()
        self.clients.append(client)
        return client

    async def close(self) -> None:
        for client in self.clients:
            try:
                await asyncio.wait_for(client.close(), 5)
            except Exception:
                pass
        for hub in self.hubs:
            hub.stop()


@pytest.fixture
async def cluster(database_url: str, redis: RedisProcess, logs: Path) -> AsyncIterator[Cluster]:
    made = Cluster(database_url, redis, logs)
    yield made
    await made.close()


async def wait_until(
    check: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = 20
) -> None:
    """Poll until `check` holds; fail with `what` once the deadline has passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def readyz(hub: HubProcess) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.get(hub.url + "/readyz", timeout=5)
    body: dict[str, Any] = response.json()
    body["http_status"] = response.status_code
    return body


async def wait_ready(*hubs: HubProcess, timeout: float = 20) -> None:
    for hub in hubs:

        async def ready(hub: HubProcess = hub) -> bool:
            status: int = (await readyz(hub))["http_status"]
            return status == 200

        await wait_until(ready, f"{hub.url}/readyz to say ok", timeout)


def post(incident_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"incident_id": incident_id, "client_id": str(uuid.uuid4()), "text": text, **extra}


def live_seq(client: HubClient, incident_id: str, seq: int) -> Callable[[], bool]:
    """True once the client holds `seq` by itself: unlike wait_for_seq, never asks the hub."""
    return lambda: client.incidents[incident_id].seq >= seq


def online_ids(client: HubClient, incident_id: str) -> set[str]:
    return {user["user_id"] for user in client.presence.get(incident_id, [])}


def assert_holds_exactly(client: HubClient, incident_id: str, last: int) -> None:
    seqs = [event["seq"] for event in client.incidents[incident_id].events]
    assert seqs == list(range(1, last + 1)), f"{client.url}: {seqs}"


async def stored_entries(seed: Seeder, incident_id: str) -> dict[str, list[int]]:
    """client_id -> the seqs of the feed rows stored with it (exactly one each, we hope)."""
    async with seed.hub.db.read() as session:
        rows = await session.execute(
            select(col(FeedEntry.client_id), col(FeedEntry.seq)).where(
                col(FeedEntry.incident_id) == incident_id
            )
        )
        stored: dict[str, list[int]] = {}
        for client_id, seq in rows:
            stored.setdefault(client_id, []).append(seq)
    return stored


async def last_seq(seed: Seeder, incident_id: str) -> int:
    async with seed.hub.db.read() as session:
        incident = await session.get(Incident, incident_id)
        events = await session.scalar(
            select(func.count()).where(col(Event.incident_id) == incident_id)
        )
    assert incident is not None and events == incident.last_seq
    return int(incident.last_seq)


# 1 -------------------------------------------------------------------------------------------


async def test_feed_anchor_and_presence_events_cross_instances(
    cluster: Cluster, seed: Seeder
) -> None:
    a_hub, b_hub, c_hub = cluster.start(3)
    await wait_ready(a_hub, b_hub, c_hub)
    alice, bob, carol = await seed.user("alice"), await seed.user("bob"), await seed.user("carol")
    incident = await seed.incident({alice: "contributor", bob: "contributor", carol: "viewer"})
    a = await cluster.client(a_hub.url, alice)
    b = await cluster.client(b_hub.url, bob)
    await a.join(incident)
    joined = await b.join(incident)
    # Presence is the union over instances: bob's join shows alice, who is on A...
    assert {u["user_id"] for u in joined["presence"]["online"]} == {alice.id, bob.id}
    # ...and alice, on A, hears that bob joined on B.
    await wait_until(lambda: online_ids(a, incident) == {alice.id, bob.id}, "bob in A's presence")

    ack = await a.request("feed.post", post(incident, "Gas leak, Rue Haute"))
    await wait_until(live_seq(b, incident, 1), "the feed entry on B")
    assert b.incidents[incident].events[0]["data"] == ack["entry"]

    created = await b.request(
        "anchor.create",
        {
            "incident_id": incident,
            "client_id": str(uuid.uuid4()),
            "kind": "exclusion_zone",
            "label": "Perimeter",
            "geometry": SQUARE,
        },
    )
    await wait_until(live_seq(a, incident, 3), "the anchor and its feed entry on A")
    moved = await a.request(
        "anchor.update",
        {
            "incident_id": incident,
            "anchor_id": created["anchor"]["id"],
            "version": 1,
            "label": "Perimeter 200 m",
        },
    )
    await wait_until(live_seq(b, incident, 4), "the anchor's new label on B")
    assert [e["type"] for e in b.incidents[incident].events] == [
        "feed.posted",
        "anchor.created",
        "feed.posted",  # the anchor's creation, in the feed (a new label alone is not)
        "anchor.updated",
    ]
    assert b.incidents[incident].events[3]["data"] == moved["anchor"]
    assert_holds_exactly(a, incident, 4)

    # A user of a third instance appears everywhere, and disappears when that instance is
    # SIGKILLed: its presence entry expires (PRESENCE_TTL_SECONDS=3) and the others notice.
    c = await cluster.client(c_hub.url, carol)
    await c.join(incident)
    everyone = {alice.id, bob.id, carol.id}
    await wait_until(lambda: online_ids(a, incident) == everyone, "carol in A's presence")
    await wait_until(lambda: online_ids(b, incident) == everyone, "carol in B's presence")
    c_hub.kill()
    await wait_until(lambda: online_ids(a, incident) == {alice.id, bob.id}, "carol gone from A")
    await wait_until(lambda: online_ids(b, incident) == {alice.id, bob.id}, "carol gone from B")

    # A clean leave is immediate everywhere.
    await b.leave(incident)
    await wait_until(lambda: online_ids(a, incident) == {alice.id}, "bob gone from A")


# 2 -------------------------------------------------------------------------------------------


async def test_sigkill_an_instance_while_both_post(cluster: Cluster, seed: Seeder) -> None:
    a_hub, b_hub = cluster.start(2)
    await wait_ready(a_hub, b_hub)
    users = [await seed.user(f"poster{i}") for i in range(6)]
    incident = await seed.incident(dict.fromkeys(users, "contributor"))
    on_a = [await cluster.client([a_hub.url, b_hub.url], user) for user in users[:3]]
    on_b = [await cluster.client([b_hub.url, a_hub.url], user) for user in users[3:]]
    everyone = on_a + on_b
    for client in everyone:
        await client.join(incident)

    acked: dict[str, dict[str, Any]] = {}  # client_id -> entry
    per_client = 15

    async def keep_posting(client: HubClient, name: str) -> None:
        for i in range(per_client):
            ack = await client.until_acked("feed.post", post(incident, f"{name} report {i}"))
            acked[ack["entry"]["client_id"]] = ack["entry"]
            await asyncio.sleep(0.02)

    posting = [
        asyncio.create_task(keep_posting(client, f"client{i}")) for i, client in enumerate(everyone)
    ]
    await wait_until(lambda: len(acked) >= 20, "a first batch of acks")
    a_hub.kill()
    killed_at = time.monotonic()
    await wait_until(
        lambda: all(c.connected.is_set() and c.url == b_hub.url for c in on_a),
        "A's clients to fail over to B",
    )
    print(f"failover of A's clients to B: {time.monotonic() - killed_at:.2f} s")
    await asyncio.wait_for(asyncio.gather(*posting), 120)

    assert len(acked) == per_client * len(everyone)
    stored = await stored_entries(seed, incident)
    for client_id, entry in acked.items():
        assert stored.get(client_id) == [entry["seq"]], (
            f"{client_id} stored as {stored.get(client_id)}"
        )
    last = await last_seq(seed, incident)
    assert last == len(stored) == len(acked)
    for client in everyone:
        await client.wait_for_seq(incident, last, timeout=30)
        assert_holds_exactly(client, incident, last)
        held = {e["data"]["client_id"]: e["data"] for e in client.incidents[incident].events}
        assert held == acked


# 3 -------------------------------------------------------------------------------------------


async def test_redis_restart_while_posting(cluster: Cluster, seed: Seeder) -> None:
    a_hub, b_hub = cluster.start(2)
    await wait_ready(a_hub, b_hub)
    alice, bob = await seed.user("alice"), await seed.user("bob")
    incident = await seed.incident({alice: "contributor", bob: "contributor"})
    a = await cluster.client(a_hub.url, alice)
    b = await cluster.client(b_hub.url, bob)
    await a.join(incident)
    await b.join(incident)
    acked: dict[str, dict[str, Any]] = {}
    stop = asyncio.Event()

    async def keep_posting(client: HubClient, name: str) -> None:
        for i in range(10_000):  # bounded; stopped by the test long before
            if stop.is_set():
                return
            ack = await client.until_acked("feed.post", post(incident, f"{name} {i}"))
            acked[ack["entry"]["client_id"]] = ack["entry"]
            await asyncio.sleep(0.05)

    posting = [
        asyncio.create_task(keep_posting(a, "alice")),
        asyncio.create_task(keep_posting(b, "bob")),
    ]
    await wait_until(lambda: len(acked) >= 10, "posts before the outage")
    cluster.redis.stop()
    stopped_at = time.monotonic()
    transitions: dict[str, Any] = {}
    for hub in (a_hub, b_hub):

        async def reports_outage(hub: HubProcess = hub) -> bool:
            body = await readyz(hub)
            transitions[hub.url] = body
            status: int = body["http_status"]
            redis_check: str = body["checks"]["redis"]
            return status == 503 and redis_check != "ok"

        await wait_until(reports_outage, f"{hub.url}/readyz to report the outage")
        assert transitions[hub.url]["checks"]["database"] == "ok"
    print(f"outage reported after {time.monotonic() - stopped_at:.2f} s: {transitions}")

    # Each instance keeps serving its own clients and writing to the database.
    during = len(acked)
    await wait_until(lambda: len(acked) >= during + 10, "posts during the outage")
    stop.set()
    await asyncio.wait_for(asyncio.gather(*posting), 30)

    cluster.redis.start()
    restarted_at = time.monotonic()
    await wait_ready(a_hub, b_hub, timeout=30)
    print(f"ready again {time.monotonic() - restarted_at:.2f} s after Redis restarted")

    # Nobody asks: the instances resync by themselves and the clients catch up by seq.
    last = await last_seq(seed, incident)
    await wait_until(live_seq(a, incident, last), "alice to resync", timeout=30)
    await wait_until(live_seq(b, incident, last), "bob to resync", timeout=30)
    for client in (a, b):
        assert_holds_exactly(client, incident, last)
    stored = await stored_entries(seed, incident)
    assert {key: value for key, value in stored.items() if key in acked} == {
        client_id: [entry["seq"]] for client_id, entry in acked.items()
    }

    # And live delivery across instances works again (the subscriptions are not deaf).
    await a.request("feed.post", post(incident, "after the outage"))
    await wait_until(live_seq(b, incident, last + 1), "a live event on B after the outage")
    assert_holds_exactly(b, incident, last + 1)


# 4 -------------------------------------------------------------------------------------------


async def test_same_client_id_on_two_instances_at_once(cluster: Cluster, seed: Seeder) -> None:
    a_hub, b_hub = cluster.start(2)
    await wait_ready(a_hub, b_hub)
    alice = await seed.user("alice")
    incident = await seed.incident({alice: "contributor"})
    a = await cluster.client(a_hub.url, alice)
    b = await cluster.client(b_hub.url, alice)
    for i in range(10):
        payload = post(incident, f"twice {i}")
        first, second = await asyncio.gather(
            a.request("feed.post", payload), b.request("feed.post", dict(payload))
        )
        assert first == second
        stored = await stored_entries(seed, incident)
        assert stored[payload["client_id"]] == [first["entry"]["seq"]]
    assert await last_seq(seed, incident) == 10


# 5 -------------------------------------------------------------------------------------------


async def test_member_removal_and_token_revocation_reach_other_instances(
    cluster: Cluster, seed: Seeder
) -> None:
    a_hub, b_hub = cluster.start(2)
    await wait_ready(a_hub, b_hub)
    manager, bob, carol = await seed.user("boss"), await seed.user("bob"), await seed.user("carol")
    incident = await seed.incident({manager: "manager", bob: "contributor", carol: "viewer"})
    carol_token_id, carol_token = await directory.create_token(seed.hub, None, carol.username)

    b = await cluster.client(a_hub.url, bob)
    await b.join(incident)
    c = HubClient(a_hub.url, carol_token)
    await c.connect()
    cluster.clients.append(c)
    await c.join(incident)

    async with httpx.AsyncClient(
        base_url=b_hub.url, headers={"Authorization": f"Bearer {manager.token}"}
    ) as http:
        removed = await http.delete(f"/api/incidents/{incident}/members/{bob.username}")
        assert removed.status_code == 200, removed.text
        # Deadlines shorter than ACCESS_RECHECK_SECONDS: this is the Redis control channel.
        await wait_until(lambda: bool(b.left), "bob's socket on A to leave", timeout=10)
        assert b.left == [{"incident_id": incident, "reason": "removed"}]
        refused = await b.call("feed.post", post(incident, "still here?"))
        assert refused["error"]["code"] in ("forbidden", "not_found")

    # Carol revokes, on B with her other token, the token her socket on A uses.
    async with httpx.AsyncClient(
        base_url=b_hub.url, headers={"Authorization": f"Bearer {carol.token}"}
    ) as http:
        revoked = await http.delete(f"/api/tokens/{carol_token_id}")
        assert revoked.status_code == 200, revoked.text
    await wait_until(lambda: not c.sio.connected, "carol's socket on A to close", timeout=10)
    again = HubClient(a_hub.url, carol_token)
    try:
        with pytest.raises(Exception, match=r"unauthorized|failed to connect"):
            await again.connect(timeout=3)
    finally:
        await again.close()


# 6 -------------------------------------------------------------------------------------------


async def test_concurrent_anchor_edits_on_two_instances(cluster: Cluster, seed: Seeder) -> None:
    a_hub, b_hub = cluster.start(2)
    await wait_ready(a_hub, b_hub)
    alice, bob = await seed.user("alice"), await seed.user("bob")
    incident = await seed.incident({alice: "contributor", bob: "contributor"})
    a = await cluster.client(a_hub.url, alice)
    b = await cluster.client(b_hub.url, bob)
    created = await a.request(
        "anchor.create",
        {
            "incident_id": incident,
            "client_id": str(uuid.uuid4()),
            "kind": "command_post",
            "label": "CP-Ops",
            "geometry": {"type": "Point", "coordinates": [4.35, 50.84]},
        },
    )
    anchor_id, version = created["anchor"]["id"], 1
    for round_ in range(8):
        edits = [
            client.call(
                "anchor.update",
                {
                    "incident_id": incident,
                    "anchor_id": anchor_id,
                    "version": version,
                    "label": f"CP-Ops by {who} #{round_}",
                },
            )
            for client, who in ((a, "alice"), (b, "bob"))
        ]
        acks = await asyncio.gather(*edits)
        winners = [ack for ack in acks if ack["ok"]]
        losers = [ack for ack in acks if not ack["ok"]]
        assert len(winners) == 1 and len(losers) == 1, acks
        assert losers[0]["error"]["code"] == "conflict"
        assert losers[0]["anchor"] == winners[0]["anchor"]
        version = winners[0]["anchor"]["version"]
        assert version == round_ + 2


# 7 -------------------------------------------------------------------------------------------


class DeafeningProxy:
    """A TCP proxy in front of Redis that can make the current subscriber connections deaf:
    still open, still subscribed, hearing nothing (python-socketio issue 1581's failure)."""

    def __init__(self, redis_port: int) -> None:
        self.redis_port = redis_port
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.subscribers: list[dict[str, bool]] = []
        self.server: asyncio.Server | None = None
        # Closed by close(): the server's own close() leaves accepted connections open.
        self.writers: list[asyncio.StreamWriter] = []
        self.serving: list[asyncio.Task[Any]] = []  # asyncio itself holds them only weakly

    async def start(self) -> DeafeningProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    def deafen(self) -> int:
        for connection in self.subscribers:
            connection["deaf"] = True
        return len(self.subscribers)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        serving = asyncio.current_task()
        assert serving is not None
        self.serving.append(serving)
        self.writers.append(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.redis_port)
        except OSError:
            writer.close()
            return
        self.writers.append(up_writer)
        connection = {"deaf": False, "subscriber": False}

        async def to_redis() -> None:
            while data := await reader.read(65_536):
                if b"SUBSCRIBE" in data.upper() and not connection["subscriber"]:
                    connection["subscriber"] = True
                    self.subscribers.append(connection)
                up_writer.write(data)
                await up_writer.drain()

        async def to_hub() -> None:
            while data := await up_reader.read(65_536):
                if not connection["deaf"]:
                    writer.write(data)
                    await writer.drain()

        await asyncio.gather(to_redis(), to_hub(), return_exceptions=True)
        for closing in (writer, up_writer):
            closing.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        # Both ends of every connection, so that each _serve sees EOF on both and returns (a
        # subscriber's Redis side never ends by itself: destroyed pending, with open sockets).
        for writer in self.writers:
            writer.close()
        await asyncio.gather(*self.serving, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()


async def test_a_deaf_subscription_is_detected_and_resynced(
    database_url: str, redis: RedisProcess, logs: Path, seed: Seeder
) -> None:
    proxy = await DeafeningProxy(redis.port).start()
    cluster = Cluster(database_url, redis, logs)
    cluster.redis_url = proxy.url  # the hubs reach Redis through it
    try:
        a_hub, b_hub = cluster.start(2)
        await wait_ready(a_hub, b_hub)
        alice, bob = await seed.user("alice"), await seed.user("bob")
        incident = await seed.incident({alice: "contributor", bob: "contributor"})
        a = await cluster.client(a_hub.url, alice)
        b = await cluster.client(b_hub.url, bob)
        await a.join(incident)
        await b.join(incident)
        await a.request("feed.post", post(incident, "before"))
        await wait_until(live_seq(b, incident, 1), "a live event on B")

        assert proxy.deafen() >= 2  # both instances' listeners now hear nothing
        await a.request("feed.post", post(incident, "while B is deaf"))
        for hub in (a_hub, b_hub):

            async def says_deaf(hub: HubProcess = hub) -> bool:
                body = await readyz(hub)
                redis_check: str = body["checks"]["redis"]
                return redis_check == "unavailable: no probe echo from Redis"

            await wait_until(says_deaf, f"{hub.url}/readyz to report the deaf subscription")
        # They resubscribe on fresh connections, report ok again and resync by themselves.
        await wait_ready(a_hub, b_hub, timeout=30)
        await wait_until(live_seq(b, incident, 2), "bob to get the event he did not hear")
        await b.request("feed.post", post(incident, "after"))
        await wait_until(live_seq(a, incident, 3), "a live event on A after resubscribing")
        for client in (a, b):
            assert_holds_exactly(client, incident, 3)
    finally:
        await cluster.close()
        await proxy.close()
