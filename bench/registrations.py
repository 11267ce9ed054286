"""Registrations (BE-Alert): the CSV import's rate, and the selection of an area's audience at
national scale, before (the join of 2c5119c) and after (registration_place alone) in one run.

Writes a CSV of N registrations over Belgium, a third of their places in a dense cluster
around Brussels, 70 % with one place, 20 % with two, 10 % with three (so ~1.4 N rows), each
with an SMS number, half with a voice number, half with an e-mail, 1 % in the test audience.
Times `crisishub registrations import` as operators run it (a subprocess, one transaction);
adds the (lat, lon) index of 2c5119c for the `join` below; on PostgreSQL then runs `VACUUM
ANALYZE` as autovacuum does after a large insert (index-only scans need the visibility map).
Then, on one driver connection (aiosqlite or asyncpg, as the hub's sessions hand it), for
each area and in alternation for `--rounds` rounds:

- `join`: the count as 2c5119c made it (the places in the bounding box joined to
  `registration`, shapely's test of every one, a dict of 32-character ids);
- `count`: hub/alerts/registrations.py `audience`;
- `count_str`: the same cells, the shared places deduplicated by their 32-character
  `registration_id` instead of the integer `shared_key` (what the integer key saves);
- `recipients`: `recipients` (the ids, each once; what delivery will read).

Last, a live hub answers `POST /api/registrations/count` for each area (median of 3), the
figure a user sees. Areas: circles around Brussels (small 300 m, city 6 km, province 30 km
in radius, 64 vertices), the 1° square of the first part's figures (1° of longitude by 2/3°
of latitude) and a box around the whole of Belgium.

    python bench/registrations.py [--backends sqlite,postgresql] [--registrations 1200000]

Everything listens and connects on 127.0.0.1 only; every step is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import numpy as np
import shapely
import shapely.geometry
from common import start_hub, table, throwaway_database, workdir, write_result

from hub.alerts import registrations

STEP_TIMEOUT_S = 3600.0
BRUSSELS = (4.35, 50.85)  # lon, lat
KM_PER_DEGREE_LAT = 111.2


def circle(radius_km: float, vertices: int = 64) -> dict[str, Any]:
    lon0, lat0 = BRUSSELS
    dlat = radius_km / KM_PER_DEGREE_LAT
    dlon = dlat / math.cos(math.radians(lat0))
    ring = [
        [
            lon0 + dlon * math.cos(2 * math.pi * i / vertices),
            lat0 + dlat * math.sin(2 * math.pi * i / vertices),
        ]
        for i in range(vertices)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


AREAS: dict[str, dict[str, Any]] = {
    "small (r 300 m)": circle(0.3),
    "city (r 6 km)": circle(6),
    "province (r 30 km)": circle(30),
    "1° square": box(
        BRUSSELS[0] - 0.5, BRUSSELS[1] - 1 / 3, BRUSSELS[0] + 0.5, BRUSSELS[1] + 1 / 3
    ),
    "Belgium": box(2.5, 49.45, 6.45, 51.55),
}


def write_csv(path: Path, registrations: int, seed: int = 12) -> int:
    """`registrations` registrations; returns the number of rows (places)."""
    rng = random.Random(seed)
    languages = ("fr", "nl", "nl", "fr", "de", "en")
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("external_id,language,sms,voice,email,label,lat,lon,test_audience\n")
        for n in range(1, registrations + 1):
            number = f"+32470{n % 1_000_000:06d}"
            voice = f"+3225{n % 1_000_000:06d}" if n % 2 else ""
            mail = f"r{n}@example.be" if n % 2 == 0 else ""
            language = languages[n % len(languages)]
            test = "true" if n % 100 == 0 else "false"
            for place in range(rng.choice((1, 1, 1, 1, 1, 1, 1, 2, 2, 3))):
                if rng.random() < 1 / 3:
                    lon = rng.gauss(BRUSSELS[0], 0.08)
                    lat = rng.gauss(BRUSSELS[1], 0.05)
                else:
                    lon, lat = rng.uniform(2.55, 6.4), rng.uniform(49.5, 51.5)
                out.write(
                    f"R{n},{language},{number},{voice},{mail},"
                    f"place {place},{lat:.6f},{lon:.6f},{test}\n"
                )
                rows += 1
    return rows


# the selection before this change (2c5119c), kept here to measure against ---------------------

_JOIN_IN_BOX = (
    "SELECT p.registration_id, p.lon, p.lat, r.language, r.sms IS NOT NULL,"
    " r.voice IS NOT NULL, r.email IS NOT NULL"
    " FROM registration_place AS p JOIN registration AS r ON r.id = p.registration_id"
    " WHERE r.confirmed AND p.lat BETWEEN ? AND ? AND p.lon BETWEEN ? AND ?"
)


async def join_count(driver: Any, sqlite: bool, geometry: dict[str, Any]) -> int:
    area = shapely.geometry.shape(geometry)
    shapely.prepare(area)
    parts = list(area.geoms) if isinstance(area, shapely.MultiPolygon) else [area]
    seen: dict[str, tuple[str, bool, bool, bool]] = {}
    for part in parts:
        west, south, east, north = part.bounds
        rows = await registrations._fetch(driver, sqlite, _JOIN_IN_BOX, south, north, west, east)
        if not rows:
            continue
        lons = np.fromiter((row[1] for row in rows), dtype=np.float64, count=len(rows))
        lats = np.fromiter((row[2] for row in rows), dtype=np.float64, count=len(rows))
        inside = shapely.intersects_xy(area, lons, lats)
        for position in np.flatnonzero(inside).tolist():
            row = rows[position]
            seen[row[0]] = (row[3], bool(row[4]), bool(row[5]), bool(row[6]))
    return len(seen)


async def string_count(driver: Any, sqlite: bool, geometry: dict[str, Any]) -> int:
    """`audience`'s cells, with the shared places deduplicated by their registration_id."""
    cut = registrations.selection(geometry, test_only=False)
    sole = f"{cut.where} AND shared_key IS NULL"
    shared = f"{cut.where} AND shared_key IS NOT NULL"
    total = 0
    for row in await registrations._in(driver, sqlite, registrations._SOLE_SUMS, sole, cut.inside):
        total += int(row[0] or 0)
    columns = "registration_id, channels, language"
    seen = {
        row[0]: row[1:]
        for row in await registrations._in(driver, sqlite, columns, shared, cut.inside)
    }
    edge = await registrations._in(
        driver,
        sqlite,
        "registration_id, lon, lat, shared_key, channels, language",
        cut.where,
        cut.edge,
    )
    if edge:
        lons = np.fromiter((row[1] for row in edge), dtype=np.float64, count=len(edge))
        lats = np.fromiter((row[2] for row in edge), dtype=np.float64, count=len(edge))
        for position in np.flatnonzero(cut.contains(lons, lats)).tolist():
            row = edge[position]
            if row[3] is None:
                total += 1
            else:
                seen[row[0]] = row[4:]
    return total + len(seen)


