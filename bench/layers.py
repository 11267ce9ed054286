"""Reference layers (issue 16): how long an incident page takes to open with a 5,000-point
layer shown, in chromium, until the layer is drawn (its clusters on the map), the first time
(nothing cached) and again (the browser revalidates the layer, 304); and how long "what is
inside" takes over a 50,000-feature layer for a perimeter (a 2 km square in Brussels) and a
circle (1 km), p50 and p99; on SQLite and PostgreSQL.

Everything goes through a live hub (`python -m hub serve`) over real HTTP: the layers are
uploaded with POST /api/layers as an admin would (their upload time is printed too), the
inside query is GET …/anchors/{id}/inside one request at a time. Its registrations count
goes at a human's pace per user (20 at once, then one every 2 s), so the requests are spread
over as many members as that needs.

    python bench/layers.py [--backends sqlite,postgresql] [--requests 100] [--opens 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import percentile, start_hub, table, throwaway_database, workdir, write_result

from tests.seed import Seeder, TestUser

STEP_TIMEOUT_S = 3600.0
CHROMIUM = "/usr/bin/chromium"
BRUSSELS = (4.3525, 50.8467)  # lon, lat
# Belgium's box: the 50,000 features are spread over it, as a national layer is.
BELGIUM = (2.55, 49.5, 6.4, 51.5)
PER_USER = 18  # inside queries a member makes within the count's burst of 20


def points_layer(count: int, centre: tuple[float, float], spread: float, seed: int) -> bytes:
    rng = random.Random(seed)
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [
                    round(centre[0] + rng.uniform(-spread, spread) * 1.5, 6),
                    round(centre[1] + rng.uniform(-spread, spread), 6),
                ],
            },
            "properties": {"name": f"School {i}", "pupils": rng.randint(50, 900)},
        }
        for i in range(count)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def national_layer(count: int, seed: int) -> bytes:
    """Nine points in ten, one small square (a site's grounds, ~100 m) in ten."""
    rng = random.Random(seed)
    west, south, east, north = BELGIUM
    features = []
    for i in range(count):
        lon, lat = round(rng.uniform(west, east), 6), round(rng.uniform(south, north), 6)
        if i % 10:
            geometry: dict[str, Any] = {"type": "Point", "coordinates": [lon, lat]}
        else:
            d = 0.0007
            ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
            geometry = {"type": "Polygon", "coordinates": [ring]}
        features.append({"type": "Feature", "geometry": geometry, "properties": {"name": f"F{i}"}})
    # a denser town in Brussels, so the perimeter holds a few hundred
    for i in range(2_000):
        lon = BRUSSELS[0] + rng.uniform(-0.05, 0.05)
        lat = BRUSSELS[1] + rng.uniform(-0.03, 0.03)
        features[i * 20 + 1] = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": {"name": f"B{i}"},
        }
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def square_around(lon: float, lat: float, metres: float) -> dict[str, Any]:
    half_lat = metres / 2 / 111_320
    half_lon = half_lat / math.cos(math.radians(lat))
    w, e, s, n = lon - half_lon, lon + half_lon, lat - half_lat, lat + half_lat
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


async def upload(http: httpx.AsyncClient, admin: TestUser, name: str, body: bytes) -> Any:
    t0 = time.perf_counter()
    response = await http.post(
        "/api/layers",
        data={"name": name, "category": "school"},
        files={"file": (f"{name}.geojson", body)},
        headers={"authorization": f"Bearer {admin.token}"},
    )
    response.raise_for_status()
    return response.json(), time.perf_counter() - t0


