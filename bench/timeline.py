"""The timeline (issue 15): how long GET /api/incidents/{id}/state?at=T takes to rebuild an
incident of 10,000 events and 500,000 fixes, at several T, on SQLite and PostgreSQL.

The incident is written through a live hub (`python -m hub serve`) over its HTTP API, as the
crisis room writes it: anchors created, moved many times and some deleted, feed entries and
corrections, a convoy of V vehicles; until the log holds E events. The fixes are then written
straight into the positions table (SQLAlchemy Core, in batches), their device times spread
evenly over the incident's life (its first event to its last) and 1 % of them flagged:
ingestion has its own benchmark (bench/ingest.py), and what the state's query meets is the
table's size. Each T (10 %, 50 %, 90 % of that life, and its end) is then asked R times, one
request at a time, and the latencies seen by the HTTP client are printed (p50, p99, max)
with the answer's size.

    python bench/timeline.py [--backends sqlite,postgresql] [--events 10000] [--fixes 500000]
                             [--vehicles 50] [--requests 40]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import percentile, start_hub, table, throwaway_database, workdir, write_result

STEP_TIMEOUT_S = 3600.0
CONCURRENCY = 8  # writers at once: a busy crisis room, well inside the write rate limits
ANCHORS = 200
BRUSSELS = (4.3517, 50.8466)


async def seed_people(url: str) -> tuple[str, str]:
    """A manager and their incident, written by the domain functions the CLI uses."""
    from hub.actions import directory, incidents
    from hub.context import Hub
    from hub.db import Database
    from hub.realtime.notify import Notifier
    from hub.settings import Settings
    from models.directory import Discipline
    from models.incident import IncidentKind, Role
    from models.shapes import IncidentCreateIn, MemberIn, OrganisationIn, UserIn

    hub = Hub(
        settings=Settings(environment="test", database_url=url),
        db=Database(url),
        notifier=Notifier(None),
    )
    try:
        await directory.add_organisation(hub, None, OrganisationIn(name="Bench Police"))
        name = f"bench-{uuid.uuid4().hex[:6]}"
        await directory.add_user(
            hub, None, UserIn(username=name, organisation="Bench Police", discipline=Discipline.D3)
        )
        incident = await incidents.create_incident(
            hub,
            None,
            IncidentCreateIn(title="Timeline bench", kind=IncidentKind.EXERCISE),
            [MemberIn(username=name, role=Role.MANAGER)],
        )
        token = (await directory.create_token(hub, None, name))[1]
        return str(incident["id"]), token
    finally:
        await hub.db.dispose()


def point(rng: random.Random) -> dict[str, Any]:
    lon, lat = BRUSSELS
    return {
        "type": "Point",
        "coordinates": [
            round(lon + rng.uniform(-0.05, 0.05), 6),
            round(lat + rng.uniform(-0.03, 0.03), 6),
        ],
    }


async def write_incident(
    http: httpx.AsyncClient, incident: str, events: int, vehicles: int
) -> list[str]:
    """Anchors, convoy and vehicles, then moves, deletions, posts and corrections until the
    log holds `events`; returns the vehicles' ids."""
    base = f"/api/incidents/{incident}"

    async def ok(response: Any) -> Any:
        reply = await response
        if reply.status_code >= 300:
            raise RuntimeError(f"{reply.status_code} {reply.text[:300]}")
        return reply.json()

    convoy = (await ok(http.post(f"{base}/convoys", json={"name": "Motorcade"})))["convoy"]
    ids = [
        (
            await ok(
                http.post(f"{base}/convoys/{convoy['id']}/vehicles", json={"label": f"Car {i + 1}"})
            )
        )["vehicle"]["id"]
        for i in range(vehicles)
    ]
    rng = random.Random(15)
    kinds = ["command_post", "staging_area", "road_closure", "press_point", "helipad"]
    anchors: dict[str, int] = {}
    for i in range(ANCHORS):
        body = {
            "client_id": str(uuid.uuid4()),
            "kind": kinds[i % len(kinds)],
            "label": f"Anchor {i}",
            "geometry": point(rng),
        }
        anchors[(await ok(http.post(f"{base}/anchors", json=body)))["anchor"]["id"]] = 1
    written = 1 + vehicles + ANCHORS + 1  # the convoy, the vehicles, the anchors, a member
    entries: list[str] = []
    lock = asyncio.Lock()

    async def writer(worker: int) -> None:
        nonlocal written
        mine = list(anchors)[worker::CONCURRENCY]
        turn = 0
        while True:
            async with lock:
                if written >= events:
                    return
                written += 1
            turn += 1
            choice = rng.random()
            if choice < 0.25 and mine:
                anchor = mine[turn % len(mine)]
                body = {"version": anchors[anchor], "geometry": point(rng)}
                reply = await ok(http.patch(f"{base}/anchors/{anchor}", json=body))
                anchors[anchor] = reply["anchor"]["version"]
            elif choice < 0.26 and len(mine) > 5:
                anchor = mine.pop()
                await ok(
                    http.request(
                        "DELETE", f"{base}/anchors/{anchor}", json={"version": anchors[anchor]}
                    )
                )
            elif choice < 0.30 and entries:
                original = entries[rng.randrange(len(entries))]
                body = {
                    "client_id": str(uuid.uuid4()),
                    "text": "Corrected: 3 engines",
                    "reason": "typo",
                }
                await ok(http.post(f"{base}/feed/{original}/corrections", json=body))
            else:
                body = {
                    "client_id": str(uuid.uuid4()),
                    "text": f"Situation {turn}: water level at the dyke stable, 2 pumps running",
                }
                entries.append((await ok(http.post(f"{base}/feed", json=body)))["entry"]["id"])

    await asyncio.gather(*(writer(w) for w in range(CONCURRENCY)))
    return ids


