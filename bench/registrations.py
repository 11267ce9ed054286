"""Registrations (BE-Alert): the CSV import's rate and the count of an area's audience.

Writes a CSV of R rows (places) spread over Belgium, a third of them in a dense Brussels
cluster, 1 to 3 places per registration, each with an SMS number, half with a voice number
and an e-mail; times `crisishub registrations import` as operators run it (a subprocess, one
transaction), then asks a live hub `POST /api/registrations/count` for areas of growing size
over the dense cluster (median of 5 requests each).

    python bench/registrations.py [--backends sqlite,postgresql] [--rows 200000]

The issue's national scale is `--rows 1200000` (docs/performance.md has the figures run).
Everything listens and connects on 127.0.0.1 only; every step is bounded in time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from common import start_hub, table, throwaway_database, workdir, write_result

STEP_TIMEOUT_S = 3600.0
BRUSSELS = (4.35, 50.85)  # lon, lat
# Squares centred on Brussels, by their side in degrees of longitude (about 70 km per degree).
AREAS = (0.02, 0.1, 0.3, 1.0)


def write_csv(path: Path, rows: int, seed: int = 12) -> int:
    """`rows` places; returns the number of registrations."""
    rng = random.Random(seed)
    languages = ("fr", "nl", "nl", "fr", "de", "en")
    registrations = 0
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("external_id,language,sms,voice,email,label,lat,lon,test_audience\n")
        while written < rows:
            registrations += 1
            n = min(rng.choice((1, 1, 2, 3)), rows - written)
            number = f"+32470{registrations % 1_000_000:06d}"
            voice = f"+3225{registrations % 1_000_000:06d}" if registrations % 2 else ""
            mail = f"r{registrations}@example.be" if registrations % 2 == 0 else ""
            language = languages[registrations % len(languages)]
            test = "true" if registrations % 100 == 0 else "false"
            for place in range(n):
                if rng.random() < 1 / 3:
                    lon = rng.gauss(BRUSSELS[0], 0.08)
                    lat = rng.gauss(BRUSSELS[1], 0.05)
                else:
                    lon, lat = rng.uniform(2.55, 6.4), rng.uniform(49.5, 51.5)
                out.write(
                    f"R{registrations},{language},{number},{voice},{mail},"
                    f"place {place},{lat:.6f},{lon:.6f},{test}\n"
                )
            written += n
    return registrations


def square(side: float) -> dict[str, Any]:
    west, east = BRUSSELS[0] - side / 2, BRUSSELS[0] + side / 2
    south, north = BRUSSELS[1] - side / 3, BRUSSELS[1] + side / 3
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


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


def one_backend(
    kind: str, csv_path: Path, registrations: int, rows: int, work: Path
) -> dict[str, Any]:
    import asyncio

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
        assert int(result.stdout.strip().splitlines()[-1]) == registrations
        token = asyncio.run(_token(url))
        hub = start_hub(url, work)
        counts = []
        try:
            with httpx.Client(
                base_url=hub.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
            ) as client:
                for side in AREAS:
                    times: list[float] = []
                    answer: dict[str, Any] = {}
                    for _ in range(5):
                        t0 = time.perf_counter()
                        response = client.post(
                            "/api/registrations/count", json={"geometry": square(side)}
                        )
                        times.append(time.perf_counter() - t0)
                        assert response.status_code == 200, response.text
                        answer = response.json()
                    counts.append(
                        {
                            "backend": kind,
                            "area_deg": side,
                            "registrations": answer["registrations"],
                            "median_ms": statistics.median(times) * 1000,
                            "max_ms": max(times) * 1000,
                        }
                    )
        finally:
            hub.stop()
    return {
        "import": {
            "backend": kind,
            "rows": rows,
            "registrations": registrations,
            "seconds": seconds,
            "rows_per_s": rows / seconds,
        },
        "counts": counts,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--rows", type=int, default=200_000, help="places (CSV rows)")
    args = parser.parse_args(argv)
    work = workdir()
    csv_path = work / "registrations.csv"
    registrations = write_csv(csv_path, args.rows)
    results = [
        one_backend(kind, csv_path, registrations, args.rows, work)
        for kind in args.backends.split(",")
    ]
    imports = [r["import"] for r in results]
    counts = [c for r in results for c in r["counts"]]
    print(table(imports, ["backend", "rows", "registrations", "seconds", "rows_per_s"], "import"))
    print()
    print(table(counts, ["backend", "area_deg", "registrations", "median_ms", "max_ms"], "count"))
    data = {"rows": args.rows, "imports": imports, "counts": counts}
    write_result("registrations", data)
    return data


if __name__ == "__main__":
    main()