async def page_opens(url: str, user: TestUser, incident: str, layer_id: str, opens: int) -> Any:
    """Milliseconds from navigation to the layer's first cluster on the map: the first open
    (cold cache), then `opens` reloads (the layer revalidated, 304)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
        )
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            await context.add_init_script(
                f"localStorage.setItem('crisishub.layers.shown', '{json.dumps([layer_id])}')"
            )
            page = await context.new_page()
            await page.goto(url + "/login")
            await page.fill("#username", user.username)
            await page.fill("#password", user.password)
            await page.click("#login-form button[type=submit]")
            await page.wait_for_url(url + "/incidents")
            times: list[float] = []
            for _ in range(opens + 1):
                t0 = time.perf_counter()
                await page.goto(f"{url}/incidents/{incident}")
                await page.locator(".ref-layer-cluster").first.wait_for(timeout=60_000)
                times.append((time.perf_counter() - t0) * 1000)
            await context.close()
        finally:
            await browser.close()
    first, again = times[0], sorted(times[1:])
    return round(first, 1), round(percentile(again, 50) or 0, 1), round(again[-1], 1)


async def run_backend(kind: str, requests: int, opens: int, work: Path) -> list[dict[str, Any]]:
    with throwaway_database(kind, work) as url:
        seeder = Seeder(url)
        admin = await seeder.user("bench-admin", admin=True)
        members = [
            await seeder.user("bench-member") for _ in range(math.ceil(2 * requests / PER_USER))
        ]
        incident = await seeder.incident(
            {admin: "manager", **{m: "viewer" for m in members}}, title="Layers bench"
        )
        await seeder.close()
        server = start_hub(url, work)
        rows: list[dict[str, Any]] = []
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:
                schools, schools_s = await upload(
                    http, admin, "Schools 5k", points_layer(5_000, BRUSSELS, 0.04, 16)
                )
                national, national_s = await upload(
                    http, admin, "National 50k", national_layer(50_000, 16)
                )
                auth = {"authorization": f"Bearer {admin.token}"}
                anchors = {}
                for what, geometry, properties in (
                    ("2 km square", square_around(*BRUSSELS, 2_000), {}),
                    (
                        "1 km circle",
                        {"type": "Point", "coordinates": list(BRUSSELS)},
                        {"radius_m": 1_000},
                    ),
                ):
                    created = await http.post(
                        f"/api/incidents/{incident}/anchors",
                        json={
                            "client_id": str(uuid.uuid4()),
                            "kind": "exclusion_zone",
                            "label": what,
                            "geometry": geometry,
                            "properties": properties,
                        },
                        headers=auth,
                    )
                    created.raise_for_status()
                    anchors[what] = created.json()["anchor"]["id"]
                asked = 0  # every query so far: each member makes PER_USER of them
                for what, anchor_id in anchors.items():
                    times: list[float] = []
                    found = 0
                    for _ in range(requests):
                        member = members[asked // PER_USER]
                        asked += 1
                        t0 = time.perf_counter()
                        response = await http.get(
                            f"/api/incidents/{incident}/anchors/{anchor_id}/inside",
                            headers={"authorization": f"Bearer {member.token}"},
                        )
                        times.append((time.perf_counter() - t0) * 1000)
                        response.raise_for_status()
                        body = response.json()
                        found = next(
                            layer["count"]
                            for layer in body["layers"]
                            if layer["layer_id"] == national["id"]
                        )
                    times.sort()
                    rows.append(
                        {
                            "backend": kind,
                            "measure": f"inside, {what}",
                            "features": found,
                            "p50_ms": round(percentile(times, 50) or 0, 1),
                            "p99_ms": round(percentile(times, 99) or 0, 1),
                            "max_ms": round(times[-1], 1),
                        }
                    )
            first, again_p50, again_max = await page_opens(
                server.url, admin, incident, schools["id"], opens
            )
            rows.append(
                {
                    "backend": kind,
                    "measure": "page to 5k layer drawn, first open",
                    "features": schools["count"],
                    "p50_ms": first,
                    "p99_ms": None,
                    "max_ms": first,
                }
            )
            rows.append(
                {
                    "backend": kind,
                    "measure": f"page to 5k layer drawn, reopened (x{opens}, 304)",
                    "features": schools["count"],
                    "p50_ms": again_p50,
                    "p99_ms": None,
                    "max_ms": again_max,
                }
            )
            for name, seconds, layer in (
                ("upload 5k points", schools_s, schools),
                ("upload 50k features", national_s, national),
            ):
                rows.append(
                    {
                        "backend": kind,
                        "measure": name,
                        "features": layer["count"],
                        "p50_ms": round(seconds * 1000, 1),
                        "p99_ms": None,
                        "max_ms": None,
                    }
                )
        finally:
            server.stop()
        return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--opens", type=int, default=10)
    args = parser.parse_args()
    work = workdir()
    rows: list[dict[str, Any]] = []
    for kind in args.backends.split(","):
        rows += await run_backend(kind, args.requests, args.opens, work)
        print(table(rows, ["backend", "measure", "features", "p50_ms", "p99_ms", "max_ms"]))
    write_result("layers", {"requests": args.requests, "opens": args.opens, "rows": rows})


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(), STEP_TIMEOUT_S))
