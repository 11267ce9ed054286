"""Reconnect storm: N clients joined to one incident drop at once (a network cut), events
are posted while they are away, then all reconnect together and rejoin with `since`; the time
until every client has caught up (its join ack carries the events up to the current seq).

    python bench/reconnect_storm.py [--clients 1000] [--missed 20] [--backend sqlite]

Clients are raw Engine.IO/Socket.IO websocket clients (the `websockets` library), so the
client side stays cheap; they read and discard live traffic like a real client would.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import socketio
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    percentile,
    py_spy,
    seed,
    start_hub,
    table,
    throwaway_database,
    workdir,
    write_result,
)


class RawClient:
    """Engine.IO v4 / Socket.IO v5 over one websocket: connect with a token, join, read."""

    def __init__(self, port: int, token: str, incident_id: str) -> None:
        self.port, self.token, self.incident_id = port, token, incident_id
        self.ws: Any = None
        self.seq = 0
        self.reader: asyncio.Task[None] | None = None
        self.joined: asyncio.Future[dict[str, Any]] | None = None
        self.connected: asyncio.Future[None] | None = None

    async def join(self, since: int | None) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        self.connected, self.joined = loop.create_future(), loop.create_future()
        self.ws = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket",
            compression=None,
            max_size=None,
            open_timeout=60,
            ping_interval=None,
        )
        self.reader = asyncio.create_task(self._read())
        await self.connected
        body: dict[str, Any] = {"incident_id": self.incident_id}
        if since is not None:
            body["since"] = since
        await self.ws.send("421" + orjson.dumps(["incident.join", body]).decode())
        ack = await self.joined
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")
        events = ack.get("events") or []
        self.seq = max([ack["seq"], *(e["seq"] for e in events)])
        return ack

    async def _read(self) -> None:
        assert self.connected is not None and self.joined is not None
        try:
            async for message in self.ws:
                if message == "2":
                    await self.ws.send("3")
                elif message.startswith("0"):
                    await self.ws.send("40" + orjson.dumps({"token": self.token}).decode())
                elif message.startswith("40"):
                    self.connected.set_result(None)
                elif message.startswith("44"):
                    self.connected.set_exception(RuntimeError(message))
                elif message.startswith("431"):
                    self.joined.set_result(orjson.loads(message[3:])[0])
                elif message.startswith('42["incident.event"'):
                    self.seq = max(self.seq, orjson.loads(message[2:])[1]["seq"])
        except websockets.ConnectionClosed:
            pass
        finally:
            for future in (self.connected, self.joined):
                if not future.done():
                    future.set_exception(RuntimeError("closed before joining"))

    async def drop(self) -> None:
        """A network cut: the TCP connection goes, no Socket.IO goodbye."""
        if self.ws is not None:
            self.ws.transport.abort()
        if self.reader is not None:
            self.reader.cancel()


async def bounded(coros: list[Any], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def storm(url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    seeded = await seed(url, args.clients, viewer_users=args.users)
    hub = await asyncio.to_thread(start_hub, url, work, fanout=args.variant)
    publisher = socketio.AsyncClient(reconnection=False)
    clients = [RawClient(hub.port, t, seeded.incident_id) for t in seeded.viewer_tokens]
    try:
        await publisher.connect(
            hub.url, auth={"token": seeded.publisher_token}, transports=["websocket"]
        )

        async def post(n: int) -> int:
            seq = 0
            for i in range(n):
                ack = await publisher.call(
                    "feed.post",
                    {
                        "incident_id": seeded.incident_id,
                        "client_id": str(uuid.uuid4()),
                        "text": f"Update {i}: second evacuation wave under way, bus 4 left",
                    },
                    timeout=30,
                )
                seq = ack["entry"]["seq"]
            return seq

        await post(5)
        t0 = time.monotonic()
        await bounded([c.join(None) for c in clients], 100)
        first_join_s = time.monotonic() - t0
        await asyncio.sleep(1)
        before = [c.seq for c in clients]
        for c in clients:
            await c.drop()
        await asyncio.sleep(0.5)
        target = await post(args.missed)
        # all at once, as after a network cut; each has its own `since`
        if args.profile and hub.process is not None:
            py_spy(hub.process.pid, f"profile-storm-{args.variant}", 8)
        done_at: list[float] = []
        t0 = time.monotonic()

        async def rejoin(client: RawClient, since: int) -> None:
            await client.join(since)
            if client.seq < target:  # the join ack carries everything missed
                raise RuntimeError(f"rejoined at seq {client.seq}, expected {target}")
            done_at.append(time.monotonic() - t0)

        results = await asyncio.gather(
            *(rejoin(c, s) for c, s in zip(clients, before, strict=True)), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        storm_s = time.monotonic() - t0
    finally:
        for c in clients:
            await c.drop()
        await publisher.disconnect()
        await asyncio.to_thread(hub.stop)
    done_at.sort()
    return {
        "clients": args.clients,
        "missed": args.missed,
        "first join s": round(first_join_s, 2),
        "caught up": len(done_at),
        "failed": len(failures),
        "all caught up s": round(storm_s, 2),
        "p50 s": round(percentile(done_at, 50) or 0, 2),
        "p99 s": round(percentile(done_at, 99) or 0, 2),
        "first error": repr(failures[0])[:200] if failures else None,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--missed", type=int, default=20, help="events posted while away")
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--variants", default="fast")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--profile", action="store_true", help="py-spy the hub during the storm")
    args = parser.parse_args(argv)
    work = workdir()
    rows = []
    for variant in args.variants.split(","):
        args.variant = variant
        with throwaway_database(args.backend, work) as url:
            result = asyncio.run(asyncio.wait_for(storm(url, args, work), args.timeout))
        rows.append({"hub": variant, "backend": args.backend, **result})
    columns = [c for c in rows[0] if c != "first error"]
    print(table(rows, columns, "Reconnect storm: all drop, then rejoin with `since`"))
    for row in rows:
        if row["first error"]:
            print(f"{row['hub']}: first error {row['first error']}")
    data = {"args": vars(args), "rows": rows}
    print(f"\nwrote {write_result('reconnect_storm', data)}")
    return data


if __name__ == "__main__":
    main()