async def new_count(driver: Any, sqlite: bool, geometry: dict[str, Any]) -> int:
    return (await registrations.audience(driver, sqlite, geometry)).registrations


async def new_recipients(driver: Any, sqlite: bool, geometry: dict[str, Any]) -> int:
    return len(await registrations.recipients(driver, sqlite, geometry, test_only=False))


VARIANTS: dict[str, Callable[[Any, bool, dict[str, Any]], Awaitable[int]]] = {
    "join": join_count,
    "count": new_count,
    "count_str": string_count,
    "recipients": new_recipients,
}


async def _connect(url: str) -> Any:
    if url.startswith("sqlite"):
        import aiosqlite

        return await aiosqlite.connect(url.removeprefix("sqlite:///"))
    import asyncpg

    return await asyncpg.connect(url)


async def in_process(kind: str, url: str, rounds: int) -> list[dict[str, Any]]:
    """Each area, each variant in turn, `rounds` times; every variant must agree."""
    sqlite = kind == "sqlite"
    driver = await _connect(url)
    results: list[dict[str, Any]] = []
    try:
        for name, geometry in AREAS.items():
            times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
            answers: dict[str, int] = {}
            for _ in range(rounds):
                for variant, run in VARIANTS.items():
                    started = time.perf_counter()
                    answers[variant] = await asyncio.wait_for(run(driver, sqlite, geometry), 600)
                    times[variant].append(time.perf_counter() - started)
            assert len(set(answers.values())) == 1, (name, answers)
            row: dict[str, Any] = {"backend": kind, "area": name, "registrations": answers["count"]}
            for variant, seconds in times.items():
                row[f"{variant}_ms"] = statistics.median(seconds) * 1000
            row["join/count"] = row["join_ms"] / row["count_ms"]
            row["str/int"] = row["count_str_ms"] / row["count_ms"]
            results.append(row)
            print(table([row], list(row)), flush=True)
    finally:
        await driver.close()
    return results


