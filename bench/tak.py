"""TAK ingestion: CoT position events per second a live hub stores from TAK devices, on one TCP
connection (one device streaming its backlog) and on C connections (C devices at once), beside
the OsmAnd figure of bench/ingest.py on the same backend.

Each event is an ATAK-shaped SA report (`a-f-G-U-C`, point, contact, group, takv, track) of a
device registered with a TAK uid; the events are serialised before the clock starts and
written in large chunks, so the client costs little of the machine's CPU. The figure is the
number stored (rows in `position`, read from the database) over the time from the first byte
sent to the last row committed: TAK has no acknowledgement to wait for.

    python bench/tak.py [--backends sqlite,postgresql] [--events 10000]
                        [--connections 200] [--per-connection 50] [--osmand | --no-osmand]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import seed, start_hub, table, throwaway_database, workdir, write_result

from tests.live import free_port

EVENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<event version="2.0" uid="{uid}" type="a-f-G-U-C" how="m-g" time="{time}" start="{time}"'
    ' stale="{stale}"><point lat="{lat:.7f}" lon="{lon:.7f}" hae="112.3" ce="4.9"'
    ' le="9999999.0"/><detail><takv os="34" version="4.10.0.7" device="SAMSUNG SM-G991B"'
    ' platform="ATAK-CIV"/><contact endpoint="*:-1:stcp" callsign="{callsign}"/>'
    '<uid Droid="{callsign}"/><precisionlocation altsrc="GPS" geopointsrc="GPS"/>'
    '<__group role="Team Member" name="Cyan"/><status battery="87"/>'
    '<track course="271.4" speed="13.2"/></detail></event>'
)
FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# Every wait is bounded: the run gives up on a step after this long.
STEP_TIMEOUT_S = 300.0


async def register(url: str, incident_id: str, count: int, tag: str) -> list[str]:
    """`count` TAK devices (the domain function `crisishub device add --tak-uid` calls)."""
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
        uids = []
        for i in range(count):
            uid = f"ANDROID-{tag}-{i:04d}"
            await add_device(hub, incident_id, f"TAK {i:04d}", f"convoy-{i % 10}", "escort", uid)
            uids.append(uid)
        return uids
    finally:
        await hub.db.dispose()


def events(uid: str, index: int, count: int, end: datetime) -> bytes:
    """`count` reports of one device a second apart, ending at `end`, ~13 m/s west."""
    chunks = []
    for n in range(count):
        at = end - timedelta(seconds=count - n)
        chunks.append(
            EVENT.format(
                uid=uid,
                callsign=f"Unit {index}",
                time=at.strftime(FORMAT),
                stale=(at + timedelta(minutes=2)).strftime(FORMAT),
                lat=50.80 + index * 0.001,
                lon=4.40 - n * 0.00019,
            )
        )
    return "".join(chunks).encode()


async def stored(db: Any, incident_id: str) -> int:
    from sqlalchemy import text

    async with db.read() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM position WHERE incident_id = :i"), {"i": incident_id}
        )
    return int(count or 0)


async def send(port: int, payload: bytes) -> asyncio.StreamWriter:
    """Connect and write the whole backlog; the connection stays open (the caller closes it
    once the rows are in: closing earlier would be fine too, the hub stores what it read)."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    for start in range(0, len(payload), 256 * 1024):
        writer.write(payload[start : start + 256 * 1024])
        await writer.drain()
    return writer


async def close(writers: list[asyncio.StreamWriter]) -> None:
    for writer in writers:
        writer.close()
    for writer in writers:
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass


async def measure(
    url: str, work: Path, connections: int, per_connection: int, label: str
) -> dict[str, Any]:
    seeded = await seed(url, 1)
    uids = await register(url, seeded.incident_id, connections, uuid.uuid4().hex[:6])
    port = free_port()
    hub = await asyncio.to_thread(
        start_hub, url, work, tak_cot_port=port, silent_after_s=3600, tak_idle_timeout_s=600
    )
    try:
        end = datetime.now(UTC) - timedelta(seconds=5)
        payloads = [events(uid, i, per_connection, end) for i, uid in enumerate(uids)]
        total = connections * per_connection
        size = sum(len(p) for p in payloads)
        from hub.db import Database

        db = Database(url)
        t0 = time.perf_counter()
        senders = [asyncio.create_task(send(port, payload)) for payload in payloads]
        count = 0
        deadline = time.monotonic() + STEP_TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                count = await stored(db, seeded.incident_id)
                if count >= total:
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - t0
        finally:
            sent = await asyncio.gather(*senders, return_exceptions=True)
            await close([w for w in sent if isinstance(w, asyncio.StreamWriter)])
            await db.dispose()
    finally:
        await asyncio.to_thread(hub.stop)
    return {
        "run": label,
        "connections": connections,
        "events": total,
        "bytes/event": round(size / total),
        "stored": count,
        "seconds": round(elapsed, 2),
        "events/s": round(count / elapsed, 1),
    }


def osmand_figure(backend: str) -> dict[str, Any] | None:
    """bench/ingest.py's OsmAnd HTTP rate on this backend (Node driver, 64 connections)."""
    import ingest

    data = ingest.main(
        ["--backends", backend, "--concurrency", "64", "--batch-fixes", "0", "--seconds", "5"]
    )
    rows: list[dict[str, Any]] = data["rows"]
    return rows[0] if rows else None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--events", type=int, default=10_000, help="on the one connection")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--per-connection", type=int, default=50)
    parser.add_argument("--osmand", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    work = workdir()
    rows = []
    osmand_rows = []
    for backend in args.backends.split(","):
        for connections, per, label in (
            (1, args.events, "one connection"),
            (args.connections, args.per_connection, f"{args.connections} connections"),
        ):
            with throwaway_database(backend, work) as url:
                result = asyncio.run(
                    asyncio.wait_for(
                        measure(url, work, connections, per, label), STEP_TIMEOUT_S + 120
                    )
                )
            rows.append({"backend": backend, **result})
        if args.osmand:
            osmand = osmand_figure(backend)
            if osmand is not None:
                osmand_rows.append(osmand)
    print()
    print(table(rows, list(rows[0]), "TAK CoT ingestion: events stored per second (XML over TCP)"))
    if osmand_rows:
        print()
        print(
            table(
                osmand_rows,
                ["backend", "concurrency", "reports/s", "p50 ms", "p99 ms", "not 200"],
                "Beside it, OsmAnd over HTTP (bench/ingest.py, each report acknowledged)",
            )
        )
    data = {"args": vars(args), "rows": rows, "osmand": osmand_rows}
    print(f"\nwrote {write_result('tak', data)}")
    return data


if __name__ == "__main__":
    main()
