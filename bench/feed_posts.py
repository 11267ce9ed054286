"""Durable feed posts per second with acks (the ack comes after commit), on SQLite and
PostgreSQL: C Socket.IO clients each post in a loop (one in flight each) for D seconds.

    python bench/feed_posts.py [--backends sqlite,postgresql] [--clients 20] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import socketio

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


async def post_loop(
    url: str, token: str, incident_id: str, until: float, latencies: list[float], errors: list[Any]
) -> int:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=20)
    done = 0
    try:
        while time.monotonic() < until:
            t0 = time.perf_counter()
            ack = await client.call(
                "feed.post",
                {
                    "incident_id": incident_id,
                    "client_id": str(uuid.uuid4()),
                    "text": f"Bench post {done}: water level at the dyke stable, 2 pumps running",
                },
                timeout=30,
            )
            if ack.get("ok"):
                latencies.append(time.perf_counter() - t0)
                done += 1
            else:
                errors.append(ack.get("error"))
    finally:
        await client.disconnect()
    return done


async def measure(url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    seeded = await seed(url, 0, publishers=args.clients)
    hub = await asyncio.to_thread(start_hub, url, work, fanout=args.variant)
    try:
        latencies: list[float] = []
        errors: list[Any] = []
        # warm up: one post per client (connections, prepared statements)
        await asyncio.gather(
            *(
                post_loop(hub.url, t, seeded.incident_id, time.monotonic(), [], [])
                for t in seeded.publisher_tokens[:1]
            )
        )
        if args.profile and hub.process is not None:
            py_spy(hub.process.pid, f"profile-feed-{url.split(':')[0]}", int(args.seconds))
        t0 = time.monotonic()
        counts = await asyncio.gather(
            *(
                post_loop(hub.url, t, seeded.incident_id, t0 + args.seconds, latencies, errors)
                for t in seeded.publisher_tokens
            )
        )
        elapsed = time.monotonic() - t0
    finally:
        await asyncio.to_thread(hub.stop)
    latencies.sort()
    return {
        "posts": sum(counts),
        "seconds": round(elapsed, 2),
        "posts/s": round(sum(counts) / elapsed, 1),
        "p50 ms": round(1000 * (percentile(latencies, 50) or 0), 2),
        "p99 ms": round(1000 * (percentile(latencies, 99) or 0), 2),
        "errors": len(errors),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--variant", default="fast")
    parser.add_argument("--profile", action="store_true", help="py-spy the hub while posting")
    args = parser.parse_args(argv)
    work = workdir()
    rows = []
    for backend in args.backends.split(","):
        with throwaway_database(backend, work) as url:
            result = asyncio.run(asyncio.wait_for(measure(url, args, work), args.seconds + 120))
        rows.append({"backend": backend, "clients": args.clients, **result})
    print(table(rows, list(rows[0]), "Durable feed posts with acks (ack after commit)"))
    data = {"args": vars(args), "rows": rows}
    print(f"\nwrote {write_result('feed_posts', data)}")
    return data


if __name__ == "__main__":
    main()