async def _token(url: str) -> str:
    from hub.actions import directory
    from hub.context import Hub
    from hub.db import Database
    from hub.realtime.notify import Notifier
    from hub.settings import Settings
    from models.directory import Discipline
    from models.shapes import OrganisationIn, UserIn

    hub = Hub(
        settings=Settings(environment="test", database_url=url),
        db=Database(url),
        notifier=Notifier(None),
    )
    try:
        await directory.add_organisation(hub, None, OrganisationIn(name="Bench"))
        name = f"bench-{uuid.uuid4().hex[:6]}"
        payload = UserIn(username=name, organisation="Bench", discipline=Discipline("coord"))
        await directory.add_user(hub, None, payload)
        return (await directory.create_token(hub, None, name))[1]
    finally:
        await hub.db.dispose()


def over_http(kind: str, url: str, work: Path) -> list[dict[str, Any]]:
    """Three counts of each area (15 in all: within one user's burst of counts)."""
    token = asyncio.run(_token(url))
    hub = start_hub(url, work)
    rows: list[dict[str, Any]] = []
    try:
        with httpx.Client(
            base_url=hub.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as client:
            for name, geometry in AREAS.items():
                times: list[float] = []
                answer: dict[str, Any] = {}
                for _ in range(3):
                    started = time.perf_counter()
                    response = client.post("/api/registrations/count", json={"geometry": geometry})
                    times.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text
                    answer = response.json()
                rows.append(
                    {
                        "backend": kind,
                        "area": name,
                        "registrations": answer["registrations"],
                        "median_ms": statistics.median(times) * 1000,
                        "max_ms": max(times) * 1000,
                    }
                )
    finally:
        hub.stop()
    return rows


OLD_INDEX = "CREATE INDEX ix_registration_place_lat_lon ON registration_place (lat, lon)"


@contextmanager
def _sync(kind: str, url: str) -> Iterator[Any]:
    """An autocommit connection for the bench's own DDL (sqlite3 or psycopg)."""
    if kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as pg:
        yield pg


def one_backend(
    kind: str, csv_path: Path, registrations_: int, rows: int, work: Path, rounds: int
) -> dict[str, Any]:
    with throwaway_database(kind, work) as url:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "hub", "registrations", "import", str(csv_path)],
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_S,
        )
        seconds = time.perf_counter() - started
        assert result.returncode == 0, result.stderr
        assert int(result.stdout.strip().splitlines()[-1]) == registrations_
        imported = {
            "backend": kind,
            "rows": rows,
            "registrations": registrations_,
            "seconds": seconds,
            "rows_per_s": rows / seconds,
            "registrations_per_s": registrations_ / seconds,
        }
        print(table([imported], list(imported), "import"), flush=True)
        with _sync(kind, url) as conn:
            # The index the join of 2c5119c ran on (0007 replaced it), so that `join` runs
            # as it did then; the selection's own queries use the band index (checked by
            # SQLite's EXPLAIN QUERY PLAN, docs/performance.md).
            conn.execute(OLD_INDEX)
            if kind != "sqlite":
                conn.execute("VACUUM ANALYZE registration_place")
                conn.execute("VACUUM ANALYZE registration")
        selections = asyncio.run(in_process(kind, url, rounds))
        http = over_http(kind, url, work)
    return {"import": imported, "selections": selections, "http": http}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--registrations", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the variants")
    args = parser.parse_args(argv)
    work = workdir()
    csv_path = work / "registrations.csv"
    rows = write_csv(csv_path, args.registrations)
    results = [
        one_backend(kind, csv_path, args.registrations, rows, work, args.rounds)
        for kind in args.backends.split(",")
    ]
    imports = [r["import"] for r in results]
    selections = [s for r in results for s in r["selections"]]
    http = [h for r in results for h in r["http"]]
    print(table(imports, list(imports[0]), "import"))
    print()
    print(table(selections, list(selections[0]), "selection, in process (median ms)"))
    print()
    print(table(http, list(http[0]), "POST /api/registrations/count"))
    data = {"registrations": args.registrations, "rows": rows, "imports": imports}
    data |= {"selections": selections, "http": http}
    write_result("registrations", data)
    return data


if __name__ == "__main__":
    main()
