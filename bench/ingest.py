"""Ingestion: OsmAnd HTTP reports per second, each answered 200 only once stored (group
commit), on SQLite and PostgreSQL. D devices, C concurrent HTTP connections (aiohttp), each
device reporting a fresh fix every time, for S seconds.

    python bench/ingest.py [--backends sqlite,postgresql] [--devices 200] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

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


async def add_devices(url: str, incident_id: str, count: int) -> list[str]:
    from hub.actions.convoys import add_device
    from hub.context import Hub
    from hub.db import Database
    from hub.notify import Notifier
    from hub.settings import Settings

    hub = Hub(
        settings=Settings(environment="test", database_url=url),
        db=Database(url),
        notifier=Notifier(None),
    )
    try:
        keys = []
        for i in range(count):
            _, key = await add_device(hub, incident_id, f"V{i:04d}", f"convoy-{i % 10}", "escort")
            keys.append(key)
        return keys
    finally:
        await hub.db.dispose()


async def measure(url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    seeded = await seed(url, 1)
    keys = await add_devices(url, seeded.incident_id, args.devices)
    hub = await asyncio.to_thread(start_hub, url, work)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    # each device is driven by one worker at a time, so its fixes arrive in order
    free = asyncio.Queue[tuple[int, str]]()
    for i, key in enumerate(keys):
        free.put_nowait((i, key))
    step = itertools.count()
    try:
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def worker(until: float) -> None:
                while time.monotonic() < until:
                    i, key = await free.get()
                    n = next(step)
                    params = {
                        "id": key,
                        "lat": f"{50.80 + i * 0.001 + n * 1e-7:.7f}",
                        "lon": f"{4.30 + i * 0.001:.7f}",
                        "timestamp": str(int(time.time() * 1000)),
                        "speed": "10.5",
                        "bearing": "90",
                    }
                    t0 = time.perf_counter()
                    try:
                        async with http.get(f"{hub.url}/ingest/osmand", params=params) as r:
                            await r.read()
                            statuses[r.status] = statuses.get(r.status, 0) + 1
                            if r.status == 200:
                                latencies.append(time.perf_counter() - t0)
                    finally:
                        free.put_nowait((i, key))

            await asyncio.gather(*(worker(time.monotonic() + 1) for _ in range(8)))  # warm up
            latencies.clear()
            statuses.clear()
            if args.profile and hub.process is not None:
                py_spy(hub.process.pid, f"profile-ingest-{url.split(':')[0]}", int(args.seconds))
            t0 = time.monotonic()
            await asyncio.gather(
                *(worker(t0 + args.seconds) for _ in range(min(args.concurrency, len(keys))))
            )
            elapsed = time.monotonic() - t0
    finally:
        await asyncio.to_thread(hub.stop)
    latencies.sort()
    ok = statuses.get(200, 0)
    return {
        "devices": args.devices,
        "concurrency": args.concurrency,
        "stored": ok,
        "seconds": round(elapsed, 2),
        "reports/s": round(ok / elapsed, 1),
        "p50 ms": round(1000 * (percentile(latencies, 50) or 0), 2),
        "p99 ms": round(1000 * (percentile(latencies, 99) or 0), 2),
        "not 200": sum(v for k, v in statuses.items() if k != 200),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--profile", action="store_true", help="py-spy the hub while ingesting")
    args = parser.parse_args(argv)
    work = workdir()
    rows = []
    for backend in args.backends.split(","):
        with throwaway_database(backend, work) as url:
            result = asyncio.run(asyncio.wait_for(measure(url, args, work), args.seconds + 180))
        rows.append({"backend": backend, **result})
    print(table(rows, list(rows[0]), "OsmAnd ingestion: HTTP reports acknowledged after commit"))
    data = {"args": vars(args), "rows": rows}
    print(f"\nwrote {write_result('ingest', data)}")
    return data


if __name__ == "__main__":
    main()