async def write_fixes(
    url: str, incident: str, vehicles: list[str], fixes: int, start: datetime, end: datetime
) -> float:
    """`fixes` rows spread over the vehicles and over [start, end]; returns seconds taken."""
    from sqlalchemy import insert

    from hub.db import Database
    from models.convoy import Position

    db = Database(url)
    rng = random.Random(500)
    per_vehicle = fixes // len(vehicles)
    step = (end - start) / per_vehicle
    began = time.perf_counter()
    try:
        batch: list[dict[str, Any]] = []
        for n, vehicle in enumerate(vehicles):
            lon, lat = BRUSSELS
            for i in range(per_vehicle):
                ts = start + step * i + timedelta(microseconds=n)
                lon += 0.00002
                batch.append(
                    {
                        "vehicle_id": vehicle,
                        "incident_id": incident,
                        "lat": lat + n * 0.0001,
                        "lon": lon,
                        "ts": ts,
                        "received_at": ts,
                        "speed": 12.0,
                        "heading": 90.0,
                        "accuracy": 5.0,
                        "flagged": rng.random() < 0.01,
                        "flag_reason": None,
                    }
                )
                if len(batch) >= 20_000:
                    async with db.write() as session:
                        await session.execute(insert(Position), batch)
                    batch = []
        if batch:
            async with db.write() as session:
                await session.execute(insert(Position), batch)
    finally:
        await db.dispose()
    return time.perf_counter() - began


async def measure(url: str, args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    incident, token = await seed_people(url)
    hub = start_hub(url, work)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=CONCURRENCY)
        async with httpx.AsyncClient(
            base_url=hub.url, headers=headers, timeout=60, limits=limits
        ) as http:
            began = time.perf_counter()
            vehicles = await write_incident(http, incident, args.events, args.vehicles)
            seeded_s = time.perf_counter() - began
            about = (await http.get(f"/api/incidents/{incident}")).json()["incident"]
            # The incident's life as its log has it (the hub started after it was opened).
            first = await http.get(f"/api/incidents/{incident}/events", params={"limit": 1})
            opened = datetime.fromisoformat(first.json()["events"][0]["at"])
            last = (
                await http.get(
                    f"/api/incidents/{incident}/events", params={"since": about["last_seq"] - 1}
                )
            ).json()
            ended = datetime.fromisoformat(last["events"][-1]["at"])
            fixes_s = await write_fixes(url, incident, vehicles, args.fixes, opened, ended)
            rows = []
            for share in (0.1, 0.5, 0.9, 1.0):
                at = (opened + (ended - opened) * share).isoformat()
                times: list[float] = []
                answer: Any = None
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    reply = await http.get(f"/api/incidents/{incident}/state", params={"at": at})
                    times.append(time.perf_counter() - t0)
                    if reply.status_code != 200:
                        raise RuntimeError(reply.text[:300])
                    answer = reply.json()
                times.sort()
                snapshot = answer["snapshot"]
                rows.append(
                    {
                        "T": f"{share:.0%}",
                        "seq": answer["seq"],
                        "anchors": len(snapshot["anchors"]["features"]),
                        "positions": sum(
                            v["last_position"] is not None
                            for c in snapshot["convoys"]
                            for v in c["vehicles"]
                        ),
                        "kB": len(reply.content) / 1000,
                        "p50_ms": (percentile(times, 50) or 0) * 1000,
                        "p99_ms": (percentile(times, 99) or 0) * 1000,
                        "max_ms": times[-1] * 1000,
                    }
                )
            for row in rows:
                row.update(events=about["last_seq"], seed_s=seeded_s, fixes_s=fixes_s)
            return rows
    finally:
        hub.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--fixes", type=int, default=500_000)
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    where = workdir()
    rows = []
    for backend in args.backends.split(","):
        with throwaway_database(backend, where) as url:
            result = asyncio.run(asyncio.wait_for(measure(url, args, where), STEP_TIMEOUT_S))
        rows += [{"backend": backend, **row} for row in result]
    columns = ["backend", "T", "seq", "anchors", "positions", "kB", "p50_ms", "p99_ms", "max_ms"]
    print(table(rows, columns, "GET …/state?at=T, one request at a time"))
    print(
        table(
            rows[::4],
            ["backend", "events", "seed_s", "fixes_s"],
            "seeding: events over HTTP, fixes straight into the table",
        )
    )
    write_result("timeline", {"rows": rows, "args": vars(args)})


if __name__ == "__main__":
    main()
