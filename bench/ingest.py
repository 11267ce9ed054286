"""Ingestion: OsmAnd HTTP reports per second, each answered 200 only once stored (group
commit), on SQLite and PostgreSQL. D devices, C concurrent keep-alive HTTP connections, each
device reporting a fresh fix every time, for S seconds; one row per concurrency level. The
driver is bench/ingest_loadgen.js (Node, so that the measurement is of the hub, not of a
Python client sharing its cores); `--driver python` keeps the aiohttp one.
Then the batch write rate alone: positions/s the pipeline stores (in-process, no HTTP) with
many fixes queued at once.

    python bench/ingest.py [--backends sqlite,postgresql] [--devices 600]
                           [--concurrency 64,256] [--batch-fixes 20000] [--driver node]
                           [--batch-only] [--gc server|default]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    percentile,
    py_spy,
    run_node,
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
    from hub.realtime.notify import Notifier
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


async def measure_batch(
    url: str, fixes: int, devices: int, server_gc: bool = True
) -> dict[str, Any]:
    """The pipeline alone: `fixes` fixes of `devices` vehicles queued at once (a second apart
    per vehicle, ~30 m/s, no alerts), timed until the last is committed and acknowledged.
    With `server_gc` the collector is tuned as `crisishub serve` tunes it (hub.cli.tune_gc),
    so the figure is the pipeline's as the hub runs it."""
    import gc

    from sqlalchemy import select
    from sqlmodel import col

    from hub.cli import tune_gc
    from hub.context import Hub
    from hub.convoys.pipeline import Fix, PositionPipeline
    from hub.db import Database
    from hub.realtime.notify import Notifier
    from hub.settings import Settings
    from models import Vehicle
    from models.base import utcnow

    seeded = await seed(url, 1)
    await add_devices(url, seeded.incident_id, devices)
    hub = Hub(
        settings=Settings(environment="test", database_url=url),
        db=Database(url),
        notifier=Notifier(None),
    )
    pipeline = PositionPipeline(hub)
    await pipeline.start()
    thresholds = gc.get_threshold()
    try:
        async with hub.db.read() as session:
            ids = list((await session.scalars(select(col(Vehicle.id)))).all())
        start = utcnow() - timedelta(seconds=fixes // len(ids) + 100)

        def batch(n: int, offset: int) -> list[Fix]:
            return [
                Fix(
                    ids[i % len(ids)],
                    seeded.incident_id,
                    50.8 + offset * 0.05 + (i // len(ids)) * 3e-4,
                    4.3 + (i % len(ids)) * 1e-3,
                    start + timedelta(seconds=offset * 1e4 + i // len(ids)),
                    utcnow(),
                    30.0,
                    0.0,
                )
                for i in range(n)
            ]

        await pipeline.ingest_many(batch(len(ids), -1))  # warm up: one fix per vehicle
        queued = batch(fixes, 0)
        if server_gc:
            tune_gc()
        batches = pipeline.batches
        t0 = time.perf_counter()
        outcomes = await pipeline.ingest_many(queued)
        elapsed = time.perf_counter() - t0
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        await pipeline.close()
        await hub.db.dispose()
    return {
        "gc": "server" if server_gc else "default",
        "fixes": fixes,
        "vehicles": len(ids),
        "batches": pipeline.batches - batches,
        "seconds": round(elapsed, 3),
        "positions/s": round(fixes / elapsed),
        "stored": sum(1 for o in outcomes if not o.duplicate),
    }


def drive(hub: Any, keys: list[str], args: argparse.Namespace, work: Path) -> dict[str, Any]:
    cfg = {
        "port": int(hub.url.rsplit(":", 1)[1]),
        "keys": keys,
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "warmSec": 1,
        "pids": {"hub": hub.process.pid} if hub.process is not None else {},
    }
    return run_node(
        "ingest_loadgen.js",
        cfg,
        work,
        f"ingest-loadgen-{args.concurrency}",
        timeout=args.seconds + 120,
    )


async def measure(url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    seeded = await seed(url, 1)
    keys = await add_devices(url, seeded.incident_id, args.devices)
    hub = await asyncio.to_thread(start_hub, url, work)
    if args.driver == "node":
        try:
            if args.profile and hub.process is not None:
                py_spy(
                    hub.process.pid,
                    f"profile-ingest-{url.split(':')[0]}",
                    int(args.seconds) + 1,
                )
            out = await asyncio.to_thread(drive, hub, keys, args, work)
        finally:
            await asyncio.to_thread(hub.stop)
        return {
            "devices": args.devices,
            "concurrency": args.concurrency,
            "stored": out["ok"],
            "seconds": round(out["seconds"], 2),
            "reports/s": round(out["ok"] / out["seconds"], 1),
            "p50 ms": round(out["p50"] or 0, 2),
            "p99 ms": round(out["p99"] or 0, 2),
            "not 200": sum(v for k, v in out["statuses"].items() if k != "200"),
            "hub cpu %": out["cpu"].get("hub"),
            "loadgen cpu %": out["cpu"].get("loadgen"),
        }
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
    parser.add_argument("--devices", type=int, default=600)
    parser.add_argument(
        "--concurrency", default="64,256", help="concurrent HTTP connections, one row each"
    )
    parser.add_argument("--batch-fixes", type=int, default=20_000, help="0: skip the batch rate")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--driver", choices=["node", "python"], default="node")
    parser.add_argument("--profile", action="store_true", help="py-spy the hub while ingesting")
    parser.add_argument(
        "--batch-only", action="store_true", help="skip the HTTP runs: only the batch rate"
    )
    parser.add_argument(
        "--gc",
        choices=["server", "default"],
        default="server",
        help="batch rate: the collector tuned as `crisishub serve` does, or Python's default",
    )
    args = parser.parse_args(argv)
    work = workdir()
    rows = []
    batch_rows = []
    for backend in args.backends.split(","):
        levels = [] if args.batch_only else [int(c) for c in str(args.concurrency).split(",")]
        for concurrency in levels:
            run_args = argparse.Namespace(**{**vars(args), "concurrency": concurrency})
            with throwaway_database(backend, work) as url:
                result = asyncio.run(
                    asyncio.wait_for(measure(url, run_args, work), args.seconds + 180)
                )
            rows.append({"backend": backend, **result})
        if args.batch_fixes > 0:
            with throwaway_database(backend, work) as url:
                result = asyncio.run(
                    asyncio.wait_for(
                        measure_batch(url, args.batch_fixes, args.devices, args.gc == "server"),
                        300,
                    )
                )
            batch_rows.append({"backend": backend, **result})
    if rows:
        print(
            table(rows, list(rows[0]), "OsmAnd ingestion: HTTP reports acknowledged after commit")
        )
    if batch_rows:
        print()
        print(
            table(
                batch_rows,
                list(batch_rows[0]),
                "Batch write rate alone: the pipeline with every fix queued at once (in-process)",
            )
        )
    data = {"args": vars(args), "rows": rows, "batch": batch_rows}
    print(f"\nwrote {write_result('ingest', data)}")
    return data


if __name__ == "__main__":
    main()
