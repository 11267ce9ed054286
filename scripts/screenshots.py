#!/usr/bin/env python3
"""Take the screenshots in docs/screenshots/ from a real hub with realistic data.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts its own hub on a throw-away SQLite database, writes a gas-leak incident (perimeters,
command post, medical post, feed), a summit motorcade fed through /ingest/osmand and an
exercise, then photographs them in Debian's chromium (/usr/bin/chromium) at desktop and
phone width. Then it starts a second hub on the demo's seed and base map (what `crisishub demo`
opens on) and photographs the summit with its motorcade near the venue, its drafted BE-Alert,
the directory and the plans. Needs the front end built (scripts/setup).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Unpack

import httpx
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub import demo  # noqa: E402
from hub.actions import directory  # noqa: E402
from hub.convoys.geo import line_length_m  # noqa: E402
from hub.demo.basemap import write_demo_basemap  # noqa: E402
from hub.demo.simulator import Leg, position, report  # noqa: E402
from models.directory import Discipline  # noqa: E402
from models.shapes import UserIn  # noqa: E402
from tests.live import HubProcess, migrate  # noqa: E402
from tests.seed import Seeder  # noqa: E402
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, ContextOptions  # noqa: E402

PASSWORD = "correct horse battery"
SITE = (4.3566, 50.8519)  # Rue Neuve, Brussels (lon, lat)


def ring(centre: tuple[float, float], metres: float, points: int = 40) -> dict[str, Any]:
    lon0, lat0 = centre
    dlat = metres / 111_320
    dlon = metres / (111_320 * math.cos(math.radians(lat0)))
    coords = [
        [
            round(lon0 + dlon * math.cos(2 * math.pi * i / points), 6),
            round(lat0 + dlat * math.sin(2 * math.pi * i / points), 6),
        ]
        for i in range(points)
    ]
    return {"type": "Polygon", "coordinates": [[*coords, coords[0]]]}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


class Data:
    def __init__(self, server: HubProcess, seed: Seeder) -> None:
        self.server, self.seed = server, seed
        self.tokens: dict[str, str] = {}

    async def user(self, username: str, name: str, organisation: str, discipline: str) -> None:
        await self.seed.organisation(organisation)
        await directory.add_user(
            self.seed.hub,
            None,
            UserIn(
                username=username,
                organisation=organisation,
                discipline=Discipline(discipline),
                display_name=name,
                password=PASSWORD,
            ),
        )
        _, self.tokens[username] = await directory.create_token(self.seed.hub, None, username)

    def http(self, username: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.server.url,
            headers={"Authorization": f"Bearer {self.tokens[username]}"},
            timeout=10,
        )

    async def call(self, username: str, method: str, path: str, body: Any = None) -> Any:
        async with self.http(username) as http:
            answer = await http.request(method, path, json=body)
            answer.raise_for_status()
            return answer.json()

    async def incident(self, manager: str, title: str, kind: str, members: dict[str, str]) -> str:
        created = await self.call(manager, "POST", "/api/incidents", {"title": title, "kind": kind})
        incident_id = str(created["incident"]["id"])
        for username, role in members.items():
            await self.call(
                manager,
                "POST",
                f"/api/incidents/{incident_id}/members",
                {"username": username, "role": role},
            )
        return incident_id

    async def anchor(
        self, username: str, incident: str, kind: str, label: str, geometry: dict[str, Any]
    ) -> None:
        await self.call(
            username,
            "POST",
            f"/api/incidents/{incident}/anchors",
            {"client_id": str(uuid.uuid4()), "kind": kind, "label": label, "geometry": geometry},
        )

    async def post(self, username: str, incident: str, text: str, **extra: Any) -> dict[str, Any]:
        answer = await self.call(
            username,
            "POST",
            f"/api/incidents/{incident}/feed",
            {"client_id": str(uuid.uuid4()), "text": text, **extra},
        )
        return dict(answer["entry"])


async def write_data(data: Data) -> dict[str, str]:
    await data.user("a.peeters", "Insp. An Peeters", "Police Brussels-Capital", "D3")
    await data.user("m.dubois", "Lt. Marc Dubois", "Fire Brigade Brussels (SIAMU)", "D1")
    await data.user("s.janssens", "Dr. Sofie Janssens", "SMUR Saint-Pierre", "D2")
    await data.user("l.martin", "Luc Martin", "Civil Protection Crisnée", "D4")
    await data.user("k.willems", "Karen Willems", "Federal Police DAP", "D3")

    gas = await data.incident(
        "a.peeters",
        "Gas leak — Rue Neuve",
        "emergency",
        {"m.dubois": "contributor", "s.janssens": "contributor", "l.martin": "contributor"},
    )
    lon, lat = SITE
    await data.anchor("m.dubois", gas, "dissuasion_zone", "Dissuasion 600 m", ring(SITE, 600))
    await data.anchor("m.dubois", gas, "isolation_zone", "Isolation 300 m", ring(SITE, 300))
    await data.anchor("m.dubois", gas, "exclusion_zone", "Exclusion 120 m", ring(SITE, 120))
    await data.anchor("m.dubois", gas, "incident_site", "Leak, no. 42", point(lon, lat))
    await data.anchor(
        "a.peeters", gas, "command_post", "CP-Ops Place de la Monnaie", point(4.3530, 50.8496)
    )
    await data.anchor("s.janssens", gas, "advanced_medical_post", "PMA", point(4.3604, 50.8487))
    await data.anchor(
        "s.janssens", gas, "victim_reception", "Reception — Passage du Nord", point(4.3517, 50.8531)
    )
    await data.anchor(
        "l.martin", gas, "staging_area", "Staging De Brouckère", point(4.3525, 50.8519)
    )
    await data.anchor(
        "a.peeters",
        gas,
        "road_closure",
        "Bd Adolphe Max closed",
        {"type": "LineString", "coordinates": [[4.3542, 50.8541], [4.3556, 50.8574]]},
    )
    await data.post(
        "a.peeters", gas, "CP-Ops set up at Place de la Monnaie. Radio channel 12.", kind="decision"
    )
    await data.post(
        "m.dubois",
        gas,
        "Gas concentration 40% LEL at the shop front; evacuating nos. 38 to 46.",
        priority="urgent",
    )
    first = await data.post(
        "s.janssens",
        gas,
        "3 persons with nausea, taken to the PMA.",
        location=point(4.3604, 50.8487),
    )
    await data.post(
        "s.janssens",
        gas,
        "4 persons with nausea, taken to the PMA (one more).",
        kind="info",
        location=point(4.3604, 50.8487),
    )
    await data.call(
        "s.janssens",
        "POST",
        f"/api/incidents/{gas}/feed/{first['id']}/corrections",
        {
            "client_id": str(uuid.uuid4()),
            "text": "4 persons with nausea, taken to the PMA.",
            "reason": "count corrected",
        },
    )
    await data.post(
        "l.martin", gas, "Request: 2 lighting towers at the staging area.", kind="request"
    )
    await data.post(
        "a.peeters",
        gas,
        "Evacuate the whole block between Rue Neuve and Bd Adolphe Max NOW.",
        kind="decision",
        priority="flash",
    )

    summit = await data.incident(
        "k.willems", "EU summit — motorcade A", "event", {"a.peeters": "viewer"}
    )
    route = [[4.4844, 50.9010], [4.4300, 50.8870], [4.3950, 50.8640], [4.3800, 50.8420]]
    convoy = await data.call(
        "k.willems",
        "POST",
        f"/api/incidents/{summit}/convoys",
        {"name": "Motorcade A", "route": {"type": "LineString", "coordinates": route}},
    )
    convoy_id = convoy["convoy"]["id"]
    await data.anchor(
        "k.willems",
        summit,
        "isolation_zone",
        "Europa building perimeter",
        ring((4.3810, 50.8420), 250),
    )
    keys = []
    for label in ("Lead car", "VIP car"):
        added = await data.call(
            "k.willems",
            "POST",
            f"/api/incidents/{summit}/convoys/{convoy_id}/vehicles",
            {"label": label},
        )
        keys.append(added["device_key"])
    start = int(time.time()) - 900
    async with httpx.AsyncClient(base_url=data.server.url, timeout=10) as tracker:
        for step in range(12):
            f = step / 11 * 0.62  # the first 62 % of the route
            lon, lat = along(route, f)
            for n, key in enumerate(keys):
                back = 0.004 * n
                await tracker.get(
                    "/ingest/osmand",
                    params={
                        "id": key,
                        "lat": lat + back * 0.4,
                        "lon": lon + back,
                        "timestamp": start + step * 60,
                        "speed": 25,
                        "bearing": 235,
                    },
                )
    await data.post(
        "k.willems", summit, "Motorcade A left Zaventem, ETA Europa 14:05.", kind="info"
    )

    drill = await data.incident(
        "l.martin", "SEVESO drill — Port of Antwerp", "exercise", {"m.dubois": "contributor"}
    )
    await data.anchor(
        "l.martin", drill, "exclusion_zone", "Exclusion (exercise)", ring((4.2870, 51.2800), 500)
    )
    await data.anchor(
        "l.martin", drill, "command_post", "CP-Ops (exercise)", point(4.2950, 51.2760)
    )
    await data.post(
        "l.martin",
        drill,
        "EXERCISE — chlorine release scenario starts.",
        kind="decision",
        priority="urgent",
    )
    return {"gas": gas, "summit": summit, "drill": drill}


def along(route: list[list[float]], fraction: float) -> tuple[float, float]:
    legs = [math.dist(a, b) for a, b in itertools.pairwise(route)]
    target = sum(legs) * fraction
    for (a, b), leg in zip(itertools.pairwise(route), legs, strict=True):
        if target <= leg:
            t = target / leg if leg else 0
            return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
        target -= leg
    return route[-1][0], route[-1][1]


class Camera:
    """Logged-in pages of one hub in one chromium, and the screenshots taken of them."""

    def __init__(self, browser: Browser, server: HubProcess, out: Path, password: str) -> None:
        self.browser = browser
        self.server = server
        self.out = out
        self.password = password
        self.saved: list[Path] = []

    async def page_for(
        self, username: str, viewport: ViewportSize, **options: Unpack[ContextOptions]
    ) -> Page:
        context = await self.browser.new_context(viewport=viewport, locale="en-GB", **options)
        context.set_default_timeout(20_000)
        page = await context.new_page()
        await page.goto(f"{self.server.url}/login")
        await page.fill("#username", username)
        await page.fill("#password", self.password)
        await page.click("#login-form button[type=submit]")
        await page.wait_for_url(f"{self.server.url}/incidents")
        return page

    async def incident(self, page: Page, incident_id: str) -> None:
        await page.goto(f"{self.server.url}/incidents/{incident_id}")
        await page.wait_for_selector("#conn-state.conn-live")
        await page.wait_for_timeout(1500)  # let the map tiles (GeoJSON) and fit settle

    async def save(self, page: Page, name: str) -> None:
        path = self.out / name
        await page.screenshot(path=str(path))
        self.saved.append(path)


async def shoot(server: HubProcess, ids: dict[str, str], out: Path) -> list[Path]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        camera = Camera(browser, server, out, PASSWORD)
        page_for, incident, save = camera.page_for, camera.incident, camera.save

        wall = await page_for("a.peeters", {"width": 1440, "height": 900})
        await incident(wall, ids["gas"])
        await save(wall, "incident.png")

        phone = await page_for(
            "m.dubois",
            {"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
        )
        await incident(phone, ids["gas"])
        await save(phone, "phone.png")

        await wall.goto(f"{server.url}/incidents")
        await wall.wait_for_selector("#incident-rows tr")
        await wall.wait_for_timeout(300)
        await save(wall, "incidents.png")

        monitor = await page_for("k.willems", {"width": 1440, "height": 900})
        await incident(monitor, ids["summit"])
        await monitor.click("#tab-convoys")
        # Follow the lead car: the map zooms to it, its trail and the one behind it.
        await monitor.click("#panel-convoys .vehicle button >> nth=0")
        await monitor.wait_for_timeout(1200)
        await save(monitor, "convoy.png")

        drill = await page_for("l.martin", {"width": 1280, "height": 800})
        await drill.evaluate("localStorage.setItem('crisishub.lang', 'nl')")
        await incident(drill, ids["drill"])
        await save(drill, "exercise.png")
        await browser.close()
    return camera.saved


async def shoot_demo(url: str, out: Path, log_dir: Path) -> list[Path]:
    """The demo as a newcomer finds it: its seed, its base map, the motorcade 85 % of the way
    to the venue (reported as its trackers would), then the pages of this phase's features."""
    seed = Seeder(url)
    try:
        made = await demo.seed(seed.hub)
    finally:
        await seed.close()
    streets = write_demo_basemap(log_dir)
    server = HubProcess(url, log_dir=log_dir, silent_after_s=3600, basemap_pmtiles=streets)
    server.start()
    try:
        leg = Leg(demo.ROUTE, line_length_m(demo.ROUTE))
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            for step in range(12):  # a short trail behind each vehicle
                leg.distance = leg.length * (0.70 + 0.15 * step / 11)
                for vehicle in made.vehicles:
                    lon, lat, heading = position(leg, vehicle)
                    await report(http, vehicle, lon, lat, heading, 14.0, time.time())
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            camera = Camera(browser, server, out, demo.PASSWORD)
            monitor = await camera.page_for("monitor", {"width": 1440, "height": 900})
            await camera.incident(monitor, made.incident_id)
            await monitor.wait_for_timeout(1500)  # the vector tiles of the streets
            await camera.save(monitor, "demo.png")
            await monitor.click("#tab-alerts")
            await monitor.wait_for_timeout(500)
            await camera.save(monitor, "alert.png")
            await monitor.click("#tab-contacts")
            await monitor.wait_for_timeout(500)
            await camera.save(monitor, "contacts-and-plans.png")
            await monitor.goto(f"{server.url}/directory")
            await monitor.wait_for_timeout(1000)
            await camera.save(monitor, "directory.png")
            await monitor.goto(f"{server.url}/plans")
            await monitor.wait_for_timeout(1000)
            await camera.save(monitor, "plans.png")
            await browser.close()
        return camera.saved
    finally:
        server.stop()


async def run(url: str, out: Path, log_dir: Path) -> None:
    server = HubProcess(url, log_dir=log_dir).start()
    seed = Seeder(url)
    try:
        ids = await write_data(Data(server, seed))
        saved = await shoot(server, ids, out)
    finally:
        await seed.close()
        server.stop()
    demo_dir = log_dir / "demo"
    demo_dir.mkdir()
    demo_url = f"sqlite:///{demo_dir}/demo.db"
    migrate(demo_url)
    saved += await shoot_demo(demo_url, out, demo_dir)
    for path in saved:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/hub.db"
        migrate(url)
        asyncio.run(run(url, args.out, Path(tmp)))


if __name__ == "__main__":
    main()
